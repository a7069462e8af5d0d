#include "files/tree_restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <memory>
#include <mutex>
#include <thread>

#include "base/fs.h"
#include "base/parallel.h"

namespace lifeboat {

namespace {

constexpr const char* kPartialSuffix = ".lifeboat-partial";
// O_DIRECT wants buffers, offsets and lengths aligned to the logical block size; 4 KiB covers
// the disks in use. Chunk sizes are multiples of it, so only a file's last chunk is padded.
constexpr size_t kDirectAlignment = 4096;

struct timespec ToTimespec(UnixNanos t) {
  struct timespec ts {};
  ts.tv_sec = static_cast<time_t>(t / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(t % 1'000'000'000);
  return ts;
}

Status SetAttributes(const std::string& path, const FileEntry& e, bool is_link) {
  if (geteuid() == 0 && ::lchown(path.c_str(), e.uid, e.gid) != 0) {
    return ErrnoStatus("cannot set owner of '" + path + "'", errno);
  }
  if (!is_link && ::chmod(path.c_str(), e.mode) != 0) {
    return ErrnoStatus("cannot set mode of '" + path + "'", errno);
  }
  struct timespec times[2] = {ToTimespec(e.mtime), ToTimespec(e.mtime)};
  if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus("cannot set times of '" + path + "'", errno);
  }
  return Status::Ok();
}

// One file being written under its temporary name. One thread creates the files, in the order
// the workers write them, while the workers write: creating files overlaps with writing, and
// creators do not contend for the directory's lock (spinning on it cost more than creating).
// Renames come at the end, from one thread, for the same reason.
struct OpenFileState {
  std::string partial;
  std::string final_path;
  uint64_t size = 0;
  UniqueFd fd;
  Status create_status;
  std::atomic<bool> created{false};  // create_status is set (the creator's release)
  // Written with O_DIRECT: past the page cache, which otherwise costs a copy of every byte
  // (half a restore's CPU) and then has to be written back anyway.
  std::atomic<bool> direct{false};
  std::atomic<size_t> chunks_left{0};
  bool renamed = false;
};

Status CreatePartial(OpenFileState& f) {
  LB_ASSIGN_OR_RETURN(f.fd, OpenFile(f.partial, O_WRONLY | O_CREAT | O_EXCL, 0600));
  // A file system without O_DIRECT (tmpfs, say) refuses the flag; the file is then written
  // through the page cache.
  int flags = ::fcntl(f.fd.get(), F_GETFL);
  f.direct = flags >= 0 && ::fcntl(f.fd.get(), F_SETFL, flags | O_DIRECT) == 0;
  // Allocating the whole file up front keeps it in few extents and lets direct writes into it
  // proceed side by side; a full disk shows here, before any data is written. File systems
  // without fallocate are fine.
  if (f.size > 0 && ::fallocate(f.fd.get(), 0, 0, static_cast<off_t>(f.size)) != 0 &&
      (errno == ENOSPC || errno == EDQUOT)) {
    Status full = ErrnoStatus("cannot allocate '" + f.partial + "'", errno);
    f.fd = UniqueFd();
    ::unlink(f.partial.c_str());  // the partial file exists exactly when creating succeeded
    return full;
  }
  return Status::Ok();
}

// Waits for the creator to have created `f` (or failed to).
Status AwaitCreated(OpenFileState& f) {
  f.created.wait(false, std::memory_order_acquire);
  return f.create_status;
}

// Writes `n` bytes from `data`, which has room up to the alignment. A direct write pads to the
// alignment (the file is cut to its size when complete); a file system that refuses the direct
// write gets the file back in buffered mode.
Status WriteAt(OpenFileState& f, uint8_t* data, size_t n, uint64_t offset) {
  if (f.direct) {
    size_t padded = (n + kDirectAlignment - 1) / kDirectAlignment * kDirectAlignment;
    std::fill(data + n, data + padded, uint8_t{0});
    if (PwriteAll(f.fd.get(), data, padded, offset, f.partial).ok()) return Status::Ok();
    // `direct` stays set: an earlier padded write may have gone past the file's size, so the
    // file must still be cut back when complete.
    int flags = ::fcntl(f.fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(f.fd.get(), F_SETFL, flags & ~O_DIRECT) != 0) {
      return ErrnoStatus("cannot write '" + f.partial + "'", errno);
    }
  }
  return PwriteAll(f.fd.get(), data, n, offset, f.partial);
}

// Buffers for the workers' writes, reused: a fresh one each task would cost page faults and
// the kernel zeroing every byte.
class BufferPool {
 public:
  explicit BufferPool(size_t size) : size_(size) {}
  AlignedBuffer Take() {
    std::lock_guard lock(mu_);
    if (free_.empty()) return AlignedBuffer(size_, kDirectAlignment);
    AlignedBuffer b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void Give(AlignedBuffer b) {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(b));
  }

 private:
  size_t size_;
  std::mutex mu_;
  std::vector<AlignedBuffer> free_;
};

// A task restores one chunk: with O_DIRECT, larger writes gain nothing and smaller tasks keep
// the workers evenly busy.
struct Task {
  size_t entry;
  size_t first_chunk;
};

// On a remote store each request is a round trip, and a restore of small, well-compressed
// chunks would wait on thousands of them: the chunks whose blobs lie close together in a pack
// are read in one request (a span), several spans in flight.
struct Piece {
  BlobLocation loc;
  size_t entry;
  size_t chunk;
};
struct Span {
  size_t first = 0;  // pieces[first, first + count)
  size_t count = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
};
// Other blobs' bytes worth reading past rather than paying a request, and a span's most bytes
// (what a worker holds in memory).
constexpr uint64_t kSpanGap = 1u << 20;
constexpr uint64_t kSpanMax = 16u << 20;
constexpr unsigned kRemoteWorkers = 8;

// False when a chunk is not in the index (the per-chunk reads then say which and why).
bool PlanSpans(Repository& repo, const Snapshot& snapshot, std::vector<Piece>* pieces, std::vector<Span>* spans) {
  for (size_t i = 0; i < snapshot.entries.size(); ++i) {
    const FileEntry& e = snapshot.entries[i];
    if (e.type != EntryType::kFile) continue;
    for (size_t c = 0; c < e.chunks.size(); ++c) {
      std::optional<BlobLocation> loc = repo.index().Find(e.chunks[c]);
      if (!loc) return false;
      pieces->push_back({*loc, i, c});
    }
  }
  std::sort(pieces->begin(), pieces->end(), [](const Piece& a, const Piece& b) {
    return a.loc.pack != b.loc.pack ? a.loc.pack.bytes < b.loc.pack.bytes : a.loc.entry.offset < b.loc.entry.offset;
  });
  for (size_t k = 0; k < pieces->size(); ++k) {
    const PackEntry& p = (*pieces)[k].loc.entry;
    uint64_t end = uint64_t{p.offset} + p.stored_length;
    if (!spans->empty()) {
      Span& s = spans->back();
      const Piece& prev = (*pieces)[s.first];
      if (prev.loc.pack == (*pieces)[k].loc.pack && p.offset <= s.offset + s.length + kSpanGap &&
          end - s.offset <= kSpanMax) {
        s.length = std::max(s.length, end - s.offset);
        ++s.count;
        continue;
      }
    }
    spans->push_back({k, 1, p.offset, p.stored_length});
  }
  return true;
}

}  // namespace

Result<TreeRestoreResult> RestoreTree(Repository& repo, const Snapshot& snapshot,
                                      const std::string& target, Progress* progress,
                                      unsigned workers) {
  LB_ASSIGN_OR_RETURN(bool empty, IsMissingOrEmptyDir(target));
  if (!empty) {
    return Status::Usage("cannot restore into '" + target + "': the directory is not empty",
                         "restore into a new or empty directory");
  }
  for (const FileEntry& e : snapshot.entries) {
    if (e.path != "." && !IsSafeRelativePath(e.path)) {  // "." is the root itself
      return Status::Corruption("snapshot holds an unsafe path '" + e.path + "'");
    }
  }
  LB_RETURN_IF_ERROR(MakeDirs(target, 0700));

  TreeRestoreResult result;
  const size_t n = snapshot.entries.size();
  std::vector<std::unique_ptr<OpenFileState>> files(n);
  std::vector<Task> tasks;
  uint64_t total = 0;

  // Directories first (owner-only until their attributes are set at the end), then files
  // under temporary names, then symlinks.
  for (size_t i = 0; i < n; ++i) {
    const FileEntry& e = snapshot.entries[i];
    if (e.type != EntryType::kDirectory || e.path == ".") continue;
    std::string path = JoinPath(target, e.path);
    if (::mkdir(path.c_str(), 0700) != 0) return ErrnoStatus("cannot create '" + path + "'", errno);
    ++result.directories;
  }

  for (size_t i = 0; i < n; ++i) {
    const FileEntry& e = snapshot.entries[i];
    if (e.type != EntryType::kFile) continue;
    auto f = std::make_unique<OpenFileState>();
    f->final_path = JoinPath(target, e.path);
    f->partial = JoinPath(Dirname(f->final_path), "." + Basename(e.path) + kPartialSuffix);
    f->size = e.size;
    f->chunks_left = e.chunks.size();
    files[i] = std::move(f);
    total += e.size;
    for (size_t c = 0; c < e.chunks.size(); ++c) tasks.push_back({i, c});
  }
  // The creator: every file, in task order. After a failure the rest are marked failed, so no
  // worker waits for a file that will not come.
  std::atomic<bool> stop_creating{false};
  std::thread creator([&] {
    Status failed;
    for (auto& f : files) {
      if (!f) continue;
      if (failed.ok() && stop_creating.load()) failed = Status::IO("restore stopped");
      f->create_status = failed.ok() ? CreatePartial(*f) : failed;
      if (!f->create_status.ok() && failed.ok()) failed = f->create_status;
      f->created.store(true, std::memory_order_release);
      f->created.notify_all();
    }
  });
  auto join_creator = [&] {
    if (creator.joinable()) creator.join();
  };
  auto cleanup = [&] {
    stop_creating = true;
    join_creator();
    for (auto& f : files) {
      if (f && f->create_status.ok() && !f->renamed) ::unlink(f->partial.c_str());
    }
  };
  if (progress) {
    progress->SetTotal(total);
    progress->Start();
  }

  // Completes a file whose chunks have all been written and verified; it is renamed at the
  // end. Durability comes from one syncfs() for the whole tree: far cheaper than an fsync per
  // file, and the restore is not reported done before it.
  auto finish_file = [&](size_t i) -> Status {
    OpenFileState& f = *files[i];
    const FileEntry& e = snapshot.entries[i];
    LB_RETURN_IF_ERROR(AwaitCreated(f));
    if (f.direct && ::ftruncate(f.fd.get(), static_cast<off_t>(e.size)) != 0) {
      return ErrnoStatus("cannot truncate '" + f.partial + "'", errno);
    }
    f.fd = UniqueFd();
    return SetAttributes(f.partial, e, false);
  };

  const size_t chunk_size = repo.config().chunk_size;
  // One worker more than cores: while one waits for the disk, the others decrypt.
  if (workers == 0) workers = DefaultWorkers() + 1;
  BufferPool buffers(chunk_size + kDirectAlignment);
  // Writes chunk `c` of entry `i` from `buffer` (`n` bytes), and completes the file after its
  // last chunk.
  auto write_chunk = [&](size_t i, size_t c, AlignedBuffer& buffer, size_t n) -> Status {
    OpenFileState& f = *files[i];
    LB_RETURN_IF_ERROR(AwaitCreated(f));
    LB_RETURN_IF_ERROR(WriteAt(f, buffer.data(), n, c * chunk_size));
    if (progress) progress->Add(n);
    if (f.chunks_left.fetch_sub(1) == 1) return finish_file(i);
    return Status::Ok();
  };
  std::vector<Piece> pieces;
  std::vector<Span> spans;
  bool by_span = repo.backend().capabilities().remote && PlanSpans(repo, snapshot, &pieces, &spans);
  auto restore_span = [&](size_t t) -> Status {
    const Span& span = spans[t];
    const Piece& head = pieces[span.first];
    Result<Bytes> data = repo.ReadPackSpan(head.loc.pack, span.offset, span.length);
    // The span did not read (a prune repacked the pack since the index was loaded, the pack is
    // damaged, the store failed): each blob is read on its own, which finds where a repacked
    // one went and says what is wrong with the rest.
    bool apart = !data.ok();
    for (size_t k = span.first; k < span.first + span.count; ++k) {
      const Piece& p = pieces[k];
      const FileEntry& e = snapshot.entries[p.entry];
      AlignedBuffer buffer = buffers.Take();
      Result<size_t> got = apart ? repo.ReadBlobInto(e.chunks[p.chunk], buffer.span().first(chunk_size))
                                 : repo.OpenBlobIn(p.loc, *data, span.offset, buffer.span().first(chunk_size));
      Status st = got.ok() ? write_chunk(p.entry, p.chunk, buffer, *got)
                           : got.status().Context("cannot restore '" + e.path + "'");
      buffers.Give(std::move(buffer));
      LB_RETURN_IF_ERROR(st);
    }
    return Status::Ok();
  };
  Status s = by_span ? RunParallel(spans.size(), std::max(workers, kRemoteWorkers), restore_span)
                     : RunParallel(tasks.size(), workers, [&](size_t t) -> Status {
                         const Task& task = tasks[t];
                         const FileEntry& e = snapshot.entries[task.entry];
                         AlignedBuffer buffer = buffers.Take();
                         Result<size_t> got = repo.ReadBlobInto(e.chunks[task.first_chunk], buffer.span().first(chunk_size));
                         Status st = got.ok() ? write_chunk(task.entry, task.first_chunk, buffer, *got)
                                              : got.status().Context("cannot restore '" + e.path + "'");
                         buffers.Give(std::move(buffer));
                         return st;
                       });
  // Files without chunks (empty files) have no task.
  for (size_t i = 0; i < n && s.ok(); ++i) {
    if (files[i] && snapshot.entries[i].chunks.empty()) s = finish_file(i);
  }
  if (!s.ok()) stop_creating = true;
  join_creator();
  for (size_t i = 0; i < n && s.ok(); ++i) {
    OpenFileState* f = files[i].get();
    if (f == nullptr) continue;
    if (::rename(f->partial.c_str(), f->final_path.c_str()) != 0) {
      s = ErrnoStatus("cannot rename '" + f->partial + "'", errno);
    } else {
      f->renamed = true;
    }
  }
  if (progress) progress->Finish();
  if (!s.ok()) {
    cleanup();
    return s;
  }

  for (size_t i = 0; i < n; ++i) {
    const FileEntry& e = snapshot.entries[i];
    if (e.type == EntryType::kFile) {
      ++result.files;
      result.bytes += e.size;
    } else if (e.type == EntryType::kSymlink) {
      std::string path = JoinPath(target, e.path);
      if (::symlink(e.target.c_str(), path.c_str()) != 0) {
        return ErrnoStatus("cannot create symlink '" + path + "'", errno);
      }
      LB_RETURN_IF_ERROR(SetAttributes(path, e, true));
      ++result.symlinks;
    }
  }
  // Directory attributes last, deepest first, so creating their content does not change them.
  for (size_t i = n; i-- > 0;) {
    const FileEntry& e = snapshot.entries[i];
    if (e.type != EntryType::kDirectory) continue;
    std::string path = e.path == "." ? target : JoinPath(target, e.path);
    LB_RETURN_IF_ERROR(SetAttributes(path, e, false));
  }
  // Every file, rename and directory of the restore becomes durable here.
  LB_ASSIGN_OR_RETURN(UniqueFd root, OpenFile(target, O_RDONLY | O_DIRECTORY));
  if (::syncfs(root.get()) != 0) return ErrnoStatus("cannot sync '" + target + "'", errno);
  LB_RETURN_IF_ERROR(FsyncDir(Dirname(target)));
  return result;
}

}  // namespace lifeboat
