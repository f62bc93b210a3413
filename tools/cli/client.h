// How `kosapo` reaches the services: their addresses, the caller's bearer
// token and municipality, a deadline and request id on every call, and gRPC
// errors turned into messages that say what to do (and exit codes, through
// their status code; see exit_codes.h).
//
// Settings, each a flag with an environment variable:
//   --screening-address  KOSAPO_SCREENING_ADDRESS  127.0.0.1:50051
//   --case-address       KOSAPO_CASE_ADDRESS       127.0.0.1:50052
//   --referral-address   KOSAPO_REFERRAL_ADDRESS   127.0.0.1:50053
//   --reporting-address  KOSAPO_REPORTING_ADDRESS  127.0.0.1:50054
//   --token-file         KOSAPO_TOKEN_FILE         (or the token itself in
//                                                   KOSAPO_TOKEN)
//   --municipality       KOSAPO_MUNICIPALITY       (default: the token's)
//   --timeout            KOSAPO_TIMEOUT            30s per call
//   --purpose            KOSAPO_PURPOSE            why the caller reads or
//                                                  writes personal data, sent
//                                                  as x-kosapo-purpose-bin on
//                                                  every call and recorded in
//                                                  the services' audit trails
//   --tls-ca, --tls-cert, --tls-key
//                        KOSAPO_TLS_CA, KOSAPO_TLS_CERT, KOSAPO_TLS_KEY
//                        mutual TLS: the CA the services' certificates chain
//                        to, and this client's certificate and key
//   --plaintext          KOSAPO_PLAINTEXT          no TLS, for services run
//                                                  with --insecure_plaintext
// The address variables are the ones the services read for their peers and
// scripts/run.sh sets, and the defaults are the ports run.sh starts them on.
#ifndef KOSAPO_TOOLS_CLI_CLIENT_H_
#define KOSAPO_TOOLS_CLI_CLIENT_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/status.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/base/config.h"
#include "tools/cli/flags.h"

namespace kosapo::cli {

enum class Service { kScreening, kCase, kReferral, kReporting };

struct ServiceInfo {
  Service service;
  // "screening"; also the flag prefix (--screening-address).
  const char* name;
  // The gRPC service whose health says the service is ready.
  const char* grpc_name;
  const char* env;
  const char* default_address;
};

const std::vector<ServiceInfo>& AllServices();
const ServiceInfo& InfoOf(Service service);

// The transport flags: --tls-ca, --tls-cert, --tls-key and --plaintext.
std::vector<Flag> TransportFlags();
// Mutual TLS from the transport flags, or plaintext with --plaintext;
// INVALID_ARGUMENT naming the missing flags and variables otherwise, or a
// file that cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TransportCredentials(
    const Args& args);

// The address flags of `services`, and the transport flags.
std::vector<Flag> AddressFlags(const std::vector<Service>& services);
// --token-file, --municipality, --purpose and --timeout (with `timeout` as
// default).
std::vector<Flag> CallerFlags(absl::string_view timeout = "30s");
// Only --timeout.
Flag TimeoutFlag(absl::string_view timeout);

// The claims of a bearer token that the CLI uses for defaults and hints;
// read without verifying the signature (the services verify it).
struct TokenClaims {
  std::string subject;
  std::string role;
  std::string municipality;
  std::optional<absl::Time> expires;
};
std::optional<TokenClaims> PeekClaims(absl::string_view token);

// The connection settings of one command run.
class Session {
 public:
  // Reads the addresses, the timeout, the purpose (INVALID_ARGUMENT naming
  // --purpose unless text of at most 200 characters) and, when
  // `need_token`, the token (UNAUTHENTICATED saying how to get one when
  // there is none, or when the token has expired).
  static absl::StatusOr<Session> Open(const Args& args, const EnvLookup& env,
                                      bool need_token);

  std::shared_ptr<grpc::Channel> Channel(Service service) const;
  const std::shared_ptr<grpc::ChannelCredentials>& credentials() const {
    return credentials_;
  }
  const std::string& Address(Service service) const;
  absl::Duration timeout() const { return timeout_; }

  // Deadline, bearer token, a fresh x-request-id and the purpose, when
  // given, on an outgoing call.
  void Prepare(grpc::ClientContext* context) const;

  // "municipalities/{code}": --municipality, KOSAPO_MUNICIPALITY, or the
  // token's municipality claim; INVALID_ARGUMENT saying how to set it.
  absl::StatusOr<std::string> MunicipalityParent() const;

  // The gRPC error of a call to `service` as a status of the same code with
  // a message that names the service and address and says what to do.
  // `what` names the call for the message ("list cases").
  absl::Status Explain(const grpc::Status& status, Service service,
                       absl::string_view what) const;

 private:
  std::map<Service, std::string> addresses_;
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::string token_;
  std::string municipality_;
  std::string purpose_;
  absl::Duration timeout_;
};

}  // namespace kosapo::cli

#endif  // KOSAPO_TOOLS_CLI_CLIENT_H_
