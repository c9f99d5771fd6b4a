#include "common/time.h"

#include <chrono>
#include <cstdio>

namespace allmende {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool isLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned daysInMonth(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && isLeap(y) ? 29 : kDays[m - 1];
}

// A cursor over the text with fixed-width digit reads.
struct Cursor {
  std::string_view s;
  size_t i = 0;
  bool digits(size_t n, int& out) {
    if (i + n > s.size()) return false;
    int v = 0;
    for (size_t k = 0; k < n; ++k) {
      char c = s[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    i += n;
    out = v;
    return true;
  }
  bool eat(char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  bool done() const { return i == s.size(); }
};

// HH:MM:SS(.fraction)? then an optional zone; returns micros since midnight minus the offset.
std::optional<Micros> parseTimeOfDay(Cursor& c) {
  int hh, mm, ss = 0;
  if (!c.digits(2, hh) || !c.eat(':') || !c.digits(2, mm)) return std::nullopt;
  if (c.eat(':') && !c.digits(2, ss)) return std::nullopt;
  if (hh > 24 || mm > 59 || ss > 60) return std::nullopt;  // 60: leap second, folded below
  if (hh == 24 && (mm != 0 || ss != 0)) return std::nullopt;
  Micros frac = 0;
  if (c.eat('.') || c.eat(',')) {
    Micros scale = 100000;
    size_t start = c.i;
    while (c.i < c.s.size() && c.s[c.i] >= '0' && c.s[c.i] <= '9') {
      frac += (c.s[c.i] - '0') * scale;
      scale /= 10;
      ++c.i;
    }
    if (c.i == start) return std::nullopt;
  }
  if (ss == 60) ss = 59, frac = 999999;
  Micros t = ((static_cast<Micros>(hh) * 60 + mm) * 60 + ss) * 1000000 + frac;
  if (c.eat('Z') || c.eat('z')) return t;
  if (c.done()) return t;
  int sign = c.eat('+') ? 1 : (c.eat('-') ? -1 : 0);
  if (sign == 0) return std::nullopt;
  int oh, om = 0;
  if (!c.digits(2, oh)) return std::nullopt;
  if (c.eat(':')) {
    if (!c.digits(2, om)) return std::nullopt;
  } else if (!c.done() && !c.digits(2, om)) {
    return std::nullopt;
  }
  if (oh > 23 || om > 59) return std::nullopt;
  return t - sign * (static_cast<Micros>(oh) * 60 + om) * 60 * 1000000;
}

std::optional<int64_t> parseYmd(Cursor& c) {
  int y, m, d;
  if (!c.digits(4, y) || !c.eat('-') || !c.digits(2, m) || !c.eat('-') || !c.digits(2, d)) return std::nullopt;
  if (m < 1 || m > 12 || d < 1 || static_cast<unsigned>(d) > daysInMonth(y, m)) return std::nullopt;
  return daysFromCivil(y, m, d);
}

}  // namespace

std::optional<Micros> parseDateTime(std::string_view text) {
  Cursor c{text};
  auto days = parseYmd(c);
  if (!days || !(c.eat('T') || c.eat('t') || c.eat(' '))) return std::nullopt;
  auto tod = parseTimeOfDay(c);
  if (!tod || !c.done()) return std::nullopt;
  return *days * 86400LL * 1000000 + *tod;
}

std::optional<Micros> parseDate(std::string_view text) {
  Cursor c{text};
  auto days = parseYmd(c);
  if (!days || !c.done()) return std::nullopt;
  return *days * 86400LL * 1000000;
}

std::optional<Micros> parseTime(std::string_view text) {
  Cursor c{text};
  auto tod = parseTimeOfDay(c);
  if (!tod || !c.done()) return std::nullopt;
  return *tod;
}

std::string formatDateTime(Micros t) {
  int64_t days = t >= 0 ? t / 86400000000LL : -((-t + 86400000000LL - 1) / 86400000000LL);
  Micros rem = t - days * 86400000000LL;
  int64_t y;
  unsigned m, d;
  civilFromDays(days, y, m, d);
  int64_t secs = rem / 1000000;
  int64_t us = rem % 1000000;
  char buf[48];
  if (us % 1000 == 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<long long>(y), m, d,
                  static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                  static_cast<long long>(secs % 60), static_cast<long long>(us / 1000));
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ", static_cast<long long>(y), m, d,
                  static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                  static_cast<long long>(secs % 60), static_cast<long long>(us));
  }
  return buf;
}

namespace {
class SystemClock final : public Clock {
 public:
  Micros now() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};
}  // namespace

const Clock& systemClock() {
  static SystemClock clock;
  return clock;
}

}  // namespace allmende
