// WAL prefetch for a restore: restore_command's fast path.
//
// PostgreSQL asks restore_command for one WAL file at a time and replays it before asking for
// the next, so fetching each segment only when asked leaves replay waiting for the repository
// (a round trip, a decryption, a decompression) once per segment, and a `wal get` process that
// opens the repository (key unwrapping, config) every time. The restoring process has the
// repository open already: while PostgreSQL replays segment N, its prefetch server fetches the
// segments recovery reads next (NextSegmentOnPath: along the recovery's timeline path only,
// never a timeline it will not follow) on worker threads into a spool directory inside the
// instance, bounded in bytes, and answers restore_command over a Unix socket in the
// instance's directory (pg/wal_fetch_client.h: `lifeboat-wal-fetch`, or `wal get --socket`):
// the spooled file is renamed into place at once.
//
// No key material leaves the restoring process: the socket carries names and paths, and it
// lives in the instance's directory (mode 0700, the database owner's). The server ends with
// recovery (Stop) or with the process; a restore_command that finds no server falls back to
// fetching the file itself, so a crash only makes recovery slower.
//
// Protocol: the client sends "<name>\n"; the server answers one line: "ok <path>\n" (the file
// is at <path>, in the spool, for the client to rename), "missing <message>\n" (not archived,
// or not on the path: recovery treats it as the end of the WAL), or "error <message>\n".
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "pg/wal_fetch_client.h"
#include "pg/window.h"
#include "repository/repository.h"

namespace lifeboat::pg {

struct WalPrefetchOptions {
  // Fetched segments not asked for yet take at most this much of the spool: the bound sets how
  // far ahead of replay the server reads (16 segments for 256 MiB).
  uint64_t spool_bytes = 256u << 20;
  // Fetches in flight: enough to hide an object store's round trips, few enough to bound
  // memory (each holds a segment, about 16 MiB, while it is decrypted).
  size_t workers = 4;
};

struct WalPrefetchStats {
  uint64_t requests = 0;       // files restore_command asked for
  uint64_t from_spool = 0;     // answered with a segment fetched ahead
  uint64_t on_demand = 0;      // fetched when asked (the first, history files, a miss)
  uint64_t missing = 0;        // answered "missing"
  uint64_t discarded = 0;      // fetched ahead but never asked for (a target reached early)
};

class WalPrefetchServer {
 public:
  // Serves recovery along `path` (TimelinePath of the recovery's timeline) from `repo`, which
  // must outlive the server and may be used by other threads meanwhile (Repository is
  // thread-safe after Open). Listens on `socket_path` (a file left there by a server that died
  // is replaced) and spools into `spool_dir` (created, owner-only).
  static Result<std::unique_ptr<WalPrefetchServer>> Start(Repository* repo, std::vector<TimelineStep> path,
                                                          std::string socket_path, std::string spool_dir,
                                                          WalPrefetchOptions options = {});
  ~WalPrefetchServer();  // Stop()
  WalPrefetchServer(const WalPrefetchServer&) = delete;
  WalPrefetchServer& operator=(const WalPrefetchServer&) = delete;

  // Stops accepting, lets fetches in flight finish, and removes the socket and the spool.
  // Idempotent.
  void Stop();
  WalPrefetchStats stats() const;

 private:
  struct Entry {
    enum class State { kQueued, kFetching, kReady, kFailed } state = State::kQueued;
    Status status;        // kFailed
    bool wanted = true;   // false: dropped from the window while in flight; deleted when done
  };
  WalPrefetchServer(Repository* repo, std::vector<TimelineStep> path, std::string socket_path, std::string spool_dir,
                    WalPrefetchOptions options, int listen_fd);

  void AcceptLoop();
  void Serve(int fd);
  // The answer line for `name` (see the header comment).
  std::string Answer(const std::string& name);
  // Fetches `name` into the spool as `file`; the data is written whole or not at all.
  Status FetchInto(const std::string& name, const std::string& file);
  // Queues the segments after `segment` up to the spool's bound and drops spooled segments
  // outside that window (replay has passed them, or left their timeline). mu_ held.
  void Plan(const std::string& segment);
  void Discard(const std::string& name);  // mu_ held
  void WorkerLoop();
  std::string SpoolFile(const std::string& name) const { return spool_dir_ + "/" + name; }

  Repository* repo_;
  const std::vector<TimelineStep> path_;
  const std::string socket_path_;
  const std::string spool_dir_;
  const WalPrefetchOptions options_;
  int listen_fd_;

  mutable std::mutex mu_;
  std::condition_variable changed_;  // an entry changed state, the queue grew, or stop
  std::map<std::string, Entry> entries_;
  std::deque<std::string> queue_;
  WalPrefetchStats stats_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace lifeboat::pg
