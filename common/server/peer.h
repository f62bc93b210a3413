// Channels to the other kosapo services and this service's own identity on
// calls to them.
#ifndef KOSAPO_COMMON_SERVER_PEER_H_
#define KOSAPO_COMMON_SERVER_PEER_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/server/call_context.h"
#include "common/tls/tls.h"

namespace kosapo::server {

// Reads a bearer token from a file (mounted from a Kubernetes secret or
// written by the development scripts) and re-reads it when the file changes,
// so a rotated token is picked up without a restart.
class TokenFile {
 public:
  explicit TokenFile(std::string path) : path_(std::move(path)) {}
  // FAILED_PRECONDITION when no file is configured or it cannot be read.
  absl::StatusOr<std::string> Token() const;

 private:
  const std::string path_;
  mutable std::mutex mutex_;
  mutable std::string token_;      // guarded by mutex_
  mutable int64_t mtime_ns_ = -1;  // guarded by mutex_
};

struct ChannelOptions {
  int max_message_bytes = 4 << 20;
  // Client keepalive; must not be shorter than the servers' minimum ping
  // interval (10s), or they answer with GOAWAY.
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  // Mutual TLS with these files; nullopt: plaintext (--insecure_plaintext).
  std::optional<tls::TlsFiles> tls;
};

// A channel to `address`: mutual TLS unless `options.tls` is empty. Over
// TLS the server must carry `expected_server_uri` (a SPIFFE URI) when it is
// given, else the host name dialled.
std::shared_ptr<grpc::Channel> MakeChannel(
    const std::string& address, const ChannelOptions& options,
    const std::string& expected_server_uri = "");

class PeerChannels {
 public:
  PeerChannels(std::map<std::string, std::string> addresses,
               std::string token_file, absl::Duration timeout,
               ChannelOptions options);

  // The channel to peer `name` (created on first use), which must present
  // the certificate of service `name` over TLS. NOT_FOUND if the service was
  // not configured with that peer.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel(
      const std::string& name);

  // Sets deadline, request id and trace on an outgoing call made while
  // serving `current` (null outside a call). Over TLS this service's
  // certificate is its identity and no token is sent; over plaintext its
  // bearer token from --peer_token_file is.
  absl::Status Prepare(grpc::ClientContext& client, const CallContext* current,
                       absl::Duration timeout) const;
  absl::Status Prepare(grpc::ClientContext& client,
                       const CallContext* current) const {
    return Prepare(client, current, timeout_);
  }

 private:
  const std::map<std::string, std::string> addresses_;
  TokenFile token_;
  const absl::Duration timeout_;
  const ChannelOptions options_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

}  // namespace kosapo::server

#endif  // KOSAPO_COMMON_SERVER_PEER_H_
