// SQL for pupils' sheets: intakes in one transaction each (SheetImport;
// COPY straight into sheets when a batch is new, else an upsert through a
// COPY-fed staging table), history of replaced versions, reads for the
// pupil's school. Every read and write of a pupil's sheet is audited in its
// transaction (audit_store.h).
#ifndef KOSAPO_SERVICES_SCREENING_STORE_SHEET_STORE_H_
#define KOSAPO_SERVICES_SCREENING_STORE_SHEET_STORE_H_

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <pqxx/transaction>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
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

class SheetStore;

// One intake of sheets (a stream, a CSV file, a single upsert): one
// transaction on a connection held for the intake, as COPY holds one for its
// stream. Write stores each batch as it comes; Commit makes them all
// visible at once. An intake cut short (a corrupt message, a cancelled call,
// either side crashing) is rolled back: nothing of it is stored. The
// transaction holds a share lock on the round (CloseRound waits for the
// intake) and a lock on each sheet written; a client that sends nothing for
// the store's intake idle timeout loses the transaction (UNAVAILABLE,
// nothing stored). Used by one thread at a time.
class SheetImport {
 public:
  // Rolls back what was not committed and hands the connection back.
  ~SheetImport();
  SheetImport(const SheetImport&) = delete;
  SheetImport& operator=(const SheetImport&) = delete;

  // Writes a batch (school + pupil ids distinct from every other batch of
  // the intake): new sheets are inserted, a changed one replaces the stored
  // one (whose version the history keeps), an equal one is left alone. For
  // each sheet ACCEPTED or UNCHANGED, once committed. After an error the
  // intake can only be abandoned.
  absl::StatusOr<std::vector<v1::RowOutcome>> Write(
      const std::vector<SheetWrite>& batch);

  // Audits every sheet written as written by the intake's caller (one audit
  // row per school, holding its pupils in the order written), then commits.
  // A lost connection during the commit is UNAVAILABLE with the outcome
  // unknown (a retry comes back UNCHANGED for what was stored). Call once.
  absl::Status Commit();

 private:
  friend class SheetStore;
  SheetImport(SheetStore& store, const RoundContext& round, Accessor who,
              pg::Pool::Lease lease);
  // The status of a failed statement; marks the connection broken when it
  // was lost.
  absl::Status Failed(const std::exception& error);
  // Whether the client has sent nothing for the idle timeout, so that the
  // server has ended the session; the error that says so (and drops the
  // transaction).
  bool TimedOut() const;
  absl::Status TimedOutError();
  // Whether every school of `batch` had no sheet in the round when this
  // intake first wrote a batch of it: then the batch's pupils are new (the
  // intake's pupils are distinct), unless another writer stored one since.
  bool FromNewSchools(pqxx::work& tx, const std::vector<SheetWrite>& batch);

  SheetStore& store_;
  const RoundContext& round_;
  const Accessor who_;
  pg::Pool::Lease lease_;
  std::unique_ptr<pqxx::work> tx_;
  // Schools of the intake without (new) and with (old) sheets in the round
  // when the intake first wrote to them.
  std::set<std::string> new_schools_;
  std::set<std::string> old_schools_;
  std::vector<PupilKey> written_;  // every pupil of the batches written
  absl::Time last_statement_;      // when the intake last used the connection
  bool broken_ = false;            // the connection was lost: discard it
};

// The note is stored sealed with `cipher` (crypto/field_cipher.h), for the
// sheet's place (SheetNoteContext); a note stored before encryption was
// configured reads as it is.
class SheetStore {
 public:
  // An intake that sends nothing for `intake_idle_timeout` is ended.
  SheetStore(pg::Pool& pool, const crypto::FieldCipher& cipher,
             absl::Duration intake_idle_timeout = absl::Seconds(60))
      : pool_(pool),
        cipher_(cipher),
        intake_idle_timeout_(intake_idle_timeout) {}

  // The round, its template and the municipality's schools. NOT_FOUND for
  // an unknown round.
  absl::StatusOr<RoundContext> LoadRound(absl::string_view municipality,
                                         int64_t round_id);

  // Starts an intake of sheets into `round` by `who` (SheetImport):
  // FAILED_PRECONDITION
  // when the round is closed, `today` is outside its dates, or the round was
  // erased after its retention period. Waits while as many intakes run as
  // half the pool's connections (RESOURCE_EXHAUSTED after a minute), so
  // that unary calls keep connections of their own.
  absl::StatusOr<std::unique_ptr<SheetImport>> BeginImport(
      const RoundContext& round, const Accessor& who, absl::CivilDay today);

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
  friend class SheetImport;
  void EndImport();

  pg::Pool& pool_;
  const crypto::FieldCipher& cipher_;
  const absl::Duration intake_idle_timeout_;
  std::mutex imports_mutex_;
  std::condition_variable import_ended_;
  int imports_running_ = 0;  // guarded by imports_mutex_
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
