// lifeboat instances [--json] and lifeboat instance start|stop|drop NAME.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "pg/instance.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string name;
};

Status List(Context& ctx) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  pg::InstanceRegistry registry(cfg.state.dir);
  LB_ASSIGN_OR_RETURN(std::vector<pg::Instance> all, registry.List());
  if (ctx.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& i : all) arr.push_back(pg::InstanceToJson(i));
    std::cout << arr.dump(2) << "\n";
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& i : all) {
    rows.push_back({i.name, i.host, std::to_string(i.port), i.data_dir, pg::InstanceStatus(i),
                    i.origin_snapshot.substr(0, 8), i.target});
  }
  PrintTable({"NAME", "HOST", "PORT", "DATA_DIR", "STATUS", "SNAPSHOT", "TARGET"}, rows);
  return Status::Ok();
}

Result<pg::Instance> Lookup(Context& ctx, const std::string& name) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  if (cfg.database.present && name == "production") {
    return Status::Usage("'production' is the protected cluster, not a managed instance");
  }
  pg::InstanceRegistry registry(cfg.state.dir);
  LB_ASSIGN_OR_RETURN(std::optional<pg::Instance> inst, registry.Find(name));
  if (!inst) {
    return Status::NotFound("instance '" + name + "' does not exist",
                            "list instances with 'lifeboat instances'");
  }
  return *inst;
}

Status Start(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(pg::ClusterConfig cluster, ctx.Cluster());
  LB_ASSIGN_OR_RETURN(pg::Instance inst, Lookup(ctx, opt.name));
  return pg::StartInstance(cluster, inst);
}

Status Stop(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(pg::ClusterConfig cluster, ctx.Cluster());
  LB_ASSIGN_OR_RETURN(pg::Instance inst, Lookup(ctx, opt.name));
  return pg::StopInstance(cluster, inst);
}

Status Drop(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(pg::ClusterConfig cluster, ctx.Cluster());
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(pg::Instance inst, Lookup(ctx, opt.name));
  LB_RETURN_IF_ERROR(pg::DropInstance(cluster, cfg.state.dir, inst));
  if (!ctx.json) std::cout << "dropped instance '" << inst.name << "'\n";
  return Status::Ok();
}

}  // namespace

void AddInstances(CLI::App* app, Context* ctx) {
  CLI::App* list = app->add_subcommand("instances", "list managed instances");
  list->callback([ctx] { ctx->run = [ctx] { return List(*ctx); }; });

  CLI::App* inst = app->add_subcommand("instance", "start, stop or drop a managed instance");
  inst->require_subcommand(1);
  inst->fallthrough();
  auto opt = std::make_shared<Options>();
  struct Verb {
    const char* name;
    const char* help;
    Status (*fn)(Context&, const Options&);
  };
  for (const Verb& v : {Verb{"start", "start an instance", Start}, Verb{"stop", "stop an instance", Stop},
                        Verb{"drop", "stop an instance and delete it", Drop}}) {
    CLI::App* cmd = inst->add_subcommand(v.name, v.help);
    cmd->add_option("name", opt->name, "instance name")->required();
    auto fn = v.fn;
    cmd->callback([ctx, opt, fn] { ctx->run = [ctx, opt, fn] { return fn(*ctx, *opt); }; });
  }
}

}  // namespace lifeboat::cli
