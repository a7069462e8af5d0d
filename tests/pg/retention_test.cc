// expire keeps every instant of the window restorable, and removes what no kept snapshot needs.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "pg_harness.h"

namespace fs = std::filesystem;

namespace lifeboat::testing {
namespace {

using RetentionTest = PgTest;

// Seconds since the epoch of an ISO 8601 UTC time with microseconds, as lifeboat prints them.
double Epoch(const std::string& iso) {
  struct tm tm {};
  strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  double frac = iso.size() > 20 ? std::stod("0" + iso.substr(19, iso.size() - 20)) : 0;
  return static_cast<double>(timegm(&tm)) + frac;
}

std::string Iso(double epoch) {
  time_t secs = static_cast<time_t>(epoch);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  snprintf(frac, sizeof(frac), ".%06dZ", static_cast<int>((epoch - static_cast<double>(secs)) * 1e6));
  return std::string(buf) + frac;
}

TEST_F(RetentionTest, ExpireKeepsTheWindowRestorableAndRemovesTheRest) {
  Sql("CREATE TABLE t (id int, at timestamptz DEFAULT clock_timestamp())");
  std::vector<std::string> ids, stops;
  for (int round = 0; round < 3; ++round) {
    RunResult b = Run({"backup", "--json"});
    ASSERT_EQ(b.exit_code, 0) << b.err;
    ids.push_back(nlohmann::json::parse(b.out)["id"]);
    for (int i = 0; i < 5; ++i) Sql("INSERT INTO t(id) VALUES (" + std::to_string(round * 10 + i) + ")");
    SwitchWalAndWaitArchived();
  }
  nlohmann::json snaps = nlohmann::json::parse(Run({"snapshots", "--json"}).out);
  ASSERT_EQ(snaps.size(), 3u);
  for (const auto& s : snaps) stops.push_back(s["stop_time"]);
  std::vector<std::string> wal_before = ListFiles(repo() + "/named/wal");

  // "Now" such that the 7-day window starts halfway between the second and third snapshots:
  // the second is the base for the window's earliest instants, the first can go.
  double window_start = (Epoch(stops[1]) + Epoch(stops[2])) / 2;
  std::string now = Iso(window_start + 7 * 86400);
  RunResult dry = Run({"expire", "--dry-run", "--now", now, "--json"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  nlohmann::json plan = nlohmann::json::parse(dry.out);
  ASSERT_EQ(plan["snapshots"].size(), 1u) << plan.dump(1);
  EXPECT_EQ(plan["snapshots"][0]["id"], ids[0]);
  EXPECT_EQ(plan["kept"], nlohmann::json({ids[1], ids[2]}));
  EXPECT_FALSE(plan["wal_files"].empty());
  EXPECT_EQ(ListFiles(repo() + "/named/wal"), wal_before);  // a dry run changes nothing
  RunResult human = Run({"expire", "--dry-run", "--now", now});
  EXPECT_NE(human.out.find("would remove snapshot " + ids[0].substr(0, 8) + ": finished "), std::string::npos)
      << human.out;

  RunResult done = Run({"expire", "--now", now, "--json"});
  ASSERT_EQ(done.exit_code, 0) << done.err;
  nlohmann::json after = nlohmann::json::parse(Run({"snapshots", "--json"}).out);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0]["id"], ids[1]);
  for (const auto& f : plan["wal_files"]) EXPECT_FALSE(fs::exists(repo() + "/named/wal/" + f.get<std::string>()));
  EXPECT_GT(nlohmann::json::parse(done.out)["bytes_freed"].get<int64_t>(), 0);
  EXPECT_EQ(Run({"repo", "check", "--read-data"}).exit_code, 0);

  // Instants inside the window still restore exactly: just after the window's start (from the
  // base snapshot) and the latest.
  // Just before row 20 was written: rows 0-4 and 10-14 had committed (the client saw them
  // acknowledged before it sent row 20), row 20 had not.
  std::string early = Sql("SELECT to_char((at - interval '1 microsecond') AT TIME ZONE 'UTC', "
                          "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM t WHERE id = 20")[0];
  RunResult r = Run({"restore", "--time", early, "--instance", "early"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SqlAt(InstanceHost("early"), instance_port_, "SELECT count(*) FROM t")[0], "10");
  RunResult latest = Run({"restore", "--latest", "--instance", "latest"});
  ASSERT_EQ(latest.exit_code, 0) << latest.err;
  EXPECT_EQ(SqlAt(InstanceHost("latest"), instance_port_ + 1, "SELECT count(*) FROM t")[0], "15");
}

}  // namespace
}  // namespace lifeboat::testing
