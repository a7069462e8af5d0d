#include "platform/releases.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "base/fs.h"
#include "base/json_fields.h"
#include "base/process.h"
#include "base/time.h"
#include "files/tree_backup.h"
#include "files/tree_restore.h"
#include "repository/lock.h"

namespace lifeboat::platform {

namespace {

std::string SnapshotName(const std::string& service, const std::string& tag) {
  return "release/" + service + "/" + tag;
}

}  // namespace

const char* RevisionStateName(RevisionState s) {
  switch (s) {
    case RevisionState::kActive: return "active";
    case RevisionState::kReplaced: return "replaced";
    case RevisionState::kFailed: return "failed";
    case RevisionState::kRolledBack: return "rolled-back";
  }
  return "active";
}

nlohmann::json RestorePointToJson(const RestorePoint& p) {
  return {{"name", p.name}, {"lsn", p.lsn}, {"time", p.time}};
}

nlohmann::json RevisionToJson(const Revision& r) {
  return {{"revision", r.number},
          {"tag", r.tag},
          {"created_at", r.created_at},
          {"created_by", r.created_by},
          {"state", RevisionStateName(r.state)},
          {"reason", r.reason},
          {"restore_point", r.restore_point ? RestorePointToJson(*r.restore_point) : nlohmann::json()},
          {"migrations", r.migrations}};
}

Result<RestorePoint> RestorePointFromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f(j, where, &Status::IO);
  LB_RETURN_IF_ERROR(f.IsObject());
  RestorePoint point;
  LB_RETURN_IF_ERROR(f.String("name", &point.name));
  LB_RETURN_IF_ERROR(f.String("lsn", &point.lsn));
  LB_RETURN_IF_ERROR(f.String("time", &point.time));
  return point;
}

namespace {

Result<Revision> RevisionFromJson(const nlohmann::json& j, const std::string& where) {
  constexpr RevisionState kStates[] = {RevisionState::kActive, RevisionState::kReplaced, RevisionState::kFailed,
                                       RevisionState::kRolledBack};
  JsonFields f(j, where, &Status::IO);
  LB_RETURN_IF_ERROR(f.IsObject());
  Revision rev;
  LB_RETURN_IF_ERROR(f.Int("revision", &rev.number));
  LB_RETURN_IF_ERROR(f.String("tag", &rev.tag));
  LB_RETURN_IF_ERROR(f.String("created_at", &rev.created_at));
  LB_RETURN_IF_ERROR(f.String("created_by", &rev.created_by));
  LB_RETURN_IF_ERROR(f.Enum("state", kStates, &RevisionStateName, "a revision state", &rev.state));
  LB_RETURN_IF_ERROR(f.String("reason", &rev.reason));
  LB_RETURN_IF_ERROR(f.Strings("migrations", &rev.migrations));
  if (f.Has("restore_point") && !j["restore_point"].is_null()) {
    LB_ASSIGN_OR_RETURN(rev.restore_point, RestorePointFromJson(j["restore_point"], where + ", restore_point"));
  }
  return rev;
}

}  // namespace

Result<std::string> Releases::Add(const std::string& service, const std::string& tag, const std::string& path) {
  if (cfg_.FindService(service) == nullptr) {
    return Status::NotFound("no service named '" + service + "'", "add [service." + service + "] to the config");
  }
  bool ok = !tag.empty() && tag.size() <= 64;
  for (char c : tag) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_');
  if (!ok) return Status::Usage("invalid tag '" + tag + "'", "tags are 1-64 letters, digits, '.', '-' or '_'");
  LB_ASSIGN_OR_RETURN(std::vector<ReleaseInfo> existing, List(service));
  for (const auto& r : existing) {
    if (r.tag == tag) {
      return Status::AlreadyExists("release " + service + ":" + tag + " exists (snapshot " +
                                       r.snapshot.substr(0, 12) + "); a tag is never reused",
                                   "give the new build a new tag");
    }
  }
  // A release must run: its directory holds at least one executable file.
  LB_ASSIGN_OR_RETURN(ProcessResult exe, RunProcess({"/usr/bin/find", path, "-type", "f", "-perm", "-u+x",
                                                     "-print", "-quit"}));
  if (exe.exit_code != 0) return Status::Usage("cannot read release directory '" + path + "': " + LastLines(exe.err, 1));
  if (exe.out.empty()) {
    return Status::Usage("release directory '" + path + "' holds no executable file",
                         "a release is the service's program (e.g. bin/server), its assets and migrations/");
  }
  LB_ASSIGN_OR_RETURN(auto lock, RepositoryLock::Acquire(repo_, LockKind::kShared, "release add"));
  TreeBackupOptions options;
  options.name = SnapshotName(service, tag);
  Result<TreeBackupResult> r = BackupTree(*repo_, path, options, nullptr);
  if (!r.ok()) return r.status().Context("release " + service + ":" + tag + " from '" + path + "' failed");
  return r->id.Hex();
}

Result<std::vector<ReleaseInfo>> Releases::List(const std::string& service) {
  LB_ASSIGN_OR_RETURN(auto all, repo_->LoadAllSnapshots());
  LB_ASSIGN_OR_RETURN(std::vector<Revision> revisions, Revisions(service));
  std::string prefix = SnapshotName(service, "");
  std::vector<ReleaseInfo> out;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const auto& [id, snap] = *it;
    if (snap.kind != "files" || snap.name.rfind(prefix, 0) != 0) continue;
    ReleaseInfo info;
    info.tag = snap.name.substr(prefix.size());
    info.snapshot = id.Hex();
    info.created_at = FormatIso8601(snap.started_at);
    info.bytes = snap.logical_bytes;
    for (const auto& rev : revisions) {
      if (rev.tag == info.tag) info.deployed_at = rev.created_at;
    }
    out.push_back(info);
  }
  return out;
}

Result<std::string> Releases::Install(const std::string& service, const std::string& tag) {
  std::string dir = cfg_.state.dir + "/releases/" + service + "/" + tag;
  if (access(dir.c_str(), F_OK) == 0) return dir;
  LB_ASSIGN_OR_RETURN(std::vector<ReleaseInfo> all, List(service));
  for (const auto& r : all) {
    if (r.tag != tag) continue;
    LB_ASSIGN_OR_RETURN(Id id, repo_->ResolveSnapshot(r.snapshot));
    LB_ASSIGN_OR_RETURN(Snapshot snap, repo_->LoadSnapshot(id));
    std::string partial = dir + ".partial";
    LB_RETURN_IF_ERROR(RunProcess({"/bin/rm", "-rf", partial}).status());
    LB_RETURN_IF_ERROR(MakeDirs(Dirname(dir), 0755));
    LB_RETURN_IF_ERROR(RestoreTree(*repo_, snap, partial, nullptr).status());
    if (std::rename(partial.c_str(), dir.c_str()) != 0) return ErrnoStatus("cannot install " + dir, errno);
    LB_RETURN_IF_ERROR(FsyncDir(Dirname(dir)));
    return dir;
  }
  // The closest tags by edit distance, for a typo.
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      }
      std::swap(prev, cur);
    }
    return prev[b.size()];
  };
  std::vector<std::pair<size_t, std::string>> ranked;
  for (const auto& r : all) ranked.emplace_back(distance(tag, r.tag), r.tag);
  std::sort(ranked.begin(), ranked.end());
  std::string closest;
  for (size_t i = 0; i < ranked.size() && i < 3; ++i) closest += (closest.empty() ? "" : ", ") + ranked[i].second;
  return Status::NotFound("release " + service + ":" + tag + " does not exist",
                          closest.empty() ? "store one with 'lifeboat release add " + service + " TAG PATH'"
                                          : "closest tags: " + closest);
}

Result<std::vector<std::pair<std::string, std::string>>> Releases::Expired(const std::string& service, int keep,
                                                                          UnixNanos window_start) {
  LB_ASSIGN_OR_RETURN(std::vector<ReleaseInfo> all, List(service));  // newest first
  LB_ASSIGN_OR_RETURN(std::optional<Revision> active, Active(service));
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < all.size(); ++i) {
    const ReleaseInfo& r = all[i];
    if (static_cast<int>(i) < keep || (active && active->tag == r.tag)) continue;
    if (!r.deployed_at.empty()) {
      Result<UnixNanos> deployed = ParseTimestamp(r.deployed_at);
      if (deployed.ok() && *deployed >= window_start) continue;
    }
    out.emplace_back(r.snapshot, "release " + service + ":" + r.tag + " is older than the newest " +
                                     std::to_string(keep) + " and was not deployed inside the window");
  }
  return out;
}

Result<std::vector<Revision>> Releases::Revisions(const std::string& service) const {
  std::vector<Revision> out;
  Result<Bytes> b = ReadFile(RevisionsFile(service));
  if (!b.ok() && b.status().code() == Code::kNotFound && repo_ != nullptr) {
    Result<Bytes> mirrored = repo_->GetNamed("revisions", service);
    if (mirrored.ok()) b = std::move(mirrored);
  }
  if (!b.ok()) {
    if (b.status().code() == Code::kNotFound) return out;
    return b.status();
  }
  std::string where = "revisions of '" + service + "'";
  auto j = nlohmann::json::parse(b->begin(), b->end(), nullptr, false);
  nlohmann::json list;
  LB_RETURN_IF_ERROR(JsonFields(j, where, &Status::IO).Array("revisions", &list));
  for (size_t i = 0; i < list.size(); ++i) {
    LB_ASSIGN_OR_RETURN(Revision rev, RevisionFromJson(list[i], where + ", revision " + std::to_string(i + 1)));
    out.push_back(std::move(rev));
  }
  return out;
}

Status Releases::SaveRevisions(const std::string& service, const std::vector<Revision>& revisions) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& r : revisions) arr.push_back(RevisionToJson(r));
  std::string text = nlohmann::json{{"service", service}, {"revisions", arr}}.dump(2) + "\n";
  ByteSpan bytes(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  LB_RETURN_IF_ERROR(MakeDirs(Dirname(RevisionsFile(service)), 0700));
  LB_RETURN_IF_ERROR(WriteFileDurable(RevisionsFile(service), bytes, 0600));
  if (repo_ != nullptr) LB_RETURN_IF_ERROR(repo_->PutNamed("revisions", service, bytes));
  return Status::Ok();
}

Result<std::optional<Revision>> Releases::Active(const std::string& service) const {
  LB_ASSIGN_OR_RETURN(std::vector<Revision> all, Revisions(service));
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (it->state == RevisionState::kActive) return std::optional<Revision>(*it);
  }
  return std::optional<Revision>();
}

}  // namespace lifeboat::platform
