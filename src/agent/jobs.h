// The agent's jobs: which of lifeboat's own commands each one runs, and their journal. Every
// job that ran, failed, was interrupted or was missed has a record in <state>/jobs/<id>.json
// (written durably at its start and its end), which `lifeboat jobs` lists. The agent's own
// memory of which due time it handled last is <state>/agent/state.json.
//
// Thread safety: none needed; the agent is one thread. Files are written whole (temp, fsync,
// rename), so a reader never sees half a record.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "base/time.h"
#include "config/config.h"

namespace lifeboat::agent {

enum class JobKind { kFull, kIncremental, kExpire, kCopy, kVerify, kDrill };
inline constexpr JobKind kAllJobs[] = {JobKind::kFull,   JobKind::kIncremental, JobKind::kExpire,
                                       JobKind::kCopy,   JobKind::kVerify,      JobKind::kDrill};
const char* JobKindName(JobKind k);  // "full", "incremental", "expire", "copy", "verify", "drill"

// The job's schedule text in `cfg` ("" when it is not scheduled).
const std::string& ScheduleText(const Config& cfg, JobKind k);
// Each scheduled job's next run, soonest first: [{"job", "schedule", "next" (UTC ISO 8601),
// "next_local" (in [schedule] timezone)}]; "after backup" has no time of its own (null).
nlohmann::json NextJobs(const Config& cfg, UnixNanos now);

// The command line: `self -c CONFIG --json COMMAND ...`. Backups copy to the offsite repository
// themselves unless [schedule] copy has times of its own (then they run with --no-copy).
std::vector<std::string> JobCommand(JobKind k, const std::string& self, const Config& cfg);

enum class JobState { kRunning, kSucceeded, kFailed, kInterrupted, kMissed };
const char* JobStateName(JobState s);  // "running", "succeeded", "failed", "interrupted", "missed"

struct JobRecord {
  std::string id;  // "<job>-YYYYMMDDTHHMMSSZ" of its due time ("-2", "-3" for a rerun)
  JobKind job = JobKind::kFull;
  JobState state = JobState::kRunning;
  UnixNanos due_at = 0;
  std::optional<UnixNanos> started_at, finished_at;
  pid_t pid = 0;        // while running
  int exit_code = -1;   // when it ended
  std::string detail;   // why it failed, was interrupted or missed; what it reported otherwise
  nlohmann::json figures;  // the command's --json output when it succeeded (null otherwise)

  nlohmann::json ToJson() const;
  // A bad or missing key is Code::kIO naming the record and the key.
  static Result<JobRecord> FromJson(const nlohmann::json& j, const std::string& where);
};

std::string JobId(JobKind k, UnixNanos due_at);

class JobJournal {
 public:
  explicit JobJournal(std::string state_dir);
  Status Save(const JobRecord& r) const;
  // JobId(k, due_at), or with "-2", "-3", ... when a record of that id exists already: a due
  // time handled again after an interruption keeps the interrupted record beside the new one.
  std::string FreshId(JobKind k, UnixNanos due_at) const;
  // Newest due time first; at most `limit` (0: all).
  Result<std::vector<JobRecord>> List(size_t limit = 0) const;
  // Where a running job's output goes (removed when its record is final).
  std::string OutFile(const std::string& id) const;
  std::string ErrFile(const std::string& id) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// The due time of each job that the agent handled last (ran it or recorded it as missed).
struct AgentState {
  std::map<std::string, UnixNanos> last_handled;  // by JobKindName
  nlohmann::json ToJson() const;
  static Result<AgentState> FromJson(const nlohmann::json& j, const std::string& where);
  static Result<AgentState> Load(const std::string& state_dir);  // missing: empty
  Status Save(const std::string& state_dir) const;
};

}  // namespace lifeboat::agent
