#include "services/reporting/testing/synthetic_city.h"

#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/stream_to>
#include <pqxx/transaction>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"

namespace kosapo::reporting::testing {
namespace {

std::string Day(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

// What one synthetic case is, the same on every pass over the cases.
struct SyntheticCase {
  std::string name;
  int year = 0;
  int area = 0;
  absl::CivilDay opened;
  bool withdrawn = false;
  bool prepared = false;  // an explicit in_preparation change
  std::string status;     // the next approach status ("" none)
  absl::CivilDay status_day;
  bool connected = false;
  absl::CivilDay connected_day;
  bool revoked = false;
  std::string outcome;  // "" none
  absl::CivilDay outcome_day;
  bool reopened = false;
};

// splitmix64: a stream of well-mixed numbers from one seed.
class Mix {
 public:
  explicit Mix(uint64_t seed) : state_(seed) {}
  int Next(int n) {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return static_cast<int>((z ^ (z >> 31)) % static_cast<uint64_t>(n));
  }

 private:
  uint64_t state_;
};

// Shares like a city's: most outreach done, most of those connected, about
// a third improved or resolved; some changes dated after the year end.
SyntheticCase CaseOf(const SyntheticCity& city, int64_t i) {
  Mix mix(city.seed * 0x100000001b3ULL + static_cast<uint64_t>(i));
  SyntheticCase c;
  c.name = absl::StrCat("cases/", i + 1);
  c.year = city.first_year + static_cast<int>(i % city.years);
  c.area = mix.Next(city.areas);
  c.opened = absl::CivilDay(c.year, 4, 1) + mix.Next(365);
  c.withdrawn = mix.Next(100) == 0;
  c.prepared = mix.Next(2) == 0;
  const int status = mix.Next(100);
  c.status = status < 60   ? "outreach_done"
             : status < 80 ? "not_possible"
             : status < 90 ? "in_preparation"
                           : "";
  c.status_day = c.opened + mix.Next(200);
  if (c.status == "outreach_done" && mix.Next(100) < 70) {
    c.connected = true;
    c.connected_day = c.status_day + mix.Next(60);
    c.revoked = mix.Next(50) == 0;
  }
  if (c.status == "outreach_done" && mix.Next(100) < 45) {
    c.outcome = mix.Next(5) == 0 ? "other_closure" : "improved_resolved";
    c.outcome_day = c.status_day + mix.Next(150);
    c.reopened = mix.Next(20) == 0;
  }
  return c;
}

}  // namespace

std::string SyntheticAreaCode(int index) {
  return absl::StrFormat("%05d", 27102 + index);
}

absl::Status LoadSyntheticCity(const std::string& admin_url,
                               const std::string& schema,
                               const SyntheticCity& city) {
  try {
    pqxx::connection connection(admin_url);
    {
      pqxx::nontransaction setup(connection);
      setup.exec0(
          absl::StrCat("SET search_path TO ", setup.quote_name(schema)));
      // Bulk load: no per-row triggers; the year-end counts are rebuilt.
      setup.exec0("SET session_replication_role = replica");
    }
    std::mt19937 rng(city.seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % n); };
    pqxx::work tx(connection);
    {
      pqxx::stream_to areas(
          tx, "areas",
          std::vector<std::string>{"municipality", "code", "display_name",
                                   "display_order"});
      for (int a = 0; a < city.areas; ++a) {
        areas << std::make_tuple(city.municipality, SyntheticAreaCode(a),
                                 absl::StrCat("第", a + 1, "区"), a + 1);
      }
      areas.complete();
    }
    {
      // About 11 pupils per case, as in the published table.
      const int64_t pupils =
          std::max<int64_t>(1, city.cases * 11 / city.years / city.areas / 4);
      pqxx::stream_to enrollment(
          tx, "enrollment",
          std::vector<std::string>{"municipality", "fiscal_year", "school_code",
                                   "area_code", "pupils"});
      for (int y = 0; y < city.years; ++y) {
        for (int a = 0; a < city.areas; ++a) {
          for (int s = 0; s < 4; ++s) {
            enrollment << std::make_tuple(
                city.municipality, city.first_year + y,
                absl::StrCat("S", a, "-", s), SyntheticAreaCode(a),
                pupils + pick(100));
          }
        }
      }
      enrollment.complete();
    }
    const std::vector<std::string> case_columns = {
        "name",        "municipality", "area_code",
        "fiscal_year", "opened_date",  "withdrawn"};
    pqxx::stream_to cases(tx, "cases", case_columns);
    for (int64_t i = 0; i < city.cases; ++i) {
      const SyntheticCase c = CaseOf(city, i);
      cases << std::make_tuple(c.name, city.municipality,
                               SyntheticAreaCode(c.area), c.year, Day(c.opened),
                               c.withdrawn ? "t" : "f");
    }
    cases.complete();
    pqxx::stream_to approach(
        tx, "approach_changes",
        std::vector<std::string>{"seq", "case_name", "status",
                                 "effective_date"});
    for (int64_t i = 0; i < city.cases; ++i) {
      const SyntheticCase c = CaseOf(city, i);
      if (c.prepared) {
        approach << std::make_tuple(2 * i + 1, c.name, "in_preparation",
                                    Day(c.opened));
      }
      if (!c.status.empty()) {
        approach << std::make_tuple(2 * i + 2, c.name, c.status,
                                    Day(c.status_day));
      }
    }
    approach.complete();
    pqxx::stream_to outcomes(
        tx, "outcome_changes",
        std::vector<std::string>{"seq", "case_name", "kind", "effective_date"});
    for (int64_t i = 0; i < city.cases; ++i) {
      const SyntheticCase c = CaseOf(city, i);
      if (!c.outcome.empty()) {
        outcomes << std::make_tuple(2 * i + 1, c.name, c.outcome,
                                    Day(c.outcome_day));
        if (c.reopened) {
          outcomes << std::make_tuple(2 * i + 2, c.name, "reopened",
                                      Day(c.outcome_day + 30));
        }
      }
    }
    outcomes.complete();
    pqxx::stream_to connections(
        tx, "connections",
        std::vector<std::string>{"source", "case_name", "effective_date",
                                 "revoked"});
    for (int64_t i = 0; i < city.cases; ++i) {
      const SyntheticCase c = CaseOf(city, i);
      if (c.connected) {
        connections << std::make_tuple(absl::StrCat("referrals/", i + 1),
                                       c.name, Day(c.connected_day),
                                       c.revoked ? "t" : "f");
      }
    }
    connections.complete();
    tx.exec("SELECT rebuild_year_end()");
    tx.commit();
    pqxx::nontransaction analyze(connection);
    analyze.exec0("ANALYZE");
    return absl::OkStatus();
  } catch (const std::exception& error) {
    return absl::InternalError(
        absl::StrCat("loading the synthetic city: ", error.what()));
  }
}

}  // namespace kosapo::reporting::testing
