// The permission matrix file: its parser, and the embedded matrix against
// the services' protos (every RPC has its row, no row names a gone RPC) and
// against the README's rendering of it.
#include "common/auth/permissions.h"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "kosapo/cases/v1/cases.pb.h"
#include "kosapo/events/v1/events.pb.h"
#include "kosapo/referral/v1/referral.pb.h"
#include "kosapo/reporting/v1/reporting.pb.h"
#include "kosapo/screening/v1/screening.pb.h"

namespace kosapo::auth {
namespace {

using ::testing::HasSubstr;

constexpr char kHeader[] =
    "rpc\tschool_staff\tschool_manager\tssw\tsupport_promoter\tward_officer\t"
    "case_worker\tconsultation_desk\thub_operator\tcentre_director\t"
    "city_operations\tanalyst\tservice\n";

std::string Row(const std::string& method, const std::string& cells) {
  return absl::StrCat(method, "\t", cells, "\n");
}

TEST(PermissionMatrixTest, ParsesCellsPerRole) {
  const auto matrix = PermissionMatrix::Parse(absl::StrCat(
      "# a comment\n", kHeader,
      Row("pkg.S/Read",
          "school\t-\t-\t-\tarea+assigned\tassigned\t-\thub\tcity\tcity\t"
          "counts\tany"),
      "\n", Row("pkg.S/Write", "-\t-\t-\t-\t-\t-\t-\t-\t-\tcity\t-\t-")));
  ASSERT_TRUE(matrix.ok()) << matrix.status();
  EXPECT_EQ(matrix->methods(),
            (std::vector<std::string>{"pkg.S/Read", "pkg.S/Write"}));
  EXPECT_EQ(matrix->Allowed("/pkg.S/Read", Role::kSchoolStaff),
            Scopes{Scope::kSchool});
  const std::optional<Scopes> officer =
      matrix->Allowed("pkg.S/Read", Role::kWardOfficer);
  ASSERT_TRUE(officer.has_value());
  EXPECT_TRUE(officer->Has(Scope::kArea));
  EXPECT_TRUE(officer->Has(Scope::kAssigned));
  EXPECT_FALSE(officer->Has(Scope::kCity));
  EXPECT_EQ(officer->ToString(), "area+assigned");
  EXPECT_EQ(matrix->Allowed("pkg.S/Read", Role::kCaseWorker),
            Scopes{Scope::kAssigned});
  EXPECT_EQ(matrix->Allowed("pkg.S/Read", Role::kHubOperator),
            Scopes{Scope::kHub});
  EXPECT_EQ(matrix->Allowed("pkg.S/Read", Role::kAnalyst),
            Scopes{Scope::kCounts});
  EXPECT_EQ(matrix->Allowed("pkg.S/Read", Role::kService), Scopes{Scope::kAny});
  EXPECT_EQ(matrix->Allowed("pkg.S/Read", Role::kSsw), std::nullopt);
  EXPECT_EQ(matrix->Allowed("pkg.S/Write", Role::kCityOperations),
            Scopes{Scope::kCity});
  EXPECT_EQ(matrix->Allowed("pkg.S/Write", Role::kService), std::nullopt);
  // Not in the matrix: refused (fail closed).
  EXPECT_FALSE(matrix->Contains("pkg.S/Delete"));
  EXPECT_EQ(matrix->Allowed("pkg.S/Delete", Role::kService), std::nullopt);

  const std::string markdown = matrix->RenderMarkdown();
  EXPECT_THAT(markdown, HasSubstr("| `pkg.S` | school_staff |"));
  EXPECT_THAT(markdown, HasSubstr("| area+assigned |"));
  EXPECT_THAT(markdown,
              HasSubstr("| Write | · | · | · | · | · | · | · | · | · | city "
                        "| · | · |"));
}

TEST(PermissionMatrixTest, ErrorsNameTheLine) {
  const std::string all_refused = "-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-";
  for (const auto& [tsv, expected] :
       std::vector<std::pair<std::string, std::string>>{
           {"", "no header line"},
           {"method\tschool_staff\n", "line 1: the header must start"},
           {"rpc\tschool_staff\tjanitor\n", "line 1: unknown role \"janitor\""},
           {"rpc\tschool_staff\tschool_staff\n",
            "line 1: role school_staff given twice"},
           {"rpc\tschool_staff\n", "every one of the 12 needs a column"},
           {absl::StrCat(kHeader, Row("pkg.S/A", "-\t-")),
            "line 2: pkg.S/A has 2 cells for 12 roles"},
           {absl::StrCat(kHeader, Row("NoSlash", all_refused)),
            "line 2: \"NoSlash\" is not package.Service/Method"},
           {absl::StrCat(
                kHeader,
                Row("pkg.S/A", "area+mine\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-")),
            "line 2: pkg.S/A: unknown scope \"mine\""},
           {absl::StrCat(kHeader, "# c\n", Row("pkg.S/A", all_refused),
                         Row("pkg.S/A", all_refused)),
            "line 4: pkg.S/A given twice"}}) {
    const auto matrix = PermissionMatrix::Parse(tsv);
    ASSERT_FALSE(matrix.ok()) << tsv;
    EXPECT_EQ(matrix.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(matrix.status().message()), HasSubstr(expected))
        << tsv;
  }
}

// Every RPC of every kosapo service, from the compiled protos.
std::set<std::string> ServedRpcs() {
  std::set<std::string> rpcs;
  for (const google::protobuf::FileDescriptor* file :
       {screening::v1::Round::descriptor()->file(),
        cases::v1::Case::descriptor()->file(),
        referral::v1::Referral::descriptor()->file(),
        reporting::v1::WardComparison::descriptor()->file(),
        events::v1::Event::descriptor()->file()}) {
    for (int s = 0; s < file->service_count(); ++s) {
      const google::protobuf::ServiceDescriptor* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        rpcs.insert(absl::StrCat(service->full_name(), "/",
                                 service->method(m)->name()));
      }
    }
  }
  return rpcs;
}

TEST(PermissionMatrixTest, EmbeddedMatrixCoversEveryRpcAndNoOther) {
  const PermissionMatrix& matrix = PermissionMatrix::Embedded();
  const std::set<std::string> rpcs = ServedRpcs();
  EXPECT_GT(rpcs.size(), 80u);
  for (const std::string& rpc : rpcs) {
    EXPECT_TRUE(matrix.Contains(rpc))
        << rpc << " has no row in common/auth/permissions.tsv";
  }
  for (const std::string& method : matrix.methods()) {
    EXPECT_EQ(rpcs.count(method), 1u)
        << method << " in common/auth/permissions.tsv is no RPC";
  }
}

// The README shows the matrix between two markers. Run this test with
// KOSAPO_UPDATE_README=1 to rewrite that part after changing the file.
TEST(PermissionMatrixTest, ReadmeShowsTheMatrix) {
  const std::string path = absl::StrCat(KOSAPO_SOURCE_DIR, "/README.md");
  std::stringstream contents;
  contents << std::ifstream(path).rdbuf();
  std::string readme = contents.str();
  constexpr char kBegin[] = "<!-- permissions:begin -->\n";
  constexpr char kEnd[] = "<!-- permissions:end -->";
  const size_t begin = readme.find(kBegin);
  const size_t end = readme.find(kEnd);
  ASSERT_NE(begin, std::string::npos) << path << " has no " << kBegin;
  ASSERT_NE(end, std::string::npos) << path << " has no " << kEnd;
  const size_t from = begin + std::string(kBegin).size();
  const std::string shown = readme.substr(from, end - from);
  const std::string rendered =
      PermissionMatrix::Embedded().RenderMarkdown() + "\n";
  if (shown != rendered && std::getenv("KOSAPO_UPDATE_README") != nullptr) {
    readme.replace(from, end - from, rendered);
    std::ofstream(path, std::ios::trunc) << readme;
    return;
  }
  EXPECT_EQ(shown, rendered)
      << "README.md's permission matrix is not the file's: run "
         "KOSAPO_UPDATE_README=1 build/common/auth/auth_permissions_test";
}

}  // namespace
}  // namespace kosapo::auth
