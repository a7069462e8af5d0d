// lifeboat snapshots [--json]: every snapshot, oldest first.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"

namespace lifeboat::cli {

namespace {

Status Run(Context& ctx) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  LB_ASSIGN_OR_RETURN(auto all, repo->LoadAllSnapshots());
  if (ctx.json) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& [id, s] : all) {
      nlohmann::ordered_json j;
      j["id"] = id.Hex();
      j["kind"] = s.kind;
      j["name"] = s.name;
      j["hostname"] = s.hostname;
      j["started_at"] = FormatIso8601(s.started_at, true);
      j["finished_at"] = FormatIso8601(s.finished_at, true);
      j["logical_bytes"] = s.logical_bytes;
      j["stored_bytes"] = s.stored_bytes;
      j["parent"] = s.parent ? nlohmann::ordered_json(s.parent->Hex()) : nlohmann::ordered_json();
      arr.push_back(std::move(j));
    }
    PrintJson(arr);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& [id, s] : all) {
    rows.push_back({id.Short(), s.kind, s.name, FormatIso8601(s.started_at),
                    FormatIso8601(s.finished_at), FormatBytes(s.logical_bytes),
                    FormatBytes(s.stored_bytes)});
  }
  PrintTable({"ID", "KIND", "NAME", "STARTED", "FINISHED", "SIZE", "STORED"}, rows);
  return Status::Ok();
}

}  // namespace

void AddSnapshots(CLI::App* app, Context* ctx) {
  CLI::App* cmd = app->add_subcommand("snapshots", "list snapshots");
  cmd->callback([ctx] { ctx->run = [ctx] { return Run(*ctx); }; });
}

}  // namespace lifeboat::cli
