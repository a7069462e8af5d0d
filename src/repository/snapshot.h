// Snapshot manifests (snapshots/<sha256>): what one backup contains. A manifest is written
// only after every blob it references is stored and indexed, so a listed snapshot is complete.
// The producer (files backup, later PostgreSQL backups) chooses `kind` and `metadata`; the
// repository interprets neither.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "base/result.h"
#include "base/time.h"
#include "repository/id.h"

namespace lifeboat {

enum class EntryType { kDirectory, kFile, kSymlink };

struct FileEntry {
  std::string path;  // relative to the snapshot root, "." for the root itself
  EntryType type = EntryType::kFile;
  uint32_t mode = 0;  // permission bits (07777)
  UnixNanos mtime = 0;
  uint64_t size = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string target;      // symlinks only
  std::vector<Id> chunks;  // files only, in order; their raw lengths add up to `size`
  // Change detection for the next backup (a file whose size, mtime, ctime and inode are
  // unchanged is not read again).
  uint64_t inode = 0;
  UnixNanos ctime = 0;
};

struct Snapshot {
  int version = 1;
  std::string kind;  // "files", ...
  std::string name;
  std::string hostname;
  std::string username;
  UnixNanos started_at = 0;
  UnixNanos finished_at = 0;
  std::optional<Id> parent;
  uint64_t logical_bytes = 0;  // bytes of content the snapshot describes
  uint64_t stored_bytes = 0;   // bytes this snapshot added to the repository
  uint64_t new_blobs = 0;
  nlohmann::json metadata = nlohmann::json::object();
  std::vector<FileEntry> entries;
};

// Plain JSON form (before compression and sealing).
Bytes EncodeSnapshot(const Snapshot& s);
// Untrusted input: returns Code::kCorruption for anything malformed.
Result<Snapshot> DecodeSnapshot(ByteSpan json);

const char* EntryTypeName(EntryType t);

}  // namespace lifeboat
