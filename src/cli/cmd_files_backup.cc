// lifeboat files backup --name NAME PATH [--json]: snapshot a directory tree.
#include <cstdio>
#include <iostream>

#include "base/time.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "files/tree_backup.h"
#include "repository/lock.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string name;
  std::string path;
};

Status Run(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  LB_ASSIGN_OR_RETURN(auto lock,
                      RepositoryLock::Acquire(repo.get(), LockKind::kShared, "files backup"));
  double start = MonotonicSeconds();
  Progress progress("backup");
  TreeBackupOptions options;
  options.name = opt.name;
  Result<TreeBackupResult> r = BackupTree(*repo, opt.path, options, &progress);
  if (!r.ok()) return r.status().Context("files backup of '" + opt.path + "' failed");
  double secs = MonotonicSeconds() - start;
  if (ctx.json) {
    PrintJson(WithStorage({{"id", r->id.Hex()}}, repo->backend()));
  } else {
    std::cout << r->id.Hex() << "\n";
  }
  std::fprintf(stderr,
               "files backup: %lu files (%lu read), %s, %s added, %.1f s\n",
               static_cast<unsigned long>(r->files), static_cast<unsigned long>(r->files_read),
               FormatBytes(r->snapshot.logical_bytes).c_str(),
               FormatBytes(r->snapshot.stored_bytes).c_str(), secs);
  return Status::Ok();
}

}  // namespace

void AddFilesBackup(CLI::App* files, Context* ctx) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = files->add_subcommand("backup", "back up a directory tree into a snapshot");
  cmd->add_option("--name", opt->name, "name of the tree, e.g. media or frontend")->required();
  cmd->add_option("path", opt->path, "directory to back up")->required();
  cmd->callback([ctx, opt] { ctx->run = [ctx, opt] { return Run(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
