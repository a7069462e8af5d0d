// lifeboat repo check [--read-data]: verify structure and references, and with --read-data
// every byte; exit 3 naming each damaged object and the snapshots it breaks.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "repository/check.h"
#include "repository/lock.h"

namespace lifeboat::cli {

namespace {

struct Options {
  bool read_data = false;
};

Status Run(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  LB_ASSIGN_OR_RETURN(auto lock, RepositoryLock::Acquire(repo.get(), LockKind::kShared, "check"));
  Progress progress("check");
  LB_ASSIGN_OR_RETURN(CheckReport report, CheckRepository(*repo, opt.read_data, &progress));

  if (ctx.json) {
    nlohmann::ordered_json j;
    j["ok"] = report.ok();
    j["read_data"] = opt.read_data;
    j["key_files"] = report.key_files;
    j["index_files"] = report.index_files;
    j["packs"] = report.packs;
    j["blobs"] = report.blobs;
    j["snapshots"] = report.snapshots;
    j["bytes_read"] = report.bytes_read;
    j["errors"] = nlohmann::ordered_json::array();
    for (const CheckProblem& p : report.errors) {
      j["errors"].push_back({{"object", p.object}, {"problem", p.problem}, {"snapshots", p.snapshots}});
    }
    j["notes"] = report.notes;
    PrintJson(WithStorage(j, repo->backend()));
  } else {
    std::cout << "checked " << report.key_files << " key file(s), " << report.index_files
              << " index file(s), " << report.packs << " pack(s), " << report.blobs
              << " blob(s), " << report.snapshots << " snapshot(s)";
    if (opt.read_data) std::cout << "; read " << FormatBytes(report.bytes_read);
    std::cout << "\n";
    for (const std::string& n : report.notes) std::cout << "note: " << n << "\n";
    for (const CheckProblem& p : report.errors) {
      std::cout << "damaged: " << p.object << ": " << p.problem;
      if (!p.snapshots.empty()) {
        std::cout << " (breaks snapshot";
        if (p.snapshots.size() > 1) std::cout << "s";
        for (size_t i = 0; i < p.snapshots.size(); ++i) std::cout << (i ? ", " : " ") << p.snapshots[i];
        std::cout << ")";
      }
      std::cout << "\n";
    }
    if (report.ok()) std::cout << "no errors found\n";
  }
  if (!report.ok()) {
    return Status::Corruption("repository check found " + std::to_string(report.errors.size()) +
                                  " damaged object(s)",
                              "snapshots not listed as broken are unaffected and restore");
  }
  return Status::Ok();
}

}  // namespace

void AddRepoCheck(CLI::App* repo, Context* ctx) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = repo->add_subcommand("check", "check the repository's structure and data");
  cmd->add_flag("--read-data", opt->read_data,
                "also read, decrypt, decompress and re-hash every blob");
  cmd->callback([ctx, opt] { ctx->run = [ctx, opt] { return Run(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
