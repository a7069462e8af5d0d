// lifeboat status [--json]: the stack's health in one screen; exit 2 when anything is unhealthy.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"

namespace lifeboat::cli {

namespace {

Status Run(Context& ctx) {
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(nlohmann::json s, stack->Summary());
  if (ctx.json) {
    std::cout << s.dump(2) << "\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    if (s.contains("database")) {
      rows.push_back({"database", s["database"]["name"], s["database"]["status"],
                      "port " + s["database"]["port"].dump()});
    }
    if (s.contains("protection")) {
      const auto& p = s["protection"];
      std::string detail = "production " + p["production"].get<std::string>();
      std::string state = "no streamer";
      if (p.contains("streamer")) {
        state = p["streamer"]["state"];
        detail += ", lag " + (p["wal_lag_seconds"].is_number()
                                  ? FormatDuration(p["wal_lag_seconds"].get<double>())
                                  : std::string("unknown")) +
                  ", last segment " + p["streamer"]["last_segment"].get<std::string>();
      }
      if (p.contains("archiver") && p["archiver"]["failed_count"].get<int64_t>() > 0) {
        detail += ", archiver failed " + p["archiver"]["failed_count"].dump() + " time(s), last on " +
                  p["archiver"]["last_failed_wal"].get<std::string>();
      }
      rows.push_back({"wal stream", "lifeboat", state, detail});
      if (p.contains("wal_queue")) {
        for (const auto& [repo, q] : p["wal_queue"].items()) {
          rows.push_back({"wal queue", repo, "waiting",
                          q["segments"].dump() + " segment(s), the oldest " + q["oldest"].get<std::string>() + " for " +
                              FormatDuration(q["waiting_seconds"].get<double>())});
        }
      }
    }
    for (const auto& svc : s["services"]) {
      std::string state = svc["crash_loop"].get<bool>() ? "crash-loop"
                          : svc["healthy"].get<int>() >= svc["desired"].get<int>() ? "healthy"
                                                                                  : "degraded";
      rows.push_back({"service", svc["name"], state,
                      svc["healthy"].dump() + "/" + svc["desired"].dump() + " replicas healthy"});
    }
    if (s.contains("load_balancer")) {
      rows.push_back({"load_balancer", "haproxy",
                      s["load_balancer"]["running"].get<bool>() ? "running" : "stopped",
                      s["load_balancer"]["url"]});
    }
    if (s.contains("frontend")) {
      std::string cur = s["frontend"]["current"];
      rows.push_back({"frontend", "frontend", cur.empty() ? "unpublished" : "published",
                      cur.empty() ? "" : "snapshot " + cur.substr(0, 12)});
    }
    PrintTable({"RESOURCE", "NAME", "STATE", "DETAIL"}, rows);
  }
  if (!s["healthy"].get<bool>()) {
    std::string why;
    if (s.contains("protection")) {
      for (const auto& p : s["protection"]["problems"]) why += (why.empty() ? ": " : "; ") + p.get<std::string>();
    }
    bool queued = s.contains("protection") && s["protection"].contains("wal_queue");
    return Status::IO("the stack is not healthy" + why,
                      why.empty() ? "'lifeboat up' starts what is missing"
                      : queued    ? "queued WAL is stored by the next 'wal push' or a running 'wal stream' once "
                                    "the repository answers: check its endpoint and credentials ('lifeboat --repo "
                                    "offsite repo check')"
                                  : "restart 'lifeboat wal stream' once the reason is fixed; 'lifeboat up' "
                                    "starts what is missing");
  }
  return Status::Ok();
}

}  // namespace

void AddStatus(CLI::App* app, Context* ctx) {
  app->add_subcommand("status", "health of the database, services and load balancer")
      ->callback([ctx] { ctx->run = [ctx] { return Run(*ctx); }; });
}

}  // namespace lifeboat::cli
