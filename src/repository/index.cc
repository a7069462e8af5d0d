#include "repository/index.h"

#include <cstring>
#include <map>

namespace lifeboat {

namespace {
constexpr char kIndexMagic[4] = {'L', 'B', 'I', 'X'};
constexpr uint32_t kIndexVersion = 1;
constexpr size_t kEntryBytes = 32 + 1 + 1 + 4 + 4 + 4;
}  // namespace

Bytes EncodeIndexFile(const std::vector<IndexedPack>& packs) {
  Bytes out;
  ByteWriter w(&out);
  w.Raw(AsBytes(std::string_view(kIndexMagic, 4)));
  w.U32(kIndexVersion);
  w.U32(static_cast<uint32_t>(packs.size()));
  for (const IndexedPack& p : packs) {
    w.Raw(p.pack.bytes);
    w.U32(static_cast<uint32_t>(p.entries.size()));
    for (const PackEntry& e : p.entries) {
      w.Raw(e.id.bytes);
      w.U8(static_cast<uint8_t>(e.type));
      w.U8(e.flags);
      w.U32(e.offset);
      w.U32(e.stored_length);
      w.U32(e.raw_length);
    }
  }
  return out;
}

Result<std::vector<IndexedPack>> DecodeIndexFile(ByteSpan plain) {
  ByteReader r(plain);
  ByteSpan magic = r.Raw(4);
  if (!r.ok() || std::memcmp(magic.data(), kIndexMagic, 4) != 0) {
    return Status::Corruption("not an index file (bad magic)");
  }
  uint32_t version = r.U32();
  if (version != kIndexVersion) {
    return Status::Corruption("index file version " + std::to_string(version) + " is unknown");
  }
  uint32_t pack_count = r.U32();
  if (!r.ok() || pack_count > r.remaining() / 36) {
    return Status::Corruption("index file is truncated");
  }
  std::vector<IndexedPack> packs;
  packs.reserve(pack_count);
  for (uint32_t i = 0; i < pack_count; ++i) {
    IndexedPack p;
    ByteSpan id = r.Raw(32);
    uint32_t n = r.U32();
    if (!r.ok() || n > r.remaining() / kEntryBytes) {
      return Status::Corruption("index file is truncated");
    }
    std::memcpy(p.pack.bytes.data(), id.data(), 32);
    p.entries.resize(n);
    for (PackEntry& e : p.entries) {
      std::memcpy(e.id.bytes.data(), r.Raw(32).data(), 32);
      e.type = static_cast<BlobType>(r.U8());
      e.flags = r.U8();
      e.offset = r.U32();
      e.stored_length = r.U32();
      e.raw_length = r.U32();
      if (e.type != BlobType::kData) return Status::Corruption("index file has an invalid entry");
    }
    packs.push_back(std::move(p));
  }
  if (!r.ok() || r.remaining() != 0) {
    return Status::Corruption("index file has trailing or missing bytes");
  }
  return packs;
}

void Index::AddPack(const IndexedPack& pack, bool replace) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = pack_pos_.try_emplace(pack.pack, static_cast<uint32_t>(pack_ids_.size()));
  if (inserted) pack_ids_.push_back(pack.pack);
  for (const PackEntry& e : pack.entries) {
    if (replace) {
      blobs_.insert_or_assign(e.id, Slot{it->second, e});
    } else {
      blobs_.try_emplace(e.id, Slot{it->second, e});
    }
  }
}

std::optional<BlobLocation> Index::Find(const Id& blob) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = blobs_.find(blob);
  if (it == blobs_.end()) return std::nullopt;
  return BlobLocation{pack_ids_[it->second.pack], it->second.entry};
}

bool Index::Contains(const Id& blob) const {
  std::lock_guard<std::mutex> lock(mu_);
  return blobs_.count(blob) != 0;
}

size_t Index::blob_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return blobs_.size();
}

std::vector<IndexedPack> Index::Packs() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<IndexedPack> out(pack_ids_.size());
  for (size_t i = 0; i < pack_ids_.size(); ++i) out[i].pack = pack_ids_[i];
  for (const auto& [id, slot] : blobs_) out[slot.pack].entries.push_back(slot.entry);
  return out;
}

}  // namespace lifeboat
