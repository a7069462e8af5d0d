// Point-in-time drills: `drill --point TIME` and `--point random` restore a point inside the
// window, and the restored instance's newest transaction is the test's own newest commit at or
// before that point. Ground truth is the test's clock around each of its commits.
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/time.h"
#include "pg_harness.h"

using json = nlohmann::json;

namespace lifeboat::testing {
namespace {

class DrillPointTest : public PgTest {
 protected:
  struct Commit {
    UnixNanos before = 0, after = 0;  // the test's clock around the INSERT's commit
  };
  std::vector<Commit> commits_;

  // The newest of the test's commits that certainly committed before `t`, or -1.
  int NewestBefore(UnixNanos t) const {
    int out = -1;
    for (size_t i = 0; i < commits_.size(); ++i) {
      if (commits_[i].after < t) out = static_cast<int>(i);
    }
    return out;
  }
};

TEST_F(DrillPointTest, APointInTheWindowIsRestoredToItsNewestCommitAndPointsOutsideAreRefused) {
  Sql("CREATE TABLE t (id int)");
  ASSERT_EQ(Run({"backup"}).exit_code, 0);
  for (int i = 0; i < 16; ++i) {
    Commit c;
    c.before = NowNanos();
    Sql("INSERT INTO t VALUES (" + std::to_string(i) + ")");
    c.after = NowNanos();
    commits_.push_back(c);
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  SwitchWalAndWaitArchived();

  // A time between commits 9 and 10: the restore stops after 9.
  UnixNanos between = commits_[9].after + (commits_[10].before - commits_[9].after) / 2;
  between -= between % 1000;  // what a time on the command line holds: microseconds
  RunResult exact = Run({"drill", "--point", FormatIso8601(between, true), "--json"});
  ASSERT_EQ(exact.exit_code, 0) << exact.err;
  json e = json::parse(exact.out);
  EXPECT_EQ(e["passed"], true) << e.dump(1);
  EXPECT_EQ(e["point"], "time");
  EXPECT_EQ(*ParseTimestamp(e["target"].get<std::string>()), between);
  EXPECT_TRUE(e["rpo_seconds"].is_null());
  EXPECT_EQ(e["rpo_basis"], "point in time");
  UnixNanos restored = *ParseTimestamp(e["recovered_to"].get<std::string>());
  EXPECT_GE(restored, commits_[9].before);
  EXPECT_LE(restored, commits_[9].after);

  // Random points, twice: each inside the window the test made and restored to the newest
  // commit before it.
  UnixNanos latest_commit = commits_.back().after;
  for (int round = 0; round < 2; ++round) {
    RunResult r = Run({"drill", "--point", "random", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json d = json::parse(r.out);
    EXPECT_EQ(d["passed"], true) << d.dump(1);
    EXPECT_EQ(d["point"], "random");
    UnixNanos target = *ParseTimestamp(d["target"].get<std::string>());
    EXPECT_LE(target, NowNanos());
    if (d["recovered_to"].is_null()) {
      // Nothing replayed: the point lies before the test's first commit had certainly committed.
      EXPECT_LT(target, commits_[0].after) << d.dump(1);
      continue;
    }
    UnixNanos got = *ParseTimestamp(d["recovered_to"].get<std::string>());
    EXPECT_LE(got, target) << d.dump(1);
    int newest = NewestBefore(target);
    if (newest >= 0) {
      EXPECT_GE(got, commits_[static_cast<size_t>(newest)].before) << "point " << d["target"] << ", commit " << newest;
    }
    if (target < latest_commit) {
      int next = newest + 1;
      EXPECT_LT(got, commits_[static_cast<size_t>(next)].after) << "a commit after the point was restored";
    }
  }
  json drills = json::parse(Run({"drills", "--json"}).out);
  EXPECT_EQ(drills.size(), 3u);

  // Points outside the window or not points at all: exit 1, nothing drilled.
  RunResult old = Run({"drill", "--point", "2000-01-01T00:00:00Z"});
  EXPECT_EQ(old.exit_code, 1);
  std::string expected = "error: --point 2000-01-01T00:00:00Z is outside the restorable window ";
  EXPECT_EQ(old.err.substr(0, expected.size()), expected) << old.err;
  EXPECT_NE(old.err.find("\nhint: 'lifeboat window' shows it\n"), std::string::npos) << old.err;
  RunResult soon = Run({"drill", "--point", "soon"});
  EXPECT_EQ(soon.exit_code, 1);
  EXPECT_EQ(soon.err, "error: --point 'soon' is not 'latest', 'random' or a time\n"
                      "hint: a time is ISO 8601, such as 2026-12-01T10:15:00Z\n");
  EXPECT_EQ(json::parse(Run({"drills", "--json"}).out).size(), 3u);
}

}  // namespace
}  // namespace lifeboat::testing
