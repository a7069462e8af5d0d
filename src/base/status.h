// Errors as values. A Status is either ok or carries a Code, a message of the form
// "what failed: why" and an optional hint telling the user what to do next.
//
// Codes map one-to-one onto the documented exit codes (see ExitCodeFor): usage and
// configuration errors exit 1, failed operations exit 2, integrity and verification failures
// exit 3. Exceptions and asserts are reserved for programming errors.
//
// Thread safety: a Status is a value; distinct objects may be used from distinct threads.
#pragma once

#include <string>
#include <utility>

namespace lifeboat {

enum class Code {
  kOk = 0,
  kUsage,            // bad command line or input value (exit 1)
  kConfig,           // configuration file missing or invalid (exit 1)
  kWrongPassphrase,  // the passphrase opens no key of the repository (exit 1)
  kNotFound,         // a named thing does not exist (exit 1: the user named it)
  kAlreadyExists,    // refusing to overwrite (exit 1)
  kIO,               // an operation on files, network or processes failed (exit 2)
  kNoSpace,          // out of disk space (exit 2)
  kBusy,             // a lock is held by another operation (exit 2)
  kCorruption,       // stored data fails its integrity check (exit 3)
  kVerification,     // a verification check failed (exit 3)
};

class [[nodiscard]] Status {
 public:
  Status() = default;

  static Status Ok() { return Status(); }
  static Status Usage(std::string msg, std::string hint = {}) {
    return Status(Code::kUsage, std::move(msg), std::move(hint));
  }
  static Status Config(std::string msg, std::string hint = {}) {
    return Status(Code::kConfig, std::move(msg), std::move(hint));
  }
  static Status WrongPassphrase(std::string msg, std::string hint = {}) {
    return Status(Code::kWrongPassphrase, std::move(msg), std::move(hint));
  }
  static Status NotFound(std::string msg, std::string hint = {}) {
    return Status(Code::kNotFound, std::move(msg), std::move(hint));
  }
  static Status AlreadyExists(std::string msg, std::string hint = {}) {
    return Status(Code::kAlreadyExists, std::move(msg), std::move(hint));
  }
  static Status IO(std::string msg, std::string hint = {}) {
    return Status(Code::kIO, std::move(msg), std::move(hint));
  }
  static Status NoSpace(std::string msg, std::string hint = {}) {
    return Status(Code::kNoSpace, std::move(msg), std::move(hint));
  }
  static Status Busy(std::string msg, std::string hint = {}) {
    return Status(Code::kBusy, std::move(msg), std::move(hint));
  }
  static Status Corruption(std::string msg, std::string hint = {}) {
    return Status(Code::kCorruption, std::move(msg), std::move(hint));
  }
  static Status Verification(std::string msg, std::string hint = {}) {
    return Status(Code::kVerification, std::move(msg), std::move(hint));
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }

  // Returns a copy whose message is "context: message". Ok statuses pass through unchanged.
  Status Context(const std::string& context) const;
  // Returns a copy with the hint replaced (kept when `hint` is empty).
  Status WithHint(std::string hint) const;

  // "message" or "message (hint: ...)"; for logs and test failure output.
  std::string ToString() const;

 private:
  Status(Code code, std::string msg, std::string hint)
      : code_(code), message_(std::move(msg)), hint_(std::move(hint)) {}

  Code code_ = Code::kOk;
  std::string message_;
  std::string hint_;
};

// The process exit code documented in README: 0 ok, 1 usage/config, 2 failed, 3 integrity.
int ExitCodeFor(const Status& s);

// Translates an errno value into a Status: "context: strerror". The one place errno is read.
Status ErrnoStatus(const std::string& context, int err);

}  // namespace lifeboat

// Returns early from the enclosing function when `expr` yields a failed Status.
#define LB_RETURN_IF_ERROR(expr)                 \
  do {                                           \
    ::lifeboat::Status lb_status_ = (expr);      \
    if (!lb_status_.ok()) return lb_status_;     \
  } while (0)
