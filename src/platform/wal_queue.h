// The WAL queues of a config with two repositories: a segment one repository could not store
// yet waits in <state>/wal-queue/<repository>/ (written durably), and whoever next stores WAL
// into that repository (`wal push`, the `wal stream` feeder) stores the queue first, oldest
// first. `lifeboat status` alerts on a segment that has waited too long.
//
// Several processes may drain one queue at once (archive_command runs while the streamer's
// feeder does): a segment is removed only after it is stored, storing is idempotent, and one
// that vanished meanwhile was stored by the other.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "config/config.h"
#include "repository/repository.h"

namespace lifeboat::platform {

// A segment waiting longer than this means its repository is not storing WAL (the longest
// any repository retries one request is its retry_seconds, 30 by default).
inline constexpr double kWalQueueAlertSeconds = 120;

std::string WalQueueDir(const Config& cfg, const std::string& repository);
// The queued segments' paths, oldest (lowest name) first; a crashed queueing's temporary
// file is not one of them.
std::vector<std::string> QueuedWal(const Config& cfg, const std::string& repository);
// Queues `data` as the WAL file `name` for `repository`.
Status EnqueueWal(const Config& cfg, const std::string& repository, const std::string& name, ByteSpan data);
// Stores every queued segment into `repo` (the repository named `repository`), removing each
// once stored; returns how many it stored. Stops at the first failure (the rest stay queued).
Result<size_t> DrainWalQueue(const Config& cfg, const std::string& repository, Repository* repo);

// What `status` shows of the queues: {"<repository>": {"segments": N, "oldest": NAME,
// "waiting_seconds": S}} for each non-empty queue; a queue whose oldest segment has waited
// longer than kWalQueueAlertSeconds adds a line to `problems`.
nlohmann::json WalQueueSummary(const Config& cfg, std::vector<std::string>* problems);

// Drains one repository's queue on a thread of its own, so that a slow or unreachable
// repository holds up nothing else: at every Notify() and every `poll_seconds` (how a
// repository that failed is retried). Opens the repository on first need and again after a
// failure. Logs each change (failing, failing differently, storing again), not every attempt.
// Notify() may be called from any thread; `cfg` must outlive the feeder.
class WalFeeder {
 public:
  using Opener = std::function<Result<std::unique_ptr<Repository>>()>;
  using Log = std::function<void(const std::string&)>;
  WalFeeder(const Config& cfg, std::string repository, Opener open, Log log, double poll_seconds = 5);
  ~WalFeeder();  // Stop()
  WalFeeder(const WalFeeder&) = delete;
  WalFeeder& operator=(const WalFeeder&) = delete;

  void Notify();
  // Lets a drain in progress finish and joins the thread; what is still queued stays queued
  // (for the next push or stream). Idempotent.
  void Stop();
  // Segments stored since the start (for the stream's summary line).
  size_t stored() const;

 private:
  void Run();
  void DrainOnce();

  const Config& cfg_;
  const std::string repository_;
  Opener open_;
  Log log_;
  const double poll_seconds_;
  std::unique_ptr<Repository> repo_;  // the feeder thread's only
  std::string failing_;               // the last failure logged, "" while storing
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
  bool stop_ = false;
  size_t stored_ = 0;
  std::thread thread_;
};

}  // namespace lifeboat::platform
