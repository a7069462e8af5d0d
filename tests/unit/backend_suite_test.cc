// The suite every storage backend must pass (see the contract in storage/backend.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "storage/local/local_backend.h"
#include "storage/memory/memory_backend.h"

namespace lifeboat {
namespace {

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

template <typename Factory>
class BackendSuite : public ::testing::Test {
 protected:
  Factory factory_;
  std::shared_ptr<Backend> b_ = factory_.Make();
};

using Backends = ::testing::Types<MemoryFactory, LocalFactory>;
TYPED_TEST_SUITE(BackendSuite, Backends);

Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }

TYPED_TEST(BackendSuite, PutThenGetReturnsTheSameBytes) {
  ASSERT_TRUE(this->b_->Put("data/ab/abc", B("hello")).ok());
  Result<Bytes> got = this->b_->Get("data/ab/abc");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, B("hello"));
  Result<ObjectInfo> st = this->b_->Stat("data/ab/abc");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, 5u);
}

TYPED_TEST(BackendSuite, PutReplaces) {
  ASSERT_TRUE(this->b_->Put("config", B("one")).ok());
  ASSERT_TRUE(this->b_->Put("config", B("two!")).ok());
  EXPECT_EQ(*this->b_->Get("config"), B("two!"));
}

TYPED_TEST(BackendSuite, MissingObjectsAreNotFound) {
  EXPECT_EQ(this->b_->Get("nope").status().code(), Code::kNotFound);
  EXPECT_EQ(this->b_->GetRange("nope", 0, 1).status().code(), Code::kNotFound);
  EXPECT_EQ(this->b_->Stat("nope").status().code(), Code::kNotFound);
}

TYPED_TEST(BackendSuite, GetRangeReadsExactlyTheRange) {
  ASSERT_TRUE(this->b_->Put("k", B("0123456789")).ok());
  EXPECT_EQ(*this->b_->GetRange("k", 3, 4), B("3456"));
  EXPECT_EQ(*this->b_->GetRange("k", 10, 0), B(""));
  EXPECT_FALSE(this->b_->GetRange("k", 8, 4).ok());
}

TYPED_TEST(BackendSuite, ListReturnsKeysUnderAPrefixInOrder) {
  for (const char* k : {"snapshots/b", "snapshots/a", "index/x", "data/00/p", "data/ff/q"}) {
    ASSERT_TRUE(this->b_->Put(k, B(k)).ok());
  }
  Result<std::vector<ObjectInfo>> snaps = this->b_->List("snapshots/");
  ASSERT_TRUE(snaps.ok());
  ASSERT_EQ(snaps->size(), 2u);
  EXPECT_EQ((*snaps)[0].key, "snapshots/a");
  EXPECT_EQ((*snaps)[1].key, "snapshots/b");
  EXPECT_EQ((*snaps)[1].size, 11u);
  Result<std::vector<ObjectInfo>> data = this->b_->List("data/");
  ASSERT_EQ(data->size(), 2u);
  EXPECT_EQ((*data)[0].key, "data/00/p");
  EXPECT_EQ((*data)[1].key, "data/ff/q");
  EXPECT_EQ(this->b_->List("")->size(), 5u);
  EXPECT_TRUE(this->b_->List("locks/")->empty());
}

TYPED_TEST(BackendSuite, DeleteIsIdempotent) {
  ASSERT_TRUE(this->b_->Put("locks/1", B("x")).ok());
  EXPECT_TRUE(this->b_->Delete("locks/1").ok());
  EXPECT_TRUE(this->b_->Delete("locks/1").ok());
  EXPECT_EQ(this->b_->Get("locks/1").status().code(), Code::kNotFound);
}

TYPED_TEST(BackendSuite, RejectsKeysThatEscapeTheNamespace) {
  for (const char* k : {"", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", "a/"}) {
    EXPECT_EQ(this->b_->Put(k, B("x")).code(), Code::kUsage) << k;
  }
}

TYPED_TEST(BackendSuite, ConcurrentPutsAllLand) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 25; ++i) {
        std::string k = "data/" + std::to_string(t) + "/" + std::to_string(i);
        EXPECT_TRUE(this->b_->Put(k, B(k)).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(this->b_->List("data/")->size(), 100u);
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
