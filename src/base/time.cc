#include "base/time.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace lifeboat {

UnixNanos NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double MonotonicSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string FormatIso8601(UnixNanos t, bool with_fraction) {
  int64_t secs = t / 1'000'000'000;
  int64_t nanos = t % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    secs -= 1;
  }
  time_t tt = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  if (with_fraction && nanos != 0) {
    char frac[16];
    std::snprintf(frac, sizeof(frac), ".%06lld", static_cast<long long>(nanos / 1000));
    out += frac;
  }
  out += 'Z';
  return out;
}

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

Result<UnixNanos> ParseTimestamp(std::string_view text) {
  auto bad = [&](const char* why) {
    return Status::Usage("invalid time '" + std::string(text) + "': " + why,
                         "use ISO 8601 with a zone, e.g. 2026-11-29T03:10:00Z");
  };
  int year, mon, day, hour, min, sec;
  if (!Digits(text, 0, 4, &year) || text.size() < 19 || text[4] != '-' ||
      !Digits(text, 5, 2, &mon) || text[7] != '-' || !Digits(text, 8, 2, &day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !Digits(text, 11, 2, &hour) ||
      text[13] != ':' || !Digits(text, 14, 2, &min) || text[16] != ':' ||
      !Digits(text, 17, 2, &sec)) {
    return bad("expected YYYY-MM-DDTHH:MM:SS");
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
    return bad("a field is out of range");
  }
  static constexpr int kDaysInMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDaysInMonth[mon - 1] || (mon == 2 && day == 29 && !leap)) {
    return bad("no such day");
  }
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t digits = 0;
    int64_t scale = 100'000'000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 9) nanos += (text[pos] - '0') * scale;
      scale /= 10;
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad("empty fraction of a second");
  }
  if (pos < text.size() && text[pos] == ' ') ++pos;  // PostgreSQL style "... 03:10:00 +00"
  int64_t offset_seconds = 0;
  if (pos >= text.size()) return bad("missing zone (append Z for UTC)");
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text.substr(pos) == "UTC") {
    pos += 3;
  } else if (text[pos] == '+' || text[pos] == '-') {
    int sign = text[pos] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!Digits(text, pos + 1, 2, &oh)) return bad("invalid zone offset");
    pos += 3;
    if (pos < text.size() && text[pos] == ':') ++pos;
    if (pos < text.size()) {
      if (!Digits(text, pos, 2, &om)) return bad("invalid zone offset");
      pos += 2;
    }
    if (oh > 15 || om > 59) return bad("invalid zone offset");
    offset_seconds = sign * (oh * 3600 + om * 60);
  } else {
    return bad("invalid zone");
  }
  if (pos != text.size()) return bad("unexpected text after the zone");

  struct tm tm {};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset_seconds;
  return secs * 1'000'000'000 + nanos;
}

Result<int64_t> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Status::Usage("invalid duration '" + std::string(text) + "'",
                         "use a number with a unit: 30s, 15m, 4h, 7d, 1h30m");
  };
  if (text.empty()) return bad();
  int64_t total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    int64_t n = 0;
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      n = n * 10 + (text[pos++] - '0');
      if (++digits > 9) return bad();
    }
    if (digits == 0 || pos >= text.size()) return bad();
    switch (text[pos++]) {
      case 's': total += n; break;
      case 'm': total += n * 60; break;
      case 'h': total += n * 3600; break;
      case 'd': total += n * 86400; break;
      default: return bad();
    }
  }
  return total;
}

std::string FormatDuration(double seconds) {
  char buf[64];
  if (seconds < 60) {
    std::snprintf(buf, sizeof(buf), seconds < 10 ? "%.2fs" : "%.0fs", seconds);
    return buf;
  }
  auto s = static_cast<int64_t>(seconds + 0.5);
  std::string out;
  if (s >= 86400) out += std::to_string(s / 86400) + "d", s %= 86400;
  if (s >= 3600) out += std::to_string(s / 3600) + "h", s %= 3600;
  if (s >= 60) out += std::to_string(s / 60) + "m", s %= 60;
  if (s > 0) out += std::to_string(s) + "s";
  return out;
}

}  // namespace lifeboat
