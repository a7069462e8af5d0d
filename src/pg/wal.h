// WAL archiving into the repository: segment and history files as named objects in stream
// "wal", and the protected cluster's system identifier in stream "pg", so that two clusters
// can never mix in one repository.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "repository/repository.h"

namespace lifeboat::pg {

using Lsn = uint64_t;

// PostgreSQL's epoch, 2000-01-01 UTC, in microseconds after the Unix one.
inline constexpr int64_t kPostgresEpochMicros = int64_t{946684800} * 1'000'000;

// "16/B374D848" <-> 0x16B374D848.
Result<Lsn> ParseLsn(std::string_view text);
std::string FormatLsn(Lsn lsn);

inline constexpr uint64_t kDefaultSegmentSize = 16u << 20;

struct SegmentName {
  uint32_t timeline = 0;
  uint64_t segno = 0;  // LSN / segment size
};
// Parses "000000010000000A000000FF"; false for anything else (history, .partial, .backup).
bool ParseSegmentName(std::string_view name, uint64_t segment_size, SegmentName* out);
std::string FormatSegmentName(uint32_t timeline, uint64_t segno, uint64_t segment_size);
// Names PostgreSQL archives: segments, "*.history", "*.partial", "*.backup".
bool IsWalFileName(std::string_view name);

// The system identifier from a segment's long page header. Untrusted input: Code::kCorruption
// when the bytes are not a WAL segment start.
Result<uint64_t> ReadSystemIdentifier(ByteSpan segment);

inline constexpr const char* kWalStream = "wal";

class WalArchive {
 public:
  explicit WalArchive(Repository* repo) : repo_(repo) {}

  // The system identifier this repository belongs to, if recorded.
  Result<std::optional<uint64_t>> ClusterIdentity();
  // Records `sysid`, or fails when the repository belongs to another cluster.
  Status BindCluster(uint64_t sysid);

  // Archives the file at `path` under its base name. Already archived with identical content:
  // success (PostgreSQL retries). Different content, or a segment from another cluster: failure.
  Status Push(const std::string& path);
  // Writes the archived file `name` to `dest` (durably, via a temporary name). Code::kNotFound
  // when it is not archived.
  Status Get(const std::string& name, const std::string& dest);
  // The archived file `name` (a complete segment or a history file) in memory. Code::kNotFound
  // when it is not archived.
  Result<Bytes> Read(const std::string& name);
  // What Get writes: as Read, but a segment that `wal stream` has stored only in part comes
  // whole, the rest zeros (which recovery reads as the end of the WAL).
  Result<Bytes> Fetch(const std::string& name);

 private:
  Repository* repo_;
};

}  // namespace lifeboat::pg
