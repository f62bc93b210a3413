// Conversions between database instants (microseconds since the epoch, as
// the stores select them) and protobuf Timestamps.
#ifndef KOSAPO_COMMON_BASE_PROTO_TIME_H_
#define KOSAPO_COMMON_BASE_PROTO_TIME_H_

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>

namespace kosapo {

inline void SetTimestampMicros(int64_t micros,
                               google::protobuf::Timestamp* out) {
  int64_t seconds = micros / 1000000;
  int64_t rest = micros % 1000000;
  if (rest < 0) {  // before 1970: nanos must stay in [0, 1e9)
    rest += 1000000;
    seconds -= 1;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rest * 1000));
}

// The inverse of SetTimestampMicros (sub-microsecond nanos dropped): for
// page tokens that carry a row's creation time back to the store, which
// compares it as 'epoch'::timestamptz + micros * interval '1 microsecond'.
inline int64_t TimestampMicros(const google::protobuf::Timestamp& time) {
  return time.seconds() * 1000000 + time.nanos() / 1000;
}

}  // namespace kosapo

#endif  // KOSAPO_COMMON_BASE_PROTO_TIME_H_
