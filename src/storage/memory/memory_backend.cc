#include "storage/memory/memory_backend.h"

namespace lifeboat {

const Capabilities& MemoryBackend::capabilities() const {
  static const Capabilities kCaps{.durable_put = false, .range_reads = true, .consistent_list = true};
  return kCaps;
}

Status MemoryBackend::Put(const std::string& key, ByteSpan data) {
  LB_RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  objects_[key] = Bytes(data.begin(), data.end());
  return Status::Ok();
}

Result<Bytes> MemoryBackend::Get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Status::NotFound("object '" + key + "' does not exist");
  return it->second;
}

Result<Bytes> MemoryBackend::GetRange(const std::string& key, uint64_t offset, size_t length) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Status::NotFound("object '" + key + "' does not exist");
  if (offset > it->second.size() || it->second.size() - offset < length) {
    return Status::IO("cannot read '" + key + "': range beyond the end of the object");
  }
  auto begin = it->second.begin() + static_cast<std::ptrdiff_t>(offset);
  return Bytes(begin, begin + static_cast<std::ptrdiff_t>(length));
}

Result<std::vector<ObjectInfo>> MemoryBackend::List(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectInfo> out;
  for (auto it = objects_.lower_bound(prefix);
       it != objects_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    out.push_back({it->first, it->second.size()});
  }
  return out;
}

Result<ObjectInfo> MemoryBackend::Stat(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Status::NotFound("object '" + key + "' does not exist");
  return ObjectInfo{key, it->second.size()};
}

Status MemoryBackend::Delete(const std::string& key) {
  LB_RETURN_IF_ERROR(ValidateKey(key));  // as the local backend does: a bad key is a caller's bug
  std::lock_guard<std::mutex> lock(mu_);
  objects_.erase(key);
  return Status::Ok();
}

}  // namespace lifeboat
