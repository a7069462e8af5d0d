#include <gtest/gtest.h>

#include "config/config.h"

namespace lifeboat {
namespace {

TEST(ConfigTest, ResolvesPathsRelativeToTheFile) {
  Result<Config> c = ParseConfig("[repository]\npath = \"repo\"\ncompression = 3\n", "/etc/lb/lifeboat.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->repository.path, "/etc/lb/repo");
  EXPECT_EQ(c->repository.compression, 3);
  EXPECT_EQ(c->state.dir, "/etc/lb/.lifeboat");
  Result<Config> abs = ParseConfig("[repository]\npath = \"/var/backups/lifeboat\"\n[state]\ndir = \"/var/lib/lifeboat\"\n", "/x/l.toml");
  EXPECT_EQ(abs->repository.path, "/var/backups/lifeboat");
  EXPECT_EQ(abs->state.dir, "/var/lib/lifeboat");
}

TEST(ConfigTest, UnknownKeysNameFileLineAndKey) {
  Result<Config> c = ParseConfig("[repository]\npath = \"r\"\n\npth = \"x\"\n", "/x/l.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "config '/x/l.toml' line 4: unknown key 'repository.pth'");
  EXPECT_EQ(c.status().hint(), "keys of [repository] are: compression, passphrase_file, path");
  EXPECT_EQ(ExitCodeFor(c.status()), 1);
  Result<Config> section = ParseConfig("[repository]\npath = \"r\"\n[reposit]\n", "/x/l.toml");
  EXPECT_EQ(section.status().message(), "config '/x/l.toml' line 3: unknown key 'reposit'");
}

TEST(ConfigTest, WrongTypesAndMissingKeysAreErrors) {
  EXPECT_EQ(ParseConfig("[repository]\npath = 5\n", "/x/l.toml").status().message(),
            "config '/x/l.toml' line 2: 'repository.path' must be a string");
  EXPECT_EQ(ParseConfig("[repository]\npath = \"r\"\ncompression = \"high\"\n", "/x/l.toml")
                .status().message(),
            "config '/x/l.toml' line 3: 'repository.compression' must be an integer");
  EXPECT_EQ(ParseConfig("[repository]\npath = \"r\"\ncompression = 40\n", "/x/l.toml")
                .status().message(),
            "config '/x/l.toml' line 3: 'repository.compression' is 40, outside 0..19");
  EXPECT_EQ(ParseConfig("[repository]\n", "/x/l.toml").status().message(),
            "config '/x/l.toml': missing key 'repository.path'");
  EXPECT_EQ(ParseConfig("", "/x/l.toml").status().message(),
            "config '/x/l.toml': missing section [repository]");
  Result<Config> syntax = ParseConfig("[repository\n", "/x/l.toml");
  EXPECT_EQ(syntax.status().code(), Code::kConfig);
  EXPECT_EQ(syntax.status().message().rfind("config '/x/l.toml' line 1: ", 0), 0u);
}

TEST(ConfigTest, MissingFileIsAConfigError) {
  Result<Config> c = LoadConfig("/nonexistent/lifeboat.toml");
  EXPECT_EQ(c.status().message(), "cannot read config '/nonexistent/lifeboat.toml': no such file");
  EXPECT_EQ(ExitCodeFor(c.status()), 1);
}

}  // namespace
}  // namespace lifeboat
