// Pack files (data/<xx>/<sha256>): many sealed blobs followed by a sealed header that lists
// them, so the repository holds a few large objects instead of millions of small ones.
//
//   blob_0 | blob_1 | ... | Seal(header) | u32 sealed_header_length | "LBP1"
//   header entry (42 bytes): u8 type | u8 flags | u32 stored_length | u32 raw_length | id[32]
//
// Blob offsets follow from the lengths. See docs/repository-format.md.
#pragma once

#include <cstdint>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "repository/crypto.h"
#include "repository/id.h"

namespace lifeboat {

enum class BlobType : uint8_t { kData = 0 };
inline constexpr uint8_t kBlobCompressed = 1;
// The blob's seal authenticates its id as associated data (format version 2 on): a blob that
// opens under its id is the one written under that id, so readers need not hash it again.
inline constexpr uint8_t kBlobIdBound = 2;
inline constexpr uint8_t kKnownBlobFlags = kBlobCompressed | kBlobIdBound;

struct PackEntry {
  Id id;
  BlobType type = BlobType::kData;
  uint8_t flags = 0;            // kBlobCompressed | kBlobIdBound
  uint32_t offset = 0;          // of the sealed blob inside the pack
  uint32_t stored_length = 0;   // sealed bytes in the pack
  uint32_t raw_length = 0;      // plaintext bytes
};

// Builds one pack in memory. Not thread-safe: one writer per pack.
class PackBuilder {
 public:
  // `capacity`: the expected final size, reserved up front so the buffer never doubles.
  explicit PackBuilder(const Key256* key, size_t capacity = 0) : key_(key) {
    data_.reserve(capacity);
  }

  // Seals `payload` (already compressed when flags says so; bound to `id` when it says so)
  // and appends it.
  void Add(const Id& id, BlobType type, uint8_t flags, ByteSpan payload, uint32_t raw_length);
  size_t size() const { return data_.size(); }
  size_t count() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  // Appends the header and trailer; returns the complete pack and its entries.
  Bytes Finish(std::vector<PackEntry>* entries);

 private:
  const Key256* key_;
  Bytes data_;
  std::vector<PackEntry> entries_;
};

// Reads the header at the end of a complete pack. Untrusted input: never crashes; returns
// Code::kCorruption for anything inconsistent.
Result<std::vector<PackEntry>> ReadPackHeader(const Key256& key, ByteSpan pack);

}  // namespace lifeboat
