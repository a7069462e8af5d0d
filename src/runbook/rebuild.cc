#include "runbook/rebuild.h"

#include <unistd.h>

#include <cstdlib>

#include "base/fs.h"
#include "base/json_fields.h"
#include "base/process.h"
#include "base/time.h"
#include "pg/cluster.h"

namespace lifeboat::runbook {

namespace {

constexpr const char* kParamsKey = "bootstrap";

// The environment the agent gets: a daemon inherits nothing of lifeboat's own, but S3
// credentials and the endpoint must reach it as they reached this process.
std::map<std::string, std::string> AgentEnvironment() {
  std::map<std::string, std::string> env = {{"PATH", "/usr/bin:/bin"}};
  for (const char* k : {"HOME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                        "AWS_ENDPOINT_URL", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE"}) {
    if (const char* v = std::getenv(k)) env[k] = v;
  }
  return env;
}

}  // namespace

nlohmann::json BootstrapParams::ToJson() const {
  return {{"frontend", frontend},
          {"definition_recorded_at", definition_recorded_at},
          {"definition_from", definition_from},
          {"agent", agent}};
}

Result<BootstrapParams> BootstrapParams::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f(j, where, &Status::IO);
  LB_RETURN_IF_ERROR(f.IsObject());
  BootstrapParams p;
  LB_RETURN_IF_ERROR(f.String("frontend", &p.frontend));
  LB_RETURN_IF_ERROR(f.String("definition_recorded_at", &p.definition_recorded_at));
  LB_RETURN_IF_ERROR(f.String("definition_from", &p.definition_from));
  LB_RETURN_IF_ERROR(f.Bool("agent", &p.agent));
  return p;
}

Rebuild::Rebuild(const Config& cfg, platform::Stack* stack, Repository* repo, std::string self,
                 std::string repository)
    : cfg_(cfg), stack_(stack), repo_(repo), self_(self), scenario_(cfg, stack, repo, self, std::move(repository)) {}

Result<nlohmann::json> Rebuild::ResolveBootstrap(const platform::StackDefinition& def) {
  LB_ASSIGN_OR_RETURN(nlohmann::json params, scenario_.ResolveRecover(RecoverRequest{}));
  BootstrapParams b;
  b.frontend = cfg_.frontend.present ? def.frontend : "";
  b.definition_recorded_at = def.recorded_at;
  b.definition_from = def.recorded_from;
  b.agent = cfg_.agent.present;
  params[kParamsKey] = b.ToJson();
  return params;
}

Result<std::string> Rebuild::Frontend(StepContext& ctx) {
  LB_ASSIGN_OR_RETURN(BootstrapParams p, BootstrapParams::FromJson(ctx.run.params.value(kParamsKey, nlohmann::json()),
                                                                   "run " + ctx.run.id));
  if (!cfg_.frontend.present) return std::string("no [frontend]");
  if (p.frontend.empty()) return std::string("no front-end version was serving: nothing to activate");
  if (stack_->frontend().Current() != p.frontend) LB_RETURN_IF_ERROR(stack_->frontend().Activate(*repo_, p.frontend));
  return "front end " + p.frontend.substr(0, 12) + " is current";
}

Result<std::string> Rebuild::Prepare(StepContext& ctx) {
  // What needs no database starts now: the application's replicas start in the cutover, on the
  // restored instance's secret, behind a load balancer that is already there.
  std::string started;
  for (const ServiceConfig& svc : stack_->services()) {
    if (!cfg_.recovery.secret.empty() && svc.secret == cfg_.recovery.secret) continue;
    LB_ASSIGN_OR_RETURN(std::vector<platform::ReplicaHealth> replicas, stack_->manager().Health(svc));
    int healthy = 0;
    for (const auto& h : replicas) healthy += h.healthy ? 1 : 0;
    if (healthy >= svc.replicas) continue;
    ctx.say("  starting " + svc.name);
    LB_RETURN_IF_ERROR(stack_->StartService(svc, repo_));
    started += (started.empty() ? "" : ", ") + svc.name;
  }
  std::string lb = "no load balancer";
  if (stack_->load_balancer().configured()) {
    LB_RETURN_IF_ERROR(stack_->load_balancer().Ensure());
    lb = "load balancer " + stack_->load_balancer().url();
  }
  return (started.empty() ? std::string("no service to start before the database") : "started " + started) + "; " + lb;
}

Result<std::string> Rebuild::StartAgent(StepContext& ctx) {
  LB_ASSIGN_OR_RETURN(BootstrapParams p, BootstrapParams::FromJson(ctx.run.params.value(kParamsKey, nlohmann::json()),
                                                                   "run " + ctx.run.id));
  if (!p.agent) return std::string("no [agent]: archiving alone protects the new production");
  std::string lock = JoinPath(cfg_.state.dir, "agent/lock");
  if (std::optional<pid_t> pid = LockHolder(lock)) return "agent already running (pid " + std::to_string(*pid) + ")";
  LB_RETURN_IF_ERROR(MakeDirs(JoinPath(cfg_.state.dir, "agent"), 0700));
  std::string log = JoinPath(cfg_.state.dir, "agent/agent.log");
  LB_ASSIGN_OR_RETURN(pid_t pid, SpawnDaemon({self_, "-c", cfg_.file, "agent"}, AgentEnvironment(), log));
  for (int i = 0; i < 150; ++i) {
    if (std::optional<pid_t> holder = LockHolder(lock)) {
      return "agent started (pid " + std::to_string(*holder) + "; its log " + log + ")";
    }
    if (ctx.SecondsLeft() <= 0) break;
    usleep(100 * 1000);
  }
  return Status::IO("the agent (pid " + std::to_string(pid) + ") did not take its lock within 15 s",
                    "see " + log);
}

Result<std::string> Rebuild::Dns(StepContext& ctx) {
  // Where the rebuilt stack answers: what the seed's runbook points its DNS names at by hand.
  nlohmann::json endpoints = {{"run", ctx.run.id}};
  std::string production;
  pg::ClusterConfig db = platform::ProductionClusterFor(cfg_, &production);
  endpoints["database"] = {{"instance", production}, {"host", db.conn.host}, {"port", db.conn.port}};
  std::string records;
  if (stack_->load_balancer().configured()) {
    endpoints["load_balancer"] = {{"url", stack_->load_balancer().url()},
                                  {"address", cfg_.load_balancer.bind},
                                  {"port", cfg_.load_balancer.port}};
    records = "the application's name -> " + stack_->load_balancer().url();
    if (cfg_.frontend.present) {
      endpoints["frontend"] = {{"url", stack_->load_balancer().url() + cfg_.frontend.path}};
      records += "; the front end's -> " + stack_->load_balancer().url() + cfg_.frontend.path;
    }
  }
  if (cfg_.rebuild.dns_hook.empty()) {
    if (records.empty()) return std::string("no load balancer: no DNS record to set");
    ctx.say("  set DNS: " + records + " (no [rebuild] dns_hook to do it)");
    return "no [rebuild] dns_hook; set: " + records;
  }
  ProcessOptions options;
  options.input = endpoints.dump(2) + "\n";
  options.timeout_seconds = 120;
  LB_ASSIGN_OR_RETURN(ProcessResult r, RunProcess(cfg_.rebuild.dns_hook, options));
  if (r.exit_code != 0) {
    std::string err = r.err.size() > 300 ? r.err.substr(r.err.size() - 300) : r.err;
    return Status::IO("[rebuild] dns_hook " + cfg_.rebuild.dns_hook.front() + " exited " + std::to_string(r.exit_code) +
                          (err.empty() ? "" : ": " + err),
                      "fix the hook, then 'lifeboat resume " + ctx.run.id + "'");
  }
  return "[rebuild] dns_hook " + cfg_.rebuild.dns_hook.front() + " set the records";
}

Result<std::string> Rebuild::Inventory(StepContext&) {
  LB_ASSIGN_OR_RETURN(nlohmann::json items, stack_->Inventory(repo_));
  std::string text = items.dump(2) + "\n";
  std::string path = JoinPath(cfg_.state.dir, "inventory.json");
  LB_RETURN_IF_ERROR(WriteFileDurable(path, ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size()), 0600));
  return std::to_string(items.size()) + " resources in " + path;
}

Result<std::string> Rebuild::Record(StepContext&) {
  LB_ASSIGN_OR_RETURN(platform::StackDefinition def, platform::CaptureDefinition(cfg_));
  LB_RETURN_IF_ERROR(platform::StoreDefinition(def, *repo_));
  return "the repository's stack definition is this machine's (" + cfg_.file + ")";
}

Result<Plan> Rebuild::PlanFor(const std::string& kind) {
  if (kind != "bootstrap") return Status::Usage("runs of kind '" + kind + "' are not a rebuild's");
  LB_ASSIGN_OR_RETURN(Plan recover, scenario_.PlanFor("recover"));
  auto step = [&](const std::string& name) -> const Step& {
    for (const Step& s : recover.steps) {
      if (s.name == name) return s;
    }
    std::abort();  // a bug: the recover plan lost a step this plan is built from
  };
  Plan plan;
  plan.kind = "bootstrap";
  for (const char* name : {"window", "restore", "verify"}) plan.steps.push_back(step(name));

  Step frontend;
  frontend.name = "frontend";
  frontend.description = "the front-end version that was serving, installed from the repository";
  frontend.run = [this](StepContext& ctx) { return Frontend(ctx); };
  plan.steps.push_back(frontend);

  Step prepare;
  prepare.name = "stack";
  prepare.description = "services that need no database (the front end's server) and the load balancer";
  prepare.run = [this](StepContext& ctx) { return Prepare(ctx); };
  plan.steps.push_back(prepare);

  plan.steps.push_back(step("cutover"));
  plan.steps.push_back(step("report"));

  Step agent;
  agent.name = "agent";
  agent.description = "the agent started when [agent] is configured (schedules, streamer, alerts)";
  agent.timeout_seconds = 60;
  agent.run = [this](StepContext& ctx) { return StartAgent(ctx); };
  plan.steps.push_back(agent);

  Step dns;
  dns.name = "dns";
  dns.description = "the DNS records pointed at the rebuilt stack ([rebuild] dns_hook), or printed";
  dns.timeout_seconds = 150;
  dns.run = [this](StepContext& ctx) { return Dns(ctx); };
  plan.steps.push_back(dns);

  Step inventory;
  inventory.name = "inventory";
  inventory.description = "the inventory of what runs now, written to the state directory";
  inventory.run = [this](StepContext& ctx) { return Inventory(ctx); };
  plan.steps.push_back(inventory);

  Step record;
  record.name = "definition";
  record.description = "this machine's stack definition stored in the repository";
  record.run = [this](StepContext& ctx) { return Record(ctx); };
  plan.steps.push_back(record);
  // No revert: the machine had nothing to go back to; `resume` continues a failed run.
  return plan;
}

}  // namespace lifeboat::runbook
