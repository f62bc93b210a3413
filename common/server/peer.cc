#include "common/server/peer.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/tls/identity.h"

namespace kosapo::server {

absl::StatusOr<std::string> TokenFile::Token() const {
  if (path_.empty()) {
    return absl::FailedPreconditionError(
        "no peer token configured (--peer_token_file)");
  }
  struct stat info {};
  if (stat(path_.c_str(), &info) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read peer token file ", path_));
  }
  const int64_t mtime_ns =
      static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 +
      info.st_mtim.tv_nsec;
  std::lock_guard<std::mutex> lock(mutex_);
  if (mtime_ns != mtime_ns_) {
    std::ifstream in(path_);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot read peer token file ", path_));
    }
    token_ = std::string(absl::StripAsciiWhitespace(text.str()));
    mtime_ns_ = mtime_ns;
  }
  return token_;
}

std::shared_ptr<grpc::Channel> MakeChannel(
    const std::string& address, const ChannelOptions& options,
    const std::string& expected_server_uri) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_message_bytes);
  args.SetMaxSendMessageSize(options.max_message_bytes);
  args.SetInt(
      GRPC_ARG_KEEPALIVE_TIME_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_time)));
  args.SetInt(
      GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_timeout)));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Reconnect to a peer that was down within seconds, not gRPC's default of
  // up to two minutes, during which calls would fail fast with UNAVAILABLE.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  // Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC C++ takes it as the least
  // time a connection attempt (TCP connect and TLS handshake) is given, each
  // attempt's deadline being the later of it and the next backoff. At 250 ms
  // a first handshake slower than that (a loaded machine, a slow link) failed
  // the calls waiting for it with UNAVAILABLE; gRPC's default is 20 s.
  // Spread calls over every replica a "dns:///name:port" address resolves
  // to (a headless Service), not just the first.
  args.SetServiceConfigJSON(
      R"({"loadBalancingConfig": [{"round_robin": {}}]})");
  return grpc::CreateCustomChannel(
      address,
      options.tls.has_value()
          ? tls::ChannelCredentials(*options.tls, expected_server_uri)
          : grpc::InsecureChannelCredentials(),
      args);
}

PeerChannels::PeerChannels(std::map<std::string, std::string> addresses,
                           std::string token_file, absl::Duration timeout,
                           ChannelOptions options)
    : addresses_(std::move(addresses)),
      token_(std::move(token_file)),
      timeout_(timeout),
      options_(options) {}

absl::StatusOr<std::shared_ptr<grpc::Channel>> PeerChannels::Channel(
    const std::string& name) {
  auto address = addresses_.find(name);
  if (address == addresses_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no address configured for the ", name, " service"));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto& channel = channels_[name];
  if (channel == nullptr) {
    channel = MakeChannel(address->second, options_, tls::ServiceUri(name));
  }
  return channel;
}

absl::Status PeerChannels::Prepare(grpc::ClientContext& client,
                                   const CallContext* current,
                                   absl::Duration timeout) const {
  if (options_.tls.has_value()) {
    PrepareOutgoingCall(client, current, timeout);
    return absl::OkStatus();
  }
  auto token = token_.Token();
  if (!token.ok()) {
    return token.status();
  }
  PrepareOutgoingCall(client, current, timeout);
  client.AddMetadata("authorization", absl::StrCat("Bearer ", *token));
  return absl::OkStatus();
}

}  // namespace kosapo::server
