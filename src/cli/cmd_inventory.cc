// lifeboat inventory [--json]: every resource with its identifiers, generated from state.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"

namespace lifeboat::cli {

namespace {

std::string Field(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

Status Run(Context& ctx) {
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository(false));
  LB_ASSIGN_OR_RETURN(nlohmann::json items, stack->Inventory(repo.get()));
  if (ctx.json) {
    std::cout << items.dump(2) << "\n";
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& i : items) {
    std::string type = Field(i, "type"), detail;
    if (type == "instance") {
      detail = Field(i, "role") + ", " + Field(i, "status") + ", port " + Field(i, "port") + ", " +
               Field(i, "data_dir");
    } else if (type == "secret") {
      detail = "current version " + Field(i, "current_version");
    } else if (type == "service") {
      std::string ports;
      for (const auto& r : i["replicas"]) ports += (ports.empty() ? "" : ",") + r["port"].dump();
      detail = Field(i, "healthy") + "/" + Field(i, "desired") + " healthy" +
               (ports.empty() ? "" : ", ports " + ports);
    } else if (type == "load_balancer") {
      detail = Field(i, "url") + (i.value("running", false) ? ", running" : ", stopped");
    } else if (type == "frontend") {
      std::string cur = Field(i, "current_snapshot");
      detail = Field(i, "path") + ", snapshot " + (cur.empty() ? "none" : cur.substr(0, 12));
    } else if (type == "repository") {
      detail = Field(i, "path");
    }
    rows.push_back({type, Field(i, "name"), detail});
  }
  PrintTable({"TYPE", "NAME", "DETAIL"}, rows);
  return Status::Ok();
}

}  // namespace

void AddInventory(CLI::App* app, Context* ctx) {
  app->add_subcommand("inventory", "every resource of the stack with its identifiers")
      ->callback([ctx] { ctx->run = [ctx] { return Run(*ctx); }; });
}

}  // namespace lifeboat::cli
