// Wall-clock time as used in snapshots and reports: nanoseconds since the Unix epoch, UTC,
// printed as ISO 8601 ("2026-11-29T03:10:00Z", with a fraction only when there is one).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace lifeboat {

using UnixNanos = int64_t;

UnixNanos NowNanos();
// Monotonic clock in seconds, for durations and rates.
double MonotonicSeconds();

// "2026-11-29T03:10:00Z"; fractional seconds are printed (microseconds) when `with_fraction`.
std::string FormatIso8601(UnixNanos t, bool with_fraction = false);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH[:MM]|-HH[:MM])" and the same with a space
// instead of 'T'. A time without a zone is refused: recovery targets must be unambiguous.
Result<UnixNanos> ParseTimestamp(std::string_view text);

// "90s", "15m", "4h", "7d", "1h30m" -> seconds. A bare number is refused: the unit matters.
Result<int64_t> ParseDuration(std::string_view text);
// 5400 -> "1h30m", 42 -> "42s", 0.25 -> "0.25s" (for reports).
std::string FormatDuration(double seconds);

}  // namespace lifeboat
