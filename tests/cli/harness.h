// Test harness for the CLI tier: runs the real lifeboat binary in a scratch directory with its
// own config and repository, and generates and compares directory trees. Ground truth is what
// the test wrote to disk, never lifeboat's report of itself.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace lifeboat::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// A scratch directory with lifeboat.toml pointing at ./repo; removed when the test ends,
// whether it passed or not.
class CliTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Runs lifeboat with `args` (after "-c <dir>/lifeboat.toml", or -c config_ when set). `env` adds or overrides
  // variables; LIFEBOAT_PASSPHRASE is set unless overridden.
  RunResult Run(const std::vector<std::string>& args,
                const std::map<std::string, std::string>& env = {});
  // Starts lifeboat without waiting; returns its pid. Teardown kills what is still listed in
  // started_: Forget() a pid once it is reaped, since the system may reuse it.
  pid_t Start(const std::vector<std::string>& args);
  void Forget(pid_t pid) {
    started_.erase(std::remove(started_.begin(), started_.end(), pid), started_.end());
  }

  // The id printed by `files backup --json`.
  std::string Backup(const std::string& path, const std::string& name = "tree");

  std::string Path(const std::string& rel) const { return dir_ + "/" + rel; }
  std::string repo() const { return Path("repo"); }
  void WriteConfig(const std::string& text);

  std::string dir_;
  std::vector<pid_t> started_;
  std::string stdin_text_;  // what Run feeds on standard input (empty: /dev/null)
  std::string config_;      // the config Run and Start pass with -c (empty: Path("lifeboat.toml"))
};

// True when nothing listens on 127.0.0.1:port.
bool PortFree(int port);
// The first of `width` consecutive free ports at or after a block chosen from the pid.
int FreePortBlock(int first, int width);

// Writes a deterministic tree: nested directories, text and random files of several sizes
// (some larger than a chunk), an empty file, symlinks, unusual modes and fixed mtimes.
void MakeTree(const std::string& root, uint32_t seed, size_t scale_kib = 512);
void WriteFile(const std::string& path, const std::string& content);
std::string ReadWholeFile(const std::string& path);
// Empty string when equal; otherwise the first difference (type, mode, mtime, size, content,
// link target, or an entry present on one side only).
std::string CompareTrees(const std::string& a, const std::string& b);
// Every regular file under `dir`, relative paths.
std::vector<std::string> ListFiles(const std::string& dir);
uint64_t DirectoryBytes(const std::string& dir);

}  // namespace lifeboat::testing

namespace lifeboat::testing {
// Fast deterministic pseudo-random content (incompressible).
void WriteRandomFile(const std::string& path, size_t size, uint64_t seed);
void FlipByte(const std::string& path, size_t offset);
void TruncateFile(const std::string& path, size_t size);
// Files under `dir` (relative) that are not in `before`.
std::vector<std::string> NewFiles(const std::string& dir, const std::vector<std::string>& before);
}  // namespace lifeboat::testing
