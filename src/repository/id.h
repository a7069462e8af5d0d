// Id: a 32-byte name. Blob ids are keyed hashes (HMAC-SHA-256 under the repository's MAC key)
// of plaintext, so an id reveals nothing about the content to someone without the key; object
// ids (packs, indexes, snapshots, keys) are SHA-256 of the stored bytes, so any change to a
// stored object is detected by re-hashing it.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include "base/bytes.h"

namespace lifeboat {

struct Id {
  std::array<uint8_t, 32> bytes{};

  std::string Hex() const { return HexEncode(bytes); }
  std::string Short() const { return Hex().substr(0, 8); }
  static bool FromHex(std::string_view hex, Id* out) {
    return HexDecodeInto(hex, out->bytes);
  }

  friend bool operator==(const Id& a, const Id& b) { return a.bytes == b.bytes; }
  friend bool operator<(const Id& a, const Id& b) { return a.bytes < b.bytes; }
};

struct IdHash {
  size_t operator()(const Id& id) const {
    // Ids are uniformly distributed already.
    size_t h;
    std::memcpy(&h, id.bytes.data(), sizeof(h));
    return h;
  }
};

}  // namespace lifeboat
