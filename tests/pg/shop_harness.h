// The shop on a test cluster: shop-seed's three tenant databases, the secret `shop-db` for the
// application role, and a config with [service.shop] (two replicas) behind [load_balancer].
// Teardown stops shop-load, runs `lifeboat down` and kills every recorded pid.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>

#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "../cli/platform_harness.h"
#include "pg_harness.h"

namespace lifeboat::testing {

struct LoadLog {
  struct Order {
    long long id = 0;
    std::string identifier;
    double sent = 0, committed = 0;
  };
  std::vector<Order> orders;
  std::vector<std::string> failures;  // the failed lines
};
LoadLog ReadLoadLog(const std::string& path);

// The wall clock in seconds since the epoch (the load log's clock), and such an instant in
// ISO 8601 UTC with microseconds, as lifeboat's --time takes it.
double NowSeconds();
std::string IsoAt(double seconds);

// The application role's password: distinctive, so that a search for it finds only leaks.
inline constexpr const char* kShopPassword = "Shop-Pw-7f3a9c51";

class ShopTest : public PgTest {
 protected:
  void SetUp() override;
  void TearDown() override;
  nlohmann::json Status() { return nlohmann::json::parse(Run({"service", "status", "shop", "--json"}).out); }
  // Starts shop-load through the load balancer for `seconds`, logging to Path(log).
  void StartLoad(double rate, double seconds, const std::string& log = "load.log");
  // Waits for shop-load to finish; fails the test on a non-zero exit.
  void WaitLoad();
  // Stops shop-load now (SIGTERM: it finishes the order in flight and exits).
  void StopLoad();
  // Waits until a run of `kind` (its journal in <state>/runs) has `step` running, then
  // `delay_ms` more, then kills `pid` (the lifeboat running it) with -9 and reaps it. False when
  // the step was not seen running within a minute.
  // `state` is the state directory whose runs to watch (default Path(".lifeboat")).
  bool KillDuringStep(pid_t pid, const std::string& kind, const std::string& step, int delay_ms,
                      const std::string& state = "");
  // The newest run (`runs --json`), or null when there is none.
  nlohmann::json LastRun();
  // Starts lifeboat with `cmd`, kills it with -9 after a random 0..`max_ms` ms, then finishes
  // what it began: resumes its run when interrupted, or runs `cmd` again when it died before its
  // journal existed. Fails the test when that does not succeed.
  void KillAtRandomThenFinish(const std::vector<std::string>& cmd, int max_ms, std::mt19937* rng);

  int ports_ = 0;
  pid_t load_pid_ = 0;
};

}  // namespace lifeboat::testing
