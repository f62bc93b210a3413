// The city's ward comparison (こどもサポートネットの区別実施状況) as a
// terminal table: Japanese column headers wrapped over a few lines, one row
// per earlier city total, the city total and each area in the city's order,
// and the cells worse than the city (yellow in the city's sheet)
// highlighted.
#ifndef KOSAPO_TOOLS_CLI_WARD_TABLE_H_
#define KOSAPO_TOOLS_CLI_WARD_TABLE_H_

#include <string>

#include "kosapo/reporting/v1/reporting.pb.h"
#include "tools/cli/terminal.h"

namespace kosapo::cli {

// The title line, the table and a legend of the marks used.
std::string RenderWardComparison(
    const kosapo::reporting::v1::WardComparison& comparison,
    Highlight highlight);

}  // namespace kosapo::cli

#endif  // KOSAPO_TOOLS_CLI_WARD_TABLE_H_
