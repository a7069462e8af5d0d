// lifeboat wal push PATH (archive_command) and wal get NAME DEST (restore_command).
#include "cli/commands.h"
#include "pg/wal.h"
#include "repository/lock.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string path;
  std::string name;
  std::string dest;
};

Status Push(Context& ctx, const Options& opt) {
  // Named objects only: skipping the index keeps archiving fast whatever the repository's size.
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository(/*load_index=*/false));
  LB_ASSIGN_OR_RETURN(auto lock, RepositoryLock::Acquire(repo.get(), LockKind::kShared, "wal push"));
  pg::WalArchive archive(repo.get());
  return archive.Push(opt.path);
}

Status Get(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository(/*load_index=*/false));
  pg::WalArchive archive(repo.get());
  return archive.Get(opt.name, opt.dest);
}

}  // namespace

void AddWal(CLI::App* app, Context* ctx) {
  CLI::App* wal = app->add_subcommand("wal", "archive and fetch WAL (archive_command, restore_command)");
  wal->require_subcommand(1);
  wal->fallthrough();
  auto opt = std::make_shared<Options>();
  CLI::App* push = wal->add_subcommand("push", "store a WAL file (for archive_command = '... wal push %p')");
  push->add_option("path", opt->path, "the WAL file")->required();
  push->callback([ctx, opt] { ctx->run = [ctx, opt] { return Push(*ctx, *opt); }; });
  CLI::App* get = wal->add_subcommand("get", "fetch a WAL file (for restore_command = '... wal get %f %p')");
  get->add_option("name", opt->name, "WAL file name")->required();
  get->add_option("dest", opt->dest, "where to write it")->required();
  get->callback([ctx, opt] { ctx->run = [ctx, opt] { return Get(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
