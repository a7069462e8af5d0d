// The embedded default: objects as files under a root directory. Keys map to relative paths.
// Put follows the durable-write protocol (temp file, fsync, rename, fsync of the directory), so
// a listed object is always complete and survives a power cut.
#pragma once

#include <string>

#include "storage/backend.h"

namespace lifeboat {

class LocalBackend final : public Backend {
 public:
  // `root` must exist (the repository's init creates it). Files are created with `file_mode`.
  explicit LocalBackend(std::string root, mode_t file_mode = 0600);

  const Capabilities& capabilities() const override;
  std::string Location() const override { return root_; }

  Status Put(const std::string& key, ByteSpan data) override;
  Result<Bytes> Get(const std::string& key) override;
  Result<Bytes> GetRange(const std::string& key, uint64_t offset, size_t length) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Result<ObjectInfo> Stat(const std::string& key) override;
  Status Delete(const std::string& key) override;
  // Temporary files ("*.tmp-*") of interrupted Puts.
  Result<uint64_t> RemoveIncomplete(int64_t min_age_seconds) override;

  std::string PathOf(const std::string& key) const { return root_ + "/" + key; }

 private:
  std::string root_;
  mode_t file_mode_;
};

}  // namespace lifeboat
