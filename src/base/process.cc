#include "base/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/fs.h"
#include "base/time.h"

namespace lifeboat {

Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 const ProcessOptions& options) {
  if (argv.empty()) return Status::Usage("no program to run");
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, in_pipe[2] = {-1, -1};
  bool feed = options.capture && !options.input.empty();
  if (options.capture && (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)) {
    return ErrnoStatus("cannot run '" + argv[0] + "'", errno);
  }
  if (feed && pipe2(in_pipe, O_CLOEXEC) != 0) return ErrnoStatus("cannot run '" + argv[0] + "'", errno);
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) return ErrnoStatus("cannot run '" + argv[0] + "'", errno);
  if (pid == 0) {
    if (options.capture) {
      dup2(out_pipe[1], STDOUT_FILENO);
      dup2(err_pipe[1], STDERR_FILENO);
    }
    if (feed) {
      dup2(in_pipe[0], STDIN_FILENO);
    } else if (int null = open("/dev/null", O_RDONLY); null >= 0) {
      dup2(null, STDIN_FILENO);
    }
    // A caller that blocks signals for a signalfd (the agent) must not hand the block on.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (const auto& [k, v] : options.env) setenv(k.c_str(), v.c_str(), 1);
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(126);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  ProcessResult r;
  if (options.capture) {
    close(out_pipe[1]);
    close(err_pipe[1]);
    // The input goes in as the child reads it, beside its output, so that neither side waits
    // for the other; SIGPIPE (a child that stops reading) is held on this thread and dropped.
    sigset_t pipe_only, saved;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    size_t fed = 0;
    if (feed) {
      close(in_pipe[0]);
      fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
      pthread_sigmask(SIG_BLOCK, &pipe_only, &saved);
    }
    struct pollfd fds[3] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}, {feed ? in_pipe[1] : -1, POLLOUT, 0}};
    std::string* sinks[2] = {&r.out, &r.err};
    int open_fds = 2;
    auto stop_feeding = [&] {
      if (fds[2].fd < 0) return;
      close(fds[2].fd);
      fds[2].fd = -1;
      struct timespec zero = {0, 0};
      while (sigtimedwait(&pipe_only, nullptr, &zero) > 0) {
      }
      pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    };
    double deadline = options.timeout_seconds > 0 ? MonotonicSeconds() + options.timeout_seconds : 0;
    bool timed_out = false;
    while (open_fds > 0) {
      int wait_ms = 1000;
      if (deadline > 0) {
        double left = deadline - MonotonicSeconds();
        if (left <= 0) {
          timed_out = true;
          break;
        }
        wait_ms = static_cast<int>(left * 1000) + 1;
      }
      int n = poll(fds, 3, wait_ms);
      if (n < 0 && errno != EINTR) break;
      if (fds[2].fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
        ssize_t put = write(fds[2].fd, options.input.data() + fed, options.input.size() - fed);
        if (put > 0) fed += static_cast<size_t>(put);
        if ((put < 0 && errno != EAGAIN && errno != EINTR) || fed == options.input.size()) stop_feeding();
      }
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[65536];
        ssize_t got = read(fds[i].fd, buf, sizeof(buf));
        if (got > 0) {
          if (i == 0 && options.on_stdout) {
            options.on_stdout(std::string_view(buf, static_cast<size_t>(got)));
          } else {
            sinks[i]->append(buf, static_cast<size_t>(got));
          }
        } else if (got == 0 || errno != EINTR) {
          close(fds[i].fd);
          fds[i].fd = -1;
          --open_fds;
        }
      }
    }
    stop_feeding();
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0) close(fds[i].fd);
    }
    if (timed_out) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      return Status::IO("'" + argv[0] + "' did not finish within " +
                        std::to_string(static_cast<int>(options.timeout_seconds)) + " s");
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
    if (r.exit_code == 127 && r.out.empty() && r.err.empty()) {
      return Status::IO("cannot run '" + argv[0] + "': program not found or not executable");
    }
  } else {
    r.exit_code = 128 + WTERMSIG(status);
  }
  return r;
}

Result<pid_t> SpawnDaemon(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env,
                          const std::string& log_file) {
  if (argv.empty()) return Status::Usage("no program to start");
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> cenv;
  for (auto& e : env_strings) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  // The pid of the daemon and then, if exec fails, its errno come back through this pipe; a
  // successful exec closes the write end (O_CLOEXEC) with nothing more written.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return ErrnoStatus("cannot start '" + argv[0] + "'", errno);
  int log_fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    close(report[0]);
    close(report[1]);
    return ErrnoStatus("cannot open log '" + log_file + "'", errno);
  }
  pid_t middle = fork();
  if (middle < 0) return ErrnoStatus("cannot start '" + argv[0] + "'", errno);
  if (middle == 0) {
    setsid();
    pid_t daemon = fork();
    if (daemon != 0) {
      if (daemon > 0) (void)!write(report[1], &daemon, sizeof(daemon));
      _exit(daemon > 0 ? 0 : 1);
    }
    int null = open("/dev/null", O_RDONLY);
    dup2(null, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(cargv[0], cargv.data(), cenv.data());
    int err = errno;
    (void)!write(report[1], &err, sizeof(err));
    _exit(127);
  }
  close(report[1]);
  close(log_fd);
  while (waitpid(middle, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_t daemon = -1;
  int err = 0;
  ssize_t got = read(report[0], &daemon, sizeof(daemon));
  ssize_t got_err = got == sizeof(daemon) ? read(report[0], &err, sizeof(err)) : 0;
  close(report[0]);
  if (got != sizeof(daemon)) return Status::IO("cannot start '" + argv[0] + "': fork failed");
  if (got_err == sizeof(err)) {
    waitpid(daemon, nullptr, WNOHANG);
    return ErrnoStatus("cannot start '" + argv[0] + "'", err);
  }
  return daemon;
}

Result<pid_t> SpawnChild(const std::vector<std::string>& argv, const std::string& out_file,
                         const std::string& err_file) {
  if (argv.empty()) return Status::Usage("no program to start");
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  auto open_out = [](const std::string& f) {
    return f.empty() ? -1 : open(f.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  };
  int out_fd = open_out(out_file), err_fd = open_out(err_file);
  if ((!out_file.empty() && out_fd < 0) || (!err_file.empty() && err_fd < 0)) {
    int err = errno;
    if (out_fd >= 0) close(out_fd);
    if (err_fd >= 0) close(err_fd);
    return ErrnoStatus("cannot open the output files of '" + argv[0] + "'", err);
  }
  // If exec fails its errno comes back through this pipe; a successful exec closes it.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return ErrnoStatus("cannot start '" + argv[0] + "'", errno);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return ErrnoStatus("cannot start '" + argv[0] + "'", errno);
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);  // the parent died before the death signal was armed
    int null = open("/dev/null", O_RDONLY);
    dup2(null, STDIN_FILENO);
    if (out_fd >= 0) dup2(out_fd, STDOUT_FILENO);
    if (err_fd >= 0) dup2(err_fd, STDERR_FILENO);
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(cargv[0], cargv.data());
    int err = errno;
    (void)!write(report[1], &err, sizeof(err));
    _exit(127);
  }
  close(report[1]);
  if (out_fd >= 0) close(out_fd);
  if (err_fd >= 0) close(err_fd);
  int err = 0;
  ssize_t got = read(report[0], &err, sizeof(err));
  close(report[0]);
  if (got == sizeof(err)) {
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return ErrnoStatus("cannot start '" + argv[0] + "'", err);
  }
  return pid;
}

bool ProcessMatches(pid_t pid, const std::string& marker) {
  if (pid <= 0) return false;
  Result<Bytes> cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  if (!cmdline.ok()) return false;
  std::string text(cmdline->begin(), cmdline->end());
  for (char& c : text) {
    if (c == '\0') c = ' ';
  }
  return text.find(marker) != std::string::npos;
}

Status StopProcess(pid_t pid, const std::string& marker, double grace_seconds) {
  if (!ProcessMatches(pid, marker)) return Status::Ok();
  kill(pid, SIGTERM);
  double deadline = MonotonicSeconds() + grace_seconds;
  while (ProcessMatches(pid, marker)) {
    if (MonotonicSeconds() > deadline) {
      kill(pid, SIGKILL);
      double hard = MonotonicSeconds() + 5;
      while (ProcessMatches(pid, marker)) {
        if (MonotonicSeconds() > hard) {
          return Status::IO("process " + std::to_string(pid) + " did not stop after SIGKILL");
        }
        usleep(20000);
      }
      break;
    }
    usleep(20000);
  }
  return Status::Ok();
}

std::string LastLines(const std::string& text, size_t lines) {
  std::vector<std::string> all;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) all.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
    if (!out.empty()) out += "\n";
    out += all[i];
  }
  return out;
}

}  // namespace lifeboat
