// Secrets (the runbook's Secrets Manager): named sets of KEY=VALUE with numbered versions and
// the labels `current` and `previous`. Each secret is one sealed document (AES-256-GCM under
// the repository's key) kept in <state>/secrets/<name>.sealed (mode 0600) and mirrored to the
// repository as named/secrets/<name>, so a rebuild on a new machine has every version.
//
// Thread safety: none; across processes, one writer at a time through a lock file per secret.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "repository/repository.h"

namespace lifeboat::platform {

using SecretValues = std::map<std::string, std::string>;

struct SecretVersion {
  int version = 0;
  std::string created_at;
  std::string created_by;  // user@host
  std::string reason;      // "set", "cutover to restore-...", "revert", ...
  SecretValues values;
};

struct Secret {
  std::string name;
  int current = 0;   // version numbers; 0 = none
  int previous = 0;
  std::vector<SecretVersion> versions;  // oldest first
  const SecretVersion* Find(int version) const;
  std::vector<std::string> Labels(int version) const;  // "current", "previous"
};

// The metadata of a secret (never its values): name, versions, labels, keys.
nlohmann::json SecretSummaryJson(const Secret& s, int version);

class SecretStore {
 public:
  // `repo` must outlive the store.
  SecretStore(std::string state_dir, Repository* repo)
      : dir_(std::move(state_dir) + "/secrets"), repo_(repo) {}

  // Code::kNotFound when neither the state directory nor the repository has it.
  Result<Secret> Get(const std::string& name);
  Result<std::vector<std::string>> List();
  // Adds a version: the current values with `changes` applied (all of `changes` alone when
  // `replace`), labels it current and the former current previous. Returns the new version.
  Result<int> Set(const std::string& name, const SecretValues& changes, bool replace,
                  const std::string& reason);
  // Moves `current` to an existing version (the former current becomes previous): a revert.
  Status Promote(const std::string& name, int version);
  // Whether <state>/secrets/<name>.sealed exists (the repository may hold it alone).
  bool HasLocalCopy(const std::string& name) const;
  // Writes the local copy from the newest of the two (Scenario 4: a removed secret file).
  // Returns the current version.
  Result<int> RestoreLocalCopy(const std::string& name);

 private:
  Result<std::optional<Secret>> ReadLocal(const std::string& name);
  Status Save(const Secret& s);
  std::string PathOf(const std::string& name) const { return dir_ + "/" + name + ".sealed"; }
  std::string dir_;
  Repository* repo_;
};

// Names are 1-64 of [A-Za-z0-9_.-]; keys are environment variable names.
Status CheckSecretName(const std::string& name);
Status CheckSecretKey(const std::string& key);

}  // namespace lifeboat::platform
