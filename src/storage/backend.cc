#include "storage/backend.h"

namespace lifeboat {

Status ValidateKey(const std::string& key) {
  if (key.empty() || key.front() == '/' || key.back() == '/') {
    return Status::Usage("invalid object key '" + key + "'");
  }
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string::npos) end = key.size();
    std::string_view part(key.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return Status::Usage("invalid object key '" + key + "'");
    }
    start = end + 1;
  }
  return Status::Ok();
}

}  // namespace lifeboat
