// A census of a municipality's cases by fiscal year and by how each came to
// the ward, taken from outside through the case service's public API
// (ListCases, as a ward officer of the areas asked about): whether every
// case of a year was opened by a school's screening extraction, say.
#ifndef KOSAPO_TOOLS_SAMPLE_CASE_CENSUS_H_
#define KOSAPO_TOOLS_SAMPLE_CASE_CENSUS_H_

#include <grpcpp/channel.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/principal.h"

namespace kosapo::sample {

struct YearCensus {
  int64_t cases = 0;
  // Source CASE_SOURCE_SCREENING and naming the extraction (the screening
  // decision) that opened them.
  int64_t from_extraction = 0;
  // By kosapo.cases.v1.CaseSource number, every case of the year.
  std::map<int, int64_t> by_source;
};

// The cases of `areas` of `municipality` by fiscal year (the cohort of
// their opening date), withdrawn ones included. `sign` signs the ward
// officer's token.
absl::StatusOr<std::map<int, YearCensus>> TakeCaseCensus(
    const std::shared_ptr<grpc::Channel>& cases,
    const std::function<std::string(const auth::Principal&)>& sign,
    const std::string& municipality, const std::vector<std::string>& areas);

}  // namespace kosapo::sample

#endif  // KOSAPO_TOOLS_SAMPLE_CASE_CENSUS_H_
