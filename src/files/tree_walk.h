// Walks a directory tree into manifest entries (without chunk lists), in pre-order with names
// sorted, so equal trees give equal manifests.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "repository/snapshot.h"

namespace lifeboat {

// The first entry is the root itself, with path ".". Entries that vanish while walking are
// skipped. Sockets, FIFOs and devices are skipped (they hold no data to restore).
Result<std::vector<FileEntry>> WalkTree(const std::string& root);

}  // namespace lifeboat
