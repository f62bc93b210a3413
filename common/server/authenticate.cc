#include "common/server/authenticate.h"

#include "absl/strings/str_cat.h"

namespace kosapo::server {

std::string ServiceSubject(absl::string_view name) {
  return absl::StrCat("service:", name);
}

absl::StatusOr<auth::Principal> Authenticate(
    Transport transport, const tls::Identity& peer,
    const std::optional<absl::StatusOr<auth::Principal>>& token) {
  if (token.has_value() && !token->ok()) {
    return token->status();
  }
  if (transport == Transport::kPlaintext) {
    if (!token.has_value()) {
      return absl::UnauthenticatedError("missing bearer token");
    }
    return **token;
  }
  if (peer.kind == tls::Identity::Kind::kNone) {
    return absl::UnauthenticatedError(
        "the client certificate names no kosapo identity "
        "(spiffe://kosapo/service/<name> or spiffe://kosapo/client/<name>)");
  }
  if (!token.has_value()) {
    if (!peer.is_service()) {
      return absl::UnauthenticatedError("missing bearer token");
    }
    auth::Principal service;
    service.subject = ServiceSubject(peer.name);
    service.role = auth::Role::kService;
    return service;
  }
  const auth::Principal& principal = **token;
  if (principal.role == auth::Role::kService &&
      !(peer.is_service() && principal.subject == ServiceSubject(peer.name))) {
    return absl::UnauthenticatedError(absl::StrCat(
        "a service token is accepted only over a connection certified as "
        "that service; this one is certified as ",
        peer.Describe()));
  }
  return principal;
}

}  // namespace kosapo::server
