// files backup / restore / snapshots / forget / prune through the real binary.
#include <filesystem>
#include <regex>

#include <nlohmann/json.hpp>

#include "harness.h"

namespace fs = std::filesystem;

namespace lifeboat::testing {
namespace {

class FilesTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    RunResult init = Run({"repo", "init"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    ASSERT_EQ(init.out, "created repository at '" + repo() + "'\n");
  }
};

TEST_F(FilesTest, BackupThenRestoreIsByteForByteIdentical) {
  MakeTree(Path("src"), 1);
  std::string id = Backup(Path("src"));
  ASSERT_EQ(id.size(), 64u);
  RunResult r = Run({"files", "restore", id.substr(0, 10), Path("dst")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("restored snapshot " + id.substr(0, 8) + " to '" + Path("dst") +
                            "': 28 files, 9 directories, 2 symlinks, ",
                        0),
            0u)
      << r.out;
  EXPECT_EQ(CompareTrees(Path("src"), Path("dst")), "");
}

// Restores write with O_DIRECT where the file system takes it (the test directory's) and
// through the page cache where it may not (tmpfs, depending on the kernel); odd sizes are
// padded for the direct writes and cut back.
TEST_F(FilesTest, RestoreToTmpfsIsByteForByteIdenticalToo) {
  MakeTree(Path("src"), 5);
  std::string id = Backup(Path("src"));
  char tmpl[] = "/dev/shm/lifeboat-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string shm = tmpl;
  struct RemoveAll {
    std::string dir;
    ~RemoveAll() { fs::remove_all(dir); }
  } remove{shm};
  RunResult r = Run({"files", "restore", id, shm + "/dst"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CompareTrees(Path("src"), shm + "/dst"), "");
}

TEST_F(FilesTest, SnapshotsListsWhatWasBackedUp) {
  MakeTree(Path("src"), 2, 64);
  std::string id = Backup(Path("src"), "media");
  RunResult r = Run({"snapshots", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["id"], id);
  EXPECT_EQ(j[0]["kind"], "files");
  EXPECT_EQ(j[0]["name"], "media");
  EXPECT_EQ(j[0]["logical_bytes"].get<uint64_t>(), DirectoryBytes(Path("src")));
  EXPECT_GT(j[0]["stored_bytes"].get<uint64_t>(), 0u);
  std::string started = j[0]["started_at"];
  EXPECT_TRUE(std::regex_match(started, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)")))
      << started;
  // The global flag also works before the command, and the text table names the snapshot.
  RunResult text = Run({"snapshots"});
  EXPECT_EQ(text.out.rfind("ID        KIND   NAME   CREATED", 0), 0u) << text.out;
  EXPECT_NE(text.out.find(id.substr(0, 8) + "  files  media  "), std::string::npos) << text.out;
}

TEST_F(FilesTest, UnchangedSecondBackupReadsNothingAndAddsNothing) {
  MakeTree(Path("src"), 3);
  Backup(Path("src"));
  RunResult r = Run({"files", "backup", "--name", "tree", Path("src")});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.err.find("files backup: 28 files (0 read), "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(", 0 B added, "), std::string::npos) << r.err;
  // One changed file is read again; the rest are not.
  WriteFile(Path("src/many/file-7"), "changed");
  r = Run({"files", "backup", "--name", "tree", Path("src")});
  EXPECT_NE(r.err.find("files backup: 28 files (1 read), "), std::string::npos) << r.err;
  RunResult restore = Run({"files", "restore", "latest", Path("dst")});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(CompareTrees(Path("src"), Path("dst")), "");
}

TEST_F(FilesTest, RestoreRefusesANonEmptyTarget) {
  MakeTree(Path("src"), 4, 16);
  std::string id = Backup(Path("src"));
  WriteFile(Path("dst/precious"), "keep me");
  RunResult r = Run({"files", "restore", id, Path("dst")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: restore of snapshot " + id.substr(0, 8) + " failed: cannot restore into '" +
                       Path("dst") + "': the directory is not empty\n" +
                       "hint: restore into a new or empty directory\n");
  EXPECT_EQ(ReadWholeFile(Path("dst/precious")), "keep me");
  EXPECT_EQ(ListFiles(Path("dst")), std::vector<std::string>{"precious"});
}

TEST_F(FilesTest, UnknownSnapshotAndBadPathsAreUsageErrors) {
  RunResult r = Run({"files", "restore", "abcdef12", Path("dst")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: snapshot 'abcdef12' does not exist\n"
                   "hint: list snapshots with 'lifeboat snapshots'\n");
  WriteFile(Path("plain-file"), "x");
  r = Run({"files", "backup", "--name", "x", Path("plain-file")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: files backup of '" + Path("plain-file") + "' failed: cannot back up '" +
                       Path("plain-file") + "': not a directory\n" +
                       "hint: give the directory that holds the files\n");
  r = Run({"files", "backup", Path("src")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: invalid command line: --name is required\n"
                   "hint: run 'lifeboat --help' for usage\n");
}

TEST_F(FilesTest, ForgetThenPruneFreesTheSpaceAndOtherSnapshotsStillRestore) {
  MakeTree(Path("a"), 10, 1024);
  MakeTree(Path("b"), 20, 64);
  std::string ida = Backup(Path("a"), "a");
  std::string idb = Backup(Path("b"), "b");
  uint64_t before = DirectoryBytes(repo() + "/data");

  RunResult f = Run({"forget", ida.substr(0, 8)});
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_EQ(f.out, "forgot snapshot " + ida.substr(0, 8) +
                       "\nrun 'lifeboat prune' to free the space their data uses\n");
  RunResult dry = Run({"prune", "--dry-run", "--json"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(DirectoryBytes(repo() + "/data"), before);  // dry run changes nothing

  RunResult p = Run({"prune", "--json"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  nlohmann::json j = nlohmann::json::parse(p.out);
  uint64_t after = DirectoryBytes(repo() + "/data");
  EXPECT_EQ(before - after, j["bytes_freed"].get<uint64_t>());
  EXPECT_EQ(nlohmann::json::parse(dry.out)["bytes_freed"], j["bytes_freed"]);
  // Tree a held about 3.6 MiB of mostly incompressible data; nearly all of it is gone.
  EXPECT_GT(before - after, 1'000'000u);
  EXPECT_LT(after, DirectoryBytes(Path("b")));

  RunResult r = Run({"files", "restore", idb, Path("restored-b")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CompareTrees(Path("b"), Path("restored-b")), "");
  RunResult gone = Run({"files", "restore", ida, Path("restored-a")});
  EXPECT_EQ(gone.exit_code, 1);
  RunResult check = Run({"repo", "check", "--read-data"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(FilesTest, StatsReportDeduplicationAcrossSnapshots) {
  MakeTree(Path("src"), 5, 256);
  Backup(Path("src"), "one");
  Backup(Path("src"), "two");  // another name: no parent, every file read, nothing new stored
  RunResult r = Run({"repo", "stats", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["snapshots"], 2);
  EXPECT_EQ(j["logical_bytes"].get<uint64_t>(), 2 * DirectoryBytes(Path("src")));
  EXPECT_DOUBLE_EQ(j["dedup_ratio"].get<double>(), 2.0);
  EXPECT_GT(j["compression_ratio"].get<double>(), 1.2);
}

}  // namespace
}  // namespace lifeboat::testing
