// lifeboat agent: runs [schedule]'s jobs and supervises `wal stream` until SIGTERM
// (agent/agent.h). In the foreground, for systemd (Type=notify) or a terminal.
#include <iostream>

#include "agent/agent.h"
#include "cli/commands.h"

namespace lifeboat::cli {

namespace {

Status RunAgent(Context& ctx) {
  // As the database's owner (when started as root), like every command its jobs run.
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  agent::AgentOptions options;
  options.config_file = cfg.file;
  options.self = SelfPath();
  options.log = [](const std::string& line) { std::cerr << "lifeboat agent: " << line << std::endl; };
  LB_ASSIGN_OR_RETURN(std::unique_ptr<agent::Agent> a, agent::Agent::Start(std::move(options)));
  return a->Run();
}

}  // namespace

void AddAgent(CLI::App* app, Context* ctx) {
  CLI::App* cmd = app->add_subcommand(
      "agent", "run the scheduled jobs ([schedule]) and supervise wal stream, until SIGTERM (SIGHUP reloads)");
  cmd->callback([ctx] { ctx->run = [ctx] { return RunAgent(*ctx); }; });
}

}  // namespace lifeboat::cli
