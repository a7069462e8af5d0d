// The local provider's whole stack, assembled from the config: the production database, the
// secrets, the services, the load balancer and the front end. `up` starts what is not running
// in dependency order and is idempotent; `down` stops, by recorded pid, exactly what lifeboat
// started; the inventory is generated from the same state, never hand-edited.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/say.h"
#include "base/result.h"
#include "config/config.h"
#include "pg/cluster.h"
#include "pg/instance.h"
#include "platform/frontend.h"
#include "platform/http_probe.h"
#include "platform/load_balancer.h"
#include "platform/secrets.h"
#include "platform/services.h"
#include "repository/repository.h"

namespace lifeboat::platform {

// The configured [database] cluster as an instance (its log under <state>/database), for
// starting and stopping it like a managed one.
pg::Instance ProductionInstance(const Config& cfg);

// The [database] section as the pg layer wants it.
pg::ClusterConfig ClusterFor(const Config& cfg);

// The cluster that is production now: the instance a cutover made production (role
// "production" in the instance registry) until `cleanup` gives it the production name, else
// [database] as production.json overrides it. Both files are read anew on every call, so a
// long-running process (`wal stream`) follows a cutover and a cleanup. `cfg` is the config as
// loaded (the override applied or not). `instance` receives the instance's name when
// production is a restored instance (empty for [database]).
pg::ClusterConfig ProductionClusterFor(const Config& cfg, std::string* instance = nullptr);

// After `cleanup`, production is the restored instance that took over: <state>/production.json
// records its data directory, socket directory and port, and they replace [database] data_dir,
// host and port for every command (backup, wal stream, window, ...).
void ApplyProductionOverride(Config* cfg);
Status WriteProductionOverride(const Config& cfg, const std::string& data_dir, const std::string& host,
                               int port);

class Stack {
 public:
  // `self` is the lifeboat binary. `cfg` must outlive the stack.
  Stack(const Config& cfg, std::string self);

  // The services of the config, plus the front end's static server when [frontend] is set.
  const std::vector<ServiceConfig>& services() const { return services_; }
  const ServiceConfig* FindService(const std::string& name) const;
  ServiceManager& manager() { return *manager_; }
  LoadBalancer& load_balancer() { return *lb_; }
  Frontend& frontend() { return frontend_; }

  // The environment for a new replica of `svc`: its secret's current values (read through
  // `repo`, which may be null when the service has no secret) and its extra variables.
  Result<ReplicaEnv> EnvFor(const ServiceConfig& svc, Repository* repo);
  // Starts one service and brings the load balancer up to date.
  Status StartService(const ServiceConfig& svc, Repository* repo);
  Status RestartService(const ServiceConfig& svc, Repository* repo);
  // Replaces every replica of `svc` in one load-balancer change (ServiceManager::Switch).
  Status SwitchService(const ServiceConfig& svc, Repository* repo);

  // GET `path` of `svc` the way users reach it: through the load balancer when it runs, else
  // straight to replica number `attempt` (modulo the replicas), for gates and bakes.
  Result<HttpReply> Probe(const ServiceConfig& svc, const std::string& path, int attempt = 0);

  Status Up(Repository& repo, const Say& say);
  Status Down(const Say& say);
  // {"healthy": bool, "database": ..., "services": [...], "load_balancer": ...}
  Result<nlohmann::json> Summary();
  // Whether production is protected: its archiver (pg_stat_archiver), the streamer's state
  // from <state>/stream.json (running, reconnecting, stopped, failed, or dead when its pid is
  // gone), `wal_lag_seconds` (0 when the repository holds all production wrote, else the time
  // since the streamer last stored anything). Clears `healthy` and lists `problems` when a
  // streamer failed, died, stopped or reads another cluster, or production does not archive.
  nlohmann::json Protection(bool* healthy) const;
  // Free space where lifeboat writes; what is below [alert] min_free_percent joins `problems`.
  nlohmann::json Space(std::vector<std::string>* problems) const;
  // Every resource: [{"type": ..., "name": ..., ...}]. `repo` may be null (secrets then show
  // names from the state directory without versions).
  Result<nlohmann::json> Inventory(Repository* repo);

 private:
  pg::ClusterConfig Cluster() const;
  std::string DatabaseState() const;
  const Config& cfg_;
  std::string self_;
  Frontend frontend_;
  std::vector<ServiceConfig> services_;
  std::unique_ptr<ServiceManager> manager_;
  std::unique_ptr<LoadBalancer> lb_;
};

}  // namespace lifeboat::platform
