#include "repository/crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <memory>
#include <stdexcept>

namespace lifeboat {

namespace {

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

int ToInt(size_t n) {
  if (n > static_cast<size_t>(INT32_MAX)) throw std::length_error("object larger than 2 GiB");
  return static_cast<int>(n);
}

}  // namespace

void SealAppend(const Key256& key, ByteSpan plaintext, Bytes* out, ByteSpan associated) {
  size_t base = out->size();
  out->resize(base + kSealOverhead + plaintext.size());
  uint8_t* nonce = out->data() + base;
  uint8_t* body = nonce + kNonceSize;
  uint8_t* tag = body + plaintext.size();
  RandomBytes(nonce, kNonceSize);

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  // Failures here mean OpenSSL itself is broken: a bug, not a user-facing error.
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce) != 1 ||
      (!associated.empty() &&
       EVP_EncryptUpdate(ctx.get(), nullptr, &len, associated.data(),
                         ToInt(associated.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), body, &len, plaintext.data(), ToInt(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), body + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, tag) != 1) {
    throw std::runtime_error("AES-256-GCM encryption failed");
  }
}

Bytes Seal(const Key256& key, ByteSpan plaintext, ByteSpan associated) {
  Bytes out;
  SealAppend(key, plaintext, &out, associated);
  return out;
}

Result<Bytes> Open(const Key256& key, ByteSpan sealed, ByteSpan associated) {
  if (sealed.size() < kSealOverhead) {
    return Status::Corruption("sealed object is " + std::to_string(sealed.size()) +
                              " bytes, shorter than its header");
  }
  const uint8_t* nonce = sealed.data();
  const uint8_t* body = nonce + kNonceSize;
  size_t body_len = sealed.size() - kSealOverhead;
  const uint8_t* tag = body + body_len;
  Bytes out(body_len);

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce) != 1 ||
      (!associated.empty() &&
       EVP_DecryptUpdate(ctx.get(), nullptr, &len, associated.data(),
                         ToInt(associated.size())) != 1) ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, body, ToInt(body_len)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize,
                          const_cast<uint8_t*>(tag)) != 1) {
    throw std::runtime_error("AES-256-GCM decryption setup failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &len) != 1) {
    return Status::Corruption("authentication failed (wrong key or damaged data)");
  }
  return out;
}

Id BlobId(const Key256& mac_key, ByteSpan plaintext) {
  Id id;
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), mac_key.data(), static_cast<int>(mac_key.size()), plaintext.data(),
           plaintext.size(), id.bytes.data(), &len) == nullptr) {
    throw std::runtime_error("HMAC-SHA-256 failed");
  }
  return id;
}

Id Sha256(ByteSpan data) {
  Id id;
  SHA256(data.data(), data.size(), id.bytes.data());
  return id;
}

void RandomBytes(uint8_t* out, size_t n) {
  if (RAND_bytes(out, ToInt(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}

MasterKey NewMasterKey() {
  MasterKey k;
  RandomBytes(k.encryption.data(), k.encryption.size());
  RandomBytes(k.mac.data(), k.mac.size());
  return k;
}

Result<Key256> DeriveKey(const std::string& passphrase, ByteSpan salt, const ScryptParams& params) {
  Key256 out{};
  // maxmem: enough for N*r*128 bytes plus slack.
  uint64_t maxmem = params.n * params.r * 128 * 2 + (1 << 20);
  if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(), salt.data(), salt.size(), params.n,
                     params.r, params.p, maxmem, out.data(), out.size()) != 1) {
    return Status::Corruption("scrypt key derivation failed (invalid parameters in key file)");
  }
  return out;
}

std::string NewGeneratedKey() {
  Key256 secret{};
  RandomBytes(secret.data(), secret.size());
  return std::string(kGeneratedKeyPrefix) + HexEncode(secret);
}

bool ParseGeneratedKey(std::string_view text, Key256* secret) {
  if (text.size() != kGeneratedKeyPrefix.size() + 2 * kKeySize ||
      text.substr(0, kGeneratedKeyPrefix.size()) != kGeneratedKeyPrefix) {
    return false;
  }
  std::string_view hex = text.substr(kGeneratedKeyPrefix.size());
  // Lowercase only, as generated: one key has one spelling.
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return HexDecodeInto(hex, *secret);
}

Key256 DeriveKeyFromGenerated(const Key256& secret, ByteSpan salt) {
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr),
                                                        &EVP_KDF_free);
  if (!kdf) throw std::runtime_error("OpenSSL has no HKDF");
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf.get()),
                                                                &EVP_KDF_CTX_free);
  static const char kInfo[] = "lifeboat key file";
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string("digest", digest, 0),
      OSSL_PARAM_construct_octet_string("key", const_cast<uint8_t*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string("salt", const_cast<uint8_t*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_octet_string("info", const_cast<char*>(kInfo), sizeof(kInfo) - 1),
      OSSL_PARAM_construct_end()};
  Key256 out{};
  if (!ctx || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    throw std::runtime_error("HKDF derivation failed");
  }
  return out;
}

}  // namespace lifeboat
