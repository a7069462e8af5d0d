// Cryptography for the repository, all from OpenSSL 3:
//  - AES-256-GCM with a random 96-bit nonce for every stored object ("sealing");
//  - HMAC-SHA-256 under a separate MAC key for blob ids;
//  - SHA-256 for object names;
//  - scrypt to derive a key-encryption key from a passphrase, HKDF-SHA-256 from a generated key.
// See docs/repository-format.md for the exact layouts.
//
// Thread safety: all functions are safe to call concurrently.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "repository/id.h"

namespace lifeboat {

inline constexpr size_t kKeySize = 32;
inline constexpr size_t kNonceSize = 12;
inline constexpr size_t kTagSize = 16;
inline constexpr size_t kSealOverhead = kNonceSize + kTagSize;

using Key256 = std::array<uint8_t, kKeySize>;

// The repository's master key: never stored in the clear, wrapped by each key file.
struct MasterKey {
  Key256 encryption{};
  Key256 mac{};
};

// nonce || ciphertext || tag. `associated` is authenticated with the ciphertext but not stored:
// opening needs the same bytes (a blob's id, so the seal proves which blob it holds).
Bytes Seal(const Key256& key, ByteSpan plaintext, ByteSpan associated = {});
// Appends the sealed form of `plaintext` to `out` (avoids a copy when building packs).
void SealAppend(const Key256& key, ByteSpan plaintext, Bytes* out, ByteSpan associated = {});
// Fails with Code::kCorruption when the tag does not verify (wrong key, tampered bytes, or
// other associated data than sealed).
Result<Bytes> Open(const Key256& key, ByteSpan sealed, ByteSpan associated = {});

Id BlobId(const Key256& mac_key, ByteSpan plaintext);
Id Sha256(ByteSpan data);

void RandomBytes(uint8_t* out, size_t n);
MasterKey NewMasterKey();

struct ScryptParams {
  uint64_t n = 1 << 15;  // CPU/memory cost; 32 MiB with r = 8
  uint32_t r = 8;
  uint32_t p = 1;
};
Result<Key256> DeriveKey(const std::string& passphrase, ByteSpan salt, const ScryptParams& params);

// A generated key: "lbk1-" and 64 lowercase hex digits, 256 random bits. Guessing it is as hard
// as guessing the master key, so it needs no stretching: HKDF derives the key-encryption key in
// microseconds where scrypt takes a tenth of a second of every command (and of every WAL push).
inline constexpr std::string_view kGeneratedKeyPrefix = "lbk1-";
std::string NewGeneratedKey();
// True, with the 32 bytes in `secret`, when `text` is exactly a generated key; anything else is
// an ordinary passphrase.
bool ParseGeneratedKey(std::string_view text, Key256* secret);
Key256 DeriveKeyFromGenerated(const Key256& secret, ByteSpan salt);

}  // namespace lifeboat
