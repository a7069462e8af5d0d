// The demo end to end (what `make demo` runs), twice in the same directory, then --down: it
// reports its measurements, the second run replaces the first, and nothing is left running.
#include <filesystem>

#include "../cli/platform_harness.h"
#include "pg_harness.h"

namespace fs = std::filesystem;

namespace lifeboat::testing {
namespace {

class DemoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lifeboat-demo-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = std::string(tmpl) + "/sandbox";
  }
  void TearDown() override {
    RunWithEnv({LIFEBOAT_BIN, "demo", "--dir", dir_, "--down"}, {});
    KillRecorded(dir_ + "/.lifeboat");
    std::error_code ec;
    fs::path real = fs::canonical(dir_, ec);  // the sandbox under /var/tmp when dir_ links to it
    if (!ec) fs::remove_all(real);
    fs::remove_all(fs::path(dir_).parent_path());
  }
  std::string dir_;
};

TEST_F(DemoTest, RunsTwiceReportsItsMeasurementsAndComesDownCleanly) {
  for (int round = 0; round < 2; ++round) {
    std::string out;
    int rc = RunWithEnv({LIFEBOAT_BIN, "demo", "--dir", dir_}, {}, &out);
    ASSERT_EQ(rc, 0) << out;
    if (round == 1) {
      EXPECT_NE(out.find("a previous demo is in " + dir_ + ": taking it down first"), std::string::npos);
    }
    EXPECT_NE(out.find("drill drill-"), std::string::npos) << out;
    EXPECT_NE(out.find(": PASSED\n"), std::string::npos) << out;
    EXPECT_NE(out.find(" orders deleted\n"), std::string::npos) << out;
    EXPECT_NE(out.find("run recover-"), std::string::npos) << out;
    EXPECT_NE(out.find("(objective 60 s: met)   RPO "), std::string::npos) << out;
    EXPECT_NE(out.find("(objective 1 s: met)\n"), std::string::npos) << out;
    EXPECT_NE(out.find("requests that failed during the recovery: 0 "), std::string::npos) << out;
    EXPECT_NE(out.find("lifeboat demo --dir " + dir_ + " --down"), std::string::npos) << out;
  }
  std::vector<pid_t> pids = RecordedPids(dir_ + "/.lifeboat");
  EXPECT_EQ(pids.size(), 7u);  // supervisors and children of two shop replicas and the static server; haproxy
  std::string out;
  ASSERT_EQ(RunWithEnv({LIFEBOAT_BIN, "demo", "--dir", dir_, "--down"}, {}, &out), 0) << out;
  for (pid_t pid : pids) EXPECT_FALSE(ProcessRunning(pid)) << pid;
  EXPECT_FALSE(AnyCommandLineContains(dir_));  // PostgreSQL, shop-load, wal stream: all gone
}

}  // namespace
}  // namespace lifeboat::testing
