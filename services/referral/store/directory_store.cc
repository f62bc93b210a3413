// The directory's SQL: entries as JSON bodies plus searched columns.
#include "services/referral/store/directory_store.h"

#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/util/field_mask_util.h>

#include <pqxx/result>

#include "absl/strings/str_cat.h"
#include "common/base/proto_time.h"
#include "common/base/status.h"
#include "common/events/outbox.h"
#include "common/pg/transaction.h"
#include "kosapo/referral/v1/events.pb.h"
#include "services/referral/domain/directory_rules.h"
#include "services/referral/domain/enum_text.h"
#include "services/referral/domain/fields.h"
#include "services/referral/domain/schedule.h"

namespace kosapo::referral {
namespace {

constexpr char kEntryColumns[] =
    "id, municipality, body::text AS body, revision,"
    " (extract(epoch FROM create_time) * 1000000)::bigint AS create_us,"
    " (extract(epoch FROM update_time) * 1000000)::bigint AS update_us";

// The output fields every entry shares, from a row of kEntryColumns.
template <typename Message>
Message EntryFromRow(const pqxx::row& row, absl::string_view collection) {
  Message entry;
  FromBody(row["body"].as<std::string>(), &entry);
  entry.set_name(ResourceName(collection, row["id"].as<int64_t>()));
  entry.set_municipality_code(row["municipality"].as<std::string>());
  entry.set_etag(absl::StrCat(row["revision"].as<int64_t>()));
  SetTimestampMicros(row["create_us"].as<int64_t>(),
                     entry.mutable_create_time());
  SetTimestampMicros(row["update_us"].as<int64_t>(),
                     entry.mutable_update_time());
  return entry;
}

// Locations and supports: also their organization.
template <typename Message>
Message OwnedFromRow(const pqxx::row& row, absl::string_view collection) {
  Message entry = EntryFromRow<Message>(row, collection);
  entry.set_organization(
      ResourceName(kOrganizations, row["organization_id"].as<int64_t>()));
  return entry;
}

// The stored body: the entry without its output fields (and, for owned
// entries, the organization, which has its own column).
template <typename Message>
std::string BodyOf(Message entry) {
  entry.clear_name();
  entry.clear_municipality_code();
  entry.clear_etag();
  entry.clear_create_time();
  entry.clear_update_time();
  return ToBody(entry);
}
template <typename Message>
std::string OwnedBodyOf(Message entry) {
  entry.clear_organization();
  return BodyOf(std::move(entry));
}

// `current` with the fields of `mask` taken from `changes`; lists and
// messages are replaced, not merged.
template <typename Message>
Message Merged(const Message& current, const Message& changes,
               const std::vector<std::string>& mask) {
  google::protobuf::FieldMask field_mask;
  for (const std::string& path : mask) {
    field_mask.add_paths(path);
  }
  google::protobuf::util::FieldMaskUtil::MergeOptions options;
  options.set_replace_message_fields(true);
  options.set_replace_repeated_fields(true);
  Message merged = current;
  google::protobuf::util::FieldMaskUtil::MergeMessageTo(changes, field_mask,
                                                        options, &merged);
  return merged;
}

absl::Status NotFound(absl::string_view name) {
  return absl::NotFoundError(absl::StrCat(name, " not found"));
}

// One entry of `table` by id (locked for a write), or NOT_FOUND.
absl::StatusOr<pqxx::row> LoadEntry(pqxx::work& tx, absl::string_view table,
                                    absl::string_view collection, int64_t id,
                                    bool lock) {
  const bool owned = table != "organizations";
  const pqxx::result rows = tx.exec_params(
      absl::StrCat("SELECT ", kEntryColumns, owned ? ", organization_id" : "",
                   " FROM ", table, " WHERE id = $1",
                   lock ? " FOR UPDATE" : ""),
      id);
  if (rows.empty()) {
    return NotFound(ResourceName(collection, id));
  }
  return rows[0];
}

// The municipality of an owning organization named in `field`.
absl::StatusOr<std::string> OrganizationMunicipality(pqxx::work& tx,
                                                     int64_t organization_id,
                                                     absl::string_view field) {
  const pqxx::result rows = tx.exec_params(
      "SELECT municipality FROM organizations WHERE id = $1", organization_id);
  if (rows.empty()) {
    return absl::NotFoundError(
        absl::StrCat(field, ": ", ResourceName(kOrganizations, organization_id),
                     " not found"));
  }
  return rows[0][0].as<std::string>();
}

// Every location named must be one of the organization's.
absl::Status CheckLocations(pqxx::work& tx, int64_t organization_id,
                            const v1::Support& support) {
  for (int i = 0; i < support.locations_size(); ++i) {
    const int64_t id = *ParseResourceName(support.locations(i), kLocations, "");
    if (tx.exec_params("SELECT 1 FROM locations WHERE id = $1"
                       " AND organization_id = $2",
                       id, organization_id)
            .empty()) {
      return Invalid(
          absl::StrCat("support.locations[", i, "]"),
          absl::StrCat(support.locations(i), " is not a location of ",
                       support.organization()));
    }
  }
  return absl::OkStatus();
}

// A hub code names one hub.
absl::Status CheckHubCodeFree(pqxx::work& tx, const v1::Support& support,
                              int64_t own_id) {
  if (!support.has_hub()) {
    return absl::OkStatus();
  }
  const pqxx::result rows =
      tx.exec_params("SELECT id FROM supports WHERE hub_code = $1 AND id <> $2",
                     support.hub().hub_code(), own_id);
  if (!rows.empty()) {
    return absl::AlreadyExistsError(absl::StrCat(
        "support.hub.hub_code: hub ", support.hub().hub_code(), " is already ",
        ResourceName(kSupports, rows[0][0].as<int64_t>())));
  }
  return absl::OkStatus();
}

// The columns a support is searched by, as SQL parameters.
struct SupportColumns {
  std::string category;
  std::string area_codes;
  std::string hub_code;  // "" for a support that is no hub: NULL
};

SupportColumns ColumnsOf(const v1::Support& support) {
  SupportColumns columns;
  columns.category = ToText(support.category());
  columns.area_codes = TextArray({support.service_area_codes().begin(),
                                  support.service_area_codes().end()});
  if (support.has_hub()) {
    columns.hub_code = support.hub().hub_code();
  }
  return columns;
}

template <typename Event, typename Entry>
void AppendChanged(pqxx::work& tx, const Entry& entry, const Caller& caller,
                   Entry* (Event::*mutable_entry)()) {
  Event event;
  *(event.*mutable_entry)() = entry;
  events::AppendEvent(tx, entry.name(), event, caller.trace_id);
}

}  // namespace

// ---- Organizations ---------------------------------------------------------

absl::StatusOr<v1::Organization> DirectoryStore::CreateOrganization(
    const std::string& municipality, const v1::Organization& input,
    const Caller& caller) {
  return pg::InTransaction(
      pool_, "create organization",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::Organization> {
        const pqxx::result replay = tx.exec_params(
            absl::StrCat("SELECT ", kEntryColumns,
                         " FROM organizations WHERE municipality = $1"
                         " AND create_request_id = $2"),
            municipality, caller.request_id);
        if (!replay.empty()) {
          return EntryFromRow<v1::Organization>(replay[0], kOrganizations);
        }
        const pqxx::row row = tx.exec_params1(
            absl::StrCat("INSERT INTO organizations (municipality, body,"
                         " create_request_id, created_by)"
                         " VALUES ($1, $2::jsonb, $3, $4) RETURNING ",
                         kEntryColumns),
            municipality, BodyOf(input), caller.request_id, caller.subject);
        const auto created =
            EntryFromRow<v1::Organization>(row, kOrganizations);
        AppendChanged<v1::OrganizationChanged>(
            tx, created, caller,
            &v1::OrganizationChanged::mutable_organization);
        return created;
      });
}

absl::StatusOr<v1::Organization> DirectoryStore::GetOrganization(int64_t id) {
  return pg::InTransaction(
      pool_, "get organization",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::Organization> {
        KOSAPO_ASSIGN_OR_RETURN(
            const pqxx::row row,
            LoadEntry(tx, "organizations", kOrganizations, id, false));
        return EntryFromRow<v1::Organization>(row, kOrganizations);
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<v1::Organization> DirectoryStore::UpdateOrganization(
    int64_t id, const v1::Organization& changes,
    const std::vector<std::string>& mask, const Caller& caller,
    const MayWrite& may_write) {
  return pg::InTransaction(
      pool_, "update organization",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::Organization> {
        KOSAPO_ASSIGN_OR_RETURN(
            const pqxx::row row,
            LoadEntry(tx, "organizations", kOrganizations, id, true));
        const auto current =
            EntryFromRow<v1::Organization>(row, kOrganizations);
        KOSAPO_RETURN_IF_ERROR(
            may_write(current.municipality_code(), current.name()));
        KOSAPO_RETURN_IF_ERROR(CheckEtag(
            current.name(), row["revision"].as<int64_t>(), changes.etag()));
        const v1::Organization merged = Merged(current, changes, mask);
        KOSAPO_RETURN_IF_ERROR(ValidateOrganization(merged));
        const pqxx::row updated = tx.exec_params1(
            absl::StrCat("UPDATE organizations SET body = $2::jsonb,"
                         " revision = revision + 1, update_time = now()"
                         " WHERE id = $1 RETURNING ",
                         kEntryColumns),
            id, BodyOf(merged));
        const auto result =
            EntryFromRow<v1::Organization>(updated, kOrganizations);
        AppendChanged<v1::OrganizationChanged>(
            tx, result, caller, &v1::OrganizationChanged::mutable_organization);
        return result;
      });
}

absl::StatusOr<std::vector<v1::Organization>> DirectoryStore::ListOrganizations(
    const std::string& municipality, const CreatedAfter& after, int limit) {
  return pg::InTransaction(
      pool_, "list organizations",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<v1::Organization>> {
        std::vector<v1::Organization> out;
        for (const pqxx::row& row : tx.exec_params(
                 absl::StrCat("SELECT ", kEntryColumns,
                              " FROM organizations WHERE municipality = $1"
                              " AND ",
                              CreatedAfterSql("", 4, 2),
                              " ORDER BY create_time, id LIMIT $3 + 1"),
                 municipality, after.id, limit, after.create_us)) {
          out.push_back(EntryFromRow<v1::Organization>(row, kOrganizations));
        }
        return out;
      },
      pg::TxOptions::ReadOnly());
}

// ---- Locations -----------------------------------------------------------

absl::StatusOr<v1::Location> DirectoryStore::CreateLocation(
    const v1::Location& input, const Caller& caller,
    const MayWrite& may_write) {
  const int64_t organization_id =
      *ParseResourceName(input.organization(), kOrganizations, "");
  return pg::InTransaction(
      pool_, "create location",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::Location> {
        KOSAPO_ASSIGN_OR_RETURN(
            const std::string municipality,
            OrganizationMunicipality(tx, organization_id,
                                     "location.organization"));
        KOSAPO_RETURN_IF_ERROR(may_write(
            municipality,
            absl::StrCat("location.organization: ",
                         ResourceName(kOrganizations, organization_id))));
        const std::string columns =
            absl::StrCat(kEntryColumns, ", organization_id");
        const pqxx::result replay = tx.exec_params(
            absl::StrCat("SELECT ", columns,
                         " FROM locations WHERE municipality = $1"
                         " AND create_request_id = $2"),
            municipality, caller.request_id);
        if (!replay.empty()) {
          return OwnedFromRow<v1::Location>(replay[0], kLocations);
        }
        const pqxx::row row = tx.exec_params1(
            absl::StrCat("INSERT INTO locations (organization_id, municipality,"
                         " body, create_request_id, created_by)"
                         " VALUES ($1, $2, $3::jsonb, $4, $5) RETURNING ",
                         columns),
            organization_id, municipality, OwnedBodyOf(input),
            caller.request_id, caller.subject);
        const auto created = OwnedFromRow<v1::Location>(row, kLocations);
        AppendChanged<v1::LocationChanged>(
            tx, created, caller, &v1::LocationChanged::mutable_location);
        return created;
      });
}

absl::StatusOr<v1::Location> DirectoryStore::GetLocation(int64_t id) {
  return pg::InTransaction(
      pool_, "get location",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::Location> {
        KOSAPO_ASSIGN_OR_RETURN(
            const pqxx::row row,
            LoadEntry(tx, "locations", kLocations, id, false));
        return OwnedFromRow<v1::Location>(row, kLocations);
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<v1::Location> DirectoryStore::UpdateLocation(
    int64_t id, const v1::Location& changes,
    const std::vector<std::string>& mask, const Caller& caller,
    const MayWrite& may_write) {
  return pg::InTransaction(
      pool_, "update location",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::Location> {
        KOSAPO_ASSIGN_OR_RETURN(
            const pqxx::row row,
            LoadEntry(tx, "locations", kLocations, id, true));
        const auto current = OwnedFromRow<v1::Location>(row, kLocations);
        KOSAPO_RETURN_IF_ERROR(
            may_write(current.municipality_code(), current.name()));
        KOSAPO_RETURN_IF_ERROR(CheckEtag(
            current.name(), row["revision"].as<int64_t>(), changes.etag()));
        const v1::Location merged = Merged(current, changes, mask);
        KOSAPO_RETURN_IF_ERROR(ValidateLocation(merged));
        const pqxx::row updated = tx.exec_params1(
            absl::StrCat("UPDATE locations SET body = $2::jsonb,"
                         " revision = revision + 1, update_time = now()"
                         " WHERE id = $1 RETURNING ",
                         kEntryColumns, ", organization_id"),
            id, OwnedBodyOf(merged));
        const auto result = OwnedFromRow<v1::Location>(updated, kLocations);
        AppendChanged<v1::LocationChanged>(
            tx, result, caller, &v1::LocationChanged::mutable_location);
        return result;
      });
}

absl::StatusOr<std::vector<v1::Location>> DirectoryStore::ListLocations(
    int64_t organization_id) {
  return pg::InTransaction(
      pool_, "list locations",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<v1::Location>> {
        KOSAPO_RETURN_IF_ERROR(
            OrganizationMunicipality(tx, organization_id, "parent").status());
        std::vector<v1::Location> out;
        for (const pqxx::row& row : tx.exec_params(
                 absl::StrCat("SELECT ", kEntryColumns,
                              ", organization_id"
                              " FROM locations WHERE organization_id = $1"
                              " ORDER BY create_time, id LIMIT 1000"),
                 organization_id)) {
          out.push_back(OwnedFromRow<v1::Location>(row, kLocations));
        }
        return out;
      },
      pg::TxOptions::ReadOnly());
}

// ---- Supports ------------------------------------------------------------

absl::StatusOr<v1::Support> DirectoryStore::CreateSupport(
    const v1::Support& input, const Caller& caller, const MayWrite& may_write) {
  const int64_t organization_id =
      *ParseResourceName(input.organization(), kOrganizations, "");
  return pg::InTransaction(
      pool_, "create support",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::Support> {
        KOSAPO_ASSIGN_OR_RETURN(
            const std::string municipality,
            OrganizationMunicipality(tx, organization_id,
                                     "support.organization"));
        KOSAPO_RETURN_IF_ERROR(may_write(
            municipality,
            absl::StrCat("support.organization: ",
                         ResourceName(kOrganizations, organization_id))));
        const std::string columns =
            absl::StrCat(kEntryColumns, ", organization_id");
        const pqxx::result replay =
            tx.exec_params(absl::StrCat("SELECT ", columns,
                                        " FROM supports WHERE municipality = $1"
                                        " AND create_request_id = $2"),
                           municipality, caller.request_id);
        if (!replay.empty()) {
          return OwnedFromRow<v1::Support>(replay[0], kSupports);
        }
        KOSAPO_RETURN_IF_ERROR(CheckLocations(tx, organization_id, input));
        KOSAPO_RETURN_IF_ERROR(CheckHubCodeFree(tx, input, 0));
        const SupportColumns search = ColumnsOf(input);
        const pqxx::row row = tx.exec_params1(
            absl::StrCat("INSERT INTO supports (organization_id, municipality,"
                         " category, area_codes, hub_code, body,"
                         " create_request_id, created_by)"
                         " VALUES ($1, $2, $3, $4::text[], NULLIF($5, ''),"
                         " $6::jsonb, $7, $8) RETURNING ",
                         columns),
            organization_id, municipality, search.category, search.area_codes,
            search.hub_code, OwnedBodyOf(input), caller.request_id,
            caller.subject);
        const auto created = OwnedFromRow<v1::Support>(row, kSupports);
        AppendChanged<v1::SupportChanged>(tx, created, caller,
                                          &v1::SupportChanged::mutable_support);
        return created;
      });
}

absl::StatusOr<v1::Support> DirectoryStore::GetSupport(int64_t id) {
  return pg::InTransaction(
      pool_, "get support",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::Support> {
        KOSAPO_ASSIGN_OR_RETURN(
            const pqxx::row row,
            LoadEntry(tx, "supports", kSupports, id, false));
        return OwnedFromRow<v1::Support>(row, kSupports);
      },
      pg::TxOptions::ReadOnly());
}

absl::StatusOr<v1::Support> DirectoryStore::UpdateSupport(
    int64_t id, const v1::Support& changes,
    const std::vector<std::string>& mask, const Caller& caller,
    const MayWrite& may_write) {
  return pg::InTransaction(
      pool_, "update support",
      [&](pqxx::work& tx) -> absl::StatusOr<v1::Support> {
        KOSAPO_ASSIGN_OR_RETURN(const pqxx::row row,
                                LoadEntry(tx, "supports", kSupports, id, true));
        const auto current = OwnedFromRow<v1::Support>(row, kSupports);
        KOSAPO_RETURN_IF_ERROR(
            may_write(current.municipality_code(), current.name()));
        KOSAPO_RETURN_IF_ERROR(CheckEtag(
            current.name(), row["revision"].as<int64_t>(), changes.etag()));
        const v1::Support merged = Merged(current, changes, mask);
        KOSAPO_RETURN_IF_ERROR(ValidateSupport(merged));
        KOSAPO_RETURN_IF_ERROR(CheckHubCodeKept(current, merged));
        KOSAPO_RETURN_IF_ERROR(
            CheckLocations(tx, row["organization_id"].as<int64_t>(), merged));
        KOSAPO_RETURN_IF_ERROR(CheckHubCodeFree(tx, merged, id));
        const SupportColumns search = ColumnsOf(merged);
        const pqxx::row updated = tx.exec_params1(
            absl::StrCat("UPDATE supports SET category = $2,"
                         " area_codes = $3::text[], hub_code = NULLIF($4, ''),"
                         " body = $5::jsonb, revision = revision + 1,"
                         " update_time = now() WHERE id = $1 RETURNING ",
                         kEntryColumns, ", organization_id"),
            id, search.category, search.area_codes, search.hub_code,
            OwnedBodyOf(merged));
        const auto result = OwnedFromRow<v1::Support>(updated, kSupports);
        AppendChanged<v1::SupportChanged>(tx, result, caller,
                                          &v1::SupportChanged::mutable_support);
        return result;
      });
}

absl::StatusOr<std::vector<v1::Support>> DirectoryStore::SearchSupports(
    const SupportFilter& filter) {
  return pg::InTransaction(
      pool_, "search supports",
      [&](pqxx::work& tx) -> absl::StatusOr<std::vector<v1::Support>> {
        // The opening-hours filter runs here on each candidate, so read in
        // chunks until the page is full or the candidates run out.
        constexpr int kChunk = 200;
        std::vector<v1::Support> out;
        CreatedAfter after = filter.after;
        while (static_cast<int>(out.size()) <= filter.limit) {
          const pqxx::result rows = tx.exec_params(
              absl::StrCat("SELECT ", kEntryColumns,
                           ", organization_id FROM supports"
                           " WHERE municipality = $1 AND ",
                           CreatedAfterSql("", 7, 2),
                           "   AND ($3 = '' OR category = $3)"
                           "   AND ($4 = '' OR area_codes = '{}'"
                           "        OR $4 = ANY(area_codes))"
                           "   AND ($5 = '' OR hub_code = $5)"
                           " ORDER BY create_time, id LIMIT $6"),
              filter.municipality, after.id, ToText(filter.category),
              filter.area_code, filter.hub_code, kChunk, after.create_us);
          for (const pqxx::row& row : rows) {
            after.id = row["id"].as<int64_t>();
            after.create_us = row["create_us"].as<int64_t>();
            v1::Support support = OwnedFromRow<v1::Support>(row, kSupports);
            if (filter.open_at.has_value() &&
                !IsOpenAt(support, *filter.open_at)) {
              continue;
            }
            out.push_back(std::move(support));
            if (static_cast<int>(out.size()) > filter.limit) {
              break;
            }
          }
          if (static_cast<int>(rows.size()) < kChunk) {
            break;
          }
        }
        return out;
      },
      pg::TxOptions::ReadOnly());
}

}  // namespace kosapo::referral
