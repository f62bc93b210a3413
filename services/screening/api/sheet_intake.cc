#include "services/screening/api/sheet_intake.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "services/screening/api/call_checks.h"
#include "services/screening/domain/scoring.h"
#include "services/screening/domain/sheet_rules.h"

namespace kosapo::screening {
namespace {

SheetWrite PrepareWrite(v1::Sheet sheet, const Template& tmpl) {
  SheetWrite write;
  write.score = ComputeScore(tmpl, AnswersOf(sheet, tmpl));
  write.answers_json = AnswersJson(sheet);
  write.triggered_json = TriggeredJson(write.score);
  write.fingerprint = SheetFingerprint(sheet);
  write.sheet = std::move(sheet);
  return write;
}

}  // namespace

SheetIntake::SheetIntake(SheetStore& store, const RoundContext& round,
                         const server::CallContext& call, Accessor who,
                         absl::CivilDay today)
    : store_(store),
      round_(round),
      call_(call),
      today_(today),
      who_(std::move(who)) {
  pending_.reserve(kBatchSize);
  pending_results_.reserve(kBatchSize);
}

SheetIntake::~SheetIntake() {
  if (written_.valid()) {
    written_.wait();
  }
}

void SheetIntake::Reject(v1::SheetRowResult result) {
  result.set_outcome(v1::ROW_OUTCOME_REJECTED);
  results_.push_back(std::move(result));
}

absl::Status SheetIntake::Add(int64_t line, v1::Sheet sheet) {
  v1::SheetRowResult result;
  result.set_line(line);
  auto reject = [&](absl::string_view field, absl::string_view message) {
    result.set_field(std::string(field));
    result.set_message(std::string(message));
    Reject(std::move(result));
    return absl::OkStatus();
  };
  auto school = round_.schools.find(sheet.school_code());
  if (school == round_.schools.end()) {
    return reject("sheet.school_code", "not a registered school");
  }
  if (absl::Status scope = RequireSchoolStaff(call_, sheet.school_code());
      !scope.ok()) {
    return reject("sheet.school_code", scope.message());
  }
  if (auto error =
          CheckSheet(sheet, round_.tmpl, school->second, round_.fiscal_year)) {
    return reject(error->field, error->message);
  }
  auto key = std::make_pair(sheet.school_code(), sheet.pupil_id());
  if (auto it = seen_.find(key); it != seen_.end()) {
    return reject("sheet.pupil_id",
                  absl::StrCat("given twice in this import (first at line ",
                               it->second, ")"));
  }
  seen_.emplace(std::move(key), line);
  pending_.push_back(PrepareWrite(std::move(sheet), round_.tmpl));
  pending_results_.push_back(results_.size());
  results_.push_back(std::move(result));
  if (pending_.size() >= kBatchSize) {
    return Flush();
  }
  return absl::OkStatus();
}

absl::Status SheetIntake::Flush() {
  if (pending_.empty()) {
    return absl::OkStatus();
  }
  KOSAPO_RETURN_IF_ERROR(Collect());
  if (import_ == nullptr) {
    KOSAPO_ASSIGN_OR_RETURN(import_, store_.BeginImport(round_, who_, today_));
  }
  std::swap(writing_, pending_);
  std::swap(writing_results_, pending_results_);
  pending_.clear();
  pending_results_.clear();
  written_ = std::async(std::launch::async, [this]() -> Outcomes {
    return import_->Write(writing_);
  });
  return absl::OkStatus();
}

absl::Status SheetIntake::Collect() {
  if (!written_.valid()) {
    return absl::OkStatus();
  }
  Outcomes outcomes = written_.get();
  if (!outcomes.ok()) {
    return outcomes.status();
  }
  for (size_t i = 0; i < outcomes->size(); ++i) {
    results_[writing_results_[i]].set_outcome((*outcomes)[i]);
  }
  return absl::OkStatus();
}

absl::Status SheetIntake::Finish() {
  KOSAPO_RETURN_IF_ERROR(Flush());
  KOSAPO_RETURN_IF_ERROR(Collect());
  if (import_ == nullptr) {
    return absl::OkStatus();  // every row was rejected
  }
  const absl::Status committed = import_->Commit();
  import_.reset();  // hands the connection back
  return committed;
}

v1::ImportSheetsResponse SheetIntake::Response() {
  v1::ImportSheetsResponse response;
  const auto by_line = [](const v1::SheetRowResult& a,
                          const v1::SheetRowResult& b) {
    return a.line() < b.line();
  };
  // A stream's rows come in line order; CSV rejects come first.
  if (!std::is_sorted(results_.begin(), results_.end(), by_line)) {
    std::stable_sort(results_.begin(), results_.end(), by_line);
  }
  response.mutable_rows()->Reserve(static_cast<int>(results_.size()));
  for (v1::SheetRowResult& row : results_) {
    switch (row.outcome()) {
      case v1::ROW_OUTCOME_ACCEPTED:
        response.set_accepted(response.accepted() + 1);
        break;
      case v1::ROW_OUTCOME_UNCHANGED:
        response.set_unchanged(response.unchanged() + 1);
        break;
      default:
        response.set_rejected(response.rejected() + 1);
        break;
    }
    *response.add_rows() = std::move(row);
  }
  return response;
}

}  // namespace kosapo::screening
