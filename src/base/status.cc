#include "base/status.h"

#include <cerrno>
#include <cstring>

namespace lifeboat {

Status Status::Context(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_, hint_);
}

Status Status::WithHint(std::string hint) const {
  if (hint.empty()) return *this;
  return Status(code_, message_, std::move(hint));
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  if (hint_.empty()) return message_;
  return message_ + " (hint: " + hint_ + ")";
}

int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case Code::kOk:
      return 0;
    case Code::kUsage:
    case Code::kConfig:
    case Code::kWrongPassphrase:
    case Code::kNotFound:
    case Code::kAlreadyExists:
      return 1;
    case Code::kIO:
    case Code::kNoSpace:
    case Code::kBusy:
      return 2;
    case Code::kCorruption:
    case Code::kVerification:
      return 3;
  }
  return 2;
}

Status ErrnoStatus(const std::string& context, int err) {
  std::string why = std::strerror(err);
  // strerror capitalises; messages in lifeboat are lower-case.
  if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
  std::string msg = context + ": " + why;
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return Status::NoSpace(msg, "free space on the device, then run the operation again");
    case ENOENT:
      return Status::NotFound(msg);
    case EEXIST:
      return Status::AlreadyExists(msg);
    default:
      return Status::IO(msg);
  }
}

}  // namespace lifeboat
