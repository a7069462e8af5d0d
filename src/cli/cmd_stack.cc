// lifeboat stack record: the stack definition (platform/definition.h) into the repository and
// the offsite one. lifeboat stack show [--json]: the definition the repository holds.
#include <iostream>

#include "cli/commands.h"
#include "platform/definition.h"

namespace lifeboat::cli {

Status RecordStack(Context& ctx, const Config& cfg, Repository& served) {
  LB_ASSIGN_OR_RETURN(platform::StackDefinition def, platform::CaptureDefinition(cfg));
  LB_RETURN_IF_ERROR(platform::StoreDefinition(def, served));
  if (!cfg.offsite || ctx.served_by == "offsite") return Status::Ok();
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> offsite, ctx.OpenRepositoryNamed("offsite", false));
  return platform::StoreDefinition(def, *offsite);
}

void RecordStackAfter(Context& ctx, Repository& served, const std::string& what) {
  Result<Config> cfg = ctx.LoadConfig();
  Status s = cfg.ok() ? RecordStack(ctx, *cfg, served) : cfg.status();
  if (!s.ok()) {
    std::cerr << "lifeboat: " << what << " is done; the stack definition is not stored: " << s.message()
              << "\nhint: run 'lifeboat stack record' once the repository answers" << std::endl;
  }
}

void AddStack(CLI::App* app, Context* ctx) {
  CLI::App* stack = app->add_subcommand("stack", "the stack definition a rebuild reads from the repository");
  stack->require_subcommand(1);
  stack->add_subcommand("record", "store this stack's definition in the repository (and the offsite one)")
      ->callback([ctx] {
        ctx->run = [ctx]() -> Status {
          LB_ASSIGN_OR_RETURN(Config cfg, ctx->LoadConfig());
          LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx->OpenRepository(false));
          LB_RETURN_IF_ERROR(RecordStack(*ctx, cfg, *repo));
          std::cout << "stack definition of " << cfg.file << " stored in the repository"
                    << (cfg.offsite ? " and the offsite one" : "") << "\n";
          return Status::Ok();
        };
      });
  stack->add_subcommand("show", "print the stack definition the repository holds")->callback([ctx] {
    ctx->run = [ctx]() -> Status {
      LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx->OpenRepositoryForReading(false));
      LB_ASSIGN_OR_RETURN(platform::StackDefinition def, platform::StoredDefinition(*repo));
      if (ctx->json) {
        std::cout << def.ToJson().dump(2) << "\n";
        return Status::Ok();
      }
      std::cout << "recorded " << def.recorded_at << " from " << def.recorded_from << "\n"
                << "front end serving: " << (def.frontend.empty() ? "none" : def.frontend) << "\n\n"
                << def.config;
      return Status::Ok();
    };
  });
}

}  // namespace lifeboat::cli
