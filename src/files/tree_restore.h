// Restores a files snapshot into a directory that is missing or empty.
//
// Every file is written under a temporary name beside its final one, each chunk authenticated
// and checked against its id, and only then renamed into place; a damaged chunk stops the
// restore and removes every temporary file, so no damaged file ever appears under its final
// name. Modes, owners (when run as root) and modification times are set after the content.
// Before returning success, one syncfs() makes the whole tree durable.
#pragma once

#include <string>

#include "base/progress.h"
#include "repository/repository.h"

namespace lifeboat {

struct TreeRestoreResult {
  uint64_t files = 0;
  uint64_t directories = 0;
  uint64_t symlinks = 0;
  uint64_t bytes = 0;
};

// Returns Code::kUsage when `target` exists and is not empty, Code::kCorruption when stored
// data is damaged. `progress` may be null. Takes no lock: readers never block.
Result<TreeRestoreResult> RestoreTree(Repository& repo, const Snapshot& snapshot,
                                      const std::string& target, Progress* progress,
                                      unsigned workers = 0);

}  // namespace lifeboat
