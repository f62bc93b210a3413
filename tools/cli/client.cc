#include "tools/cli/client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/base/status.h"
#include "common/tls/tls.h"
#include "common/types/text.h"
#include "nlohmann/json.hpp"

namespace kosapo::cli {
namespace {

// Lists, reports and imports answer in messages well under this.
constexpr int kMaxMessageBytes = 64 << 20;
constexpr size_t kMaxTokenFileBytes = 64 * 1024;
// What the services accept as a stated purpose (common/server/call_context.h).
constexpr size_t kMaxPurposeChars = 200;

std::string CodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  return index >= 0 && index < 17 ? kNames[index] : absl::StrCat(index);
}

// Whether an UNAVAILABLE came from the transport (nothing listens, the name
// does not resolve) rather than from a service that answered.
bool IsConnectionFailure(const std::string& message) {
  const std::string lower = absl::AsciiStrToLower(message);
  for (const char* sign :
       {"failed to connect", "connection refused", "dns resolution failed",
        "connections to all backends failing", "socket closed",
        "name resolution", "no route to host", "network is unreachable"}) {
    if (absl::StrContains(lower, sign)) {
      return true;
    }
  }
  return false;
}

std::string NewRequestId() {
  std::random_device device;
  std::mt19937_64 engine((static_cast<uint64_t>(device()) << 32) ^ device());
  return absl::StrFormat("cli-%016x", engine());
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path,
                                          const std::string& source) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::UnauthenticatedError(absl::StrCat(
        "cannot read the token file ", path, " (--token-file, ", source,
        "): check the path, or mint a development token with "
        "`kosapo token mint`"));
  }
  std::string text(kMaxTokenFileBytes + 1, '\0');
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(file.gcount()));
  if (text.size() > kMaxTokenFileBytes) {
    return absl::UnauthenticatedError(
        absl::StrCat("the token file ", path, " is too large for a token"));
  }
  return std::string(absl::StripAsciiWhitespace(text));
}

}  // namespace

const std::vector<ServiceInfo>& AllServices() {
  static const auto* const kServices = new std::vector<ServiceInfo>{
      {Service::kScreening, "screening", "kosapo.screening.v1.ScreeningService",
       "KOSAPO_SCREENING_ADDRESS", "127.0.0.1:50051"},
      {Service::kCase, "case", "kosapo.cases.v1.CaseService",
       "KOSAPO_CASE_ADDRESS", "127.0.0.1:50052"},
      {Service::kReferral, "referral", "kosapo.referral.v1.ReferralService",
       "KOSAPO_REFERRAL_ADDRESS", "127.0.0.1:50053"},
      {Service::kReporting, "reporting", "kosapo.reporting.v1.ReportingService",
       "KOSAPO_REPORTING_ADDRESS", "127.0.0.1:50054"},
  };
  return *kServices;
}

const ServiceInfo& InfoOf(Service service) {
  for (const ServiceInfo& info : AllServices()) {
    if (info.service == service) {
      return info;
    }
  }
  return AllServices().front();
}

std::vector<Flag> TransportFlags() {
  return {
      {"tls-ca", "FILE",
       "CA certificate (PEM) the services' certificates chain to",
       "KOSAPO_TLS_CA", ""},
      {"tls-cert", "FILE",
       "this client's certificate (PEM; URI SAN spiffe://kosapo/client/NAME)",
       "KOSAPO_TLS_CERT", ""},
      {"tls-key", "FILE", "the private key (PEM) of --tls-cert",
       "KOSAPO_TLS_KEY", ""},
      {"plaintext", "",
       "no TLS: only for services started with --insecure_plaintext (local "
       "development)",
       "KOSAPO_PLAINTEXT", ""},
  };
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TransportCredentials(
    const Args& args) {
  KOSAPO_ASSIGN_OR_RETURN(bool plaintext, GetSwitch(args, "plaintext"));
  if (plaintext) {
    return grpc::InsecureChannelCredentials();
  }
  std::vector<std::string> missing;
  for (const char* flag : {"tls-ca", "tls-cert", "tls-key"}) {
    if (!args.Has(flag)) {
      missing.push_back(
          absl::StrCat("--", flag, " (", args.Declaration(flag).env, ")"));
    }
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the services require mutual TLS: missing ",
        absl::StrJoin(missing, ", "),
        ". scripts/run.sh writes them under .kosapo/tls/ (client/cli/"
        "{ca.crt,tls.crt,tls.key}); --plaintext only for services started "
        "with --insecure_plaintext"));
  }
  for (const char* flag : {"tls-ca", "tls-cert", "tls-key"}) {
    if (!std::ifstream(args.Get(flag)).good()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot read --", flag, " file ", args.Get(flag), " (",
                       args.Source(flag), ")"));
    }
  }
  tls::TlsFiles files;
  files.ca_file = args.Get("tls-ca");
  files.cert_file = args.Get("tls-cert");
  files.key_file = args.Get("tls-key");
  return tls::ChannelCredentials(files);
}

std::vector<Flag> AddressFlags(const std::vector<Service>& services) {
  std::vector<Flag> flags = TransportFlags();
  for (Service service : services) {
    const ServiceInfo& info = InfoOf(service);
    flags.push_back({absl::StrCat(info.name, "-address"), "HOST:PORT",
                     absl::StrCat("the ", info.name,
                                  " service (dns:///name:port for all "
                                  "replicas of a name)"),
                     info.env, info.default_address});
  }
  return flags;
}

Flag TimeoutFlag(absl::string_view timeout) {
  return {"timeout", "DURATION",
          "deadline of each call to a service, e.g. 500ms, 30s, 2m",
          "KOSAPO_TIMEOUT", std::string(timeout)};
}

std::vector<Flag> CallerFlags(absl::string_view timeout) {
  return {
      {"token-file", "FILE",
       "file holding the bearer token (KOSAPO_TOKEN may hold the token "
       "itself)",
       "KOSAPO_TOKEN_FILE", ""},
      {"municipality", "CODE",
       "JIS code of the municipality, e.g. 27100 (default: the token's)",
       "KOSAPO_MUNICIPALITY", ""},
      {"purpose", "TEXT",
       "why you read or write personal data (at most 200 characters, "
       "Japanese welcome); sent with every call and kept in the services' "
       "audit trails",
       "KOSAPO_PURPOSE", ""},
      TimeoutFlag(timeout),
  };
}

std::optional<TokenClaims> PeekClaims(absl::string_view token) {
  const std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) {
    return std::nullopt;
  }
  std::string payload;
  if (!absl::WebSafeBase64Unescape(parts[1], &payload)) {
    return std::nullopt;
  }
  const nlohmann::json claims = nlohmann::json::parse(payload, nullptr, false);
  if (!claims.is_object()) {
    return std::nullopt;
  }
  TokenClaims out;
  auto text = [&](const char* name) {
    const auto it = claims.find(name);
    return it != claims.end() && it->is_string() ? it->get<std::string>()
                                                 : std::string();
  };
  out.subject = text("sub");
  out.role = text("role");
  out.municipality = text("municipality");
  if (const auto exp = claims.find("exp");
      exp != claims.end() && exp->is_number_integer()) {
    out.expires = absl::FromUnixSeconds(exp->get<int64_t>());
  }
  return out;
}

absl::StatusOr<Session> Session::Open(const Args& args, const EnvLookup& env,
                                      bool need_token) {
  Session session;
  KOSAPO_ASSIGN_OR_RETURN(session.credentials_, TransportCredentials(args));
  for (const ServiceInfo& info : AllServices()) {
    const std::string flag = absl::StrCat(info.name, "-address");
    // Commands declare only the address flags of the services they call.
    session.addresses_[info.service] = args.Declared(flag) && args.Has(flag)
                                           ? args.Get(flag)
                                           : info.default_address;
  }
  session.timeout_ = absl::Seconds(30);
  if (args.Declared("timeout")) {
    KOSAPO_ASSIGN_OR_RETURN(session.timeout_, GetDuration(args, "timeout"));
  }
  if (args.Declared("municipality")) {
    session.municipality_ = args.Get("municipality");
  }
  if (args.Declared("purpose")) {
    session.purpose_ = args.Get("purpose");
    KOSAPO_RETURN_IF_ERROR(
        ValidateText(session.purpose_, kMaxPurposeChars, false, "--purpose"));
  }
  if (!need_token) {
    return session;
  }
  const std::optional<std::string> inline_token = env("KOSAPO_TOKEN");
  if (args.Declared("token-file") && args.Source("token-file") == "flag") {
    // An explicit flag wins over both variables.
    KOSAPO_ASSIGN_OR_RETURN(session.token_,
                            ReadTokenFile(args.Get("token-file"), "flag"));
  } else if (inline_token.has_value() && !inline_token->empty()) {
    session.token_ = std::string(absl::StripAsciiWhitespace(*inline_token));
  } else if (args.Declared("token-file") && args.Has("token-file")) {
    KOSAPO_ASSIGN_OR_RETURN(
        session.token_,
        ReadTokenFile(args.Get("token-file"), args.Source("token-file")));
  }
  if (session.token_.empty()) {
    return absl::UnauthenticatedError(
        "no bearer token: pass --token-file=FILE or set KOSAPO_TOKEN_FILE "
        "or KOSAPO_TOKEN. For development, mint one with `kosapo token mint "
        "--private-key-file=.kosapo/keys/jwt-es256.key --role=... "
        "--municipality=...` (scripts/run.sh creates that key)");
  }
  const std::optional<TokenClaims> claims = PeekClaims(session.token_);
  if (!claims.has_value()) {
    return absl::UnauthenticatedError(
        "the bearer token is not a JWT (three base64url parts): check "
        "--token-file / KOSAPO_TOKEN");
  }
  if (claims->expires.has_value() && *claims->expires < absl::Now()) {
    return absl::UnauthenticatedError(
        absl::StrCat("the bearer token expired at ",
                     absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", *claims->expires,
                                      absl::UTCTimeZone()),
                     ": get a new one (development: `kosapo token mint`)"));
  }
  if (session.municipality_.empty()) {
    session.municipality_ = claims->municipality;
  }
  return session;
}

std::shared_ptr<grpc::Channel> Session::Channel(Service service) const {
  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  channel_args.SetMaxSendMessageSize(kMaxMessageBytes);
  return grpc::CreateCustomChannel(Address(service), credentials_,
                                   channel_args);
}

const std::string& Session::Address(Service service) const {
  return addresses_.at(service);
}

void Session::Prepare(grpc::ClientContext* context) const {
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoMilliseconds(timeout_));
  if (!token_.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  }
  context->AddMetadata("x-request-id", NewRequestId());
  if (!purpose_.empty()) {
    // The binary key: text metadata carries ASCII only.
    context->AddMetadata("x-kosapo-purpose-bin", purpose_);
  }
}

absl::StatusOr<std::string> Session::MunicipalityParent() const {
  if (municipality_.empty()) {
    return absl::InvalidArgumentError(
        "no municipality: pass --municipality=CODE (e.g. 27100) or set "
        "KOSAPO_MUNICIPALITY; the token names none");
  }
  return absl::StrCat("municipalities/", municipality_);
}

absl::Status Session::Explain(const grpc::Status& status, Service service,
                              absl::string_view what) const {
  const ServiceInfo& info = InfoOf(service);
  const std::string& address = Address(service);
  const std::string& message = status.error_message();
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  const std::string flag = absl::StrCat("--", info.name, "-address");
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      if (IsConnectionFailure(message)) {
        return absl::UnavailableError(absl::StrCat(
            "cannot reach ", info.name, " at ", address, " to ", what,
            ": is the suite running? Start it with scripts/run.sh "
            "--keep-running, or point ",
            flag, " / ", info.env, " at the service (", message, ")"));
      }
      return absl::UnavailableError(absl::StrCat(
          info.name, " at ", address, " is unavailable (", message,
          "): try again shortly; `kosapo health` shows which service is "
          "not ready"));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(absl::StrCat(
          info.name, " at ", address, " did not answer within ",
          absl::FormatDuration(timeout_), " to ", what,
          ": raise --timeout, or check the service with `kosapo health`"));
    case grpc::StatusCode::UNAUTHENTICATED:
      return absl::UnauthenticatedError(absl::StrCat(
          info.name, " refused the token (", message,
          "): check --token-file / KOSAPO_TOKEN, and that the token was "
          "signed with the key the services trust (development: `kosapo "
          "token mint`)"));
    case grpc::StatusCode::PERMISSION_DENIED:
      return absl::PermissionDeniedError(absl::StrCat(
          "not permitted to ", what, " (", message,
          "): the token's role or scope (municipality, areas, schools) does "
          "not allow it"));
    case grpc::StatusCode::UNIMPLEMENTED:
      return absl::UnimplementedError(absl::StrCat(
          info.name, " at ", address, " does not offer this call (", message,
          "): it is older than this kosapo client; update the services"));
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return absl::Status(code, absl::StrCat("cannot ", what, ": ", message));
    default:
      return absl::Status(
          code, absl::StrCat("cannot ", what, ": ", info.name, " answered ",
                             CodeName(status.error_code()), ": ", message));
  }
}

}  // namespace kosapo::cli
