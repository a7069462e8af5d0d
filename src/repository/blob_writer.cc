#include "repository/blob_writer.h"

#include <algorithm>

#include "repository/compress.h"

namespace lifeboat {

namespace {
// An index file is written every this many packs, so a retry after a crash finds most of
// what the interrupted run stored.
constexpr size_t kPacksPerIndexFile = 16;
}  // namespace

BlobWriter::BlobWriter(Repository* repo, bool dedup_against_index)
    : repo_(repo),
      dedup_against_index_(dedup_against_index),
      // On a remote store smaller packs start uploading sooner, so that the upload overlaps
      // the reading instead of following it (a database compresses 20:1: 32 MiB packs fill
      // only twice in a 1.5 GB backup, and most bytes went out after the last read).
      pack_size_(repo->backend().capabilities().remote ? std::min<size_t>(repo->options().pack_size, kRemotePackSize)
                                                       : repo->options().pack_size) {
  size_t n = repo_->backend().capabilities().remote ? kMaxHandedOver : 1;
  for (size_t i = 0; i < n; ++i) uploaders_.emplace_back([this] { UploadLoop(); });
}

BlobWriter::~BlobWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  queue_cv_.notify_all();
  for (std::thread& t : uploaders_) t.join();
}

void BlobWriter::UploadLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    queue_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    std::unique_ptr<PackBuilder> pack = std::move(queue_.front());
    queue_.pop_front();
    ++uploading_;
    lock.unlock();
    Status s = WritePack(std::move(pack));
    lock.lock();
    --uploading_;
    if (!s.ok() && error_.ok()) error_ = s;
    queue_cv_.notify_all();
  }
}

Status BlobWriter::QueuePack(std::unique_ptr<PackBuilder> pack) {
  std::unique_lock<std::mutex> lock(mu_);
  queue_cv_.wait(lock, [this] { return queue_.size() + uploading_ < kMaxHandedOver || !error_.ok(); });
  if (!error_.ok()) return error_;
  queue_.push_back(std::move(pack));
  queue_cv_.notify_all();
  return Status::Ok();
}

Status BlobWriter::Fail(Status s) {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_.ok()) error_ = s;
  return s;
}

Result<Id> BlobWriter::Add(ByteSpan data) {
  Id id = BlobId(repo_->key().mac, data);
  std::unique_ptr<PackBuilder> pack;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return error_;
    if (pending_.count(id) || (dedup_against_index_ && repo_->index().Contains(id))) return id;
    pending_.insert(id);
    if (!idle_packs_.empty()) {
      pack = std::move(idle_packs_.back());
      idle_packs_.pop_back();
    }
  }
  if (!pack) {
    // Room for a full pack plus one more chunk and the header.
    size_t capacity = pack_size_ + repo_->config().chunk_size + (1 << 20);
    pack = std::make_unique<PackBuilder>(&repo_->key().encryption,
                                         std::min<size_t>(capacity, 256u << 20));
  }

  thread_local Bytes compressed;
  uint8_t flags = repo_->config().version >= 2 ? kBlobIdBound : 0;
  ByteSpan payload = data;
  if (CompressIfSmaller(data, repo_->options().compression_level, &compressed)) {
    flags |= kBlobCompressed;
    payload = compressed;
  }
  pack->Add(id, BlobType::kData, flags, payload, static_cast<uint32_t>(data.size()));
  new_blobs_.fetch_add(1);

  if (pack->size() >= pack_size_) {
    Status s = QueuePack(std::move(pack));
    if (!s.ok()) return Fail(s);
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    idle_packs_.push_back(std::move(pack));
  }
  return id;
}

Status BlobWriter::WritePack(std::unique_ptr<PackBuilder> pack) {
  IndexedPack ip;
  Bytes bytes = pack->Finish(&ip.entries);
  ip.pack = Sha256(bytes);
  LB_RETURN_IF_ERROR(repo_->backend().Put(Repository::PackKey(ip.pack), bytes));
  stored_bytes_.fetch_add(bytes.size());
  packs_written_.fetch_add(1);
  std::vector<IndexedPack> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    unindexed_.push_back(std::move(ip));
    if (unindexed_.size() >= kPacksPerIndexFile) batch.swap(unindexed_);
  }
  if (!batch.empty()) return WriteIndex(std::move(batch));
  return Status::Ok();
}

Status BlobWriter::WriteIndex(std::vector<IndexedPack> packs) {
  Result<Id> id = repo_->PutSealed("index", EncodeIndexFile(packs));
  if (!id.ok()) return id.status();
  for (const IndexedPack& p : packs) repo_->index().AddPack(p);
  return Status::Ok();
}

Status BlobWriter::Flush() {
  std::vector<std::unique_ptr<PackBuilder>> packs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return error_;
    packs.swap(idle_packs_);
  }
  for (auto& p : packs) {
    if (!p->empty()) {
      Status s = QueuePack(std::move(p));
      if (!s.ok()) return Fail(s);
    }
  }
  std::vector<IndexedPack> batch;
  {
    std::unique_lock<std::mutex> lock(mu_);
    queue_cv_.wait(lock, [this] { return (queue_.empty() && uploading_ == 0) || !error_.ok(); });
    if (!error_.ok()) return error_;
    batch.swap(unindexed_);
  }
  if (!batch.empty()) {
    Status s = WriteIndex(std::move(batch));
    if (!s.ok()) return Fail(s);
  }
  return Status::Ok();
}

}  // namespace lifeboat
