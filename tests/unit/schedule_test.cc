// The agent's schedules (schedule/schedule.h) against instants written out by hand in UTC:
// the forms and their errors, New York's daylight-saving days (2026-03-08 the clocks go from
// 02:00 to 03:00, 2026-11-01 from 02:00 back to 01:00), cron's fields, windows, and what the
// agent does about runs it was not up for.
#include "schedule/schedule.h"

#include <gtest/gtest.h>

namespace lifeboat::schedule {
namespace {

UnixNanos At(const std::string& iso) {
  Result<UnixNanos> t = ParseTimestamp(iso);
  EXPECT_TRUE(t.ok()) << iso;
  return t.ok() ? *t : 0;
}

std::string Iso(UnixNanos t) { return FormatIso8601(t, false); }

Zone NewYork() { return std::move(Zone::Named("America/New_York").value()); }
Zone Utc() { return std::move(Zone::Named("UTC").value()); }

// The due times of `text` after `from`, `n` of them, in UTC.
std::vector<std::string> Next(const std::string& text, const std::string& from, int n, const Zone& zone) {
  Result<Schedule> s = Schedule::Parse(text);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  std::vector<std::string> out;
  if (!s.ok()) return out;
  UnixNanos t = At(from);
  for (int i = 0; i < n; ++i) {
    std::optional<UnixNanos> next = s->NextAfter(t, zone);
    if (!next) break;
    out.push_back(Iso(*next));
    t = *next;
  }
  return out;
}

TEST(ScheduleTest, ADailyJobRunsOnceOnEachDaylightSavingDay) {
  Zone ny = NewYork();
  // 03:00 local: EST is UTC-5, EDT UTC-4.
  EXPECT_EQ(Next("daily 03:00", "2026-03-06T12:00:00Z", 4, ny),
            (std::vector<std::string>{"2026-03-07T08:00:00Z", "2026-03-08T07:00:00Z", "2026-03-09T07:00:00Z",
                                      "2026-03-10T07:00:00Z"}));
  // 02:30 does not happen on March 8th: due when the clocks change, at 03:00 EDT.
  EXPECT_EQ(Next("daily 02:30", "2026-03-07T00:00:00Z", 3, ny),
            (std::vector<std::string>{"2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}));
  // 01:30 happens twice on November 1st: due at the first (EDT), not again an hour later.
  EXPECT_EQ(Next("daily 01:30", "2026-10-31T00:00:00Z", 3, ny),
            (std::vector<std::string>{"2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}));
  EXPECT_EQ(ny.Format(At("2026-11-01T05:30:00Z")), "2026-11-01 01:30:00 EDT");
  EXPECT_EQ(ny.Format(At("2026-11-01T06:30:00Z")), "2026-11-01 01:30:00 EST");
}

TEST(ScheduleTest, WeeklyMonthlyAndEvery) {
  Zone ny = NewYork();
  // 2026-12-06 is a Sunday.
  EXPECT_EQ(Next("weekly sun 03:00", "2026-12-02T00:00:00Z", 2, ny),
            (std::vector<std::string>{"2026-12-06T08:00:00Z", "2026-12-13T08:00:00Z"}));
  EXPECT_EQ(Next("weekly Sunday 03:00", "2026-12-02T00:00:00Z", 1, ny),
            (std::vector<std::string>{"2026-12-06T08:00:00Z"}));
  EXPECT_EQ(Next("monthly", "2026-12-02T00:00:00Z", 2, Utc()),
            (std::vector<std::string>{"2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"}));
  // The 31st: months without one are skipped, as cron does.
  EXPECT_EQ(Next("monthly 31 04:30", "2027-01-01T00:00:00Z", 3, Utc()),
            (std::vector<std::string>{"2027-01-31T04:30:00Z", "2027-03-31T04:30:00Z", "2027-05-31T04:30:00Z"}));
  // Multiples of the interval since the epoch, in UTC whatever the zone.
  EXPECT_EQ(Next("every 6h", "2026-12-02T05:59:59Z", 3, ny),
            (std::vector<std::string>{"2026-12-02T06:00:00Z", "2026-12-02T12:00:00Z", "2026-12-02T18:00:00Z"}));
  EXPECT_EQ(Next("every 30s", "2026-12-02T00:00:00Z", 2, ny),
            (std::vector<std::string>{"2026-12-02T00:00:30Z", "2026-12-02T00:01:00Z"}));
  Result<Schedule> after = Schedule::Parse("after backup");
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->after_backup());
  EXPECT_FALSE(after->NextAfter(At("2026-12-02T00:00:00Z"), ny).has_value());
}

TEST(ScheduleTest, CronFields) {
  Zone utc = Utc();
  // Every 15 minutes from 09:00 to 17:45 on weekdays; 2026-12-04 is a Friday.
  EXPECT_EQ(Next("*/15 9-17 * * 1-5", "2026-12-04T17:40:00Z", 3, utc),
            (std::vector<std::string>{"2026-12-04T17:45:00Z", "2026-12-07T09:00:00Z", "2026-12-07T09:15:00Z"}));
  // Day of month and day of week both restricted: either matches (the 15th, and Sundays).
  EXPECT_EQ(Next("0 0 15 * 0", "2026-12-10T00:00:00Z", 3, utc),
            (std::vector<std::string>{"2026-12-13T00:00:00Z", "2026-12-15T00:00:00Z", "2026-12-20T00:00:00Z"}));
  // 7 is Sunday too; lists and ranges with steps.
  EXPECT_EQ(Next("30 4 * * 7", "2026-12-02T00:00:00Z", 1, utc), (std::vector<std::string>{"2026-12-06T04:30:00Z"}));
  EXPECT_EQ(Next("5,35 0-6/3 1 1 *", "2026-12-02T00:00:00Z", 4, utc),
            (std::vector<std::string>{"2027-01-01T00:05:00Z", "2027-01-01T00:35:00Z", "2027-01-01T03:05:00Z",
                                      "2027-01-01T03:35:00Z"}));
  // February 30th never comes.
  Result<Schedule> never = Schedule::Parse("0 0 30 2 *");
  ASSERT_TRUE(never.ok());
  EXPECT_FALSE(never->NextAfter(At("2026-12-02T00:00:00Z"), utc).has_value());
}

TEST(ScheduleTest, BadSchedulesWindowsAndZonesAreConfigErrorsThatSayWhy) {
  const std::string forms =
      "use 'daily HH:MM', 'weekly DAY HH:MM', 'monthly [DAY] [HH:MM]', 'every DURATION' (30s, 15m, 6h), "
      "a 5-field cron expression or 'after backup'";
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"daily 25:00", "invalid schedule 'daily 25:00': 'daily' takes a time, such as 03:00"},
      {"daily", "invalid schedule 'daily': 'daily' takes a time, such as 03:00"},
      {"weekly someday 03:00", "invalid schedule 'weekly someday 03:00': 'weekly' takes a day and a time, such as sun 03:00"},
      {"every 10", "invalid schedule 'every 10': 'every' takes one duration, such as 30s, 15m or 6h"},
      {"monthly 32", "invalid schedule 'monthly 32': 'monthly' takes a day of the month 1-31 and a time"},
      {"60 * * * *", "invalid schedule '60 * * * *': minute field '60'"},
      {"* * * 13 *", "invalid schedule '* * * 13 *': month field '13'"},
      {"*/0 * * * *", "invalid schedule '*/0 * * * *': minute field '*/0'"},
      {"hourly", "invalid schedule 'hourly': not a known form"},
      {"", "invalid schedule '': it is empty"},
  };
  for (const Case& c : cases) {
    Result<Schedule> s = Schedule::Parse(c.text);
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.status().code(), Code::kConfig);
    EXPECT_EQ(s.status().message(), c.message);
    EXPECT_EQ(s.status().hint(), forms);
  }
  EXPECT_EQ(Window::Parse("03:00").status().message(), "invalid window '03:00'");
  EXPECT_EQ(Window::Parse("03:00-03:00").status().message(), "invalid window '03:00-03:00': it is empty");
  Result<Zone> mars = Zone::Named("Mars/Olympus_Mons");
  EXPECT_EQ(mars.status().code(), Code::kConfig);
  EXPECT_EQ(mars.status().message(), "unknown time zone 'Mars/Olympus_Mons'");
}

TEST(ScheduleTest, WindowsInLocalTimeAlsoPastMidnight) {
  Zone ny = NewYork();
  Window w = std::move(Window::Parse("03:00-04:00").value());
  // 03:30 EST is 08:30 UTC.
  EXPECT_TRUE(w.Contains(At("2026-12-02T08:30:00Z"), ny));
  EXPECT_FALSE(w.Contains(At("2026-12-02T09:00:00Z"), ny));  // 04:00, the end, is outside
  Window::Span s = w.NextOpen(At("2026-12-02T09:30:00Z"), ny);
  EXPECT_EQ(Iso(s.from), "2026-12-03T08:00:00Z");
  EXPECT_EQ(Iso(s.to), "2026-12-03T09:00:00Z");
  Window night = std::move(Window::Parse("23:30-01:00").value());
  Window::Span late = night.NextOpen(At("2026-12-02T12:00:00Z"), Utc());
  EXPECT_EQ(Iso(late.from), "2026-12-02T23:30:00Z");
  EXPECT_EQ(Iso(late.to), "2026-12-03T01:00:00Z");
  Window::Span early = night.NextOpen(At("2026-12-03T00:15:00Z"), Utc());
  EXPECT_EQ(Iso(early.from), "2026-12-03T00:15:00Z");
  EXPECT_EQ(Iso(early.to), "2026-12-03T01:00:00Z");
}

TEST(ScheduleTest, MissedRunsRunWhileStillInTheirSpanAndAreRecordedOtherwise) {
  Zone utc = Utc();
  Schedule full = std::move(Schedule::Parse("daily 03:00").value());
  Window window = std::move(Window::Parse("03:00-04:00").value());
  // Down from the 1st at 02:00 until the 3rd at 03:20: the 1st's and 2nd's were missed, the
  // 3rd's is still inside its window and runs now, until the window closes.
  Decision d = Decide(full, window, utc, At("2026-11-30T03:00:00Z"), At("2026-12-03T03:20:00Z"));
  ASSERT_EQ(d.missed.size(), 2u);
  EXPECT_EQ(Iso(d.missed[0]), "2026-12-01T03:00:00Z");
  EXPECT_EQ(Iso(d.missed[1]), "2026-12-02T03:00:00Z");
  ASSERT_TRUE(d.run.has_value());
  EXPECT_EQ(Iso(*d.run), "2026-12-03T03:00:00Z");
  EXPECT_EQ(Iso(*d.until), "2026-12-03T04:00:00Z");
  EXPECT_EQ(Iso(*d.wake), "2026-12-04T03:00:00Z");
  // Handled (run), asked again at the same moment: nothing runs twice.
  Decision again = Decide(full, window, utc, *d.run, At("2026-12-03T03:20:00Z"));
  EXPECT_FALSE(again.run.has_value());
  EXPECT_TRUE(again.missed.empty());
  EXPECT_EQ(Iso(*again.wake), "2026-12-04T03:00:00Z");
  // Back only after the window closed: that one is missed too.
  Decision late = Decide(full, window, utc, At("2026-12-02T03:00:00Z"), At("2026-12-03T04:10:00Z"));
  EXPECT_FALSE(late.run.has_value());
  ASSERT_EQ(late.missed.size(), 1u);
  EXPECT_EQ(Iso(late.missed[0]), "2026-12-03T03:00:00Z");
  // Without a window, a run may start until the next one is due.
  Schedule verify = std::move(Schedule::Parse("daily 05:00").value());
  Decision v = Decide(verify, std::nullopt, utc, At("2026-12-02T05:00:00Z"), At("2026-12-03T23:00:00Z"));
  EXPECT_EQ(Iso(*v.run), "2026-12-03T05:00:00Z");
  EXPECT_EQ(Iso(*v.until), "2026-12-04T05:00:00Z");
  // A job this agent has never handled misses nothing from before it started.
  Decision fresh = Decide(verify, std::nullopt, utc, std::nullopt, At("2026-12-03T23:00:00Z"));
  EXPECT_FALSE(fresh.run.has_value());
  EXPECT_TRUE(fresh.missed.empty());
  EXPECT_EQ(Iso(*fresh.wake), "2026-12-04T05:00:00Z");
  // A due time outside its window waits for the window's next opening before the next due.
  Schedule early = std::move(Schedule::Parse("daily 02:00").value());
  Decision wait = Decide(early, window, utc, At("2026-12-02T02:00:00Z"), At("2026-12-03T02:30:00Z"));
  EXPECT_FALSE(wait.run.has_value());
  EXPECT_TRUE(wait.missed.empty());
  EXPECT_EQ(Iso(*wait.wake), "2026-12-03T03:00:00Z");
  Decision opened = Decide(early, window, utc, At("2026-12-02T02:00:00Z"), At("2026-12-03T03:00:00Z"));
  EXPECT_EQ(Iso(*opened.run), "2026-12-03T02:00:00Z");
}

}  // namespace
}  // namespace lifeboat::schedule
