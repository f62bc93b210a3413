// The referrals' SQL: the referral row, its steps and consents, events.
#include "services/referral/store/referral_store.h"

#include <map>
#include <pqxx/result>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/proto_time.h"
#include "common/base/status.h"
#include "common/crypto/proto_fields.h"
#include "common/events/outbox.h"
#include "common/pg/transaction.h"
#include "common/types/api_types.h"
#include "kosapo/referral/v1/events.pb.h"
#include "services/referral/domain/enum_text.h"
#include "services/referral/domain/fields.h"
#include "services/referral/domain/referral_rules.h"

namespace kosapo::referral {
namespace {

// A referral as loaded in a transaction, with what its rules depend on.
struct ReferralRecord {
  int64_t id = 0;
  int64_t revision = 0;
  v1::Referral proto;
  ReferralFacts facts;
};

constexpr char kReferralColumns[] =
    "id, municipality, case_name, area_code, support_id, organization_id,"
    " category, state, proposed_date::text AS proposed_date, purpose,"
    " coalesce(answer_due_date::text, '') AS answer_due_date, referred_by,"
    " revision,"
    " (extract(epoch FROM create_time) * 1000000)::bigint AS create_us,"
    " (extract(epoch FROM update_time) * 1000000)::bigint AS update_us";

// Step reasons and notes and consent notes are sealed for their referral;
// the purpose for the referral's case, as it is written before the referral
// has an id.
std::string StepOwner(int64_t referral_id) {
  return ResourceName(kReferrals, referral_id);
}

// Throws pg::StatusError when the purpose does not open.
ReferralRecord RecordFromRow(const pqxx::row& row,
                             const crypto::FieldCipher& cipher) {
  ReferralRecord record;
  record.id = row["id"].as<int64_t>();
  record.revision = row["revision"].as<int64_t>();
  v1::Referral& r = record.proto;
  r.set_name(ResourceName(kReferrals, record.id));
  r.set_municipality_code(row["municipality"].as<std::string>());
  r.set_case_(row["case_name"].as<std::string>());
  r.set_area_code(row["area_code"].as<std::string>());
  r.set_support(ResourceName(kSupports, row["support_id"].as<int64_t>()));
  r.set_organization(
      ResourceName(kOrganizations, row["organization_id"].as<int64_t>()));
  r.set_category(
      EnumFromText<v1::SupportCategory>(row["category"].as<std::string>()));
  r.set_state(EnumFromText<v1::ReferralState>(row["state"].as<std::string>()));
  *r.mutable_proposed_date() =
      DateFromSql(row["proposed_date"].as<std::string>());
  r.set_purpose(OpenOrThrow(cipher, row["purpose"].as<std::string>(),
                            "referral.referrals.purpose", r.case_()));
  const std::string due = row["answer_due_date"].as<std::string>();
  if (!due.empty()) {
    *r.mutable_answer_due_date() = DateFromSql(due);
  }
  r.set_referred_by(row["referred_by"].as<std::string>());
  r.set_etag(absl::StrCat(record.revision));
  SetTimestampMicros(row["create_us"].as<int64_t>(), r.mutable_create_time());
  SetTimestampMicros(row["update_us"].as<int64_t>(), r.mutable_update_time());
  record.facts.name = r.name();
  record.facts.state = r.state();
  record.facts.last_step = DayFromSql(row["proposed_date"].as<std::string>());
  return record;
}

// Fills in the steps and the latest consent of each record.
// Throws pg::StatusError when a reason or note does not open.
void LoadHistories(pqxx::work& tx, std::vector<ReferralRecord>& records,
                   const crypto::FieldCipher& cipher) {
  if (records.empty()) {
    return;
  }
  std::map<int64_t, ReferralRecord*> by_id;
  for (ReferralRecord& record : records) {
    by_id[record.id] = &record;
  }
  const std::string ids =
      absl::StrCat("{",
                   absl::StrJoin(by_id, ",",
                                 [](std::string* out, const auto& entry) {
                                   absl::StrAppend(out, entry.first);
                                 }),
                   "}");
  for (const pqxx::row& row : tx.exec_params(
           "SELECT referral_id, state, effective_date::text, reason, note,"
           " recorded_by, recorded_by_role,"
           " (extract(epoch FROM record_time) * 1000000)::bigint"
           " FROM referral_steps WHERE referral_id = ANY($1::bigint[])"
           " ORDER BY referral_id, effective_date, record_time, id",
           ids)) {
    ReferralRecord& record = *by_id.at(row[0].as<int64_t>());
    v1::ReferralStep* step = record.proto.add_steps();
    step->set_state(EnumFromText<v1::ReferralState>(row[1].as<std::string>()));
    *step->mutable_effective_date() = DateFromSql(row[2].as<std::string>());
    step->set_reason(OpenOrThrow(cipher, row[3].as<std::string>(),
                                 "referral.referral_steps.reason",
                                 StepOwner(record.id)));
    step->set_note(OpenOrThrow(cipher, row[4].as<std::string>(),
                               "referral.referral_steps.note",
                               StepOwner(record.id)));
    step->set_recorded_by(row[5].as<std::string>());
    step->set_recorded_by_role(row[6].as<std::string>());
    SetTimestampMicros(row[7].as<int64_t>(), step->mutable_record_time());
    record.facts.last_step = DayFromSql(row[2].as<std::string>());
  }
  for (const pqxx::row& row : tx.exec_params(
           "SELECT DISTINCT ON (referral_id) referral_id, basis,"
           " given_date::text, note, recorded_by,"
           " (extract(epoch FROM record_time) * 1000000)::bigint"
           " FROM referral_consents WHERE referral_id = ANY($1::bigint[])"
           " ORDER BY referral_id, id DESC",
           ids)) {
    ReferralRecord& record = *by_id.at(row[0].as<int64_t>());
    v1::SharingConsent* consent = record.proto.mutable_consent();
    consent->set_basis(
        EnumFromText<v1::SharingBasis>(row[1].as<std::string>()));
    *consent->mutable_given_date() = DateFromSql(row[2].as<std::string>());
    consent->set_note(OpenOrThrow(cipher, row[3].as<std::string>(),
                                  "referral.referral_consents.note",
                                  StepOwner(record.id)));
    consent->set_recorded_by(row[4].as<std::string>());
    SetTimestampMicros(row[5].as<int64_t>(), consent->mutable_record_time());
    record.facts.has_consent = true;
  }
}

absl::StatusOr<ReferralRecord> Load(pqxx::work& tx, int64_t id, bool lock,
                                    const crypto::FieldCipher& cipher) {
  const pqxx::result rows = tx.exec_params(
      absl::StrCat("SELECT ", kReferralColumns, " FROM referrals WHERE id = $1",
                   lock ? " FOR UPDATE" : ""),
      id);
  if (rows.empty()) {
    return absl::NotFoundError(
        absl::StrCat(ResourceName(kReferrals, id), " not found"));
  }
  std::vector<ReferralRecord> records = {RecordFromRow(rows[0], cipher)};
  LoadHistories(tx, records, cipher);
  return std::move(records.front());
}

// Runs a write on referrals/{id} in one transaction: load and lock it,
// answer a retried request with the referral as it is, check the etag, act,
// audit. `fn` returns the referral after the write.
absl::StatusOr<v1::Referral> WithReferral(
    pg::Pool& pool, const crypto::FieldCipher& cipher,
    absl::string_view operation, int64_t id, const std::string& request_id,
    const std::string& etag, const Caller& caller,
    const std::function<absl::Status(pqxx::work&, const ReferralRecord&)>& fn) {
  return pg::InTransaction(
      pool, operation, [&](pqxx::work& tx) -> absl::StatusOr<v1::Referral> {
        KOSAPO_ASSIGN_OR_RETURN(const ReferralRecord record,
                                Load(tx, id, true, cipher));
        KOSAPO_ASSIGN_OR_RETURN(
            const bool first,
            FirstWrite(tx, record.proto.name(), request_id, caller.method));
        if (!first) {
          return record.proto;
        }
        KOSAPO_RETURN_IF_ERROR(
            CheckEtag(record.proto.name(), record.revision, etag));
        tx.exec_params0(
            "UPDATE referrals SET revision = revision + 1,"
            " update_time = now() WHERE id = $1",
            id);
        Audit(tx, {record.proto.name()}, caller, "write");
        // Last: its event holds the feed's sequence lock until commit.
        KOSAPO_RETURN_IF_ERROR(fn(tx, record));
        KOSAPO_ASSIGN_OR_RETURN(const ReferralRecord updated,
                                Load(tx, id, false, cipher));
        return updated.proto;
      });
}

// Appends a step and returns its record time (microseconds).
absl::StatusOr<int64_t> InsertStep(pqxx::work& tx, int64_t id,
                                   v1::ReferralState state,
                                   absl::CivilDay effective,
                                   const std::string& reason,
                                   const std::string& note,
                                   const Caller& caller,
                                   const crypto::FieldCipher& cipher) {
  KOSAPO_ASSIGN_OR_RETURN(
      const std::string sealed_reason,
      cipher.Seal(reason, crypto::FieldContext("referral.referral_steps.reason",
                                               StepOwner(id))));
  KOSAPO_ASSIGN_OR_RETURN(
      const std::string sealed_note,
      cipher.Seal(note, crypto::FieldContext("referral.referral_steps.note",
                                             StepOwner(id))));
  return tx
      .exec_params1(
          "INSERT INTO referral_steps (referral_id, state, effective_date,"
          " reason, note, recorded_by, recorded_by_role)"
          " VALUES ($1, $2, $3::date, $4, $5, $6, $7)"
          " RETURNING (extract(epoch FROM record_time) * 1000000)::bigint",
          id, ToText(state), DayToSql(effective), sealed_reason, sealed_note,
          caller.subject, caller.role)[0]
      .as<int64_t>();
}

}  // namespace

absl::StatusOr<v1::Referral> ReferralStore::Create(
    const std::string& municipality, const v1::Referral& input,
    const std::string& area_code, bool case_open, const Caller& caller) {
  const int64_t support_id = *ParseResourceName(input.support(), kSupports, "");
  return pg::InTransaction(
      pool_, "create referral",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::Referral> {
        const pqxx::result replay = tx.exec_params(
            "SELECT id FROM referrals WHERE municipality = $1"
            " AND create_request_id = $2",
            municipality, caller.request_id);
        if (!replay.empty()) {
          KOSAPO_ASSIGN_OR_RETURN(
              const ReferralRecord record,
              Load(tx, replay[0][0].as<int64_t>(), false, cipher_));
          return record.proto;
        }
        // After the replay: a retry answers as first even when the case
        // has closed since.
        if (!case_open) {
          return absl::FailedPreconditionError(absl::StrCat(
              input.case_(), " is not open: reopen it before referring"));
        }
        const pqxx::result support = tx.exec_params(
            "SELECT organization_id, category FROM supports"
            " WHERE id = $1 AND municipality = $2",
            support_id, municipality);
        if (support.empty()) {
          return absl::NotFoundError(absl::StrCat(
              "referral.support: ", input.support(), " not found"));
        }
        const pqxx::result open = tx.exec_params(
            "SELECT id, state FROM referrals WHERE case_name = $1"
            " AND support_id = $2"
            " AND state IN ('proposed', 'sent', 'accepted', 'connected')",
            input.case_(), support_id);
        if (!open.empty()) {
          return absl::AlreadyExistsError(absl::StrCat(
              ResourceName(kReferrals, open[0][0].as<int64_t>()),
              " already refers ", input.case_(), " to ", input.support(),
              " and is ", open[0][1].as<std::string>()));
        }
        const std::string proposed = DateToSql(input.proposed_date());
        KOSAPO_ASSIGN_OR_RETURN(
            const std::string purpose,
            cipher_.Seal(input.purpose(),
                         crypto::FieldContext("referral.referrals.purpose",
                                              input.case_())));
        const int64_t id =
            tx.exec_params1(
                  "INSERT INTO referrals (municipality, case_name, area_code,"
                  " support_id, organization_id, category, state,"
                  " proposed_date, purpose, referred_by, create_request_id)"
                  " VALUES ($1, $2, $3, $4, $5, $6, 'proposed', $7::date, $8,"
                  " $9, $10) RETURNING id",
                  municipality, input.case_(), area_code, support_id,
                  support[0][0].as<int64_t>(), support[0][1].as<std::string>(),
                  proposed, purpose, caller.subject, caller.request_id)[0]
                .as<int64_t>();
        KOSAPO_RETURN_IF_ERROR(InsertStep(tx, id, v1::REFERRAL_STATE_PROPOSED,
                                          DayFromSql(proposed), "", "", caller,
                                          cipher_)
                                   .status());
        KOSAPO_ASSIGN_OR_RETURN(const ReferralRecord record,
                                Load(tx, id, false, cipher_));
        Audit(tx, {record.proto.name()}, caller, "write");
        const v1::Referral& r = record.proto;
        v1::ReferralProposed event;
        event.set_referral(r.name());
        event.set_case_(r.case_());
        event.set_municipality_code(r.municipality_code());
        event.set_area_code(r.area_code());
        event.set_support(r.support());
        event.set_organization(r.organization());
        event.set_category(r.category());
        *event.mutable_proposed_date() = r.proposed_date();
        events::AppendEvent(tx, r.name(), event, caller.trace_id);
        return r;
      });
}

absl::StatusOr<ReferralScope> ReferralStore::ScopeOf(int64_t id) {
  return pg::InTransaction(
      pool_, "read referral scope",
      [&](pqxx::work& tx) -> absl::StatusOr<ReferralScope> {
        const pqxx::result rows = tx.exec_params(
            "SELECT municipality, case_name FROM referrals WHERE id = $1", id);
        if (rows.empty()) {
          return absl::NotFoundError(
              absl::StrCat(ResourceName(kReferrals, id), " not found"));
        }
        return ReferralScope{rows[0][0].as<std::string>(),
                             rows[0][1].as<std::string>()};
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<v1::Referral> ReferralStore::Get(int64_t id,
                                                const Caller& caller) {
  return pg::InTransaction(pool_, "get referral",
                           [&](pqxx::work& tx) -> absl::StatusOr<v1::Referral> {
                             KOSAPO_ASSIGN_OR_RETURN(
                                 const ReferralRecord record,
                                 Load(tx, id, false, cipher_));
                             Audit(tx, {record.proto.name()}, caller, "read");
                             return record.proto;
                           });
}

absl::StatusOr<v1::Referral> ReferralStore::RecordConsent(
    int64_t id, const v1::RecordReferralConsentRequest& request,
    absl::CivilDay today, const Caller& caller) {
  return WithReferral(
      pool_, cipher_, "record referral consent", id, request.request_id(),
      request.etag(), caller,
      [&](pqxx::work& tx, const ReferralRecord& record) -> absl::Status {
        const v1::SharingConsent& consent = request.consent();
        KOSAPO_RETURN_IF_ERROR(
            CheckConsent(record.facts.state, consent, today));
        KOSAPO_ASSIGN_OR_RETURN(
            const std::string note,
            cipher_.Seal(consent.note(),
                         crypto::FieldContext("referral.referral_consents.note",
                                              StepOwner(id))));
        tx.exec_params0(
            "INSERT INTO referral_consents (referral_id, basis, given_date,"
            " note, recorded_by) VALUES ($1, $2, $3::date, $4, $5)",
            id, ToText(consent.basis()), DateToSql(consent.given_date()), note,
            caller.subject);
        v1::ReferralConsentRecorded event;
        event.set_referral(record.proto.name());
        event.set_case_(record.proto.case_());
        event.set_basis(consent.basis());
        *event.mutable_given_date() = consent.given_date();
        events::AppendEvent(tx, record.proto.name(), event, caller.trace_id);
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::Referral> ReferralStore::ChangeState(
    int64_t id, const v1::ChangeReferralStateRequest& request,
    absl::CivilDay today, int answer_days, const Caller& caller) {
  return WithReferral(
      pool_, cipher_, "change referral state", id, request.request_id(),
      request.etag(), caller,
      [&](pqxx::work& tx, const ReferralRecord& record) -> absl::Status {
        KOSAPO_ASSIGN_OR_RETURN(
            const StateChange change,
            CheckStateChange(record.facts, request, today, answer_days));
        const v1::ReferralState target = request.state();
        KOSAPO_ASSIGN_OR_RETURN(
            const int64_t record_us,
            InsertStep(tx, id, target, change.effective, request.reason(),
                       request.note(), caller, cipher_));
        const bool sent = target == v1::REFERRAL_STATE_SENT;
        tx.exec_params0(
            "UPDATE referrals SET state = $2,"
            " sent_date = CASE WHEN $3 THEN $4::date ELSE sent_date END,"
            " answer_due_date = CASE WHEN $3 THEN $5::date"
            "                   ELSE answer_due_date END"
            " WHERE id = $1",
            id, ToText(target), sent, DayToSql(change.effective),
            DayToSql(change.answer_due));
        const v1::Referral& r = record.proto;
        if (target == v1::REFERRAL_STATE_CONNECTED) {
          v1::ReferralConnected event;
          event.set_referral(r.name());
          event.set_case_(r.case_());
          event.set_municipality_code(r.municipality_code());
          event.set_area_code(r.area_code());
          event.set_support(r.support());
          event.set_organization(r.organization());
          event.set_category(r.category());
          *event.mutable_effective_date() = DateToProto(change.effective);
          SetTimestampMicros(record_us, event.mutable_record_time());
          events::AppendEvent(tx, r.name(), event, caller.trace_id);
          return absl::OkStatus();
        }
        v1::ReferralStateChanged event;
        event.set_referral(r.name());
        event.set_case_(r.case_());
        event.set_municipality_code(r.municipality_code());
        event.set_area_code(r.area_code());
        event.set_previous_state(r.state());
        event.set_state(target);
        *event.mutable_effective_date() = DateToProto(change.effective);
        if (sent) {
          *event.mutable_answer_due_date() = DateToProto(change.answer_due);
        }
        SetTimestampMicros(record_us, event.mutable_record_time());
        events::AppendEvent(tx, r.name(), event, caller.trace_id);
        return absl::OkStatus();
      });
}

absl::StatusOr<v1::Referral> ReferralStore::Revoke(
    int64_t id, const v1::RevokeReferralRequest& request, absl::CivilDay today,
    const Caller& caller) {
  return WithReferral(
      pool_, cipher_, "revoke referral", id, request.request_id(),
      request.etag(), caller,
      [&](pqxx::work& tx, const ReferralRecord& record) -> absl::Status {
        KOSAPO_RETURN_IF_ERROR(CheckRevoke(record.facts, request.reason()));
        KOSAPO_ASSIGN_OR_RETURN(
            const int64_t record_us,
            InsertStep(tx, id, v1::REFERRAL_STATE_REVOKED, today,
                       request.reason(), "", caller, cipher_));
        tx.exec_params0("UPDATE referrals SET state = 'revoked' WHERE id = $1",
                        id);
        const v1::Referral& r = record.proto;
        v1::ReferralRevoked event;
        event.set_referral(r.name());
        event.set_case_(r.case_());
        event.set_municipality_code(r.municipality_code());
        event.set_area_code(r.area_code());
        event.set_previous_state(r.state());
        *event.mutable_effective_date() = DateToProto(today);
        SetTimestampMicros(record_us, event.mutable_record_time());
        events::AppendEvent(tx, r.name(), event, caller.trace_id);
        return absl::OkStatus();
      });
}

absl::StatusOr<std::vector<v1::Referral>> ReferralStore::List(
    const ReferralFilter& filter, const Caller& caller) {
  return pg::InTransaction(
      pool_, "list referrals",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<v1::Referral>> {
        std::vector<ReferralRecord> records;
        for (const pqxx::row& row : tx.exec_params(
                 absl::StrCat("SELECT ", kReferralColumns,
                              " FROM referrals WHERE municipality = $1 AND ",
                              CreatedAfterSql("", 7, 2),
                              "   AND (CASE WHEN $3 = '' THEN referred_by = $4"
                              "             ELSE case_name = $3 END)"
                              "   AND ($5 = '' OR state = $5)"
                              " ORDER BY create_time, id LIMIT $6 + 1"),
                 filter.municipality, filter.after.id, filter.case_name,
                 filter.referred_by, ToText(filter.state), filter.limit,
                 filter.after.create_us)) {
          records.push_back(RecordFromRow(row, cipher_));
        }
        LoadHistories(tx, records, cipher_);
        std::vector<v1::Referral> out;
        std::vector<std::string> shown;
        for (ReferralRecord& record : records) {
          if (static_cast<int>(shown.size()) < filter.limit) {
            shown.push_back(record.proto.name());
          }
          out.push_back(std::move(record.proto));
        }
        Audit(tx, shown, caller, "read");
        return out;
      });
}

absl::StatusOr<std::vector<v1::OverdueReferral>> ReferralStore::ListOverdue(
    const OverdueFilter& filter) {
  return pg::InTransaction(
      pool_, "list overdue referrals",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<v1::OverdueReferral>> {
        std::vector<v1::OverdueReferral> out;
        for (const pqxx::row& row : tx.exec_params(
                 "SELECT id, case_name, area_code, support_id, category,"
                 " referred_by, sent_date::text, answer_due_date::text,"
                 " ($2::date - answer_due_date) AS days_overdue"
                 " FROM referrals WHERE municipality = $1 AND state = 'sent'"
                 "   AND answer_due_date < $2::date"
                 "   AND (referred_by = $3 OR area_code = ANY($4::text[]))"
                 "   AND (answer_due_date, id) > ($5::date, $6)"
                 " ORDER BY answer_due_date, id LIMIT $7 + 1",
                 filter.municipality, DayToSql(filter.today),
                 filter.referred_by, TextArray(filter.areas),
                 DayToSql(filter.after_due), filter.after_id, filter.limit)) {
          v1::OverdueReferral overdue;
          overdue.set_referral(ResourceName(kReferrals, row[0].as<int64_t>()));
          overdue.set_case_(row[1].as<std::string>());
          overdue.set_area_code(row[2].as<std::string>());
          overdue.set_support(ResourceName(kSupports, row[3].as<int64_t>()));
          overdue.set_category(
              EnumFromText<v1::SupportCategory>(row[4].as<std::string>()));
          overdue.set_referred_by(row[5].as<std::string>());
          *overdue.mutable_sent_date() = DateFromSql(row[6].as<std::string>());
          *overdue.mutable_answer_due_date() =
              DateFromSql(row[7].as<std::string>());
          overdue.set_days_overdue(row[8].as<int>());
          out.push_back(std::move(overdue));
        }
        return out;
      },
      pg::TxOptions::ReadOnly());
}

}  // namespace kosapo::referral
