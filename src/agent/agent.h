// `lifeboat agent`: the long-running process that keeps the protections of [schedule] running
// without a person. It runs each job when due, as a child process of lifeboat's own command
// (jobs.h), one job at a time, and journals it; it records runs it was not up for as missed,
// or runs them when their span is still open (schedule.h's Decide); and it supervises `wal
// stream` as a child, restarted with backoff unless its failure is one a restart cannot fix.
//
// One agent per state directory (an flock on <state>/agent/lock; a second one is Code::kBusy
// naming the first). SIGHUP reloads the config (a bad one is refused and the old one kept);
// SIGTERM or SIGINT stop it: no new job starts, a running one is let finish, the streamer is
// stopped. Under systemd (Type=notify) it reports readiness, status and the watchdog through
// sd_notify. Logs go to stderr, one line per event.
//
// With [agent] listen it serves /metrics (agent/metrics.h) and /health over HTTP. The metrics
// come from probes, lifeboat's own `snapshots`, `window`, `drills` and `status` with --json,
// run one at a time as child processes every [agent] probe_interval, and from the journal.
//
// Thread safety: an Agent is one thread, plus the HTTP server's threads, which only read the
// rendered metrics under a mutex; Run blocks until it is told to stop.
#pragma once

#include <sys/types.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <thread>

#include "agent/alerts.h"
#include "agent/jobs.h"
#include "agent/metrics.h"
#include "agent/notifier.h"
#include "base/result.h"
#include "config/config.h"
#include "schedule/schedule.h"

namespace httplib {
class Server;
}

namespace lifeboat::agent {

// The agent of `cfg`'s state directory, for `status`: {"running", "pid", "alerts" (what it
// fires, as it last wrote <state>/agent/alerts.json)}; "running" is false when no agent holds
// the lock, and then nothing it wrote counts.
nlohmann::json AgentFacts(const Config& cfg);

struct AgentOptions {
  std::string config_file;
  std::string self;  // the lifeboat binary jobs and the streamer run
  std::function<void(const std::string&)> log;  // one event per call, no newline
};

class Agent {
 public:
  // Loads the config and takes the agent lock.
  static Result<std::unique_ptr<Agent>> Start(AgentOptions options);
  ~Agent();
  // Until SIGTERM or SIGINT; the returned status is why it stopped when not asked to.
  Status Run();

 private:
  struct Job {
    JobKind kind;
    schedule::Schedule schedule;
    std::optional<schedule::Window> window;  // full backups only
  };
  struct Running {
    JobRecord record;
    std::optional<UnixNanos> until;  // the end of its window or span
    bool overran = false;            // logged once
  };
  struct Streamer {
    pid_t pid = 0;
    double started = 0;         // monotonic
    double restart_at = 0;      // monotonic; 0 now
    double backoff = 1;         // seconds
    bool given_up = false;      // failed for a reason a restart cannot fix
    std::string why;            // that reason: its exit code and the last line of its log
    double exited_at = -1e18;   // monotonic; a restart within the grace is not "down"
  };

  Agent(AgentOptions options, Config cfg, int lock_fd);
  Status Configure(const Config& cfg);  // the jobs of `cfg`; an error leaves the old ones
  void AdoptEarlierRuns();              // records an earlier agent left running
  void Tick(UnixNanos now);
  void Reap();
  void Finish(int status);              // the running job ended with waitpid's status
  void StartNext(UnixNanos now);
  void SuperviseStreamer();
  void StreamerExited(int status);
  void StopStreamer();
  void SuperviseProbes();
  void ProbeExited(int status);
  void SuperviseRunbook();
  void RunbookExited(int status);
  void Observe();  // alerts and metrics from the probes' outputs and the journal
  bool ProbesWanted() const;
  Status StartHttp();  // agent_http.cc: /metrics, /health, the dashboard
  void RenderDashboard(const Observations& o);
  void StopHttp();
  double NextWakeSeconds(UnixNanos now) const;
  void Log(const std::string& line) const;
  void Notify(const std::string& state) const;

  AgentOptions options_;
  Config cfg_;
  int lock_fd_ = -1;
  std::optional<schedule::Zone> zone_;
  std::vector<Job> jobs_;
  AgentState state_;
  JobJournal journal_;
  std::deque<JobRecord> queue_;  // due, not started; one job runs at a time
  std::map<JobKind, std::optional<UnixNanos>> queued_until_;
  std::optional<Running> running_;
  pid_t running_pid_ = 0;
  std::map<JobKind, UnixNanos> wake_;  // each job's next instant of interest
  Streamer streamer_;
  struct Probe {
    pid_t pid = 0;
    size_t next = 0;          // index into the probe commands
    double next_cycle = 0;    // monotonic
  };
  Probe probe_;
  // `runbook --store` (the repositories and <state>/runbook.md): at start, after each reload
  // (the config may have changed) and after each job (its facts did); one at a time.
  struct RunbookWriter {
    pid_t pid = 0;
    bool due = true;
  };
  RunbookWriter runbook_;
  std::map<std::string, nlohmann::json> observed_;  // each probe's last --json output
  nlohmann::json previous_status_;                  // the status probe's output before the last
  bool alerts_written_ = false;                     // <state>/agent/alerts.json is current
  bool repository_up_ = false;
  std::string repository_error_;
  AlertTracker tracker_{0};
  std::unique_ptr<Notifier> notifier_;
  std::mutex metrics_mu_;
  std::string metrics_;  // the rendered exposition; guarded by metrics_mu_
  std::map<std::string, std::string> pages_;  // the dashboard's pages by path; guarded by metrics_mu_
  std::unique_ptr<httplib::Server> http_;
  std::thread http_thread_;
  bool stopping_ = false;
};

}  // namespace lifeboat::agent
