#include "platform/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <deque>

#include "base/fs.h"
#include "base/json_fields.h"
#include "base/time.h"

namespace lifeboat::platform {

namespace {

void Log(const std::string& line) {
  std::fprintf(stderr, "%s [supervisor] %s\n", FormatIso8601(NowNanos()).c_str(), line.c_str());
  std::fflush(stderr);
}

// The status file is runtime state for `service status`, not data: rename makes each update
// atomic for readers, and it is not fsynced (after a power cut nothing it describes is running).
void Publish(const std::string& path, const ReplicaStatus& s) {
  std::string text = ReplicaStatusToJson(s).dump() + "\n";
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return;
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  std::rename(tmp.c_str(), path.c_str());
}

pid_t StartChild(const std::vector<std::string>& command) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  std::vector<std::string> args = command;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  std::fprintf(stderr, "[supervisor] cannot run '%s': %s\n", argv[0], std::strerror(errno));
  _exit(127);
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "unknown";
}

}  // namespace

const char* SupervisorStateName(SupervisorState s) {
  switch (s) {
    case SupervisorState::kUnknown: return "unknown";
    case SupervisorState::kStarting: return "starting";
    case SupervisorState::kRunning: return "running";
    case SupervisorState::kBackoff: return "backoff";
    case SupervisorState::kStopped: return "stopped";
  }
  return "unknown";
}

nlohmann::json ReplicaStatusToJson(const ReplicaStatus& s) {
  return {{"state", SupervisorStateName(s.state)},           {"child_pid", s.child_pid},
          {"restarts", s.restarts},     {"recent_exits", s.recent_exits},
          {"last_exit", s.last_exit},   {"started_at", s.started_at},
          {"crash_loop", s.crash_loop()}};
}

ReplicaStatus ReadReplicaStatus(const std::string& status_file) {
  ReplicaStatus s;
  Result<Bytes> bytes = ReadFile(status_file);
  if (!bytes.ok()) return s;
  auto j = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (!j.is_object()) return s;
  constexpr SupervisorState kStates[] = {SupervisorState::kStarting, SupervisorState::kRunning,
                                         SupervisorState::kBackoff, SupervisorState::kStopped};
  // Runtime state, not data: a field that cannot be read keeps its default.
  JsonFields f(j, status_file);
  if (!f.Enum("state", kStates, &SupervisorStateName, "a supervisor state", &s.state).ok()) {
    s.state = SupervisorState::kUnknown;
  }
  s.child_pid = j.value("child_pid", 0);
  s.restarts = j.value("restarts", 0);
  s.recent_exits = j.value("recent_exits", 0);
  s.last_exit = j.value("last_exit", "");
  s.started_at = j.value("started_at", "");
  return s;
}

Status RunSupervisor(const SupervisorOptions& options) {
  if (options.command.empty()) return Status::Usage("no command to supervise");
  // Signals arrive through sigtimedwait only: SIGCHLD (the child exited) and the stop signals.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, nullptr);

  ReplicaStatus status;
  std::deque<double> exits;  // monotonic times of recent exits
  double backoff = 0.5;
  pid_t child = 0;
  double child_started = 0;
  double restart_at = MonotonicSeconds();
  bool stopping = false;

  while (!stopping) {
    double now = MonotonicSeconds();
    if (child == 0 && now >= restart_at) {
      child = StartChild(options.command);
      if (child < 0) return ErrnoStatus("cannot fork", errno);
      child_started = now;
      status.state = SupervisorState::kRunning;
      status.child_pid = child;
      status.started_at = FormatIso8601(NowNanos(), true);
      Publish(options.status_file, status);
      Log("started " + options.command[0] + " as pid " + std::to_string(child));
    }
    double wait = child != 0 ? 1.0 : std::max(0.01, restart_at - now);
    struct timespec ts;
    ts.tv_sec = static_cast<time_t>(wait);
    ts.tv_nsec = static_cast<long>((wait - static_cast<double>(ts.tv_sec)) * 1e9);
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGTERM || sig == SIGINT) {
      stopping = true;
      break;
    }
    if (child == 0) continue;
    int wstatus = 0;
    pid_t done = waitpid(child, &wstatus, WNOHANG);
    if (done != child) continue;
    now = MonotonicSeconds();
    status.last_exit = DescribeExit(wstatus);
    ++status.restarts;
    exits.push_back(now);
    while (!exits.empty() && exits.front() < now - 60) exits.pop_front();
    status.recent_exits = static_cast<int>(exits.size());
    // A replica that ran for a while crashed once; one that dies at once is retried ever more
    // slowly (0.5 s doubling up to 10 s) so that a crash loop does not burn the machine.
    backoff = now - child_started > 30 ? 0.5 : std::min(backoff * 2, 10.0);
    if (now - child_started > 30) exits.clear();
    restart_at = now + backoff;
    child = 0;
    status.child_pid = 0;
    status.state = SupervisorState::kBackoff;
    Publish(options.status_file, status);
    Log(options.command[0] + " exited (" + status.last_exit + "); restarting in " +
        std::to_string(static_cast<long>(backoff * 1000)) + " ms");
  }

  if (child != 0) {
    kill(child, SIGTERM);
    double deadline = MonotonicSeconds() + options.stop_grace_seconds;
    bool killed = false;
    while (waitpid(child, nullptr, WNOHANG) != child) {
      if (!killed && MonotonicSeconds() > deadline) {
        kill(child, SIGKILL);
        killed = true;
      }
      usleep(20000);
    }
    Log("stopped " + options.command[0] + " (pid " + std::to_string(child) + ")");
  }
  status.state = SupervisorState::kStopped;
  status.child_pid = 0;
  Publish(options.status_file, status);
  return Status::Ok();
}

}  // namespace lifeboat::platform
