// The replica supervisor: the small process (`lifeboat _supervise`) that keeps one replica of a
// service running, like an ECS task's agent. It starts the command, restarts it with backoff
// when it exits, and publishes what it sees in a status file. lifeboat commands never signal
// a replica directly: they stop its supervisor, which stops the replica first.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace lifeboat::platform {

struct SupervisorOptions {
  std::string status_file;            // rewritten (temp + rename) on every change
  std::vector<std::string> command;   // argv; argv[0] found through PATH when it has no '/'
  double stop_grace_seconds = 10;     // SIGTERM to SIGKILL when stopping
};

// A supervisor's state; kUnknown only when its status file is missing or unreadable.
enum class SupervisorState { kUnknown, kStarting, kRunning, kBackoff, kStopped };
const char* SupervisorStateName(SupervisorState s);  // "unknown", "starting", "running", ...

// What the status file holds.
struct ReplicaStatus {
  SupervisorState state = SupervisorState::kUnknown;
  pid_t child_pid = 0;
  int restarts = 0;       // exits since the supervisor started
  int recent_exits = 0;   // exits in the last minute
  std::string last_exit;  // "exit code 1", "signal 9", ""
  std::string started_at; // when the current child started
  bool crash_loop() const { return recent_exits >= 3; }
};

nlohmann::json ReplicaStatusToJson(const ReplicaStatus& s);
// A missing or unreadable file gives state "unknown".
ReplicaStatus ReadReplicaStatus(const std::string& status_file);

// Runs until SIGTERM or SIGINT, then stops the child (SIGTERM, then SIGKILL after the grace
// period) and returns. The environment of this process is the child's.
Status RunSupervisor(const SupervisorOptions& options);

}  // namespace lifeboat::platform
