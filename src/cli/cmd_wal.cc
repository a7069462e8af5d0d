// lifeboat wal push PATH (archive_command) and wal get NAME DEST (restore_command).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "base/fs.h"
#include "cli/commands.h"
#include "pg/stream.h"
#include "pg/wal.h"
#include "pg/wal_fetch_client.h"
#include "pg/window.h"
#include "platform/wal_queue.h"
#include "repository/lock.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string path;
  std::string name;
  std::string dest;
  std::string slot = "lifeboat";
  bool synchronous = false;
  double interval = 0;  // 0: from the RPO objective
  uint32_t timeline = 0;
  std::string socket;  // wal get: the restore's prefetch server
};

Status PushTo(Context& ctx, const Config& cfg, const std::string& name, const std::string& path) {
  // Named objects only: skipping the index keeps archiving fast whatever the repository's size.
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepositoryNamed(name, /*load_index=*/false));
  LB_ASSIGN_OR_RETURN(auto lock, RepositoryLock::Acquire(repo.get(), LockKind::kShared, "wal push"));
  LB_RETURN_IF_ERROR(platform::DrainWalQueue(cfg, name, repo.get()).status());
  return pg::WalArchive(repo.get()).Push(path);
}

Status Push(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  if (!cfg.offsite || !ctx.repo_flag.empty()) return PushTo(ctx, cfg, ctx.repo_flag.empty() ? "primary" : ctx.repo_flag, opt.path);
  // Each repository on its own thread: one that is slow or down costs at most its own
  // retry_seconds, and never holds up what the other stores.
  const std::string names[2] = {"primary", "offsite"};
  const std::string locations[2] = {cfg.repository.location(), cfg.offsite->location()};
  Status results[2];
  std::thread offsite([&] { results[1] = PushTo(ctx, cfg, names[1], opt.path); });
  results[0] = PushTo(ctx, cfg, names[0], opt.path);
  offsite.join();
  for (int i = 0; i < 2; ++i) {
    if (results[i].ok() || results[i].code() == Code::kUsage) continue;  // a bad file is nobody's to queue
    Result<Bytes> data = ReadFile(opt.path);
    Status q = data.ok() ? platform::EnqueueWal(cfg, names[i], Basename(opt.path), *data) : data.status();
    std::fprintf(stderr, "warning: the %s repository '%s' did not store %s: %s%s\n", names[i].c_str(),
                 locations[i].c_str(), Basename(opt.path).c_str(), results[i].message().c_str(),
                 q.ok() ? ("; queued in " + platform::WalQueueDir(cfg, names[i]) + " for its next push").c_str()
                        : ("; it could not be queued either: " + q.message()).c_str());
  }
  if (cfg.repository.wal_acknowledge == "all") {
    LB_RETURN_IF_ERROR(results[0]);
    return results[1].Context("the offsite repository did not store it (wal_acknowledge = \"all\")");
  }
  return results[0].ok() || results[1].ok() ? Status::Ok() : results[0];  // "any"
}

std::atomic<bool> g_stop{false};

// One streaming session per production cluster: a watcher re-reads which cluster is
// production (the instance registry and production.json, which a cutover and a cleanup
// rewrite) every 200 ms and ends the session when it moved, so the stream follows production
// without a restart.
Status Stream(Context& ctx, const Options& opt) {
  LB_RETURN_IF_ERROR(ctx.Cluster().status());
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  // Where the stream stands, for `lifeboat status`: written at most once a second while it
  // runs, and at every change of state (also when it cannot open the repository: a wrong key).
  std::string state_file = cfg.state.dir + "/stream.json";
  pg::StreamProgress latest;
  double last_write = 0;
  auto publish = [&](pg::StreamProgress p) {
    p.pid = static_cast<int>(getpid());
    bool changed = p.state != latest.state;
    latest = p;
    if (!changed && p.state == pg::StreamProgress::State::kRunning && MonotonicSeconds() - last_write < 1.0) {
      return;
    }
    last_write = MonotonicSeconds();
    (void)WriteFileDurable(state_file, AsBytes(p.ToJson().dump(2) + "\n"), 0600);  // best effort
  };
  auto failed = [&](const Status& s) {
    pg::StreamProgress p = latest;
    p.state = pg::StreamProgress::State::kFailed;
    p.error = s.message();
    publish(p);
    return s;
  };
  // No repository lock for the stream's lifetime: it would keep `expire` and `prune` (exclusive)
  // out forever. The stream only adds named WAL objects, which prune never touches and expire
  // deletes only below the oldest kept snapshot, far behind the segment being received.
  Result<std::unique_ptr<Repository>> opened = ctx.OpenRepository(/*load_index=*/false);
  if (!opened.ok()) return failed(opened.status());
  std::unique_ptr<Repository> repo = std::move(*opened);
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop.store(true); };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  auto log = [](const std::string& line) {
    std::fprintf(stderr, "%s wal stream: %s\n", FormatIso8601(NowNanos()).c_str(), line.c_str());
  };
  pg::StreamOptions so;
  so.progress = publish;
  so.slot = opt.slot;
  so.synchronous = opt.synchronous;
  // Losing production costs about one interval of WAL: half the RPO objective keeps within
  // it (the upload takes the other half at most), and never more than a second.
  so.flush_interval_seconds =
      opt.interval > 0 ? opt.interval : std::min(1.0, static_cast<double>(cfg.objectives.rpo_seconds) / 2);
  so.log = log;
  // The offsite repository gets each complete segment through its queue, stored by a thread of
  // its own: the stream never waits for it, and what it cannot take waits durably.
  std::unique_ptr<platform::WalFeeder> offsite;
  if (cfg.offsite && ctx.repo_flag.empty()) {
    offsite = std::make_unique<platform::WalFeeder>(
        cfg, "offsite", [&ctx] { return ctx.OpenRepositoryNamed("offsite", /*load_index=*/false); }, log);
    so.segment_stored = [&](const std::string& name, ByteSpan data) {
      Status q = platform::EnqueueWal(cfg, "offsite", name, data);
      if (!q.ok()) log("cannot queue " + name + " for the offsite repository: " + q.message());
      offsite->Notify();
    };
  }
  pg::StreamStats total;
  while (!g_stop.load()) {
    std::string instance;
    pg::ClusterConfig cluster = platform::ProductionClusterFor(cfg, &instance);
    log("production is " + (instance.empty() ? "'" + cfg.database.name + "'" : "instance '" + instance + "'") +
        " (" + cluster.conn.host + ", port " + std::to_string(cluster.conn.port) + ")");
    std::atomic<bool> session_stop{false};
    std::thread watcher([&] {
      while (!session_stop.load()) {
        if (g_stop.load()) break;
        pg::ClusterConfig now = platform::ProductionClusterFor(cfg);
        if (now.conn.host != cluster.conn.host || now.conn.port != cluster.conn.port) {
          log("production moved to " + now.conn.host + ", port " + std::to_string(now.conn.port));
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      session_stop.store(true);
    });
    Result<pg::StreamStats> stats = pg::StreamWal(*repo, cluster, so, session_stop);
    session_stop.store(true);
    watcher.join();
    if (!stats.ok()) {
      latest.host = cluster.conn.host;
      latest.port = cluster.conn.port;
      return failed(stats.status());
    }
    total.segments_stored += stats->segments_stored;
    total.flushed = stats->flushed;
  }
  pg::StreamProgress stopped = latest;
  stopped.state = pg::StreamProgress::State::kStopped;
  publish(stopped);
  std::string mirrored;
  if (offsite) {
    offsite->Stop();
    mirrored = ", " + std::to_string(offsite->stored()) + " in the offsite repository";
  }
  std::fprintf(stderr, "wal stream: stopped; %lu segment(s) stored%s, flushed to %s\n",
               static_cast<unsigned long>(total.segments_stored), mirrored.c_str(), pg::FormatLsn(total.flushed).c_str());
  return Status::Ok();
}

Status Get(Context& ctx, const Options& opt) {
  if (!opt.socket.empty()) {
    std::string why;
    pg::PrefetchReply reply = pg::AskPrefetchServer(opt.socket, opt.name, opt.dest, &why);
    if (reply == pg::PrefetchReply::kStored) return Status::Ok();
    if (reply == pg::PrefetchReply::kMissing) return Status::NotFound(why);
    if (reply == pg::PrefetchReply::kError) {
      return Status::IO("the restore's WAL server could not fetch '" + opt.name + "': " + why);
    }
    // No server (the restoring process is gone): fetch it from the repository ourselves.
  }
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepositoryForReading(/*load_index=*/false));
  LB_ASSIGN_OR_RETURN(Bytes data, pg::FetchAlongTimeline(*repo, opt.name, opt.timeline));
  return WriteFileDurable(opt.dest, data, 0600);
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
  get->add_option("--timeline", opt->timeline,
                  "the timeline recovery follows: no WAL past the points where its history forked");
  get->add_option("--socket", opt->socket,
                  "ask the restore's prefetch server on this Unix socket first (restores set it)");
  get->add_option("name", opt->name, "WAL file name")->required();
  get->add_option("dest", opt->dest, "where to write it")->required();
  get->callback([ctx, opt] { ctx->run = [ctx, opt] { return Get(*ctx, *opt); }; });
  CLI::App* stream = wal->add_subcommand("stream", "receive WAL continuously over the replication protocol (until SIGTERM)");
  stream->add_option("--slot", opt->slot, "physical replication slot (created when missing)");
  stream->add_flag("--synchronous", opt->synchronous,
                   "acknowledge WAL only once stored (list 'lifeboat' in synchronous_standby_names)");
  stream->add_option("--interval", opt->interval, "seconds between uploads of the partial segment (default: half the RPO objective, at most 1)");
  stream->callback([ctx, opt] { ctx->run = [ctx, opt] { return Stream(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
