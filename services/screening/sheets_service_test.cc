// Pupils' sheets through the real service: idempotent re-submission,
// corrections with history, closed rounds, bad answers, school scope, bulk
// intake by stream and by CSV (UTF-8 and CP932), candidates for meeting I.
#include <fcntl.h>
#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/server/metrics.h"
#include "common/server/runtime.h"
#include "common/service/in_process.h"
#include "common/testing/pg_cluster.h"
#include "common/testing/stdout_capture.h"
#include "common/types/api_types.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kosapo/events/v1/events.grpc.pb.h"
#include "kosapo/screening/v1/events.pb.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "services/screening/screening_server.h"
#include "services/screening/testing/seed.h"

namespace kosapo::screening {
namespace {

using ::kosapo::testing::SharedPgCluster;
using ::testing::HasSubstr;

constexpr char kCity[] = "27201";

// The fiscal year containing today in Tokyo, so the round accepts sheets.
int CurrentFiscalYear() {
  return kosapo::FiscalYearOf(*kosapo::DayIn(absl::Now(), "Asia/Tokyo"));
}

class SheetsTest : public ::testing::Test {
 protected:
  // An intake that sends nothing for this long is ended.
  // Longer than CloseRound waits for an intake's lock (2 s).
  static constexpr int kIdleSeconds = 4;

  static void SetUpTestSuite() {
    auto tokens = kosapo::testing::TestTokens::Create();
    ASSERT_TRUE(tokens.ok()) << tokens.status();
    tokens_ = tokens->release();
    auto service = kosapo::testing::InProcessService::Start(
        Definition(), SharedPgCluster(), *tokens_, SharedPgCluster().data_dir(),
        {{"KOSAPO_INTAKE_IDLE_TIMEOUT", absl::StrCat(kIdleSeconds, "s")}});
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = service->release();
    auto stub = v1::ScreeningService::NewStub(service_->channel());
    const absl::Status seeded =
        screening::testing::SeedCity(*stub, *tokens_, kCity, {"E1", "E2"});
    ASSERT_TRUE(seeded.ok()) << seeded;
  }

  static void TearDownTestSuite() {
    delete service_;
    delete tokens_;
  }

  static std::string Parent() { return absl::StrCat("municipalities/", kCity); }

  static std::unique_ptr<grpc::ClientContext> As(
      auth::Role role, std::vector<std::string> schools = {}) {
    auth::Principal principal;
    principal.subject = "user:test";
    principal.role = role;
    principal.municipality = kCity;
    principal.schools = std::move(schools);
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer " + tokens_->Sign(principal));
    return context;
  }
  static std::unique_ptr<grpc::ClientContext> Ops() {
    return As(auth::Role::kCityOperations);
  }
  static std::unique_ptr<grpc::ClientContext> StaffOf(
      const std::string& school) {
    return As(auth::Role::kSchoolStaff, {school});
  }

  std::unique_ptr<v1::ScreeningService::Stub> Stub() {
    return v1::ScreeningService::NewStub(service_->channel());
  }

  // A new open round for this year.
  std::string NewRound(const std::string& request_id) {
    const v1::CreateRoundRequest request = screening::testing::RoundRequest(
        Parent(), request_id, CurrentFiscalYear(), "第1回");
    v1::Round created;
    EXPECT_TRUE(Stub()->CreateRound(Ops().get(), request, &created).ok());
    return created.name();
  }

  static v1::Sheet Pupil(const std::string& school, const std::string& id) {
    v1::Sheet sheet;
    sheet.set_school_code(school);
    sheet.set_pupil_id(id);
    sheet.set_grade(3);
    sheet.set_class_name("2組");
    sheet.set_pupil_name("山田 太郎");
    sheet.set_pupil_kana("ヤマダ タロウ");
    sheet.mutable_birth_date()->set_year(CurrentFiscalYear() - 9);
    sheet.mutable_birth_date()->set_month(5);
    sheet.mutable_birth_date()->set_day(20);
    sheet.set_sex(v1::SEX_MALE);
    return sheet;
  }

  static void Answer(v1::Sheet& sheet, const std::string& item, int level) {
    v1::Answer* answer = sheet.add_answers();
    answer->set_item(item);
    answer->set_level(level);
  }
  static void Flag(v1::Sheet& sheet, const std::string& item) {
    v1::Answer* answer = sheet.add_answers();
    answer->set_item(item);
    answer->set_flag(true);
  }

  grpc::Status Upsert(const std::string& round, const v1::Sheet& sheet,
                      v1::UpsertSheetResponse* response,
                      std::unique_ptr<grpc::ClientContext> context = nullptr) {
    v1::UpsertSheetRequest request;
    request.set_parent(round);
    *request.mutable_sheet() = sheet;
    if (context == nullptr) {
      context = StaffOf(sheet.school_code());
    }
    return Stub()->UpsertSheet(context.get(), request, response);
  }

  // The count `sql` (a SELECT count(*) with parameter $1) finds, read as
  // the superuser.
  template <typename Param>
  static int CountAsAdmin(const char* sql, const Param& param) {
    pqxx::connection admin(SharedPgCluster().AdminUrl());
    pqxx::nontransaction tx(admin);
    return tx.exec_params1(sql, param)[0].template as<int>();
  }

  // The id of `round` ("municipalities/{m}/rounds/{id}").
  static int64_t RoundId(const std::string& round) {
    return std::stoll(round.substr(round.rfind('/') + 1));
  }

  static int HistoryRows(const std::string& pupil_id) {
    return CountAsAdmin(
        "SELECT count(*) FROM screening.sheet_history WHERE pupil_id = $1",
        pupil_id);
  }

  // ImportSheets as school E1's staff, each of `messages` sent as the
  // bytes it is (valid or not) through the generic stub, then the
  // half-close; the call's final status. `response` gets the answer.
  static grpc::Status StreamBytes(const std::vector<std::string>& messages,
                                  v1::ImportSheetsResponse* response) {
    grpc::GenericStub stub(service_->channel());
    std::unique_ptr<grpc::ClientContext> context = StaffOf("E1");
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(30));
    grpc::CompletionQueue queue;
    auto call = stub.PrepareCall(
        context.get(), "/kosapo.screening.v1.ScreeningService/ImportSheets",
        &queue);
    auto step = [&](intptr_t tag) {
      void* got = nullptr;
      bool ok = false;
      EXPECT_TRUE(queue.Next(&got, &ok));
      EXPECT_EQ(got, reinterpret_cast<void*>(tag));
      return ok;
    };
    call->StartCall(reinterpret_cast<void*>(1));
    bool open = step(1);
    for (const std::string& bytes : messages) {
      if (!open) {
        break;  // the server has answered already
      }
      grpc::Slice slice(bytes);
      grpc::ByteBuffer message(&slice, 1);
      call->Write(message, reinterpret_cast<void*>(2));
      open = step(2);
    }
    if (open) {
      call->WritesDone(reinterpret_cast<void*>(3));
      step(3);
    }
    grpc::ByteBuffer answer;
    call->Read(&answer, reinterpret_cast<void*>(4));
    if (step(4)) {
      std::vector<grpc::Slice> slices;
      EXPECT_TRUE(answer.Dump(&slices).ok());
      std::string encoded;
      for (const grpc::Slice& piece : slices) {
        encoded.append(reinterpret_cast<const char*>(piece.begin()),
                       piece.size());
      }
      EXPECT_TRUE(response->ParseFromString(encoded));
    }
    grpc::Status status;
    call->Finish(&status, reinterpret_cast<void*>(5));
    step(5);
    queue.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (queue.Next(&tag, &ok)) {
    }
    return status;
  }

  // A stream message of `round` with E1's pupils `prefix`0 .. `prefix`n-1.
  static std::string SheetsMessage(const std::string& round,
                                   const std::string& prefix, int n) {
    v1::ImportSheetsRequest request;
    request.set_parent(round);
    for (int i = 0; i < n; ++i) {
      *request.add_sheets() = Pupil("E1", absl::StrCat(prefix, i));
    }
    return request.SerializeAsString();
  }

  // Sheets stored in `round` ("municipalities/{m}/rounds/{id}").
  static int StoredSheets(const std::string& round) {
    return CountAsAdmin(
        "SELECT count(*) FROM screening.sheets WHERE round_id = $1",
        RoundId(round));
  }

  // An ImportSheets stream of school E1's staff, left open after its first
  // message (E1's pupils `prefix`0 .. `prefix`n-1) and a pause long enough
  // for the server to read it and write its full batches.
  struct OpenStream {
    std::unique_ptr<grpc::ClientContext> context;
    v1::ImportSheetsResponse response;
    std::unique_ptr<grpc::ClientWriter<v1::ImportSheetsRequest>> writer;
  };
  std::unique_ptr<OpenStream> StartStream(const std::string& round,
                                          const std::string& prefix, int n) {
    auto stream = std::make_unique<OpenStream>();
    stream->context = StaffOf("E1");
    stream->writer =
        Stub()->ImportSheets(stream->context.get(), &stream->response);
    v1::ImportSheetsRequest request;
    EXPECT_TRUE(request.ParseFromString(SheetsMessage(round, prefix, n)));
    EXPECT_TRUE(stream->writer->Write(request));
    absl::SleepFor(absl::Milliseconds(500));
    return stream;
  }

  // Audit rows of sheet writes in `round`.
  static int WriteAuditRows(const std::string& round) {
    return CountAsAdmin(
        "SELECT count(*) FROM screening.screening_audit"
        " WHERE round_id = $1 AND access = 'write' AND record = 'sheet'",
        RoundId(round));
  }

  // ImportSheets calls the service has finished handling, by any code.
  static double ImportSheetsHandled() {
    double total = 0;
    for (const prometheus::MetricFamily& family :
         service_->runtime().metrics().registry().Collect()) {
      if (family.name != "grpc_server_handled_total") {
        continue;
      }
      for (const prometheus::ClientMetric& metric : family.metric) {
        for (const prometheus::ClientMetric::Label& label : metric.label) {
          if (label.name == "grpc_method" && label.value == "ImportSheets") {
            total += metric.counter.value;
          }
        }
      }
    }
    return total;
  }

  static kosapo::testing::TestTokens* tokens_;
  static kosapo::testing::InProcessService* service_;
};

// Bytes that do not parse as any message: a length-delimited field 1 whose
// length is a varint that never ends.
const std::string kGarbage("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11);

kosapo::testing::TestTokens* SheetsTest::tokens_ = nullptr;
kosapo::testing::InProcessService* SheetsTest::service_ = nullptr;

TEST_F(SheetsTest, ResubmissionIsUnchangedAndCorrectionKeepsHistory) {
  const std::string round = NewRound("resubmit");
  v1::Sheet sheet = Pupil("E1", "P-0001");
  Answer(sheet, "school_absence", 2);
  v1::UpsertSheetResponse response;
  ASSERT_TRUE(Upsert(round, sheet, &response).ok());
  EXPECT_EQ(response.outcome(), v1::ROW_OUTCOME_ACCEPTED);
  EXPECT_EQ(response.sheet().revision(), 1);
  EXPECT_EQ(response.sheet().name(), round + "/schools/E1/sheets/P-0001");
  EXPECT_NEAR(response.sheet().score().total(), 2.0 * 2 / 3, 1e-9);
  EXPECT_FALSE(response.sheet().score().candidate());
  EXPECT_EQ(response.sheet().pupil_kana(), "ヤマダ タロウ");

  ASSERT_TRUE(Upsert(round, sheet, &response).ok());
  EXPECT_EQ(response.outcome(), v1::ROW_OUTCOME_UNCHANGED);
  EXPECT_EQ(response.sheet().revision(), 1);
  EXPECT_EQ(HistoryRows("P-0001"), 0);

  Flag(sheet, "home_neglect_suspected");
  ASSERT_TRUE(Upsert(round, sheet, &response).ok());
  EXPECT_EQ(response.outcome(), v1::ROW_OUTCOME_ACCEPTED);
  EXPECT_EQ(response.sheet().revision(), 2);
  EXPECT_TRUE(response.sheet().score().candidate());  // always-review item
  EXPECT_EQ(response.sheet().score().triggered(0).item(),
            "home_neglect_suspected");
  EXPECT_EQ(HistoryRows("P-0001"), 1);
}

TEST_F(SheetsTest, BadAnswersAndFieldsAreRefusedNamingThem) {
  const std::string round = NewRound("bad-answers");
  v1::Sheet sheet = Pupil("E1", "P-0100");
  Answer(sheet, "school_absence", 5);
  v1::UpsertSheetResponse response;
  grpc::Status status = Upsert(round, sheet, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("answers[0]"));
  EXPECT_THAT(status.error_message(), HasSubstr("school_absence"));

  sheet = Pupil("E1", "P-0100");
  Answer(sheet, "no_such_item", 1);
  status = Upsert(round, sheet, &response);
  EXPECT_THAT(status.error_message(), HasSubstr("no_such_item"));

  sheet = Pupil("E1", "P-0100");
  Answer(sheet, "home_injury", 1);  // a flag answered as a level
  status = Upsert(round, sheet, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  sheet = Pupil("E1", "P-0100");
  sheet.set_pupil_kana("Yamada");
  status = Upsert(round, sheet, &response);
  EXPECT_THAT(status.error_message(), HasSubstr("sheet.pupil_kana"));
  EXPECT_THAT(status.error_message(), ::testing::Not(HasSubstr("Yamada")));

  sheet = Pupil("E1", "P-0100");
  sheet.set_grade(7);
  status = Upsert(round, sheet, &response);
  EXPECT_THAT(status.error_message(), HasSubstr("sheet.grade"));
}

TEST_F(SheetsTest, SchoolStaffReachOnlyTheirOwnSchool) {
  const std::string round = NewRound("scope");
  v1::UpsertSheetResponse response;
  EXPECT_EQ(Upsert(round, Pupil("E2", "P-0200"), &response, StaffOf("E1"))
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Upsert(round, Pupil("E1", "P-0200"), &response).ok());
  v1::GetSheetRequest get;
  get.set_name(round + "/schools/E1/sheets/P-0200");
  v1::Sheet sheet;
  EXPECT_TRUE(Stub()->GetSheet(StaffOf("E1").get(), get, &sheet).ok());
  EXPECT_EQ(Stub()->GetSheet(StaffOf("E2").get(), get, &sheet).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Stub()
                ->GetSheet(As(auth::Role::kAnalyst).get(), get, &sheet)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Stub()
                ->GetSheet(As(auth::Role::kWardOfficer).get(), get, &sheet)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(SheetsTest, ClosedRoundRefusesWrites) {
  const std::string round = NewRound("closing");
  v1::CloseRoundRequest close;
  close.set_name(round);
  v1::Round closed;
  ASSERT_TRUE(Stub()->CloseRound(Ops().get(), close, &closed).ok());
  v1::UpsertSheetResponse response;
  const grpc::Status status = Upsert(round, Pupil("E1", "P-0300"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("closed"));
}

TEST_F(SheetsTest, StreamedIntakeReportsEveryRowAndRepeatsAreNoOps) {
  const std::string round = NewRound("stream");
  auto send = [&](v1::ImportSheetsResponse* response) {
    auto context = StaffOf("E1");
    auto writer = Stub()->ImportSheets(context.get(), response);
    for (int batch = 0; batch < 3; ++batch) {
      v1::ImportSheetsRequest request;
      request.set_parent(round);
      for (int i = 0; i < 1000; ++i) {
        const int n = batch * 1000 + i;
        v1::Sheet sheet = Pupil("E1", absl::StrCat("S", n));
        if (n % 7 == 0) {
          Answer(sheet, "meals_hunger", 3);
        }
        if (n == 1500) {
          Answer(sheet, "meals_hunger", 9);  // rejected: out of range
        }
        if (n == 2500) {
          sheet.set_school_code("E2");  // rejected: not the caller's school
        }
        *request.add_sheets() = sheet;
      }
      if (batch == 2) {
        *request.add_sheets() = Pupil("E1", "S10");  // rejected: twice
      }
      EXPECT_TRUE(writer->Write(request));
    }
    writer->WritesDone();
    return writer->Finish();
  };
  v1::ImportSheetsResponse first;
  ASSERT_TRUE(send(&first).ok());
  EXPECT_EQ(first.accepted(), 2998);
  EXPECT_EQ(first.rejected(), 3);
  ASSERT_EQ(first.rows_size(), 3001);
  EXPECT_EQ(first.rows(1500).line(), 1501);
  EXPECT_EQ(first.rows(1500).outcome(), v1::ROW_OUTCOME_REJECTED);
  EXPECT_THAT(first.rows(1500).field(), HasSubstr("answers[0]"));
  EXPECT_EQ(first.rows(2500).field(), "sheet.school_code");
  EXPECT_THAT(first.rows(3000).message(), HasSubstr("first at line 11"));
  EXPECT_EQ(first.rows(1499).outcome(), v1::ROW_OUTCOME_ACCEPTED);

  v1::ImportSheetsResponse again;
  ASSERT_TRUE(send(&again).ok());
  EXPECT_EQ(again.accepted(), 0);
  EXPECT_EQ(again.unchanged(), 2998);
  EXPECT_EQ(again.rejected(), 3);
}

// gRPC's synchronous reader reports a message that does not parse as the
// end of the stream; the upload must not be taken as complete.
TEST_F(SheetsTest, ACorruptStreamedMessageIsRefusedByPositionAndNothingStored) {
  const std::string round = NewRound("corrupt-middle");
  const std::string valid = SheetsMessage(round, "CM-", 5);
  v1::ImportSheetsResponse response;
  const grpc::Status status = StreamBytes(
      {valid, kGarbage, SheetsMessage(round, "CM-late-", 5)}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("message 2 of the stream is not a valid "
                        "kosapo.screening.v1.ImportSheetsRequest message"));
  EXPECT_THAT(status.error_message(), HasSubstr("nothing was stored"));
  EXPECT_EQ(StoredSheets(round), 0);

  // A valid message cut short: its last sheet ends mid-field.
  const grpc::Status truncated =
      StreamBytes({valid, valid.substr(0, valid.size() - 7)}, &response);
  EXPECT_EQ(truncated.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(truncated.error_message(), HasSubstr("message 2 of the stream"));
  EXPECT_EQ(StoredSheets(round), 0);

  // The same stream without the corrupt message goes in whole.
  ASSERT_TRUE(
      StreamBytes({valid, SheetsMessage(round, "CM-late-", 5)}, &response)
          .ok());
  EXPECT_EQ(response.accepted(), 10);
  EXPECT_EQ(StoredSheets(round), 10);
}

TEST_F(SheetsTest, AStreamWhoseFirstMessageIsCorruptIsRefusedByPosition) {
  const std::string round = NewRound("corrupt-first");
  const std::string valid = SheetsMessage(round, "CF-", 3);
  v1::ImportSheetsResponse response;
  for (const std::string& first :
       {kGarbage, valid.substr(0, valid.size() / 2)}) {
    const grpc::Status status = StreamBytes({first, valid}, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(),
                HasSubstr("message 1 of the stream is not a valid "
                          "kosapo.screening.v1.ImportSheetsRequest message"));
  }
  EXPECT_EQ(StoredSheets(round), 0);
}

// Batches are written as the stream goes (kBatchSize rows each) in one
// transaction committed at its end: a corrupt message after some leaves
// nothing stored and nothing audited as written, and the retry of the whole
// stream stores each row once.
TEST_F(SheetsTest, ACorruptMessageAfterWrittenBatchesStoresNothing) {
  const std::string round = NewRound("corrupt-late");
  const std::string big = SheetsMessage(round, "CL-", 2500);
  v1::ImportSheetsResponse response;
  const grpc::Status status = StreamBytes({big, kGarbage}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("message 2 of the stream is not a valid"));
  EXPECT_THAT(status.error_message(),
              HasSubstr("nothing was stored: send the whole stream again"));
  EXPECT_EQ(StoredSheets(round), 0);
  EXPECT_EQ(WriteAuditRows(round), 0);

  ASSERT_TRUE(
      StreamBytes({big, SheetsMessage(round, "CL-tail-", 10)}, &response).ok());
  EXPECT_EQ(response.accepted(), 2510);
  EXPECT_EQ(response.unchanged(), 0);
  EXPECT_EQ(response.rejected(), 0);
  EXPECT_EQ(StoredSheets(round), 2510);
  // One audit row for the intake's one school, with its three batches.
  EXPECT_EQ(WriteAuditRows(round), 1);
}

// A client that cancels its stream ends it, for gRPC's synchronous reader,
// as a whole stream would end: what it sent must not be stored.
TEST_F(SheetsTest, ACancelledStreamStoresNothing) {
  const std::string round = NewRound("cancelled");
  const double handled_before = ImportSheetsHandled();
  {
    // The server has written two batches and waits for the next message.
    const auto stream = StartStream(round, "CX-", 2500);
    stream->context->TryCancel();
    EXPECT_EQ(stream->writer->Finish().error_code(),
              grpc::StatusCode::CANCELLED);
  }
  // The client's answer comes at once; the server's handler ends later.
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (ImportSheetsHandled() == handled_before && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_GT(ImportSheetsHandled(), handled_before);
  EXPECT_EQ(StoredSheets(round), 0);
  EXPECT_EQ(WriteAuditRows(round), 0);
}

// The intake holds the round's share lock until it commits: CloseRound
// waits a few seconds, then says why it could not close; once the intake has
// ended, the round closes and the intake's rows are there.
TEST_F(SheetsTest, CloseRoundDuringAnIntakeSaysAnIntakeIsRunning) {
  const std::string round = NewRound("close-during");
  const auto stream = StartStream(round, "CD-", 1000);
  v1::CloseRoundRequest close;
  close.set_name(round);
  v1::Round closed;
  const grpc::Status refused = Stub()->CloseRound(Ops().get(), close, &closed);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(refused.error_message(),
              HasSubstr("a sheet intake into the round is still running"));
  EXPECT_EQ(StoredSheets(round), 0);  // not committed yet

  ASSERT_TRUE(stream->writer->WritesDone());
  const grpc::Status finished = stream->writer->Finish();
  ASSERT_TRUE(finished.ok()) << finished.error_message();
  EXPECT_EQ(stream->response.accepted(), 1000);
  ASSERT_TRUE(Stub()->CloseRound(Ops().get(), close, &closed).ok());
  EXPECT_EQ(closed.state(), v1::ROUND_STATE_CLOSED);
  EXPECT_EQ(StoredSheets(round), 1000);
}

// A client that stops sending in the middle of a stream does not hold the
// round for ever: after the idle timeout the database ends the intake's
// session, which lets go of the round (it can be closed while the stream is
// still open), and the intake stores nothing.
TEST_F(SheetsTest, AnIntakeThatStopsSendingLetsGoOfTheRoundAndStoresNothing) {
  const std::string round = NewRound("stalled");
  const auto stream = StartStream(round, "ST-", 1000);
  absl::SleepFor(absl::Seconds(kIdleSeconds + 1));
  v1::CloseRoundRequest close;
  close.set_name(round);
  v1::Round closed;
  const grpc::Status closing = Stub()->CloseRound(Ops().get(), close, &closed);
  EXPECT_TRUE(closing.ok()) << closing.error_message();

  v1::ImportSheetsRequest request;
  ASSERT_TRUE(request.ParseFromString(SheetsMessage(round, "ST-late-", 10)));
  stream->writer->Write(request);  // the server may have answered already
  stream->writer->WritesDone();
  const grpc::Status status = stream->writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(),
              HasSubstr(absl::StrCat("the intake sent no rows for more than ",
                                     kIdleSeconds, "s and was ended")));
  EXPECT_EQ(StoredSheets(round), 0);
  EXPECT_EQ(WriteAuditRows(round), 0);
}

// Two intakes of one school that is new to the round, and a pupil in both:
// the second writes the pupil's sheet straight into the table, meets the
// first's sheet once the first commits, and falls back to the upsert, which
// finds it equal. Nothing is lost or doubled.
TEST_F(SheetsTest, ConcurrentIntakesOfANewSchoolMeetingOnAPupil) {
  const std::string round = NewRound("concurrent");
  const auto first = StartStream(round, "CC-", 1000);
  auto second = std::async(std::launch::async, [&] {
    v1::ImportSheetsRequest request;
    EXPECT_TRUE(request.ParseFromString(SheetsMessage(round, "CC-", 10)));
    v1::ImportSheetsResponse response;
    auto context = StaffOf("E1");
    auto writer = Stub()->ImportSheets(context.get(), &response);
    EXPECT_TRUE(writer->Write(request));
    EXPECT_TRUE(writer->WritesDone());
    const grpc::Status status = writer->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  });
  // The second waits on the first's uncommitted sheets.
  absl::SleepFor(absl::Milliseconds(500));
  ASSERT_TRUE(first->writer->WritesDone());
  ASSERT_TRUE(first->writer->Finish().ok());
  EXPECT_EQ(first->response.accepted(), 1000);
  const v1::ImportSheetsResponse resent = second.get();
  EXPECT_EQ(resent.unchanged(), 10);
  EXPECT_EQ(resent.accepted(), 0);
  EXPECT_EQ(StoredSheets(round), 1000);
}

// A batch mixing new, equal and changed sheets gets each row's own outcome,
// and only the changed one a history row with the version it replaced.
TEST_F(SheetsTest, StreamedBatchMixingNewEqualAndChangedSheets) {
  const std::string round = NewRound("mixed");
  auto send = [&](int from, int to, int changed) {
    v1::ImportSheetsResponse response;
    auto context = StaffOf("E1");
    auto writer = Stub()->ImportSheets(context.get(), &response);
    v1::ImportSheetsRequest request;
    request.set_parent(round);
    for (int n = from; n < to; ++n) {
      v1::Sheet sheet = Pupil("E1", absl::StrCat("MIX-", n));
      if (n == changed) {
        Flag(sheet, "home_neglect_suspected");
      }
      *request.add_sheets() = sheet;
    }
    EXPECT_TRUE(writer->Write(request));
    writer->WritesDone();
    EXPECT_TRUE(writer->Finish().ok());
    return response;
  };
  const v1::ImportSheetsResponse first = send(0, 10, -1);
  EXPECT_EQ(first.accepted(), 10);

  const v1::ImportSheetsResponse second = send(5, 15, 7);
  EXPECT_EQ(second.accepted(), 6);  // MIX-7 and MIX-10..14
  EXPECT_EQ(second.unchanged(), 4);
  ASSERT_EQ(second.rows_size(), 10);
  for (const v1::SheetRowResult& row : second.rows()) {
    const int n = static_cast<int>(row.line()) + 4;
    EXPECT_EQ(row.outcome(), n == 7 || n >= 10 ? v1::ROW_OUTCOME_ACCEPTED
                                               : v1::ROW_OUTCOME_UNCHANGED)
        << "MIX-" << n;
  }
  EXPECT_EQ(HistoryRows("MIX-7"), 1);
  EXPECT_EQ(HistoryRows("MIX-6"), 0);
  EXPECT_EQ(HistoryRows("MIX-12"), 0);

  pqxx::connection admin(SharedPgCluster().AdminUrl());
  pqxx::nontransaction tx(admin);
  const pqxx::row kept = tx.exec_params1(
      "SELECT h.revision, h.content->>'content_hash' <> s.content_hash,"
      "       (h.content->>'revision')::int, h.replaced_by = s.filled_by,"
      "       s.revision"
      "  FROM screening.sheet_history h JOIN screening.sheets s"
      "    USING (round_id, school_code, pupil_id)"
      " WHERE h.pupil_id = $1",
      std::string("MIX-7"));
  EXPECT_EQ(kept[0].as<int>(), 1);
  EXPECT_TRUE(kept[1].as<bool>());  // the version it replaced
  EXPECT_EQ(kept[2].as<int>(), 1);
  EXPECT_TRUE(kept[3].as<bool>());
  EXPECT_EQ(kept[4].as<int>(), 2);

  v1::GetSheetRequest get;
  get.set_name(round + "/schools/E1/sheets/MIX-7");
  v1::Sheet stored;
  ASSERT_TRUE(Stub()->GetSheet(StaffOf("E1").get(), get, &stored).ok());
  EXPECT_EQ(stored.revision(), 2);
  EXPECT_TRUE(stored.score().candidate());
}

TEST_F(SheetsTest, CsvIntakeInUtf8AndShiftJisWithMalformedLines) {
  const std::string round = NewRound("csv");
  const std::string csv =
      "school_code,pupil_id,grade,class_name,pupil_name,pupil_kana,birth_date,"
      "sex,note,meals_hunger,home_injury\n"
      "E1,C1,2,1組,佐藤 花子,サトウ ハナコ," +
      absl::StrCat(CurrentFiscalYear() - 8) +
      "-06-01,female,,2,\n"
      "E1,C2,2,1組,鈴木 一郎,スズキ イチロウ,not-a-date,male,,,\n"
      "E1,C3,2,\"1組\"x,田中,タナカ,2015-01-01,male,,,\n"
      "E1,C4,2,2組,高橋 次郎,タカハシ ジロウ," +
      absl::StrCat(CurrentFiscalYear() - 8) +
      "-07-01,male,\"見守り,継続\",,1\n";
  v1::ImportSheetsCsvRequest request;
  request.set_parent(round);
  request.set_csv(csv);
  v1::ImportSheetsResponse response;
  ASSERT_TRUE(
      Stub()->ImportSheetsCsv(StaffOf("E1").get(), request, &response).ok());
  EXPECT_EQ(response.accepted(), 2);
  EXPECT_EQ(response.rejected(), 2);
  ASSERT_EQ(response.rows_size(), 4);
  EXPECT_EQ(response.rows(1).line(), 3);
  EXPECT_EQ(response.rows(1).field(), "birth_date");
  EXPECT_EQ(response.rows(2).line(), 4);
  EXPECT_EQ(response.rows(3).outcome(), v1::ROW_OUTCOME_ACCEPTED);

  ASSERT_TRUE(
      Stub()->ImportSheetsCsv(StaffOf("E1").get(), request, &response).ok());
  EXPECT_EQ(response.accepted(), 0);
  EXPECT_EQ(response.unchanged(), 2);

  // The same first row in CP932: "佐藤 花子" / "サトウ ハナコ" / "1組".
  const std::string cp932 = absl::StrCat(
      "school_code,pupil_id,grade,class_name,pupil_name,pupil_kana,birth_date,"
      "sex,meals_hunger\r\n"
      "E1,C1,2,1\x91\x67,\x8d\xb2\x93\xa1 \x89\xd4\x8e\x71,"
      "\x83\x54\x83\x67\x83\x45 \x83\x6e\x83\x69\x83\x52,",
      CurrentFiscalYear() - 8, "-06-01,female,2\r\n");
  request.set_csv(cp932);
  ASSERT_TRUE(
      Stub()->ImportSheetsCsv(StaffOf("E1").get(), request, &response).ok());
  ASSERT_EQ(response.rows_size(), 1);
  EXPECT_EQ(response.rows(0).outcome(), v1::ROW_OUTCOME_UNCHANGED)
      << response.rows(0).field() << " " << response.rows(0).message();

  request.set_csv(
      "school_code,pupil_id,grade,pupil_name,pupil_kana,birth_date,sex,"
      "favourite_colour\nE1,C9,1,a,ア,2015-01-01,male,red\n");
  const grpc::Status header =
      Stub()->ImportSheetsCsv(StaffOf("E1").get(), request, &response);
  EXPECT_EQ(header.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(header.error_message(), HasSubstr("favourite_colour"));
}

TEST_F(SheetsTest, CandidatesComeMostConcerningFirstWithReasons) {
  const std::string round = NewRound("candidates");
  v1::UpsertSheetResponse response;
  v1::Sheet low = Pupil("E1", "K1");
  Answer(low, "meals_hunger", 1);  // below the threshold: not a candidate
  v1::Sheet high = Pupil("E1", "K2");
  Answer(high, "meals_hunger", 3);
  Answer(high, "school_absence", 3);
  Flag(high, "economic_unpaid_fees");  // 2 + 2 + 2 = 6
  v1::Sheet always = Pupil("E1", "K3");
  Flag(always, "young_carer_siblings");  // 3, but always review
  for (const v1::Sheet& sheet : {low, high, always}) {
    ASSERT_TRUE(Upsert(round, sheet, &response).ok());
  }
  v1::ListCandidatesRequest request;
  request.set_parent(round);
  request.set_school_code("E1");
  v1::ListCandidatesResponse candidates;
  ASSERT_TRUE(
      Stub()->ListCandidates(StaffOf("E1").get(), request, &candidates).ok());
  ASSERT_EQ(candidates.candidates_size(), 2);
  EXPECT_EQ(candidates.candidates(0).pupil_id(), "K3");
  EXPECT_EQ(candidates.candidates(1).pupil_id(), "K2");
  EXPECT_NEAR(candidates.candidates(1).score().total(), 6.0, 1e-9);
  EXPECT_EQ(candidates.candidates(1).score().triggered_size(), 3);
}

// Events on the screening feed about `subject`.
std::vector<events::v1::Event> EventsAbout(
    kosapo::testing::InProcessService& service,
    kosapo::testing::TestTokens& tokens, const std::string& subject) {
  return kosapo::testing::FeedEvents(service, tokens, subject);
}

TEST_F(SheetsTest, MeetingDecisionsPublishExtractionsExactlyOnce) {
  const std::string round = NewRound("meeting");
  v1::UpsertSheetResponse stored;
  v1::Sheet sheet = Pupil("E1", "M1");
  Flag(sheet, "young_carer_siblings");
  ASSERT_TRUE(Upsert(round, sheet, &stored).ok());

  absl::TimeZone tokyo;
  absl::LoadTimeZone("Asia/Tokyo", &tokyo);
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), tokyo);
  v1::RecordMeetingRequest meeting_request;
  meeting_request.set_parent(round);
  meeting_request.set_request_id("meeting-1");
  v1::Meeting* meeting = meeting_request.mutable_meeting();
  meeting->set_school_code("E1");
  meeting->mutable_meeting_date()->set_year(static_cast<int32_t>(today.year()));
  meeting->mutable_meeting_date()->set_month(today.month());
  meeting->mutable_meeting_date()->set_day(today.day());
  v1::Attendee* attendee = meeting->add_attendees();
  attendee->set_role("principal");
  attendee->set_count(1);
  v1::Meeting recorded, again;
  ASSERT_TRUE(
      Stub()
          ->RecordMeeting(StaffOf("E1").get(), meeting_request, &recorded)
          .ok());
  ASSERT_TRUE(
      Stub()->RecordMeeting(StaffOf("E1").get(), meeting_request, &again).ok());
  EXPECT_EQ(again.name(), recorded.name());

  v1::RecordDecisionRequest decide;
  decide.set_meeting(recorded.name());
  decide.set_pupil_id("M1");
  decide.set_outcome(v1::DECISION_OUTCOME_EXTRACT);
  decide.set_reason("きょうだいの世話で欠席が続く");
  v1::RecordDecisionResponse decision;
  ASSERT_TRUE(
      Stub()->RecordDecision(StaffOf("E1").get(), decide, &decision).ok());
  EXPECT_EQ(decision.outcome(), v1::ROW_OUTCOME_ACCEPTED);
  const std::string extraction_id = decision.decision().name();
  ASSERT_TRUE(
      Stub()->RecordDecision(StaffOf("E1").get(), decide, &decision).ok());
  EXPECT_EQ(decision.outcome(), v1::ROW_OUTCOME_UNCHANGED);

  auto events = EventsAbout(*service_, *tokens_, extraction_id);
  ASSERT_EQ(events.size(), 1u);
  v1::PupilExtracted extracted;
  ASSERT_TRUE(events[0].payload().UnpackTo(&extracted));
  EXPECT_EQ(extracted.municipality_code(), kCity);
  EXPECT_EQ(extracted.fiscal_year(), CurrentFiscalYear());
  EXPECT_EQ(extracted.extraction().area_code(), "A1");
  EXPECT_EQ(extracted.extraction().pupil_kana(), "ヤマダ タロウ");
  EXPECT_EQ(extracted.extraction().decision_date().day(), today.day());
  ASSERT_EQ(extracted.extraction().triggered_size(), 1);
  EXPECT_EQ(extracted.extraction().triggered(0).item(), "young_carer_siblings");

  // Corrected away: one withdrawal; back again: a second extraction.
  decide.set_outcome(v1::DECISION_OUTCOME_WATCH_IN_SCHOOL);
  ASSERT_TRUE(
      Stub()->RecordDecision(StaffOf("E1").get(), decide, &decision).ok());
  EXPECT_EQ(decision.decision().revision(), 2);
  events = EventsAbout(*service_, *tokens_, extraction_id);
  ASSERT_EQ(events.size(), 2u);
  v1::ExtractionWithdrawn withdrawn;
  ASSERT_TRUE(events[1].payload().UnpackTo(&withdrawn));
  EXPECT_EQ(withdrawn.outcome(), v1::DECISION_OUTCOME_WATCH_IN_SCHOOL);
  decide.set_outcome(v1::DECISION_OUTCOME_EXTRACT);
  ASSERT_TRUE(
      Stub()->RecordDecision(StaffOf("E1").get(), decide, &decision).ok());
  EXPECT_EQ(EventsAbout(*service_, *tokens_, extraction_id).size(), 3u);

  v1::ListDecisionsRequest list;
  list.set_parent(round);
  list.set_school_code("E1");
  v1::ListDecisionsResponse decisions;
  ASSERT_TRUE(
      Stub()->ListDecisions(StaffOf("E1").get(), list, &decisions).ok());
  ASSERT_EQ(decisions.decisions_size(), 1);
  EXPECT_EQ(decisions.decisions(0).revision(), 3);

  // Only the area's ward staff see extracted pupils.
  v1::ListExtractionsRequest extractions_request;
  extractions_request.set_parent(round);
  extractions_request.set_area_code("A1");
  v1::ListExtractionsResponse extractions;
  auto ssw = As(auth::Role::kSsw);
  auth::Principal ssw_principal;
  ssw_principal.subject = "user:ssw";
  ssw_principal.role = auth::Role::kSsw;
  ssw_principal.municipality = kCity;
  ssw_principal.areas = {"A1"};
  grpc::ClientContext ssw_context;
  ssw_context.AddMetadata("authorization",
                          "Bearer " + tokens_->Sign(ssw_principal));
  ASSERT_TRUE(
      Stub()
          ->ListExtractions(&ssw_context, extractions_request, &extractions)
          .ok());
  ASSERT_EQ(extractions.extractions_size(), 1);
  EXPECT_EQ(extractions.extractions(0).pupil_id(), "M1");
  EXPECT_EQ(Stub()
                ->ListExtractions(ssw.get(), extractions_request, &extractions)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);  // no area in the token
  EXPECT_EQ(Stub()
                ->ListExtractions(StaffOf("E1").get(), extractions_request,
                                  &extractions)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(SheetsTest, DecisionsNeedASheetTheRightSchoolAndAPastDate) {
  const std::string round = NewRound("decision-rules");
  v1::RecordMeetingRequest meeting_request;
  meeting_request.set_parent(round);
  meeting_request.set_request_id("m");
  v1::Meeting* meeting = meeting_request.mutable_meeting();
  meeting->set_school_code("E1");
  meeting->mutable_meeting_date()->set_year(CurrentFiscalYear() + 1);
  meeting->mutable_meeting_date()->set_month(3);
  meeting->mutable_meeting_date()->set_day(31);
  meeting->add_attendees()->set_role("teacher");
  meeting->mutable_attendees(0)->set_count(2);
  v1::Meeting recorded;
  grpc::Status status =
      Stub()->RecordMeeting(StaffOf("E1").get(), meeting_request, &recorded);
  absl::TimeZone tokyo;
  absl::LoadTimeZone("Asia/Tokyo", &tokyo);
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), tokyo);
  if (today < absl::CivilDay(CurrentFiscalYear() + 1, 3, 31)) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("future"));
  }
  meeting->mutable_meeting_date()->set_year(static_cast<int32_t>(today.year()));
  meeting->mutable_meeting_date()->set_month(today.month());
  meeting->mutable_meeting_date()->set_day(today.day());
  ASSERT_TRUE(
      Stub()
          ->RecordMeeting(StaffOf("E1").get(), meeting_request, &recorded)
          .ok());
  EXPECT_EQ(Stub()
                ->RecordMeeting(StaffOf("E2").get(), meeting_request, &recorded)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  v1::RecordDecisionRequest decide;
  decide.set_meeting(recorded.name());
  decide.set_pupil_id("NO-SHEET");
  decide.set_outcome(v1::DECISION_OUTCOME_EXTRACT);
  decide.set_reason("理由");
  v1::RecordDecisionResponse decision;
  status = Stub()->RecordDecision(StaffOf("E1").get(), decide, &decision);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("pupil_id"));
  EXPECT_EQ(Stub()
                ->RecordDecision(StaffOf("E2").get(), decide, &decision)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  decide.set_outcome(v1::DECISION_OUTCOME_UNSPECIFIED);
  status = Stub()->RecordDecision(StaffOf("E1").get(), decide, &decision);
  EXPECT_THAT(status.error_message(), HasSubstr("outcome"));
}

TEST_F(SheetsTest, ProgressCountsSheetsAgainstEnrollment) {
  const std::string round = NewRound("progress");
  v1::ImportEnrollmentRequest enrollment;
  enrollment.set_parent(Parent());
  enrollment.set_fiscal_year(CurrentFiscalYear());
  enrollment.set_csv("school_code,pupils\nE1,120\nE2,80\n");
  v1::ImportEnrollmentResponse loaded;
  ASSERT_TRUE(Stub()->ImportEnrollment(Ops().get(), enrollment, &loaded).ok());
  v1::UpsertSheetResponse stored;
  ASSERT_TRUE(Upsert(round, Pupil("E1", "G1"), &stored).ok());
  ASSERT_TRUE(Upsert(round, Pupil("E1", "G2"), &stored).ok());
  ASSERT_TRUE(Upsert(round, Pupil("E2", "G1"), &stored).ok());
  v1::GetRoundProgressRequest request;
  request.set_name(round);
  v1::RoundProgress progress;
  ASSERT_TRUE(
      Stub()
          ->GetRoundProgress(As(auth::Role::kAnalyst).get(), request, &progress)
          .ok());
  EXPECT_EQ(progress.enrolled(), 200);
  EXPECT_EQ(progress.submitted(), 3);
  ASSERT_EQ(progress.schools_size(), 2);
  EXPECT_EQ(progress.schools(0).progress().code(), "E1");
  EXPECT_EQ(progress.schools(0).progress().submitted(), 2);
  ASSERT_EQ(progress.areas_size(), 1);
  EXPECT_EQ(progress.areas(0).enrolled(), 200);
}

TEST_F(SheetsTest, PupilNamesAndBirthDatesNeverReachTheLogs) {
  const std::string round = NewRound("privacy");
  // Capture this process's stdout, where the service logs.
  kosapo::testing::StdoutCapture capture(SharedPgCluster().data_dir() +
                                         "-privacy.log");
  v1::Sheet sheet = Pupil("E1", "Z-PRIVACY-7F3A");
  sheet.set_pupil_name("秘密 花子");
  sheet.set_pupil_kana("ヒミツ ハナコ");
  sheet.mutable_birth_date()->set_month(11);
  sheet.mutable_birth_date()->set_day(29);
  v1::UpsertSheetResponse stored;
  const bool accepted = Upsert(round, sheet, &stored).ok();
  // Sent again: the intake's COPY of new pupils must not fail on it and
  // put the row in the database server's log.
  const bool unchanged = Upsert(round, sheet, &stored).ok() &&
                         stored.outcome() == v1::ROW_OUTCOME_UNCHANGED;
  sheet.set_pupil_kana("Himitsu");  // rejected, and the error is logged
  const bool rejected = !Upsert(round, sheet, &stored).ok();
  const std::string logged = capture.Finish();
  ASSERT_TRUE(accepted);
  ASSERT_TRUE(unchanged);
  ASSERT_TRUE(rejected);
  EXPECT_THAT(logged, HasSubstr("UpsertSheet"));  // the capture worked
  const std::vector<std::string> secrets = {
      "秘密", "ヒミツ", "Himitsu",
      absl::StrCat(CurrentFiscalYear() - 9, "-11-29")};
  std::ifstream server_log(SharedPgCluster().data_dir() + "/postgres.log");
  ASSERT_TRUE(server_log.good());
  const std::string server_logged(std::istreambuf_iterator<char>(server_log),
                                  {});
  for (const std::string& secret : secrets) {
    EXPECT_THAT(logged, ::testing::Not(HasSubstr(secret))) << secret;
    EXPECT_THAT(server_logged, ::testing::Not(HasSubstr(secret))) << secret;
  }
  // Nor an error naming the pupil (a failed write's DETAIL names its key).
  EXPECT_THAT(server_logged, ::testing::Not(HasSubstr("Z-PRIVACY-7F3A")));
}

}  // namespace
}  // namespace kosapo::screening
