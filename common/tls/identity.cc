#include "common/tls/identity.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace kosapo::tls {
namespace {

constexpr absl::string_view kServicePrefix = "spiffe://kosapo/service/";
constexpr absl::string_view kClientPrefix = "spiffe://kosapo/client/";

bool IsValidName(absl::string_view name) {
  if (name.empty() || name.size() > 63) {
    return false;
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string ServiceUri(absl::string_view name) {
  return absl::StrCat(kServicePrefix, name);
}

std::string ClientUri(absl::string_view name) {
  return absl::StrCat(kClientPrefix, name);
}

std::string Identity::Uri() const {
  switch (kind) {
    case Kind::kService:
      return ServiceUri(name);
    case Kind::kClient:
      return ClientUri(name);
    case Kind::kNone:
      break;
  }
  return "";
}

std::string Identity::Describe() const {
  switch (kind) {
    case Kind::kService:
      return absl::StrCat("service/", name);
    case Kind::kClient:
      return absl::StrCat("client/", name);
    case Kind::kNone:
      break;
  }
  return "none";
}

Identity IdentityFromUris(const std::vector<std::string>& uris) {
  Identity found;
  int kosapo_uris = 0;
  for (const std::string& uri : uris) {
    if (!absl::StartsWith(uri, "spiffe://kosapo/")) {
      continue;
    }
    ++kosapo_uris;
    absl::string_view rest = uri;
    if (absl::ConsumePrefix(&rest, kServicePrefix) && IsValidName(rest)) {
      found = Identity::Service(std::string(rest));
    } else if (absl::ConsumePrefix(&rest, kClientPrefix) && IsValidName(rest)) {
      found = Identity::Client(std::string(rest));
    } else {
      return Identity();  // a kosapo URI of no known shape
    }
  }
  return kosapo_uris == 1 ? found : Identity();
}

bool IsTls(const grpc::AuthContext& context) {
  for (const grpc::string_ref& type :
       context.FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME)) {
    // "tls" from TlsServerCredentials, "ssl" from SslServerCredentials.
    if (type == GRPC_TLS_TRANSPORT_SECURITY_TYPE ||
        type == GRPC_SSL_TRANSPORT_SECURITY_TYPE) {
      return true;
    }
  }
  return false;
}

Identity IdentityFromAuthContext(const grpc::AuthContext& context) {
  // Only a TLS connection has a verified certificate (the server requires
  // and verifies one); "peer_uri" comes from it alone.
  if (!IsTls(context)) {
    return Identity();
  }
  std::vector<std::string> uris;
  for (const grpc::string_ref& uri :
       context.FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME)) {
    uris.emplace_back(uri.data(), uri.size());
  }
  return IdentityFromUris(uris);
}

}  // namespace kosapo::tls
