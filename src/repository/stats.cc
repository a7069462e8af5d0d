#include "repository/stats.h"

namespace lifeboat {

Result<RepositoryStats> ComputeStats(Repository& repo) {
  RepositoryStats st;
  LB_ASSIGN_OR_RETURN(auto snapshots, repo.LoadAllSnapshots());
  st.snapshots = snapshots.size();
  for (const auto& [id, s] : snapshots) st.logical_bytes += s.logical_bytes;
  for (const IndexedPack& p : repo.index().Packs()) {
    ++st.packs;
    for (const PackEntry& e : p.entries) {
      ++st.blobs;
      st.unique_bytes += e.raw_length;
      st.blob_stored_bytes += e.stored_length;
    }
  }
  LB_ASSIGN_OR_RETURN(std::vector<ObjectInfo> all, repo.backend().List(""));
  for (const ObjectInfo& o : all) st.repository_bytes += o.size;
  return st;
}

}  // namespace lifeboat
