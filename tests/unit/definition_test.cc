// The stack definition without daemons: the config made portable (paths under its directory
// relative, everything else as it was) and placed for a new machine (the repository given,
// the offsite one kept or dropped with the reason), and the definition's round trip through an
// in-memory repository, including the refusal of a repository that has none.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "config/portable.h"
#include "platform/definition.h"
#include "repo_fixtures.h"
#include "storage/memory/memory_backend.h"

namespace fs = std::filesystem;

namespace lifeboat {
namespace {

constexpr const char* kConfig = R"(# the shop
[repository]
path = "/srv/shop/repo"
passphrase_file = "/srv/shop/pass"

[repository.offsite]
path = "/mnt/dr/lifeboat"
passphrase_file = "/srv/shop/pass"

[database]
data_dir = "/srv/shop/main"
host = "/srv/shop"
port = 5432
os_user = "postgres"

[service.shop]
command = "/opt/shop/bin/shop-server --port {port}"
replicas = 2
secret = "shop-db"

[frontend]
dir = "/srv/shop/site"
path = "/"

[state]
dir = "/srv/shopping/state"
)";

TEST(PortableConfigTest, PathsUnderTheConfigsDirectoryBecomeRelativeAndNothingElseChanges) {
  Result<std::string> text = PortableConfigText(kConfig, "/srv/shop", "/srv/shop/lifeboat.toml");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  Result<Config> cfg = ParseConfig(*text, "/new/place/lifeboat.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString() << *text;
  EXPECT_EQ(cfg->repository.path, "/new/place/repo");
  EXPECT_EQ(cfg->repository.passphrase_file, "/new/place/pass");
  EXPECT_EQ(cfg->offsite->path, "/mnt/dr/lifeboat");
  EXPECT_EQ(cfg->database.data_dir, "/new/place/main");
  EXPECT_EQ(cfg->database.host, "/new/place/./");  // the directory itself: "./", still a socket directory
  EXPECT_EQ(cfg->database.port, 5432);
  EXPECT_EQ(cfg->frontend.dir, "/new/place/site");
  // A sibling whose name only starts like the directory stays absolute.
  EXPECT_EQ(cfg->state.dir, "/srv/shopping/state");
  ASSERT_EQ(cfg->services.size(), 1u);
  EXPECT_EQ(cfg->services[0].command.front(), "/opt/shop/bin/shop-server");
  // The recovery fingerprint is of the placed text: only the paths changed.
  Result<Config> original = ParseConfig(kConfig, "/srv/shop/lifeboat.toml");
  ASSERT_TRUE(original.ok());
  EXPECT_NE(original->recovery_fingerprint, cfg->recovery_fingerprint);

  Result<std::string> bad = PortableConfigText("[repository\n", "/srv/shop", "/srv/shop/lifeboat.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kConfig);
  EXPECT_EQ(bad.status().message().rfind("config '/srv/shop/lifeboat.toml' line 1: ", 0), 0u) << bad.status().message();
}

TEST(PortableConfigTest, PlacingPutsTheGivenRepositoryAndKeyAndDropsAnOffsiteThatCannotBeThere) {
  std::string portable = *PortableConfigText(kConfig, "/srv/shop", "/srv/shop/lifeboat.toml");
  RepositoryConfigSection s3;
  s3.url = "s3://shop-backups/lifeboat";
  s3.endpoint = "http://127.0.0.1:7480";
  s3.region = "us-east-1";
  std::string dropped = "stale";
  Result<std::string> placed = PlacedConfigText(portable, s3, "repository.key", "/srv/shop", &dropped);
  ASSERT_TRUE(placed.ok()) << placed.status().ToString();
  EXPECT_EQ(dropped, "[repository.offsite] path '/mnt/dr/lifeboat' is not on this machine");
  // On a machine where the mirror's path is there, it stays.
  std::string here = std::string(::testing::TempDir());
  std::string with_mirror = *PortableConfigText("[repository]\npath = \"/srv/shop/repo\"\n[repository.offsite]\npath = \"" +
                                                    here + "\"\n", "/srv/shop", "x");
  placed = PlacedConfigText(with_mirror, s3, "repository.key", "/srv/shop", &dropped);
  ASSERT_TRUE(placed.ok()) << placed.status().ToString();
  EXPECT_EQ(dropped, "");
  Result<Config> cfg = ParseConfig(*placed, "/new/lifeboat.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString() << *placed;
  EXPECT_EQ(cfg->repository.url, "s3://shop-backups/lifeboat");
  EXPECT_EQ(cfg->repository.endpoint, "http://127.0.0.1:7480");
  EXPECT_EQ(cfg->repository.path, "");
  EXPECT_EQ(cfg->repository.passphrase_file, "/new/repository.key");
  ASSERT_TRUE(cfg->offsite.has_value());
  EXPECT_EQ(cfg->offsite->path, here);
  EXPECT_EQ(cfg->offsite->passphrase_file, "/new/repository.key");

  // Rebuilding from the offsite copy: it becomes the only repository.
  RepositoryConfigSection mirror;
  mirror.path = "/mnt/dr/lifeboat";
  placed = PlacedConfigText(portable, mirror, "repository.key", "/srv/shop", &dropped);
  ASSERT_TRUE(placed.ok());
  EXPECT_EQ(dropped, "[repository.offsite] is the repository this rebuild reads from: it is the only one now");
  cfg = ParseConfig(*placed, "/new/lifeboat.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->repository.path, "/mnt/dr/lifeboat");
  EXPECT_FALSE(cfg->offsite.has_value());

  // A mirror beside the lost config (relative once portable) is resolved against its directory.
  std::string beside = *PortableConfigText(
      "[repository]\npath = \"/srv/shop/repo\"\n[repository.offsite]\npath = \"/srv/shop/mirror\"\n", "/srv/shop", "x");
  placed = PlacedConfigText(beside, mirror, "repository.key", "/srv/shop", &dropped);
  ASSERT_TRUE(placed.ok());
  EXPECT_EQ(dropped, "[repository.offsite] path '/srv/shop/mirror' is not on this machine");
  RepositoryConfigSection beside_repo;
  beside_repo.path = "/srv/shop/mirror";
  placed = PlacedConfigText(beside, beside_repo, "repository.key", "/srv/shop", &dropped);
  ASSERT_TRUE(placed.ok());
  EXPECT_EQ(dropped, "[repository.offsite] is the repository this rebuild reads from: it is the only one now");
}

class DefinitionTest : public testing::ScratchAndMemoryRepository {};

TEST_F(DefinitionTest, ARepositoryWithoutOneSaysHowToRecordItAndARecordedOneComesBackWhole) {
  Result<platform::StackDefinition> none = platform::StoredDefinition(*repo_);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Code::kNotFound);
  EXPECT_EQ(none.status().message(), "the repository holds no stack definition");
  EXPECT_EQ(none.status().hint(),
            "on the machine that runs the stack, 'lifeboat stack record' stores it; every up, deploy, drill and agent "
            "start does too");

  std::string file = dir_ + "/lifeboat.toml";
  std::ofstream(file) << "[repository]\npath = \"" << dir_ << "/repo\"\npassphrase_file = \"pass\"\n";
  Result<Config> cfg = LoadConfig(file);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  Result<platform::StackDefinition> def = platform::CaptureDefinition(*cfg);
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_EQ(def->config, "[repository]\npassphrase_file = 'pass'\npath = 'repo'\n");
  EXPECT_EQ(def->recorded_from, cfg->file);
  EXPECT_EQ(def->recovery_fingerprint, cfg->recovery_fingerprint);
  EXPECT_EQ(def->frontend, "");
  ASSERT_TRUE(platform::StoreDefinition(*def, *repo_).ok());
  Result<platform::StackDefinition> back = platform::StoredDefinition(*repo_);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToJson(), def->ToJson());

  // A newer format is refused, not misread.
  nlohmann::json j = def->ToJson();
  j["format"] = 2;
  Result<platform::StackDefinition> newer = platform::StackDefinition::FromJson(j, "the definition");
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), Code::kCorruption);
  EXPECT_EQ(newer.status().message(), "the definition has format 2; this lifeboat reads format 1");
  j.erase("config");
  j["format"] = 1;
  EXPECT_FALSE(platform::StackDefinition::FromJson(j, "the definition").ok());
}

}  // namespace
}  // namespace lifeboat
