// BlobWriter: stores content-addressed blobs into packs, deduplicating against the repository's
// index and against itself. The write protocol that makes a crash harmless:
//   1. packs are written (durably) as they fill;
//   2. Flush() writes the remaining packs, then an index file naming them;
//   3. only then may a snapshot that references the blobs be saved.
// A crash before 2 leaves packs no index names; a crash before 3 leaves blobs no snapshot names.
// Both are unreferenced data that `prune` removes.
//
// Full packs are handed to uploader threads (at most kMaxHandedOver queued or uploading), so
// hashing and compression continue while a pack is written and fsynced. One uploader for a
// local store (the disk takes one stream best); on a remote one (Backend::capabilities()
// .remote) as many as may be handed over, so that round trips overlap, the last packs' too.
//
// Thread safety: Add() may be called from many threads at once; Flush() from one thread after
// every Add() has returned. A writer that reported an error refuses further Add() calls.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <thread>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "repository/repository.h"

namespace lifeboat {

class BlobWriter {
 public:
  // With `dedup_against_index` false, only blobs this writer stored are skipped (prune uses
  // this to copy blobs out of packs that the index still names).
  explicit BlobWriter(Repository* repo, bool dedup_against_index = true);
  // Waits for queued uploads; packs not flushed are unreferenced data for prune.
  ~BlobWriter();
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  // Returns the blob's id; stores it unless an identical blob is already stored or pending.
  Result<Id> Add(ByteSpan data);
  Status Flush();

  uint64_t stored_bytes() const { return stored_bytes_.load(); }
  uint64_t new_blobs() const { return new_blobs_.load(); }
  uint64_t packs_written() const { return packs_written_.load(); }

 private:
  static constexpr size_t kMaxHandedOver = 3;
  static constexpr size_t kRemotePackSize = 8u << 20;

  // Queues a full pack for the uploaders; blocks while kMaxHandedOver are queued or uploading.
  Status QueuePack(std::unique_ptr<PackBuilder> pack);
  void UploadLoop();
  Status WritePack(std::unique_ptr<PackBuilder> pack);
  Status WriteIndex(std::vector<IndexedPack> packs);
  Status Fail(Status s);

  Repository* repo_;
  bool dedup_against_index_;
  const size_t pack_size_;
  std::mutex mu_;
  std::unordered_set<Id, IdHash> pending_;
  std::vector<std::unique_ptr<PackBuilder>> idle_packs_;
  std::vector<IndexedPack> unindexed_;  // written packs awaiting an index file
  Status error_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<PackBuilder>> queue_;
  size_t uploading_ = 0;  // packs the uploaders hold
  bool stop_ = false;
  std::vector<std::thread> uploaders_;
  std::atomic<uint64_t> stored_bytes_{0};
  std::atomic<uint64_t> new_blobs_{0};
  std::atomic<uint64_t> packs_written_{0};
};

}  // namespace lifeboat
