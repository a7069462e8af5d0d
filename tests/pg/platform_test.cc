// The shop on real PostgreSQL behind real haproxy: `up` with two replicas, orders placed through
// the load balancer, a replica killed with -9, a rolling restart onto a new secret version under
// shop-load with zero failed requests, the inventory, and `down` leaving no process.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "../cli/platform_harness.h"
#include "shop_harness.h"

using nlohmann::json;

namespace lifeboat::testing {
namespace {

TEST_F(ShopTest, UpServeKillRollingRestartInventoryDown) {
  RunResult up = Run({"up"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  json st = Status();
  ASSERT_EQ(st["replicas"].size(), 2u);
  int lb = ports_;
  EXPECT_EQ(up.out, "database: main already running on port " + std::to_string(port_) + "\n" +
                        "service shop: 2 healthy replica(s) on port(s) " +
                        st["replicas"][0]["port"].dump() + ", " + st["replicas"][1]["port"].dump() +
                        "\nload balancer: http://127.0.0.1:" + std::to_string(lb) +
                        " (haproxy pid " + std::to_string(std::atoi(ReadWholeFile(Path(".lifeboat/lb/haproxy.pid")).c_str())) + ")\n");
  // `up` again changes nothing.
  RunResult again = Run({"up"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Status()["replicas"], st["replicas"]);

  // The shop through the load balancer, checked against the test's own SQL.
  std::string body;
  ASSERT_EQ(HttpGet(lb, "/health", &body), 200);
  ASSERT_EQ(HttpGet(lb, "/order/products", &body), 200);
  size_t skus = 0;
  for (const auto& p : json::parse(body)) skus += p["skus"].size();
  EXPECT_EQ(std::to_string(skus), SqlValue("SELECT count(*) FROM order_sku", "startupwebapp_prod"));
  ASSERT_EQ(HttpPost(lb, "/t/fintech/cart/items", R"({"sku_id": 3, "quantity": 2})", &body), 201);
  std::string cart = json::parse(body)["cart_id"].dump();
  ASSERT_EQ(HttpPost(lb, "/t/fintech/orders", "{\"cart_id\": " + cart + "}", &body), 201);
  std::string order = json::parse(body)["order_id"].dump();
  EXPECT_EQ(SqlValue("SELECT sum(quantity) FROM order_order_sku WHERE order_id = " + order, "fintech_prod"), "2");

  // kill -9 of one replica: its supervisor restarts it and the load balancer keeps serving.
  pid_t victim = st["replicas"][0]["supervisor"]["child_pid"];
  ASSERT_TRUE(ProcessRunning(victim));
  kill(victim, SIGKILL);
  // A request that reaches the replica as it dies fails (haproxy answers 502 and does not retry
  // it: it may have been processed). Once it is gone, every request is served by the other
  // replica until the supervisor has started it again.
  // (A multi-threaded process shows as a zombie before its last thread has closed its sockets,
  // so the test waits for its port to refuse connections.)
  int victim_port = st["replicas"][0]["port"];
  while (ProcessRunning(victim) || PortOpen(victim_port)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  int served = 0, probes = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < until) {
    ++probes;
    std::string answer;
    int code = HttpGet(lb, "/order/products", &answer);
    served += code == 200 ? 1 : 0;
    if (code != 200) ADD_FAILURE() << "probe " << probes << ": " << code << " " << answer;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(served, probes);
  json restarted = Status();
  EXPECT_EQ(restarted["healthy"], 2);
  EXPECT_EQ(restarted["replicas"][0]["supervisor"]["restarts"], 1);
  EXPECT_NE(restarted["replicas"][0]["supervisor"]["child_pid"], victim);

  // A new secret version, rolled out replica by replica under load: no request fails.
  ASSERT_EQ(Run({"secret", "set", "shop-db", "SHOP_NOTE=v2"}).exit_code, 0);
  StartLoad(50, 9);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  RunResult restart = Run({"service", "restart", "shop"});
  ASSERT_EQ(restart.exit_code, 0) << restart.err;
  WaitLoad();
  LoadLog log = ReadLoadLog(Path("load.log"));
  for (const auto& f : log.failures) ADD_FAILURE() << f;
  EXPECT_GE(log.orders.size(), 300u);
  std::string ids;
  for (const auto& o : log.orders) ids += (ids.empty() ? "" : ",") + std::to_string(o.id);
  EXPECT_EQ(SqlValue("SELECT count(*) FROM order_order WHERE id IN (" + ids + ")", "startupwebapp_prod"),
            std::to_string(log.orders.size()));
  json rolled = Status();
  ASSERT_EQ(rolled["replicas"].size(), 2u);
  for (const auto& r : rolled["replicas"]) {
    EXPECT_EQ(r["secret_version"], 2);
    EXPECT_GT(r["id"].get<int>(), 2);  // both replicas are new
  }

  // The inventory lists every resource with its identifiers.
  RunResult inv = Run({"inventory", "--json"});
  ASSERT_EQ(inv.exit_code, 0) << inv.err;
  std::set<std::string> types;
  for (const auto& item : json::parse(inv.out)) {
    types.insert(item["type"].get<std::string>() + ":" + item["name"].get<std::string>());
    if (item["type"] == "load_balancer") {
      EXPECT_EQ(item["url"], "http://127.0.0.1:" + std::to_string(lb));
    }
    if (item["type"] == "instance") {
      EXPECT_EQ(item["role"], "production");
      EXPECT_EQ(item["port"], port_);
      EXPECT_EQ(item["status"], "running");
    }
    if (item["type"] == "secret") {
      EXPECT_EQ(item["current_version"], 2);
    }
    if (item["type"] == "service") {
      EXPECT_EQ(item["healthy"], 2);
    }
  }
  EXPECT_EQ(types, (std::set<std::string>{"instance:main", "secret:shop-db", "service:shop",
                                          "load_balancer:haproxy", "repository:repository"}));

  // down stops exactly what lifeboat started; the database, which it did not start, stays up.
  std::vector<pid_t> pids = RecordedPids(Path(".lifeboat"));
  EXPECT_EQ(pids.size(), 5u);
  RunResult down = Run({"down"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(down.out, "load balancer: stopped\nservice shop: stopped 2 replica(s)\n");
  for (pid_t pid : pids) EXPECT_FALSE(ProcessRunning(pid)) << pid;
  EXPECT_EQ(HttpGet(lb, "/health"), 0);
  EXPECT_EQ(SqlValue("SELECT 1"), "1");
}

}  // namespace
}  // namespace lifeboat::testing
