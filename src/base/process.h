// Starting other programs (pg_ctl, pg_waldump, ...) without a shell: arguments are passed as
// they are, so no quoting bug can turn a path into a command.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace lifeboat {

struct ProcessOptions {
  std::map<std::string, std::string> env;  // added to (or overriding) the current environment
  std::string cwd;                         // empty: inherit
  double timeout_seconds = 0;              // 0: none; on expiry the child is killed (SIGKILL)
  bool capture = true;                     // collect stdout and stderr; else inherit them
};

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) to completion. Fails only when the program cannot be started or times
// out; a non-zero exit is reported in the result.
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 const ProcessOptions& options = {});

// "error output, last lines" for messages: the last `lines` non-empty lines of `text`.
std::string LastLines(const std::string& text, size_t lines);

}  // namespace lifeboat
