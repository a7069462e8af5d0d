// `runbook --from-repository` through the real binary, on a repository that holds no database:
// the stored copy comes back byte for byte; a repository without one, a missing or wrong key,
// and a path that is no repository are each a clear error with exit 1.
#include <filesystem>

#include "harness.h"

namespace fs = std::filesystem;

namespace lifeboat::testing {
namespace {

class RunbookCliTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    WriteFile(Path("key"), "test passphrase\n");
    ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  }
  RunResult FromRepository(const std::string& key) {
    // No config, no passphrase in the environment: only the location and the key file.
    return Run({"runbook", "--from-repository", repo(), "--key", key}, {{"LIFEBOAT_PASSPHRASE", ""}});
  }
};

TEST_F(RunbookCliTest, TheStoredRunbookComesBackWithOnlyTheLocationAndTheKey) {
  RunResult none = FromRepository(Path("key"));
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_EQ(none.err, "error: the repository holds no runbook\n"
                      "hint: 'lifeboat runbook --store' writes it; every drill and every agent start does too\n");
  RunResult stored = Run({"runbook", "--store"});
  ASSERT_EQ(stored.exit_code, 0) << stored.err;
  EXPECT_EQ(stored.err, "runbook stored in the repository\n");
  EXPECT_EQ(stored.out.rfind("# Disaster-recovery runbook: main\n", 0), 0u) << stored.out;
  RunResult back = FromRepository(Path("key"));
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(back.out, stored.out);
  RunResult html = Run({"runbook", "--from-repository", repo(), "--key", Path("key"), "--format", "html", "-o",
                        Path("runbook.html")});
  ASSERT_EQ(html.exit_code, 0) << html.err;
  EXPECT_EQ(ReadWholeFile(Path("runbook.html")).rfind("<!DOCTYPE html>\n", 0), 0u);
}

TEST_F(RunbookCliTest, AWrongOrMissingKeyOrAPathThatIsNoRepositoryIsRefused) {
  WriteFile(Path("other-key"), "another passphrase\n");
  RunResult wrong = FromRepository(Path("other-key"));
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_EQ(wrong.err.rfind("error: cannot open repository '" + repo() + "': wrong passphrase\n", 0), 0u) << wrong.err;
  RunResult missing = Run({"runbook", "--from-repository", repo()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "error: --from-repository needs --key FILE\n"
                         "hint: the file that holds the repository's passphrase\n");
  fs::create_directories(Path("empty"));
  RunResult empty = Run({"runbook", "--from-repository", Path("empty"), "--key", Path("key")});
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_EQ(empty.err.rfind("error: cannot open repository '" + Path("empty") +
                                "': not a lifeboat repository (it has no config object)\n",
                            0),
            0u)
      << empty.err;
  EXPECT_FALSE(fs::exists(Path("empty/config")));  // nothing written into it
}

}  // namespace
}  // namespace lifeboat::testing
