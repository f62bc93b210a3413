// Checks a ward comparison from the reporting service against the table it
// was generated from: every published row found by year and area, its
// label and date, every one of its 18 published values, and the flag of
// every ward cell by the rule (a published rate worse than the city's of
// the same year, in the default directions). Shared by the acceptance test
// and `kosapo-sample check`, which the run command uses.
#ifndef KOSAPO_TOOLS_SAMPLE_COMPARE_H_
#define KOSAPO_TOOLS_SAMPLE_COMPARE_H_

#include <string>
#include <vector>

#include "kosapo/reporting/v1/reporting.pb.h"
#include "tools/sample/ward_spec.h"

namespace kosapo::sample {

struct SpecComparison {
  // Published values and flags compared.
  int cells = 0;
  int flags = 0;
  // Ward cells flagged (by the rule, and by the service where they agree).
  int flagged = 0;
  // One line per difference: the row's label, the column, what the
  // service said and what the table says. Empty when they agree.
  std::vector<std::string> differences;
};

// The published column names of the TSV, by column number 1-18.
const std::string& ColumnName(int column);

SpecComparison CompareWithSpec(const WardSpec& spec,
                               const reporting::v1::WardComparison& comparison);

}  // namespace kosapo::sample

#endif  // KOSAPO_TOOLS_SAMPLE_COMPARE_H_
