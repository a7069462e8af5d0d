#include "repository/crypto.h"

#include <gtest/gtest.h>

#include "repository/compress.h"
#include "repository/key_file.h"

namespace lifeboat {
namespace {

Key256 KeyOf(uint8_t v) {
  Key256 k;
  k.fill(v);
  return k;
}

TEST(CryptoTest, SealThenOpenRoundTripsWithFreshNonces) {
  Bytes plain(1000, 'a');
  Bytes a = Seal(KeyOf(1), plain);
  Bytes b = Seal(KeyOf(1), plain);
  EXPECT_EQ(a.size(), plain.size() + kSealOverhead);
  EXPECT_NE(a, b);  // random nonce: equal plaintexts do not give equal ciphertexts
  EXPECT_EQ(*Open(KeyOf(1), a), plain);
  EXPECT_EQ(*Open(KeyOf(1), b), plain);
}

TEST(CryptoTest, WrongKeyIsDetected) {
  Bytes sealed = Seal(KeyOf(1), AsBytes("secret"));
  Result<Bytes> r = Open(KeyOf(2), sealed);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorruption);
  EXPECT_EQ(r.status().message(), "authentication failed (wrong key or damaged data)");
}

TEST(CryptoTest, EveryFlippedByteIsDetected) {
  Bytes sealed = Seal(KeyOf(1), AsBytes("some plaintext"));
  for (size_t i = 0; i < sealed.size(); ++i) {
    Bytes bad = sealed;
    bad[i] ^= 0x01;
    EXPECT_EQ(Open(KeyOf(1), bad).status().code(), Code::kCorruption) << "byte " << i;
  }
  Bytes truncated(sealed.begin(), sealed.end() - 1);
  EXPECT_FALSE(Open(KeyOf(1), truncated).ok());
  EXPECT_FALSE(Open(KeyOf(1), Bytes(5)).ok());
}

TEST(CryptoTest, BlobIdsAreKeyed) {
  // The same content under two keys gives unrelated ids: names reveal no plaintext hash.
  Id a = BlobId(KeyOf(1), AsBytes("page"));
  Id b = BlobId(KeyOf(2), AsBytes("page"));
  EXPECT_NE(a, b);
  EXPECT_NE(a, Sha256(AsBytes("page")));
  EXPECT_EQ(a, BlobId(KeyOf(1), AsBytes("page")));
  // SHA-256 of "abc", the FIPS 180-2 test vector.
  EXPECT_EQ(Sha256(AsBytes("abc")).Hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(KeyFileTest, UnwrapsWithTheRightPassphraseOnly) {
  MasterKey mk = NewMasterKey();
  ScryptParams fast{.n = 1024, .r = 8, .p = 1};
  Result<KeyFile> kf = WrapMasterKey(mk, "correct horse", fast);
  ASSERT_TRUE(kf.ok());
  Result<KeyFile> decoded = DecodeKeyFile(EncodeKeyFile(*kf));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  Result<MasterKey> back = UnwrapMasterKey(*decoded, "correct horse");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->encryption, mk.encryption);
  EXPECT_EQ(back->mac, mk.mac);
  Result<MasterKey> wrong = UnwrapMasterKey(*decoded, "battery staple");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), Code::kWrongPassphrase);
  EXPECT_EQ(wrong.status().message(), "wrong passphrase");
}

TEST(GeneratedKeyTest, IsExactlyThePrefixAnd64LowercaseHexDigits) {
  std::string key = NewGeneratedKey();
  ASSERT_EQ(key.size(), 69u);
  EXPECT_EQ(key.substr(0, 5), "lbk1-");
  EXPECT_NE(key, NewGeneratedKey());
  Key256 secret{};
  ASSERT_TRUE(ParseGeneratedKey(key, &secret));
  Bytes decoded;
  ASSERT_TRUE(HexDecode(key.substr(5), &decoded));
  EXPECT_EQ(Bytes(secret.begin(), secret.end()), decoded);

  std::string zeros = "lbk1-" + std::string(64, '0');
  EXPECT_TRUE(ParseGeneratedKey(zeros, &secret));
  EXPECT_FALSE(ParseGeneratedKey(zeros.substr(0, 68), &secret));  // one digit short
  EXPECT_FALSE(ParseGeneratedKey(zeros + "0", &secret));          // one digit long
  EXPECT_FALSE(ParseGeneratedKey("lbk2-" + std::string(64, '0'), &secret));
  EXPECT_FALSE(ParseGeneratedKey("lbk1-" + std::string(63, '0') + "g", &secret));
  EXPECT_FALSE(ParseGeneratedKey(zeros + "\n", &secret));
  EXPECT_TRUE(ParseGeneratedKey("lbk1-" + std::string(64, 'a'), &secret));
  EXPECT_FALSE(ParseGeneratedKey("lbk1-" + std::string(64, 'A'), &secret));  // one spelling
  EXPECT_EQ(KdfFor(key), Kdf::kHkdf);
  EXPECT_EQ(KdfFor(zeros.substr(0, 68)), Kdf::kScrypt);
  EXPECT_EQ(KdfFor("correct horse"), Kdf::kScrypt);
}

TEST(GeneratedKeyTest, DerivesWithHkdfSha256) {
  // Expected value from Python's hmac module: PRK = HMAC(salt, secret), OKM = HMAC(PRK, info 1).
  Key256 secret{};
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(i);
  Bytes salt;
  for (uint8_t i = 0x40; i < 0x60; ++i) salt.push_back(i);
  Key256 kek = DeriveKeyFromGenerated(secret, salt);
  EXPECT_EQ(HexEncode(kek), "5060bca91a7325644d28b70ee13df64a237d2a722b268dbd6ba8f2b7f9fdbb9d");
}

TEST(KeyFileTest, AGeneratedKeyWrapsWithHkdfAndOpensOnlyItsOwnKeyFile) {
  MasterKey mk = NewMasterKey();
  std::string key = NewGeneratedKey();
  Result<KeyFile> kf = WrapMasterKey(mk, key);
  ASSERT_TRUE(kf.ok());
  Bytes encoded = EncodeKeyFile(*kf);
  std::string text(encoded.begin(), encoded.end());
  EXPECT_NE(text.find("\"kdf\": \"hkdf-sha256\""), std::string::npos) << text;
  EXPECT_EQ(text.find("\"n\""), std::string::npos) << text;  // no scrypt parameters
  Result<KeyFile> decoded = DecodeKeyFile(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->kdf, Kdf::kHkdf);
  Result<MasterKey> back = UnwrapMasterKey(*decoded, key);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->encryption, mk.encryption);
  EXPECT_EQ(back->mac, mk.mac);
  for (const std::string& other :
       {NewGeneratedKey(), std::string("correct horse"), key.substr(5)}) {
    Result<MasterKey> wrong = UnwrapMasterKey(*decoded, other);
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.status().code(), Code::kWrongPassphrase);
    EXPECT_EQ(wrong.status().message(), "wrong passphrase");
  }
}

TEST(KeyFileTest, RejectsMalformedAndHostileKeyFiles) {
  EXPECT_EQ(DecodeKeyFile(AsBytes("not json")).status().code(), Code::kCorruption);
  EXPECT_EQ(DecodeKeyFile(AsBytes("{}")).status().code(), Code::kCorruption);
  // A huge scrypt cost would exhaust memory: refused before deriving.
  std::string hostile =
      R"({"version":1,"kdf":"scrypt","n":1099511627776,"r":8,"p":1,"salt":"00112233445566778899aabbccddeeff","master_key":"00"})";
  EXPECT_EQ(DecodeKeyFile(AsBytes(hostile)).status().message(),
            "key file has out-of-range scrypt parameters");
  std::string newer =
      R"({"version":4,"kdf":"scrypt","n":1024,"r":8,"p":1,"salt":"00112233445566778899aabbccddeeff","master_key":"00"})";
  Result<KeyFile> r = DecodeKeyFile(AsBytes(newer));
  EXPECT_EQ(r.status().code(), Code::kUsage);
  EXPECT_EQ(r.status().message(),
            "repository format version 4 is newer than this lifeboat supports (3)");
  std::string unknown =
      R"({"version":3,"kdf":"argon2","salt":"00112233445566778899aabbccddeeff","master_key":"00"})";
  EXPECT_EQ(DecodeKeyFile(AsBytes(unknown)).status().message(),
            "key file names an unknown key derivation function");
}

TEST(CompressTest, CompressesTextAndStoresNoiseAsIs) {
  Bytes text;
  for (int i = 0; i < 2000; ++i) {
    std::string line = "order " + std::to_string(i) + " shipped\n";
    text.insert(text.end(), line.begin(), line.end());
  }
  Bytes out;
  ASSERT_TRUE(CompressIfSmaller(text, 1, &out));
  EXPECT_LT(out.size(), text.size() / 3);
  EXPECT_EQ(*Decompress(out, text.size()), text);
  Bytes noise(65536);
  RandomBytes(noise.data(), noise.size());
  EXPECT_FALSE(CompressIfSmaller(noise, 1, &out));
  EXPECT_FALSE(CompressIfSmaller(text, 0, &out));  // level 0: compression off
  EXPECT_EQ(Decompress(out, text.size() + 1).status().code(), Code::kCorruption);
}

}  // namespace
}  // namespace lifeboat
