// Key files (keys/<sha256>): the master key wrapped by a key derived from a passphrase (scrypt)
// or from a generated key (HKDF; see ParseGeneratedKey). A repository may hold several; any one
// that the passphrase opens gives the master key. Changing the passphrase writes a new key file
// and deletes the old one; no data is rewritten.
#pragma once

#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "repository/crypto.h"

namespace lifeboat {

// 2: blobs are sealed with their id as associated data (kBlobIdBound). 3: key files may derive
// their key with HKDF from a generated key. Older repositories are read and written as they are.
inline constexpr int kFormatVersion = 3;

enum class Kdf { kScrypt, kHkdf };

struct KeyFile {
  int version = kFormatVersion;
  std::string created;
  std::string hostname;
  Kdf kdf = Kdf::kScrypt;
  ScryptParams scrypt;  // kScrypt only
  Bytes salt;
  Bytes wrapped;  // Seal(kek, encryption key || mac key)
};

// Wraps `master` under `passphrase` with a fresh salt: HKDF when the passphrase is a generated
// key, else scrypt with `params`.
Result<KeyFile> WrapMasterKey(const MasterKey& master, const std::string& passphrase,
                              const ScryptParams& params = {});
// Returns Code::kWrongPassphrase when the passphrase does not open this key file.
Result<MasterKey> UnwrapMasterKey(const KeyFile& key_file, const std::string& passphrase);
// The key derivation `passphrase` gets when wrapped: key files of that kind are tried first.
Kdf KdfFor(const std::string& passphrase);

Bytes EncodeKeyFile(const KeyFile& key_file);
// Untrusted input: never crashes, returns Code::kCorruption for anything malformed, and
// Code::kUsage for a format version newer than this build understands.
Result<KeyFile> DecodeKeyFile(ByteSpan bytes);

}  // namespace lifeboat
