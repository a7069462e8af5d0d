// The suite every storage backend must pass (see the contract in storage/backend.h).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <memory>
#include <random>
#include <thread>

#include "backend_suite.h"
#include "storage/fault/fault_backend.h"
#include "storage/local/local_backend.h"
#include "storage/memory/memory_backend.h"

namespace lifeboat {
namespace {

using suite::BackendSuite;

class MemoryFactory {
 public:
  std::shared_ptr<Backend> Make() { return std::make_shared<MemoryBackend>(); }
};

class LocalFactory {
 public:
  LocalFactory() {
    char tmpl[] = "/tmp/lifeboat-backend-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  ~LocalFactory() { std::filesystem::remove_all(dir_); }
  std::shared_ptr<Backend> Make() { return std::make_shared<LocalBackend>(dir_); }

 private:
  std::string dir_;
};

}  // namespace
}  // namespace lifeboat

namespace lifeboat::suite {
using InProcessBackends = ::testing::Types<MemoryFactory, LocalFactory, FaultFactory<MemoryFactory>,
                                           FaultFactory<LocalFactory>>;
INSTANTIATE_TYPED_TEST_SUITE_P(InProcess, BackendSuite, InProcessBackends);
}  // namespace lifeboat::suite

namespace lifeboat {
namespace {

using suite::B;
using suite::RandomBytes;

// A writer killed with -9 in the middle of a Put leaves nothing visible: no listed object, no
// readable one, and RemoveIncomplete clears what it left.
TEST(LocalBackendTest, AWriterKilledMidPutLeavesNothingVisible) {
  char tmpl[] = "/tmp/lifeboat-local-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  Bytes big(256u << 20, 0x5a);
  pid_t child = fork();
  if (child == 0) {
    LocalBackend b(dir);
    (void)b.Put("data/aa/big", big);
    _exit(0);
  }
  // Kill it once its temporary file is being written.
  bool writing = false;
  for (int i = 0; i < 5000 && !writing; ++i) {
    if (std::filesystem::exists(dir + "/data/aa")) {
      for (const auto& e : std::filesystem::directory_iterator(dir + "/data/aa")) writing = writing || e.file_size() > 0;
    }
    if (!writing) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(writing) << "the child never started writing";
  ASSERT_TRUE(WIFSIGNALED(status)) << "the Put finished before the kill";
  LocalBackend b(dir);
  EXPECT_TRUE(b.List("")->empty());
  EXPECT_EQ(b.Get("data/aa/big").status().code(), Code::kNotFound);
  Result<uint64_t> removed = b.RemoveIncomplete(0);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 1u);
  size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) files += e.is_regular_file() ? 1u : 0u;
  EXPECT_EQ(files, 0u);
  std::filesystem::remove_all(dir);
}

// A root that went away (moved, removed, unmounted) fails the write and is not created again.
TEST(LocalBackendTest, APutUnderARootThatIsGoneFailsAndDoesNotCreateIt) {
  char tmpl[] = "/tmp/lifeboat-local-XXXXXX";
  std::string parent = mkdtemp(tmpl);
  std::string dir = parent + "/root";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  LocalBackend b(dir);
  Bytes one = {'1'};
  ASSERT_TRUE(b.Put("wal/a", one).ok());
  ASSERT_EQ(std::rename(dir.c_str(), (dir + ".away").c_str()), 0);
  Status s = b.Put("wal/b", one);
  EXPECT_EQ(s.code(), Code::kIO);
  EXPECT_EQ(s.message(), "cannot store 'wal/b': the repository directory '" + dir + "' is gone");
  EXPECT_NE(::access(dir.c_str(), F_OK), 0) << "the root was created again";
  ASSERT_EQ(std::rename((dir + ".away").c_str(), dir.c_str()), 0);
  EXPECT_TRUE(b.Put("data/c", one).ok());
  EXPECT_EQ(*b.Get("wal/a"), one);
  std::filesystem::remove_all(parent);
}

TEST(LocalBackendTest, LeavesNoTemporaryFilesAndHidesThemFromList) {
  char tmpl[] = "/tmp/lifeboat-local-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  LocalBackend b(dir);
  ASSERT_TRUE(b.Put("snapshots/a", B("x")).ok());
  // A temp file as left by a crash mid-Put is never listed.
  ASSERT_TRUE(std::filesystem::exists(dir + "/snapshots"));
  { std::ofstream(dir + "/snapshots/b.tmp-123") << "partial"; }
  Result<std::vector<ObjectInfo>> l = b.List("snapshots/");
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0].key, "snapshots/a");
  EXPECT_EQ(std::filesystem::status(dir + "/snapshots/a").permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lifeboat

namespace lifeboat {
namespace {

TEST(LocalBackendTest, RemoveIncompleteDeletesOnlyOldTemporaryFiles) {
  char tmpl[] = "/tmp/lifeboat-local-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  LocalBackend b(dir);
  ASSERT_TRUE(b.Put("data/ab/pack", Bytes(10, 1)).ok());
  std::filesystem::create_directories(dir + "/locks");
  { std::ofstream(dir + "/data/ab/pack2.tmp-old") << "partial"; }
  { std::ofstream(dir + "/locks/x.tmp-new") << "partial"; }
  auto old = std::filesystem::file_time_type::clock::now() - std::chrono::hours(2);
  std::filesystem::last_write_time(dir + "/data/ab/pack2.tmp-old", old);
  Result<uint64_t> removed = b.RemoveIncomplete(3600);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1u);
  EXPECT_FALSE(std::filesystem::exists(dir + "/data/ab/pack2.tmp-old"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/locks/x.tmp-new"));  // young: maybe still written
  EXPECT_TRUE(std::filesystem::exists(dir + "/data/ab/pack"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lifeboat
