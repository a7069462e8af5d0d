// lifeboat up: start the local stack in dependency order (database, secrets, front end,
// services, load balancer). Idempotent: what already runs is left as it is. Then the stack
// definition goes to the repository, for a rebuild elsewhere.
#include <iostream>

#include "cli/commands.h"

namespace lifeboat::cli {

void AddUp(CLI::App* app, Context* ctx) {
  app->add_subcommand("up", "start the whole local stack (idempotent)")->callback([ctx] {
    ctx->run = [ctx]() -> Status {
      LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx->Stack());
      LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx->OpenRepository());
      LB_RETURN_IF_ERROR(stack->Up(*repo, [](const std::string& line) { std::cout << line << std::endl; }));
      RecordStackAfter(*ctx, *repo, "up");
      return Status::Ok();
    };
  });
}

}  // namespace lifeboat::cli
