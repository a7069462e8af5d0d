#include "platform/drift.h"

#include <algorithm>

#include "base/fs.h"
#include "pg/instance.h"
#include "platform/releases.h"
#include "platform/secrets.h"

namespace lifeboat::platform {

namespace {

constexpr const char* kFrontendService = "frontend";

// The service that serves the front end is the front end's, not a service of its own.
bool IsFrontendServer(const Config& cfg, const ServiceConfig& svc) {
  return cfg.frontend.present && svc.name == kFrontendService;
}

struct ServiceHealth {
  int healthy = 0;
  int recorded = 0;
  std::vector<std::string> releases;  // what the healthy replicas run
};

Result<ServiceHealth> HealthOf(Stack& stack, const ServiceConfig& svc) {
  LB_ASSIGN_OR_RETURN(std::vector<ReplicaHealth> replicas, stack.manager().Health(svc));
  ServiceHealth h;
  h.recorded = static_cast<int>(replicas.size());
  for (const auto& r : replicas) {
    if (!r.healthy) continue;
    ++h.healthy;
    if (std::find(h.releases.begin(), h.releases.end(), r.replica.release) == h.releases.end()) {
      h.releases.push_back(r.replica.release);
    }
  }
  return h;
}

void AddServiceDrift(const std::string& resource, const ServiceConfig& svc, const ServiceHealth& h,
                     std::vector<Drift>* out) {
  std::string counts = std::to_string(h.healthy) + "/" + std::to_string(svc.replicas) + " replicas healthy";
  if (h.recorded == 0) {
    out->push_back({resource, DriftKind::kMissing, "no replica recorded (" + counts + ")"});
  } else if (h.healthy < svc.replicas) {
    out->push_back({resource, DriftKind::kStopped, counts});
  } else if (h.healthy > svc.replicas) {
    out->push_back({resource, DriftKind::kExtra, counts});
  }
}

std::string Short(const std::string& id) { return id.substr(0, 12); }

// The front-end version to serve: the definition's, else the newest published one.
Result<std::string> WantedFrontend(Stack& stack, Repository& repo, const std::string& frontend) {
  if (!frontend.empty()) return frontend;
  LB_ASSIGN_OR_RETURN(std::vector<FrontendVersion> versions, stack.frontend().Versions(repo));
  if (versions.empty()) {
    return Status::NotFound("no front-end version is published", "publish one with 'lifeboat frontend publish'");
  }
  return versions.front().snapshot;
}

}  // namespace

const char* DriftKindName(DriftKind k) {
  switch (k) {
    case DriftKind::kMissing: return "missing";
    case DriftKind::kStopped: return "stopped";
    case DriftKind::kDifferent: return "different version";
    case DriftKind::kExtra: return "extra";
  }
  return "?";
}

nlohmann::json Drift::ToJson() const {
  return {{"resource", resource}, {"kind", DriftKindName(kind)}, {"detail", detail}};
}

Result<std::vector<Drift>> FindDrift(const Config& cfg, Stack& stack, Repository& repo, const std::string& frontend) {
  std::vector<Drift> out;
  if (cfg.database.present) {
    pg::Instance prod;
    pg::ClusterConfig c = ProductionClusterFor(cfg);
    prod.data_dir = c.data_dir;
    prod.host = c.conn.host;
    prod.port = c.conn.port;
    if (!PathExists(JoinPath(c.data_dir, "PG_VERSION"))) {
      out.push_back({"instance production", DriftKind::kMissing, "no cluster in " + c.data_dir});
    } else if (pg::StateOf(prod) != pg::InstanceState::kRunning) {
      out.push_back({"instance production", DriftKind::kStopped, c.data_dir + " is not running"});
    }
    LB_ASSIGN_OR_RETURN(std::vector<pg::Instance> instances, pg::InstanceRegistry(cfg.state.dir).List());
    for (const pg::Instance& i : instances) {
      if (i.role == pg::InstanceRole::kProduction) continue;
      out.push_back({"instance " + i.name, DriftKind::kExtra,
                     std::string(pg::InstanceRoleName(i.role)) + ", " + pg::InstanceStatus(i) + ", port " +
                         std::to_string(i.port)});
    }
  }
  SecretStore secrets(cfg.state.dir, &repo);
  LB_ASSIGN_OR_RETURN(std::vector<std::string> names, secrets.List());
  for (const std::string& name : names) {
    if (secrets.HasLocalCopy(name)) continue;
    LB_ASSIGN_OR_RETURN(Secret s, secrets.Get(name));
    out.push_back({"secret " + name, DriftKind::kMissing,
                   "no local copy; the repository has version " + std::to_string(s.current) + " as current"});
  }
  if (cfg.frontend.present) {
    std::string current = stack.frontend().Current();
    if (current.empty()) {
      out.push_back({"frontend", DriftKind::kMissing, "no version installed"});
    } else if (!frontend.empty() && current != frontend) {
      out.push_back({"frontend", DriftKind::kDifferent, "serving " + Short(current) + ", the definition has " + Short(frontend)});
    }
    for (const ServiceConfig& svc : stack.services()) {
      if (!IsFrontendServer(cfg, svc)) continue;
      LB_ASSIGN_OR_RETURN(ServiceHealth h, HealthOf(stack, svc));
      if (h.healthy < svc.replicas && !current.empty()) out.push_back({"frontend", DriftKind::kStopped, "its server is not healthy"});
    }
  }
  Releases releases(cfg, &repo);
  for (const ServiceConfig& svc : stack.services()) {
    if (IsFrontendServer(cfg, svc)) continue;
    LB_ASSIGN_OR_RETURN(ServiceHealth h, HealthOf(stack, svc));
    AddServiceDrift("service " + svc.name, svc, h, &out);
    LB_ASSIGN_OR_RETURN(std::optional<Revision> active, releases.Active(svc.name));
    for (const std::string& tag : h.releases) {
      if (active && tag != active->tag) {
        out.push_back({"service " + svc.name, DriftKind::kDifferent,
                       "a replica runs release " + tag + "; revision " + std::to_string(active->number) + " is " +
                           active->tag});
      }
    }
  }
  if (stack.load_balancer().configured()) {
    if (!stack.load_balancer().ConfigWritten()) {
      out.push_back({"load-balancer", DriftKind::kMissing, "no haproxy configuration"});
    } else if (!stack.load_balancer().Running()) {
      out.push_back({"load-balancer", DriftKind::kStopped, "haproxy is not running"});
    }
  }
  return out;
}

Result<std::string> Recreate(const Config& cfg, Stack& stack, Repository& repo, const std::string& resource,
                             const std::string& frontend, const Say& say) {
  if (resource.rfind("secret ", 0) == 0) {
    std::string name = resource.substr(7);
    SecretStore secrets(cfg.state.dir, &repo);
    if (secrets.HasLocalCopy(name)) return resource + ": present, left alone";
    LB_ASSIGN_OR_RETURN(int version, secrets.RestoreLocalCopy(name));
    return resource + ": local copy restored from the repository (version " + std::to_string(version) + " current)";
  }
  if (resource == "frontend") {
    if (!cfg.frontend.present) return Status::Usage("the config has no [frontend]");
    std::string did;
    LB_ASSIGN_OR_RETURN(std::string want, WantedFrontend(stack, repo, frontend));
    if (stack.frontend().Current() != want) {
      say("  installing front-end version " + Short(want));
      LB_RETURN_IF_ERROR(stack.frontend().Activate(repo, want));
      did = "version " + Short(want) + " installed";
    }
    for (const ServiceConfig& svc : stack.services()) {
      if (!IsFrontendServer(cfg, svc)) continue;
      LB_ASSIGN_OR_RETURN(ServiceHealth h, HealthOf(stack, svc));
      if (h.healthy >= svc.replicas) continue;
      LB_RETURN_IF_ERROR(stack.StartService(svc, &repo));
      did += std::string(did.empty() ? "" : ", ") + "its server started";
    }
    return "frontend: " + (did.empty() ? "serving " + Short(want) + ", left alone" : did);
  }
  if (resource.rfind("service ", 0) == 0) {
    std::string name = resource.substr(8);
    const ServiceConfig* svc = stack.FindService(name);
    if (svc == nullptr || IsFrontendServer(cfg, *svc)) return Status::Usage("the config has no [service." + name + "]");
    LB_ASSIGN_OR_RETURN(ServiceHealth h, HealthOf(stack, *svc));
    if (h.healthy >= svc->replicas) {
      return resource + ": " + std::to_string(h.healthy) + "/" + std::to_string(svc->replicas) + " healthy, left alone";
    }
    LB_RETURN_IF_ERROR(stack.StartService(*svc, &repo));
    LB_ASSIGN_OR_RETURN(ServiceHealth after, HealthOf(stack, *svc));
    return resource + ": started, " + std::to_string(after.healthy) + "/" + std::to_string(svc->replicas) + " healthy";
  }
  if (resource == "load-balancer") {
    LoadBalancer& lb = stack.load_balancer();
    if (!lb.configured()) return Status::Usage("the config has no [load_balancer]");
    if (lb.ConfigWritten() && lb.Running()) return std::string("load-balancer: running, left alone");
    LB_RETURN_IF_ERROR(lb.Ensure());
    return "load-balancer: configuration written and haproxy serving at " + lb.url();
  }
  return Status::Usage("cannot recreate '" + resource + "'",
                       "give one of: service NAME, load-balancer, frontend, secret NAME, instance production");
}

}  // namespace lifeboat::platform
