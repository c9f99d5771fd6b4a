// Time in Allmende: UTC instants as microseconds since the Unix epoch, ISO 8601 text at the edges,
// and an injectable Clock so tests can run on simulated time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace allmende {

using Micros = int64_t;  // microseconds since 1970-01-01T00:00:00Z

// Parses an ISO 8601 / RFC 3339 date-time ("2026-11-25T15:14:35Z", "...35.123+01:00",
// "2026-11-25T15:14:35.5"; no offset means UTC as NGSI-LD 4.6.3 requires UTC). nullopt if invalid.
std::optional<Micros> parseDateTime(std::string_view text);
// Parses a date "2026-11-25" (midnight UTC) or a time "15:14:35Z" (micros since midnight).
std::optional<Micros> parseDate(std::string_view text);
std::optional<Micros> parseTime(std::string_view text);
// Formats as "2026-11-25T15:14:35.123456Z" (microseconds shown only when non-zero; else .000Z
// milliseconds, as NGSI-LD brokers customarily print).
std::string formatDateTime(Micros t);

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Micros now() const = 0;
};

// The wall clock.
const Clock& systemClock();

}  // namespace allmende
