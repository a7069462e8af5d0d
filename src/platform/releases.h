// Releases and revisions (the runbook's ECR images and ECS task definition revisions).
// A release is an immutable directory (executable, assets, migrations/, metadata) stored in the
// repository as the files snapshot "release/<service>/<tag>"; a tag is never reused. It is
// installed, when a replica needs it, under <state>/releases/<service>/<tag> (restored beside its
// final name and renamed when complete). A revision is one deployment of a release: the
// service's revisions are kept in <state>/services/<service>/revisions.json and mirrored to the
// repository as named/revisions/<service>.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "base/time.h"
#include "config/config.h"
#include "repository/repository.h"

namespace lifeboat::platform {

struct ReleaseInfo {
  std::string tag;
  std::string snapshot;
  std::string created_at;
  uint64_t bytes = 0;
  std::string deployed_at;  // the newest revision that deployed it ("" never)
};

enum class RevisionState { kActive, kReplaced, kFailed, kRolledBack };
const char* RevisionStateName(RevisionState s);  // "active", "replaced", "failed", "rolled-back"

// A named PostgreSQL restore point a deploy took before its migrations.
struct RestorePoint {
  std::string name;
  std::string lsn;
  std::string time;  // ISO 8601 UTC
};

struct Revision {
  int number = 0;
  std::string tag;
  std::string created_at;
  std::string created_by;
  RevisionState state = RevisionState::kActive;
  std::string reason;  // why it failed or was rolled back
  std::optional<RestorePoint> restore_point;  // none when it had no migration
  std::vector<std::string> migrations;  // applied by this revision, in order
};

nlohmann::json RevisionToJson(const Revision& r);
nlohmann::json RestorePointToJson(const RestorePoint& p);
// A bad key is Code::kIO naming `where` and the key.
Result<RestorePoint> RestorePointFromJson(const nlohmann::json& j, const std::string& where);

class Releases {
 public:
  // `repo` must outlive the object.
  Releases(const Config& cfg, Repository* repo) : cfg_(cfg), repo_(repo) {}

  // Stores `path` as release `tag` of `service`. Code::kAlreadyExists when the tag exists.
  Result<std::string> Add(const std::string& service, const std::string& tag, const std::string& path);
  // Newest first.
  Result<std::vector<ReleaseInfo>> List(const std::string& service);
  // The installed directory of the release, restoring it from the repository if needed.
  Result<std::string> Install(const std::string& service, const std::string& tag);

  // Retention: the releases to remove, with why. Kept: the newest `keep`, any deployed at or
  // after `window_start`, and the one serving now.
  Result<std::vector<std::pair<std::string, std::string>>> Expired(const std::string& service, int keep,
                                                                    UnixNanos window_start);

  Result<std::vector<Revision>> Revisions(const std::string& service) const;
  Status SaveRevisions(const std::string& service, const std::vector<Revision>& revisions);
  // The revision serving now (the newest "active" one), if any.
  Result<std::optional<Revision>> Active(const std::string& service) const;

 private:
  std::string RevisionsFile(const std::string& service) const {
    return cfg_.state.dir + "/services/" + service + "/revisions.json";
  }
  const Config& cfg_;
  Repository* repo_;
};

}  // namespace lifeboat::platform
