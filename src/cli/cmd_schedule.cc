// lifeboat schedule [--json]: each job of [schedule], its next runs in the schedule's time zone
// and in UTC, and the due time the agent handled last.
#include <iostream>

#include "agent/jobs.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "schedule/schedule.h"

namespace lifeboat::cli {

namespace {

constexpr int kShown = 3;  // next runs listed per job

Status Show(Context& ctx) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.ReadConfig());
  LB_ASSIGN_OR_RETURN(schedule::Zone zone, schedule::Zone::Named(cfg.schedule.timezone));
  LB_ASSIGN_OR_RETURN(agent::AgentState state, agent::AgentState::Load(cfg.state.dir));
  UnixNanos now = NowNanos();
  nlohmann::json jobs = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (agent::JobKind k : agent::kAllJobs) {
    const std::string& text = agent::ScheduleText(cfg, k);
    if (text.empty()) continue;
    LB_ASSIGN_OR_RETURN(schedule::Schedule s, schedule::Schedule::Parse(text));
    nlohmann::json next = nlohmann::json::array();
    std::string first_local, first_utc;
    UnixNanos t = now;
    for (int i = 0; i < kShown; ++i) {
      std::optional<UnixNanos> n = s.NextAfter(t, zone);
      if (!n) break;
      next.push_back({{"local", zone.Format(*n)}, {"utc", FormatIso8601(*n)}});
      if (i == 0) {
        first_local = zone.Format(*n);
        first_utc = FormatIso8601(*n);
      }
      t = *n;
    }
    std::string name = agent::JobKindName(k);
    auto handled = state.last_handled.find(name);
    nlohmann::json j = {{"job", name},
                        {"schedule", text},
                        {"window", k == agent::JobKind::kFull && !cfg.schedule.window.empty()
                                       ? nlohmann::json(cfg.schedule.window)
                                       : nlohmann::json()},
                        {"next", next},
                        {"last_handled", handled == state.last_handled.end()
                                             ? nlohmann::json()
                                             : nlohmann::json(FormatIso8601(handled->second))}};
    jobs.push_back(j);
    std::string when = s.after_backup() ? "after each backup (the backup copies)" : first_local;
    if (k == agent::JobKind::kFull && !cfg.schedule.window.empty()) when += " (window " + cfg.schedule.window + ")";
    rows.push_back({name, text, when, first_utc});
  }
  if (ctx.json) {
    PrintJson({{"timezone", zone.name()}, {"jobs", jobs}});
    return Status::Ok();
  }
  if (rows.empty()) {
    std::cout << "no job is scheduled: add a [schedule] section (README: The agent)\n";
    return Status::Ok();
  }
  PrintTable({"JOB", "SCHEDULE", "NEXT (" + zone.name() + ")", "NEXT (UTC)"}, rows);
  return Status::Ok();
}

}  // namespace

void AddSchedule(CLI::App* app, Context* ctx) {
  CLI::App* cmd = app->add_subcommand("schedule", "the next runs of each scheduled job, in local time and UTC");
  cmd->callback([ctx] { ctx->run = [ctx] { return Show(*ctx); }; });
}

}  // namespace lifeboat::cli
