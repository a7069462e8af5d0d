// Managed instances: clusters lifeboat restored (never the production cluster), recorded in
// <state dir>/instances.json, started and stopped with pg_ctl as the data directory's owner.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "pg/cluster.h"

namespace lifeboat::pg {

// What a managed instance is to the stack: restored (by hand, or by a recovery not cut over),
// production (a cutover made it), retired (production before the next cutover), scratch (a
// drill's).
enum class InstanceRole { kRestored, kProduction, kRetired, kScratch };
const char* InstanceRoleName(InstanceRole r);  // "restored", "production", "retired", "scratch"

struct Instance {
  std::string name;
  std::string dir;       // the instance's directory: data/, tablespaces/, postgresql.log
  std::string data_dir;
  std::string host;      // its socket directory
  int port = 0;
  std::string origin_snapshot;
  std::string target;    // "latest", "time 2026-...", "lsn 0/...", "snapshot"
  std::string created_at;
  InstanceRole role = InstanceRole::kRestored;
  std::string recovered_to;  // ISO 8601: the newest transaction recovery replayed ("" unknown)
  std::string log_file() const { return dir + "/postgresql.log"; }
};

nlohmann::json InstanceToJson(const Instance& i);

// The registry file, read and rewritten under an exclusive flock so that two lifeboat
// processes never lose each other's changes.
class InstanceRegistry {
 public:
  explicit InstanceRegistry(std::string state_dir) : state_dir_(std::move(state_dir)) {}

  Result<std::vector<Instance>> List() const;
  Result<std::optional<Instance>> Find(const std::string& name) const;
  // Fails with Code::kAlreadyExists when the name is taken.
  Status Add(const Instance& instance);
  Status Remove(const std::string& name);
  // Replaces the entry of the same name.
  Status Update(const Instance& instance);

 private:
  Result<std::vector<Instance>> Read() const;
  Status Write(const std::vector<Instance>& all) const;
  std::string path() const { return state_dir_ + "/instances.json"; }
  std::string state_dir_;
};

// "running" when its postmaster is alive, else "stopped".
enum class InstanceState { kRunning, kStopped };
const char* InstanceStateName(InstanceState s);  // "running", "stopped"
// Running when its postmaster.pid names a live process.
InstanceState StateOf(const Instance& i);
// InstanceStateName(StateOf(i)), for output.
std::string InstanceStatus(const Instance& i);
// pg_ctl start; waits until it accepts connections.
Status StartInstance(const ClusterConfig& cluster, const Instance& i);
// pg_ctl stop -m fast; a stopped instance is fine.
Status StopInstance(const ClusterConfig& cluster, const Instance& i);
// Stops the instance, deletes its directory and its registry entry. Refuses an instance whose
// data directory is `production_data_dir`.
Status DropInstance(const ClusterConfig& cluster, const std::string& state_dir, const Instance& i);
// The first port of [first, last] that no registered instance uses and nothing listens on.
Result<int> FreePort(int first, int last, const std::vector<Instance>& taken);

}  // namespace lifeboat::pg
