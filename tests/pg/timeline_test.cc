// A restored and promoted cluster keeps archiving into the same repository on its new timeline;
// window and restore follow the newest timeline by default, or the one asked for.
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "pg_harness.h"

namespace lifeboat::testing {
namespace {

using TimelineTest = PgTest;

TEST_F(TimelineTest, RestoreAcrossAPromotionFollowsTheNewTimeline) {
  Sql("CREATE TABLE t (id int, tl text)");
  ASSERT_EQ(Run({"backup"}).exit_code, 0);
  Sql("INSERT INTO t SELECT g, 'one' FROM generate_series(1, 10) g");
  SwitchWalAndWaitArchived();

  // The restored instance becomes the new production: it archives on timeline 2.
  RunResult r = Run({"restore", "--latest", "--instance", "prod2", "--archive", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int port = nlohmann::json::parse(r.out)["port"];
  std::string host = InstanceHost("prod2");
  EXPECT_EQ(SqlAt(host, port, "SELECT timeline_id FROM pg_control_checkpoint()")[0], "2");
  SqlAt(host, port, "INSERT INTO t SELECT g, 'two' FROM generate_series(11, 15) g");
  std::string file = SqlAt(host, port, "SELECT pg_walfile_name(pg_switch_wal())")[0];
  for (int i = 0; i < 600; ++i) {
    std::string last = SqlAt(host, port, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")[0];
    if (last >= file && last.size() == 24) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(file.substr(0, 8), "00000002");

  nlohmann::json w = nlohmann::json::parse(Run({"window", "--json"}).out);
  EXPECT_EQ(w["timeline"], 2);
  nlohmann::json w1 = nlohmann::json::parse(Run({"window", "--timeline", "1", "--json"}).out);
  EXPECT_EQ(w1["timeline"], 1);
  EXPECT_GT(w["latest"].get<std::string>(), w1["latest"].get<std::string>());

  // Latest follows timeline 2: the rows written after the promotion are there.
  RunResult latest = Run({"restore", "--latest", "--instance", "after"});
  ASSERT_EQ(latest.exit_code, 0) << latest.err;
  EXPECT_EQ(SqlAt(InstanceHost("after"), instance_port_ + 1, "SELECT count(*), count(*) FILTER (WHERE tl = 'two') FROM t")[0],
            "15|5");
  // Timeline 1 on request: only what the old production wrote.
  RunResult old = Run({"restore", "--latest", "--timeline", "1", "--instance", "old"});
  ASSERT_EQ(old.exit_code, 0) << old.err;
  EXPECT_EQ(SqlAt(InstanceHost("old"), instance_port_ + 2, "SELECT count(*) FROM t")[0], "10");
  RunResult bad = Run({"window", "--timeline", "7"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err.substr(0, bad.err.find('\n')), "error: timeline 7 has no history file in the repository");
}

}  // namespace
}  // namespace lifeboat::testing
