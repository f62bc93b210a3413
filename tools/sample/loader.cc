#include "tools/sample/loader.h"

#include <grpcpp/client_context.h>

#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/types/api_types.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "kosapo/referral/v1/referral.grpc.pb.h"
#include "kosapo/screening/v1/screening.grpc.pb.h"

namespace kosapo::sample {
namespace {

namespace cv1 = ::kosapo::cases::v1;
namespace rv1 = ::kosapo::referral::v1;
namespace sv1 = ::kosapo::screening::v1;

// Turns a failed call into a status naming what was being loaded.
absl::Status Check(const grpc::Status& status, const std::string& what) {
  if (status.ok()) {
    return absl::OkStatus();
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(what, ": ", status.error_message()));
}

class Loader {
 public:
  Loader(const SampleCity& city, const LoadTargets& targets,
         LoadProgress* progress)
      : city_(city),
        targets_(targets),
        progress_(progress),
        parent_(absl::StrCat("municipalities/", city.municipality)) {}

  absl::Status Run() {
    if (absl::Status s = LoadRegistry(); !s.ok()) {
      return s;
    }
    if (absl::Status s = LoadEnrollment(); !s.ok()) {
      return s;
    }
    bool connections = false;
    for (const SampleCase& c : city_.cases) {
      connections = connections || c.connected.has_value();
    }
    if (connections) {
      if (targets_.referral == nullptr) {
        return absl::FailedPreconditionError(
            "the city has connected cases: a referral service is needed");
      }
      if (absl::Status s = LoadDirectory(); !s.ok()) {
        return s;
      }
    }
    return LoadCases();
  }

 private:
  std::unique_ptr<grpc::ClientContext> As(auth::Role role) const {
    auth::Principal principal;
    principal.subject =
        absl::StrCat("sample-loader:", std::string(auth::RoleName(role)));
    principal.role = role;
    principal.municipality = city_.municipality;
    for (const SampleArea& area : city_.areas) {
      principal.areas.push_back(area.code);
    }
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization",
                         absl::StrCat("Bearer ", targets_.sign(principal)));
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(60));
    return context;
  }

  absl::Status LoadRegistry() {
    auto stub = sv1::ScreeningService::NewStub(targets_.screening);
    sv1::UpsertMunicipalityRequest municipality;
    municipality.mutable_municipality()->set_code(city_.municipality);
    municipality.mutable_municipality()->set_display_name("見本市");
    sv1::Municipality m;
    if (absl::Status s =
            Check(stub->UpsertMunicipality(
                      As(auth::Role::kCityOperations).get(), municipality, &m),
                  "municipality");
        !s.ok()) {
      return s;
    }
    for (const SampleArea& area : city_.areas) {
      sv1::UpsertAreaRequest request;
      request.set_parent(parent_);
      request.mutable_area()->set_code(area.code);
      request.mutable_area()->set_display_name(area.name);
      request.mutable_area()->set_display_order(area.display_order);
      sv1::Area out;
      if (absl::Status s =
              Check(stub->UpsertArea(As(auth::Role::kCityOperations).get(),
                                     request, &out),
                    absl::StrCat("area ", area.code));
          !s.ok()) {
        return s;
      }
    }
    for (const SampleSchool& school : city_.schools) {
      sv1::UpsertSchoolRequest request;
      request.set_parent(parent_);
      request.mutable_school()->set_code(school.code);
      request.mutable_school()->set_display_name(school.name);
      request.mutable_school()->set_kind(school.junior_high
                                             ? sv1::SCHOOL_KIND_JUNIOR_HIGH
                                             : sv1::SCHOOL_KIND_ELEMENTARY);
      request.mutable_school()->set_area_code(school.area_code);
      sv1::School out;
      if (absl::Status s =
              Check(stub->UpsertSchool(As(auth::Role::kCityOperations).get(),
                                       request, &out),
                    absl::StrCat("school ", school.code));
          !s.ok()) {
        return s;
      }
      ++progress_->schools;
    }
    return absl::OkStatus();
  }

  absl::Status LoadEnrollment() {
    auto stub = sv1::ScreeningService::NewStub(targets_.screening);
    std::map<int, sv1::ImportEnrollmentRequest> years;
    for (const SampleEnrollment& e : city_.enrollment) {
      sv1::ImportEnrollmentRequest& request = years[e.fiscal_year];
      request.set_parent(parent_);
      request.set_fiscal_year(e.fiscal_year);
      sv1::EnrollmentRow* row = request.mutable_rows()->add_rows();
      row->set_school_code(e.school_code);
      row->set_pupils(static_cast<int32_t>(e.pupils));
      progress_->pupils += e.pupils;
    }
    for (const auto& [year, request] : years) {
      sv1::ImportEnrollmentResponse response;
      if (absl::Status s = Check(
              stub->ImportEnrollment(As(auth::Role::kCityOperations).get(),
                                     request, &response),
              absl::StrCat("enrollment FY", year));
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  // One support every connected case is referred to: a children's
  // cafeteria run by a local group.
  absl::Status LoadDirectory() {
    auto stub = rv1::ReferralService::NewStub(targets_.referral);
    rv1::CreateOrganizationRequest organization;
    organization.set_parent(parent_);
    organization.set_request_id("sample-organization-1");
    organization.mutable_organization()->set_display_name("みんなの食堂の会");
    organization.mutable_organization()->set_kind(rv1::ORGANIZATION_KIND_LOCAL);
    rv1::Organization created;
    if (absl::Status s = Check(
            stub->CreateOrganization(As(auth::Role::kCityOperations).get(),
                                     organization, &created),
            "organization");
        !s.ok()) {
      return s;
    }
    rv1::CreateSupportRequest support;
    support.set_request_id("sample-support-1");
    support.mutable_support()->set_organization(created.name());
    support.mutable_support()->set_display_name("こども食堂");
    support.mutable_support()->set_category(
        rv1::SUPPORT_CATEGORY_CHILDRENS_CAFETERIA);
    for (const SampleArea& area : city_.areas) {
      support.mutable_support()->add_service_area_codes(area.code);
    }
    rv1::Support out;
    if (absl::Status s =
            Check(stub->CreateSupport(As(auth::Role::kCityOperations).get(),
                                      support, &out),
                  "support");
        !s.ok()) {
      return s;
    }
    support_ = out.name();
    return absl::OkStatus();
  }

  absl::Status LoadCases() {
    progress_->cases_total = static_cast<int64_t>(city_.cases.size());
    for (const SampleCase& c : city_.cases) {
      progress_->referrals_total += c.connected.has_value() ? 1 : 0;
    }
    const int workers = std::max(1, targets_.concurrency);
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w) {
      threads.emplace_back([this, w, workers] {
        for (size_t i = static_cast<size_t>(w); i < city_.cases.size();
             i += static_cast<size_t>(workers)) {
          if (failed_) {
            return;
          }
          if (absl::Status s = LoadCase(i, city_.cases[i]); !s.ok()) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!failed_) {
              failed_ = true;
              error_ = s;
            }
            return;
          }
          ++progress_->cases;
        }
      });
    }
    for (std::thread& thread : threads) {
      thread.join();
    }
    return error_;
  }

  absl::Status LoadCase(size_t index, const SampleCase& c) {
    auto stub = cv1::CaseService::NewStub(targets_.cases);
    const std::string key = absl::StrCat("sample-", index);
    cv1::CreateCaseRequest create;
    create.set_parent(parent_);
    create.set_request_id(key);
    cv1::Case* out = create.mutable_case_();
    out->set_area_code(c.area_code);
    out->set_source(cv1::CASE_SOURCE_SCHOOL);
    *out->mutable_opened_date() = DateToProto(c.opened);
    cv1::Child* child = out->mutable_child();
    child->set_name(c.child.name);
    child->set_kana(c.child.kana);
    *child->mutable_birth_date() = DateToProto(c.child.birth_date);
    child->set_sex(c.child.male ? cv1::SEX_MALE : cv1::SEX_FEMALE);
    child->set_school_code(c.child.school_code);
    child->set_grade(c.child.grade);
    cv1::Case opened;
    if (absl::Status s =
            Check(stub->CreateCase(As(auth::Role::kWardOfficer).get(), create,
                                   &opened),
                  absl::StrCat("case ", index));
        !s.ok()) {
      return s;
    }
    if (c.approach != Approach::kInPreparation) {
      cv1::ChangeApproachStatusRequest change;
      change.set_name(opened.name());
      change.set_request_id(key + "-approach");
      *change.mutable_effective_date() = DateToProto(c.approach_date);
      if (c.approach == Approach::kOutreachDone) {
        change.set_status(cv1::APPROACH_STATUS_OUTREACH_DONE);
      } else {
        change.set_status(cv1::APPROACH_STATUS_NOT_POSSIBLE);
        change.set_reason(
            static_cast<cv1::NotPossibleReason>(c.not_possible_reason));
      }
      cv1::Case changed;
      if (absl::Status s =
              Check(stub->ChangeApproachStatus(
                        As(auth::Role::kWardOfficer).get(), change, &changed),
                    absl::StrCat("case ", index, " approach"));
          !s.ok()) {
        return s;
      }
    }
    if (c.connected.has_value()) {
      if (absl::Status s = Connect(index, opened.name(), c); !s.ok()) {
        return s;
      }
      ++progress_->referrals;
    }
    if (c.resolved.has_value()) {
      cv1::RecordOutcomeRequest outcome;
      outcome.set_name(opened.name());
      outcome.set_outcome(cv1::OUTCOME_IMPROVED_RESOLVED);
      *outcome.mutable_effective_date() = DateToProto(*c.resolved);
      outcome.set_request_id(key + "-outcome");
      cv1::Case closed;
      if (absl::Status s =
              Check(stub->RecordOutcome(As(auth::Role::kWardOfficer).get(),
                                        outcome, &closed),
                    absl::StrCat("case ", index, " outcome"));
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  // A referral to the directory's support, from proposal to connection:
  // proposed, consented and sent on the day of the outreach, accepted and
  // connected on the day the support started.
  absl::Status Connect(size_t index, const std::string& case_name,
                       const SampleCase& c) {
    auto stub = rv1::ReferralService::NewStub(targets_.referral);
    const std::string key = absl::StrCat("sample-", index, "-referral");
    rv1::CreateReferralRequest create;
    create.set_parent(parent_);
    create.set_request_id(key);
    create.mutable_referral()->set_case_(case_name);
    create.mutable_referral()->set_support(support_);
    *create.mutable_referral()->mutable_proposed_date() =
        DateToProto(c.approach_date);
    rv1::Referral referral;
    if (absl::Status s =
            Check(stub->CreateReferral(As(auth::Role::kWardOfficer).get(),
                                       create, &referral),
                  absl::StrCat("case ", index, " referral"));
        !s.ok()) {
      return s;
    }
    rv1::RecordReferralConsentRequest consent;
    consent.set_name(referral.name());
    consent.set_request_id(key + "-consent");
    consent.mutable_consent()->set_basis(rv1::SHARING_BASIS_HOUSEHOLD_CONSENT);
    *consent.mutable_consent()->mutable_given_date() =
        DateToProto(c.approach_date);
    if (absl::Status s =
            Check(stub->RecordReferralConsent(
                      As(auth::Role::kWardOfficer).get(), consent, &referral),
                  absl::StrCat("case ", index, " consent"));
        !s.ok()) {
      return s;
    }
    const std::pair<rv1::ReferralState, absl::CivilDay> steps[] = {
        {rv1::REFERRAL_STATE_SENT, c.approach_date},
        {rv1::REFERRAL_STATE_ACCEPTED, *c.connected},
        {rv1::REFERRAL_STATE_CONNECTED, *c.connected}};
    for (const auto& [state, day] : steps) {
      rv1::ChangeReferralStateRequest change;
      change.set_name(referral.name());
      change.set_state(state);
      *change.mutable_effective_date() = DateToProto(day);
      change.set_request_id(absl::StrCat(key, "-", state));
      if (absl::Status s =
              Check(stub->ChangeReferralState(
                        As(auth::Role::kWardOfficer).get(), change, &referral),
                    absl::StrCat("case ", index, " referral step ", state));
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  const SampleCity& city_;
  const LoadTargets& targets_;
  LoadProgress* progress_;
  const std::string parent_;
  std::string support_;
  std::atomic<bool> failed_{false};
  std::mutex mutex_;
  absl::Status error_;
};

}  // namespace

absl::Status LoadCity(const SampleCity& city, const LoadTargets& targets,
                      LoadProgress* progress) {
  LoadProgress ignored;
  return Loader(city, targets, progress != nullptr ? progress : &ignored).Run();
}

}  // namespace kosapo::sample
