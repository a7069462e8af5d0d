// What the repository-level unit tests share: a cheap key derivation and reproducible content.
#pragma once

#include <cstdint>

#include "base/bytes.h"
#include "repository/crypto.h"

namespace lifeboat::testing {

// scrypt with a small N: opening a test repository takes milliseconds, not a tenth of a second.
inline const ScryptParams kFastScrypt{.n = 1024, .r = 8, .p = 1};

// `n` pseudo-random bytes, the same for the same seed.
inline Bytes Content(size_t n, uint8_t seed) {
  Bytes b(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : b) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<uint8_t>(x >> 24);
  }
  return b;
}

}  // namespace lifeboat::testing
