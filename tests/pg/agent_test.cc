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
#include <mutex>
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

// What both fixtures share: the agent as a child of the test, its HTTP endpoint, its journal.
class AgentHarness : public PgTest {
 protected:
  int MetricsPort() const {
    if (metrics_port_ == 0) metrics_port_ = FreePortBlock(29300, 1);
    return metrics_port_;
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
  // Waits up to `seconds` of wall-clock time for `done` over the journal (each `jobs` call
  // counts against it: on a loaded machine one takes seconds).
  bool WaitJobs(int seconds, const std::function<bool(const json&)>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
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

class AgentTest : public AgentHarness {
 protected:
  std::string ConfigText(const std::string& instances_dir) const override {
    return PgTest::ConfigText(instances_dir) + "\n[schedule]\nfull = \"every " + std::to_string(kFullEvery) +
           "s\"\nincremental = \"every " + std::to_string(kIncrementalEvery) + "s\"\nexpire = \"every " +
           std::to_string(kExpireEvery) + "s\"\nverify = \"every " + std::to_string(kVerifyEvery) +
           "s\"\n\n[agent]\nlisten = \"127.0.0.1:" + std::to_string(MetricsPort()) + "\"\nprobe_interval = \"2s\"\n";
  }
};

TEST_F(AgentTest, JobsRunWhenDueOnceEachOneAtATimeAndSurviveKill9OfTheStreamerAndTheAgent) {
  Sql("CREATE TABLE t (id int)");
  ASSERT_EQ(Run({"backup"}).exit_code, 0);
  UnixNanos began = NowNanos();  // a repository with a snapshot, as the agent would find one
  std::string streamer = Path("lifeboat.toml") + " wal stream";  // this test's, not a concurrent one's
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
  ASSERT_TRUE(WaitJobs(150, [&](const json& j) {
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

// Alerts, the jobs that copy and drill, a real Prometheus scrape and a recovery, on one agent
// with a webhook the test serves. Probes every second: a status check is an alert after two
// probes in a row.
class AgentAlertTest : public AgentHarness {
 protected:
  void SetUp() override {
    webhook_port_ = FreePortBlock(29400, 1);
    AgentHarness::SetUp();
    hook_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      received_.push_back(json::parse(req.body, nullptr, false));
      res.set_content("ok", "text/plain");
    });
    ASSERT_TRUE(hook_.bind_to_port("127.0.0.1", webhook_port_));
    hook_thread_ = std::thread([this] { hook_.listen_after_bind(); });
  }
  void TearDown() override {
    hook_.stop();
    if (hook_thread_.joinable()) hook_thread_.join();
    AgentHarness::TearDown();
  }
  std::string ConfigText(const std::string& instances_dir) const override {
    return PgTest::ConfigText(instances_dir) +
           "\n[repository.offsite]\npath = \"mirror\"\npassphrase_file = \"pass\"\n"
           "\n[schedule]\ncopy = \"every 10s\"\ndrill = \"every 30s\"\n"
           "\n[recovery]\nsecret = \"db\"\n"
           "\n[agent]\nlisten = \"127.0.0.1:" + std::to_string(MetricsPort()) + "\"\nprobe_interval = \"1s\"\n"
           "\n[alert]\nrepeat = \"1h\"\n[[alert.notify]]\nwebhook = \"http://127.0.0.1:" + std::to_string(webhook_port_) +
           "/hook\"\n\n[[contacts]]\nname = \"Ops Lead\"\nemail = \"ops@example.com\"\nrole = \"primary on-call\"\n";
  }
  // Waits up to `seconds` for a notification of `alert` in `state`; returns it, or null.
  json WaitNotification(int seconds, const std::string& alert, const std::string& state) {
    for (int i = 0; i < seconds * 10; ++i) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (const json& n : received_) {
          if (n.is_object() && n["alert"] == alert && n["state"] == state) return n;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return json();
  }
  // A Prometheus instant query's first value, or "".
  static std::string Query(int port, const std::string& promql) {
    httplib::Client c("127.0.0.1", port);
    httplib::Result r = c.Get("/api/v1/query", httplib::Params{{"query", promql}}, httplib::Headers{});
    if (!r || r->status != 200) return "";
    json j = json::parse(r->body, nullptr, false);
    if (!j.is_object() || j["data"]["result"].empty()) return "";
    return j["data"]["result"][0]["value"][1].get<std::string>();
  }

  int webhook_port_ = 0;
  httplib::Server hook_;
  std::thread hook_thread_;
  std::mutex mu_;
  std::vector<json> received_;
};

TEST_F(AgentAlertTest, AlertsReachTheWebhookAndResolveCopiesAndDrillsRunAndTheStreamerFollowsARecovery) {
  Sql("CREATE TABLE t (id int)");
  Sql("INSERT INTO t SELECT generate_series(1, 100)");
  RunResult backup = Run({"backup", "--json"});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  std::string snapshot = json::parse(backup.out)["id"];
  // What a cutover rewrites: the application's connection secret.
  ASSERT_EQ(Run({"secret", "set", "db", "PGHOST=" + dir_, "PGPORT=" + std::to_string(port_)}).exit_code, 0);
  pid_t agent = StartAgent("agent.log");

  // A real Prometheus scrapes the agent, with the shipped rules loaded.
  int prom_port = FreePortBlock(29500, 1);
  WriteFile(Path("prometheus.yml"), "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - " +
                                        std::string(LIFEBOAT_RULES) + "\nscrape_configs:\n  - job_name: lifeboat\n"
                                        "    static_configs:\n      - targets: ['127.0.0.1:" +
                                        std::to_string(MetricsPort()) + "']\n");
  pid_t prom = StartWithEnv({"/usr/bin/prometheus", "--config.file=" + Path("prometheus.yml"),
                             "--storage.tsdb.path=" + Path("tsdb"), "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
                            {}, Path("prometheus.log"));
  started_.push_back(prom);

  // The copy and the drill run on their own schedules: the snapshot reaches the mirror, and a
  // drill passes.
  ASSERT_TRUE(WaitJobs(120, [&](const json& j) {
    return Count(j, "copy", "succeeded") >= 1 && Count(j, "drill", "succeeded") >= 1;
  })) << Jobs().dump(1) << ReadWholeFile(Path("agent.log"));
  RunResult mirror = Run({"--repo", "offsite", "snapshots", "--json"});
  ASSERT_EQ(mirror.exit_code, 0) << mirror.err;
  std::set<std::string> mirrored;
  for (const auto& m : json::parse(mirror.out)) mirrored.insert(m["id"].get<std::string>());
  EXPECT_EQ(mirrored.count(snapshot), 1u) << mirror.out;
  json drills = json::parse(Run({"drills", "--json"}).out);
  ASSERT_GE(drills.size(), 1u);
  EXPECT_EQ(drills[0]["passed"], true) << drills[0].dump();
  // Each drill stored the runbook in both repositories, and the agent wrote it beside its
  // state: the offsite copy, read with only the key, names a recorded drill as the last test.
  std::string runbook;
  ASSERT_EQ(RunWithEnv({LIFEBOAT_BIN, "runbook", "--from-repository", Path("mirror"), "--key", Path("pass")},
                       {{"LIFEBOAT_PASSPHRASE", ""}}, &runbook),
            0)
      << runbook;
  bool names_a_drill = false;
  for (const auto& d : json::parse(Run({"drills", "--json"}).out)) {
    std::string line = "**Last test:** ";
    size_t at = runbook.find(line);
    names_a_drill = names_a_drill || (at != std::string::npos &&
                                      runbook.substr(at, runbook.find('\n', at) - at)
                                              .find(" — drill " + d["id"].get<std::string>() + ", passed") != std::string::npos);
  }
  EXPECT_TRUE(names_a_drill) << runbook;
  EXPECT_EQ(ReadWholeFile(Path(".lifeboat/runbook.md")).rfind("# Disaster-recovery runbook: main\n", 0), 0u);
  // The dashboard shows the drill as passed, and the one snapshot this test took.
  httplib::Client dash("127.0.0.1", MetricsPort());
  std::string row = "<tr id=\"drill-" + drills[0]["id"].get<std::string>() + "\" data-passed=\"true\">";
  std::string page;
  for (int i = 0; i < 100 && page.find(row) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (auto r = dash.Get("/drills"); r && r->status == 200) page = r->body;
  }
  EXPECT_NE(page.find(row), std::string::npos) << page;
  auto overview = dash.Get("/");
  ASSERT_TRUE(overview);
  EXPECT_NE(overview->body.find("<span id=\"snapshot-count\">1</span>"), std::string::npos) << overview->body;

  // Prometheus has scraped the agent: it is up, and its full backup's timestamp is ours.
  std::string up;
  for (int i = 0; i < 150 && up != "1"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    up = Query(prom_port, "lifeboat_agent_up");
  }
  EXPECT_EQ(up, "1") << ReadWholeFile(Path("prometheus.log"));
  EXPECT_EQ(Query(prom_port, "up{job=\"lifeboat\"}"), "1");
  EXPECT_EQ(Query(prom_port, "lifeboat_repository_up"), "1");
  kill(prom, SIGTERM);
  ASSERT_EQ(waitpid(prom, nullptr, 0), prom);
  Forget(prom);

  // The primary repository goes away: after two status probes the webhook hears of it, with
  // the contacts; status says so too, and shows the agent's alert.
  fs::rename(Path("repo"), Path("repo.away"));
  json firing = WaitNotification(30, "repository", "firing");
  ASSERT_TRUE(firing.is_object()) << ReadWholeFile(Path("agent.log"));
  EXPECT_EQ(firing["summary"],
            "the primary repository does not answer: it is unreachable; the offsite repository served instead");
  EXPECT_EQ(firing["contacts"], json::parse(R"([{"name": "Ops Lead", "email": "ops@example.com", "role": "primary on-call"}])"));
  RunResult status = Run({"status", "--json"});
  EXPECT_EQ(status.exit_code, 2);
  // Run as root, status became the database's owner without creating the missing repository
  // directory (an empty one would take the streamer's next segment in the repository's place).
  EXPECT_FALSE(fs::exists(Path("repo")));
  json st = json::parse(status.out);
  EXPECT_EQ(st["agent"]["running"], true);
  EXPECT_EQ(st["agent"]["pid"], agent);
  bool listed = false;
  for (const auto& a : st["agent"]["alerts"]) listed = listed || a["alert"] == "repository";
  EXPECT_TRUE(listed) << st["agent"].dump();
  std::string metrics = Get("/metrics").second;
  EXPECT_EQ(Value(metrics, "lifeboat_repository_up{repository=\"primary\"}"), "0") << metrics;
  EXPECT_EQ(Value(metrics, "lifeboat_alerts_firing{alert=\"repository\"}"), "1") << metrics;

  // Back: one resolved message.
  fs::rename(Path("repo.away"), Path("repo"));
  json resolved = WaitNotification(30, "repository", "resolved");
  ASSERT_TRUE(resolved.is_object()) << ReadWholeFile(Path("agent.log"));
  EXPECT_EQ(resolved["since"], firing["since"]);
  {
    std::lock_guard<std::mutex> lock(mu_);
    int about_repository = 0;
    for (const json& n : received_) about_repository += n["alert"] == "repository" ? 1 : 0;
    EXPECT_EQ(about_repository, 2);  // repeat is an hour: no repeat in between
  }

  // The drill schedule comes out of the config, as an operator would before a recovery (a drill
  // holds the state directory's run lock), and the agent reloads; any drill already running ends.
  std::string text = ConfigText("");
  size_t drill_line = text.find("drill = \"every 30s\"\n");
  ASSERT_NE(drill_line, std::string::npos);
  WriteConfig(text.erase(drill_line, std::string("drill = \"every 30s\"\n").size()));
  ASSERT_EQ(kill(agent, SIGHUP), 0);
  bool reloaded = false;
  for (int i = 0; i < 100 && !reloaded; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    reloaded = ReadWholeFile(Path("agent.log")).find("config reloaded: 1 scheduled job(s)") != std::string::npos;
  }
  ASSERT_TRUE(reloaded) << ReadWholeFile(Path("agent.log"));
  ASSERT_TRUE(WaitJobs(120, [&](const json& j) { return Count(j, "drill", "running") == 0; })) << Jobs().dump(1);

  // Production is lost and recovered: the agent's streamer reads the new production within
  // seconds, as the new production's own pg_stat_replication shows.
  Sql("INSERT INTO t VALUES (101)");
  SwitchWalAndWaitArchived();
  StopCluster();
  RunResult recover = Run({"recover", "--latest", "--yes", "--json"});
  ASSERT_EQ(recover.exit_code, 0) << recover.err << recover.out;
  json instances = json::parse(Run({"instances", "--json"}).out);
  std::string name;
  int port = 0;
  for (const auto& i : instances) {
    if (i["role"] == "production") {
      name = i["name"];
      port = i["port"];
    }
  }
  ASSERT_NE(port, 0) << instances.dump();
  EXPECT_EQ(SqlAt(InstanceHost(name), port, "SELECT count(*) FROM t"), std::vector<std::string>{"101"});
  std::vector<std::string> senders;
  for (int i = 0; i < 150 && (senders.empty() || senders[0] == "0"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    senders = SqlAt(InstanceHost(name), port, "SELECT count(*) FROM pg_stat_replication");
  }
  EXPECT_EQ(senders, std::vector<std::string>{"1"}) << ReadWholeFile(Path(".lifeboat/agent/wal-stream.log"));
  pid_t streamer = PidWith(Path("lifeboat.toml") + " wal stream");
  EXPECT_NE(streamer, 0);
  Stop(agent);
  EXPECT_FALSE(AnyCommandLineContains(Path("lifeboat.toml") + " wal stream"));
}

}  // namespace
}  // namespace lifeboat::testing
