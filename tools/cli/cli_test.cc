// The `kosapo` binary as a script would run it: a subprocess with its own
// environment, against the four services started in this process on
// loopback ports (common/service/in_process.h) over a throwaway PostgreSQL.
// Each test checks what the command prints and its exit code.
#include "tools/cli/cli.h"

#include <iconv.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/auth/jwt.h"
#include "common/service/in_process.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/stdout_capture.h"
#include "common/types/api_types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "services/case/case_server.h"
#include "services/referral/referral_server.h"
#include "services/reporting/reporting_server.h"
#include "services/screening/screening_server.h"
#include "tools/sample/generator.h"
#include "tools/sample/loader.h"
#include "tools/sample/ward_spec.h"

namespace kosapo::cli {
namespace {

using ::kosapo::testing::InProcessService;
using ::kosapo::testing::SharedPgCluster;
using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
namespace sv1 = ::kosapo::screening::v1;

// The registry the import tests write into.
constexpr char kCity[] = "27990";
// The sample city of the report and list tests.
constexpr char kSampleCity[] = "27500";
// Two wards; 南区 reaches fewer households (outreach 62.5% against the
// city's 75.0%), so its outreach rate is flagged.
constexpr char kSampleSpec[] =
    "row_kind\tfiscal_year\tas_of\tarea_code\tlabel\tdisplay_order\t"
    "c01_pupils\tc02_target_cases\tc04_outreach_done\tc06_connected\t"
    "c11_preparing\tc13_unable\tc15_resolved\n"
    "city_total\t2022\t2023-03-31\t27500\t令和4年度 (令和5年3月末)\t0\t"
    "900\t6\t5\t4\t1\t0\t2\n"
    "city_total\t2023\t2024-03-31\t27500\t令和5年度 (令和6年3月末)\t0\t"
    "1000\t20\t15\t13\t3\t2\t5\n"
    "ward\t2023\t2024-03-31\t27501\t北区\t1\t600\t12\t10\t8\t1\t1\t4\n"
    "ward\t2023\t2024-03-31\t27502\t南区\t2\t400\t8\t5\t5\t2\t1\t1\n";

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
}

std::string ToCp932(const std::string& utf8) {
  iconv_t cd = iconv_open("CP932", "UTF-8");
  EXPECT_NE(cd, reinterpret_cast<iconv_t>(-1));
  std::string out(utf8.size() * 2, '\0');
  char* in = const_cast<char*>(utf8.data());
  size_t in_left = utf8.size();
  char* dst = out.data();
  size_t out_left = out.size();
  EXPECT_NE(iconv(cd, &in, &in_left, &dst, &out_left), static_cast<size_t>(-1));
  iconv_close(cd);
  out.resize(out.size() - out_left);
  return out;
}

// A loopback port nothing listens on.
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines =
      absl::StrSplit(text, '\n', absl::SkipEmpty());
  return lines;
}

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_dir_ = new std::string(SharedPgCluster().data_dir() + "-cli");
    ASSERT_EQ(std::system(absl::StrCat("mkdir -p ", Quote(*work_dir_)).c_str()),
              0);
    auto tokens = testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = tokens->release();
    const std::string peer_token = *work_dir_ + "/peer.token";
    WriteFile(peer_token,
              tokens_->Sign(auth::Role::kService, "service:cli-test"));

    services_ = new std::map<std::string, std::unique_ptr<InProcessService>>();
    testing::StdoutCapture logs(*work_dir_ + "/start.log");
    for (auto& [name, definition] :
         std::vector<std::pair<std::string, server::ServiceDefinition>>{
             {"screening", screening::Definition()},
             {"case", cases::Definition()},
             {"referral", referral::Definition()},
             {"reporting", reporting::Definition()}}) {
      const std::map<std::string, std::string> env =
          ::kosapo::testing::PeerEnv(*services_, peer_token);
      auto service = InProcessService::Start(
          std::move(definition), SharedPgCluster(), *tokens_, *work_dir_, env);
      ASSERT_TRUE(service.ok()) << name << ": " << service.status();
      (*services_)[name] = *std::move(service);
    }
    logs.Finish();
  }

  static void TearDownTestSuite() {
    delete services_;
    services_ = nullptr;
    delete tokens_;
    tokens_ = nullptr;
    if (work_dir_ != nullptr) {
      std::system(absl::StrCat("rm -rf ", Quote(*work_dir_)).c_str());
      delete work_dir_;
      work_dir_ = nullptr;
    }
  }

  static std::string Address(const std::string& service) {
    return absl::StrCat("127.0.0.1:", services_->at(service)->runtime().port());
  }

  // The addresses of all four services and the CLI's client certificate
  // from the services' test CA, as the CLI reads them.
  static std::map<std::string, std::string> Endpoints() {
    const testing::TestPki& pki = services_->at("screening")->pki();
    EXPECT_TRUE(pki.IssueClient("cli").ok());
    const tls::TlsFiles files = pki.Client("cli");
    return {{"KOSAPO_SCREENING_ADDRESS", Address("screening")},
            {"KOSAPO_CASE_ADDRESS", Address("case")},
            {"KOSAPO_REFERRAL_ADDRESS", Address("referral")},
            {"KOSAPO_REPORTING_ADDRESS", Address("reporting")},
            {"KOSAPO_TLS_CA", files.ca_file},
            {"KOSAPO_TLS_CERT", files.cert_file},
            {"KOSAPO_TLS_KEY", files.key_file}};
  }

  // Endpoints and a token for `principal` in a file, as a script sets them.
  static std::map<std::string, std::string> As(
      const auth::Principal& principal) {
    static int tokens = 0;
    const std::string path =
        absl::StrCat(*work_dir_, "/token-", ++tokens, ".jwt");
    WriteFile(path, tokens_->Sign(principal) + "\n");
    std::map<std::string, std::string> env = Endpoints();
    env["KOSAPO_TOKEN_FILE"] = path;
    return env;
  }

  static auth::Principal Principal(auth::Role role, const std::string& city,
                                   std::vector<std::string> areas = {},
                                   std::vector<std::string> schools = {}) {
    auth::Principal principal;
    principal.subject =
        absl::StrCat("user:cli-", std::string(auth::RoleName(role)));
    principal.role = role;
    principal.municipality = city;
    principal.areas = std::move(areas);
    principal.schools = std::move(schools);
    return principal;
  }

  // Runs build/tools/kosapo with only `env` (and PATH) in its environment.
  static CliResult Run(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env = {}) {
    static int runs = 0;
    const std::string stem = absl::StrCat(*work_dir_, "/run-", ++runs);
    std::string command = "env -i PATH=/usr/bin:/bin";
    for (const auto& [key, value] : env) {
      absl::StrAppend(&command, " ", Quote(absl::StrCat(key, "=", value)));
    }
    absl::StrAppend(&command, " ", Quote(KOSAPO_CLI_BIN));
    for (const std::string& arg : args) {
      absl::StrAppend(&command, " ", Quote(arg));
    }
    absl::StrAppend(&command, " <", "/dev/null >", Quote(stem + ".out"), " 2>",
                    Quote(stem + ".err"));
    const int status = std::system(command.c_str());
    CliResult result;
    result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = ReadFile(stem + ".out");
    result.err = ReadFile(stem + ".err");
    return result;
  }

  static std::unique_ptr<sv1::ScreeningService::Stub> Screening() {
    return sv1::ScreeningService::NewStub(
        services_->at("screening")->channel());
  }

  static std::unique_ptr<grpc::ClientContext> Context(
      const auth::Principal& principal) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer " + tokens_->Sign(principal));
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(30));
    return context;
  }

  // kCity with areas 27991 (北区) and 27992 (南区) and schools C1, C2.
  static void EnsureRegistry() {
    auto stub = Screening();
    const auth::Principal ops = Principal(auth::Role::kCityOperations, kCity);
    sv1::UpsertMunicipalityRequest municipality;
    municipality.mutable_municipality()->set_code(kCity);
    municipality.mutable_municipality()->set_display_name("試験市");
    sv1::Municipality m;
    ASSERT_TRUE(
        stub->UpsertMunicipality(Context(ops).get(), municipality, &m).ok());
    int order = 0;
    for (const auto& [code, name] :
         std::vector<std::pair<std::string, std::string>>{{"27991", "北区"},
                                                          {"27992", "南区"}}) {
      sv1::UpsertAreaRequest area;
      area.set_parent(absl::StrCat("municipalities/", kCity));
      area.mutable_area()->set_code(code);
      area.mutable_area()->set_display_name(name);
      area.mutable_area()->set_display_order(++order);
      sv1::Area stored;
      ASSERT_TRUE(stub->UpsertArea(Context(ops).get(), area, &stored).ok());
    }
    for (const auto& [code, area] :
         std::vector<std::pair<std::string, std::string>>{{"C1", "27991"},
                                                          {"C2", "27992"}}) {
      sv1::UpsertSchoolRequest school;
      school.set_parent(absl::StrCat("municipalities/", kCity));
      school.mutable_school()->set_code(code);
      school.mutable_school()->set_display_name(code + "小学校");
      school.mutable_school()->set_kind(sv1::SCHOOL_KIND_ELEMENTARY);
      school.mutable_school()->set_area_code(area);
      sv1::School stored;
      ASSERT_TRUE(stub->UpsertSchool(Context(ops).get(), school, &stored).ok());
    }
  }

  // The sample city of kSampleSpec, loaded once through the public APIs
  // and applied by the reporting service.
  static const sample::SampleCity& SampleCity() {
    static const sample::SampleCity* city = [] {
      auto spec = sample::ParseWardSpec(kSampleSpec);
      EXPECT_TRUE(spec.ok()) << spec.status();
      auto made = sample::CityFromSpec(*spec, 7);
      EXPECT_TRUE(made.ok()) << made.status();
      auto* loaded = new sample::SampleCity(*made);
      testing::StdoutCapture logs(*work_dir_ + "/sample.log");
      sample::LoadTargets targets;
      targets.screening = services_->at("screening")->channel();
      targets.cases = services_->at("case")->channel();
      targets.referral = services_->at("referral")->channel();
      targets.sign = [](const auth::Principal& principal) {
        return tokens_->Sign(principal);
      };
      targets.concurrency = 2;
      sample::LoadProgress progress;
      const absl::Status status = sample::LoadCity(*loaded, targets, &progress);
      const std::string logged = logs.Finish();
      EXPECT_TRUE(status.ok()) << status << "\n" << logged.substr(0, 4000);
      for (const char* source : {"screening", "case", "referral"}) {
        const absl::Status applied = testing::WaitForConsumer(
            SharedPgCluster(), "reporting", source, *services_->at(source),
            *tokens_, absl::Minutes(1));
        EXPECT_TRUE(applied.ok()) << applied;
      }
      return loaded;
    }();
    return *city;
  }

  static std::string* work_dir_;
  static testing::TestTokens* tokens_;
  static std::map<std::string, std::unique_ptr<InProcessService>>* services_;
};

std::string* CliTest::work_dir_ = nullptr;
testing::TestTokens* CliTest::tokens_ = nullptr;
std::map<std::string, std::unique_ptr<InProcessService>>* CliTest::services_ =
    nullptr;

TEST_F(CliTest, HelpListsEveryCommandAndEachCommandExplainsItself) {
  const CliResult overview = Run({"--help"});
  EXPECT_EQ(overview.code, 0) << overview.err;
  EXPECT_THAT(overview.out, HasSubstr("Exit codes:"));
  EXPECT_THAT(overview.out, HasSubstr("KOSAPO_SCREENING_ADDRESS"));
  for (const Command& command : Commands()) {
    std::vector<std::string> args;
    if (!command.group.empty()) {
      args.push_back(command.group);
    }
    args.push_back(command.name);
    const std::string words = absl::StrJoin(args, " ");
    EXPECT_THAT(overview.out, HasSubstr(words));
    args.push_back("--help");
    const CliResult help = Run(args);
    EXPECT_EQ(help.code, 0) << words << ": " << help.err;
    EXPECT_THAT(help.out, HasSubstr(absl::StrCat("Usage: kosapo ", words)));
    EXPECT_THAT(help.out, HasSubstr("Exit codes:"));
    for (const Flag& flag : command.flags) {
      EXPECT_THAT(help.out, HasSubstr(absl::StrCat("--", flag.name))) << words;
    }
    EXPECT_EQ(help.err, "") << words;
  }
}

TEST_F(CliTest, UsageErrorsExitTwoSayingWhatIsWrong) {
  const CliResult unknown = Run({"frobnicate"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown command 'frobnicate'"));

  const CliResult group = Run({"import"});
  EXPECT_EQ(group.code, 2);
  EXPECT_THAT(group.err, HasSubstr("one of schools, enrollment, sheets"));

  const CliResult no_year = Run({"report", "ward-comparison"},
                                As(Principal(auth::Role::kAnalyst, kCity)));
  EXPECT_EQ(no_year.code, 2);
  EXPECT_THAT(no_year.err, HasSubstr("--fy"));

  const CliResult bad_flag = Run({"cases", "list", "--colour=always"});
  EXPECT_EQ(bad_flag.code, 2);
  EXPECT_THAT(bad_flag.err, HasSubstr("unknown flag --colour"));

  const CliResult no_file =
      Run({"import", "sheets", *work_dir_ + "/missing.csv", "--round=r1"},
          As(Principal(auth::Role::kSchoolStaff, kCity)));
  EXPECT_EQ(no_file.code, 2);
  EXPECT_THAT(no_file.err, HasSubstr("cannot open"));
}

TEST_F(CliTest, UnreachableServiceExitsThreeSayingHowToStartTheSuite) {
  std::map<std::string, std::string> env =
      As(Principal(auth::Role::kWardOfficer, kSampleCity, {"27501"}));
  const std::string closed = absl::StrCat("127.0.0.1:", ClosedPort());
  env["KOSAPO_CASE_ADDRESS"] = closed;
  const CliResult result = Run({"cases", "list", "--timeout=5s"}, env);
  EXPECT_EQ(result.code, 3) << result.err;
  EXPECT_THAT(result.err,
              AllOf(HasSubstr(absl::StrCat("cannot reach case at ", closed)),
                    HasSubstr("scripts/run.sh --keep-running"),
                    HasSubstr("KOSAPO_CASE_ADDRESS")));
  EXPECT_EQ(result.out, "");
}

TEST_F(CliTest, WithoutTlsSettingsExitsTwoNamingThemAndPlaintextIsRefused) {
  std::map<std::string, std::string> env =
      As(Principal(auth::Role::kWardOfficer, kSampleCity, {"27501"}));
  std::map<std::string, std::string> no_tls = env;
  no_tls.erase("KOSAPO_TLS_CERT");
  no_tls.erase("KOSAPO_TLS_KEY");
  const CliResult missing = Run({"cases", "list"}, no_tls);
  EXPECT_EQ(missing.code, 2) << missing.err;
  EXPECT_THAT(missing.err, AllOf(HasSubstr("--tls-cert (KOSAPO_TLS_CERT)"),
                                 HasSubstr("--tls-key (KOSAPO_TLS_KEY)"),
                                 Not(HasSubstr("--tls-ca"))));
  // Plaintext against the services' TLS ports gets no answer.
  const CliResult plaintext =
      Run({"cases", "list", "--plaintext", "--timeout=5s"}, env);
  EXPECT_EQ(plaintext.code, 3) << plaintext.err;
  // A flag wins over the variables, as for every setting.
  const CliResult flags =
      Run({"cases", "list", "--tls-key=/nonexistent.key"}, env);
  EXPECT_EQ(flags.code, 2) << flags.err;
  EXPECT_THAT(flags.err, HasSubstr("cannot read --tls-key file"));
}

TEST_F(CliTest, MissingOrForeignTokenExitsFour) {
  const CliResult none = Run({"cases", "list"}, Endpoints());
  EXPECT_EQ(none.code, 4);
  EXPECT_THAT(none.err, HasSubstr("kosapo token mint"));

  // Signed by a key the services do not trust.
  auto other = testing::TestTokens::Create();
  ASSERT_TRUE(other.ok());
  std::map<std::string, std::string> env = Endpoints();
  env["KOSAPO_TOKEN"] = (*other)->Sign(
      Principal(auth::Role::kWardOfficer, kSampleCity, {"27501"}));
  const CliResult foreign = Run({"cases", "list"}, env);
  EXPECT_EQ(foreign.code, 4) << foreign.err;
  EXPECT_THAT(foreign.err, HasSubstr("case refused the token"));
}

TEST_F(CliTest, HealthShowsEveryServiceAndExitsThreeWhenOneIsDown) {
  // --wait: readiness follows the database check, which may lag the start.
  const CliResult all = Run({"health", "--wait=30s"}, Endpoints());
  EXPECT_EQ(all.code, 0) << all.out << all.err;
  const std::vector<std::string> lines = Lines(all.out);
  ASSERT_EQ(lines.size(), 4u) << all.out;
  for (const char* name : {"screening", "case", "referral", "reporting"}) {
    bool found = false;
    for (const std::string& line : lines) {
      found = found || (absl::StartsWith(line, name) &&
                        absl::StrContains(line, Address(name)) &&
                        absl::EndsWith(line, "SERVING"));
    }
    EXPECT_TRUE(found) << name << "\n" << all.out;
  }

  std::map<std::string, std::string> env = Endpoints();
  env["KOSAPO_REPORTING_ADDRESS"] = absl::StrCat("127.0.0.1:", ClosedPort());
  // A closed port answers at once; the timeout only bounds the three that
  // serve, each a new mutual TLS handshake on a machine the other tests
  // keep busy (2 s was not always enough).
  const CliResult one_down = Run({"health", "--timeout=15s"}, env);
  EXPECT_EQ(one_down.code, 3);
  EXPECT_THAT(one_down.out,
              HasSubstr(absl::StrCat(env["KOSAPO_REPORTING_ADDRESS"],
                                     "  UNREACHABLE")));
  EXPECT_THAT(one_down.err, HasSubstr("1 of 4 services not serving"));

  const CliResult probe = Run({"health", "--address", Address("case"),
                               "--service=kosapo.cases.v1.CaseService"},
                              Endpoints());
  EXPECT_EQ(probe.code, 0) << probe.out << probe.err;
  EXPECT_EQ(probe.out, absl::StrCat(Address("case"),
                                    " kosapo.cases.v1.CaseService: SERVING\n"));
  const CliResult wrong_name =
      Run({"health", "--address", Address("case"), "--service=kosapo.Nothing"},
          Endpoints());
  EXPECT_EQ(wrong_name.code, 3) << wrong_name.out;
  // As the kubelet probes: plaintext, on the health port, no certificate.
  const std::string health_port = absl::StrCat(
      "127.0.0.1:", services_->at("case")->runtime().health_port());
  const CliResult kubelet =
      Run({"health", "--plaintext", "--address", health_port,
           "--service=kosapo.cases.v1.CaseService"});
  EXPECT_EQ(kubelet.code, 0) << kubelet.out << kubelet.err;
  EXPECT_EQ(
      kubelet.out,
      absl::StrCat(health_port, " kosapo.cases.v1.CaseService: SERVING\n"));
  // Without TLS settings the CLI says which are missing (exit 2).
  const CliResult no_tls = Run({"health", "--address", Address("case")});
  EXPECT_EQ(no_tls.code, 2);
  EXPECT_THAT(no_tls.err, HasSubstr("--tls-ca (KOSAPO_TLS_CA)"));
}

TEST_F(CliTest, TokenMintSignsATokenTheServicesWouldAccept) {
  const std::string keys = *work_dir_ + "/keys";
  ASSERT_EQ(
      std::system(absl::StrCat(Quote(KOSAPO_SOURCE_DIR "/scripts/dev-keys.sh"),
                               " ", Quote(keys), " >/dev/null")
                      .c_str()),
      0);
  const CliResult minted =
      Run({"token", "mint", "--private_key_file=" + keys + "/jwt-es256.key",
           "--subject=user:ward-1", "--role=ward_officer",
           "--municipality=27100", "--areas=27102,27104", "--ttl=10m"});
  ASSERT_EQ(minted.code, 0) << minted.err;
  auth::VerifierOptions options;
  options.public_key_pem = ReadFile(keys + "/jwt-es256.pub");
  options.issuer = "kosapo-dev";
  options.audience = "kosapo";
  auto verifier = auth::TokenVerifier::Create(options);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  auto principal = (*verifier)->Verify(
      std::string(absl::StripSuffix(minted.out, "\n")), absl::Now());
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->subject, "user:ward-1");
  EXPECT_EQ(principal->role, auth::Role::kWardOfficer);
  EXPECT_EQ(principal->municipality, "27100");
  EXPECT_EQ(principal->areas, (std::vector<std::string>{"27102", "27104"}));
  // Ten minutes: expired in eleven.
  EXPECT_FALSE((*verifier)
                   ->Verify(std::string(absl::StripSuffix(minted.out, "\n")),
                            absl::Now() + absl::Minutes(12))
                   .ok());

  const CliResult bad_role =
      Run({"token", "mint", "--private-key-file=" + keys + "/jwt-es256.key",
           "--subject=u", "--role=mayor"});
  EXPECT_EQ(bad_role.code, 2);
  EXPECT_THAT(bad_role.err, HasSubstr("--role: unknown role 'mayor'"));
  const CliResult no_key =
      Run({"token", "mint", "--private-key-file=" + keys + "/nope.key",
           "--subject=u", "--role=analyst"});
  EXPECT_EQ(no_key.code, 2);
  EXPECT_THAT(no_key.err, HasSubstr("--private-key-file: cannot open"));
}

TEST_F(CliTest, ImportSchoolsStoresGoodLinesAndNamesTheBadOnes) {
  EnsureRegistry();
  const std::string file = *work_dir_ + "/schools.csv";
  WriteFile(file,
            "school_code,display_name,kind,area_code\n"
            "S001,北第一小学校,elementary,27991\n"
            "S002,北中学校,中学校,27991\n"
            "S003,南小学校,primary,27992\n"
            "S004,南中学校,junior_high,99999\n"
            "S005,\"南,第二小学校\",elementary\n");
  const auto env = As(Principal(auth::Role::kCityOperations, kCity));
  const CliResult result = Run({"import", "schools", file}, env);
  EXPECT_EQ(result.code, 1) << result.err;
  EXPECT_THAT(result.out, AllOf(HasSubstr("line 4: kind: unknown kind"),
                                HasSubstr("line 5: "), HasSubstr("line 6: "),
                                HasSubstr("schools: 2 stored, 3 rejected")));
  EXPECT_THAT(result.out, Not(HasSubstr("line 2:")));
  EXPECT_THAT(result.out, Not(HasSubstr("line 3:")));

  sv1::ListSchoolsRequest list;
  list.set_parent(absl::StrCat("municipalities/", kCity));
  sv1::ListSchoolsResponse schools;
  ASSERT_TRUE(
      Screening()
          ->ListSchools(
              Context(Principal(auth::Role::kCityOperations, kCity)).get(),
              list, &schools)
          .ok());
  std::vector<std::string> codes;
  for (const sv1::School& school : schools.schools()) {
    codes.push_back(school.code());
  }
  EXPECT_THAT(codes, ::testing::IsSupersetOf({"S001", "S002"}));
  EXPECT_THAT(codes, Not(::testing::Contains("S003")));
}

TEST_F(CliTest, ImportEnrollmentIsAllOrNothingAndListsEveryProblem) {
  EnsureRegistry();
  const auto env = As(Principal(auth::Role::kCityOperations, kCity));
  const std::string good = *work_dir_ + "/enrollment.csv";
  WriteFile(good, "school_code,grade,pupils\nC1,1,30\nC1,2,31\nC2,0,120\n");
  const CliResult stored =
      Run({"import", "enrollment", good, "--fy=2024"}, env);
  EXPECT_EQ(stored.code, 0) << stored.out << stored.err;
  EXPECT_THAT(stored.out, HasSubstr("enrollment FY2024: stored, 3 rows, 2 "
                                    "schools, 181 pupils"));
  const CliResult again = Run({"import", "enrollment", good, "--fy=2024"}, env);
  EXPECT_EQ(again.code, 0);
  EXPECT_THAT(again.out, HasSubstr("unchanged"));

  const std::string bad = *work_dir_ + "/enrollment-bad.csv";
  WriteFile(bad, "school_code,grade,pupils\nC1,1,30\nX9,1,10\nC2,0,-4\n");
  const CliResult refused =
      Run({"import", "enrollment", bad, "--fy=2024"}, env);
  EXPECT_EQ(refused.code, 1) << refused.err;
  EXPECT_THAT(
      refused.out,
      AllOf(HasSubstr("refused, nothing stored (2 problem(s))"),
            HasSubstr("line 3: school_code: "), HasSubstr("line 4: pupils: ")));
  EXPECT_THAT(refused.out, Not(HasSubstr("line 2")));
}

TEST_F(CliTest, ImportSheetsInCp932ReportsRejectedLinesOfTheFile) {
  EnsureRegistry();
  // A round open all this fiscal year.
  auto today = DayIn(absl::Now(), "Asia/Tokyo");
  ASSERT_TRUE(today.ok());
  const int year = FiscalYearOf(*today);
  sv1::CreateRoundRequest create;
  create.set_parent(absl::StrCat("municipalities/", kCity));
  create.set_request_id("cli-test-round");
  create.mutable_round()->set_fiscal_year(year);
  create.mutable_round()->set_title("第1回");
  create.mutable_round()->set_template_("templates/default/versions/1");
  *create.mutable_round()->mutable_open_date() =
      DateToProto(absl::CivilDay(year, 4, 1));
  *create.mutable_round()->mutable_close_date() =
      DateToProto(absl::CivilDay(year + 1, 3, 31));
  sv1::Round round;
  ASSERT_TRUE(
      Screening()
          ->CreateRound(
              Context(Principal(auth::Role::kCityOperations, kCity)).get(),
              create, &round)
          .ok());

  // 髙 is a CP932 extension (IBM) character; line 6 holds a note of two
  // lines; line 5 repeats line 2's pupil in a later piece; line 9 has a
  // quote inside an unquoted field.
  const std::string file = *work_dir_ + "/sheets.csv";
  WriteFile(
      file,
      ToCp932("school_code,pupil_id,grade,class_name,pupil_name,pupil_kana,"
              "birth_date,sex,note,meals_no_breakfast\n"                    // 1
              "C1,P001,3,1組,山田 太郎,やまだ たろう,2016-05-01,male,,1\n"  // 2
              "C1,P002,3,1組,髙橋 花子,たかはし はなこ,2016-13-01,female,,0\n"
              "C1,P003,4,2組,佐藤 次郎,さとう じろう,2015-06-02,other,,0\n"
              "C1,P001,3,1組,山田 太郎,やまだ たろう,2016-05-01,male,,1\n"  // 5
              "C1,P004,5,3組,鈴木 一郎,すずき いちろう,2014-07-03,male,"
              "\"二行の\nメモ\",0\n"  // 6-7
              "C1,P005,2,1組,伊藤 四郎,いとう しろう,2017-09-05,male,,x\n"  // 8
              "C1,P006,2,1組,伊\"藤 五郎,いとう ごろう,2017-09-05,male,,0\n"));
  const auto env = As(Principal(auth::Role::kSchoolStaff, kCity, {}, {"C1"}));
  const std::vector<std::string> args = {
      "import", "sheets", file, "--round=" + round.name(), "--batch-rows=2"};
  const CliResult first = Run(args, env);
  EXPECT_EQ(first.code, 1) << first.err;
  EXPECT_THAT(
      first.out,
      AllOf(HasSubstr("line 3: birth_date: "), HasSubstr("line 4: sex: "),
            HasSubstr("line 5: sheet.pupil_id: given twice in this "
                      "import (first at line 2)"),
            HasSubstr("line 8: meals_no_breakfast"),
            // Unreadable: a quote inside an unquoted field.
            HasSubstr("line 9: quote inside"),
            HasSubstr("sheets: 2 accepted, 0 unchanged, 5 rejected")))
      << first.out;
  EXPECT_THAT(first.out, Not(HasSubstr("line 6:")));
  // Progress as plain lines (stderr is not a terminal).
  EXPECT_THAT(first.err, HasSubstr("sheets: 6/6"));

  // Read as UTF-8, the CP932 file is refused whole, naming the first line
  // that is not UTF-8.
  std::vector<std::string> as_utf8 = args;
  as_utf8.push_back("--encoding=utf8");
  const CliResult wrong_encoding = Run(as_utf8, env);
  EXPECT_EQ(wrong_encoding.code, 1);
  EXPECT_THAT(wrong_encoding.out,
              AllOf(HasSubstr("sheets refused, nothing stored"),
                    HasSubstr("line 2: ")));

  const CliResult again = Run(args, env);
  EXPECT_EQ(again.code, 1);
  EXPECT_THAT(again.out,
              HasSubstr("sheets: 0 accepted, 2 unchanged, 5 rejected"));

  sv1::ListSheetsRequest list;
  list.set_parent(round.name());
  list.set_school_code("C1");
  sv1::ListSheetsResponse sheets;
  ASSERT_TRUE(Screening()
                  ->ListSheets(Context(Principal(auth::Role::kSchoolStaff,
                                                 kCity, {}, {"C1"}))
                                   .get(),
                               list, &sheets)
                  .ok());
  ASSERT_EQ(sheets.sheets_size(), 2);
  EXPECT_EQ(sheets.sheets(0).pupil_name(), "山田 太郎");
  EXPECT_EQ(sheets.sheets(1).note(), "二行の\nメモ");
}

// Display columns counted independently of terminal.cc: ASCII one, every
// 3-byte UTF-8 character (kanji, kana, full-width forms) two.
int Columns(const std::string& line) {
  int columns = 0;
  for (size_t i = 0; i < line.size();) {
    const unsigned char c = static_cast<unsigned char>(line[i]);
    const bool three = (c & 0xF0) == 0xE0;
    columns += three ? 2 : 1;
    i += three ? 3 : 1;
  }
  return columns;
}

TEST_F(CliTest, WardComparisonPrintsTheCityTableAligned) {
  SampleCity();
  const auto env = As(Principal(auth::Role::kAnalyst, kSampleCity));
  const CliResult table =
      Run({"report", "ward-comparison", "--fy", "2023"}, env);
  ASSERT_EQ(table.code, 0) << table.err;
  const std::vector<std::string> lines = absl::StrSplit(table.out, '\n');
  EXPECT_THAT(lines[0], HasSubstr("令和5年度 (令和6年3月末)"));
  std::vector<std::string> rows;
  for (size_t i = 2; i < lines.size() && !lines[i].empty(); ++i) {
    rows.push_back(lines[i]);
  }
  ASSERT_GE(rows.size(), 8u) << table.out;
  for (const std::string& row : rows) {
    EXPECT_EQ(Columns(row), Columns(rows[0])) << table.out;
  }
  const auto row_of = [&](const std::string& label) {
    for (const std::string& row : rows) {
      if (absl::StartsWith(row, label)) {
        return row;
      }
    }
    return std::string();
  };
  // The counts of the spec, and 南区's outreach rate (62.5 < 75.0) marked.
  EXPECT_THAT(row_of("市全体 令和5年度"),
              AllOf(HasSubstr(" 1000 "), HasSubstr(" 20 "), HasSubstr("75.0"),
                    Not(HasSubstr("*"))));
  EXPECT_THAT(row_of("市全体 令和4年度"), HasSubstr(" 900 "));
  EXPECT_THAT(row_of("北区"), AllOf(HasSubstr(" 600 "), HasSubstr("83.3 ")));
  EXPECT_THAT(row_of("南区"), AllOf(HasSubstr(" 400 "), HasSubstr("62.5*")));
  EXPECT_THAT(table.out, HasSubstr("児童生徒"));
  EXPECT_THAT(table.out, HasSubstr("* = 市全体より悪い値"));

  const CliResult color =
      Run({"report", "ward-comparison", "--fy=2023", "--color=always"}, env);
  EXPECT_EQ(color.code, 0);
  EXPECT_THAT(color.out, HasSubstr("\x1b[30;43m"));
  EXPECT_THAT(color.out, Not(HasSubstr("62.5*")));

  const CliResult json =
      Run({"report", "ward-comparison", "--fy=2023", "--format=json"}, env);
  ASSERT_EQ(json.code, 0) << json.err;
  const nlohmann::json parsed = nlohmann::json::parse(json.out);
  EXPECT_EQ(parsed["rows"].size(), 4u);

  // Earlier in the year: the city total is labelled with the date.
  const CliResult september = Run(
      {"report", "ward-comparison", "--fy=2023", "--as-of=2023-09-30"}, env);
  EXPECT_EQ(september.code, 0) << september.err;
  EXPECT_THAT(september.out, HasSubstr("令和5年度 (令和5年9月末)"));
  const CliResult bad_date = Run(
      {"report", "ward-comparison", "--fy=2023", "--as-of=30/09/2023"}, env);
  EXPECT_EQ(bad_date.code, 2);
  EXPECT_THAT(bad_date.err, HasSubstr("--as-of"));

  const std::string out = *work_dir_ + "/ward.txt";
  const CliResult to_file =
      Run({"report", "ward-comparison", "--fy=2023", "--out", out}, env);
  EXPECT_EQ(to_file.code, 0);
  EXPECT_EQ(ReadFile(out), table.out);

  // The files come from the reporting service's export, streamed.
  const CliResult csv = Run({"report", "ward-comparison", "--fy=2023",
                             "--format=csv", "--out", *work_dir_ + "/w.csv"},
                            env);
  ASSERT_EQ(csv.code, 0) << csv.err;
  const std::string csv_file = ReadFile(*work_dir_ + "/w.csv");
  EXPECT_EQ(csv_file.substr(0, 3), "\xEF\xBB\xBF");  // BOM, for Excel
  EXPECT_THAT(csv_file, HasSubstr("南区"));
  EXPECT_THAT(csv_file, HasSubstr("62.5"));
  const CliResult xlsx = Run({"report", "ward-comparison", "--fy=2023",
                              "--format=xlsx", "--out", *work_dir_ + "/w.xlsx"},
                             env);
  ASSERT_EQ(xlsx.code, 0) << xlsx.err;
  EXPECT_EQ(ReadFile(*work_dir_ + "/w.xlsx").substr(0, 4), "PK\x03\x04");
  const CliResult html =
      Run({"report", "ward-comparison", "--fy=2023", "--format=html"}, env);
  ASSERT_EQ(html.code, 0) << html.err;
  EXPECT_THAT(html.out, HasSubstr("<html"));
  EXPECT_THAT(html.out, HasSubstr("南区"));

  // The sample city has no hub H1: the service says so, exit 5.
  const CliResult hub =
      Run({"report", "hub-monthly", "--hub=H1", "--month=2024-08"}, env);
  EXPECT_EQ(hub.code, 5) << hub.err;
  EXPECT_THAT(hub.err, HasSubstr("H1"));
  const CliResult bad_month =
      Run({"report", "hub-monthly", "--hub=H1", "--month=2024-13"}, env);
  EXPECT_EQ(bad_month.code, 2);
  EXPECT_THAT(bad_month.err, HasSubstr("--month"));
}

// The hub monthly report of the sample city's busiest hub and month: the
// counts the service answers are the sample's own visits, as a table and
// as JSON; the centre director sees the children listed, an analyst counts
// only.
TEST_F(CliTest, HubMonthlyShowsTheMonthOfAHub) {
  const sample::SampleCity& city = SampleCity();
  // Visits and children per (hub code, month) from the sample itself.
  std::map<std::pair<std::string, std::string>, int64_t> visits;
  std::map<std::pair<std::string, std::string>, std::set<size_t>> children;
  for (size_t u = 0; u < city.hub_usages.size(); ++u) {
    const sample::SampleHubUsage& usage = city.hub_usages[u];
    const sample::SampleSupport& hub =
        city.supports[static_cast<size_t>(usage.support)];
    ASSERT_TRUE(hub.hub.has_value());
    for (const sample::SampleVisit& visit : usage.visits) {
      const std::pair<std::string, std::string> key{
          hub.hub->hub_code,
          absl::FormatCivilTime(absl::CivilMonth(visit.day))};
      ++visits[key];
      children[key].insert(u);
    }
  }
  ASSERT_FALSE(visits.empty()) << "the sample city has no hub visits";
  auto busiest = visits.begin();
  for (auto it = visits.begin(); it != visits.end(); ++it) {
    if (it->second > busiest->second) {
      busiest = it;
    }
  }
  const auto& [hub_code, month] = busiest->first;
  const int64_t expected_visits = busiest->second;
  const int64_t expected_children =
      static_cast<int64_t>(children[busiest->first].size());

  const auto director = As(Principal(auth::Role::kCentreDirector, kSampleCity));
  const CliResult table = Run(
      {"report", "hub-monthly", "--hub", hub_code, "--month", month}, director);
  ASSERT_EQ(table.code, 0) << table.err;
  const auto line_of = [&](const std::string& label) {
    for (absl::string_view line : absl::StrSplit(table.out, '\n')) {
      if (absl::StartsWith(line, label)) {
        return std::string(line);
      }
    }
    return std::string();
  };
  EXPECT_THAT(table.out, HasSubstr(absl::StrCat(hub_code, " ")));
  EXPECT_THAT(line_of("visits / 延べ利用"),
              EndsWith(absl::StrCat(" ", expected_visits)))
      << table.out;
  EXPECT_THAT(line_of("children / 実利用児童"),
              EndsWith(absl::StrCat(" ", expected_children)))
      << table.out;
  EXPECT_THAT(table.out, Not(HasSubstr("counts only")));

  const auto analyst = As(Principal(auth::Role::kAnalyst, kSampleCity));
  const CliResult json = Run({"report", "hub-monthly", "--hub=" + hub_code,
                              "--month=" + month, "--format=json"},
                             analyst);
  ASSERT_EQ(json.code, 0) << json.err;
  const nlohmann::json parsed = nlohmann::json::parse(json.out);
  // Protobuf's JSON writes 64-bit counts as strings.
  const auto number = [](const nlohmann::json& value) {
    return value.is_string() ? std::stoll(value.get<std::string>())
                             : value.get<int64_t>();
  };
  EXPECT_EQ(number(parsed.at("visits")), expected_visits);
  EXPECT_EQ(number(parsed.at("children")), expected_children);
  EXPECT_FALSE(parsed.value("childrenListed", false));
  const CliResult counts_only = Run(
      {"report", "hub-monthly", "--hub", hub_code, "--month", month}, analyst);
  EXPECT_EQ(counts_only.code, 0) << counts_only.err;
  EXPECT_THAT(counts_only.out, HasSubstr("counts only"));
}

TEST_F(CliTest, CasesAndReferralsListEveryPage) {
  const sample::SampleCity& city = SampleCity();
  const auth::Principal officer =
      Principal(auth::Role::kWardOfficer, kSampleCity, {"27501", "27502"});
  const auto env = As(officer);
  const CliResult all = Run({"cases", "list", "--page-size=3"}, env);
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_THAT(all.out, HasSubstr(absl::StrCat(city.cases.size(), " case(s)")));

  int64_t south_done = 0;
  for (const sample::SampleCase& c : city.cases) {
    south_done +=
        c.area_code == "27502" && c.approach == sample::Approach::kOutreachDone;
  }
  const CliResult filtered =
      Run({"cases", "list", "--area=27502", "--approach=outreach_done",
           "--format=json", "--page-size=2"},
          env);
  ASSERT_EQ(filtered.code, 0) << filtered.err;
  const std::vector<std::string> json_lines = Lines(filtered.out);
  EXPECT_EQ(static_cast<int64_t>(json_lines.size()), south_done);
  ASSERT_FALSE(json_lines.empty());
  const nlohmann::json first = nlohmann::json::parse(json_lines[0]);
  EXPECT_EQ(first["area_code"], "27502");
  EXPECT_EQ(first["approach_status"], "APPROACH_STATUS_OUTREACH_DONE");

  const std::string name = first["name"].get<std::string>();
  const CliResult show = Run({"cases", "show", name}, env);
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_THAT(show.out, AllOf(HasSubstr(name), HasSubstr("outreach_done"),
                              HasSubstr("27502")));

  const CliResult bad_state = Run({"cases", "list", "--state=lost"}, env);
  EXPECT_EQ(bad_state.code, 2);
  EXPECT_THAT(bad_state.err, HasSubstr("open, closed, withdrawn"));

  // The loader proposed every referral as this subject.
  auth::Principal loader = officer;
  loader.subject = "sample-loader:ward_officer";
  int64_t connected = 0;
  for (const sample::SampleCase& c : city.cases) {
    connected += c.connected.has_value();
  }
  const CliResult referrals =
      Run({"referrals", "list", "--page-size=2"}, As(loader));
  ASSERT_EQ(referrals.code, 0) << referrals.err;
  EXPECT_THAT(referrals.out,
              HasSubstr(absl::StrCat(connected, " referral(s)")));
  EXPECT_THAT(referrals.out, HasSubstr("connected"));
}

TEST_F(CliTest, PurposeGoesWithEveryCallAndTheAuditTrailsShowIt) {
  SampleCity();
  auth::Principal loader =
      Principal(auth::Role::kWardOfficer, kSampleCity, {"27501", "27502"});
  loader.subject = "sample-loader:ward_officer";
  const CliResult referrals =
      Run({"referrals", "list", "--format=json", "--limit=1"}, As(loader));
  ASSERT_EQ(referrals.code, 0) << referrals.err;
  const std::vector<std::string> lines = Lines(referrals.out);
  ASSERT_EQ(lines.size(), 1u);
  const std::string case_name =
      nlohmann::json::parse(lines[0])["case"].get<std::string>();

  auth::Principal officer = loader;
  officer.subject = "user:cli-purpose";
  const auto env = As(officer);
  const CliResult show =
      Run({"cases", "show", case_name, "--purpose=家庭訪問の前に確認"}, env);
  ASSERT_EQ(show.code, 0) << show.err;
  auto stated = env;
  stated["KOSAPO_PURPOSE"] = "支援会議の準備";
  const CliResult listed =
      Run({"referrals", "list", "--case", case_name}, stated);
  ASSERT_EQ(listed.code, 0) << listed.err;
  EXPECT_EQ(Run({"cases", "show", case_name}, env).code, 0);

  const CliResult audit = Run({"cases", "audit", case_name}, env);
  ASSERT_EQ(audit.code, 0) << audit.err;
  EXPECT_THAT(audit.out, HasSubstr("PURPOSE"));
  std::vector<std::string> reads;
  for (const std::string& line : Lines(audit.out)) {
    if (absl::StrContains(line, "user:cli-purpose")) {
      reads.emplace_back(absl::StripTrailingAsciiWhitespace(line));
    }
  }
  ASSERT_EQ(reads.size(), 2u) << audit.out;
  // Newest first: the read without a purpose, then the one with.
  EXPECT_THAT(reads[0], AllOf(HasSubstr("GetCase"), EndsWith("read")));
  EXPECT_THAT(reads[1],
              AllOf(HasSubstr("GetCase"), EndsWith("家庭訪問の前に確認")));

  const CliResult trail =
      Run({"referrals", "audit", case_name, "--format=json"}, env);
  ASSERT_EQ(trail.code, 0) << trail.err;
  bool listed_with_purpose = false;
  for (const std::string& line : Lines(trail.out)) {
    const nlohmann::json entry = nlohmann::json::parse(line);
    listed_with_purpose =
        listed_with_purpose || (entry["subject"] == "user:cli-purpose" &&
                                entry["method"] == "ListReferrals" &&
                                entry["purpose"] == "支援会議の準備");
  }
  EXPECT_TRUE(listed_with_purpose) << trail.out;

  // Too long for the services: refused before any call, naming the flag.
  const CliResult too_long = Run(
      {"cases", "show", case_name, "--purpose=" + std::string(201, 'x')}, env);
  EXPECT_EQ(too_long.code, 2);
  EXPECT_THAT(too_long.err, HasSubstr("--purpose: at most 200 characters"));
}

}  // namespace
}  // namespace kosapo::cli
