// SQL for pupils' sheets: batched writes (COPY straight into sheets when the
// batch is new, else an upsert through a COPY-fed staging table), history of
// replaced versions, reads for the pupil's school. Every read and write of a
// pupil's sheet is audited in its transaction (audit_store.h).
#ifndef KOSAPO_SERVICES_SCREENING_STORE_SHEET_STORE_H_
#define KOSAPO_SERVICES_SCREENING_STORE_SHEET_STORE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/crypto/field_cipher.h"
#include "common/pg/pool.h"
#include "kosapo/screening/v1/screening.pb.h"
#include "services/screening/domain/scoring.h"
#include "services/screening/domain/template.h"
#include "services/screening/store/audit_store.h"
#include "services/screening/store/registry_store.h"

namespace kosapo::screening {

// What a sheet write needs to know about its round.
struct RoundContext {
  std::string municipality;
  int64_t round_id = 0;
  int fiscal_year = 0;
  Template tmpl;
  std::map<std::string, v1::SchoolKind> schools;
};

// A validated, scored sheet ready to store, with its stored forms computed
// by the caller (AnswersJson, TriggeredJson, SheetFingerprint).
struct SheetWrite {
  v1::Sheet sheet;
  Score score;
  std::string answers_json;
  std::string triggered_json;
  std::string fingerprint;
};

// A page of a school's sheets.
struct SheetPage {
  std::vector<v1::Sheet> sheets;
  bool more = false;  // sheets follow the page
};

// The note is stored sealed with `cipher` (crypto/field_cipher.h), for the
// sheet's place (SheetNoteContext); a note stored before encryption was
// configured reads as it is.
class SheetStore {
 public:
  SheetStore(pg::Pool& pool, const crypto::FieldCipher& cipher)
      : pool_(pool), cipher_(cipher) {}

  // The round, its template and the municipality's schools. NOT_FOUND for
  // an unknown round.
  absl::StatusOr<RoundContext> LoadRound(absl::string_view municipality,
                                         int64_t round_id);

  // Stores a batch (distinct school + pupil ids) in one transaction, with
  // one audit row per school of the batch (filled_by is `who`); for each
  // sheet, ACCEPTED or UNCHANGED. FAILED_PRECONDITION, with nothing stored,
  // when the round is closed, `today` is outside its dates, or the round
  // was erased after its retention period.
  absl::StatusOr<std::vector<v1::RowOutcome>> UpsertBatch(
      const RoundContext& round, const std::vector<SheetWrite>& batch,
      absl::CivilDay today, const Accessor& who);

  // The sheet, read by `who`; an erased one without its personal fields and
  // with erase_time.
  absl::StatusOr<v1::Sheet> Get(const RoundContext& round,
                                absl::string_view school_code,
                                absl::string_view pupil_id,
                                const Accessor& who);
  // At most `limit` sheets of a school after `after_pupil_id`, by pupil id,
  // read by `who`.
  absl::StatusOr<SheetPage> List(const RoundContext& round,
                                 absl::string_view school_code,
                                 absl::string_view after_pupil_id, int limit,
                                 const Accessor& who);
  // Sheets against enrollment per school and area.
  absl::StatusOr<v1::RoundProgress> Progress(const RoundContext& round);

  // The school's candidate sheets (pupil id, grade, score), read by `who`.
  absl::StatusOr<std::vector<v1::Sheet>> Candidates(
      const RoundContext& round, absl::string_view school_code,
      const Accessor& who);

 private:
  pg::Pool& pool_;
  const crypto::FieldCipher& cipher_;
};

std::string SheetName(absl::string_view municipality, int64_t round_id,
                      absl::string_view school_code,
                      absl::string_view pupil_id);

// The associated data of a sheet's sealed note: the column and the sheet
// (round, school, pupil), so a note copied to another pupil does not open.
// sheet_history keeps the sealed value of the version it holds, which opens
// with the same context.
std::string SheetNoteContext(absl::string_view municipality, int64_t round_id,
                             absl::string_view school_code,
                             absl::string_view pupil_id);

}  // namespace kosapo::screening

#endif  // KOSAPO_SERVICES_SCREENING_STORE_SHEET_STORE_H_
