// Starting other programs (pg_ctl, pg_waldump, ...) without a shell: arguments are passed as
// they are, so no quoting bug can turn a path into a command.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace lifeboat {

struct ProcessOptions {
  std::map<std::string, std::string> env;  // added to (or overriding) the current environment
  std::string cwd;                         // empty: inherit
  double timeout_seconds = 0;              // 0: none; on expiry the child is killed (SIGKILL)
  bool capture = true;                     // collect stdout and stderr; else inherit them
  // With capture: stdout is handed to this, piece by piece as it arrives (pieces split lines
  // anywhere), instead of being collected in ProcessResult::out. For outputs too large to hold.
  std::function<void(std::string_view)> on_stdout;
  // With capture: written to the child's stdin (then closed) while its output is read; a child
  // that exits without reading it all is not an error here (its exit code says what it did).
  // Without input, stdin is /dev/null.
  std::string input;
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

// Starts argv[0] as a daemon: in its own session, detached from lifeboat (double fork, so it
// is never lifeboat's zombie), stdin from /dev/null, stdout and stderr appended to `log_file`,
// no other descriptor inherited. `env` is its whole environment: nothing of lifeboat's own
// (such as LIFEBOAT_PASSPHRASE) leaks into it. Returns the daemon's pid once it has exec'd;
// an exec failure is reported as an error.
Result<pid_t> SpawnDaemon(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env,
                          const std::string& log_file);

// Starts argv[0] as a child of this process, for a supervisor that reaps it (waitpid): stdin
// from /dev/null, stdout and stderr to `out_file` and `err_file` (created or truncated; ""
// inherits this process's), in a process group of its own (a terminal's Ctrl-C reaches the
// supervisor, which stops its children itself), and sent SIGTERM if this process dies first
// (PR_SET_PDEATHSIG), so a supervisor killed with -9 leaves no child working for nobody. Must
// be called from the thread that lives as long as the process (the death signal follows the
// thread). No descriptor but the three is inherited; the environment is this process's.
Result<pid_t> SpawnChild(const std::vector<std::string>& argv, const std::string& out_file,
                         const std::string& err_file);

// True when `pid` is alive and its command line contains `marker` (a path unique to the
// process lifeboat started), so that a recycled pid is never mistaken for it.
bool ProcessMatches(pid_t pid, const std::string& marker);

// Sends SIGTERM to a process that matches `marker`, waits up to `grace_seconds` for it to go,
// then sends SIGKILL and waits again. A process already gone is fine.
Status StopProcess(pid_t pid, const std::string& marker, double grace_seconds);

// "error output, last lines" for messages: the last `lines` non-empty lines of `text`.
std::string LastLines(const std::string& text, size_t lines);

}  // namespace lifeboat
