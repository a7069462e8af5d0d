// Services (the runbook's ECS service): each replica is the configured command on its own port,
// kept alive by its own supervisor process (platform/supervisor.h). The service's state file
// (<state>/services/<name>/state.json) lists the replicas lifeboat started, by supervisor pid;
// it is rewritten durably under the service's lock file, one writer at a time.
//
// A change of replicas calls `on_change` (the load balancer's sync) at the points where the
// load balancer must learn about it: after a new replica is healthy, and before an old one stops.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "config/config.h"
#include "platform/supervisor.h"

namespace lifeboat::platform {

struct Replica {
  int id = 0;
  int port = 0;
  pid_t pid = 0;            // the supervisor's pid
  std::string started_at;
  int secret_version = 0;   // the version of the service's secret in its environment (0: none)
  // In the load balancer: false while it starts (not yet healthy) and while it drains.
  bool registered = false;
  std::string release;      // the release tag it runs ("" when the command names no release)
};

struct ServiceState {
  std::string name;
  std::vector<Replica> replicas;
  int next_id = 1;
};

// The environment a new replica gets: the secret's values (and which version they are) and
// the service's extra variables.
struct ReplicaEnv {
  std::map<std::string, std::string> vars;
  int secret_version = 0;
  std::string release;      // the release tag; "{release}" in the command becomes release_dir
  std::string release_dir;
};

struct ReplicaHealth {
  Replica replica;
  bool alive = false;     // its supervisor runs
  ReplicaStatus status;   // what the supervisor published
  bool healthy = false;   // health path answered 200
  std::string detail;     // why not healthy
};

class ServiceManager {
 public:
  // `self` is the lifeboat binary (it runs the supervisors). `on_change` may be empty.
  ServiceManager(std::string state_dir, std::string self, std::function<Status()> on_change)
      : state_dir_(std::move(state_dir)), self_(std::move(self)), on_change_(std::move(on_change)) {}

  // Starts replicas until the configured number run and answer healthy. Replicas already
  // running are kept. A replica in a crash loop or unhealthy after start_timeout fails the start
  // (exit 2) with its last log lines; it keeps running under its supervisor for inspection.
  Status Start(const ServiceConfig& svc, const ReplicaEnv& env);
  // Takes every replica out of the load balancer, then stops it (and its supervisor).
  Status Stop(const ServiceConfig& svc);
  // Replaces the replicas one at a time: start a new one with `env`, wait until healthy, add it
  // to the load balancer, take an old one out, wait `drain`, stop it. A new replica that does not
  // become healthy is stopped and the old ones keep serving (exit 2).
  Status RollingRestart(const ServiceConfig& svc, const ReplicaEnv& env);
  // Replaces every replica at once (a blue/green switch): starts a full set with `env`, waits
  // until all are healthy, then in one load-balancer change puts them in service and takes the
  // old ones out, waits `drain` for requests in flight, and stops the old ones. A cutover uses
  // it so that, once the switch is made, no request reaches a replica of the previous database.
  // A new replica that does not become healthy stops the switch: every new replica is stopped
  // and the old ones keep serving (exit 2). Needs room for twice the replicas in the port range.
  Status Switch(const ServiceConfig& svc, const ReplicaEnv& env);
  // Each recorded replica with its health, probed now.
  Result<std::vector<ReplicaHealth>> Health(const ServiceConfig& svc);

  // The recorded state (an empty state when the service never ran).
  Result<ServiceState> Load(const std::string& name) const;
  // Live replicas of every service (for the load balancer and port choice).
  Result<std::map<std::string, ServiceState>> LoadAll() const;

  std::string ServiceDir(const std::string& name) const { return state_dir_ + "/services/" + name; }
  std::string StatusFile(const std::string& name, int id) const {
    return ServiceDir(name) + "/replica-" + std::to_string(id) + ".status";
  }
  std::string LogFile(const std::string& name, int id) const {
    return ServiceDir(name) + "/replica-" + std::to_string(id) + ".log";
  }

 private:
  Status Save(const ServiceState& s) const;
  Result<Replica> Spawn(const ServiceConfig& svc, const ReplicaEnv& env, ServiceState* state);
  Status WaitHealthy(const ServiceConfig& svc, const Replica& r);
  Status StopReplica(const ServiceConfig& svc, const Replica& r);
  // Stops supervisors of this service that the state file does not list: a lifeboat killed
  // between starting a replica and recording it leaves one. They are found by the status-file
  // path on their command line, which only lifeboat gives them.
  Status ReapUnrecorded(const ServiceConfig& svc, const ServiceState& state);
  // Deregisters `r`, waits `drain` (if it was serving), stops it and forgets it.
  Status Retire(const ServiceConfig& svc, const Replica& r, ServiceState* state);
  bool Alive(const std::string& name, const Replica& r) const;
  Result<int> PickPort(const ServiceConfig& svc) const;
  Status Changed() const { return on_change_ ? on_change_() : Status::Ok(); }

  std::string state_dir_;
  std::string self_;
  std::function<Status()> on_change_;
};

nlohmann::json ReplicaHealthToJson(const ReplicaHealth& h);

}  // namespace lifeboat::platform
