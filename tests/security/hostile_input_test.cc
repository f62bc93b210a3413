// A battery of hostile requests against every RPC of the four running
// services, over real gRPC, each sent by a role the permission matrix
// lets through (so the request, not the caller, is what gets refused):
// bytes that are not a protobuf message, messages nested past the parser's
// limit, messages over the size limit, text with NUL and other control
// characters or invalid UTF-8, enum numbers the API does not define,
// impossible dates, huge page sizes, a malformed stated purpose. Each must get
// a clear INVALID_ARGUMENT naming what is wrong (RESOURCE_EXHAUSTED for size),
// no table of any service may gain or lose a row, and every service must still
// answer its health check as SERVING.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>

#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth/permissions.h"
#include "common/testing/pg_cluster.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "tests/security/four_services.h"

namespace kosapo {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;
using ::kosapo::testing::FourServices;
using ::testing::HasSubstr;

constexpr char kCity[] = "27800";

// How deep the battery looks for fields to poison.
constexpr int kMaxFieldDepth = 4;

const google::protobuf::MethodDescriptor* MethodOf(const std::string& method) {
  const size_t slash = method.find('/');
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
      method.substr(0, slash) + "." + method.substr(slash + 1));
}

const Descriptor* RequestType(const std::string& method) {
  const auto* descriptor = MethodOf(method);
  return descriptor == nullptr ? nullptr : descriptor->input_type();
}

bool IsClientStream(const std::string& method) {
  const auto* descriptor = MethodOf(method);
  return descriptor != nullptr && descriptor->client_streaming();
}

// A field reachable from a request type, and the path the input wall
// names it by (repeated fields get one element: "[0]").
struct FieldPath {
  std::vector<const FieldDescriptor*> fields;
  std::string name;
};

bool IsLeafMessage(const Descriptor& type) {
  return type.full_name() == "kosapo.type.Date" ||
         type.full_name() == "google.protobuf.Timestamp";
}

// Every field of `type` at depth <= kMaxFieldDepth that `wanted` accepts.
void FindFields(const Descriptor& type, const FieldPath& prefix, int depth,
                const std::function<bool(const FieldDescriptor&)>& wanted,
                std::vector<FieldPath>* out) {
  if (depth > kMaxFieldDepth) {
    return;
  }
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor* field = type.field(i);
    if (field->is_map()) {
      continue;
    }
    FieldPath path = prefix;
    path.fields.push_back(field);
    path.name = absl::StrCat(path.name, path.name.empty() ? "" : ".",
                             field->name(), field->is_repeated() ? "[0]" : "");
    if (wanted(*field)) {
      out->push_back(path);
    }
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
        !IsLeafMessage(*field->message_type())) {
      FindFields(*field->message_type(), path, depth + 1, wanted, out);
    }
  }
}

// The message holding the last field of `path` inside `request`, creating
// the messages (and first elements of repeated ones) on the way.
Message* Holder(Message* request, const FieldPath& path) {
  Message* message = request;
  for (size_t i = 0; i + 1 < path.fields.size(); ++i) {
    const FieldDescriptor* field = path.fields[i];
    message = field->is_repeated()
                  ? message->GetReflection()->AddMessage(message, field)
                  : message->GetReflection()->MutableMessage(message, field);
  }
  return message;
}

class HostileInputTest : public testing::FourServicesTest {
 protected:
  // Each feed consumer writes its checkpoint row on its own thread once its
  // service is up: counting rows before they are all there would blame the
  // battery for them.
  static void SetUpTestSuite() {
    FourServicesTest::SetUpTestSuite();
    const testing::PgCluster& cluster = testing::SharedPgCluster();
    const std::vector<std::pair<std::string, long>> consumers = {
        {"case", 1}, {"reporting", 3}};  // the feeds each one follows
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    for (const auto& [service, feeds] : consumers) {
      long rows = 0;
      while (absl::Now() < deadline) {
        pqxx::connection connection(cluster.AdminUrl());
        pqxx::nontransaction tx(connection);
        rows = tx.exec1(absl::StrCat("SELECT count(*) FROM ",
                                     cluster.Schema(service),
                                     ".consumer_checkpoints"))[0]
                   .as<long>();
        if (rows >= feeds) {
          break;
        }
        absl::SleepFor(absl::Milliseconds(50));
      }
      ASSERT_EQ(rows, feeds) << service << " follows " << feeds << " feeds";
    }
  }

  void SetUp() override { rows_before_ = RowCounts(); }

  // The battery stores nothing: every table of every service has the rows
  // it had before, and every service is still serving.
  void TearDown() override {
    const std::map<std::string, long> rows_after = RowCounts();
    for (const auto& [table, rows] : rows_after) {
      const auto before = rows_before_.find(table);
      EXPECT_EQ(rows, before == rows_before_.end() ? -1 : before->second)
          << table << ": rows after the battery, and before";
    }
    EXPECT_EQ(rows_after.size(), rows_before_.size());
    for (const char* name : {"screening", "case", "referral", "reporting"}) {
      auto stub =
          grpc::health::v1::Health::NewStub(services_->at(name).channel());
      grpc::ClientContext context;
      grpc::health::v1::HealthCheckRequest request;
      grpc::health::v1::HealthCheckResponse response;
      ASSERT_TRUE(stub->Check(&context, request, &response).ok()) << name;
      EXPECT_EQ(response.status(),
                grpc::health::v1::HealthCheckResponse::SERVING)
          << name;
    }
  }

  // Rows per table of the four services' schemas.
  static std::map<std::string, long> RowCounts() {
    const testing::PgCluster& cluster = testing::SharedPgCluster();
    pqxx::connection connection(cluster.AdminUrl());
    pqxx::read_transaction tx(connection);
    std::map<std::string, long> counts;
    for (const char* service : {"screening", "case", "referral", "reporting"}) {
      const pqxx::result tables = tx.exec_params(
          "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) "
          "FROM information_schema.tables "
          "WHERE table_type = 'BASE TABLE' AND table_schema = $1",
          cluster.Schema(service));
      EXPECT_FALSE(tables.empty()) << service;
      for (const auto& row : tables) {
        const std::string table = row[0].as<std::string>();
        counts[table] = tx.exec1("SELECT count(*) FROM " + table)[0].as<long>();
      }
    }
    return counts;
  }

  // Sends `request` to `method` on the service that serves it (the
  // feed: screening's), as a role the matrix lets through.
  static grpc::Status Send(
      const std::string& method, const std::string& request,
      const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
    const auth::PermissionMatrix& matrix = auth::PermissionMatrix::Embedded();
    auth::Principal principal;
    for (auth::Role role : auth::kAllRoles) {
      if (matrix.Allowed(method, role).has_value()) {
        principal.role = role;
        break;
      }
    }
    principal.subject = absl::StrCat(
        principal.role == auth::Role::kService ? "service:" : "user:",
        "hostile");
    principal.municipality = kCity;
    principal.areas = {"A1"};
    principal.schools = {"E1"};
    principal.hubs = {"H1"};
    std::string owner = FourServices::ServiceOf(method);
    if (owner.empty()) {
      owner = "screening";
    }
    // A service token counts only over its service's own certificate.
    const auto channel = principal.role == auth::Role::kService
                             ? services_->at(owner).service_channel("hostile")
                             : services_->at(owner).channel();
    return testing::CallWithBytes(channel, method, tokens_->Sign(principal),
                                  request, std::chrono::seconds(3), nullptr,
                                  metadata);
  }

  // Every field of every RPC's request that `wanted` accepts, poisoned by
  // `poison`; each call must be INVALID_ARGUMENT with `expected(path)` in
  // its message. Returns how many calls were made.
  static int PoisonEveryField(
      const std::function<bool(const FieldDescriptor&)>& wanted,
      const std::function<void(Message*, const FieldDescriptor&)>& poison,
      const std::function<std::string(const std::string&)>& expected) {
    google::protobuf::DynamicMessageFactory factory;
    int calls = 0;
    for (const std::string& method :
         auth::PermissionMatrix::Embedded().methods()) {
      const Descriptor* type = RequestType(method);
      EXPECT_NE(type, nullptr) << method;
      if (type == nullptr) {
        continue;
      }
      std::vector<FieldPath> paths;
      FindFields(*type, {}, 0, wanted, &paths);
      for (const FieldPath& path : paths) {
        std::unique_ptr<Message> request(factory.GetPrototype(type)->New());
        poison(Holder(request.get(), path), *path.fields.back());
        const grpc::Status status = Send(method, request->SerializeAsString());
        EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
            << method << " " << path.name << ": " << status.error_message();
        EXPECT_THAT(status.error_message(), HasSubstr(expected(path.name)))
            << method;
        ++calls;
      }
    }
    return calls;
  }

  std::map<std::string, long> rows_before_;
};

// Bytes that do not parse as any message: a length-delimited field 1
// whose length is a varint that never ends.
TEST_F(HostileInputTest, BytesThatAreNotAMessageAreInvalidArgument) {
  const std::string garbage("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11);
  for (const std::string& method :
       auth::PermissionMatrix::Embedded().methods()) {
    const grpc::Status status = Send(method, garbage);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << method << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("is not a valid")) << method;
    if (IsClientStream(method)) {
      // Told from the end of the stream, by its position.
      EXPECT_THAT(status.error_message(), HasSubstr("message 1 of the stream"))
          << method;
    }
  }
}

// Unknown groups nested 1,000 deep in an unknown field: the parser's
// recursion limit (100) refuses them.
TEST_F(HostileInputTest, DeeplyNestedMessagesAreInvalidArgument) {
  std::string nested;
  constexpr int kDepth = 1000;
  for (int i = 0; i < kDepth; ++i) {
    nested += "\xbb\x3e";  // field 999, start group
  }
  for (int i = 0; i < kDepth; ++i) {
    nested += "\xbc\x3e";  // field 999, end group
  }
  for (const std::string& method :
       auth::PermissionMatrix::Embedded().methods()) {
    const grpc::Status status = Send(method, nested);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << method << ": " << status.error_message();
  }
}

// A message over the server's limit (KOSAPO_MAX_MESSAGE_BYTES, 4 MiB by
// default): an unknown field of 5 MiB.
TEST_F(HostileInputTest, OversizedMessagesAreResourceExhausted) {
  const std::string blob(5 << 20, 'x');
  std::string oversized = "\xba\x3e";  // field 999, length-delimited
  for (uint64_t n = blob.size(); n != 0; n >>= 7) {
    oversized += static_cast<char>((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
  }
  oversized += blob;
  for (const std::string& method :
       auth::PermissionMatrix::Embedded().methods()) {
    const grpc::Status status = Send(method, oversized);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << method << ": " << status.error_message();
  }
}

TEST_F(HostileInputTest, TextWithNulOrControlCharactersIsRefusedByName) {
  for (const std::string& poison :
       {std::string("Robert\0'); DROP TABLE cases; --", 31),
        std::string("bell\x07"), std::string("escape\x1b[2J")}) {
    const int calls = PoisonEveryField(
        [](const FieldDescriptor& field) {
          return field.type() == FieldDescriptor::TYPE_STRING;
        },
        [&](Message* holder, const FieldDescriptor& field) {
          if (field.is_repeated()) {
            holder->GetReflection()->AddString(holder, &field, poison);
          } else {
            holder->GetReflection()->SetString(holder, &field, poison);
          }
        },
        [](const std::string& path) {
          return path + ": contains control character U+";
        });
    EXPECT_GT(calls, 100);
  }
}

// Invalid UTF-8 in a proto3 string does not parse; the caller is told the
// request is not a valid message.
TEST_F(HostileInputTest, InvalidUtf8IsInvalidArgument) {
  const int calls = PoisonEveryField(
      [](const FieldDescriptor& field) {
        return field.type() == FieldDescriptor::TYPE_STRING;
      },
      [](Message* holder, const FieldDescriptor& field) {
        const std::string bad("\xc3\x28 \xff", 4);
        if (field.is_repeated()) {
          holder->GetReflection()->AddString(holder, &field, bad);
        } else {
          holder->GetReflection()->SetString(holder, &field, bad);
        }
      },
      [](const std::string&) { return std::string(); });
  EXPECT_GT(calls, 100);
}

// The purpose a caller states goes into every service's audit: one over
// 200 characters, or bytes that are not UTF-8 in the binary key, fail
// every RPC of every service, naming the key, before any handler runs.
TEST_F(HostileInputTest, AMalformedPurposeIsRefusedByItsMetadataKey) {
  struct Case {
    std::string key;
    std::string purpose;
    std::string expected;
  };
  for (const Case& bad :
       {Case{"x-kosapo-purpose", std::string(201, 'x'),
             "metadata x-kosapo-purpose: at most 200 characters"},
        Case{"x-kosapo-purpose-bin", std::string("\xc3\x28 \xff", 4),
             "metadata x-kosapo-purpose-bin: not valid UTF-8"}}) {
    std::set<std::string> services;
    for (const std::string& method :
         auth::PermissionMatrix::Embedded().methods()) {
      const grpc::Status status = Send(method, "", {{bad.key, bad.purpose}});
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << method << ": " << status.error_message();
      EXPECT_THAT(status.error_message(), HasSubstr(bad.expected)) << method;
      services.insert(FourServices::ServiceOf(method));
    }
    // The event feed ("") and the four services' own APIs.
    EXPECT_EQ(services, (std::set<std::string>{"", "case", "referral",
                                               "reporting", "screening"}));
  }
}

TEST_F(HostileInputTest, EnumNumbersTheApiDoesNotDefineAreRefusedByName) {
  const int calls = PoisonEveryField(
      [](const FieldDescriptor& field) {
        return field.cpp_type() == FieldDescriptor::CPPTYPE_ENUM;
      },
      [](Message* holder, const FieldDescriptor& field) {
        if (field.is_repeated()) {
          holder->GetReflection()->AddEnumValue(holder, &field, 9999);
        } else {
          holder->GetReflection()->SetEnumValue(holder, &field, 9999);
        }
      },
      [](const std::string& path) { return path + ": unknown "; });
  EXPECT_GT(calls, 20);
}

TEST_F(HostileInputTest, ImpossibleDatesAreRefusedByName) {
  const int calls = PoisonEveryField(
      [](const FieldDescriptor& field) {
        return field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
               field.message_type()->full_name() == "kosapo.type.Date";
      },
      [](Message* holder, const FieldDescriptor& field) {
        Message* date =
            field.is_repeated()
                ? holder->GetReflection()->AddMessage(holder, &field)
                : holder->GetReflection()->MutableMessage(holder, &field);
        const Descriptor& type = *date->GetDescriptor();
        date->GetReflection()->SetInt32(date, type.FindFieldByName("year"),
                                        2023);
        date->GetReflection()->SetInt32(date, type.FindFieldByName("month"), 2);
        date->GetReflection()->SetInt32(date, type.FindFieldByName("day"), 30);
      },
      [](const std::string& path) {
        return path + ": 2023-02-30 is not a date";
      });
  EXPECT_GT(calls, 10);
}

// Every list with a page size refuses one past its maximum. Each handler
// checks its own fields in its own order, so the request names the
// caller's municipality, school and hub, and most refusals must then be
// about the page size; none may serve a page.
TEST_F(HostileInputTest, HugePageSizesAreRefused) {
  google::protobuf::DynamicMessageFactory factory;
  int calls = 0;
  int named = 0;
  for (const std::string& method :
       auth::PermissionMatrix::Embedded().methods()) {
    const Descriptor* type = RequestType(method);
    ASSERT_NE(type, nullptr) << method;
    for (const char* name : {"page_size", "max_batch_size"}) {
      const FieldDescriptor* size = type->FindFieldByName(name);
      if (size == nullptr) {
        continue;
      }
      std::unique_ptr<Message> request(factory.GetPrototype(type)->New());
      const auto* reflection = request->GetReflection();
      reflection->SetInt32(request.get(), size, 1 << 30);
      for (const auto& [field, value] :
           std::vector<std::pair<std::string, std::string>>{
               {"parent", absl::StrCat("municipalities/", kCity)},
               {"school_code", "E1"},
               {"hub_code", "H1"}}) {
        if (const FieldDescriptor* f = type->FindFieldByName(field)) {
          reflection->SetString(request.get(), f, value);
        }
      }
      const grpc::Status status = Send(method, request->SerializeAsString());
      // A scope check may come first (the caller's role does not see that
      // list at all); what matters is that no page is served.
      EXPECT_THAT(status.error_code(),
                  ::testing::AnyOf(grpc::StatusCode::INVALID_ARGUMENT,
                                   grpc::StatusCode::PERMISSION_DENIED))
          << method << ": " << status.error_message();
      ++calls;
      if (absl::StrContains(status.error_message(), name)) {
        ++named;
      } else {
        std::cout << "refused for another field first: " << method << ": "
                  << status.error_message() << "\n";
      }
    }
  }
  EXPECT_GT(calls, 10);
  EXPECT_GE(named * 2, calls) << named << " of " << calls;
}

}  // namespace
}  // namespace kosapo
