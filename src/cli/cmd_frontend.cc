// lifeboat frontend publish | versions | activate SNAPSHOT: the static front end's versions.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"

namespace lifeboat::cli {

namespace {

Result<platform::Frontend*> Fe(Context& ctx) {
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  if (!stack->frontend().configured()) {
    return Status::Config("no [frontend] in the config", "add [frontend] with dir = \"site\"");
  }
  return &stack->frontend();
}

Status Publish(Context& ctx) {
  LB_ASSIGN_OR_RETURN(platform::Frontend * fe, Fe(ctx));
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  LB_ASSIGN_OR_RETURN(std::string id, fe->Publish(*repo));
  RecordStackAfter(ctx, *repo, "the front end's publication");
  if (ctx.json) {
    PrintJson({{"snapshot", id}});
  } else {
    std::cout << "front end: published and serving snapshot " << id.substr(0, 12) << "\n";
  }
  return Status::Ok();
}

Status Versions(Context& ctx) {
  LB_ASSIGN_OR_RETURN(platform::Frontend * fe, Fe(ctx));
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository(false));
  LB_ASSIGN_OR_RETURN(std::vector<platform::FrontendVersion> versions, fe->Versions(*repo));
  if (ctx.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& v : versions) {
      arr.push_back({{"snapshot", v.snapshot}, {"created_at", v.created_at}, {"bytes", v.bytes},
                     {"files", v.files}, {"current", v.current}});
    }
    std::cout << arr.dump(2) << "\n";
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : versions) {
    rows.push_back({v.snapshot.substr(0, 12), v.created_at, std::to_string(v.files),
                    FormatBytes(v.bytes), v.current ? "current" : ""});
  }
  PrintTable({"SNAPSHOT", "CREATED", "FILES", "SIZE", ""}, rows);
  return Status::Ok();
}

Status Activate(Context& ctx, const std::string& ref) {
  LB_ASSIGN_OR_RETURN(platform::Frontend * fe, Fe(ctx));
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  LB_RETURN_IF_ERROR(fe->Activate(*repo, ref));
  RecordStackAfter(ctx, *repo, "the front end's activation");
  if (!ctx.json) std::cout << "front end: serving snapshot " << fe->Current().substr(0, 12) << "\n";
  return Status::Ok();
}

}  // namespace

void AddFrontend(CLI::App* app, Context* ctx) {
  CLI::App* fe = app->add_subcommand("frontend", "publish the static front end and bring versions back");
  fe->require_subcommand(1);
  fe->fallthrough();
  fe->add_subcommand("publish", "snapshot [frontend] dir and serve it")
      ->callback([ctx] { ctx->run = [ctx] { return Publish(*ctx); }; });
  fe->add_subcommand("versions", "published versions, newest first")
      ->callback([ctx] { ctx->run = [ctx] { return Versions(*ctx); }; });
  auto ref = std::make_shared<std::string>();
  CLI::App* act = fe->add_subcommand("activate", "serve an earlier published version");
  act->add_option("snapshot", *ref, "snapshot id or prefix")->required();
  act->callback([ctx, ref] { ctx->run = [ctx, ref] { return Activate(*ctx, *ref); }; });
}

}  // namespace lifeboat::cli
