// `wal stream`: WAL received continuously over the replication protocol into the repository.
//
// A physical replication slot keeps the primary from removing WAL the streamer has not stored,
// so nothing is lost while it is down. The segment being received is uploaded as
// "<segment>.partial" at least every `flush_interval` (in synchronous mode, after every burst
// of messages, before the primary is told the WAL is flushed), so losing the primary costs
// about that much; a complete segment is uploaded under its own name unless archive_command
// already stored it. The streamer reconnects on its own and stops cleanly when asked.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "pg/cluster.h"
#include "pg/wal.h"
#include "repository/repository.h"

namespace lifeboat::pg {

struct StreamOptions {
  std::string slot = "lifeboat";
  double flush_interval_seconds = 1.0;
  // Acknowledge WAL as flushed only once it is in the repository, for a primary that lists
  // `application_name` in synchronous_standby_names (RPO zero).
  bool synchronous = false;
  std::string application_name = "lifeboat";
  // Called with a line for the log (reconnects, segments stored). May be null.
  std::function<void(const std::string&)> log;
  // Called after every upload and every interruption (with its reason), on the streaming
  // thread. May be null.
  std::function<void(const struct StreamProgress&)> progress;
  // Called on the streaming thread with each complete segment once the stream stored it itself
  // (not one archive_command stored first: archive_command also fed any other repository).
  // May be null; should be quick (`wal stream` queues the segment for its offsite repository).
  std::function<void(const std::string& name, ByteSpan data)> segment_stored;
};

// Where the stream stands, as `lifeboat status` reads it from <state>/stream.json.
struct StreamProgress {
  enum class State { kRunning, kReconnecting, kStopped, kFailed };
  State state = State::kRunning;
  int pid = 0;
  std::string host;  // the production cluster it reads
  int port = 0;
  uint32_t timeline = 0;
  std::string segment;    // the segment being received
  Lsn flushed = 0;        // the newest position in the repository
  std::string stored_at;  // ISO 8601: the last upload
  std::string error;      // why it is reconnecting or failed

  nlohmann::json ToJson() const;
  static Result<StreamProgress> FromJson(const nlohmann::json& j, const std::string& where);
};
const char* StreamStateName(StreamProgress::State s);

struct StreamStats {
  uint64_t segments_stored = 0;
  uint64_t partial_uploads = 0;
  uint64_t reconnects = 0;
  Lsn flushed = 0;  // the newest position in the repository
};

// Streams until `stop` becomes true. Returns an error only for failures a retry cannot fix
// (another cluster, a repository error); connection failures are retried with backoff.
Result<StreamStats> StreamWal(Repository& repo, const ClusterConfig& cluster,
                              const StreamOptions& options, const std::atomic<bool>& stop);

}  // namespace lifeboat::pg
