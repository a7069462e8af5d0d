// lifeboat service start|stop|status|restart NAME: the supervised replicas of one service.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string name;
};

Result<const ServiceConfig*> Find(platform::Stack* stack, const std::string& name) {
  const ServiceConfig* svc = stack->FindService(name);
  if (svc == nullptr) {
    std::string names;
    for (const auto& s : stack->services()) names += (names.empty() ? "" : ", ") + s.name;
    return Status::NotFound("no service named '" + name + "'",
                            names.empty() ? "add [service." + name + "] to the config"
                                          : "services in the config: " + names);
  }
  return svc;
}

// The repository is opened only for a service that takes its environment from a secret or
// runs a deployed release.
Result<std::unique_ptr<Repository>> RepoFor(Context& ctx, const ServiceConfig& svc) {
  if (svc.secret.empty() && !svc.UsesRelease()) return std::unique_ptr<Repository>();
  return ctx.OpenRepository(false);
}

Status Report(Context& ctx, platform::Stack* stack, const ServiceConfig& svc) {
  LB_ASSIGN_OR_RETURN(std::vector<platform::ReplicaHealth> replicas, stack->manager().Health(svc));
  int healthy = 0;
  std::string crash;
  for (const auto& h : replicas) {
    healthy += h.healthy ? 1 : 0;
    if (h.status.crash_loop()) crash = h.detail;
  }
  if (ctx.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& h : replicas) arr.push_back(platform::ReplicaHealthToJson(h));
    PrintJson({{"name", svc.name}, {"desired", svc.replicas}, {"healthy", healthy},
               {"crash_loop", !crash.empty()}, {"replicas", arr}});
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& h : replicas) {
      std::string state = !h.alive ? "gone" : h.status.crash_loop() ? "crash-loop"
                          : h.healthy ? "healthy" : "unhealthy";
      rows.push_back({std::to_string(h.replica.id), std::to_string(h.replica.port),
                      std::to_string(h.replica.pid), std::to_string(h.status.child_pid), state,
                      std::to_string(h.status.restarts),
                      h.replica.secret_version ? std::to_string(h.replica.secret_version) : "-",
                      h.replica.registered ? "yes" : "no"});
    }
    std::cout << "service " << svc.name << ": " << healthy << "/" << svc.replicas << " healthy\n";
    PrintTable({"REPLICA", "PORT", "SUPERVISOR", "PID", "STATE", "RESTARTS", "SECRET", "IN_LB"}, rows);
  }
  if (!crash.empty()) {
    return Status::IO("service '" + svc.name + "' is in a crash loop: " + crash,
                      "fix the command or its environment, then 'lifeboat service restart " +
                          svc.name + "'");
  }
  if (healthy < svc.replicas) {
    return Status::IO("service '" + svc.name + "' has " + std::to_string(healthy) + " of " +
                          std::to_string(svc.replicas) + " replicas healthy",
                      replicas.empty() ? "start it with 'lifeboat service start " + svc.name + "'"
                                       : "see the replica logs under the state directory");
  }
  return Status::Ok();
}

Status Start(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(const ServiceConfig* svc, Find(stack, opt.name));
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, RepoFor(ctx, *svc));
  LB_RETURN_IF_ERROR(stack->StartService(*svc, repo.get()));
  return Report(ctx, stack, *svc);
}

Status Stop(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(const ServiceConfig* svc, Find(stack, opt.name));
  LB_RETURN_IF_ERROR(stack->manager().Stop(*svc));
  if (!ctx.json) std::cout << "service " << svc->name << ": stopped\n";
  return Status::Ok();
}

Status Restart(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(const ServiceConfig* svc, Find(stack, opt.name));
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, RepoFor(ctx, *svc));
  LB_RETURN_IF_ERROR(stack->RestartService(*svc, repo.get()));
  return Report(ctx, stack, *svc);
}

Status StatusCmd(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(const ServiceConfig* svc, Find(stack, opt.name));
  return Report(ctx, stack, *svc);
}

}  // namespace

void AddService(CLI::App* app, Context* ctx) {
  CLI::App* service = app->add_subcommand("service", "start, stop, restart and inspect a service");
  service->require_subcommand(1);
  service->fallthrough();
  auto opt = std::make_shared<Options>();
  struct Verb {
    const char* name;
    const char* help;
    Status (*fn)(Context&, const Options&);
  };
  for (const Verb& v : {Verb{"start", "start replicas until the configured number are healthy", Start},
                        Verb{"stop", "take every replica out of the load balancer and stop it", Stop},
                        Verb{"restart", "rolling restart: one replica at a time, never none serving", Restart},
                        Verb{"status", "replicas, health and crash loops (exit 2 when unhealthy)", StatusCmd}}) {
    CLI::App* cmd = service->add_subcommand(v.name, v.help);
    cmd->add_option("name", opt->name, "service name")->required();
    auto fn = v.fn;
    cmd->callback([ctx, opt, fn] { ctx->run = [ctx, opt, fn] { return fn(*ctx, *opt); }; });
  }
}

}  // namespace lifeboat::cli
