// The local stack without PostgreSQL: secrets, supervised services (python3's http.server as a
// stand-in application), crash loops, the load balancer's bad input, and front end versions.
// The shop on real PostgreSQL is tested in tests/pg/platform_test.cc.
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "platform_harness.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace lifeboat::testing {
namespace {

class PlatformCliTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    ports_ = FreePortBlock(10000, 20);
    lb_port_ = ports_;
  }
  void TearDown() override {
    Run({"down"});
    KillRecorded(Path(".lifeboat"));
    CliTest::TearDown();
  }
  std::string Ports(int first, int last) const {
    return "\"" + std::to_string(ports_ + first) + "-" + std::to_string(ports_ + last) + "\"";
  }
  int ports_ = 0;
  int lb_port_ = 0;
};

TEST_F(PlatformCliTest, SecretVersionsLabelsAndNoPlaintext) {
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  WriteFile(Path("pw"), "s3cr3t-value\n");
  stdin_text_ = "from-stdin-value\n";
  RunResult set1 = Run({"secret", "set", "app", "USER=alice", "PASSWORD=@" + Path("pw"), "TOKEN=-"});
  ASSERT_EQ(set1.exit_code, 0) << set1.err;
  EXPECT_EQ(set1.out, "secret 'app': version 1 is current\n");
  stdin_text_.clear();
  RunResult set2 = Run({"secret", "set", "app", "USER=bob"});
  ASSERT_EQ(set2.exit_code, 0) << set2.err;
  EXPECT_EQ(set2.out, "secret 'app': version 2 is current\n");

  RunResult hidden = Run({"secret", "get", "app"});
  ASSERT_EQ(hidden.exit_code, 0) << hidden.err;
  EXPECT_NE(hidden.out.find("PASSWORD  ********\n"), std::string::npos) << hidden.out;
  for (const char* v : {"bob", "alice", "s3cr3t", "from-stdin"}) {
    EXPECT_EQ(hidden.out.find(v), std::string::npos) << v;
  }

  RunResult shown = Run({"secret", "get", "app", "--show", "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  json j = json::parse(shown.out);
  EXPECT_EQ(j["version"], 2);
  EXPECT_EQ(j["labels"], json::array({"current"}));
  EXPECT_EQ(j["values"], json({{"PASSWORD", "s3cr3t-value"}, {"TOKEN", "from-stdin-value"},
                               {"USER", "bob"}}));

  RunResult history = Run({"secret", "history", "app", "--json"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  json h = json::parse(history.out);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0]["version"], 2);
  EXPECT_EQ(h[0]["labels"], json::array({"current"}));
  EXPECT_EQ(h[1]["version"], 1);
  EXPECT_EQ(h[1]["labels"], json::array({"previous"}));
  EXPECT_EQ(h[1]["keys"], json::array({"PASSWORD", "TOKEN", "USER"}));
  EXPECT_EQ(history.out.find("s3cr3t"), std::string::npos);

  // Stored sealed: the state file is 0600 and no file anywhere holds the plaintext.
  struct stat st {};
  ASSERT_EQ(stat(Path(".lifeboat/secrets/app.sealed").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  for (const auto& e : fs::recursive_directory_iterator(dir_)) {
    if (!e.is_regular_file() || e.path().filename() == "pw" || e.path().filename() == ".out") continue;
    EXPECT_EQ(ReadWholeFile(e.path().string()).find("s3cr3t-value"), std::string::npos) << e.path();
  }

  // A new machine has only the repository: every version is still there.
  fs::remove_all(Path(".lifeboat"));
  RunResult rebuilt = Run({"secret", "get", "app", "--show", "--json"});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.err;
  EXPECT_EQ(json::parse(rebuilt.out)["values"]["PASSWORD"], "s3cr3t-value");

  RunResult bad = Run({"secret", "set", "app", "NOEQUALS"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err, "error: 'NOEQUALS' is not KEY=VALUE\nhint: use KEY=VALUE, KEY=@FILE (value from a "
                     "file) or KEY=- (from stdin)\n");
  RunResult missing = Run({"secret", "get", "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "error: no secret named 'nope'\nhint: create it with 'lifeboat secret set "
                         "nope KEY=@FILE ...'\n");
}

// The audit log has the commands that change something, decided by the command parsed: a
// positional argument that happens to be a command's name ("list") does not exempt a deploy.
TEST_F(PlatformCliTest, TheAuditLogFollowsTheParsedCommand) {
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  ASSERT_EQ(Run({"secret", "set", "app", "USER=alice"}).exit_code, 0);
  ASSERT_EQ(Run({"secret", "list"}).exit_code, 0);
  ASSERT_EQ(Run({"secret", "get", "app"}).exit_code, 0);
  ASSERT_EQ(Run({"snapshots"}).exit_code, 0);
  RunResult deploy = Run({"deploy", "nosuch", "list"});
  EXPECT_EQ(deploy.exit_code, 1) << deploy.err;
  RunResult audit = Run({"audit", "--json"});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  std::vector<std::string> what;
  for (const auto& e : json::parse(audit.out)) what.push_back(e["what"]);
  std::string lifeboat = "lifeboat -c " + Path("lifeboat.toml");
  EXPECT_EQ(what, (std::vector<std::string>{lifeboat + " repo init", lifeboat + " secret set app USER=***",
                                            lifeboat + " deploy nosuch list"}));
}

TEST_F(PlatformCliTest, ReplicasGetTheSecretButNeverThePassphraseAndRestartAfterKill) {
  WriteConfig("[repository]\npath = \"repo\"\n\n[service.web]\n"
              "command = [\"/bin/sh\", \"-c\", \"env > " + Path("env-$LIFEBOAT_REPLICA") +
              "; exec /usr/bin/python3 -m http.server {port} --bind 127.0.0.1\"]\n"
              "replicas = 2\nhealth_path = \"/\"\nsecret = \"web\"\nports = " + Ports(1, 10) + "\n"
              "env = { GREETING = \"hello\" }\n");
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  WriteFile(Path("pw"), "s3cr3t-value\n");
  ASSERT_EQ(Run({"secret", "set", "web", "PASSWORD=@" + Path("pw")}).exit_code, 0);
  RunResult start = Run({"service", "start", "web"});
  ASSERT_EQ(start.exit_code, 0) << start.err;
  EXPECT_NE(start.out.find("service web: 2/2 healthy"), std::string::npos) << start.out;

  for (const char* replica : {"1", "2"}) {
    std::string env = ReadWholeFile(Path(std::string("env-") + replica));
    EXPECT_NE(env.find("PASSWORD=s3cr3t-value\n"), std::string::npos);
    EXPECT_NE(env.find("GREETING=hello\n"), std::string::npos);
    EXPECT_EQ(env.find("LIFEBOAT_PASSPHRASE"), std::string::npos);
  }
  EXPECT_FALSE(AnyCommandLineContains("s3cr3t-value"));

  // kill -9 of a replica: its supervisor starts it again on the same port.
  json before = json::parse(Run({"service", "status", "web", "--json"}).out);
  pid_t child = before["replicas"][0]["supervisor"]["child_pid"];
  int port = before["replicas"][0]["port"];
  ASSERT_TRUE(ProcessRunning(child));
  kill(child, SIGKILL);
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    json now = json::parse(Run({"service", "status", "web", "--json"}).out);
    if (now["replicas"][0]["supervisor"]["child_pid"] != child) status = HttpGet(port, "/");
  }
  EXPECT_EQ(status, 200);
  json after = json::parse(Run({"service", "status", "web", "--json"}).out);
  EXPECT_EQ(after["replicas"][0]["supervisor"]["restarts"], 1);
  EXPECT_EQ(after["replicas"][0]["supervisor"]["last_exit"], "signal 9");

  std::vector<pid_t> pids = RecordedPids(Path(".lifeboat"));
  ASSERT_EQ(pids.size(), 4u);  // two supervisors, two replicas
  RunResult stop = Run({"service", "stop", "web"});
  ASSERT_EQ(stop.exit_code, 0) << stop.err;
  for (pid_t pid : pids) EXPECT_FALSE(ProcessRunning(pid)) << pid;
  EXPECT_EQ(HttpGet(port, "/"), 0);  // nothing answers on its port any more
}

TEST_F(PlatformCliTest, CrashLoopFailsWithTheLastLogLines) {
  WriteConfig("[repository]\npath = \"repo\"\n\n[service.boom]\n"
              "command = [\"/bin/sh\", \"-c\", \"echo boom-$LIFEBOAT_REPLICA >&2; exit 3\"]\n"
              "ports = " + Ports(1, 5) + "\nstart_timeout = \"30s\"\n");
  RunResult start = Run({"service", "start", "boom"});
  EXPECT_EQ(start.exit_code, 2);
  EXPECT_NE(start.err.find("error: service 'boom': replica 1 on port " + std::to_string(ports_ + 1) +
                           " failed to start: it is in a crash loop (3 exits in the last minute, "
                           "last: exit code 3); last log lines:\n"),
            std::string::npos)
      << start.err;
  EXPECT_NE(start.err.find("  boom-1\n"), std::string::npos) << start.err;
  EXPECT_NE(start.err.find("hint: the whole log is " + Path(".lifeboat/services/boom/replica-1.log")),
            std::string::npos);

  RunResult status = Run({"service", "status", "boom"});
  EXPECT_EQ(status.exit_code, 2);
  EXPECT_NE(status.out.find("crash-loop"), std::string::npos) << status.out;
  EXPECT_EQ(status.err.rfind("error: service 'boom' is in a crash loop: crash loop: ", 0), 0u) << status.err;

  std::vector<pid_t> pids = RecordedPids(Path(".lifeboat"));
  ASSERT_EQ(Run({"service", "stop", "boom"}).exit_code, 0);
  for (pid_t pid : pids) EXPECT_FALSE(ProcessRunning(pid)) << pid;
}

TEST_F(PlatformCliTest, LoadBalancerBadInput) {
  WriteConfig("[repository]\npath = \"repo\"\n\n[load_balancer]\nport = " + std::to_string(lb_port_) +
              "\nhaproxy = \"/nonexistent/haproxy\"\n");
  RunResult missing = Run({"lb", "start"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err,
            "error: load balancer: haproxy not found at /nonexistent/haproxy\n"
            "hint: install Debian's package 'haproxy' (apt-get install haproxy; scripts/setup does "
            "it), or set [load_balancer] haproxy\n");

  WriteConfig("[repository]\npath = \"repo\"\n\n[load_balancer]\nport = " + std::to_string(lb_port_) + "\n");
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(lb_port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  RunResult busy = Run({"lb", "start"});
  close(fd);
  EXPECT_EQ(busy.exit_code, 2);
  EXPECT_EQ(busy.err, "error: load balancer: port " + std::to_string(lb_port_) +
                          " on 127.0.0.1 is in use\n"
                          "hint: set [load_balancer] port to a free port, or stop what listens on it\n");
  EXPECT_FALSE(fs::exists(Path(".lifeboat/lb/haproxy.pid")));

  RunResult stopped = Run({"lb", "status"});
  EXPECT_EQ(stopped.exit_code, 2);
  EXPECT_EQ(stopped.err, "error: load balancer is not running\n"
                         "hint: start it with 'lifeboat lb start' or 'lifeboat up'\n");
}

TEST_F(PlatformCliTest, FrontendVersionsServedThroughTheLoadBalancer) {
  WriteConfig("[repository]\npath = \"repo\"\n\n[load_balancer]\nport = " + std::to_string(lb_port_) +
              "\n\n[frontend]\ndir = \"site\"\nports = " + Ports(10, 15) + "\n");
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  WriteFile(Path("site/index.html"), "<h1>version one</h1>\n");
  WriteFile(Path("site/app.js"), "console.log(1);\n");
  RunResult up = Run({"up"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  std::string body;
  EXPECT_EQ(HttpGet(lb_port_, "/site/", &body), 200);
  EXPECT_EQ(body, "<h1>version one</h1>\n");
  EXPECT_EQ(HttpGet(lb_port_, "/elsewhere"), 404);  // no route: no service takes "/"

  RunResult versions1 = Run({"frontend", "versions", "--json"});
  ASSERT_EQ(versions1.exit_code, 0) << versions1.err;
  std::string v1 = json::parse(versions1.out)[0]["snapshot"];

  WriteFile(Path("site/index.html"), "<h1>version two</h1>\n");
  RunResult publish = Run({"frontend", "publish", "--json"});
  ASSERT_EQ(publish.exit_code, 0) << publish.err;
  std::string v2 = json::parse(publish.out)["snapshot"];
  EXPECT_EQ(HttpGet(lb_port_, "/site/", &body), 200);
  EXPECT_EQ(body, "<h1>version two</h1>\n");

  json versions = json::parse(Run({"frontend", "versions", "--json"}).out);
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0]["snapshot"], v2);
  EXPECT_EQ(versions[0]["current"], true);
  EXPECT_EQ(versions[1]["snapshot"], v1);
  EXPECT_EQ(versions[1]["files"], 2);

  RunResult back = Run({"frontend", "activate", v1.substr(0, 10)});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(HttpGet(lb_port_, "/site/", &body), 200);
  EXPECT_EQ(body, "<h1>version one</h1>\n");
  EXPECT_EQ(HttpGet(lb_port_, "/site/app.js", &body), 200);
  EXPECT_EQ(body, "console.log(1);\n");

  std::vector<pid_t> pids = RecordedPids(Path(".lifeboat"));
  ASSERT_EQ(pids.size(), 3u);  // the static server's supervisor and child, haproxy
  RunResult down = Run({"down"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(down.out, "load balancer: stopped\nservice frontend: stopped 1 replica(s)\n");
  for (pid_t pid : pids) EXPECT_FALSE(ProcessRunning(pid)) << pid;
  EXPECT_EQ(HttpGet(lb_port_, "/site/"), 0);
}

TEST_F(PlatformCliTest, ReleasesAreImmutableAndExpireKeepsTheNewest) {
  WriteConfig("[repository]\npath = \"repo\"\n\n[service.web]\ncommand = \"{release}/bin/web --port {port}\"\n"
              "keep_releases = 2\nports = " + Ports(1, 5) + "\n");
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  for (const char* tag : {"1.0", "1.1", "1.2", "1.3"}) {
    std::string dir = Path(std::string("rel-") + tag);
    WriteFile(dir + "/bin/web", "#!/bin/sh\necho " + std::string(tag) + "\n");
    chmod((dir + "/bin/web").c_str(), 0755);
    RunResult add = Run({"release", "add", "web", tag, dir});
    ASSERT_EQ(add.exit_code, 0) << add.err;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // distinct creation times
  }
  json list = json::parse(Run({"releases", "web", "--json"}).out);
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[0]["tag"], "1.3");
  EXPECT_TRUE(list[0]["deployed_at"].is_null());

  RunResult dry = Run({"expire", "--dry-run", "--json"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  json plan = json::parse(dry.out);
  ASSERT_EQ(plan["releases"].size(), 2u);
  EXPECT_EQ(plan["releases"][0]["reason"],
            "release web:1.1 is older than the newest 2 and was not deployed inside the window");
  EXPECT_EQ(json::parse(Run({"releases", "web", "--json"}).out).size(), 4u);  // a dry run removes nothing
  RunResult expire = Run({"expire", "--json"});
  ASSERT_EQ(expire.exit_code, 0) << expire.err;
  json kept = json::parse(Run({"releases", "web", "--json"}).out);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0]["tag"], "1.3");
  EXPECT_EQ(kept[1]["tag"], "1.2");
  EXPECT_EQ(Run({"repo", "check", "--read-data"}).exit_code, 0);
}

}  // namespace
}  // namespace lifeboat::testing
