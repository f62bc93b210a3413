// kosapo cases list|show|audit and kosapo referrals list|audit: the case
// and referral services' lists and audit trails, every page, as a table or
// one JSON object per line.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/client_context.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/base/status.h"
#include "common/types/enum_text.h"
#include "kosapo/cases/v1/cases.grpc.pb.h"
#include "kosapo/referral/v1/referral.grpc.pb.h"
#include "tools/cli/cli.h"
#include "tools/cli/client.h"
#include "tools/cli/exit_codes.h"
#include "tools/cli/terminal.h"

namespace kosapo::cli {
namespace {

namespace cv1 = ::kosapo::cases::v1;
namespace rv1 = ::kosapo::referral::v1;

// The wire names of an enum's values ("outreach_done"), UNSPECIFIED left
// out.
template <typename Enum>
std::vector<std::string> EnumChoices(absl::string_view prefix) {
  std::vector<std::string> names;
  const google::protobuf::EnumDescriptor* descriptor =
      google::protobuf::GetEnumDescriptor<Enum>();
  for (int i = 0; i < descriptor->value_count(); ++i) {
    if (descriptor->value(i)->number() != 0) {
      names.push_back(
          EnumNumberText(descriptor, descriptor->value(i)->number(), prefix));
    }
  }
  return names;
}

// An optional enum filter: 0 when the flag is empty.
template <typename Enum>
absl::StatusOr<Enum> EnumFilter(const Args& args, absl::string_view flag,
                                absl::string_view prefix) {
  if (!args.Has(flag)) {
    return static_cast<Enum>(0);
  }
  KOSAPO_ASSIGN_OR_RETURN(std::string name,
                          GetChoice(args, flag, EnumChoices<Enum>(prefix)));
  return EnumOfText<Enum>(name, prefix);
}

std::string FormatDate(const kosapo::type::Date& date) {
  if (date.year() == 0) {
    return "";
  }
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(),
                         date.day());
}

std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) {
    return "";
  }
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC",
                          absl::FromUnixSeconds(timestamp.seconds()),
                          absl::UTCTimeZone());
}

std::vector<Flag> ListFlags(Service service) {
  std::vector<Flag> flags = {
      {"format", "table|json",
       "a table, or one JSON object per line (proto field names)",
       "KOSAPO_FORMAT", "table"},
      {"page-size", "N", "entries per call; every page is fetched", "", "100"},
      {"limit", "N", "stop after N entries (0 = all)", "", "0"},
  };
  for (std::vector<Flag> more : {AddressFlags({service}), CallerFlags()}) {
    flags.insert(flags.end(), more.begin(), more.end());
  }
  return flags;
}

struct ListSettings {
  std::string format;
  int32_t page_size = 100;
  int64_t limit = 0;
};

absl::StatusOr<ListSettings> ListSettingsOf(const Args& args) {
  ListSettings settings;
  KOSAPO_ASSIGN_OR_RETURN(std::string format,
                          GetChoice(args, "format", {"table", "json"}));
  settings.format = format;
  KOSAPO_ASSIGN_OR_RETURN(int64_t page_size, GetInt(args, "page-size", 1, 500));
  settings.page_size = static_cast<int32_t>(page_size);
  KOSAPO_ASSIGN_OR_RETURN(int64_t limit, GetInt(args, "limit", 0, 100000000));
  settings.limit = limit;
  return settings;
}

std::string CaseName(const std::string& text) {
  return absl::StartsWith(text, "cases/") ? text : absl::StrCat("cases/", text);
}

struct ListColumn {
  const char* header;
  bool right_align;
};

// Prints every entry of a paged list, page after page to the last (or
// settings.limit entries): one JSON object a line, or a table with a count
// of `what` under it. `fetch` makes the call for one page token.
template <typename Response, typename Item>
CommandResult PrintList(
    const ListSettings& settings, Io& io,
    const std::function<absl::StatusOr<Response>(const std::string&)>& fetch,
    const google::protobuf::RepeatedPtrField<Item>& (Response::*items)() const,
    const std::vector<ListColumn>& columns,
    const std::function<std::vector<TextTable::Cell>(const Item&)>& row,
    absl::string_view what) {
  TextTable table;
  for (const ListColumn& column : columns) {
    table.AddColumn(column.header, column.right_align);
  }
  int64_t count = 0;
  std::string page_token;
  do {
    KOSAPO_ASSIGN_OR_RETURN(const Response response, fetch(page_token));
    for (const Item& item : (response.*items)()) {
      if (settings.limit > 0 && count >= settings.limit) {
        break;
      }
      ++count;
      if (settings.format == "json") {
        KOSAPO_RETURN_IF_ERROR(PrintJson(item, io.out));
      } else {
        table.AddRow(row(item));
      }
    }
    page_token = response.next_page_token();
  } while (!page_token.empty() &&
           (settings.limit == 0 || count < settings.limit));
  if (settings.format == "table") {
    if (!table.empty()) {
      io.out << table.Render(Highlight::kMarker);
    }
    io.out << count << " " << what << "(s)\n";
  }
  return kExitOk;
}

// --- cases list ------------------------------------------------------------

CommandResult RunCasesList(const Args& args, Io& io) {
  KOSAPO_ASSIGN_OR_RETURN(ListSettings settings, ListSettingsOf(args));
  cv1::ListCasesRequest request;
  KOSAPO_ASSIGN_OR_RETURN(
      cv1::CaseState state,
      EnumFilter<cv1::CaseState>(args, "state", "CASE_STATE_"));
  KOSAPO_ASSIGN_OR_RETURN(
      cv1::ApproachStatus approach,
      EnumFilter<cv1::ApproachStatus>(args, "approach", "APPROACH_STATUS_"));
  KOSAPO_ASSIGN_OR_RETURN(bool mine, GetSwitch(args, "mine"));
  KOSAPO_ASSIGN_OR_RETURN(Session session, Session::Open(args, io.env, true));
  KOSAPO_ASSIGN_OR_RETURN(std::string parent, session.MunicipalityParent());
  request.set_parent(parent);
  request.set_area_code(args.Get("area"));
  request.set_state(state);
  request.set_approach_status(approach);
  request.set_assigned_to_me(mine);
  request.set_page_size(settings.page_size);

  auto stub = cv1::CaseService::NewStub(session.Channel(Service::kCase));
  return PrintList<cv1::ListCasesResponse, cv1::Case>(
      settings, io,
      [&](const std::string& page_token)
          -> absl::StatusOr<cv1::ListCasesResponse> {
        request.set_page_token(page_token);
        grpc::ClientContext context;
        session.Prepare(&context);
        cv1::ListCasesResponse response;
        const grpc::Status status =
            stub->ListCases(&context, request, &response);
        if (!status.ok()) {
          return session.Explain(status, Service::kCase, "list cases");
        }
        return response;
      },
      &cv1::ListCasesResponse::cases,
      {{"CASE", false},
       {"AREA", false},
       {"FY", true},
       {"OPENED", false},
       {"STATE", false},
       {"APPROACH", false},
       {"OUTCOME", false},
       {"LEAD", false},
       {"SCHOOL", false},
       {"GRADE", true}},
      [](const cv1::Case& c) -> std::vector<TextTable::Cell> {
        return {c.name(),
                c.area_code(),
                absl::StrCat(c.fiscal_year()),
                FormatDate(c.opened_date()),
                TextOfEnum(c.state(), "CASE_STATE_"),
                TextOfEnum(c.approach_status(), "APPROACH_STATUS_"),
                TextOfEnum(c.outcome(), "OUTCOME_"),
                TextOfEnum(c.lead(), "LEAD_"),
                c.child().school_code(),
                c.child().grade() > 0 ? absl::StrCat(c.child().grade())
                                      : std::string()};
      },
      "case");
}

// --- cases show ------------------------------------------------------------

void Field(std::ostream& out, absl::string_view label,
           const std::string& value) {
  if (value.empty()) {
    return;
  }
  const int width = DisplayWidth(label);
  out << label << std::string(width < 20 ? 20 - width : 1, ' ') << value
      << "\n";
}

CommandResult RunCasesShow(const Args& args, Io& io) {
  KOSAPO_ASSIGN_OR_RETURN(std::string format,
                          GetChoice(args, "format", {"table", "json"}));
  KOSAPO_ASSIGN_OR_RETURN(Session session, Session::Open(args, io.env, true));
  cv1::GetCaseRequest request;
  request.set_name(CaseName(args.positional()[0]));
  grpc::ClientContext context;
  session.Prepare(&context);
  cv1::Case c;
  const grpc::Status status =
      cv1::CaseService::NewStub(session.Channel(Service::kCase))
          ->GetCase(&context, request, &c);
  if (!status.ok()) {
    return session.Explain(status, Service::kCase,
                           absl::StrCat("show ", request.name()));
  }
  if (format == "json") {
    KOSAPO_RETURN_IF_ERROR(PrintJson(c, io.out, /*pretty=*/true));
    io.out << "\n";
    return kExitOk;
  }
  std::ostream& out = io.out;
  Field(out, "case", c.name());
  Field(out, "municipality", c.municipality_code());
  Field(out, "area", c.area_code());
  Field(out, "source",
        absl::StrCat(TextOfEnum(c.source(), "CASE_SOURCE_"),
                     c.source_detail().empty() ? "" : " (", c.source_detail(),
                     c.source_detail().empty() ? "" : ")"));
  Field(out, "extraction", c.extraction_id());
  Field(out, "opened", FormatDate(c.opened_date()));
  Field(out, "fiscal year", absl::StrCat(c.fiscal_year()));
  Field(out, "state", TextOfEnum(c.state(), "CASE_STATE_"));
  Field(
      out, "approach",
      absl::StrCat(TextOfEnum(c.approach_status(), "APPROACH_STATUS_"),
                   c.not_possible_reason() == 0 ? "" : " (",
                   TextOfEnum(c.not_possible_reason(), "NOT_POSSIBLE_REASON_"),
                   c.not_possible_reason() == 0 ? "" : ")"));
  if (c.outcome() != 0) {
    Field(out, "outcome",
          absl::StrCat(TextOfEnum(c.outcome(), "OUTCOME_"), " on ",
                       FormatDate(c.outcome_date())));
  }
  Field(out, "lead", TextOfEnum(c.lead(), "LEAD_"));
  Field(out, "要対協 registered", c.youtaikyo_registered() ? "yes" : "no");
  const cv1::Child& child = c.child();
  Field(out, "child", child.name());
  Field(out, "kana", child.kana());
  Field(out, "birth date", FormatDate(child.birth_date()));
  Field(out, "sex", TextOfEnum(child.sex(), "SEX_"));
  Field(out, "school", child.school_code());
  if (child.grade() > 0) {
    Field(out, "grade", absl::StrCat(child.grade()));
  }
  if (c.has_household()) {
    for (const cv1::Guardian& guardian : c.household().guardians()) {
      std::vector<std::string> parts = {guardian.name()};
      for (const std::string* part :
           {&guardian.kana(), &guardian.relationship(), &guardian.phone()}) {
        if (!part->empty()) {
          parts.push_back(*part);
        }
      }
      Field(out, "guardian", absl::StrJoin(parts, ", "));
    }
    Field(out, "address", c.household().address());
    Field(out, "phone", c.household().phone());
    Field(out, "household note", c.household().note());
  }
  for (const cv1::Assignee& assignee : c.assignees()) {
    Field(out, "assigned",
          absl::StrCat(assignee.subject(), " (", assignee.role(), ")"));
  }
  Field(out, "hubs", absl::StrJoin(c.hub_codes(), ", "));
  Field(out, "duplicate override", c.duplicate_override());
  Field(out, "etag", c.etag());
  Field(out, "created", FormatTimestamp(c.create_time()));
  Field(out, "updated", FormatTimestamp(c.update_time()));
  return kExitOk;
}

// --- referrals list --------------------------------------------------------

CommandResult RunReferralsList(const Args& args, Io& io) {
  KOSAPO_ASSIGN_OR_RETURN(ListSettings settings, ListSettingsOf(args));
  KOSAPO_ASSIGN_OR_RETURN(
      rv1::ReferralState state,
      EnumFilter<rv1::ReferralState>(args, "state", "REFERRAL_STATE_"));
  KOSAPO_ASSIGN_OR_RETURN(Session session, Session::Open(args, io.env, true));
  KOSAPO_ASSIGN_OR_RETURN(std::string parent, session.MunicipalityParent());
  rv1::ListReferralsRequest request;
  request.set_parent(parent);
  if (args.Has("case")) {
    request.set_case_(CaseName(args.Get("case")));
  }
  request.set_state(state);
  request.set_page_size(settings.page_size);

  auto stub =
      rv1::ReferralService::NewStub(session.Channel(Service::kReferral));
  return PrintList<rv1::ListReferralsResponse, rv1::Referral>(
      settings, io,
      [&](const std::string& page_token)
          -> absl::StatusOr<rv1::ListReferralsResponse> {
        request.set_page_token(page_token);
        grpc::ClientContext context;
        session.Prepare(&context);
        rv1::ListReferralsResponse response;
        const grpc::Status status =
            stub->ListReferrals(&context, request, &response);
        if (!status.ok()) {
          return session.Explain(status, Service::kReferral, "list referrals");
        }
        return response;
      },
      &rv1::ListReferralsResponse::referrals,
      {{"REFERRAL", false},
       {"CASE", false},
       {"AREA", false},
       {"SUPPORT", false},
       {"CATEGORY", false},
       {"STATE", false},
       {"PROPOSED", false},
       {"ANSWER DUE", false},
       {"OVERDUE", false}},
      [](const rv1::Referral& referral) -> std::vector<TextTable::Cell> {
        return {referral.name(),
                referral.case_(),
                referral.area_code(),
                referral.support(),
                TextOfEnum(referral.category(), "SUPPORT_CATEGORY_"),
                TextOfEnum(referral.state(), "REFERRAL_STATE_"),
                FormatDate(referral.proposed_date()),
                FormatDate(referral.answer_due_date()),
                std::string(referral.overdue() ? "overdue" : "")};
      },
      "referral");
}

// --- cases audit, referrals audit ------------------------------------------

CommandResult RunCasesAudit(const Args& args, Io& io) {
  KOSAPO_ASSIGN_OR_RETURN(ListSettings settings, ListSettingsOf(args));
  KOSAPO_ASSIGN_OR_RETURN(Session session, Session::Open(args, io.env, true));
  cv1::ListCaseAuditRequest request;
  request.set_name(CaseName(args.positional()[0]));
  request.set_page_size(settings.page_size);
  auto stub = cv1::CaseService::NewStub(session.Channel(Service::kCase));
  return PrintList<cv1::ListCaseAuditResponse, cv1::AuditEntry>(
      settings, io,
      [&](const std::string& page_token)
          -> absl::StatusOr<cv1::ListCaseAuditResponse> {
        request.set_page_token(page_token);
        grpc::ClientContext context;
        session.Prepare(&context);
        cv1::ListCaseAuditResponse response;
        const grpc::Status status =
            stub->ListCaseAudit(&context, request, &response);
        if (!status.ok()) {
          return session.Explain(
              status, Service::kCase,
              absl::StrCat("list the audit trail of ", request.name()));
        }
        return response;
      },
      &cv1::ListCaseAuditResponse::entries,
      {{"TIME", false},
       {"SUBJECT", false},
       {"ROLE", false},
       {"METHOD", false},
       {"ACCESS", false},
       {"PURPOSE", false}},
      [](const cv1::AuditEntry& entry) -> std::vector<TextTable::Cell> {
        return {FormatTimestamp(entry.time()),
                entry.subject(),
                entry.role(),
                entry.method(),
                entry.access(),
                entry.purpose()};
      },
      "audit entry");
}

CommandResult RunReferralsAudit(const Args& args, Io& io) {
  KOSAPO_ASSIGN_OR_RETURN(ListSettings settings, ListSettingsOf(args));
  KOSAPO_ASSIGN_OR_RETURN(Session session, Session::Open(args, io.env, true));
  rv1::ListReferralAuditRequest request;
  request.set_case_(CaseName(args.positional()[0]));
  request.set_page_size(settings.page_size);
  auto stub =
      rv1::ReferralService::NewStub(session.Channel(Service::kReferral));
  return PrintList<rv1::ListReferralAuditResponse, rv1::ReferralAuditEntry>(
      settings, io,
      [&](const std::string& page_token)
          -> absl::StatusOr<rv1::ListReferralAuditResponse> {
        request.set_page_token(page_token);
        grpc::ClientContext context;
        session.Prepare(&context);
        rv1::ListReferralAuditResponse response;
        const grpc::Status status =
            stub->ListReferralAudit(&context, request, &response);
        if (!status.ok()) {
          return session.Explain(
              status, Service::kReferral,
              absl::StrCat("list the referral audit trail of ",
                           request.case_()));
        }
        return response;
      },
      &rv1::ListReferralAuditResponse::entries,
      {{"TIME", false},
       {"RECORD", false},
       {"SUBJECT", false},
       {"ROLE", false},
       {"METHOD", false},
       {"ACCESS", false},
       {"PURPOSE", false}},
      [](const rv1::ReferralAuditEntry& entry) -> std::vector<TextTable::Cell> {
        return {FormatTimestamp(entry.time()),
                entry.resource(),
                entry.subject(),
                entry.role(),
                entry.method(),
                entry.access(),
                entry.purpose()};
      },
      "audit entry");
}

}  // namespace

std::vector<Command> CaseCommands() {
  Command list;
  list.group = "cases";
  list.name = "list";
  list.synopsis = "[--area=CODE] [--state=STATE] [--approach=STATUS] [--mine]";
  list.summary = "cases in the caller's scope, every page";
  list.details = absl::StrCat(
      "The cases of the token's areas (or one --area), or with --mine those\n"
      "assigned to the caller, oldest first, without household details.\n"
      "States: ",
      absl::StrJoin(EnumChoices<cv1::CaseState>("CASE_STATE_"), ", "),
      ". Approach: ",
      absl::StrJoin(EnumChoices<cv1::ApproachStatus>("APPROACH_STATUS_"), ", "),
      ".\n");
  list.flags = {
      {"area", "CODE", "only this area (ward) of the token's", "", ""},
      {"state", "STATE", "only cases in this state", "", ""},
      {"approach", "STATUS", "only cases with this approach status", "", ""},
      {"mine", "", "only the cases assigned to the caller", "", ""},
  };
  for (Flag& flag : ListFlags(Service::kCase)) {
    list.flags.push_back(std::move(flag));
  }
  list.run = RunCasesList;

  Command show;
  show.group = "cases";
  show.name = "show";
  show.synopsis = "CASE [--format=table|json]";
  show.summary = "one case with its child and household (audited)";
  show.details =
      "CASE is cases/ID or ID. Shows what the caller may see of it; the\n"
      "case service records the read in the case's audit log.\n";
  show.flags = {{"format", "table|json", "key: value lines, or JSON",
                 "KOSAPO_FORMAT", "table"}};
  for (std::vector<Flag> more :
       {AddressFlags({Service::kCase}), CallerFlags()}) {
    show.flags.insert(show.flags.end(), more.begin(), more.end());
  }
  show.min_positional = show.max_positional = 1;
  show.run = RunCasesShow;

  Command referrals;
  referrals.group = "referrals";
  referrals.name = "list";
  referrals.synopsis = "[--case=CASE] [--state=STATE]";
  referrals.summary = "referrals of a case, or those the caller proposed";
  referrals.details = absl::StrCat(
      "With --case, the referrals of that case (staff who may act on it);\n"
      "without, the referrals the caller proposed. Oldest first.\n"
      "States: ",
      absl::StrJoin(EnumChoices<rv1::ReferralState>("REFERRAL_STATE_"), ", "),
      ".\n");
  referrals.flags = {
      {"case", "CASE", "only the referrals of this case (cases/ID or ID)", "",
       ""},
      {"state", "STATE", "only referrals in this state", "", ""},
  };
  for (Flag& flag : ListFlags(Service::kReferral)) {
    referrals.flags.push_back(std::move(flag));
  }
  referrals.run = RunReferralsList;

  Command audit;
  audit.group = "cases";
  audit.name = "audit";
  audit.synopsis = "CASE";
  audit.summary = "who read or changed a case's personal data, and why";
  audit.details =
      "CASE is cases/ID or ID. The case service's audit trail of the case,\n"
      "newest first: when, who (subject and role), which call, read or\n"
      "write, and the purpose the caller stated (--purpose). For ward\n"
      "officers of the case's area. `kosapo referrals audit CASE` shows the\n"
      "same for the case's referrals and hub usages.\n";
  audit.flags = ListFlags(Service::kCase);
  audit.min_positional = audit.max_positional = 1;
  audit.run = RunCasesAudit;

  Command referral_audit;
  referral_audit.group = "referrals";
  referral_audit.name = "audit";
  referral_audit.synopsis = "CASE";
  referral_audit.summary =
      "who read or changed a case's referrals and hub usages, and why";
  referral_audit.details =
      "CASE is cases/ID or ID. The referral service's audit trail of every\n"
      "referral and hub usage of the case, newest first, with the purpose\n"
      "each caller stated (--purpose). For ward officers who may work on\n"
      "the case; the read is itself audited.\n";
  referral_audit.flags = ListFlags(Service::kReferral);
  referral_audit.min_positional = referral_audit.max_positional = 1;
  referral_audit.run = RunReferralsAudit;
  return {list, show, audit, referrals, referral_audit};
}

}  // namespace kosapo::cli
