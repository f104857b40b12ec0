#include "nemesyst/timestamp.h"

#include <cstdio>

namespace nemesyst {
namespace {

bool Digits(std::string_view s, size_t pos, size_t count, int* out) {
  if (pos + count > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool ParseIso8601(std::string_view s, int64_t* time_us) {
  int year, month, day, hour, minute, second = 0;
  if (!Digits(s, 0, 4, &year) || s.size() < 16 || s[4] != '-' || !Digits(s, 5, 2, &month) ||
      s[7] != '-' || !Digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != ' ' && s[10] != 't') ||
      !Digits(s, 11, 2, &hour) || s[13] != ':' || !Digits(s, 14, 2, &minute)) {
    return false;
  }
  size_t pos = 16;
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == ':') {
    if (!Digits(s, pos + 1, 2, &second)) return false;
    pos += 3;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      int scale = 100000, n = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (n < 6) micros += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
        ++n;
      }
      if (n == 0) return false;
    }
  }
  int64_t offset_s = 0;
  if (pos < s.size()) {
    if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int oh, om;
      if (!Digits(s, pos + 1, 2, &oh)) return false;
      size_t p = pos + 3;
      if (p < s.size() && s[p] == ':') ++p;
      if (!Digits(s, p, 2, &om) || p + 2 != s.size() || oh > 23 || om > 59) return false;
      offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
      pos = s.size();
    } else {
      return false;
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  static constexpr int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDaysIn[month - 1] || (month == 2 && day == 29 && !leap)) return false;
  const int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  *time_us = seconds * 1000000 + micros;
  return true;
}

bool ParseEpoch(std::string_view s, EpochUnit unit, int64_t* time_us) {
  if (s.empty()) return false;
  size_t pos = 0;
  bool negative = false;
  if (s[0] == '-' || s[0] == '+') {
    negative = s[0] == '-';
    pos = 1;
  }
  int64_t whole = 0;
  size_t digits = 0;
  for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos, ++digits) {
    if (whole > (INT64_MAX - 9) / 10) return false;
    whole = whole * 10 + (s[pos] - '0');
  }
  int64_t per_unit = 1;
  switch (unit) {
    case EpochUnit::kSeconds:
      per_unit = 1000000;
      break;
    case EpochUnit::kMilliseconds:
      per_unit = 1000;
      break;
    case EpochUnit::kMicroseconds:
      per_unit = 1;
      break;
    case EpochUnit::kNanoseconds:
      per_unit = 1;
      break;
  }
  // Fraction of the unit, to microsecond resolution.
  int64_t fraction_us = 0;
  size_t frac_digits = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t scale = unit == EpochUnit::kNanoseconds ? 0 : per_unit / 10;
    for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos, ++frac_digits) {
      fraction_us += (s[pos] - '0') * scale;
      scale /= 10;
    }
  }
  if (pos != s.size() || digits + frac_digits == 0) return false;
  if (unit == EpochUnit::kNanoseconds) whole /= 1000;
  if (whole > INT64_MAX / per_unit) return false;
  // The fraction can push a whole at the limit over it (9223372036854.9 s).
  if (whole * per_unit > INT64_MAX - fraction_us) return false;
  int64_t us = whole * per_unit + fraction_us;
  *time_us = negative ? -us : us;
  return true;
}

int FormatIso8601(int64_t time_us, char* out) {
  int64_t seconds = time_us / 1000000, micros = time_us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    --seconds;
  }
  int64_t days = seconds / 86400, rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  const int hh = static_cast<int>(rem / 3600), mm = static_cast<int>(rem / 60 % 60),
            ss = static_cast<int>(rem % 60);
  if (micros == 0) {
    return std::snprintf(out, 32, "%04lld-%02u-%02uT%02d:%02d:%02dZ", static_cast<long long>(y), m,
                         d, hh, mm, ss);
  }
  return std::snprintf(out, 32, "%04lld-%02u-%02uT%02d:%02d:%02d.%06dZ", static_cast<long long>(y),
                       m, d, hh, mm, ss, static_cast<int>(micros));
}

}  // namespace nemesyst
