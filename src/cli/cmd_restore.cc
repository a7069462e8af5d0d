// lifeboat restore (--time T | --lsn L | --snapshot ID | --latest) --instance NAME [--port N]
//                  [--no-start] [--json]: restore to a NEW instance.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "pg/restore.h"
#include "runbook/scenario.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string time, lsn, snapshot, instance;
  bool latest = false;
  bool no_start = false;
  bool archive = false;
  int port = 0;
  uint32_t timeline = 0;
};

Status Run(Context& ctx, const Options& opt) {
  int targets = !opt.time.empty() + !opt.lsn.empty() + !opt.snapshot.empty() + opt.latest;
  if (targets != 1) {
    return Status::Usage("give exactly one of --time, --lsn, --snapshot, --latest");
  }
  pg::RestoreRequest req;
  if (!opt.time.empty()) {
    req.target.kind = pg::RestoreTarget::Kind::kTime;
    LB_ASSIGN_OR_RETURN(req.target.time, ParseTimestamp(opt.time));
  } else if (!opt.lsn.empty()) {
    req.target.kind = pg::RestoreTarget::Kind::kLsn;
    LB_ASSIGN_OR_RETURN(req.target.lsn, pg::ParseLsn(opt.lsn));
  } else if (!opt.snapshot.empty()) {
    req.target.kind = pg::RestoreTarget::Kind::kSnapshot;
    req.target.snapshot = opt.snapshot;
  }
  LB_ASSIGN_OR_RETURN(pg::ClusterConfig cluster, ctx.Cluster());
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepositoryForReading());
  pg::RestoreTarget target = req.target;
  req = runbook::RestoreRequestFor(cfg, opt.instance, SelfPath(), ctx.served_by);
  req.target = target;
  req.port = opt.port;
  req.start = !opt.no_start;
  req.archive = opt.archive ? pg::RestoreRequest::Archive::kNow : pg::RestoreRequest::Archive::kOff;
  req.target.timeline = opt.timeline;
  double start = MonotonicSeconds();
  Progress progress("restore");
  LB_ASSIGN_OR_RETURN(pg::RestoreResult r, pg::RestoreInstance(*repo, cluster, req, &progress));
  double secs = MonotonicSeconds() - start;
  nlohmann::ordered_json recovered =
      r.recovered_to ? nlohmann::ordered_json(FormatIso8601(*r.recovered_to, true)) : nlohmann::ordered_json();
  nlohmann::ordered_json prefetch;  // null: recovery did not go through the prefetch server
  if (r.prefetch) {
    prefetch = {{"requests", r.prefetch->requests},   {"from_spool", r.prefetch->from_spool},
                {"on_demand", r.prefetch->on_demand}, {"missing", r.prefetch->missing},
                {"discarded", r.prefetch->discarded}};
  }
  nlohmann::ordered_json gap;  // null: replay was not cut short by missing WAL
  if (r.stopped_at_gap) {
    const pg::WalGap& g = r.stopped_at_gap->gap;
    gap = {{"first_missing", g.first_missing},
           {"last_missing", g.last_missing},
           {"newest_commit_beyond", FormatIso8601(r.stopped_at_gap->newest_beyond, true)}};
    std::fprintf(stderr,
                 "warning: replay stopped where WAL is missing (%s%s%s): commits up to %s are beyond the gap and "
                 "were not recovered\nhint: see 'lifeboat window'; a segment that turns up again can be stored "
                 "with 'lifeboat wal push'\n",
                 g.first_missing.c_str(), g.last_missing == g.first_missing ? "" : " to ",
                 g.last_missing == g.first_missing ? "" : g.last_missing.c_str(),
                 FormatIso8601(r.stopped_at_gap->newest_beyond, true).c_str());
  }
  if (ctx.json) {
    PrintJson(WithStorage({{"repository", ctx.served_by}, {"name", r.instance.name}, {"host", r.instance.host}, {"port", r.instance.port},
                           {"data_dir", r.instance.data_dir}, {"snapshot", r.snapshot.Hex()},
                           {"recovered_to", recovered}, {"seconds", secs}, {"wal_prefetch", prefetch},
                           {"wal_gap", gap}},
                          repo->backend()));
    return Status::Ok();
  }
  PrintTable({"", ""}, {{"instance", r.instance.name},
                        {"port", std::to_string(r.instance.port)},
                        {"host", r.instance.host},
                        {"data_dir", r.instance.data_dir},
                        {"snapshot", r.snapshot.Short()},
                        {"recovered_to", r.recovered_to ? FormatIso8601(*r.recovered_to, true)
                                                        : (opt.no_start ? "(not started)" : "(no transaction replayed)")}});
  if (r.prefetch) {
    std::fprintf(stderr, "restore: %.1f s; recovery asked for %lu WAL file(s), %lu of them already fetched\n", secs,
                 static_cast<unsigned long>(r.prefetch->requests), static_cast<unsigned long>(r.prefetch->from_spool));
  } else {
    std::fprintf(stderr, "restore: %.1f s\n", secs);
  }
  return Status::Ok();
}

}  // namespace

void AddRestore(CLI::App* app, Context* ctx) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app->add_subcommand("restore", "restore the cluster to a NEW instance, to a point in time");
  cmd->add_option("--time", opt->time, "recovery target time (ISO 8601 with a zone)");
  cmd->add_option("--lsn", opt->lsn, "recovery target LSN");
  cmd->add_option("--snapshot", opt->snapshot, "restore a snapshot to its consistency point");
  cmd->add_flag("--latest", opt->latest, "recover everything the repository holds");
  cmd->add_option("--instance", opt->instance, "name of the new instance")->required();
  cmd->add_option("--port", opt->port, "port (default: the first free one of [instances] ports)");
  cmd->add_flag("--no-start", opt->no_start, "write and configure the data directory only");
  cmd->add_option("--timeline", opt->timeline, "follow this timeline (default: production's, from the lineage records)");
  cmd->add_flag("--archive", opt->archive,
                "the new instance archives WAL into this repository on its new timeline "
                "(for the instance that becomes production)");
  cmd->callback([ctx, opt] { ctx->run = [ctx, opt] { return Run(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
