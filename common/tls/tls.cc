#include "common/tls/tls.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace kosapo::tls {
namespace {

absl::Status CheckPem(const std::string& path, const std::string& flag,
                      absl::string_view marker) {
  if (path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing required setting ", flag));
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", flag, " '", path, "'"));
  }
  if (!absl::StrContains(text.str(), "-----BEGIN ") ||
      !absl::StrContains(text.str(), marker)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid value for ", flag, ": '", path, "' holds no PEM ", marker));
  }
  return absl::OkStatus();
}

unsigned int RefreshSeconds(absl::Duration interval) {
  return static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(interval)));
}

std::shared_ptr<grpc::experimental::CertificateProviderInterface> Provider(
    const TlsFiles& files) {
  return std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key_file, files.cert_file, files.ca_file,
      RefreshSeconds(files.refresh_interval));
}

// Accepts a server (already verified against the CA) only if its
// certificate carries `expected` among its URI SANs.
class SpiffeVerifier : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit SpiffeVerifier(std::string expected)
      : expected_(std::move(expected)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> callback,
              grpc::Status* sync_status) override {
    for (const grpc::string_ref& uri : request->uri_names()) {
      if (uri == expected_) {
        *sync_status = grpc::Status::OK;
        return true;
      }
    }
    *sync_status = grpc::Status(
        grpc::StatusCode::UNAUTHENTICATED,
        absl::StrCat("server certificate does not name ", expected_));
    return true;
  }

  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {
  }

 private:
  const std::string expected_;
};

}  // namespace

absl::Status CheckTlsFiles(const TlsFiles& files,
                           const std::string& flag_prefix) {
  std::vector<std::string> missing;
  for (const auto& [path, name] :
       {std::pair<std::string, std::string>{files.cert_file, "cert_file"},
        {files.key_file, "key_file"},
        {files.ca_file, "ca_file"}}) {
    if (path.empty()) {
      missing.push_back(flag_prefix + name);
    }
  }
  if (!missing.empty()) {
    std::string names;
    for (const std::string& flag : missing) {
      absl::StrAppend(&names, names.empty() ? "" : ", ", flag);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("missing required setting ", names));
  }
  if (absl::Status status =
          CheckPem(files.cert_file, flag_prefix + "cert_file", "CERTIFICATE");
      !status.ok()) {
    return status;
  }
  if (absl::Status status =
          CheckPem(files.key_file, flag_prefix + "key_file", "PRIVATE KEY");
      !status.ok()) {
    return status;
  }
  return CheckPem(files.ca_file, flag_prefix + "ca_file", "CERTIFICATE");
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentials(
    const TlsFiles& files) {
  grpc::experimental::TlsServerCredentialsOptions options(Provider(files));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  return grpc::experimental::TlsServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(
    const TlsFiles& files, const std::string& expected_server_uri) {
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(Provider(files));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  if (!expected_server_uri.empty()) {
    options.set_certificate_verifier(
        grpc::experimental::ExternalCertificateVerifier::Create<SpiffeVerifier>(
            expected_server_uri));
    options.set_check_call_host(false);
  }
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace kosapo::tls
