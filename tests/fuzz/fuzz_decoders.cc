// libFuzzer entry points for every decoder of bytes lifeboat did not just write itself. One
// source, one binary per target: FUZZ_TARGET selects the decoder at compile time.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/time.h"
#include "config/config.h"
#include "pg/page_check.h"
#include "pg/wal.h"
#include "repository/index.h"
#include "repository/key_file.h"
#include "repository/pack.h"
#include "repository/snapshot.h"
#include "verify/expectation.h"

using namespace lifeboat;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(data, size);
  std::string text(reinterpret_cast<const char*>(data), size);
#if FUZZ_TARGET == 1  // key files: plain JSON
  (void)DecodeKeyFile(in);
#elif FUZZ_TARGET == 2  // pack headers, under a fixed key (the header must also decrypt)
  Key256 key{};
  (void)ReadPackHeader(key, in);
#elif FUZZ_TARGET == 3  // index files (after decryption and decompression)
  (void)DecodeIndexFile(in);
#elif FUZZ_TARGET == 4  // manifests (after decryption and decompression)
  (void)DecodeSnapshot(in);
#elif FUZZ_TARGET == 5  // the config loader
  (void)ParseConfig(text, "/fuzz/lifeboat.toml");
#elif FUZZ_TARGET == 6  // times, durations, LSNs, WAL names and headers, expectations, pages
  (void)ParseTimestamp(text);
  (void)ParseDuration(text);
  (void)pg::ParseLsn(text);
  pg::SegmentName sn;
  (void)pg::ParseSegmentName(text, pg::kDefaultSegmentSize, &sn);
  (void)pg::IsWalFileName(text);
  (void)pg::ReadSystemIdentifier(in);
  (void)verify::ParseExpectation(text);
  uint64_t block = 0;
  (void)pg::RelationFileFirstBlock(text, &block);
  pg::PageChecker checker(~pg::Lsn{0});
  checker.Inspect("data/base/1/1", 0, in);
#endif
  return 0;
}
