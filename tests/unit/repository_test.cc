// The repository over the in-memory backend: dedup, snapshots, check, prune, passphrases, locks
// and injected storage faults.
#include <gtest/gtest.h>

#include <unistd.h>

#include <functional>
#include <regex>

#include "repo_fixtures.h"
#include "repository/blob_writer.h"
#include "repository/check.h"
#include "repository/lock.h"
#include "repository/pack.h"
#include "repository/prune.h"
#include "repository/stats.h"
#include "storage/fault/fault_backend.h"
#include "storage/memory/memory_backend.h"

namespace lifeboat {
namespace {

using testing::Content;
const ScryptParams& kFast = testing::kFastScrypt;

class RepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = std::make_shared<MemoryBackend>();
    ASSERT_TRUE(Repository::Init(*backend_, "pw", kFast).ok());
    repo_ = Reopen();
  }

  std::unique_ptr<Repository> Reopen(OpenOptions opt = {}) {
    Result<std::unique_ptr<Repository>> r = Repository::Open(backend_, "pw", opt);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  // Stores `blobs` as one file in a new snapshot named `name`.
  Id Commit(const std::string& name, const std::vector<Bytes>& blobs) {
    BlobWriter w(repo_.get());
    Snapshot s;
    s.kind = "files";
    s.name = name;
    s.started_at = s.finished_at = NowNanos();
    FileEntry f{.path = "f", .type = EntryType::kFile};
    for (const Bytes& b : blobs) {
      f.chunks.push_back(*w.Add(b));
      f.size += b.size();
    }
    EXPECT_TRUE(w.Flush().ok());
    s.entries.push_back(f);
    s.logical_bytes = f.size;
    s.stored_bytes = w.stored_bytes();
    return *repo_->SaveSnapshot(s);
  }

  uint64_t StoredBytes(const std::string& prefix) {
    std::vector<ObjectInfo> objects = *backend_->List(prefix);
    uint64_t n = 0;
    for (const ObjectInfo& o : objects) n += o.size;
    return n;
  }

  std::shared_ptr<MemoryBackend> backend_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(RepositoryTest, AReaderFollowsBlobsThatAPruneRepackedAfterItOpened) {
  Id a = Commit("a", {Content(4000, 1), Content(4000, 2)});  // one pack holds both blobs
  Id b = Commit("b", {Content(4000, 1)});                     // shares the first
  std::unique_ptr<Repository> reader = Reopen();              // its index: the pack of "a"
  Result<Snapshot> sb = reader->LoadSnapshot(b);
  ASSERT_TRUE(sb.ok());
  ASSERT_TRUE(repo_->DeleteSnapshot(a).ok());
  Result<PruneReport> pruned = Prune(*repo_, PruneOptions{.repack_threshold = 0.0});
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  ASSERT_EQ(pruned->packs_repacked, 1u);  // the blob "b" uses now lives in a new pack
  Result<Bytes> got = reader->ReadBlob(sb->entries[0].chunks[0]);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == Content(4000, 1));
}

TEST_F(RepositoryTest, InitRefusesAnExistingRepository) {
  Status s = Repository::Init(*backend_, "pw", kFast);
  EXPECT_EQ(s.code(), Code::kAlreadyExists);
  EXPECT_EQ(s.message(), "cannot create repository at 'memory:': a repository already exists there");
}

TEST_F(RepositoryTest, WrongPassphraseIsRefusedWithExitCodeOne) {
  Result<std::unique_ptr<Repository>> r = Repository::Open(backend_, "nope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "cannot open repository 'memory:': wrong passphrase");
  EXPECT_EQ(ExitCodeFor(r.status()), 1);
}

TEST_F(RepositoryTest, NotARepositoryIsAClearError) {
  auto empty = std::make_shared<MemoryBackend>();
  Result<std::unique_ptr<Repository>> r = Repository::Open(empty, "pw");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "cannot open repository 'memory:': not a lifeboat repository (it has no config object)");
}

TEST_F(RepositoryTest, IdenticalBlobsAreStoredOnce) {
  Bytes a = Content(100000, 1);
  Id s1 = Commit("one", {a, a, Content(5000, 2)});
  EXPECT_EQ(repo_->index().blob_count(), 2u);
  Id s2 = Commit("two", {a});
  EXPECT_EQ(repo_->index().blob_count(), 2u);
  EXPECT_EQ(repo_->LoadSnapshot(s2)->stored_bytes, 0u);
  EXPECT_NE(s1, s2);
  // A fresh session sees the same index.
  auto again = Reopen();
  EXPECT_EQ(again->index().blob_count(), 2u);
  EXPECT_EQ(*again->ReadBlob(BlobId(again->key().mac, a)), a);
}

TEST_F(RepositoryTest, ResolvesPrefixesAndLatest) {
  Id s1 = Commit("one", {Content(10, 1)});
  Id s2 = Commit("two", {Content(10, 2)});
  EXPECT_EQ(*repo_->ResolveSnapshot(s1.Hex().substr(0, 12)), s1);
  EXPECT_EQ(*repo_->ResolveSnapshot("latest"), s2);
  Result<Id> missing = repo_->ResolveSnapshot("ffffffffffff");
  if (s1.Hex().rfind("ffffffffffff", 0) != 0 && s2.Hex().rfind("ffffffffffff", 0) != 0) {
    EXPECT_EQ(missing.status().message(), "snapshot 'ffffffffffff' does not exist");
    EXPECT_EQ(ExitCodeFor(missing.status()), 1);
  }
}

TEST_F(RepositoryTest, ObjectsHoldNoPlaintext) {
  std::string marker = "LIFEBOAT-PLAINTEXT-MARKER-7f3a";
  Bytes blob;
  for (int i = 0; i < 100; ++i) blob.insert(blob.end(), marker.begin(), marker.end());
  Commit(marker, {blob});
  std::vector<ObjectInfo> all = *backend_->List("");
  for (const ObjectInfo& o : all) {
    Bytes b = *backend_->Get(o.key);
    std::string s(b.begin(), b.end());
    EXPECT_EQ(s.find("MARKER-7f3a"), std::string::npos) << o.key;
  }
}

TEST_F(RepositoryTest, CheckReadDataNamesTheDamagedPackAndTheSnapshotsItBreaks) {
  Id good = Commit("good", {Content(1000, 1)});
  repo_ = Reopen(OpenOptions{.compression_level = 1, .pack_size = 1});  // one pack per blob
  Id bad = Commit("bad", {Content(1000, 2)});
  Result<CheckReport> clean = CheckRepository(*repo_, true, nullptr);
  ASSERT_TRUE(clean.ok());
  EXPECT_TRUE(clean->ok());
  EXPECT_EQ(clean->packs, 2u);
  EXPECT_EQ(clean->snapshots, 2u);

  Id blob = BlobId(repo_->key().mac, Content(1000, 2));
  std::string pack_key = Repository::PackKey(repo_->index().Find(blob)->pack);
  Bytes pack = *backend_->Get(pack_key);
  pack[40] ^= 0x01;
  ASSERT_TRUE(backend_->Put(pack_key, pack).ok());

  Result<CheckReport> quick = CheckRepository(*repo_, false, nullptr);
  EXPECT_TRUE(quick->ok());  // sizes and references are intact; only reading finds the flip
  Result<CheckReport> deep = CheckRepository(*repo_, true, nullptr);
  ASSERT_EQ(deep->errors.size(), 1u);
  EXPECT_EQ(deep->errors[0].object, pack_key);
  EXPECT_EQ(deep->errors[0].problem, "content does not match its name (1 damaged blob(s))");
  EXPECT_EQ(deep->errors[0].snapshots, std::vector<std::string>{bad.Short()});
  EXPECT_EQ(repo_->ReadBlob(blob).status().code(), Code::kCorruption);
  (void)good;
}

// Stores two random blobs in one pack (flags `flags`), points the index entry of the first at
// the bytes of the second, as a damaged or buggy index would, and expects reading the first to
// fail with "blob .. in pack '..' is damaged: <why>" while the second still reads.
void ExpectMisplacedBlobFails(Repository& repo, const std::function<void()>& commit_two,
                              uint8_t flags, const std::string& why) {
  Id a = BlobId(repo.key().mac, Content(3000, 1));
  Id b = BlobId(repo.key().mac, Content(3000, 2));
  commit_two();
  BlobLocation la = *repo.index().Find(a);
  BlobLocation lb = *repo.index().Find(b);
  ASSERT_EQ(la.pack, lb.pack);
  EXPECT_EQ(la.entry.flags, flags);  // random content: not compressed
  EXPECT_EQ(*repo.ReadBlob(a), Content(3000, 1));
  PackEntry moved = la.entry;
  moved.offset = lb.entry.offset;
  moved.stored_length = lb.entry.stored_length;
  moved.raw_length = lb.entry.raw_length;
  repo.index().AddPack({la.pack, {moved}}, /*replace=*/true);
  Result<Bytes> got = repo.ReadBlob(a);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kCorruption);
  EXPECT_EQ(got.status().message(), "blob " + a.Short() + " in pack '" +
                                        Repository::PackKey(la.pack) + "' is damaged: " + why);
  EXPECT_EQ(*repo.ReadBlob(b), Content(3000, 2));
}

TEST_F(RepositoryTest, ABlobReadFromAnotherBlobsPlaceFailsItsSeal) {
  ASSERT_EQ(repo_->config().version, kFormatVersion);
  ExpectMisplacedBlobFails(
      *repo_, [&] { Commit("ab", {Content(3000, 1), Content(3000, 2)}); }, kBlobIdBound,
      "authentication failed (wrong key or damaged data)");
}

TEST_F(RepositoryTest, Version1RepositoriesKeepUnboundBlobsAndCheckThemByHash) {
  // Turn the new repository into a version 1 one, as an older lifeboat wrote it.
  Bytes sealed = *backend_->Get("config");
  Bytes plain = *Open(repo_->key().encryption, sealed);
  std::string text(plain.begin(), plain.end());
  std::string current = "\"version\": " + std::to_string(kFormatVersion);
  size_t at = text.find(current);
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, current.size(), "\"version\": 1");
  ASSERT_TRUE(backend_->Put("config", Seal(repo_->key().encryption, AsBytes(text))).ok());
  repo_ = Reopen();
  ASSERT_EQ(repo_->config().version, 1);
  ExpectMisplacedBlobFails(
      *repo_, [&] { Commit("ab", {Content(3000, 1), Content(3000, 2)}); }, 0,
      "its content does not match its id");
}

TEST_F(RepositoryTest, CheckRecomputesTheIdsThatReadsTakeFromTheSeal) {
  // A writer that sealed a blob under the wrong id: reads trust the seal, check does not.
  Bytes data = Content(3000, 7);
  Id wrong = BlobId(repo_->key().mac, Content(3000, 8));
  PackBuilder pack(&repo_->key().encryption);
  pack.Add(wrong, BlobType::kData, kBlobIdBound, data, 3000);
  IndexedPack ip;
  Bytes bytes = pack.Finish(&ip.entries);
  ip.pack = Sha256(bytes);
  ASSERT_TRUE(backend_->Put(Repository::PackKey(ip.pack), bytes).ok());
  ASSERT_TRUE(repo_->PutSealed("index", EncodeIndexFile({ip})).ok());
  repo_ = Reopen();
  EXPECT_EQ(*repo_->ReadBlob(wrong), data);
  Result<CheckReport> deep = CheckRepository(*repo_, true, nullptr);
  ASSERT_TRUE(deep.ok());
  ASSERT_EQ(deep->errors.size(), 1u);
  EXPECT_EQ(deep->errors[0].object, Repository::PackKey(ip.pack));
  EXPECT_EQ(deep->errors[0].problem, "content does not match its name (1 damaged blob(s))");
}

TEST_F(RepositoryTest, ABlobWithUnknownFlagsIsNotGuessedAt) {
  Id a = BlobId(repo_->key().mac, Content(3000, 1));
  Commit("a", {Content(3000, 1)});
  BlobLocation loc = *repo_->index().Find(a);
  loc.entry.flags |= 0x80;
  repo_->index().AddPack({loc.pack, {loc.entry}}, /*replace=*/true);
  Result<Bytes> got = repo_->ReadBlob(a);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kCorruption);
  EXPECT_EQ(got.status().message(), "blob " + a.Short() + " in pack '" +
                                        Repository::PackKey(loc.pack) + "' has unknown flags 130");
  EXPECT_EQ(got.status().hint(), "a newer lifeboat may have written it; upgrade lifeboat");
}

TEST_F(RepositoryTest, PruneFreesWhatForgottenSnapshotsUsedAndKeepsTheRest) {
  repo_ = Reopen(OpenOptions{.compression_level = 0, .pack_size = 1});
  Bytes shared = Content(50000, 1);
  Bytes only_old = Content(80000, 2);
  Id old_snap = Commit("old", {shared, only_old});
  Id new_snap = Commit("new", {shared, Content(3000, 3)});
  uint64_t before = StoredBytes("data/");

  ASSERT_TRUE(repo_->DeleteSnapshot(old_snap).ok());
  Result<PruneReport> r = Prune(*repo_, PruneOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->packs_deleted, 1u);
  EXPECT_EQ(r->bytes_deleted, 80000 + kSealOverhead + (32 + 10) + kSealOverhead + 8);
  EXPECT_EQ(before - StoredBytes("data/"), r->bytes_deleted);

  auto fresh = Reopen();
  EXPECT_EQ(*fresh->ReadBlob(BlobId(fresh->key().mac, shared)), shared);
  EXPECT_FALSE(fresh->index().Contains(BlobId(fresh->key().mac, only_old)));
  EXPECT_TRUE(CheckRepository(*fresh, true, nullptr)->ok());
  EXPECT_EQ(fresh->ListSnapshotIds()->size(), 1u);
  (void)new_snap;
}

TEST_F(RepositoryTest, PruneRepacksMostlyUnusedPacks) {
  // Both blobs land in one pack; forgetting the big one leaves the pack mostly unused.
  Bytes small = Content(1000, 1);
  Bytes big = Content(100000, 2);
  Id both = Commit("both", {small, big});
  Id keep = Commit("keep", {small});
  ASSERT_EQ(backend_->List("data/")->size(), 1u);
  ASSERT_TRUE(repo_->DeleteSnapshot(both).ok());
  Result<PruneReport> r = Prune(*repo_, PruneOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->packs_repacked, 1u);
  EXPECT_EQ(r->packs_deleted, 0u);
  std::vector<ObjectInfo> packs = *backend_->List("data/");
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_LT(packs[0].size, 5000u);
  auto fresh = Reopen();
  EXPECT_EQ(*fresh->ReadBlob(BlobId(fresh->key().mac, small)), small);
  EXPECT_TRUE(CheckRepository(*fresh, true, nullptr)->ok());
  (void)keep;
}

TEST_F(RepositoryTest, ChangedPassphraseOpensAndTheOldOneNoLonger) {
  Id s = Commit("x", {Content(10, 1)});
  ASSERT_TRUE(repo_->ChangePassphrase("new-pw", kFast).ok());
  EXPECT_EQ(Repository::Open(backend_, "pw").status().code(), Code::kWrongPassphrase);
  Result<std::unique_ptr<Repository>> r = Repository::Open(backend_, "new-pw");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)->LoadSnapshot(s).ok());
  EXPECT_EQ(backend_->List("keys/")->size(), 1u);
}

TEST_F(RepositoryTest, AGeneratedKeyReplacesThePassphraseAndOpensOnlyAsItself) {
  Id s = Commit("x", {Content(10, 1)});
  std::string key = NewGeneratedKey();
  ASSERT_TRUE(repo_->ChangePassphrase(key, kFast).ok());
  std::vector<ObjectInfo> keys = *backend_->List("keys/");
  ASSERT_EQ(keys.size(), 1u);
  Result<KeyFile> kf = DecodeKeyFile(*backend_->Get(keys[0].key));
  ASSERT_TRUE(kf.ok()) << kf.status().ToString();
  EXPECT_EQ(kf->kdf, Kdf::kHkdf);
  EXPECT_EQ(Repository::Open(backend_, "pw").status().code(), Code::kWrongPassphrase);
  EXPECT_EQ(Repository::Open(backend_, NewGeneratedKey()).status().code(),
            Code::kWrongPassphrase);
  Result<std::unique_ptr<Repository>> r = Repository::Open(backend_, key);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE((*r)->LoadSnapshot(s).ok());

  // Next to a passphrase key file for the same master key, each opens with its own secret.
  KeyFile extra = *WrapMasterKey((*r)->key(), "pw", kFast);
  Bytes bytes = EncodeKeyFile(extra);
  ASSERT_TRUE(backend_->Put("keys/" + Sha256(bytes).Hex(), bytes).ok());
  for (const std::string& secret : {key, std::string("pw")}) {
    Result<std::unique_ptr<Repository>> again = Repository::Open(backend_, secret);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_TRUE((*again)->LoadSnapshot(s).ok());
  }
}

TEST_F(RepositoryTest, AKeyFileOnlyANewerLifeboatReadsIsPassedOverUnlessNothingElseOpens) {
  std::string future =
      R"({"version":4,"kdf":"argon2id","salt":"00112233445566778899aabbccddeeff","master_key":"00"})";
  ASSERT_TRUE(backend_->Put("keys/" + Sha256(AsBytes(future)).Hex(), AsBytes(future)).ok());
  Result<std::unique_ptr<Repository>> r = Repository::Open(backend_, "pw");
  ASSERT_TRUE(r.ok()) << r.status().ToString();

  // Without the passphrase's own key file, the newer one is what stands in the way.
  ASSERT_TRUE(backend_->Delete((*r)->key_file()).ok());
  Result<std::unique_ptr<Repository>> alone = Repository::Open(backend_, "pw");
  ASSERT_FALSE(alone.ok());
  EXPECT_EQ(alone.status().code(), Code::kUsage);
  EXPECT_EQ(alone.status().message(),
            "cannot open repository 'memory:': repository format version 4 is newer than this "
            "lifeboat supports (3)");
  EXPECT_EQ(alone.status().hint(), "upgrade lifeboat to read this repository");
}

TEST_F(RepositoryTest, SharedLocksCoexistAndExclusiveLocksExclude) {
  auto a = RepositoryLock::Acquire(repo_.get(), LockKind::kShared, "files backup");
  auto b = RepositoryLock::Acquire(repo_.get(), LockKind::kShared, "wal push");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  auto c = RepositoryLock::Acquire(repo_.get(), LockKind::kExclusive, "prune");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kBusy);
  EXPECT_EQ(c.status().message().rfind("cannot lock repository for prune: shared lock held by ", 0), 0u)
      << c.status().message();
  EXPECT_NE(c.status().message().find("(pid " + std::to_string(getpid()) + " on host "),
            std::string::npos);
  a->reset();
  b->reset();
  auto d = RepositoryLock::Acquire(repo_.get(), LockKind::kExclusive, "prune");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(RepositoryLock::Acquire(repo_.get(), LockKind::kShared, "backup").status().code(),
            Code::kBusy);
  d->reset();
  EXPECT_TRUE(backend_->List("locks/")->empty());
}

TEST_F(RepositoryTest, DiskFullFailsCleanlyAndARetrySucceeds) {
  Id before = Commit("before", {Content(1000, 9)});
  auto faulty = std::make_shared<FaultBackend>(backend_, FaultPlan{.puts_before_fault = 0,
                                                                   .put_errno = ENOSPC});
  auto repo = Repository::Open(faulty, "pw", OpenOptions{.compression_level = 1, .pack_size = 1});
  ASSERT_TRUE(repo.ok());
  BlobWriter w(repo->get());
  // Packs upload in the background: the failure surfaces at the latest in Flush.
  Result<Id> added = w.Add(Content(5000, 3));
  Status flushed = w.Flush();
  ASSERT_FALSE(flushed.ok());
  EXPECT_EQ(flushed.code(), Code::kNoSpace);
  EXPECT_TRUE(std::regex_match(
      flushed.message(),
      std::regex("cannot write 'data/[0-9a-f]{2}/[0-9a-f]{64}' \\(injected fault\\): "
                 "no space left on device")))
      << flushed.message();
  EXPECT_EQ(ExitCodeFor(flushed), 2);
  EXPECT_EQ(w.Add(Content(10, 4)).status().code(), Code::kNoSpace);  // the writer stays failed
  EXPECT_GE(faulty->faults_injected(), 1);

  // Existing snapshots are unharmed, and a retry once space is back succeeds.
  faulty->Clear();
  auto fresh = Reopen();
  EXPECT_TRUE(CheckRepository(*fresh, true, nullptr)->ok());
  EXPECT_TRUE(fresh->LoadSnapshot(before).ok());
  repo_ = std::move(fresh);
  Id after = Commit("after", {Content(5000, 3)});
  EXPECT_TRUE(repo_->LoadSnapshot(after).ok());
}

TEST_F(RepositoryTest, FailingReadsEndInAnIOErrorAndLoseNothing) {
  Id a = Commit("a", {Content(3000, 1), Content(3000, 2), Content(3000, 3)});
  auto faulty = std::make_shared<FaultBackend>(
      backend_, FaultPlan{.get_failure_probability = 0.3, .seed = 7});
  int opened = 0, reads = 0, failed_reads = 0;
  for (int attempt = 0; attempt < 20; ++attempt) {
    Result<std::unique_ptr<Repository>> repo = Repository::Open(faulty, "pw");
    if (!repo.ok()) {
      // Never "wrong passphrase" or "damaged": the disk failed, exit 2.
      EXPECT_EQ(repo.status().code(), Code::kIO) << repo.status().ToString();
      EXPECT_NE(repo.status().message().find("(injected fault): input/output error"), std::string::npos)
          << repo.status().ToString();
      continue;
    }
    ++opened;
    Result<Snapshot> snap = (*repo)->LoadSnapshot(a);
    if (!snap.ok()) {
      EXPECT_EQ(snap.status().code(), Code::kIO) << snap.status().ToString();
      continue;
    }
    for (size_t i = 0; i < 3; ++i) {
      ++reads;
      Result<Bytes> blob = (*repo)->ReadBlob(snap->entries[0].chunks[i]);
      if (blob.ok()) {
        EXPECT_TRUE(*blob == Content(3000, static_cast<uint8_t>(i + 1)));
      } else {
        ++failed_reads;
        EXPECT_EQ(blob.status().code(), Code::kIO) << blob.status().ToString();
        EXPECT_EQ(ExitCodeFor(blob.status()), 2);
      }
    }
  }
  EXPECT_GT(opened, 0);
  EXPECT_GT(failed_reads, 0);
  EXPECT_LT(failed_reads, reads);
  // Once the disk behaves, everything is there.
  faulty->Clear();
  auto fresh = Reopen();
  EXPECT_TRUE(CheckRepository(*fresh, true, nullptr)->ok());
  Result<Snapshot> snap = fresh->LoadSnapshot(a);
  ASSERT_TRUE(snap.ok());
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(*fresh->ReadBlob(snap->entries[0].chunks[i]) == Content(3000, static_cast<uint8_t>(i + 1)));
  }
}

TEST_F(RepositoryTest, ShortWriteIsDetectedByCheckAndRemovedByPrune) {
  auto faulty = std::make_shared<FaultBackend>(
      backend_, FaultPlan{.puts_before_fault = 0, .put_errno = EIO, .short_write = true});
  auto repo = Repository::Open(faulty, "pw", OpenOptions{.compression_level = 1, .pack_size = 1});
  BlobWriter w(repo->get());
  (void)w.Add(Content(5000, 3));
  EXPECT_EQ(w.Flush().code(), Code::kIO);
  // The half-written pack is named by no index: check notes it, prune removes it.
  auto fresh = Reopen();
  Result<CheckReport> c = CheckRepository(*fresh, true, nullptr);
  EXPECT_TRUE(c->ok());
  ASSERT_EQ(c->notes.size(), 1u);
  EXPECT_EQ(c->notes[0].rfind("1 pack(s)", 0), 0u);
  Result<PruneReport> p = Prune(*fresh, PruneOptions{});
  EXPECT_EQ(p->packs_deleted, 1u);
  EXPECT_TRUE(backend_->List("data/")->empty());
}

TEST_F(RepositoryTest, StatsReportDedupAndCompression) {
  Bytes text(200000, 'x');
  Commit("a", {text});
  Commit("b", {text});
  auto st = ComputeStats(*repo_);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->snapshots, 2u);
  EXPECT_EQ(st->logical_bytes, 400000u);
  EXPECT_EQ(st->unique_bytes, 200000u);
  EXPECT_DOUBLE_EQ(st->dedup_ratio(), 2.0);
  EXPECT_GT(st->compression_ratio(), 100.0);
}

}  // namespace
}  // namespace lifeboat
