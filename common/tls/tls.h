// Mutual TLS credentials for kosapo's gRPC servers and channels, from PEM
// files that are watched: a certificate rewritten in place (a Kubernetes
// Secret update, cert-manager renewal, scripts/dev-ca.sh) is used by new
// connections within `refresh_interval`, without a restart.
#ifndef KOSAPO_COMMON_TLS_TLS_H_
#define KOSAPO_COMMON_TLS_TLS_H_

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace kosapo::tls {

struct TlsFiles {
  std::string cert_file;  // this side's certificate chain (PEM)
  std::string key_file;   // its private key (PEM)
  std::string ca_file;  // the CA(s) the other side's certificate must chain to
  absl::Duration refresh_interval = absl::Minutes(1);
};

// INVALID_ARGUMENT naming the flag (`flag_prefix` + "cert_file", ...) of a
// missing, unreadable or non-PEM file, so a bad mount stops the process at
// start instead of failing every handshake.
absl::Status CheckTlsFiles(const TlsFiles& files,
                           const std::string& flag_prefix = "--tls_");

// Server credentials that require every client to present a certificate
// issued by `ca_file` and verify it.
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(
    const TlsFiles& files);

// Channel credentials presenting `cert_file` and verifying the server's
// certificate against `ca_file`. With `expected_server_uri` (e.g.
// ServiceUri("case")) the server must carry exactly that SPIFFE URI, which
// replaces the host name check; without, the server's certificate must name
// the host dialled (DNS or IP SAN), as for any TLS client.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(
    const TlsFiles& files, const std::string& expected_server_uri = "");

}  // namespace kosapo::tls

#endif  // KOSAPO_COMMON_TLS_TLS_H_
