// Timestamps as text: ISO-8601 / RFC 3339 (UTC "Z" or a +hh:mm offset, optional fraction up to
// microseconds) and epoch numbers in a chosen unit. Hand-written for ingest speed (no locale, no
// allocation).
#ifndef NEMESYST_TIMESTAMP_H_
#define NEMESYST_TIMESTAMP_H_

#include <cstdint>
#include <string_view>

#include "nemesyst/export.h"

namespace nemesyst {

enum class EpochUnit { kSeconds, kMilliseconds, kMicroseconds, kNanoseconds };

// "2026-01-05T00:01:00Z", "2026-01-05 00:01:00.250+01:00", "2026-01-05T00:01Z"... A date and time
// with seconds optional; no zone means UTC. False when `text` is not such a timestamp.
NEMESYST_EXPORT bool ParseIso8601(std::string_view text, int64_t* time_us);
// An integer or decimal number of `unit` since the epoch.
NEMESYST_EXPORT bool ParseEpoch(std::string_view text, EpochUnit unit, int64_t* time_us);
// Writes "YYYY-MM-DDTHH:MM:SSZ" (or with ".ffffff" when not whole seconds) into `out` (>= 32
// bytes); returns the length.
NEMESYST_EXPORT int FormatIso8601(int64_t time_us, char* out);

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
NEMESYST_EXPORT int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

}  // namespace nemesyst

#endif  // NEMESYST_TIMESTAMP_H_
