// kill -9 in the middle of a backup: no snapshot is listed, check passes, the next backup
// works and restores exactly, and prune removes what the killed run left.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
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

}  // namespace
}  // namespace lifeboat::testing
