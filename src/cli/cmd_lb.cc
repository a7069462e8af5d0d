// lifeboat lb status|start|stop: the haproxy load balancer in front of the services.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"

namespace lifeboat::cli {

namespace {

Result<platform::LoadBalancer*> Lb(Context& ctx) {
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  if (!stack->load_balancer().configured()) {
    return Status::Config("no [load_balancer] in the config", "add [load_balancer] with port = 8080");
  }
  return &stack->load_balancer();
}

Status StatusCmd(Context& ctx) {
  LB_ASSIGN_OR_RETURN(platform::LoadBalancer * lb, Lb(ctx));
  if (!lb->Running()) {
    if (ctx.json) PrintJson({{"url", lb->url()}, {"running", false}, {"servers", nlohmann::json::array()}});
    return Status::IO("load balancer is not running", "start it with 'lifeboat lb start' or 'lifeboat up'");
  }
  LB_ASSIGN_OR_RETURN(std::vector<platform::BackendServer> servers, lb->Servers());
  if (ctx.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& s : servers) {
      arr.push_back({{"backend", s.backend}, {"server", s.server}, {"address", s.address},
                     {"status", s.status}, {"check", s.check}});
    }
    PrintJson({{"url", lb->url()}, {"running", true}, {"pid", lb->pid()}, {"servers", arr}});
    return Status::Ok();
  }
  std::cout << "load balancer " << lb->url() << " (haproxy pid " << lb->pid() << ")\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : servers) rows.push_back({s.backend, s.server, s.address, s.status, s.check});
  PrintTable({"BACKEND", "SERVER", "ADDRESS", "STATUS", "CHECK"}, rows);
  return Status::Ok();
}

Status Start(Context& ctx) {
  LB_ASSIGN_OR_RETURN(platform::LoadBalancer * lb, Lb(ctx));
  LB_RETURN_IF_ERROR(lb->Ensure());
  if (!ctx.json) std::cout << "load balancer " << lb->url() << " (haproxy pid " << lb->pid() << ")\n";
  return Status::Ok();
}

Status Stop(Context& ctx) {
  LB_ASSIGN_OR_RETURN(platform::LoadBalancer * lb, Lb(ctx));
  LB_RETURN_IF_ERROR(lb->Stop());
  if (!ctx.json) std::cout << "load balancer stopped\n";
  return Status::Ok();
}

}  // namespace

void AddLb(CLI::App* app, Context* ctx) {
  CLI::App* lb = app->add_subcommand("lb", "the load balancer (haproxy)");
  lb->require_subcommand(1);
  lb->fallthrough();
  lb->add_subcommand("status", "backends and their health")
      ->callback([ctx] { ctx->run = [ctx] { return StatusCmd(*ctx); }; });
  lb->add_subcommand("start", "start haproxy, or reload it with the current services")
      ->callback([ctx] { ctx->run = [ctx] { return Start(*ctx); }; });
  lb->add_subcommand("stop", "stop haproxy")->callback([ctx] { ctx->run = [ctx] { return Stop(*ctx); }; });
}

}  // namespace lifeboat::cli
