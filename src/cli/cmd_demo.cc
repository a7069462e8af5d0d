// lifeboat demo [--dir DIR] [--down]: the embedded default (see demo/demo.h).
#include <iostream>

#include "base/fs.h"
#include "cli/commands.h"
#include "demo/demo.h"

namespace lifeboat::cli {

void AddDemo(CLI::App* app, Context* ctx) {
  struct Options {
    std::string dir = "lifeboat-demo";
    bool down = false;
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app->add_subcommand("demo", "build a local sandbox and run the whole runbook in it");
  cmd->add_option("--dir", opt->dir, "the sandbox directory (default: ./lifeboat-demo)");
  cmd->add_flag("--down", opt->down, "stop every process of the sandbox");
  cmd->callback([ctx, opt] {
    ctx->run = [opt]() -> Status {
      demo::DemoOptions o;
      o.dir = opt->dir.front() == '/' ? opt->dir : JoinPath(RealPath("."), opt->dir);
      o.self = SelfPath();
      auto say = [](const std::string& line) { std::cout << line << std::endl; };
      return opt->down ? demo::DemoDown(o, say) : demo::RunDemo(o, say);
    };
  });
}

}  // namespace lifeboat::cli
