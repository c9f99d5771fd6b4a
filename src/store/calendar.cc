#include "store/calendar.h"

#include <ctime>

namespace allmende::store {

Micros addMonths(Micros t, int64_t months) {
  if (months == 0) return t;
  const int64_t kDay = 86'400'000'000;
  int64_t days = t >= 0 ? t / kDay : (t - kDay + 1) / kDay;
  Micros inDay = t - days * kDay;
  time_t secs = static_cast<time_t>(days * 86400);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  int64_t m = tm.tm_mon + months;
  tm.tm_year += static_cast<int>(m >= 0 ? m / 12 : (m - 11) / 12);
  tm.tm_mon = static_cast<int>(((m % 12) + 12) % 12);
  static const int kLen[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int y = tm.tm_year + 1900;
  int len = kLen[tm.tm_mon] + (tm.tm_mon == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 1 : 0);
  if (tm.tm_mday > len) tm.tm_mday = len;
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  return static_cast<Micros>(timegm(&tm)) * 1'000'000 + inDay;
}

}  // namespace allmende::store
