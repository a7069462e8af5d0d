#include "repository/pack.h"

#include <cstring>
#include <stdexcept>

namespace lifeboat {

namespace {
constexpr char kPackMagic[4] = {'L', 'B', 'P', '1'};
constexpr size_t kEntrySize = 1 + 1 + 4 + 4 + 32;
constexpr size_t kTrailerSize = 8;
}  // namespace

void PackBuilder::Add(const Id& id, BlobType type, uint8_t flags, ByteSpan payload,
                      uint32_t raw_length) {
  size_t offset = data_.size();
  SealAppend(*key_, payload, &data_, (flags & kBlobIdBound) ? ByteSpan(id.bytes) : ByteSpan());
  if (data_.size() > UINT32_MAX) throw std::length_error("pack larger than 4 GiB");
  entries_.push_back({id, type, flags, static_cast<uint32_t>(offset),
                      static_cast<uint32_t>(data_.size() - offset), raw_length});
}

Bytes PackBuilder::Finish(std::vector<PackEntry>* entries) {
  Bytes header;
  ByteWriter w(&header);
  for (const PackEntry& e : entries_) {
    w.U8(static_cast<uint8_t>(e.type));
    w.U8(e.flags);
    w.U32(e.stored_length);
    w.U32(e.raw_length);
    w.Raw(e.id.bytes);
  }
  size_t before = data_.size();
  SealAppend(*key_, header, &data_);
  ByteWriter tail(&data_);
  tail.U32(static_cast<uint32_t>(data_.size() - before));
  tail.Raw(AsBytes(std::string_view(kPackMagic, 4)));
  *entries = std::move(entries_);
  entries_.clear();
  Bytes out = std::move(data_);
  data_.clear();
  return out;
}

Result<std::vector<PackEntry>> ReadPackHeader(const Key256& key, ByteSpan pack) {
  if (pack.size() < kTrailerSize + kSealOverhead ||
      std::memcmp(pack.data() + pack.size() - 4, kPackMagic, 4) != 0) {
    return Status::Corruption("not a pack file (bad trailer)");
  }
  ByteReader trailer(pack.subspan(pack.size() - kTrailerSize, 4));
  uint32_t header_len = trailer.U32();
  if (header_len < kSealOverhead || header_len > pack.size() - kTrailerSize) {
    return Status::Corruption("pack header length " + std::to_string(header_len) +
                              " is out of range");
  }
  size_t header_off = pack.size() - kTrailerSize - header_len;
  LB_ASSIGN_OR_RETURN(Bytes header, Open(key, pack.subspan(header_off, header_len)));
  if (header.size() % kEntrySize != 0) {
    return Status::Corruption("pack header size is not a whole number of entries");
  }
  std::vector<PackEntry> entries;
  ByteReader r(header);
  uint64_t offset = 0;
  while (r.remaining() > 0) {
    PackEntry e;
    e.type = static_cast<BlobType>(r.U8());
    e.flags = r.U8();
    e.stored_length = r.U32();
    e.raw_length = r.U32();
    ByteSpan id = r.Raw(32);
    if (!r.ok()) return Status::Corruption("pack header is truncated");
    std::memcpy(e.id.bytes.data(), id.data(), 32);
    if (e.type != BlobType::kData || e.stored_length < kSealOverhead) {
      return Status::Corruption("pack header has an invalid entry");
    }
    e.offset = static_cast<uint32_t>(offset);
    offset += e.stored_length;
    if (offset > header_off) return Status::Corruption("pack header points past the blobs");
    entries.push_back(e);
  }
  if (offset != header_off) return Status::Corruption("pack has bytes no header entry covers");
  return entries;
}

}  // namespace lifeboat
