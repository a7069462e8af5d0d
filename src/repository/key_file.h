// Key files (keys/<sha256>): the master key wrapped by a key derived from a passphrase. A
// repository may hold several; any one that the passphrase opens gives the master key. Changing
// the passphrase writes a new key file and deletes the old one; no data is rewritten.
#pragma once

#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "repository/crypto.h"

namespace lifeboat {

// 2: blobs are sealed with their id as associated data (kBlobIdBound). Version 1 repositories
// are read and written as they are.
inline constexpr int kFormatVersion = 2;

struct KeyFile {
  int version = kFormatVersion;
  std::string created;
  std::string hostname;
  ScryptParams scrypt;
  Bytes salt;
  Bytes wrapped;  // Seal(kek, encryption key || mac key)
};

// Wraps `master` under `passphrase` with a fresh salt.
Result<KeyFile> WrapMasterKey(const MasterKey& master, const std::string& passphrase,
                              const ScryptParams& params = {});
// Returns Code::kWrongPassphrase when the passphrase does not open this key file.
Result<MasterKey> UnwrapMasterKey(const KeyFile& key_file, const std::string& passphrase);

Bytes EncodeKeyFile(const KeyFile& key_file);
// Untrusted input: never crashes, returns Code::kCorruption for anything malformed, and
// Code::kUsage for a format version newer than this build understands.
Result<KeyFile> DecodeKeyFile(ByteSpan bytes);

}  // namespace lifeboat
