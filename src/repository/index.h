// The index: where every blob lives. Index files (index/<sha256>) are sealed, zstd-compressed
// lists of packs and their entries; the in-memory Index merges all of them.
//
//   "LBIX" | u32 version | u32 pack_count |
//   per pack: id[32] | u32 entry_count | per entry: id[32] u8 type u8 flags u32 offset
//                                                    u32 stored_length u32 raw_length
#pragma once

#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "repository/pack.h"

namespace lifeboat {

struct IndexedPack {
  Id pack;
  std::vector<PackEntry> entries;
};

struct BlobLocation {
  Id pack;
  PackEntry entry;
};

Bytes EncodeIndexFile(const std::vector<IndexedPack>& packs);
// Untrusted input: returns Code::kCorruption for anything malformed.
Result<std::vector<IndexedPack>> DecodeIndexFile(ByteSpan plain);

// Thread safety: all methods may be called concurrently.
class Index {
 public:
  // With `replace`, the pack's entries take the place of blobs already known elsewhere (an
  // index file written by a prune that moved them).
  void AddPack(const IndexedPack& pack, bool replace = false);
  std::optional<BlobLocation> Find(const Id& blob) const;
  bool Contains(const Id& blob) const;
  size_t blob_count() const;
  // Every pack the index knows, with its entries.
  std::vector<IndexedPack> Packs() const;

 private:
  struct Slot {
    uint32_t pack;  // position in packs_
    PackEntry entry;
  };
  mutable std::mutex mu_;
  std::vector<Id> pack_ids_;
  std::unordered_map<Id, uint32_t, IdHash> pack_pos_;
  std::unordered_map<Id, Slot, IdHash> blobs_;
};

}  // namespace lifeboat
