#include "schedule/schedule.h"

#include <date/tz.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <sstream>

namespace lifeboat::schedule {

namespace {

using Nanos = std::chrono::nanoseconds;
constexpr int64_t kNanosPerSecond = 1'000'000'000;
// How far ahead a cron expression is searched: eight years holds every February 29th.
constexpr int kSearchDays = 8 * 366;
// Due times enumerated at most for one decision (a long outage of an "every 30s" job): older
// ones are not listed as missed one by one.
constexpr size_t kMaxEnumerated = 10000;

const char* const kForms =
    "use 'daily HH:MM', 'weekly DAY HH:MM', 'monthly [DAY] [HH:MM]', 'every DURATION' (30s, 15m, 6h), "
    "a 5-field cron expression or 'after backup'";

std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool ParseInt(const std::string& s, int lo, int hi, int* out) {
  if (s.empty() || s.size() > 4 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  int v = std::stoi(s);
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

// "HH:MM" → minutes after midnight.
bool ParseClock(const std::string& s, int* minutes) {
  size_t colon = s.find(':');
  int h = 0, m = 0;
  if (colon == std::string::npos || !ParseInt(s.substr(0, colon), 0, 23, &h) ||
      s.size() - colon - 1 != 2 || !ParseInt(s.substr(colon + 1), 0, 59, &m)) {
    return false;
  }
  *minutes = h * 60 + m;
  return true;
}

int WeekdayNumber(const std::string& s) {
  static const char* const kNames[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
  std::string lower;
  for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (int i = 0; i < 7; ++i) {
    std::string full = kNames[i];
    if (lower == full || lower == full.substr(0, 3)) return i;
  }
  return -1;
}

// One cron field ("*", "1,15", "9-17", "*/15", "0-30/10") as a bit set over [lo, hi].
bool ParseCronField(const std::string& field, int lo, int hi, uint64_t* bits) {
  *bits = 0;
  std::stringstream parts(field);
  for (std::string part; std::getline(parts, part, ',');) {
    int step = 1;
    size_t slash = part.find('/');
    if (slash != std::string::npos) {
      if (!ParseInt(part.substr(slash + 1), 1, hi, &step)) return false;
      part = part.substr(0, slash);
    }
    int from = lo, to = hi;
    if (part != "*") {
      size_t dash = part.find('-');
      if (dash == std::string::npos) {
        if (!ParseInt(part, lo, hi, &from)) return false;
        to = slash == std::string::npos ? from : hi;
      } else if (!ParseInt(part.substr(0, dash), lo, hi, &from) || !ParseInt(part.substr(dash + 1), lo, hi, &to) ||
                 to < from) {
        return false;
      }
    }
    for (int v = from; v <= to; v += step) *bits |= uint64_t{1} << v;
  }
  return *bits != 0;
}

bool Has(uint64_t bits, int v) { return (bits >> v) & 1; }

date::local_days LocalDate(int y, int m, int d) {
  return date::local_days{date::year{y} / date::month{static_cast<unsigned>(m)} / date::day{static_cast<unsigned>(d)}};
}

}  // namespace

Result<Zone> Zone::Named(const std::string& name) {
  try {
    return Zone(name, date::locate_zone(name));
  } catch (const std::exception&) {
    return Status::Config("unknown time zone '" + name + "'",
                          "use a name from the system's time-zone database (/usr/share/zoneinfo), such as "
                          "America/New_York or UTC");
  }
}

Zone::Local Zone::ToLocal(UnixNanos t) const {
  auto lt = tz_->to_local(date::sys_time<Nanos>{Nanos{t}});
  auto ld = date::floor<date::days>(lt);
  date::year_month_day ymd{ld};
  date::hh_mm_ss<Nanos> hms{lt - ld};
  Local l;
  l.year = static_cast<int>(ymd.year());
  l.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  l.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  l.hour = static_cast<int>(hms.hours().count());
  l.minute = static_cast<int>(hms.minutes().count());
  l.second = static_cast<int>(hms.seconds().count());
  l.weekday = static_cast<int>(date::weekday{ld}.c_encoding());
  return l;
}

UnixNanos Zone::FromLocal(int year, int month, int day, int hour, int minute, int second) const {
  auto lt = LocalDate(year, month, day) + std::chrono::hours{hour} + std::chrono::minutes{minute} +
            std::chrono::seconds{second};
  // choose::earliest: the first of a repeated time; a skipped one gives the change's instant.
  auto sys = tz_->to_sys(lt, date::choose::earliest);
  return std::chrono::duration_cast<Nanos>(sys.time_since_epoch()).count();
}

std::string Zone::Format(UnixNanos t) const {
  auto sys = date::floor<std::chrono::seconds>(date::sys_time<Nanos>{Nanos{t}});
  return date::format("%F %T %Z", date::make_zoned(tz_, sys));
}

class ScheduleParser {
 public:
  static Result<Schedule> Parse(const std::string& text) {
    Schedule s;
    s.text_ = text;
    std::vector<std::string> w = Words(text);
    auto bad = [&](const std::string& why) {
      return Status::Config("invalid schedule '" + text + "': " + why, kForms);
    };
    if (w.empty()) return bad("it is empty");
    if (w.size() == 2 && w[0] == "after" && w[1] == "backup") {
      s.kind_ = Schedule::Kind::kAfterBackup;
      return s;
    }
    if (w[0] == "every") {
      Result<int64_t> d = w.size() == 2 ? ParseDuration(w[1]) : Result<int64_t>(Status::Usage("x"));
      if (!d.ok() || *d <= 0) return bad("'every' takes one duration, such as 30s, 15m or 6h");
      s.kind_ = Schedule::Kind::kEvery;
      s.every_seconds_ = *d;
      return s;
    }
    int clock = 0;
    auto at = [&](uint32_t* hours, uint64_t* minutes) {
      *hours = uint32_t{1} << (clock / 60);
      *minutes = uint64_t{1} << (clock % 60);
    };
    s.kind_ = Schedule::Kind::kCron;
    s.months_ = 0x1FFE;            // 1-12
    s.days_ = 0xFFFFFFFE;          // 1-31
    s.weekdays_ = 0x7F;            // 0-6
    if (w[0] == "daily") {
      if (w.size() != 2 || !ParseClock(w[1], &clock)) return bad("'daily' takes a time, such as 03:00");
      at(&s.hours_, &s.minutes_);
      return s;
    }
    if (w[0] == "weekly") {
      int wd = w.size() == 3 ? WeekdayNumber(w[1]) : -1;
      if (wd < 0 || !ParseClock(w[2], &clock)) return bad("'weekly' takes a day and a time, such as sun 03:00");
      at(&s.hours_, &s.minutes_);
      s.weekdays_ = uint32_t{1} << wd;
      s.any_weekday_ = false;
      return s;
    }
    if (w[0] == "monthly") {
      int day = 1;
      size_t next = 1;
      if (w.size() > next && w[next].find(':') == std::string::npos) {
        if (!ParseInt(w[next], 1, 31, &day)) return bad("'monthly' takes a day of the month 1-31 and a time");
        ++next;
      }
      if (w.size() > next && !ParseClock(w[next++], &clock)) return bad("'monthly' takes a time such as 04:30");
      if (w.size() != next) return bad("'monthly' takes at most a day and a time");
      at(&s.hours_, &s.minutes_);
      s.days_ = uint32_t{1} << day;
      s.any_day_ = false;
      return s;
    }
    if (w.size() != 5) return bad("not a known form");
    uint64_t minutes = 0, hours = 0, days = 0, months = 0, weekdays = 0;
    if (!ParseCronField(w[0], 0, 59, &minutes)) return bad("minute field '" + w[0] + "'");
    if (!ParseCronField(w[1], 0, 23, &hours)) return bad("hour field '" + w[1] + "'");
    if (!ParseCronField(w[2], 1, 31, &days)) return bad("day-of-month field '" + w[2] + "'");
    if (!ParseCronField(w[3], 1, 12, &months)) return bad("month field '" + w[3] + "'");
    if (!ParseCronField(w[4], 0, 7, &weekdays)) return bad("day-of-week field '" + w[4] + "'");
    if (Has(weekdays, 7)) weekdays = (weekdays | 1) & 0x7F;  // 7 is Sunday too
    s.minutes_ = minutes;
    s.hours_ = static_cast<uint32_t>(hours);
    s.days_ = static_cast<uint32_t>(days);
    s.months_ = static_cast<uint16_t>(months);
    s.weekdays_ = static_cast<uint32_t>(weekdays);
    s.any_day_ = w[2] == "*";
    s.any_weekday_ = w[4] == "*";
    return s;
  }
};

Result<Schedule> Schedule::Parse(const std::string& text) { return ScheduleParser::Parse(text); }

std::optional<UnixNanos> Schedule::NextAfter(UnixNanos t, const Zone& zone) const {
  switch (kind_) {
    case Kind::kAfterBackup: return std::nullopt;
    case Kind::kEvery: {
      int64_t step = every_seconds_ * kNanosPerSecond;
      return (t / step + 1) * step;
    }
    case Kind::kCron: break;
  }
  Zone::Local l = zone.ToLocal(t);
  date::local_days first = LocalDate(l.year, l.month, l.day);
  for (int offset = 0; offset < kSearchDays; ++offset) {
    date::year_month_day ymd{first + date::days{offset}};
    int month = static_cast<int>(static_cast<unsigned>(ymd.month()));
    int day = static_cast<int>(static_cast<unsigned>(ymd.day()));
    if (!Has(months_, month)) continue;
    int weekday = static_cast<int>(date::weekday{date::local_days{ymd}}.c_encoding());
    bool dom = Has(days_, day), dow = Has(weekdays_, weekday);
    // cron's rule: with both restricted, either matches; otherwise the restricted one.
    bool match = any_day_ && any_weekday_ ? true : any_day_ ? dow : any_weekday_ ? dom : (dom || dow);
    if (!match) continue;
    int year = static_cast<int>(ymd.year());
    for (int h = 0; h < 24; ++h) {
      if (!Has(hours_, h)) continue;
      for (int m = 0; m < 60; ++m) {
        if (!Has(minutes_, m)) continue;
        UnixNanos c = zone.FromLocal(year, month, day, h, m);
        if (c > t) return c;
      }
    }
  }
  return std::nullopt;
}

Result<Window> Window::Parse(const std::string& text) {
  Window w;
  w.text_ = text;
  size_t dash = text.find('-');
  if (dash == std::string::npos || !ParseClock(text.substr(0, dash), &w.start_minute_) ||
      !ParseClock(text.substr(dash + 1), &w.end_minute_)) {
    return Status::Config("invalid window '" + text + "'", "write it as HH:MM-HH:MM in local time, such as 03:00-04:00");
  }
  if (w.start_minute_ == w.end_minute_) {
    return Status::Config("invalid window '" + text + "': it is empty", "write it as HH:MM-HH:MM, such as 03:00-04:00");
  }
  return w;
}

Window::Span Window::NextOpen(UnixNanos t, const Zone& zone) const {
  Zone::Local l = zone.ToLocal(t);
  date::local_days today = LocalDate(l.year, l.month, l.day);
  auto at = [&](date::local_days d, int minute) {
    date::year_month_day ymd{d};
    return zone.FromLocal(static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
                          static_cast<int>(static_cast<unsigned>(ymd.day())), minute / 60, minute % 60);
  };
  date::local_days tomorrow = today + date::days{1};
  UnixNanos start_today = at(today, start_minute_), end_today = at(today, end_minute_);
  if (start_minute_ < end_minute_) {
    if (t < start_today) return {start_today, end_today};
    if (t < end_today) return {t, end_today};
    return {at(tomorrow, start_minute_), at(tomorrow, end_minute_)};
  }
  // Wrapping past midnight: [start, 24:00) today and [00:00, end) of the next day.
  if (t < end_today) return {t, end_today};  // the occurrence that began yesterday
  if (t < start_today) return {start_today, at(tomorrow, end_minute_)};
  return {t, at(tomorrow, end_minute_)};
}

Decision Decide(const Schedule& schedule, const std::optional<Window>& window, const Zone& zone,
                std::optional<UnixNanos> last_handled, UnixNanos now) {
  Decision d;
  if (schedule.after_backup()) return d;
  // The span in which due time `due` may start: from it (or the window's next opening) until
  // the next due time or the window occurrence's end.
  struct Span {
    UnixNanos from, to;
  };
  auto span = [&](UnixNanos due) {
    std::optional<UnixNanos> next = schedule.NextAfter(due, zone);
    UnixNanos to = next.value_or(INT64_MAX);
    UnixNanos from = due;
    if (window) {
      Window::Span open = window->NextOpen(due, zone);
      from = open.from;
      to = std::min(to, open.to);
    }
    return Span{from, to};
  };
  std::vector<UnixNanos> due;
  for (std::optional<UnixNanos> n = schedule.NextAfter(last_handled.value_or(now), zone); n && *n <= now;
       n = schedule.NextAfter(*n, zone)) {
    due.push_back(*n);
    if (due.size() > kMaxEnumerated) due.erase(due.begin());
  }
  if (!due.empty()) {
    UnixNanos newest = due.back();
    due.pop_back();
    d.missed = std::move(due);
    Span s = span(newest);
    if (s.from <= now && now < s.to) {
      d.run = newest;
      d.until = s.to;
    } else if (now < s.from && s.from < s.to) {
      d.wake = s.from;  // the window opens later, before the next due time
      return d;
    } else {
      d.missed.push_back(newest);
    }
  }
  std::optional<UnixNanos> next = schedule.NextAfter(d.run.value_or(now), zone);
  if (next) d.wake = span(*next).from;
  return d;
}

}  // namespace lifeboat::schedule
