// lifeboat: one binary for the disaster-recovery runbook. main parses the command line, runs the
// selected command and turns its Status into the documented exit code and message.
#include <cstdio>
#include <iostream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/time.h"
#include "cli/commands.h"
#include "runbook/audit.h"

namespace {

constexpr const char* kExitCodes =
    "Exit codes:\n"
    "  0  success\n"
    "  1  usage or configuration error (including a wrong passphrase)\n"
    "  2  operation failed (I/O, unreachable, lock held, out of space)\n"
    "  3  integrity or verification failure\n";

int Report(const lifeboat::Status& s) {
  std::fprintf(stderr, "error: %s\n", s.message().c_str());
  if (!s.hint().empty()) std::fprintf(stderr, "hint: %s\n", s.hint().c_str());
  return lifeboat::ExitCodeFor(s);
}

// Commands that change nothing, and those too frequent to log (wal push runs for every
// segment), are not audited: decided by the command the parser selected, never by the words of
// its arguments (`deploy shop list` deploys a tag named "list").
bool Audited(CLI::App& app) {
  static const std::set<std::string> kQuiet = {
      "snapshots", "window", "instances", "inventory", "status", "runs", "audit", "drills",
      "wal", "_supervise", "_static", "repo check", "repo stats", "secret get", "secret history",
      "secret list", "service status", "lb status", "frontend versions", "releases", "revisions",
      "migrations"};
  std::string path;
  CLI::App* cur = &app;
  while (true) {
    std::vector<CLI::App*> chosen = cur->get_subcommands();
    if (chosen.empty()) break;
    cur = chosen.front();
    path += (path.empty() ? "" : " ") + cur->get_name();
    if (kQuiet.count(path)) return false;
  }
  const CLI::Option* dry = cur->get_option_no_throw("--dry-run");
  return dry == nullptr || dry->count() == 0;
}

void Audit(const lifeboat::cli::Context& ctx, CLI::App& app, int argc, char** argv,
           const lifeboat::Status& s) {
  const lifeboat::Config* cfg = ctx.loaded_config();
  if (cfg == nullptr || !Audited(app)) return;
  std::string what = "lifeboat";
  bool secret_set = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "set") secret_set = true;
    // A secret's value given inline is masked; @FILE and - name no value.
    size_t eq = a.find('=');
    if (secret_set && eq != std::string::npos && a.compare(eq + 1, 1, "@") != 0 && a.substr(eq + 1) != "-") {
      a = a.substr(0, eq + 1) + "***";
    }
    what += " " + a;
  }
  std::string result = s.ok() ? "ok" : "exit " + std::to_string(lifeboat::ExitCodeFor(s)) + ": " + s.message();
  lifeboat::Status logged = lifeboat::runbook::AppendAudit(
      cfg->state.dir, {lifeboat::FormatIso8601(lifeboat::NowNanos(), true),
                       lifeboat::Username() + "@" + lifeboat::Hostname(), what, result});
  if (!logged.ok()) std::fprintf(stderr, "warning: audit log: %s\n", logged.message().c_str());
}

// Runs the command. Errors are values; an exception escaping it is a bug (a state file lifeboat
// failed to decode as a typed record, say), reported like any other failure instead of
// terminating the process mid-operation.
lifeboat::Status RunCommand(lifeboat::cli::Context& ctx) {
  try {
    return ctx.run();
  } catch (const nlohmann::json::exception& e) {
    return lifeboat::Status::IO(std::string("unexpected state: ") + e.what(),
                                "a state or journal file holds JSON lifeboat cannot read");
  } catch (const std::exception& e) {
    return lifeboat::Status::IO(std::string("unexpected failure: ") + e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  using lifeboat::cli::Context;
  Context ctx;
  CLI::App app{"lifeboat: backups, verified restores and measured recovery for PostgreSQL stacks",
               "lifeboat"};
  app.footer(kExitCodes);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("-c,--config", ctx.config_flag,
                 "config file (default: $LIFEBOAT_CONFIG, else ./lifeboat.toml)");
  app.add_flag("--json", ctx.json, "machine-readable output");
  app.add_option("--repo", ctx.repo_flag, "which repository: primary (default) or offsite");
  app.set_version_flag("--version", "lifeboat " LIFEBOAT_VERSION);

  CLI::App* repo = app.add_subcommand("repo", "create, check and inspect the repository");
  repo->require_subcommand(1);
  repo->fallthrough();
  lifeboat::cli::AddRepoInit(repo, &ctx);
  lifeboat::cli::AddRepoCheck(repo, &ctx);
  lifeboat::cli::AddRepoCopy(repo, &ctx);
  lifeboat::cli::AddRepoStats(repo, &ctx);
  lifeboat::cli::AddRepoPasswd(repo, &ctx);
  lifeboat::cli::AddRepoKeygen(repo, &ctx);

  CLI::App* files = app.add_subcommand("files", "back up and restore directory trees");
  files->require_subcommand(1);
  files->fallthrough();
  lifeboat::cli::AddFilesBackup(files, &ctx);
  lifeboat::cli::AddFilesRestore(files, &ctx);

  lifeboat::cli::AddSnapshots(&app, &ctx);
  lifeboat::cli::AddForget(&app, &ctx);
  lifeboat::cli::AddPrune(&app, &ctx);
  lifeboat::cli::AddBackup(&app, &ctx);
  lifeboat::cli::AddWal(&app, &ctx);
  lifeboat::cli::AddWindow(&app, &ctx);
  lifeboat::cli::AddRestore(&app, &ctx);
  lifeboat::cli::AddInstances(&app, &ctx);
  lifeboat::cli::AddVerify(&app, &ctx);
  lifeboat::cli::AddExpire(&app, &ctx);
  lifeboat::cli::AddSecret(&app, &ctx);
  lifeboat::cli::AddService(&app, &ctx);
  lifeboat::cli::AddLb(&app, &ctx);
  lifeboat::cli::AddFrontend(&app, &ctx);
  lifeboat::cli::AddInventory(&app, &ctx);
  lifeboat::cli::AddUp(&app, &ctx);
  lifeboat::cli::AddDown(&app, &ctx);
  lifeboat::cli::AddStatus(&app, &ctx);
  lifeboat::cli::AddInternal(&app, &ctx);
  lifeboat::cli::AddRecover(&app, &ctx);
  lifeboat::cli::AddCutover(&app, &ctx);
  lifeboat::cli::AddRuns(&app, &ctx);
  lifeboat::cli::AddAgent(&app, &ctx);
  lifeboat::cli::AddSchedule(&app, &ctx);
  lifeboat::cli::AddJobs(&app, &ctx);
  lifeboat::cli::AddResume(&app, &ctx);
  lifeboat::cli::AddAudit(&app, &ctx);
  lifeboat::cli::AddCleanup(&app, &ctx);
  lifeboat::cli::AddDrill(&app, &ctx);
  lifeboat::cli::AddRunbook(&app, &ctx);
  lifeboat::cli::AddStack(&app, &ctx);
  lifeboat::cli::AddBootstrap(&app, &ctx);
  lifeboat::cli::AddPlan(&app, &ctx);
  lifeboat::cli::AddRecreate(&app, &ctx);
  lifeboat::cli::AddRebuild(&app, &ctx);
  lifeboat::cli::AddDemo(&app, &ctx);
  lifeboat::cli::AddRelease(&app, &ctx);
  lifeboat::cli::AddDeploy(&app, &ctx);
  lifeboat::cli::AddRollback(&app, &ctx);
  lifeboat::cli::AddRevisions(&app, &ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (!what.empty()) what[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(what[0])));
    return Report(lifeboat::Status::Usage("invalid command line: " + what,
                                          "run 'lifeboat --help' for usage"));
  }
  if (!ctx.run) {
    return Report(lifeboat::Status::Usage("no command given", "run 'lifeboat --help' for usage"));
  }
  lifeboat::Status s = RunCommand(ctx);
  Audit(ctx, app, argc, argv, s);
  if (s.ok()) return 0;
  return Report(s);
}
