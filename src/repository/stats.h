// `repo stats`: how much the repository holds and how well deduplication and compression work.
#pragma once

#include "repository/repository.h"

namespace lifeboat {

struct RepositoryStats {
  size_t snapshots = 0;
  uint64_t logical_bytes = 0;      // content of all snapshots added up
  size_t blobs = 0;                // unique blobs in the index
  uint64_t unique_bytes = 0;       // their plaintext size
  uint64_t blob_stored_bytes = 0;  // their size as stored (compressed, sealed)
  size_t packs = 0;
  uint64_t repository_bytes = 0;   // every object in the repository
  double dedup_ratio() const {
    return unique_bytes ? static_cast<double>(logical_bytes) / static_cast<double>(unique_bytes) : 0;
  }
  double compression_ratio() const {
    return blob_stored_bytes
               ? static_cast<double>(unique_bytes) / static_cast<double>(blob_stored_bytes)
               : 0;
  }
};

Result<RepositoryStats> ComputeStats(Repository& repo);

}  // namespace lifeboat
