// The contract every storage backend must pass (storage/backend.h), as a typed test suite:
// a test binary instantiates it with factories of its backends (a factory has Make()).
// tests/unit instantiates memory and local, each also wrapped in the fault backend;
// tests/s3 instantiates the S3 backend against a real RGW.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/backend.h"
#include "storage/fault/fault_backend.h"

namespace lifeboat::suite {

// Any backend wrapped in the fault backend with no fault planned: the wrapper must keep the
// contract of what it wraps (the reliability tests rely on it).
template <typename Inner>
class FaultFactory {
 public:
  std::shared_ptr<Backend> Make() { return std::make_shared<FaultBackend>(inner_.Make(), FaultPlan{}); }

 private:
  Inner inner_;
};

template <typename Factory>
class BackendSuite : public ::testing::Test {
 protected:
  Factory factory_;
  std::shared_ptr<Backend> b_ = factory_.Make();
};

TYPED_TEST_SUITE_P(BackendSuite);

inline Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }

TYPED_TEST_P(BackendSuite, PutThenGetReturnsTheSameBytes) {
  ASSERT_TRUE(this->b_->Put("data/ab/abc", B("hello")).ok());
  Result<Bytes> got = this->b_->Get("data/ab/abc");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, B("hello"));
  Result<ObjectInfo> st = this->b_->Stat("data/ab/abc");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, 5u);
}

TYPED_TEST_P(BackendSuite, PutReplaces) {
  ASSERT_TRUE(this->b_->Put("config", B("one")).ok());
  ASSERT_TRUE(this->b_->Put("config", B("two!")).ok());
  EXPECT_EQ(*this->b_->Get("config"), B("two!"));
}

TYPED_TEST_P(BackendSuite, MissingObjectsAreNotFound) {
  EXPECT_EQ(this->b_->Get("nope").status().code(), Code::kNotFound);
  EXPECT_EQ(this->b_->GetRange("nope", 0, 1).status().code(), Code::kNotFound);
  EXPECT_EQ(this->b_->Stat("nope").status().code(), Code::kNotFound);
}

TYPED_TEST_P(BackendSuite, GetRangeReadsExactlyTheRange) {
  ASSERT_TRUE(this->b_->Put("k", B("0123456789")).ok());
  EXPECT_EQ(*this->b_->GetRange("k", 3, 4), B("3456"));
  EXPECT_EQ(*this->b_->GetRange("k", 10, 0), B(""));
  EXPECT_FALSE(this->b_->GetRange("k", 8, 4).ok());
}

TYPED_TEST_P(BackendSuite, ListReturnsKeysUnderAPrefixInOrder) {
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

TYPED_TEST_P(BackendSuite, DeleteIsIdempotent) {
  ASSERT_TRUE(this->b_->Put("locks/1", B("x")).ok());
  EXPECT_TRUE(this->b_->Delete("locks/1").ok());
  EXPECT_TRUE(this->b_->Delete("locks/1").ok());
  EXPECT_EQ(this->b_->Get("locks/1").status().code(), Code::kNotFound);
}

TYPED_TEST_P(BackendSuite, DeleteManyRemovesEveryKeyInBatches) {
  std::vector<std::string> keys;
  for (int i = 0; i < 1203; ++i) keys.push_back("data/" + std::to_string(i % 7) + "/" + std::to_string(i));
  std::vector<std::thread> writers;
  for (size_t t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (size_t i = t; i < keys.size(); i += 8) EXPECT_TRUE(this->b_->Put(keys[i], B("x")).ok());
    });
  }
  for (auto& w : writers) w.join();
  ASSERT_TRUE(this->b_->Put("index/keep", B("k")).ok());
  std::vector<std::string> doomed = keys;
  doomed.push_back("data/never/written");  // missing keys are fine, as for Delete
  ASSERT_TRUE(this->b_->DeleteMany(doomed).ok());
  EXPECT_TRUE(this->b_->List("data/")->empty());
  EXPECT_EQ(this->b_->List("")->size(), 1u);
  EXPECT_TRUE(this->b_->DeleteMany({}).ok());
  EXPECT_EQ(this->b_->DeleteMany({"../x"}).code(), Code::kUsage);
}

TYPED_TEST_P(BackendSuite, RejectsKeysThatEscapeTheNamespace) {
  for (const char* k : {"", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", "a/"}) {
    EXPECT_EQ(this->b_->Put(k, B("x")).code(), Code::kUsage) << k;
  }
}

TYPED_TEST_P(BackendSuite, ConcurrentPutsAllLand) {
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

inline Bytes RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes out(n);
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    for (size_t k = 0; k < 8 && i + k < n; ++k) out[i + k] = static_cast<uint8_t>(v >> (8 * k));
  }
  return out;
}

TYPED_TEST_P(BackendSuite, RangeReadsAtRandomOffsetsMatchAReferenceCopy) {
  Bytes ref = RandomBytes((3 << 20) + 4321, 7);
  ASSERT_TRUE(this->b_->Put("data/7f/pack", ref).ok());
  std::mt19937_64 rng(11);
  for (int i = 0; i < 300; ++i) {
    uint64_t off = rng() % (ref.size() + 1);
    size_t len = static_cast<size_t>(rng() % (ref.size() - off + 1));
    if (i % 3 == 0) len = std::min<size_t>(len, 4096);  // many small reads, as restores do
    Result<Bytes> got = this->b_->GetRange("data/7f/pack", off, len);
    ASSERT_TRUE(got.ok()) << off << "+" << len << ": " << got.status().ToString();
    ASSERT_EQ(got->size(), len);
    ASSERT_TRUE(std::equal(got->begin(), got->end(), ref.begin() + static_cast<std::ptrdiff_t>(off)))
        << "range " << off << "+" << len << " differs from the reference";
  }
  // Past the end is an error, never a short read.
  EXPECT_FALSE(this->b_->GetRange("data/7f/pack", ref.size() - 10, 11).ok());
  EXPECT_FALSE(this->b_->GetRange("data/7f/pack", ref.size() + 1, 0).ok());
}

TYPED_TEST_P(BackendSuite, ListsThousandsOfKeysWithPrefixes) {
  // 2,500 keys: more than one page of an S3 listing (1,000 keys a page).
  std::vector<std::string> keys;
  for (int i = 0; i < 2500; ++i) {
    char k[64];
    std::snprintf(k, sizeof(k), "data/%02x/%05d", i % 256, i);
    keys.push_back(k);
  }
  std::vector<std::thread> writers;  // in parallel, as the repository writes: a remote store is slow one by one
  for (size_t t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (size_t i = t; i < keys.size(); i += 8) EXPECT_TRUE(this->b_->Put(keys[i], B(keys[i])).ok());
    });
  }
  for (auto& w : writers) w.join();
  ASSERT_TRUE(this->b_->Put("data0", B("x")).ok());      // shares "data" but not "data/"
  ASSERT_TRUE(this->b_->Put("index/aa", B("x")).ok());
  std::sort(keys.begin(), keys.end());
  Result<std::vector<ObjectInfo>> all = this->b_->List("data/");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_EQ((*all)[i].key, keys[i]);
    ASSERT_EQ((*all)[i].size, keys[i].size());
  }
  // A prefix that ends inside a directory name: "data/1" is data/10 .. data/1f.
  Result<std::vector<ObjectInfo>> ones = this->b_->List("data/1");
  ASSERT_TRUE(ones.ok()) << ones.status().ToString();
  size_t expected = static_cast<size_t>(std::count_if(keys.begin(), keys.end(), [](const std::string& k) {
    return k.rfind("data/1", 0) == 0;
  }));
  EXPECT_EQ(ones->size(), expected);
  EXPECT_EQ(ones->front().key.substr(0, 8), "data/10/");
  EXPECT_EQ(ones->back().key.substr(0, 8), "data/1f/");
  EXPECT_EQ(this->b_->List("data/a7/")->size(), 10u);  // i = 167, 423, ... below 2,500
  EXPECT_EQ(this->b_->List("data")->size(), keys.size() + 1);
  EXPECT_EQ(this->b_->List("")->size(), keys.size() + 2);
  EXPECT_TRUE(this->b_->List("data/zz/")->empty());
}

TYPED_TEST_P(BackendSuite, OverwriteAndDeleteAreSeenAtOnce) {
  ASSERT_TRUE(this->b_->Put("locks/a", B("a longer first version")).ok());
  ASSERT_TRUE(this->b_->Put("locks/a", B("short")).ok());
  EXPECT_EQ(this->b_->Stat("locks/a")->size, 5u);
  EXPECT_EQ(*this->b_->GetRange("locks/a", 0, 5), B("short"));
  EXPECT_FALSE(this->b_->GetRange("locks/a", 0, 6).ok());  // nothing of the longer one is left
  ASSERT_TRUE(this->b_->Delete("locks/a").ok());
  if (this->b_->capabilities().consistent_list) {
    EXPECT_TRUE(this->b_->List("locks/")->empty());
  }
  EXPECT_EQ(this->b_->Stat("locks/a").status().code(), Code::kNotFound);
  EXPECT_EQ(this->b_->Delete("locks/never").code(), Code::kOk);
}

TYPED_TEST_P(BackendSuite, ObjectsOf64MiBAndMore) {
  Bytes big = RandomBytes((64u << 20) + 1, 64);
  ASSERT_TRUE(this->b_->Put("data/40/big", big).ok());
  EXPECT_EQ(this->b_->Stat("data/40/big")->size, big.size());
  Result<Bytes> tail = this->b_->GetRange("data/40/big", big.size() - 3, 3);
  ASSERT_TRUE(tail.ok());
  EXPECT_TRUE(std::equal(tail->begin(), tail->end(), big.end() - 3));
  Result<Bytes> whole = this->b_->Get("data/40/big");
  ASSERT_TRUE(whole.ok());
  EXPECT_TRUE(*whole == big);
}

TYPED_TEST_P(BackendSuite, AReaderSeesNoObjectOrAWholeOneNeverAPartOfOne) {
  // One writer replaces an 8 MiB object with either of two contents while readers read it:
  // every read is missing (before the first Put) or exactly one of the two, whole.
  Bytes one = RandomBytes(8u << 20, 1), two = RandomBytes((8u << 20) + 17, 2);
  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, torn{0};
  std::thread writer([&] {
    for (int i = 0; i < 12; ++i) EXPECT_TRUE(this->b_->Put("snapshots/s", i % 2 ? two : one).ok());
    done = true;
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!done) {
        Result<Bytes> got = this->b_->Get("snapshots/s");
        if (!got.ok()) {
          if (got.status().code() != Code::kNotFound) ++torn;
          continue;
        }
        ++reads;
        if (!(*got == one) && !(*got == two)) ++torn;
      }
    });
  }
  writer.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0) << "of " << reads.load() << " reads";
  EXPECT_TRUE(*this->b_->Get("snapshots/s") == two);
}

TYPED_TEST_P(BackendSuite, ConcurrentWritersOfOneKeyLeaveOneWholeValue) {
  std::vector<Bytes> values;
  for (int t = 0; t < 4; ++t) values.push_back(RandomBytes((1u << 20) + static_cast<size_t>(t), static_cast<uint64_t>(t) + 100));
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) EXPECT_TRUE(this->b_->Put("index/i", values[static_cast<size_t>(t)]).ok());
    });
  }
  for (auto& w : writers) w.join();
  Result<Bytes> got = this->b_->Get("index/i");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(std::find(values.begin(), values.end(), *got) != values.end());
  EXPECT_EQ(this->b_->List("index/")->size(), 1u);
}

REGISTER_TYPED_TEST_SUITE_P(BackendSuite, DeleteManyRemovesEveryKeyInBatches, PutThenGetReturnsTheSameBytes, PutReplaces, MissingObjectsAreNotFound, GetRangeReadsExactlyTheRange, ListReturnsKeysUnderAPrefixInOrder, DeleteIsIdempotent, RejectsKeysThatEscapeTheNamespace, ConcurrentPutsAllLand, RangeReadsAtRandomOffsetsMatchAReferenceCopy, ListsThousandsOfKeysWithPrefixes, OverwriteAndDeleteAreSeenAtOnce, ObjectsOf64MiBAndMore, AReaderSeesNoObjectOrAWholeOneNeverAPartOfOne, ConcurrentWritersOfOneKeyLeaveOneWholeValue);

}  // namespace lifeboat::suite
