// Commands lifeboat runs itself, hidden from --help: `_supervise` (one replica's supervisor)
// and `_static` (the front end's static file server).
#include "cli/commands.h"
#include "platform/frontend.h"
#include "platform/supervisor.h"

namespace lifeboat::cli {

void AddInternal(CLI::App* app, Context* ctx) {
  auto sup = std::make_shared<platform::SupervisorOptions>();
  CLI::App* supervise = app->add_subcommand("_supervise", "");
  supervise->group("");
  supervise->add_option("--status", sup->status_file)->required();
  supervise->add_option("command", sup->command)->required();
  supervise->callback([ctx, sup] { ctx->run = [sup] { return platform::RunSupervisor(*sup); }; });

  struct StaticOptions {
    std::string dir, prefix = "/";
    int port = 0;
  };
  auto st = std::make_shared<StaticOptions>();
  CLI::App* serve = app->add_subcommand("_static", "");
  serve->group("");
  serve->add_option("--dir", st->dir)->required();
  serve->add_option("--prefix", st->prefix);
  serve->add_option("--port", st->port)->required();
  serve->callback([ctx, st] {
    ctx->run = [st] { return platform::ServeStatic(st->dir, st->prefix, st->port); };
  });
}

}  // namespace lifeboat::cli
