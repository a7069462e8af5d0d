// An in-memory backend for fast unit tests. Nothing survives the object.
#pragma once

#include <map>
#include <mutex>

#include "storage/backend.h"

namespace lifeboat {

class MemoryBackend final : public Backend {
 public:
  const Capabilities& capabilities() const override;
  std::string Location() const override { return "memory:"; }

  Status Put(const std::string& key, ByteSpan data) override;
  Result<Bytes> Get(const std::string& key) override;
  Result<Bytes> GetRange(const std::string& key, uint64_t offset, size_t length) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Result<ObjectInfo> Stat(const std::string& key) override;
  Status Delete(const std::string& key) override;

 private:
  std::mutex mu_;
  std::map<std::string, Bytes> objects_;
};

}  // namespace lifeboat
