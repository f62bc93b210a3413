// Who is at the other end of a mutual-TLS connection, as its certificate
// says: a kosapo service or a client, named by a SPIFFE URI in the
// certificate's subject alternative names.
//
//   spiffe://kosapo/service/<name>   a kosapo service ("case", "referral")
//   spiffe://kosapo/client/<name>    a client: the CLI, a school system
#ifndef KOSAPO_COMMON_TLS_IDENTITY_H_
#define KOSAPO_COMMON_TLS_IDENTITY_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace grpc {
class AuthContext;
}

namespace kosapo::tls {

struct Identity {
  enum class Kind {
    kNone,     // plaintext, or a certificate naming no kosapo identity
    kService,  // spiffe://kosapo/service/<name>
    kClient,   // spiffe://kosapo/client/<name>
  };
  Kind kind = Kind::kNone;
  std::string name;  // "case"; empty for kNone

  bool is_service() const { return kind == Kind::kService; }
  bool is_client() const { return kind == Kind::kClient; }
  // The SPIFFE URI, or "" for kNone.
  std::string Uri() const;
  // "service/case", "client/cli" or "none", for logs.
  std::string Describe() const;

  static Identity Service(std::string name) {
    return {Kind::kService, std::move(name)};
  }
  static Identity Client(std::string name) {
    return {Kind::kClient, std::move(name)};
  }
};

// The SPIFFE URIs certificates carry.
std::string ServiceUri(absl::string_view name);
std::string ClientUri(absl::string_view name);

// The identity named by `uris`, a certificate's URI SANs: exactly one of
// them must be a kosapo SPIFFE URI with a name of [a-z0-9._-] (1-63
// characters); none or several give kNone, so an ambiguous certificate is
// never taken for either.
Identity IdentityFromUris(const std::vector<std::string>& uris);

// Whether the call came over TLS (with the server's settings, a verified
// client certificate); false for plaintext.
bool IsTls(const grpc::AuthContext& context);

// The verified peer identity of a call (gRPC's "peer_uri" properties, set
// only after a TLS handshake that verified the peer's certificate).
Identity IdentityFromAuthContext(const grpc::AuthContext& context);

}  // namespace kosapo::tls

#endif  // KOSAPO_COMMON_TLS_IDENTITY_H_
