// lifeboat status [--json]: the runbook's quarterly check in one screen (runbook/checkup.h):
// the stack's health, its protection, the newest backups and drill, the next scheduled jobs
// and the agent's alerts; exit 2 when any check fires.
#include <cstdio>
#include <iostream>

#include "agent/agent.h"
#include "agent/jobs.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "runbook/checkup.h"

namespace lifeboat::cli {

namespace {

// What to do first about the first firing check.
std::string HintFor(const runbook::Check& c, const nlohmann::json& s) {
  const std::string& n = c.name;
  if (n == "wal_protection") {
    bool queued = s.contains("protection") && s["protection"].contains("wal_queue");
    return queued ? "queued WAL is stored by the next 'wal push' or a running 'wal stream' once the repository "
                    "answers: check its endpoint and credentials ('lifeboat --repo offsite repo check')"
                  : "restart 'lifeboat wal stream' once the reason is fixed; 'lifeboat up' starts what is missing";
  }
  if (n == "wal_lag") return "check that 'lifeboat wal stream' (or the agent's) runs and reads production";
  if (n == "repository") return "check the repository's path or endpoint and credentials ('lifeboat repo check')";
  if (n == "full_backup_age" || n == "incremental_backup_age") {
    return "take one now with 'lifeboat backup', and see why the scheduled ones did not run ('lifeboat jobs')";
  }
  if (n == "drill_age" || n == "drill_result") return "run the restore test: 'lifeboat drill'";
  if (n == "disk_space") return "free space there, or let 'lifeboat expire' drop what [retention] no longer keeps";
  return "'lifeboat up' starts what is missing";
}

Status Run(Context& ctx) {
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(nlohmann::json s, stack->Summary());
  {
    Result<std::unique_ptr<Repository>> repo = ctx.OpenRepositoryForReading(false);
    std::string error = !repo.ok()                  ? repo.status().message()
                        : ctx.served_by == "offsite" && ctx.repo_flag.empty()
                            ? "it is unreachable; the offsite repository served instead"
                            : "";
    runbook::GatherRepositoryFacts(cfg, repo.ok() ? repo->get() : nullptr, ctx.served_by, error, &s);
  }
  UnixNanos now = NowNanos();
  std::vector<runbook::Check> checks = runbook::StatusChecks(s, cfg, now);
  s["checks"] = nlohmann::json::array();
  std::string why;
  const runbook::Check* first = nullptr;
  for (const runbook::Check& c : checks) {
    s["checks"].push_back(runbook::CheckToJson(c));
    if (!c.firing()) continue;
    why += (why.empty() ? ": " : "; ") + c.summary;
    if (first == nullptr) first = &c;
  }
  s["healthy"] = first == nullptr;
  s["next_jobs"] = agent::NextJobs(cfg, now);
  s["agent"] = agent::AgentFacts(cfg);
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
    const auto& r = s["repository"];
    rows.push_back({"repository", r["name"], r["up"].get<bool>() ? "up" : "down",
                    r["location"].get<std::string>() + (r["error"].get<std::string>().empty() ? "" : ": " + r["error"].get<std::string>())});
    for (const char* type : {"full", "incremental"}) {
      const auto& b = s["backups"][type];
      if (b.is_null()) continue;
      Result<UnixNanos> at = ParseTimestamp(b["finished_at"].get<std::string>());
      rows.push_back({"backup", type, "available",
                      "snapshot " + b["id"].get<std::string>() + ", finished " + b["finished_at"].get<std::string>() +
                          (at.ok() ? " (" + FormatDuration(static_cast<double>(now - *at) / 1e9) + " ago)" : "")});
    }
    if (s.contains("window") && !s["window"]["latest"].is_null()) {
      rows.push_back({"window", "restorable", s["window"]["gaps"] == 0 ? "continuous" : "has gaps",
                      s["window"]["earliest"].get<std::string>() + " .. " + s["window"]["latest"].get<std::string>()});
    }
    if (!s["drill"].is_null()) {
      const auto& d = s["drill"];
      std::string figures = d["rto_seconds"].is_number() ? "RTO " + FormatDuration(d["rto_seconds"].get<double>()) : "";
      if (d["rpo_seconds"].is_number()) figures += ", RPO " + FormatDuration(d["rpo_seconds"].get<double>());
      rows.push_back({"drill", d["id"], d["passed"].get<bool>() ? "passed" : "FAILED",
                      d["finished_at"].get<std::string>() + (figures.empty() ? "" : ", " + figures)});
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
    for (const auto& sp : s["space"]) {
      if (sp.contains("error")) {
        rows.push_back({"space", sp["what"], "unknown", sp["error"]});
        continue;
      }
      char pct[32];
      std::snprintf(pct, sizeof(pct), "%.1f%% free", sp["free_percent"].get<double>());
      rows.push_back({"space", sp["what"], sp["low"].get<bool>() ? "low" : "ok",
                      std::string(pct) + " (" + FormatBytes(sp["free_bytes"].get<uint64_t>()) + ") at " +
                          sp["path"].get<std::string>()});
    }
    PrintTable({"RESOURCE", "NAME", "STATE", "DETAIL"}, rows);
    std::cout << "\n";
    rows.clear();
    for (const auto& c : s["checks"]) rows.push_back({c["name"], c["state"], c["summary"]});
    PrintTable({"CHECK", "STATE", "SUMMARY"}, rows);
    if (!s["next_jobs"].empty()) {
      std::cout << "\n";
      rows.clear();
      for (const auto& j : s["next_jobs"]) {
        rows.push_back({j["job"], j["schedule"], j["next_local"].is_null() ? "after each backup" : j["next_local"].get<std::string>(),
                        j["next"].is_null() ? "" : j["next"].get<std::string>()});
      }
      PrintTable({"JOB", "SCHEDULE", "NEXT (" + cfg.schedule.timezone + ")", "NEXT (UTC)"}, rows);
    }
    const auto& a = s["agent"];
    std::cout << "\nagent: " << (a["running"].get<bool>() ? "running (pid " + a["pid"].dump() + ")" : std::string("not running"));
    if (a["running"].get<bool>()) {
      std::cout << ", " << a["alerts"].size() << " alert(s) firing";
      for (const auto& al : a["alerts"]) std::cout << "\n  " << al["alert"].get<std::string>() << " since " << al["since"].get<std::string>() << ": " << al["summary"].get<std::string>();
    }
    std::cout << "\n";
  }
  if (first != nullptr) return Status::IO("the stack is not healthy" + why, HintFor(*first, s));
  return Status::Ok();
}

}  // namespace

void AddStatus(CLI::App* app, Context* ctx) {
  app->add_subcommand("status", "health of the database, services and load balancer")
      ->callback([ctx] { ctx->run = [ctx] { return Run(*ctx); }; });
}

}  // namespace lifeboat::cli
