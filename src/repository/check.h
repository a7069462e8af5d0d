// `repo check`: structure, index and references; with read_data, every blob is read,
// authenticated, decompressed and re-hashed. Damage is reported per object together with the
// snapshots it breaks, so the user knows which snapshots are still good.
#pragma once

#include <string>
#include <vector>

#include "base/progress.h"
#include "repository/repository.h"

namespace lifeboat {

struct CheckProblem {
  std::string object;                  // e.g. "data/ab/ab12...", "snapshots/3f..."
  std::string problem;                 // what is wrong with it
  std::vector<std::string> snapshots;  // short ids of the snapshots it breaks
};

struct CheckReport {
  size_t key_files = 0;
  size_t index_files = 0;
  size_t packs = 0;
  size_t blobs = 0;
  size_t snapshots = 0;
  uint64_t bytes_read = 0;
  std::vector<CheckProblem> errors;  // damage: exit 3
  std::vector<std::string> notes;    // harmless findings, e.g. data left by an interrupted run
  bool ok() const { return errors.empty(); }
};

// `progress` may be null. The caller holds a shared lock.
Result<CheckReport> CheckRepository(Repository& repo, bool read_data, Progress* progress);

}  // namespace lifeboat
