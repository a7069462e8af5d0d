// `lifeboat agent` on a real cluster with second-scale schedules: backups, an expire and a
// verify run when due and are journaled, one job at a time and each due time once; the
// supervised `wal stream` killed with -9 is restarted; the agent killed with -9 takes its
// running job down with it, and the agent started again records it as interrupted, runs it
// again while its span is open, and never runs two jobs at once. Ground truth is the schedule
// itself: due times are multiples of the interval since the epoch.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include <httplib.h>

#include "../cli/platform_harness.h"
#include "base/time.h"
#include "pg_harness.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace lifeboat::testing {
namespace {

constexpr int64_t kFullEvery = 24, kIncrementalEvery = 8, kExpireEvery = 40, kVerifyEvery = 30;

class AgentTest : public PgTest {
 protected:
  std::string ConfigText(const std::string& instances_dir) const override {
    if (metrics_port_ == 0) metrics_port_ = FreePortBlock(29300, 1);
    return PgTest::ConfigText(instances_dir) + "\n[schedule]\nfull = \"every " + std::to_string(kFullEvery) +
           "s\"\nincremental = \"every " + std::to_string(kIncrementalEvery) + "s\"\nexpire = \"every " +
           std::to_string(kExpireEvery) + "s\"\nverify = \"every " + std::to_string(kVerifyEvery) +
           "s\"\n\n[agent]\nlisten = \"127.0.0.1:" + std::to_string(metrics_port_) + "\"\nprobe_interval = \"2s\"\n";
  }
  // GET path from the agent's HTTP endpoint: status and body.
  std::pair<int, std::string> Get(const std::string& path) {
    httplib::Client c("127.0.0.1", metrics_port_);
    c.set_connection_timeout(2);
    httplib::Result r = c.Get(path);
    return r ? std::make_pair(r->status, r->body) : std::make_pair(0, std::string());
  }
  // The value of the sample line that starts with `series` ("name{labels}"), or "".
  static std::string Value(const std::string& metrics, const std::string& series) {
    size_t at = ("\n" + metrics).find("\n" + series + " ");
    if (at == std::string::npos) return "";
    size_t end = metrics.find('\n', at);
    return metrics.substr(at + series.size() + 1, end - at - series.size() - 1);
  }
  mutable int metrics_port_ = 0;
  pid_t StartAgent(const std::string& log) {
    pid_t pid = StartWithEnv({LIFEBOAT_BIN, "-c", Path("lifeboat.toml"), "agent"},
                             {{"LIFEBOAT_PASSPHRASE", "test passphrase"}}, Path(log));
    started_.push_back(pid);
    return pid;
  }
  json Jobs() {
    RunResult r = Run({"jobs", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json::array();
  }
  int Count(const json& jobs, const std::string& job, const std::string& state) {
    int n = 0;
    for (const auto& j : jobs) n += j["job"] == job && j["state"] == state ? 1 : 0;
    return n;
  }
  // Waits up to `seconds` for `done` over the journal.
  bool WaitJobs(int seconds, const std::function<bool(const json&)>& done) {
    for (int i = 0; i < seconds * 5; ++i) {
      if (done(Jobs())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }
  // The pid of the process whose command line has `text`, or 0.
  static pid_t PidWith(const std::string& text) {
    for (const auto& e : fs::directory_iterator("/proc")) {
      std::string name = e.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::string cmdline = ReadWholeFile(e.path().string() + "/cmdline");
      for (char& c : cmdline) c = c == '\0' ? ' ' : c;
      if (cmdline.find(text) != std::string::npos && ProcessRunning(std::stoi(name))) return std::stoi(name);
    }
    return 0;
  }
  void Stop(pid_t agent) {
    kill(agent, SIGTERM);
    int status = 0;
    ASSERT_EQ(waitpid(agent, &status, 0), agent);
    Forget(agent);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << ReadWholeFile(Path("agent.log"));
  }
};

TEST_F(AgentTest, JobsRunWhenDueOnceEachOneAtATimeAndSurviveKill9OfTheStreamerAndTheAgent) {
  Sql("CREATE TABLE t (id int)");
  ASSERT_EQ(Run({"backup"}).exit_code, 0);
  UnixNanos began = NowNanos();  // a repository with a snapshot, as the agent would find one
  std::string streamer = "lifeboat.toml wal stream";
  pid_t agent = StartAgent("agent.log");
  // The first full backup, then two incrementals on top of it.
  ASSERT_TRUE(WaitJobs(90, [&](const json& j) {
    return Count(j, "full", "succeeded") >= 1 && Count(j, "incremental", "succeeded") >= 2;
  })) << Jobs().dump(1) << ReadWholeFile(Path("agent.log"));
  // A second agent for the same state directory is refused, naming the first.
  RunResult second = Run({"agent"});
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_EQ(second.err.substr(0, second.err.find('\n')),
            "error: another agent runs for state directory '" + Path(".lifeboat") + "' (pid " + std::to_string(agent) + ")");

  // /metrics: what the probes saw (the first full backup finished after this test began, the
  // repository answers, the streamer runs), in an exposition promtool accepts.
  std::string metrics;
  auto agents_full = [&] {
    std::string v = Value(metrics, "lifeboat_backup_last_success_timestamp_seconds{kind=\"full\"}");
    return !v.empty() && std::stod(v) >= static_cast<double>(began) / 1e9;
  };
  for (int i = 0; i < 100 && !agents_full(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    metrics = Get("/metrics").second;
  }
  std::string full = Value(metrics, "lifeboat_backup_last_success_timestamp_seconds{kind=\"full\"}");
  ASSERT_FALSE(full.empty()) << metrics;
  EXPECT_GE(std::stod(full), static_cast<double>(began) / 1e9) << metrics;
  EXPECT_LE(std::stod(full), static_cast<double>(NowNanos()) / 1e9) << metrics;
  EXPECT_EQ(Value(metrics, "lifeboat_repository_up{repository=\"primary\"}"), "1") << metrics;
  EXPECT_EQ(Value(metrics, "lifeboat_wal_stream_up"), "1") << metrics;
  EXPECT_EQ(Value(metrics, "lifeboat_objective_rpo_seconds"), "86400") << metrics;
  EXPECT_EQ(Value(metrics, "lifeboat_recovery_window_gaps"), "0") << metrics;
  WriteFile(Path("metrics.txt"), metrics);
  std::string check;
  EXPECT_EQ(RunWithEnv({"/bin/sh", "-c", "promtool check metrics < '" + Path("metrics.txt") + "'"}, {}, &check), 0) << check;
  EXPECT_EQ(check, "");
  EXPECT_EQ(Get("/health"), std::make_pair(200, std::string("ok\n")));

  // The supervised streamer, killed with -9, is back within a few seconds under a new pid.
  pid_t first = PidWith(streamer);
  ASSERT_NE(first, 0) << ReadWholeFile(Path("agent.log"));
  kill(first, SIGKILL);
  pid_t again = 0;
  for (int i = 0; i < 100 && (again == 0 || again == first); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    again = PidWith(streamer);
  }
  EXPECT_NE(again, 0);
  EXPECT_NE(again, first);
  Sql("INSERT INTO t SELECT generate_series(1, 50)");

  // The agent killed with -9 while a job runs: the job goes with it.
  pid_t job = 0;
  for (int i = 0; i < 600 && job == 0; ++i) {
    json j = Jobs();
    for (const auto& r : j) {
      if (r["state"] == "running") job = r["pid"].get<int>();
    }
    if (job == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(job, 0) << "no job ran within 30 s";
  kill(agent, SIGKILL);
  ASSERT_EQ(waitpid(agent, nullptr, 0), agent);
  Forget(agent);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = !ProcessRunning(job);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(gone) << "job " << job << " outlived its agent";
  for (int i = 0; i < 200 && AnyCommandLineContains(streamer); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(AnyCommandLineContains(streamer)) << "the streamer outlived its agent";

  pid_t restarted = StartAgent("agent2.log");
  ASSERT_TRUE(WaitJobs(60, [&](const json& j) {
    int interrupted = 0;
    for (const auto& r : j) interrupted += r["state"] == "interrupted" ? 1 : 0;
    return interrupted == 1 && Count(j, "verify", "succeeded") >= 1 && Count(j, "expire", "succeeded") >= 1;
  })) << Jobs().dump(1) << ReadWholeFile(Path("agent.log")) << ReadWholeFile(Path("agent2.log"));
  Stop(restarted);

  json jobs = Jobs();
  std::set<std::string> ids;
  std::vector<std::pair<std::string, std::string>> spans;  // started, finished
  std::map<std::string, int64_t> every = {{"full", kFullEvery}, {"incremental", kIncrementalEvery},
                                          {"expire", kExpireEvery}, {"verify", kVerifyEvery}};
  std::map<std::string, std::set<std::string>> ran;  // each job's due times that succeeded
  for (const auto& r : jobs) {
    EXPECT_TRUE(ids.insert(r["id"].get<std::string>()).second) << r;
    std::string state = r["state"];
    EXPECT_TRUE(state == "succeeded" || state == "missed" || state == "interrupted") << r;
    // Due times are multiples of the job's interval since the epoch.
    Result<UnixNanos> due = ParseTimestamp(r["due_at"].get<std::string>());
    ASSERT_TRUE(due.ok()) << r;
    EXPECT_EQ(*due % (every.at(r["job"]) * 1'000'000'000), 0) << r;
    if (state == "succeeded") {
      EXPECT_TRUE(ran[r["job"]].insert(r["due_at"]).second) << "ran twice: " << r;
      EXPECT_EQ(r["exit_code"], 0) << r;
      EXPECT_TRUE(r["figures"].is_object()) << r;
    }
    if (!r["started_at"].is_null() && !r["finished_at"].is_null()) spans.emplace_back(r["started_at"], r["finished_at"]);
  }
  // One job at a time, also across the kill: no two spans overlap.
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i) {
    EXPECT_LE(spans[i - 1].second, spans[i].first) << spans[i - 1].first << " .. " << spans[i - 1].second
                                                    << " overlaps " << spans[i].first;
  }
  EXPECT_NE(ReadWholeFile(Path("agent2.log")).find("interrupted: the agent that started it stopped while it ran"),
            std::string::npos)
      << ReadWholeFile(Path("agent2.log"));
  // The streamer's restarts left no gap in the WAL.
  json window = json::parse(Run({"window", "--json"}).out);
  EXPECT_EQ(window["gaps"], json::array()) << window.dump();
  EXPECT_FALSE(AnyCommandLineContains(streamer));
}

}  // namespace
}  // namespace lifeboat::testing
