// lifeboat down: stop, by recorded pid, exactly what lifeboat started (the load balancer, every
// service's replicas, and the database if `up` started it).
#include <iostream>

#include "cli/commands.h"

namespace lifeboat::cli {

void AddDown(CLI::App* app, Context* ctx) {
  app->add_subcommand("down", "stop everything lifeboat started")->callback([ctx] {
    ctx->run = [ctx]() -> Status {
      LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx->Stack());
      return stack->Down([](const std::string& line) { std::cout << line << std::endl; });
    };
  });
}

}  // namespace lifeboat::cli
