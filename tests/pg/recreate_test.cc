// Scenario 4 on the shop: one resource at a time is deleted (the load balancer's process and
// configuration, a service's replicas and state, the front end's installed files, a secret's
// local copy); `plan` names each, `rebuild --plan` orders them, `recreate` brings each back
// while what was not deleted keeps serving, `rebuild` repairs the rest, and `plan` is clean.
// Ground truth from the test's side: HTTP answers through the load balancer and straight from
// the replicas, the front-end version the test activated, the secret version it set.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "shop_harness.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace lifeboat::testing {
namespace {

class RecreateTest : public ShopTest {
 protected:
  // The ports of the replicas of `service` (its `service status --json`).
  std::vector<int> ReplicaPorts(const std::string& service) {
    std::vector<int> ports;
    json st = json::parse(Run({"service", "status", service, "--json"}).out);
    for (const auto& r : st["replicas"]) ports.push_back(r["port"]);
    return ports;
  }
  // The set of (resource, kind) that `plan --json` lists, and its exit code.
  std::pair<int, std::set<std::string>> Plan() {
    RunResult r = Run({"plan", "--json"});
    std::set<std::string> out;
    if (!r.out.empty()) {
      for (const auto& d : json::parse(r.out)) out.insert(d["resource"].get<std::string>() + ": " + d["kind"].get<std::string>());
    }
    return {r.exit_code, out};
  }
};

TEST_F(RecreateTest, EachDeletedResourceIsNamedByPlanAndComesBackWhileTheRestServes) {
  WriteConfig(ReadWholeFile(Path("lifeboat.toml")) + "\n[frontend]\ndir = \"site\"\nports = \"" +
              std::to_string(ports_ + 11) + "-" + std::to_string(ports_ + 15) + "\"\n");
  WriteFile(Path("site/index.html"), "<h1>version one</h1>\n");
  ASSERT_EQ(Run({"up"}).exit_code, 0);
  for (const char* v : {"KEY=one", "KEY=two"}) ASSERT_EQ(Run({"secret", "set", "payments", v}).exit_code, 0);
  auto clean = Plan();
  EXPECT_EQ(clean.first, 0);
  EXPECT_EQ(clean.second, std::set<std::string>{});
  EXPECT_EQ(Run({"plan"}).out, "everything matches the definition\n");

  // Deleted: haproxy (by its pid) and its configuration, the shop's replicas and their state,
  // the installed front end, the secret's local copy.
  pid_t haproxy = static_cast<pid_t>(std::atol(ReadWholeFile(Path(".lifeboat/lb/haproxy.pid")).c_str()));
  ASSERT_GT(haproxy, 0);
  kill(haproxy, SIGTERM);
  for (int i = 0; i < 100 && kill(haproxy, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  fs::remove(Path(".lifeboat/lb/haproxy.cfg"));
  std::vector<int> frontend_ports = ReplicaPorts("frontend");
  ASSERT_EQ(frontend_ports.size(), 1u);
  ASSERT_EQ(Run({"service", "stop", "shop"}).exit_code, 0);
  fs::remove_all(Path(".lifeboat/services/shop"));
  fs::remove_all(Path(".lifeboat/frontend"));
  fs::remove(Path(".lifeboat/secrets/payments.sealed"));

  auto drift = Plan();
  EXPECT_EQ(drift.first, 2);
  EXPECT_EQ(drift.second, (std::set<std::string>{"secret payments: missing", "frontend: missing",
                                                 "service shop: missing", "load-balancer: missing"}));
  RunResult table = Run({"plan"});
  EXPECT_EQ(table.exit_code, 2);
  EXPECT_EQ(table.err, "error: 4 difference(s) between the definition and what runs\n"
                       "hint: 'lifeboat rebuild' repairs them in order; 'lifeboat recreate RESOURCE' one at a time\n");
  RunResult steps = Run({"rebuild", "--plan"});
  ASSERT_EQ(steps.exit_code, 0) << steps.err;
  EXPECT_EQ(steps.out,
            "1. recreate secret payments (missing: no local copy; the repository has version 2 as current)\n"
            "2. recreate frontend (missing: no version installed)\n"
            "3. recreate service shop (missing: no replica recorded (0/2 replicas healthy))\n"
            "4. recreate load-balancer (missing: no haproxy configuration)\n");
  EXPECT_EQ(Plan().second.size(), 4u);  // --plan changed nothing

  // One at a time, in the rebuild's order. The secret's copy:
  RunResult secret = Run({"recreate", "secret", "payments"});
  ASSERT_EQ(secret.exit_code, 0) << secret.err;
  EXPECT_EQ(secret.out, "secret payments: local copy restored from the repository (version 2 current)\n");
  EXPECT_EQ(json::parse(Run({"secret", "get", "payments", "--show", "--json"}).out)["values"]["KEY"], "two");

  // The front end: its server was not deleted and serves the reinstalled version at once.
  std::string body;
  EXPECT_EQ(HttpGet(frontend_ports[0], "/site/"), 404);  // its files are gone, the server is not
  RunResult fe = Run({"recreate", "frontend"});
  ASSERT_EQ(fe.exit_code, 0) << fe.err;
  std::string v1 = json::parse(Run({"stack", "show", "--json"}).out)["frontend"];
  EXPECT_EQ(fe.out, "  installing front-end version " + v1.substr(0, 12) + "\nfrontend: version " + v1.substr(0, 12) +
                        " installed\n");
  EXPECT_EQ(HttpGet(frontend_ports[0], "/site/", &body), 200);
  EXPECT_EQ(body, "<h1>version one</h1>\n");

  // The load balancer, while the front end's server keeps answering on its own port.
  RunResult lb = Run({"recreate", "load-balancer"});
  ASSERT_EQ(lb.exit_code, 0) << lb.err;
  EXPECT_EQ(lb.out, "load-balancer: configuration written and haproxy serving at http://127.0.0.1:" +
                        std::to_string(ports_) + "\n");
  EXPECT_EQ(HttpGet(ports_, "/site/", &body), 200);
  EXPECT_EQ(Run({"recreate", "load-balancer"}).out, "load-balancer: running, left alone\n");

  // The service, while the front end is routed through the load balancer.
  RunResult svc = Run({"recreate", "service", "shop"});
  ASSERT_EQ(svc.exit_code, 0) << svc.err;
  EXPECT_EQ(svc.out, "service shop: started, 2/2 healthy\n");
  EXPECT_EQ(HttpGet(ports_, "/order/products", &body), 200) << body;
  EXPECT_EQ(HttpGet(ports_, "/site/", &body), 200);
  EXPECT_EQ(ReplicaPorts("frontend"), frontend_ports);  // never restarted
  EXPECT_EQ(Run({"recreate", "service", "shop"}).out, "service shop: 2/2 healthy, left alone\n");
  auto after = Plan();
  EXPECT_EQ(after.first, 0);
  EXPECT_EQ(after.second, std::set<std::string>{});

  // `rebuild` repairs what is deleted again, in order, and then finds nothing to do.
  fs::remove(Path(".lifeboat/secrets/payments.sealed"));
  fs::remove_all(Path(".lifeboat/frontend"));
  RunResult rebuild = Run({"rebuild"});
  ASSERT_EQ(rebuild.exit_code, 0) << rebuild.err;
  EXPECT_EQ(rebuild.out, "secret payments: local copy restored from the repository (version 2 current)\n"
                         "  installing front-end version " + v1.substr(0, 12) + "\nfrontend: version " +
                             v1.substr(0, 12) + " installed\n");
  EXPECT_EQ(HttpGet(ports_, "/site/", &body), 200);
  EXPECT_EQ(body, "<h1>version one</h1>\n");
  EXPECT_EQ(Run({"rebuild"}).out, "nothing to rebuild: everything matches the definition\n");

  // The database: stopped, it is started; gone, it is recovered to the latest point (as
  // Scenario 1), and the shop serves from the instance that took over.
  ASSERT_EQ(Run({"backup"}).exit_code, 0);
  Sql("CREATE TABLE kept (id int)");
  Sql("INSERT INTO kept VALUES (7)");
  SwitchWalAndWaitArchived();
  StopCluster();
  // The shop's replicas report unhealthy without their database: that is drift too.
  EXPECT_EQ(Plan().second, (std::set<std::string>{"instance production: stopped", "service shop: stopped"}));
  RunResult start = Run({"recreate", "instance", "production"});
  ASSERT_EQ(start.exit_code, 0) << start.err;
  EXPECT_EQ(start.out, "instance production: started " + Path("main") + "\n");
  EXPECT_EQ(Sql("SELECT id FROM kept"), std::vector<std::string>{"7"});
  EXPECT_EQ(Run({"recreate", "instance", "production"}).out, "instance production: running, left alone\n");
  for (int i = 0; i < 50 && Plan().first != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Plan().second, std::set<std::string>{});  // the replicas are healthy again on their own
  StopCluster();
  fs::remove_all(Path("main"));
  EXPECT_EQ(Plan().second, (std::set<std::string>{"instance production: missing", "service shop: stopped"}));
  RunResult refused = Run({"recreate", "instance", "production"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.err.rfind("error: this recreation replaces the lost production by a recovery to the latest point "
                              "and needs confirmation\n",
                              0),
            0u)
      << refused.err;
  RunResult recovered = Run({"recreate", "instance", "production", "--yes"});
  ASSERT_EQ(recovered.exit_code, 0) << recovered.err << recovered.out;
  std::string host;
  int port = 0;
  for (const auto& i : json::parse(Run({"instances", "--json"}).out)) {
    if (i["role"] == "production") {
      host = i["host"];
      port = i["port"];
    }
  }
  ASSERT_GT(port, 0);
  EXPECT_EQ(SqlAt(host, port, "SELECT id FROM kept"), std::vector<std::string>{"7"});
  EXPECT_EQ(HttpGet(ports_, "/order/products", &body), 200) << body;

  RunResult unknown = Run({"recreate", "bucket", "media"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "error: cannot recreate 'bucket media'\n"
                         "hint: give one of: service NAME, load-balancer, frontend, secret NAME, instance production\n");
}

}  // namespace
}  // namespace lifeboat::testing
