// lifeboat repo copy [--to offsite|primary] [--json]: copy what the other repository lacks
// (repository/mirror.h), so that the offsite mirror holds every snapshot, WAL segment and
// named object of the primary one; resumable (a rerun copies only what is still missing).
#include <cstdio>
#include <iostream>

#include "base/fs.h"

#include "cli/commands.h"
#include "cli/output.h"
#include "repository/lock.h"
#include "repository/mirror.h"

namespace lifeboat::cli {

namespace {

Status Run(Context& ctx, const std::string& to_name) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  if (!cfg.offsite) {
    return Status::Usage("nothing to copy to: the config has no [repository.offsite]",
                         "add [repository.offsite] with path = \"...\" or url = \"s3://...\"");
  }
  if (to_name != "offsite" && to_name != "primary") {
    return Status::Usage("--to is '" + to_name + "', expected offsite or primary");
  }
  std::string from_name = to_name == "offsite" ? "primary" : "offsite";
  LB_ASSIGN_OR_RETURN(RepositoryConfigSection from_rc, ctx.RepositorySection(cfg, from_name));
  LB_ASSIGN_OR_RETURN(RepositoryConfigSection to_rc, ctx.RepositorySection(cfg, to_name));
  // Open the source as a repository: the passphrase is checked and its locks are honoured.
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> from, ctx.OpenRepositoryNamed(from_name, /*load_index=*/false));
  LB_ASSIGN_OR_RETURN(auto lock, RepositoryLock::Acquire(from.get(), LockKind::kShared, "repo copy"));
  if (!to_rc.is_s3()) LB_RETURN_IF_ERROR(MakeDirs(to_rc.path, 0700));
  LB_ASSIGN_OR_RETURN(std::shared_ptr<Backend> to, OpenBackend(to_rc));
  Progress progress("copy");
  progress.Start();
  Result<CopyReport> r = CopyMissing(from->backend(), *to, {}, &progress);
  progress.Finish();
  if (!r.ok()) return r.status().Context("repo copy to " + to_name + " '" + to_rc.location() + "' stopped");
  double mb_s = r->seconds > 0 ? static_cast<double>(r->bytes_copied) / 1e6 / r->seconds : 0;
  if (ctx.json) {
    PrintJson(WithStorage({{"from", from_rc.location()}, {"to", to_rc.location()}, {"copied", r->objects_copied},
                           {"bytes", r->bytes_copied}, {"present", r->objects_present},
                           {"seconds", r->seconds}, {"mb_per_second", mb_s}},
                          *to));
  } else {
    std::printf("copied %lu objects (%s) to %s '%s' in %.1f s (%.1f MB/s); %lu were there already\n",
                static_cast<unsigned long>(r->objects_copied), FormatBytes(r->bytes_copied).c_str(), to_name.c_str(),
                to_rc.location().c_str(), r->seconds, mb_s, static_cast<unsigned long>(r->objects_present));
  }
  return Status::Ok();
}

}  // namespace

void AddRepoCopy(CLI::App* repo, Context* ctx) {
  auto to = std::make_shared<std::string>("offsite");
  CLI::App* cmd = repo->add_subcommand("copy", "copy what the other repository lacks (primary to offsite by default)");
  cmd->add_option("--to", *to, "offsite (default) or primary");
  cmd->callback([ctx, to] { ctx->run = [ctx, to] { return Run(*ctx, *to); }; });
}

}  // namespace lifeboat::cli
