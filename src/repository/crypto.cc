#include "repository/crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
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

}  // namespace lifeboat
