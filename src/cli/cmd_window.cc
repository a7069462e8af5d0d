// lifeboat window [--json]: the earliest and latest restorable time along production's
// lineage (or --timeline), gaps, and what made each timeline.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "pg/lineage.h"
#include "pg/restore.h"

namespace lifeboat::cli {

namespace {

Status Run(Context& ctx, uint32_t timeline) {
  LB_RETURN_IF_ERROR(ctx.Cluster().status());  // a config without [database] has no window
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepositoryForReading());
  LB_ASSIGN_OR_RETURN(pg::Window w, pg::ComputeWindow(*repo, timeline));
  LB_ASSIGN_OR_RETURN(std::vector<pg::TimelineRecord> lineage, pg::Lineage(repo.get()).List());
  if (ctx.json) {
    nlohmann::ordered_json j;
    j["timeline"] = w.timeline;
    j["earliest"] = w.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(FormatIso8601(w.earliest(), true));
    j["latest"] = w.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(FormatIso8601(w.latest(), true));
    j["gaps"] = nlohmann::ordered_json::array();
    for (const auto& g : w.gaps) j["gaps"].push_back({{"first_missing", g.first_missing}, {"last_missing", g.last_missing}});
    j["ranges"] = nlohmann::ordered_json::array();
    for (const auto& r : w.ranges) {
      j["ranges"].push_back({{"snapshot", r.snapshot.Hex()}, {"from", FormatIso8601(r.from, true)},
                             {"to", FormatIso8601(r.to, true)}, {"last_wal_file", r.last_segment}});
    }
    // What made each timeline, and which were production (pg/lineage.h).
    j["timelines"] = nlohmann::ordered_json::array();
    for (const auto& t : lineage) j["timelines"].push_back(nlohmann::ordered_json::parse(t.ToJson().dump()));
    PrintJson(j);
    return Status::Ok();
  }
  if (w.empty()) {
    std::cout << "no restorable point yet: take a backup with 'lifeboat backup'\n";
    return Status::Ok();
  }
  std::string made_by;
  for (const auto& t : lineage) {
    if (t.timeline == w.timeline) {
      made_by = std::string(" (") + (t.production ? "production, " : "not production, ") +
                pg::TimelineOriginName(t.origin) + (t.instance.empty() ? "" : " " + t.instance) + ")";
    }
  }
  std::cout << "timeline  " << w.timeline << made_by << "\n"
            << "earliest  " << FormatIso8601(w.earliest(), true) << "\n"
            << "latest    " << FormatIso8601(w.latest(), true) << "\n";
  for (const auto& g : w.gaps) {
    std::cout << "gap       WAL " << g.first_missing
              << (g.first_missing == g.last_missing ? "" : " .. " + g.last_missing) << " is missing\n";
  }
  return Status::Ok();
}

}  // namespace

void AddWindow(CLI::App* app, Context* ctx) {
  CLI::App* cmd = app->add_subcommand("window", "the point-in-time window: earliest and latest restorable time");
  auto timeline = std::make_shared<uint32_t>(0);
  cmd->add_option("--timeline", *timeline, "follow this timeline (default: production's, from the lineage records)");
  cmd->callback([ctx, timeline] { ctx->run = [ctx, timeline] { return Run(*ctx, *timeline); }; });
}

}  // namespace lifeboat::cli
