// What the repository-level unit tests share: a cheap key derivation and reproducible content.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "repository/crypto.h"
#include "repository/repository.h"
#include "storage/memory/memory_backend.h"

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

// A scratch directory and an in-memory repository (passphrase "pw"), for tests of what keeps
// state in both; the directory is removed at the end.
class ScratchAndMemoryRepository : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lifeboat-unit-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    backend_ = std::make_shared<MemoryBackend>();
    ASSERT_TRUE(Repository::Init(*backend_, "pw", kFastScrypt).ok());
    repo_ = std::move(Repository::Open(backend_, "pw").value());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::shared_ptr<MemoryBackend> backend_;
  std::unique_ptr<Repository> repo_;
};

}  // namespace lifeboat::testing
