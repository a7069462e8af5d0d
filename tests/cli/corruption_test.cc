// A flipped byte, a truncation or a deletion of each kind of object: `repo check --read-data`
// names the object and the snapshots it breaks; unaffected snapshots still restore; restoring an
// affected snapshot exits 3 and leaves no damaged file under its final name.
#include <filesystem>
#include <regex>

#include "harness.h"

namespace fs = std::filesystem;

namespace lifeboat::testing {
namespace {

class CorruptionTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
    MakeTree(Path("a"), 1, 256);
    MakeTree(Path("b"), 2, 256);
    id_a_ = Backup(Path("a"), "a");
    std::vector<std::string> data_before = ListFiles(repo() + "/data");
    std::vector<std::string> index_before = ListFiles(repo() + "/index");
    std::vector<std::string> snaps_before = ListFiles(repo() + "/snapshots");
    id_b_ = Backup(Path("b"), "b");
    std::vector<std::string> packs = NewFiles(repo() + "/data", data_before);
    std::vector<std::string> index = NewFiles(repo() + "/index", index_before);
    ASSERT_GE(packs.size(), 1u);  // one per worker that stored data
    ASSERT_EQ(index.size(), 1u);
    pack_b_ = "data/" + packs[0];
    index_b_ = "index/" + index[0];
    snapshot_b_ = "snapshots/" + id_b_;
    ASSERT_TRUE(fs::exists(repo() + "/" + snapshot_b_));
  }

  std::string R(const std::string& key) { return repo() + "/" + key; }

  // Snapshot a restores intact whatever happened to b's objects.
  void ExpectAStillRestores() {
    RunResult r = Run({"files", "restore", id_a_, Path("restored-a")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(CompareTrees(Path("a"), Path("restored-a")), "");
  }

  // Restoring b fails with exit 3; whatever reached its final name is intact.
  void ExpectBRefusesCleanly() {
    RunResult r = Run({"files", "restore", id_b_, Path("restored-b")});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    if (!fs::exists(Path("restored-b"))) return;
    for (const std::string& f : ListFiles(Path("restored-b"))) {
      EXPECT_EQ(f.find(".lifeboat-partial"), std::string::npos) << f;
      EXPECT_EQ(ReadWholeFile(Path("restored-b/" + f)), ReadWholeFile(Path("b/" + f))) << f;
    }
  }

  std::string id_a_, id_b_, pack_b_, index_b_, snapshot_b_;
};

TEST_F(CorruptionTest, FlippedPackByteIsFoundByReadDataAndBreaksOnlyItsSnapshot) {
  FlipByte(R(pack_b_), 13);  // inside the first sealed blob, past its nonce
  EXPECT_EQ(Run({"repo", "check"}).exit_code, 0);  // structure intact: only reading sees it
  RunResult c = Run({"repo", "check", "--read-data"});
  EXPECT_EQ(c.exit_code, 3);
  EXPECT_NE(c.out.find("damaged: " + pack_b_ +
                       ": content does not match its name (1 damaged blob(s)) (breaks snapshot " +
                       id_b_.substr(0, 8) + ")\n"),
            std::string::npos)
      << c.out;
  EXPECT_EQ(c.err, "error: repository check found 1 damaged object(s)\n"
                   "hint: snapshots not listed as broken are unaffected and restore\n");
  ExpectBRefusesCleanly();
  ExpectAStillRestores();
}

TEST_F(CorruptionTest, TruncatedPackIsFoundWithoutReadingData) {
  TruncateFile(R(pack_b_), 10);  // shorter than any sealed blob (28 bytes of nonce and tag)
  RunResult c = Run({"repo", "check"});
  EXPECT_EQ(c.exit_code, 3);
  EXPECT_NE(c.out.find("damaged: " + pack_b_ + ": pack is truncated ("), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("(breaks snapshot " + id_b_.substr(0, 8) + ")"), std::string::npos);
  ExpectBRefusesCleanly();
  ExpectAStillRestores();
}

TEST_F(CorruptionTest, DeletedPackIsMissing) {
  fs::remove(R(pack_b_));
  RunResult c = Run({"repo", "check", "--read-data"});
  EXPECT_EQ(c.exit_code, 3);
  EXPECT_NE(c.out.find("damaged: " + pack_b_ + ": pack is missing (breaks snapshot " +
                       id_b_.substr(0, 8) + ")\n"),
            std::string::npos)
      << c.out;
  ExpectBRefusesCleanly();
  ExpectAStillRestores();
}

TEST_F(CorruptionTest, FlippedIndexFileIsNamed) {
  FlipByte(R(index_b_), 20);
  RunResult c = Run({"repo", "check"});
  EXPECT_EQ(c.exit_code, 3);
  EXPECT_NE(c.out.find("damaged: " + index_b_ + ": '" + index_b_ +
                       "' is damaged (its content does not match its name)\n"),
            std::string::npos)
      << c.out;
  // b's blobs are now named by no index.
  EXPECT_TRUE(std::regex_search(c.out, std::regex("damaged: index: \\d+ referenced blob\\(s\\) are "
                                                  "missing from every index \\(breaks snapshot " +
                                                  id_b_.substr(0, 8) + "\\)\n")))
      << c.out;
  ExpectBRefusesCleanly();
  ExpectAStillRestores();
}

TEST_F(CorruptionTest, DeletedIndexFileLeavesBlobsUnindexed) {
  fs::remove(R(index_b_));
  RunResult c = Run({"repo", "check"});
  EXPECT_EQ(c.exit_code, 3);
  EXPECT_TRUE(std::regex_search(c.out, std::regex("note: \\d+ pack\\(s\\) \\(")))  << c.out;
  EXPECT_TRUE(std::regex_search(c.out, std::regex("damaged: index: \\d+ referenced blob\\(s\\) are "
                                                  "missing from every index \\(breaks snapshot " +
                                                  id_b_.substr(0, 8) + "\\)\n")))
      << c.out;
  ExpectBRefusesCleanly();
  ExpectAStillRestores();
}

TEST_F(CorruptionTest, DamagedManifestIsNamed) {
  for (bool truncate : {false, true}) {
    SCOPED_TRACE(truncate ? "truncated" : "flipped");
    std::string saved = ReadWholeFile(R(snapshot_b_));
    if (truncate) TruncateFile(R(snapshot_b_), saved.size() - 5);
    else FlipByte(R(snapshot_b_), saved.size() / 2);
    RunResult c = Run({"repo", "check"});
    EXPECT_EQ(c.exit_code, 3);
    EXPECT_NE(c.out.find("damaged: " + snapshot_b_ + ": snapshot " + id_b_.substr(0, 8) + ": '" +
                         snapshot_b_ + "' is damaged (its content does not match its name) "
                         "(breaks snapshot " + id_b_.substr(0, 8) + ")\n"),
              std::string::npos)
        << c.out;
    ExpectBRefusesCleanly();
    ExpectAStillRestores();
    WriteFile(R(snapshot_b_), saved);
    fs::remove_all(Path("restored-a"));
    fs::remove_all(Path("restored-b"));
  }
}

TEST_F(CorruptionTest, DamagedKeyFileStopsEveryCommandWithExitThree) {
  std::string key = "keys/" + ListFiles(repo() + "/keys")[0];
  FlipByte(R(key), 30);
  RunResult r = Run({"snapshots"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "error: cannot open repository '" + repo() + "': key file '" + key +
                       "' is damaged (its content does not match its name)\n");
  fs::remove(R(key));
  r = Run({"snapshots"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "error: cannot open repository '" + repo() + "': the repository has no key file\n");
}

TEST_F(CorruptionTest, DamagedOrMissingConfigIsCorruption) {
  FlipByte(R("config"), 40);
  RunResult r = Run({"snapshots"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "error: cannot open repository '" + repo() +
                       "': config object is damaged: authentication failed (wrong key or damaged data)\n");
  fs::remove(R("config"));
  r = Run({"snapshots"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "error: cannot open repository '" + repo() + "': the config object is missing\n");
}

TEST_F(CorruptionTest, DamagedLockIsNamedWithAHint) {
  WriteFile(R("locks/0123456789abcdef0123456789abcdef"), "garbage that is not a sealed lock");
  RunResult c = Run({"repo", "check"});
  EXPECT_EQ(c.exit_code, 3);
  EXPECT_EQ(c.err.rfind("error: lock 'locks/0123456789abcdef0123456789abcdef' is damaged: ", 0), 0u)
      << c.err;
  RunResult b = Run({"files", "backup", "--name", "a", Path("a")});
  EXPECT_EQ(b.exit_code, 3);
  EXPECT_NE(b.err.find("hint: if no lifeboat is running, delete the file "
                       "'locks/0123456789abcdef0123456789abcdef' from the repository"),
            std::string::npos)
      << b.err;
}

}  // namespace
}  // namespace lifeboat::testing
