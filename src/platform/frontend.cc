#include "platform/frontend.h"

#include <signal.h>
#include <unistd.h>

#include <thread>

#include <httplib.h>

#include "base/fs.h"
#include "base/process.h"
#include "base/time.h"
#include "files/tree_backup.h"
#include "files/tree_restore.h"
#include "repository/lock.h"

namespace lifeboat::platform {

namespace {
constexpr const char* kSnapshotName = "frontend";
}

ServiceConfig Frontend::AsService() const {
  ServiceConfig s;
  s.name = "frontend";
  s.command = {self_, "_static", "--dir", dir() + "/current", "--prefix", cfg_.frontend.path,
               "--port", "{port}"};
  s.replicas = 1;
  s.health_path = cfg_.frontend.path;
  s.routes = {cfg_.frontend.path};
  s.port_first = cfg_.frontend.port_first;
  s.port_last = cfg_.frontend.port_last;
  s.start_timeout_seconds = 10;
  return s;
}

std::string Frontend::Current() const {
  std::string target = RealPath(dir() + "/current");
  if (target == dir() + "/current") return "";
  return Basename(target);
}

Status Frontend::Install(Repository& repo, const Id& id, const Snapshot& snapshot) {
  std::string release = dir() + "/releases/" + id.Hex();
  Result<bool> empty = IsMissingOrEmptyDir(release);
  LB_RETURN_IF_ERROR(empty.status());
  if (*empty) {
    // Restored beside its final name, then renamed: a release directory is always complete.
    std::string partial = release + ".partial";
    LB_RETURN_IF_ERROR(RunProcess({"/bin/rm", "-rf", partial}).status());
    LB_RETURN_IF_ERROR(MakeDirs(dir() + "/releases", 0755));
    LB_RETURN_IF_ERROR(RestoreTree(repo, snapshot, partial, nullptr).status());
    rmdir(release.c_str());
    if (std::rename(partial.c_str(), release.c_str()) != 0) {
      return ErrnoStatus("cannot install front end release " + release, errno);
    }
    LB_RETURN_IF_ERROR(FsyncDir(dir() + "/releases"));
  }
  std::string link = dir() + "/current";
  std::string tmp = link + ".tmp";
  unlink(tmp.c_str());
  if (symlink(("releases/" + id.Hex()).c_str(), tmp.c_str()) != 0 ||
      std::rename(tmp.c_str(), link.c_str()) != 0) {
    return ErrnoStatus("cannot switch the front end to " + id.Hex(), errno);
  }
  return FsyncDir(dir());
}

Result<std::string> Frontend::Publish(Repository& repo) {
  if (!configured()) return Status::Config("no [frontend] in the config");
  LB_ASSIGN_OR_RETURN(auto lock, RepositoryLock::Acquire(&repo, LockKind::kShared, "frontend publish"));
  TreeBackupOptions options;
  options.name = kSnapshotName;
  Result<TreeBackupResult> r = BackupTree(repo, cfg_.frontend.dir, options, nullptr);
  if (!r.ok()) return r.status().Context("front end publish of '" + cfg_.frontend.dir + "' failed");
  LB_RETURN_IF_ERROR(Install(repo, r->id, r->snapshot));
  return r->id.Hex();
}

Status Frontend::Activate(Repository& repo, const std::string& snapshot_ref) {
  LB_ASSIGN_OR_RETURN(Id id, repo.ResolveSnapshot(snapshot_ref));
  LB_ASSIGN_OR_RETURN(Snapshot snap, repo.LoadSnapshot(id));
  if (snap.kind != "files" || snap.name != kSnapshotName) {
    return Status::Usage("snapshot " + id.Hex().substr(0, 12) + " is not a front end version",
                         "list them with 'lifeboat frontend versions'");
  }
  return Install(repo, id, snap);
}

Result<std::vector<FrontendVersion>> Frontend::Versions(Repository& repo) const {
  LB_ASSIGN_OR_RETURN(auto all, repo.LoadAllSnapshots());
  std::string current = Current();
  std::vector<FrontendVersion> out;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const auto& [id, snap] = *it;
    if (snap.kind != "files" || snap.name != kSnapshotName) continue;
    FrontendVersion v;
    v.snapshot = id.Hex();
    v.created_at = FormatIso8601(snap.started_at);
    v.bytes = snap.logical_bytes;
    for (const auto& e : snap.entries) v.files += e.type == EntryType::kFile ? 1 : 0;
    v.current = v.snapshot == current;
    out.push_back(v);
  }
  return out;
}

Status ServeStatic(const std::string& dir, const std::string& prefix, int port) {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  httplib::Server server;
  // The mount point is resolved per request, so a switched `current` symlink takes effect at once.
  if (!server.set_mount_point(prefix, dir)) {
    return Status::IO("front end directory '" + dir + "' does not exist",
                      "publish a version with 'lifeboat frontend publish'");
  }
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop, &sig);
    server.stop();
  });
  bool ok = server.listen("127.0.0.1", port);
  if (!ok) {
    kill(getpid(), SIGTERM);
    stopper.join();
    return Status::IO("front end server cannot listen on 127.0.0.1:" + std::to_string(port));
  }
  stopper.join();
  return Status::Ok();
}

}  // namespace lifeboat::platform
