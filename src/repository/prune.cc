#include "repository/prune.h"

#include <map>
#include <unordered_set>

#include "repository/blob_writer.h"

namespace lifeboat {

Result<PruneReport> Prune(Repository& repo, const PruneOptions& options) {
  PruneReport report;
  Backend& backend = repo.backend();

  // Everything referenced. An unreadable manifest stops prune: deleting on a partial picture
  // could destroy a snapshot's data.
  LB_ASSIGN_OR_RETURN(auto snapshots, repo.LoadAllSnapshots());
  report.snapshots = snapshots.size();
  std::unordered_set<Id, IdHash> used;
  for (const auto& [id, s] : snapshots) {
    for (const FileEntry& e : s.entries) used.insert(e.chunks.begin(), e.chunks.end());
  }

  // The packs every index file names; a damaged index file stops prune too.
  LB_ASSIGN_OR_RETURN(std::vector<ObjectInfo> index_files, backend.List("index/"));
  std::map<Id, std::vector<PackEntry>> indexed;
  for (const ObjectInfo& f : index_files) {
    Result<Bytes> plain = repo.GetSealed(f.key);
    Result<std::vector<IndexedPack>> decoded =
        plain.ok() ? DecodeIndexFile(*plain) : Result<std::vector<IndexedPack>>(plain.status());
    if (!decoded.ok()) {
      return decoded.status().WithHint("run 'lifeboat repo check' and repair the repository first");
    }
    for (IndexedPack& p : *decoded) indexed.try_emplace(p.pack, std::move(p.entries));
  }

  LB_ASSIGN_OR_RETURN(std::vector<ObjectInfo> stored, backend.List("data/"));
  std::map<Id, uint64_t> pack_size;
  std::vector<std::string> to_delete;
  for (const ObjectInfo& o : stored) {
    Id id;
    if (!Repository::IdFromKey(o.key, &id)) continue;
    pack_size[id] = o.size;
    if (!indexed.count(id)) {
      to_delete.push_back(o.key);
      ++report.packs_deleted;
      report.bytes_deleted += o.size;
    }
  }
  for (const auto& [pack, entries] : indexed) {
    if (!pack_size.count(pack)) {
      return Status::Corruption("pack '" + Repository::PackKey(pack) + "' is in the index but missing",
                                "run 'lifeboat repo check' to see which snapshots it breaks");
    }
  }

  // Fully used packs are kept first, so blobs stored twice are kept once where it is cheapest.
  std::unordered_set<Id, IdHash> covered;
  std::vector<IndexedPack> kept;
  std::vector<Id> partial;
  for (const auto& [pack, entries] : indexed) {
    bool all_used = true;
    for (const PackEntry& e : entries) all_used = all_used && used.count(e.id);
    if (all_used) {
      kept.push_back({pack, entries});
      for (const PackEntry& e : entries) covered.insert(e.id);
    } else {
      partial.push_back(pack);
    }
  }
  std::vector<BlobLocation> to_copy;
  std::vector<Id> repacked;
  for (const Id& pack : partial) {
    const std::vector<PackEntry>& entries = indexed[pack];
    uint64_t live = 0, total = 0;
    std::vector<PackEntry> needed;
    for (const PackEntry& e : entries) {
      total += e.stored_length;
      if (used.count(e.id) && !covered.count(e.id)) {
        live += e.stored_length;
        needed.push_back(e);
      }
    }
    std::string key = Repository::PackKey(pack);
    if (needed.empty()) {
      to_delete.push_back(key);
      ++report.packs_deleted;
      report.bytes_deleted += pack_size[pack];
    } else if (static_cast<double>(total - live) <= options.repack_threshold * static_cast<double>(total)) {
      kept.push_back({pack, entries});
      for (const PackEntry& e : entries) covered.insert(e.id);
    } else {
      for (const PackEntry& e : needed) {
        to_copy.push_back({pack, e});
        covered.insert(e.id);
      }
      to_delete.push_back(key);
      repacked.push_back(pack);
      ++report.packs_repacked;
      report.bytes_deleted += pack_size[pack];
    }
  }
  report.packs_kept = kept.size();
  report.index_files_replaced = index_files.size();
  if (options.dry_run) return report;

  // 1. Copy live blobs out of packs about to go. The writer must not deduplicate against the
  //    index, which still names the old packs.
  if (!to_copy.empty()) {
    BlobWriter writer(&repo, /*dedup_against_index=*/false);
    for (const BlobLocation& loc : to_copy) {
      LB_ASSIGN_OR_RETURN(Bytes blob, repo.ReadBlobAt(loc));
      LB_ASSIGN_OR_RETURN(Id copied, writer.Add(blob));
      (void)copied;
    }
    LB_RETURN_IF_ERROR(writer.Flush());
    report.bytes_written = writer.stored_bytes();
  }
  // 2. One index naming every kept pack (the writer indexed the packs it wrote).
  if (!kept.empty()) {
    LB_ASSIGN_OR_RETURN(Id index_id, repo.PutSealed("index", EncodeIndexFile(kept)));
    (void)index_id;
  }
  // 3. The old index files: every pack they name is now named again, or about to go.
  std::vector<std::string> old_indexes;
  for (const ObjectInfo& f : index_files) old_indexes.push_back(f.key);
  LB_RETURN_IF_ERROR(backend.DeleteMany(old_indexes));
  // 4. The packs nothing references.
  LB_RETURN_IF_ERROR(backend.DeleteMany(to_delete));
  // 5. What interrupted writers left (no other writer runs: the caller holds an exclusive lock).
  LB_ASSIGN_OR_RETURN(report.incomplete_removed,
                      backend.RemoveIncomplete(options.incomplete_min_age_seconds));
  return report;
}

}  // namespace lifeboat
