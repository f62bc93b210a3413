#include "common/auth/permissions.h"

#include <cstdlib>
#include <iostream>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kosapo::auth {

absl::string_view PermissionsTsv();  // embedded from permissions.tsv

namespace {

constexpr std::array<std::pair<Scope, absl::string_view>, 11> kScopeNames = {{
    {Scope::kSchool, "school"},
    {Scope::kArea, "area"},
    {Scope::kAssigned, "assigned"},
    {Scope::kLead, "lead"},
    {Scope::kRouted, "routed"},
    {Scope::kOwn, "own"},
    {Scope::kHub, "hub"},
    {Scope::kCity, "city"},
    {Scope::kCounts, "counts"},
    {Scope::kAny, "any"},
    {Scope::kAnyCounts, "any_counts"},
}};

size_t RoleIndex(Role role) {
  for (size_t i = 0; i < kAllRoles.size(); ++i) {
    if (kAllRoles[i] == role) {
      return i;
    }
  }
  return kAllRoles.size();
}

absl::string_view WithoutSlash(absl::string_view method) {
  absl::ConsumePrefix(&method, "/");
  return method;
}

}  // namespace

absl::string_view ScopeName(Scope scope) {
  for (const auto& [value, name] : kScopeNames) {
    if (value == scope) {
      return name;
    }
  }
  return {};
}

std::optional<Scope> ParseScope(absl::string_view name) {
  for (const auto& [value, text] : kScopeNames) {
    if (text == name) {
      return value;
    }
  }
  return std::nullopt;
}

std::string Scopes::ToString() const {
  std::vector<absl::string_view> names;
  for (const auto& [scope, name] : kScopeNames) {
    if (Has(scope)) {
      names.push_back(name);
    }
  }
  return absl::StrJoin(names, "+");
}

absl::StatusOr<PermissionMatrix> PermissionMatrix::Parse(
    absl::string_view tsv) {
  PermissionMatrix matrix;
  // Column k of a row (after the rpc) is the role at roles[k].
  std::vector<size_t> roles;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(tsv, '\n')) {
    ++line_no;
    absl::ConsumeSuffix(&line, "\r");
    if (absl::StripAsciiWhitespace(line).empty() ||
        absl::StartsWith(line, "#")) {
      continue;
    }
    const std::vector<absl::string_view> cells = absl::StrSplit(line, '\t');
    const auto error = [line_no](absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat("permissions line ", line_no, ": ", what));
    };
    if (roles.empty()) {
      if (cells.front() != "rpc") {
        return error("the header must start with \"rpc\"");
      }
      std::set<size_t> seen;
      for (size_t k = 1; k < cells.size(); ++k) {
        const std::optional<Role> role =
            ParseRole(std::string_view(cells[k].data(), cells[k].size()));
        if (!role.has_value()) {
          return error(absl::StrCat("unknown role \"", cells[k], "\""));
        }
        if (!seen.insert(RoleIndex(*role)).second) {
          return error(absl::StrCat("role ", cells[k], " given twice"));
        }
        roles.push_back(RoleIndex(*role));
      }
      if (roles.size() != kAllRoles.size()) {
        return error(absl::StrCat("the header names ", roles.size(),
                                  " roles; every one of the ", kAllRoles.size(),
                                  " needs a column"));
      }
      continue;
    }
    const std::string method(cells.front());
    if (method.find('/') == std::string::npos ||
        absl::StartsWith(method, "/")) {
      return error(
          absl::StrCat("\"", method, "\" is not package.Service/Method"));
    }
    if (cells.size() != roles.size() + 1) {
      return error(absl::StrCat(method, " has ", cells.size() - 1,
                                " cells for ", roles.size(), " roles"));
    }
    Row row;
    for (size_t k = 1; k < cells.size(); ++k) {
      const absl::string_view cell = absl::StripAsciiWhitespace(cells[k]);
      if (cell == "-") {
        continue;
      }
      Scopes scopes;
      for (absl::string_view atom : absl::StrSplit(cell, '+')) {
        const std::optional<Scope> scope = ParseScope(atom);
        if (!scope.has_value()) {
          return error(absl::StrCat(method, ": unknown scope \"", atom, "\""));
        }
        scopes.Add(*scope);
      }
      row[roles[k - 1]] = scopes;
    }
    if (!matrix.rows_.emplace(method, row).second) {
      return error(absl::StrCat(method, " given twice"));
    }
    matrix.methods_.push_back(method);
  }
  if (roles.empty()) {
    return absl::InvalidArgumentError("permissions: no header line");
  }
  return matrix;
}

const PermissionMatrix& PermissionMatrix::Embedded() {
  static const PermissionMatrix* matrix = [] {
    absl::StatusOr<PermissionMatrix> parsed = Parse(PermissionsTsv());
    if (!parsed.ok()) {
      // A build with a broken matrix must not serve anything.
      std::cerr << "embedded permission matrix: " << parsed.status() << "\n";
      std::abort();
    }
    return new PermissionMatrix(*std::move(parsed));
  }();
  return *matrix;
}

std::optional<Scopes> PermissionMatrix::Allowed(absl::string_view method,
                                                Role role) const {
  const auto row = rows_.find(WithoutSlash(method));
  const size_t index = RoleIndex(role);
  if (row == rows_.end() || index >= kAllRoles.size()) {
    return std::nullopt;
  }
  return row->second[index];
}

bool PermissionMatrix::Contains(absl::string_view method) const {
  return rows_.find(WithoutSlash(method)) != rows_.end();
}

std::string PermissionMatrix::RenderMarkdown() const {
  std::string out;
  std::string service;
  for (const std::string& method : methods_) {
    const size_t slash = method.find('/');
    const std::string this_service = method.substr(0, slash);
    if (this_service != service) {
      service = this_service;
      std::vector<std::string> header = {absl::StrCat("`", service, "`")};
      for (Role role : kAllRoles) {
        header.emplace_back(RoleName(role));
      }
      absl::StrAppend(&out, out.empty() ? "" : "\n", "| ",
                      absl::StrJoin(header, " | "), " |\n|---");
      for (size_t k = 0; k < kAllRoles.size(); ++k) {
        absl::StrAppend(&out, "|:-:");
      }
      absl::StrAppend(&out, "|\n");
    }
    std::vector<std::string> cells = {method.substr(slash + 1)};
    const Row& row = rows_.at(method);
    for (const std::optional<Scopes>& scopes : row) {
      cells.push_back(scopes.has_value() ? scopes->ToString() : "·");
    }
    absl::StrAppend(&out, "| ", absl::StrJoin(cells, " | "), " |\n");
  }
  return out;
}

}  // namespace kosapo::auth
