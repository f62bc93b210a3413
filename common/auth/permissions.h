// The permission matrix: for every RPC of every service and every role,
// whether the role may call it and with which scope. Declared in one file,
// common/auth/permissions.tsv (rendered into the README), embedded in every
// binary, and enforced by server::Serve before any handler runs; handlers
// then check the records a call touches against the scope (object-level
// authorization).
#ifndef KOSAPO_COMMON_AUTH_PERMISSIONS_H_
#define KOSAPO_COMMON_AUTH_PERMISSIONS_H_

#include <array>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/principal.h"

namespace kosapo::auth {

// What a role reaches through an RPC: one or more of these, written joined
// by "+" in the matrix ("area+assigned": records of the caller's areas, or
// cases assigned to the caller). common/auth/permissions.tsv defines each.
enum class Scope : uint32_t {
  kSchool = 1u << 0,     // the caller's own schools' records
  kArea = 1u << 1,       // records of the caller's areas (wards)
  kAssigned = 1u << 2,   // cases the caller is assigned to
  kLead = 1u << 3,       // assigned, and the caller's role leads the case
  kRouted = 1u << 4,     // urgent reports routed to the caller
  kOwn = 1u << 5,        // records the caller made
  kHub = 1u << 6,        // the caller's hubs' records
  kCity = 1u << 7,       // the caller's whole municipality
  kCounts = 1u << 8,     // the municipality's aggregates only
  kAny = 1u << 9,        // every municipality (service identities)
  kAnyCounts = 1u << 10  // every municipality, aggregates only
};

// "school", "area", ... as written in the matrix.
absl::string_view ScopeName(Scope scope);
std::optional<Scope> ParseScope(absl::string_view name);

// The scopes of one cell.
class Scopes {
 public:
  Scopes() = default;
  Scopes(std::initializer_list<Scope> scopes) {
    for (Scope scope : scopes) {
      bits_ |= static_cast<uint32_t>(scope);
    }
  }
  bool Has(Scope scope) const {
    return (bits_ & static_cast<uint32_t>(scope)) != 0;
  }
  void Add(Scope scope) { bits_ |= static_cast<uint32_t>(scope); }
  bool empty() const { return bits_ == 0; }
  // "area+assigned", atoms in the enum's order.
  std::string ToString() const;
  friend bool operator==(Scopes a, Scopes b) { return a.bits_ == b.bits_; }

 private:
  uint32_t bits_ = 0;
};

class PermissionMatrix {
 public:
  // One line per RPC, `package.Service/Method`, then one cell per role in
  // the header's order: `-` (refused) or scopes joined by "+". `#` starts a
  // comment line. INVALID_ARGUMENT naming the line: a missing or unknown role
  // column, a cell count that does not match the header, an unknown scope, an
  // RPC given twice.
  static absl::StatusOr<PermissionMatrix> Parse(absl::string_view tsv);

  // The matrix compiled into this binary from common/auth/permissions.tsv.
  // Its parsing is checked by a unit test; a broken file aborts at start.
  static const PermissionMatrix& Embedded();

  // The scopes `role` has on `method` ("/pkg.Service/Method" as gRPC names
  // it, or without the leading slash); nullopt when the role is refused or
  // the method is not in the matrix (fail closed).
  std::optional<Scopes> Allowed(absl::string_view method, Role role) const;
  bool Contains(absl::string_view method) const;

  // Every RPC, in the file's order.
  const std::vector<std::string>& methods() const { return methods_; }

  // A Markdown table per service: RPCs down, roles across, scopes in the
  // cells ("·" for refused).
  std::string RenderMarkdown() const;

 private:
  using Row = std::array<std::optional<Scopes>, kAllRoles.size()>;
  std::vector<std::string> methods_;
  std::map<std::string, Row, std::less<>> rows_;
};

}  // namespace kosapo::auth

#endif  // KOSAPO_COMMON_AUTH_PERMISSIONS_H_
