// lifeboat wal push PATH (archive_command) and wal get NAME DEST (restore_command).
#include <signal.h>

#include <atomic>
#include <cstdio>

#include "cli/commands.h"
#include "pg/stream.h"
#include "pg/wal.h"
#include "repository/lock.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string path;
  std::string name;
  std::string dest;
  std::string slot = "lifeboat";
  bool synchronous = false;
  double interval = 1.0;
};

Status Push(Context& ctx, const Options& opt) {
  // Named objects only: skipping the index keeps archiving fast whatever the repository's size.
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository(/*load_index=*/false));
  LB_ASSIGN_OR_RETURN(auto lock, RepositoryLock::Acquire(repo.get(), LockKind::kShared, "wal push"));
  pg::WalArchive archive(repo.get());
  return archive.Push(opt.path);
}

std::atomic<bool> g_stop{false};

Status Stream(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(pg::ClusterConfig cluster, ctx.Cluster());
  // No repository lock for the stream's lifetime: it would keep `expire` and `prune` (exclusive)
  // out forever. The stream only adds named WAL objects, which prune never touches and expire
  // deletes only below the oldest kept snapshot, far behind the segment being received.
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository(/*load_index=*/false));
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop.store(true); };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  pg::StreamOptions so;
  so.slot = opt.slot;
  so.synchronous = opt.synchronous;
  so.flush_interval_seconds = opt.interval;
  so.log = [](const std::string& line) {
    std::fprintf(stderr, "%s wal stream: %s\n", FormatIso8601(NowNanos()).c_str(), line.c_str());
  };
  LB_ASSIGN_OR_RETURN(pg::StreamStats stats, pg::StreamWal(*repo, cluster, so, g_stop));
  std::fprintf(stderr, "wal stream: stopped; %lu segment(s) stored, flushed to %s\n",
               static_cast<unsigned long>(stats.segments_stored), pg::FormatLsn(stats.flushed).c_str());
  return Status::Ok();
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
  CLI::App* stream = wal->add_subcommand("stream", "receive WAL continuously over the replication protocol (until SIGTERM)");
  stream->add_option("--slot", opt->slot, "physical replication slot (created when missing)");
  stream->add_flag("--synchronous", opt->synchronous,
                   "acknowledge WAL only once stored (list 'lifeboat' in synchronous_standby_names)");
  stream->add_option("--interval", opt->interval, "seconds between uploads of the partial segment (default 1)");
  stream->callback([ctx, opt] { ctx->run = [ctx, opt] { return Stream(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
