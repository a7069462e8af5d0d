// Walks a directory tree into manifest entries (without chunk lists), in pre-order with names
// sorted, so equal trees give equal manifests.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "repository/snapshot.h"

namespace lifeboat {

enum class WalkDecision {
  kInclude,    // the entry and, for a directory, its contents
  kSkip,       // neither the entry nor its contents
  kEmptyDir,   // a directory without its contents (PostgreSQL's pg_wal, for example)
};
// Decides for each entry by its path relative to the walked root.
using WalkFilter = std::function<WalkDecision(const std::string& rel, EntryType type)>;

// Entries of the tree at `root`, each path prefixed with `prefix` + "/" (or not, when `prefix`
// is empty). The root itself comes first, with path `prefix` (or "." when empty). Entries that
// vanish while walking are skipped, as are sockets, FIFOs and devices.
Result<std::vector<FileEntry>> WalkTree(const std::string& root, const std::string& prefix = "",
                                        const WalkFilter& filter = nullptr);

}  // namespace lifeboat
