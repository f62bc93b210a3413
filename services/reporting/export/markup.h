// Text put into the XML of a workbook or into an HTML page. The labels of a
// ward comparison come from the city's own data (area names), so they are
// untrusted: escaping them must hold for any bytes.
#ifndef KOSAPO_SERVICES_REPORTING_EXPORT_MARKUP_H_
#define KOSAPO_SERVICES_REPORTING_EXPORT_MARKUP_H_

#include <string>

#include "absl/strings/string_view.h"

namespace kosapo::reporting::exports {

// Appends `text` for XML or HTML element content and quoted attribute
// values: & < > " ' as character references; bytes that are not UTF-8 and
// the code points XML 1.0 forbids or HTML warns about (control characters
// other than tab, LF and CR; U+FFFE, U+FFFF) as U+FFFD, so no input breaks
// the markup or makes the file unreadable.
void AppendEscaped(absl::string_view text, std::string* out);
std::string Escaped(absl::string_view text);

// Columns a text takes in a monospace cell: 2 for East Asian wide and
// full-width characters, 1 for the others. Used for column widths.
int DisplayWidth(absl::string_view text);

}  // namespace kosapo::reporting::exports

#endif  // KOSAPO_SERVICES_REPORTING_EXPORT_MARKUP_H_
