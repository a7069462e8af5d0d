// lifeboat audit [--json]: the append-only log of every action that changed something.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "runbook/audit.h"

namespace lifeboat::cli {

void AddAudit(CLI::App* app, Context* ctx) {
  app->add_subcommand("audit", "who did what, when, with which result")->callback([ctx] {
    ctx->run = [ctx]() -> Status {
      LB_ASSIGN_OR_RETURN(Config cfg, ctx->LoadConfig());
      LB_ASSIGN_OR_RETURN(std::vector<runbook::AuditEntry> entries, runbook::ReadAudit(cfg.state.dir));
      if (ctx->json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& e : entries) arr.push_back(runbook::AuditToJson(e));
        std::cout << arr.dump(2) << "\n";
        return Status::Ok();
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& e : entries) rows.push_back({e.when, e.who, e.what, e.result});
      PrintTable({"WHEN", "WHO", "WHAT", "RESULT"}, rows);
      return Status::Ok();
    };
  });
}

}  // namespace lifeboat::cli
