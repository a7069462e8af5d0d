// kill -9 in the middle of a backup: no snapshot is listed, check passes, the next backup
// works and restores exactly, and prune removes what the killed run left.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <random>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness.h"

namespace fs = std::filesystem;

namespace lifeboat::testing {
namespace {

using CrashTest = CliTest;

TEST_F(CrashTest, KillDuringBackupLeavesOnlyUnreferencedData) {
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  MakeTree(Path("src/small"), 1, 64);
  std::string first = Backup(Path("src/small"), "small");
  for (int i = 0; i < 24; ++i) {
    WriteRandomFile(Path("src/big/file-" + std::to_string(i)), 6 << 20, static_cast<uint64_t>(i));
  }

  pid_t pid = Start({"files", "backup", "--name", "big", Path("src")});
  // Kill once the first pack of the new backup is on disk, i.e. mid-write.
  size_t packs_before = ListFiles(repo() + "/data").size();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool mid = false;
  while (std::chrono::steady_clock::now() < deadline) {
    size_t packs = 0;
    for (const auto& f : ListFiles(repo() + "/data")) packs += f.find(".tmp-") == std::string::npos;
    if (packs > packs_before) {
      mid = true;
      break;
    }
    if (waitpid(pid, nullptr, WNOHANG) == pid) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  started_.clear();
  ASSERT_TRUE(mid) << "the backup finished before it could be interrupted";
  ASSERT_TRUE(WIFSIGNALED(status));

  // Only the first snapshot is listed; the repository is consistent.
  nlohmann::json snaps = nlohmann::json::parse(Run({"snapshots", "--json"}).out);
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps[0]["id"], first);
  RunResult check = Run({"repo", "check", "--read-data"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;

  // The next backup works (the dead process's lock is stale) and restores exactly.
  std::string second = Backup(Path("src"), "big");
  ASSERT_EQ(second.size(), 64u);
  RunResult restore = Run({"files", "restore", second, Path("dst")});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(CompareTrees(Path("src"), Path("dst")), "");

  // Prune removes the interrupted run's packs; the snapshots stay whole.
  RunResult prune = Run({"prune", "--json"});
  ASSERT_EQ(prune.exit_code, 0) << prune.err;
  EXPECT_GE(nlohmann::json::parse(prune.out)["packs_deleted"].get<int>(), 1);
  check = Run({"repo", "check", "--read-data"});
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_EQ(check.out.find("note:"), std::string::npos) << check.out;
  RunResult again = Run({"files", "restore", first, Path("dst-first")});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(CompareTrees(Path("src/small"), Path("dst-first")), "");
  EXPECT_TRUE(ListFiles(repo() + "/locks").empty());
}

// The crash matrix for files backup and prune: kill -9 at random moments, then the repository
// checks clean, every snapshot listed before still restores byte for byte, and a retry works.
// `make test` runs 2 rounds; `make torture` (LIFEBOAT_TORTURE=1) runs 20.
TEST_F(CrashTest, KillsAtRandomMomentsLoseNothing) {
  int rounds = getenv("LIFEBOAT_TORTURE") != nullptr ? 20 : 2;
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  MakeTree(Path("base"), 7, 256);
  std::string keep = Backup(Path("base"), "base");
  for (int i = 0; i < 12; ++i) {
    WriteRandomFile(Path("src/f" + std::to_string(i)), 6 << 20, static_cast<uint64_t>(100 + i));
  }
  std::mt19937 rng(static_cast<unsigned>(getpid()));
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    bool prune = round % 2 == 1;
    // Each backup round changes a file so that new data is written.
    if (!prune) {
      WriteRandomFile(Path("src/f" + std::to_string(round % 12)), 6 << 20, static_cast<uint64_t>(1000 + round));
    }
    pid_t pid = prune ? Start({"prune"}) : Start({"files", "backup", "--name", "src", Path("src")});
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    started_.clear();
    RunResult check = Run({"repo", "check", "--read-data"});
    ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
    // A retry succeeds.
    RunResult retry = prune ? Run({"prune"}) : Run({"files", "backup", "--name", "src", Path("src")});
    ASSERT_EQ(retry.exit_code, 0) << retry.err;
  }
  RunResult r = Run({"files", "restore", keep, Path("restored-base")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CompareTrees(Path("base"), Path("restored-base")), "");
  RunResult latest = Run({"files", "restore", "latest", Path("restored-src")});
  ASSERT_EQ(latest.exit_code, 0) << latest.err;
  EXPECT_EQ(CompareTrees(Path("src"), Path("restored-src")), "");
  // No lock is left; a lock file a kill cut short stays a temporary file that nothing reads,
  // and prune removes it once it is a minute old.
  for (const std::string& f : ListFiles(repo() + "/locks")) {
    EXPECT_NE(f.find(".tmp-"), std::string::npos) << f;
  }
}

}  // namespace
}  // namespace lifeboat::testing
