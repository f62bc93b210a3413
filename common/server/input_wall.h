// The input wall: checks every request message generically, before any
// handler looks at it, for what no field of any kosapo API may hold. The
// handlers still check what each field means (lengths, formats, required);
// the wall catches what they could forget and what would otherwise reach
// PostgreSQL as an INTERNAL error:
// - text with a NUL or another C0 control character (tab, line feed and
//   carriage return are text) or that is not UTF-8;
// - an enum value the API does not define (proto3 keeps unknown numbers);
// - a kosapo.type.Date that is neither unset (all zero) nor a calendar
//   date of years 1 to 9999, and a google.protobuf.Timestamp outside them.
// Every field at every depth is checked: singular, repeated and map values.
#ifndef KOSAPO_COMMON_SERVER_INPUT_WALL_H_
#define KOSAPO_COMMON_SERVER_INPUT_WALL_H_

#include <google/protobuf/message.h>

#include "absl/status/status.h"

namespace kosapo::server {

// OK, or INVALID_ARGUMENT naming the first offending field by its path
// ("case.child.name: contains control character U+0000").
absl::Status CheckRequest(const google::protobuf::Message& request);

}  // namespace kosapo::server

#endif  // KOSAPO_COMMON_SERVER_INPUT_WALL_H_
