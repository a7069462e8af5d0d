// The front end (the runbook's S3 + CloudFront): static files published as a files snapshot
// named "frontend", installed under <state>/frontend/releases/<snapshot id> and served from the
// `current` symlink by a supervised static server behind the load balancer. Switching the symlink
// (temp + rename) changes the version atomically; an earlier snapshot can be brought back.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "repository/repository.h"

namespace lifeboat::platform {

struct FrontendVersion {
  std::string snapshot;  // full id
  std::string created_at;
  uint64_t bytes = 0;
  uint64_t files = 0;
  bool current = false;
};

class Frontend {
 public:
  // `self` is the lifeboat binary, which runs the static server (`lifeboat _static`).
  Frontend(const Config& cfg, std::string self) : cfg_(cfg), self_(std::move(self)) {}

  bool configured() const { return cfg_.frontend.present; }
  // The static server as a service: name "frontend", one replica, routed at [frontend] path.
  ServiceConfig AsService() const;
  // Snapshots [frontend] dir and makes it current. Returns the snapshot id.
  Result<std::string> Publish(Repository& repo);
  // Makes an earlier (or any) frontend snapshot current.
  Status Activate(Repository& repo, const std::string& snapshot_ref);
  // Every published version, newest first.
  Result<std::vector<FrontendVersion>> Versions(Repository& repo) const;
  // The snapshot id being served ("" none yet).
  std::string Current() const;

 private:
  Status Install(Repository& repo, const Id& id, const Snapshot& snapshot);
  std::string dir() const { return cfg_.state.dir + "/frontend"; }
  const Config& cfg_;
  std::string self_;
};

// `lifeboat _static`: serves `dir` under the URL prefix `prefix` on 127.0.0.1:port until
// SIGTERM. GET `prefix` itself answers with index.html.
Status ServeStatic(const std::string& dir, const std::string& prefix, int port);

}  // namespace lifeboat::platform
