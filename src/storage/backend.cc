#include "storage/backend.h"

#include "base/fs.h"

namespace lifeboat {

Status ValidateKey(const std::string& key) {
  if (!IsSafeRelativePath(key)) return Status::Usage("invalid object key '" + key + "'");
  return Status::Ok();
}

}  // namespace lifeboat
