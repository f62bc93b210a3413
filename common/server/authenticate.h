// Who a call is from, decided in one place from what it presented: the
// verified client certificate of its connection (mutual TLS) and its bearer
// token, if any.
//
// Over TLS:
//   - a user's token: the user is the principal, whoever holds the
//     connection (a client, or a service forwarding its caller's token; the
//     service stays recorded as the call's peer);
//   - a service token (role `service`): accepted only over a connection
//     whose certificate names that same service (token subject
//     "service:<name>", certificate spiffe://kosapo/service/<name>), so a
//     leaked service token is useless from anywhere else;
//   - no token over a service's certificate: that service, role `service`;
//   - no token otherwise, or a certificate naming no kosapo identity:
//     UNAUTHENTICATED.
// Over plaintext (only with --insecure_plaintext) the token alone decides.
#ifndef KOSAPO_COMMON_SERVER_AUTHENTICATE_H_
#define KOSAPO_COMMON_SERVER_AUTHENTICATE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/principal.h"
#include "common/tls/identity.h"

namespace kosapo::server {

enum class Transport { kPlaintext, kTls };

// The subject of service `name` in tokens and records: "service:case".
std::string ServiceSubject(absl::string_view name);

// The principal of a call. `token` is the verified bearer token or why it
// was refused; nullopt when the call carried none.
absl::StatusOr<auth::Principal> Authenticate(
    Transport transport, const tls::Identity& peer,
    const std::optional<absl::StatusOr<auth::Principal>>& token);

}  // namespace kosapo::server

#endif  // KOSAPO_COMMON_SERVER_AUTHENTICATE_H_
