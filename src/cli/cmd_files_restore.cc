// lifeboat files restore SNAPSHOT TARGET: write a files snapshot into a new or empty directory.
#include <cstdio>
#include <iostream>

#include "base/time.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "files/tree_restore.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string snapshot;
  std::string target;
};

Status Run(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  LB_ASSIGN_OR_RETURN(Id id, repo->ResolveSnapshot(opt.snapshot));
  LB_ASSIGN_OR_RETURN(Snapshot snap, repo->LoadSnapshot(id));
  double start = MonotonicSeconds();
  Progress progress("restore");
  Result<TreeRestoreResult> r = RestoreTree(*repo, snap, opt.target, &progress);
  if (!r.ok()) return r.status().Context("restore of snapshot " + id.Short() + " failed");
  double secs = MonotonicSeconds() - start;
  if (ctx.json) {
    PrintJson(WithStorage({{"id", id.Hex()}, {"target", opt.target}, {"files", r->files},
                           {"directories", r->directories}, {"symlinks", r->symlinks}, {"bytes", r->bytes}},
                          repo->backend()));
  } else {
    std::printf("restored snapshot %s to '%s': %lu files, %lu directories, %lu symlinks, %s in %.1f s\n",
                id.Short().c_str(), opt.target.c_str(), static_cast<unsigned long>(r->files),
                static_cast<unsigned long>(r->directories), static_cast<unsigned long>(r->symlinks),
                FormatBytes(r->bytes).c_str(), secs);
  }
  return Status::Ok();
}

}  // namespace

void AddFilesRestore(CLI::App* files, Context* ctx) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = files->add_subcommand("restore", "restore a files snapshot into an empty directory");
  cmd->add_option("snapshot", opt->snapshot, "snapshot id, unique prefix, or 'latest'")->required();
  cmd->add_option("target", opt->target, "new or empty directory")->required();
  cmd->callback([ctx, opt] { ctx->run = [ctx, opt] { return Run(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
