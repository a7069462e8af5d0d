// The load balancer (the runbook's ALB): haproxy from Debian in master-worker mode, configured
// from the services' state files and reloaded with SIGUSR2 to its master. A reload hands the
// listening sockets to the new worker (the admin socket exposes them), and the old worker
// finishes the requests it holds, so a reload drops no request. Every server has active HTTP
// health checks on its service's health path.
//
// Files: <state>/lb/haproxy.cfg, haproxy.pid (the master, started by lifeboat), admin.sock,
// haproxy.log.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "platform/services.h"

namespace lifeboat::platform {

struct BackendServer {
  std::string backend;  // the service
  std::string server;   // "r<replica id>"
  std::string address;  // 127.0.0.1:port
  std::string status;   // haproxy's: UP, DOWN, MAINT, "UP 1/2", ...
  std::string check;    // last check result, e.g. L7OK
};

class LoadBalancer {
 public:
  // `services` are every service behind it (the front end's static server included).
  LoadBalancer(const Config& cfg, std::vector<ServiceConfig> services, const ServiceManager* manager);

  bool configured() const { return cfg_.load_balancer.present; }
  std::string url() const;
  bool Running() const;
  // Starts haproxy when it is not running; reloads it when its configuration changed. Waits
  // until haproxy serves the new configuration. Nothing when [load_balancer] is absent.
  Status Ensure();
  // Reloads a running haproxy if the configuration changed; nothing when it is not running.
  Status Sync();
  Status Stop();
  // Servers as haproxy reports them now.
  Result<std::vector<BackendServer>> Servers() const;
  pid_t pid() const;

  // Whether its configuration file exists (a rebuild writes it; Scenario 4 finds it deleted).
  bool ConfigWritten() const;
  // The configuration text for the current state (exposed for tests and `lb status`).
  Result<std::string> Render() const;

 private:
  Status Write(bool* changed);
  Status WaitServing(const std::string& config) const;
  std::string dir() const { return cfg_.state.dir + "/lb"; }
  std::string ConfigFile() const { return dir() + "/haproxy.cfg"; }
  std::string PidFile() const { return dir() + "/haproxy.pid"; }
  std::string Socket() const { return dir() + "/admin.sock"; }

  const Config& cfg_;
  std::vector<ServiceConfig> services_;
  const ServiceManager* manager_;
};

}  // namespace lifeboat::platform
