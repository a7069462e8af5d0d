#include "repository/check.h"

#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "repository/lock.h"

namespace lifeboat {

namespace {

struct PackState {
  std::vector<PackEntry> entries;  // from the index files
  uint64_t actual_size = 0;
  bool present = false;
};

}  // namespace

Result<CheckReport> CheckRepository(Repository& repo, bool read_data, Progress* progress) {
  CheckReport report;
  Backend& backend = repo.backend();

  // Key files: each must match its name and decode.
  LB_ASSIGN_OR_RETURN(std::vector<ObjectInfo> keys, backend.List("keys/"));
  for (const ObjectInfo& k : keys) {
    ++report.key_files;
    LB_ASSIGN_OR_RETURN(Bytes b, backend.Get(k.key));
    Id name;
    if (!Repository::IdFromKey(k.key, &name) || Sha256(b) != name) {
      report.errors.push_back({k.key, "content does not match its name", {}});
    } else if (Result<KeyFile> kf = DecodeKeyFile(b); !kf.ok()) {
      report.errors.push_back({k.key, kf.status().message(), {}});
    }
  }

  // Locks: each must be readable.
  Result<std::vector<std::pair<std::string, LockInfo>>> locks = RepositoryLock::List(&repo, false);
  if (!locks.ok()) report.errors.push_back({"locks/", locks.status().message(), {}});

  // Index files: re-read them all (Open skipped the damaged ones).
  std::map<Id, PackState> packs;
  LB_ASSIGN_OR_RETURN(std::vector<ObjectInfo> index_files, backend.List("index/"));
  for (const ObjectInfo& f : index_files) {
    ++report.index_files;
    Result<Bytes> plain = repo.GetSealed(f.key);
    Result<std::vector<IndexedPack>> decoded =
        plain.ok() ? DecodeIndexFile(*plain) : Result<std::vector<IndexedPack>>(plain.status());
    if (!decoded.ok()) {
      report.errors.push_back({f.key, decoded.status().message(), {}});
      continue;
    }
    for (IndexedPack& p : *decoded) {
      PackState& st = packs[p.pack];
      if (st.entries.empty()) st.entries = std::move(p.entries);
    }
  }

  // Packs on storage against packs in the index.
  LB_ASSIGN_OR_RETURN(std::vector<ObjectInfo> stored, backend.List("data/"));
  size_t unindexed = 0;
  uint64_t unindexed_bytes = 0;
  for (const ObjectInfo& o : stored) {
    Id id;
    if (!Repository::IdFromKey(o.key, &id)) continue;
    auto it = packs.find(id);
    if (it == packs.end()) {
      ++unindexed;
      unindexed_bytes += o.size;
      continue;
    }
    it->second.present = true;
    it->second.actual_size = o.size;
  }
  if (unindexed > 0) {
    report.notes.push_back(std::to_string(unindexed) + " pack(s) (" + FormatBytes(unindexed_bytes) +
                           ") are not in any index, left by an interrupted operation; "
                           "'lifeboat prune' removes them");
  }

  std::set<Id> damaged_packs;             // pack id
  std::unordered_map<Id, std::string, IdHash> damaged_blobs;  // blob -> object naming the damage
  for (auto& [pack_id, st] : packs) {
    ++report.packs;
    std::string key = Repository::PackKey(pack_id);
    uint64_t needed = 0;
    for (const PackEntry& e : st.entries) {
      needed = std::max<uint64_t>(needed, uint64_t{e.offset} + e.stored_length);
    }
    report.blobs += st.entries.size();
    if (!st.present) {
      report.errors.push_back({key, "pack is missing", {}});
      damaged_packs.insert(pack_id);
      continue;
    }
    if (st.actual_size < needed) {
      report.errors.push_back({key, "pack is truncated (" + std::to_string(st.actual_size) +
                                        " bytes, the index needs " + std::to_string(needed) + ")",
                               {}});
      damaged_packs.insert(pack_id);
      continue;
    }
    if (!read_data) continue;

    Result<Bytes> bytes = backend.Get(key);
    if (!bytes.ok()) {
      report.errors.push_back({key, bytes.status().message(), {}});
      damaged_packs.insert(pack_id);
      continue;
    }
    report.bytes_read += bytes->size();
    if (progress) progress->Add(bytes->size());
    bool hash_ok = Sha256(*bytes) == pack_id;
    size_t bad_blobs = 0;
    for (const PackEntry& e : st.entries) {
      Result<Bytes> blob = repo.ReadBlobAt({pack_id, e});
      if (!blob.ok()) {
        damaged_blobs[e.id] = key;
        ++bad_blobs;
      }
    }
    if (!hash_ok || bad_blobs > 0) {
      std::string what = "content does not match its name";
      if (bad_blobs > 0) what += " (" + std::to_string(bad_blobs) + " damaged blob(s))";
      else what += " (damage outside the blobs: header or trailer)";
      report.errors.push_back({key, what, {}});
    }
  }

  // Snapshots: decode each and resolve every reference.
  LB_ASSIGN_OR_RETURN(std::vector<Id> snapshot_ids, repo.ListSnapshotIds());
  std::map<std::string, std::set<std::string>> broken_by;  // object -> snapshots
  std::unordered_map<Id, Id, IdHash> blob_pack;
  for (const auto& [pack_id, st] : packs) {
    for (const PackEntry& e : st.entries) blob_pack.try_emplace(e.id, pack_id);
  }
  for (const Id& sid : snapshot_ids) {
    ++report.snapshots;
    Result<Snapshot> s = repo.LoadSnapshot(sid);
    if (!s.ok()) {
      report.errors.push_back({Repository::SnapshotKey(sid), s.status().message(), {sid.Short()}});
      continue;
    }
    for (const FileEntry& fe : s->entries) {
      for (const Id& c : fe.chunks) {
        auto bp = blob_pack.find(c);
        if (bp == blob_pack.end()) {
          broken_by["blob " + c.Hex()].insert(sid.Short());
          continue;
        }
        if (damaged_packs.count(bp->second)) {
          broken_by[Repository::PackKey(bp->second)].insert(sid.Short());
        }
        auto db = damaged_blobs.find(c);
        if (db != damaged_blobs.end()) broken_by[db->second].insert(sid.Short());
      }
    }
  }
  for (CheckProblem& p : report.errors) {
    auto it = broken_by.find(p.object);
    if (it != broken_by.end()) {
      p.snapshots.assign(it->second.begin(), it->second.end());
      broken_by.erase(it);
    }
  }
  // Blobs no index names: one finding, whatever their number.
  std::set<std::string> unindexed_users;
  size_t unindexed_blobs = 0;
  for (auto& [object, snaps] : broken_by) {
    if (object.rfind("blob ", 0) != 0) continue;
    ++unindexed_blobs;
    unindexed_users.insert(snaps.begin(), snaps.end());
  }
  if (unindexed_blobs > 0) {
    report.errors.push_back({"index", std::to_string(unindexed_blobs) +
                                          " referenced blob(s) are missing from every index",
                             std::vector<std::string>(unindexed_users.begin(),
                                                      unindexed_users.end())});
  }
  return report;
}

}  // namespace lifeboat
