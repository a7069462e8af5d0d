// Repository locks (locks/<random>): operations that only add data take a shared lock and run
// side by side; operations that delete data take an exclusive lock and run alone. Readers
// (listing, restore) take no lock: they never block and, because manifests are written last
// and deletes remove manifests first, never see partial state. A blob that a prune repacked
// after the reader loaded the index is found through the prune's new index (ReadBlob).
//
// Acquisition writes our lock, then lists the others: if a conflicting live lock exists, ours
// is removed and the call fails with Code::kBusy naming the holder. Two racing exclusive
// acquirers may both back off; neither proceeds wrongly.
//
// A lock is stale when its process is gone (same host, pid no longer alive) or it has not been
// refreshed for kStaleAfter (another host). Stale locks are removed when encountered. A held lock
// is refreshed in the background every kRefreshEvery.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"
#include "repository/repository.h"

namespace lifeboat {

enum class LockKind { kShared, kExclusive };

struct LockInfo {
  LockKind kind = LockKind::kShared;
  std::string operation;  // e.g. "files backup"
  std::string hostname;
  std::string username;
  int pid = 0;
  UnixNanos created = 0;
  UnixNanos refreshed = 0;
};

// Describes a lock for messages: "exclusive lock held by prune (pid 42 on host db1, since ...)".
std::string DescribeLock(const LockInfo& info);

class RepositoryLock {
 public:
  static constexpr std::chrono::minutes kRefreshEvery{5};
  static constexpr std::chrono::minutes kStaleAfter{30};

  // `repo` must outlive the lock.
  static Result<std::unique_ptr<RepositoryLock>> Acquire(Repository* repo, LockKind kind,
                                                         const std::string& operation);
  // Releases the lock (deletes its object).
  ~RepositoryLock();
  RepositoryLock(const RepositoryLock&) = delete;
  RepositoryLock& operator=(const RepositoryLock&) = delete;

  // Lists the repository's locks with their keys, removing stale ones when `remove_stale`.
  static Result<std::vector<std::pair<std::string, LockInfo>>> List(Repository* repo,
                                                                   bool remove_stale);

 private:
  RepositoryLock(Repository* repo, std::string key, LockInfo info);
  void RefreshLoop();

  Repository* repo_;
  std::string key_;
  LockInfo info_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread refresher_;
};

}  // namespace lifeboat
