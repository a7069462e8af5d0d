#include "shop_harness.h"

#include <signal.h>

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

namespace lifeboat::testing {

double NowSeconds() {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count()) /
         1e6;
}

std::string IsoAt(double seconds) {
  time_t whole = static_cast<time_t>(seconds);
  struct tm tm;
  gmtime_r(&whole, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>((seconds - static_cast<double>(whole)) * 1e6));
  return buf;
}

LoadLog ReadLoadLog(const std::string& path) {
  LoadLog log;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto e = nlohmann::json::parse(line, nullptr, false);
    if (!e.is_object()) continue;
    if (e["event"] == "order") {
      log.orders.push_back({e["order_id"].get<long long>(), e.value("identifier", ""),
                            e["sent"].get<double>(), e["committed"].get<double>()});
    } else {
      log.failures.push_back(line);
    }
  }
  return log;
}

void ShopTest::SetUp() {
  PgTest::SetUp();
  if (HasFatalFailure()) return;
  ports_ = FreePortBlock(12000, 20);
  std::string out;
  ASSERT_EQ(RunWithEnv({std::string(SHOP_BIN_DIR) + "/shop-seed", "--app-role", "shop", "--orders", "300"},
                       {{"PGHOST", dir_}, {"PGPORT", std::to_string(port_)}, {"PGUSER", "postgres"},
                        {"SHOP_APP_PASSWORD", kShopPassword}},
                       &out),
            0)
      << out;
  WriteConfig(ConfigText() +
              "\n[service.shop]\ncommand = \"" SHOP_BIN_DIR "/shop-server --port {port}\"\n"
              "replicas = 2\nsecret = \"shop-db\"\nports = \"" + std::to_string(ports_ + 1) + "-" +
              std::to_string(ports_ + 10) + "\"\n"
              "routes = [\"/health\", \"/order\", \"/cart\", \"/orders\", \"/t/\"]\n"
              "smoke_path = \"/order/products\"\nstart_timeout = \"10s\"\n"
              "\n[load_balancer]\nport = " + std::to_string(ports_) + "\n");
  WriteFile(Path("shop-password"), std::string(kShopPassword) + "\n");
  RunResult set = Run({"secret", "set", "shop-db", "PGHOST=" + dir_, "PGPORT=" + std::to_string(port_),
                       "PGUSER=shop", "PGPASSWORD=@" + Path("shop-password"),
                       "PGDATABASE=startupwebapp_prod"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
}

void ShopTest::TearDown() {
  if (load_pid_ > 0) {
    kill(load_pid_, SIGKILL);
    waitpid(load_pid_, nullptr, 0);
  }
  Run({"down"});
  KillRecorded(Path(".lifeboat"));
  PgTest::TearDown();
}

void ShopTest::StartLoad(double rate, double seconds, const std::string& log) {
  load_pid_ = StartWithEnv({std::string(SHOP_BIN_DIR) + "/shop-load", "--url",
                            "http://127.0.0.1:" + std::to_string(ports_), "--rate", std::to_string(rate),
                            "--duration", std::to_string(seconds), "--log", Path(log)},
                           {}, Path(log + ".out"));
}

void ShopTest::WaitLoad() {
  int status = 0;
  waitpid(load_pid_, &status, 0);
  load_pid_ = 0;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

bool ShopTest::KillDuringStep(pid_t pid, const std::string& kind, const std::string& step,
                              int delay_ms, const std::string& state) {
  namespace fs = std::filesystem;
  std::string runs = (state.empty() ? Path(".lifeboat") : state) + "/runs";
  for (int i = 0; i < 3000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!fs::exists(runs)) continue;
    for (const auto& e : fs::directory_iterator(runs)) {
      if (e.path().filename().string().rfind(kind + "-", 0) != 0) continue;
      // Journals are replaced by rename: a read sees a whole one.
      nlohmann::json run = nlohmann::json::parse(ReadWholeFile(e.path().string()), nullptr, false);
      if (!run.is_object()) continue;
      for (const auto& s : run["steps"]) {
        if (s["name"] != step || s["state"] != "running") continue;
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        Forget(pid);
        return true;
      }
    }
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  Forget(pid);
  return false;
}

nlohmann::json ShopTest::LastRun() {
  RunResult r = Run({"runs", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json runs = nlohmann::json::parse(r.out);
  return runs.empty() ? nlohmann::json() : runs[0];
}

void ShopTest::KillAtRandomThenFinish(const std::vector<std::string>& cmd, int max_ms,
                                      std::mt19937* rng) {
  nlohmann::json before = LastRun();
  pid_t pid = Start(cmd);
  std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, max_ms)(*rng)));
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  Forget(pid);
  nlohmann::json last = LastRun();
  SCOPED_TRACE(cmd[0] + " killed, newest run " + last.dump());
  if (last.is_null() || (!before.is_null() && last["id"] == before["id"])) {
    RunResult again = Run(cmd);
    ASSERT_EQ(again.exit_code, 0) << again.err;
  } else if (last["state"] == "interrupted") {
    RunResult resumed = Run({"resume", last["id"]});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err << resumed.out;
  } else {
    ASSERT_EQ(last["state"], "succeeded");
  }
}

void ShopTest::StopLoad() {
  if (load_pid_ > 0) kill(load_pid_, SIGTERM);
  WaitLoad();
}

}  // namespace lifeboat::testing
