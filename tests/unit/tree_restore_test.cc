// A restore from a remote store (here the in-memory backend claiming to be one): the chunks of
// a pack that lie close together are read in one request, the tree comes back byte for byte,
// and a damaged pack is still named as damage (the span falls back to reading blob by blob).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/fs.h"
#include "files/tree_backup.h"
#include "files/tree_restore.h"
#include "repo_fixtures.h"
#include "storage/fault/fault_backend.h"
#include "storage/memory/memory_backend.h"

namespace lifeboat {
namespace {

namespace fs = std::filesystem;
using testing::Content;

class RemoteRestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lifeboat-remote-restore-XXXXXX";
    dir_ = mkdtemp(tmpl);
    memory_ = std::make_shared<MemoryBackend>();
    ASSERT_TRUE(Repository::Init(*memory_, "pw", testing::kFastScrypt).ok());
    // 300 small files and one of five chunks: 305 chunks in a handful of packs.
    fs::create_directories(dir_ + "/src/sub");
    for (int i = 0; i < 300; ++i) Write("sub/f" + std::to_string(i), Content(2000 + static_cast<size_t>(i), static_cast<uint8_t>(i)));
    Write("big", Content(5u << 20, 7));
    std::unique_ptr<Repository> repo = std::move(Repository::Open(memory_, "pw").value());
    Result<TreeBackupResult> b = BackupTree(*repo, dir_ + "/src", {}, nullptr);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    snapshot_ = b->snapshot;
    remote_ = std::make_shared<FaultBackend>(memory_, FaultPlan{.remote = true});
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& rel, const Bytes& b) {
    std::ofstream(dir_ + "/src/" + rel, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
  static std::string Read(const std::string& path) {
    Result<Bytes> b = ReadFile(path);
    return b.ok() ? std::string(b->begin(), b->end()) : "(unreadable)";
  }

  std::string dir_;
  std::shared_ptr<MemoryBackend> memory_;
  std::shared_ptr<FaultBackend> remote_;
  Snapshot snapshot_;
};

TEST_F(RemoteRestoreTest, ChunksAreReadASpanOfAPackAtATimeAndComeBackWhole) {
  std::unique_ptr<Repository> repo = std::move(Repository::Open(remote_, "pw").value());
  std::vector<ObjectInfo> packs = *memory_->List("data/");
  ASSERT_GE(packs.size(), 1u);
  uint64_t before = remote_->reads();
  Result<TreeRestoreResult> r = RestoreTree(*repo, snapshot_, dir_ + "/out", nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->files, 301u);
  // Spans hold at most 16 MiB: the 6 MiB of packs take a request or two each, not 305.
  EXPECT_LE(remote_->reads() - before, 2 * packs.size());
  for (const auto& e : fs::recursive_directory_iterator(dir_ + "/src")) {
    if (!e.is_regular_file()) continue;
    std::string rel = fs::relative(e.path(), dir_ + "/src");
    EXPECT_EQ(Read(dir_ + "/out/" + rel), Read(e.path())) << rel;
  }
}

TEST_F(RemoteRestoreTest, ADamagedPackIsStillNamedAsDamage) {
  std::vector<ObjectInfo> packs = *memory_->List("data/");
  ASSERT_FALSE(packs.empty());
  Bytes pack = *memory_->Get(packs[0].key);
  pack[pack.size() / 2] ^= 0x5a;
  ASSERT_TRUE(memory_->Put(packs[0].key, pack).ok());
  std::unique_ptr<Repository> repo = std::move(Repository::Open(remote_, "pw").value());
  Result<TreeRestoreResult> r = RestoreTree(*repo, snapshot_, dir_ + "/out", nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorruption) << r.status().ToString();
  EXPECT_EQ(r.status().message().rfind("cannot restore '", 0), 0u) << r.status().message();
  EXPECT_NE(r.status().message().find("in pack '" + packs[0].key + "' is damaged"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace lifeboat
