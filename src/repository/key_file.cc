#include "repository/key_file.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/time.h"

namespace lifeboat {

namespace {

Result<Key256> DeriveKek(const KeyFile& kf, const std::string& passphrase) {
  if (kf.kdf == Kdf::kScrypt) return DeriveKey(passphrase, kf.salt, kf.scrypt);
  Key256 secret{};
  // An ordinary passphrase cannot open an HKDF key file: only its generated key can.
  if (!ParseGeneratedKey(passphrase, &secret)) return Status::WrongPassphrase("wrong passphrase");
  return DeriveKeyFromGenerated(secret, kf.salt);
}

}  // namespace

Kdf KdfFor(const std::string& passphrase) {
  Key256 secret{};
  return ParseGeneratedKey(passphrase, &secret) ? Kdf::kHkdf : Kdf::kScrypt;
}

Result<KeyFile> WrapMasterKey(const MasterKey& master, const std::string& passphrase,
                              const ScryptParams& params) {
  KeyFile kf;
  kf.created = FormatIso8601(NowNanos());
  kf.hostname = Hostname();
  kf.kdf = KdfFor(passphrase);
  // The lowest version that can read it: a new passphrase key file keeps older readers working.
  kf.version = kf.kdf == Kdf::kHkdf ? 3 : 2;
  kf.scrypt = params;
  kf.salt.resize(32);
  RandomBytes(kf.salt.data(), kf.salt.size());
  LB_ASSIGN_OR_RETURN(Key256 kek, DeriveKek(kf, passphrase));
  Bytes plain(master.encryption.begin(), master.encryption.end());
  plain.insert(plain.end(), master.mac.begin(), master.mac.end());
  kf.wrapped = Seal(kek, plain);
  return kf;
}

Result<MasterKey> UnwrapMasterKey(const KeyFile& kf, const std::string& passphrase) {
  LB_ASSIGN_OR_RETURN(Key256 kek, DeriveKek(kf, passphrase));
  Result<Bytes> plain = Open(kek, kf.wrapped);
  if (!plain.ok()) return Status::WrongPassphrase("wrong passphrase");
  if (plain->size() != 2 * kKeySize) {
    return Status::Corruption("key file holds a key of " + std::to_string(plain->size()) +
                              " bytes, expected 64");
  }
  MasterKey mk;
  std::copy(plain->begin(), plain->begin() + kKeySize, mk.encryption.begin());
  std::copy(plain->begin() + kKeySize, plain->end(), mk.mac.begin());
  return mk;
}

Bytes EncodeKeyFile(const KeyFile& kf) {
  nlohmann::ordered_json j;
  j["version"] = kf.version;
  j["created"] = kf.created;
  j["hostname"] = kf.hostname;
  if (kf.kdf == Kdf::kHkdf) {
    j["kdf"] = "hkdf-sha256";
  } else {
    j["kdf"] = "scrypt";
    j["n"] = kf.scrypt.n;
    j["r"] = kf.scrypt.r;
    j["p"] = kf.scrypt.p;
  }
  j["salt"] = HexEncode(kf.salt);
  j["master_key"] = HexEncode(kf.wrapped);
  std::string s = j.dump(2) + "\n";
  return Bytes(s.begin(), s.end());
}

Result<KeyFile> DecodeKeyFile(ByteSpan bytes) {
  nlohmann::json j = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("key file is not valid JSON");
  try {
    KeyFile kf;
    kf.version = j.at("version").get<int>();
    if (kf.version > kFormatVersion) {
      return Status::Usage("repository format version " + std::to_string(kf.version) +
                               " is newer than this lifeboat supports (" +
                               std::to_string(kFormatVersion) + ")",
                           "upgrade lifeboat to read this repository");
    }
    std::string kdf = j.at("kdf").get<std::string>();
    kf.created = j.value("created", "");
    kf.hostname = j.value("hostname", "");
    if (kdf == "hkdf-sha256") {
      kf.kdf = Kdf::kHkdf;
    } else if (kdf != "scrypt") {
      return Status::Corruption("key file names an unknown key derivation function");
    }
    if (kf.kdf == Kdf::kScrypt) {
      kf.scrypt.n = j.at("n").get<uint64_t>();
      kf.scrypt.r = j.at("r").get<uint32_t>();
      kf.scrypt.p = j.at("p").get<uint32_t>();
      // Refuse parameters that would make an attacker-supplied key file exhaust memory or time.
      bool pow2 = kf.scrypt.n >= 2 && (kf.scrypt.n & (kf.scrypt.n - 1)) == 0;
      if (!pow2 || kf.scrypt.n > (1u << 22) || kf.scrypt.r == 0 || kf.scrypt.r > 32 ||
          kf.scrypt.p == 0 || kf.scrypt.p > 16) {
        return Status::Corruption("key file has out-of-range scrypt parameters");
      }
    }
    if (!HexDecode(j.at("salt").get<std::string>(), &kf.salt) || kf.salt.size() < 16 ||
        !HexDecode(j.at("master_key").get<std::string>(), &kf.wrapped)) {
      return Status::Corruption("key file has a malformed salt or key");
    }
    return kf;
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("key file is malformed: ") + e.what());
  }
}

}  // namespace lifeboat
