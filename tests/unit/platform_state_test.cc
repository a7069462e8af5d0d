// The platform's state without daemons: the secret store's versions, labels, revert and
// mirror on an in-memory repository, and the load balancer's configuration as rendered from the
// services' state files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "platform/load_balancer.h"
#include "platform/secrets.h"
#include "repo_fixtures.h"
#include "storage/memory/memory_backend.h"

namespace fs = std::filesystem;

namespace lifeboat::platform {
namespace {

class PlatformStateTest : public testing::ScratchAndMemoryRepository {};

TEST_F(PlatformStateTest, SecretVersionsLabelsRevertAndTheMirror) {
  SecretStore store(dir_, repo_.get());
  ASSERT_EQ(store.Set("shop-db", {{"PGHOST", "/run/pg"}, {"PGPORT", "5432"}, {"PGPASSWORD", "Pw-1"}}, false, "set").value(), 1);
  ASSERT_EQ(store.Set("shop-db", {{"PGPORT", "24010"}}, false, "cutover to restore-1").value(), 2);
  Result<Secret> s = store.Get("shop-db");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->current, 2);
  EXPECT_EQ(s->previous, 1);
  // A change keeps the other values; the labels say which version is which.
  EXPECT_EQ(s->Find(2)->values, (SecretValues{{"PGHOST", "/run/pg"}, {"PGPORT", "24010"}, {"PGPASSWORD", "Pw-1"}}));
  EXPECT_EQ(s->Labels(1), std::vector<std::string>{"previous"});
  EXPECT_EQ(s->Labels(2), std::vector<std::string>{"current"});
  EXPECT_EQ(s->Find(2)->reason, "cutover to restore-1");

  // A revert moves `current` back; the former current becomes previous.
  ASSERT_TRUE(store.Promote("shop-db", 1).ok());
  s = store.Get("shop-db");
  EXPECT_EQ(s->current, 1);
  EXPECT_EQ(s->previous, 2);
  EXPECT_EQ(store.Promote("shop-db", 7).code(), Code::kNotFound);

  // The sealed file holds no value in the clear; losing the state directory loses nothing,
  // since the repository has the same document.
  for (const auto& e : fs::recursive_directory_iterator(dir_)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text.find("Pw-1"), std::string::npos) << e.path();
    EXPECT_EQ(fs::status(e.path()).permissions(), fs::perms::owner_read | fs::perms::owner_write) << e.path();
  }
  fs::remove_all(dir_ + "/secrets");
  SecretStore rebuilt(dir_, repo_.get());
  Result<Secret> mirrored = rebuilt.Get("shop-db");
  ASSERT_TRUE(mirrored.ok()) << mirrored.status().ToString();
  EXPECT_EQ(mirrored->current, 1);
  EXPECT_EQ(mirrored->versions.size(), 2u);
  EXPECT_EQ(rebuilt.List().value(), std::vector<std::string>{"shop-db"});

  // Names and keys are checked before anything is written.
  EXPECT_EQ(store.Set("../x", {{"A", "1"}}, false, "set").status().code(), Code::kUsage);
  EXPECT_EQ(store.Set("ok", {{"NOT-A-VAR", "1"}}, false, "set").status().code(), Code::kUsage);
  EXPECT_EQ(store.Get("never").status().code(), Code::kNotFound);
}

void WriteState(const std::string& dir, const std::string& service, const std::string& replicas) {
  fs::create_directories(dir + "/services/" + service);
  std::ofstream(dir + "/services/" + service + "/state.json")
      << "{\"service\": \"" << service << "\", \"next_id\": 9, \"replicas\": [" << replicas << "]}";
}

std::string Replica(int id, int port, bool registered) {
  return "{\"id\": " + std::to_string(id) + ", \"port\": " + std::to_string(port) +
         ", \"pid\": 1, \"started_at\": \"2026-12-01T10:00:00Z\", \"secret_version\": 1, \"registered\": " +
         (registered ? "true" : "false") + "}";
}

TEST_F(PlatformStateTest, TheLoadBalancerConfigFollowsTheServicesState) {
  std::string toml = "[repository]\npath = \"repo\"\n[state]\ndir = \"" + dir_ + "\"\n"
                     "[service.shop]\ncommand = \"shop --port {port}\"\nroutes = [\"/order\", \"/order/cart\", \"/health\"]\n"
                     "[service.site]\ncommand = \"site --port {port}\"\nroutes = [\"/\"]\nhealth_path = \"/index.html\"\n"
                     "[load_balancer]\nport = 18080\n";
  Result<Config> cfg = ParseConfig(toml, dir_ + "/lifeboat.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  WriteState(dir_, "shop", Replica(3, 24101, true) + ", " + Replica(4, 24102, false) + ", " + Replica(5, 24103, true));
  WriteState(dir_, "site", Replica(1, 24150, true));
  ServiceManager manager(dir_, "/usr/bin/lifeboat", nullptr);
  LoadBalancer lb(*cfg, cfg->services, &manager);
  Result<std::string> text = lb.Render();
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const std::string& c = *text;
  auto at = [&](const std::string& line) {
    size_t p = c.find(line + "\n");
    EXPECT_NE(p, std::string::npos) << "missing: " << line << "\n" << c;
    return p;
  };
  at("  bind 127.0.0.1:18080");
  at("  retry-on conn-failure");
  at("  stats socket \"" + dir_ + "/lb/admin.sock\" mode 600 level admin expose-fd listeners");
  // The most specific prefix first, as an ALB's most specific rule wins; "/" is the default.
  size_t cart = at("  use_backend shop if { path_beg /order/cart }");
  size_t order = at("  use_backend shop if { path_beg /order }");
  EXPECT_LT(cart, order);
  at("  default_backend site");
  // Registered replicas only: one that starts or drains gets no request.
  size_t shop = at("backend shop");
  at("  server r3 127.0.0.1:24101");
  at("  server r5 127.0.0.1:24103");
  EXPECT_EQ(c.find("24102"), std::string::npos) << c;
  EXPECT_LT(shop, c.find("  option httpchk GET /health\n"));
  at("  option httpchk GET /index.html");
  at("  server r1 127.0.0.1:24150");
  // A damaged state file is an error naming it, not a configuration without the service.
  std::ofstream(dir_ + "/services/shop/state.json", std::ios::trunc) << "{\"next_id\": 9, \"replicas\": [{\"id\": \"x\"}]}";
  Result<std::string> damaged = lb.Render();
  EXPECT_FALSE(damaged.ok());
  EXPECT_NE(damaged.status().message().find(dir_ + "/services/shop/state.json"), std::string::npos)
      << damaged.status().message();
}

}  // namespace
}  // namespace lifeboat::platform
