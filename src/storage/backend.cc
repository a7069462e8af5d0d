#include "storage/backend.h"

#include "base/fs.h"

namespace lifeboat {

Status Backend::DeleteMany(const std::vector<std::string>& keys) {
  for (const std::string& k : keys) LB_RETURN_IF_ERROR(Delete(k));
  return Status::Ok();
}

Status ValidateKey(const std::string& key) {
  if (!IsSafeRelativePath(key)) return Status::Usage("invalid object key '" + key + "'");
  return Status::Ok();
}

}  // namespace lifeboat
