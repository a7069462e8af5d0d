// `bootstrap`'s refusals through the real binary, before anything is built: a directory that
// is not empty, a wrong key, a repository with no stack definition. Each exits 1 and leaves
// the directory as it was (missing stays missing); `stack record` then `stack show` round-trip.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "harness.h"

namespace fs = std::filesystem;

namespace lifeboat::testing {
namespace {

class BootstrapCliTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    WriteFile(Path("key"), "test passphrase\n");
    ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  }
  RunResult Bootstrap(const std::string& key, const std::string& dir) {
    return Run({"bootstrap", "--repository", repo(), "--key", key, "--dir", dir, "--yes"},
               {{"LIFEBOAT_PASSPHRASE", ""}});
  }
};

TEST_F(BootstrapCliTest, NoDefinitionAWrongKeyAndADirectoryInUseAreRefusedWithNothingWritten) {
  RunResult none = Bootstrap(Path("key"), Path("new"));
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_EQ(none.err, "error: the repository holds no stack definition\n"
                      "hint: on the machine that runs the stack, 'lifeboat stack record' stores it; every up, "
                      "deploy, drill and agent start does too\n");
  EXPECT_FALSE(fs::exists(Path("new")));

  RunResult record = Run({"stack", "record"});
  ASSERT_EQ(record.exit_code, 0) << record.err;
  EXPECT_EQ(record.out, "stack definition of " + Path("lifeboat.toml") + " stored in the repository\n");
  RunResult show = Run({"stack", "show", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  nlohmann::json def = nlohmann::json::parse(show.out);
  EXPECT_EQ(def["config"], "[repository]\npath = 'repo'\n");
  EXPECT_EQ(def["recorded_from"], Path("lifeboat.toml"));

  WriteFile(Path("wrong-key"), "another passphrase\n");
  RunResult wrong = Bootstrap(Path("wrong-key"), Path("new"));
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_EQ(wrong.err.rfind("error: cannot open repository '" + repo() + "': wrong passphrase\n", 0), 0u) << wrong.err;
  EXPECT_FALSE(fs::exists(Path("new")));

  WriteFile(Path("used/notes.txt"), "mine\n");
  RunResult used = Bootstrap(Path("key"), Path("used"));
  EXPECT_EQ(used.exit_code, 1);
  EXPECT_EQ(used.err, "error: bootstrap: '" + Path("used") + "' is not empty\n"
                      "hint: bootstrap builds the stack into a new directory: give one that is missing or empty\n");
  EXPECT_EQ(ReadWholeFile(Path("used/notes.txt")), "mine\n");
  EXPECT_EQ(fs::directory_entry(Path("used")).exists() ? std::distance(fs::directory_iterator(Path("used")),
                                                                        fs::directory_iterator{})
                                                       : 0,
            1);
}

}  // namespace
}  // namespace lifeboat::testing
