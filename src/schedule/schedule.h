// When the agent's jobs are due ([schedule]): schedules in a time zone of the system's
// database, a full backup's daily window, and what to do about runs the agent was not up for.
// Pure logic over instants (UnixNanos): the agent passes its clock in, the tests a fake one.
//
// Daylight saving: a local time that happens twice (the clocks went back) is due once, at its
// first occurrence; one that does not happen (they went forward) is due at the moment of the
// change. So a daily job is neither skipped nor doubled on those days.
//
// Thread safety: all of these are immutable values once made; Zone refers to the time-zone
// database, which is loaded once and never changed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/time.h"

namespace date {
class time_zone;
}

namespace lifeboat::schedule {

// A time zone of the system's database (/usr/share/zoneinfo, Debian's tzdata).
class Zone {
 public:
  // "UTC", "America/New_York"; an unknown name is Code::kConfig naming it.
  static Result<Zone> Named(const std::string& name);
  const std::string& name() const { return name_; }

  struct Local {
    int year = 1970, month = 1, day = 1;  // month 1-12, day 1-31
    int hour = 0, minute = 0, second = 0;
    int weekday = 4;  // 0 = Sunday
  };
  Local ToLocal(UnixNanos t) const;
  // The instant of a local wall-clock time (see the top of this file for the two DST cases).
  UnixNanos FromLocal(int year, int month, int day, int hour, int minute, int second = 0) const;
  // "2026-12-06 03:00:00 EST"
  std::string Format(UnixNanos t) const;

 private:
  Zone(std::string name, const date::time_zone* tz) : name_(std::move(name)), tz_(tz) {}
  std::string name_;
  const date::time_zone* tz_;  // owned by the database
};

// One job's schedule. The forms:
//   "daily 03:00", "weekly sun 03:00", "monthly" (the 1st at 00:00), "monthly 15 04:30"
//     (a day that a month lacks is skipped that month, as cron does);
//   "every 6h", "every 30s": multiples of the interval since 1970-01-01 00:00 UTC (so "every
//     6h" is 00:00, 06:00, 12:00 and 18:00 UTC), unaffected by daylight saving;
//   a 5-field cron expression "MIN HOUR DAY MONTH WEEKDAY" with *, lists, ranges and /steps,
//     weekday 0-7 (0 and 7 Sunday); when both DAY and WEEKDAY are restricted either matches;
//   "after backup": no times of its own, it runs after each successful backup.
class Schedule {
 public:
  // A bad form is Code::kConfig with the text and the forms it could have been.
  static Result<Schedule> Parse(const std::string& text);
  const std::string& text() const { return text_; }
  bool after_backup() const { return kind_ == Kind::kAfterBackup; }
  // The first due time strictly after `t`; nullopt for "after backup" (and for a cron
  // expression that never matches, such as the 31st of February).
  std::optional<UnixNanos> NextAfter(UnixNanos t, const Zone& zone) const;

 private:
  enum class Kind { kEvery, kCron, kAfterBackup };
  Kind kind_ = Kind::kCron;
  std::string text_;
  int64_t every_seconds_ = 0;
  // Cron fields as bit sets: minute 0-59, hour 0-23, day 1-31, month 1-12, weekday 0-6.
  uint64_t minutes_ = 0;
  uint32_t hours_ = 0, days_ = 0, weekdays_ = 0;
  uint16_t months_ = 0;
  bool any_day_ = true, any_weekday_ = true;
  friend class ScheduleParser;
};

// A daily window in local time, "03:00-04:00" (one that ends before it starts wraps past
// midnight: "23:30-01:00").
class Window {
 public:
  static Result<Window> Parse(const std::string& text);
  const std::string& text() const { return text_; }
  // The first instant at or after `t` inside the window, and the end of that occurrence.
  struct Span {
    UnixNanos from = 0, to = 0;
  };
  Span NextOpen(UnixNanos t, const Zone& zone) const;
  bool Contains(UnixNanos t, const Zone& zone) const { return NextOpen(t, zone).from == t; }

 private:
  std::string text_;
  int start_minute_ = 0, end_minute_ = 0;  // minutes after local midnight
};

// What a job's due times ask of the agent at `now`, given the due time it handled last (ran,
// or recorded as missed). Each due time d gives one run, which may start from d (or, with a
// window, from the window's first opening at or after d) until the next due time or the
// window's end, whichever is first. A due time whose span passed unstarted is missed. With no
// due time handled yet (a job new to this agent), nothing before `now` is missed.
struct Decision {
  std::vector<UnixNanos> missed;   // due times whose span has passed, oldest first
  std::optional<UnixNanos> run;    // a due time to run now
  std::optional<UnixNanos> until;  // with `run`: the end of its span (the window's end)
  std::optional<UnixNanos> wake;   // when something can next become runnable (empty: never)
};
Decision Decide(const Schedule& schedule, const std::optional<Window>& window, const Zone& zone,
                std::optional<UnixNanos> last_handled, UnixNanos now);

}  // namespace lifeboat::schedule
