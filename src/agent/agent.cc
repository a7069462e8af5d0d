#include "agent/agent.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <httplib.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "agent/metrics.h"
#include "base/fs.h"
#include "base/process.h"

namespace lifeboat::agent {

namespace {

constexpr double kStreamerMaxBackoff = 60;
// A streamer that ran this long before it exited starts its backoff over.
constexpr double kStreamerHealthySeconds = 60;
constexpr double kMaxSleepSeconds = 1;
// The probes behind /metrics, in the order they run.
const char* const kProbes[] = {"snapshots", "window", "drills", "status"};

sigset_t AgentSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGHUP, SIGTERM, SIGINT, SIGCHLD}) sigaddset(&set, s);
  return set;
}

int ExitCodeOf(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

std::string ReadText(const std::string& file) {
  Result<Bytes> b = ReadFile(file);
  return b.ok() ? std::string(b->begin(), b->end()) : std::string();
}

}  // namespace

Result<std::unique_ptr<Agent>> Agent::Start(AgentOptions options) {
  // Blocked before any thread starts (the notifier's, the HTTP server's, curl's), so every
  // thread inherits the mask and the signals reach only Run's signalfd: a SIGTERM delivered to
  // a thread that does not block it would kill the agent mid-job.
  sigset_t set = AgentSignals();
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return ErrnoStatus("cannot block signals", errno);
  LB_ASSIGN_OR_RETURN(Config cfg, LoadConfig(options.config_file));
  std::string dir = JoinPath(cfg.state.dir, "agent");
  LB_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  std::string lock = JoinPath(dir, "lock");
  int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("cannot open '" + lock + "'", errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    ::close(fd);
    std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    return Status::Busy("another agent runs for state directory '" + cfg.state.dir + "' (pid " + pid + ")",
                        "stop it first, or send it SIGHUP to reload its config");
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus("cannot write '" + lock + "'", err);
  }
  std::unique_ptr<Agent> agent(new Agent(std::move(options), cfg, fd));
  LB_RETURN_IF_ERROR(agent->Configure(cfg));
  LB_ASSIGN_OR_RETURN(agent->state_, AgentState::Load(cfg.state.dir));
  return agent;
}

Agent::Agent(AgentOptions options, Config cfg, int lock_fd)
    : options_(std::move(options)), cfg_(std::move(cfg)), lock_fd_(lock_fd), journal_(cfg_.state.dir) {}

Agent::~Agent() {
  StopHttp();
  StopStreamer();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status Agent::Configure(const Config& cfg) {
  LB_ASSIGN_OR_RETURN(schedule::Zone zone, schedule::Zone::Named(cfg.schedule.timezone));
  std::vector<Job> jobs;
  for (JobKind k : kAllJobs) {
    const std::string& text = ScheduleText(cfg, k);
    if (text.empty()) continue;
    LB_ASSIGN_OR_RETURN(schedule::Schedule s, schedule::Schedule::Parse(text));
    if (s.after_backup()) continue;  // the backups copy to the offsite repository themselves
    std::string what = "config '" + cfg.file + "': [schedule] " + JobKindName(k);
    if ((k == JobKind::kFull || k == JobKind::kIncremental || k == JobKind::kVerify || k == JobKind::kDrill) &&
        !cfg.database.present) {
      return Status::Config(what + " needs a [database] section");
    }
    if (k == JobKind::kCopy && !cfg.offsite) return Status::Config(what + " needs a [repository.offsite] section");
    Job job{k, std::move(s), std::nullopt};
    if (k == JobKind::kFull && !cfg.schedule.window.empty()) {
      LB_ASSIGN_OR_RETURN(schedule::Window w, schedule::Window::Parse(cfg.schedule.window));
      job.window = std::move(w);
    }
    jobs.push_back(std::move(job));
  }
  zone_ = std::move(zone);
  jobs_ = std::move(jobs);
  tracker_.set_repeat(cfg.alert.repeat_seconds);  // what fires keeps firing across a reload
  notifier_.reset();
  if (!cfg.alert.notify.empty()) {
    notifier_ = std::make_unique<Notifier>(cfg.alert.notify, cfg.contacts,
                                           [this](const std::string& line) { Log(line); });
  }
  return Status::Ok();
}

void Agent::Log(const std::string& line) const {
  if (options_.log) options_.log(FormatIso8601(NowNanos()) + " " + line);
}

void Agent::Notify(const std::string& state) const { (void)sd_notify(0, state.c_str()); }

Status Agent::Run() {
  sigset_t set = AgentSignals();
  int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return ErrnoStatus("cannot open a signalfd", errno);

  Log("agent started (pid " + std::to_string(::getpid()) + ", config " + cfg_.file + ", time zone " + zone_->name() +
      ")");
  UnixNanos now = NowNanos();
  for (const Job& j : jobs_) {
    std::optional<UnixNanos> next = j.schedule.NextAfter(now, *zone_);
    Log("job " + std::string(JobKindName(j.kind)) + " '" + j.schedule.text() + "'" +
        (j.window ? " in window " + j.window->text() : "") +
        (next ? ", next " + zone_->Format(*next) + " (" + FormatIso8601(*next) + ")" : ", never due"));
  }
  AdoptEarlierRuns();
  streamer_.exited_at = MonotonicSeconds();  // the grace for its first start counts from now
  Observe();
  if (Status s = StartHttp(); !s.ok()) {
    ::close(sfd);
    return s;
  }
  Notify("READY=1\nSTATUS=watching " + std::to_string(jobs_.size()) + " scheduled job(s)");
  uint64_t watchdog_usec = 0;
  bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0;
  double next_ping = 0;

  while (true) {
    Reap();
    if (!stopping_) {
      Tick(NowNanos());
      SuperviseStreamer();
      SuperviseProbes();
      SuperviseRunbook();
    }
    if (stopping_ && !running_) break;
    double sleep = std::min(kMaxSleepSeconds, NextWakeSeconds(NowNanos()));
    if (watchdog) {
      double mono = MonotonicSeconds();
      if (mono >= next_ping) {
        Notify("WATCHDOG=1");
        next_ping = mono + static_cast<double>(watchdog_usec) / 2e6;
      }
      sleep = std::min(sleep, std::max(0.01, next_ping - mono));
    }
    pollfd p{sfd, POLLIN, 0};
    (void)::poll(&p, 1, static_cast<int>(sleep * 1000) + 1);
    signalfd_siginfo si;
    while (::read(sfd, &si, sizeof(si)) == sizeof(si)) {
      if (si.ssi_signo == SIGHUP) {
        Result<Config> fresh = LoadConfig(options_.config_file);
        Status s = fresh.ok() ? Configure(*fresh) : fresh.status();
        if (!s.ok()) {
          Log("config refused, the old one is kept: " + s.message());
          continue;
        }
        cfg_ = std::move(*fresh);
        streamer_.given_up = false;
        runbook_.due = true;
        wake_.clear();
        Log("config reloaded: " + std::to_string(jobs_.size()) + " scheduled job(s)");
      } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
        if (!stopping_) {
          stopping_ = true;
          Notify("STOPPING=1");
          Log(running_ ? "stopping: letting job " + running_->record.id + " finish" : std::string("stopping"));
        }
      }
    }
  }
  ::close(sfd);
  StopStreamer();
  if (probe_.pid != 0) {
    ::kill(probe_.pid, SIGTERM);
    (void)::waitpid(probe_.pid, nullptr, 0);
    probe_.pid = 0;
  }
  if (runbook_.pid != 0) (void)::waitpid(runbook_.pid, nullptr, 0);  // short; it finishes
  StopHttp();
  Log("agent stopped");
  return Status::Ok();
}

void Agent::AdoptEarlierRuns() {
  Result<std::vector<JobRecord>> records = journal_.List(50);
  if (!records.ok()) {
    Log("cannot read the job journal: " + records.status().message());
    return;
  }
  for (JobRecord r : *records) {
    if (r.state != JobState::kRunning) continue;
    // An earlier agent's job: its death signal stopped it, or is stopping it now.
    if (ProcessMatches(r.pid, cfg_.file)) {
      Log("job " + r.id + " (pid " + std::to_string(r.pid) + ") of an earlier agent is still running: waiting for it");
      while (ProcessMatches(r.pid, cfg_.file)) ::usleep(100 * 1000);
    }
    r.state = JobState::kInterrupted;
    r.finished_at = NowNanos();
    r.detail = "the agent that started it stopped while it ran; its outcome is unknown";
    (void)journal_.Save(r);
    Log("job " + r.id + " interrupted: " + r.detail);
    // Its due time counts as not handled, so it runs again while its span is still open.
    auto it = state_.last_handled.find(JobKindName(r.job));
    if (it != state_.last_handled.end() && it->second == r.due_at) it->second = r.due_at - 1;
  }
}

void Agent::Tick(UnixNanos now) {
  bool changed = false;
  for (const Job& j : jobs_) {
    std::string name = JobKindName(j.kind);
    bool busy = (running_ && running_->record.job == j.kind) ||
                std::any_of(queue_.begin(), queue_.end(), [&](const JobRecord& r) { return r.job == j.kind; });
    if (busy) continue;
    auto it = state_.last_handled.find(name);
    if (it == state_.last_handled.end()) {
      // New to this agent: nothing before now is missed.
      state_.last_handled[name] = now;
      changed = true;
      it = state_.last_handled.find(name);
    }
    schedule::Decision d = schedule::Decide(j.schedule, j.window, *zone_, it->second, now);
    for (UnixNanos m : d.missed) {
      JobRecord r;
      r.id = journal_.FreshId(j.kind, m);
      r.job = j.kind;
      r.state = JobState::kMissed;
      r.due_at = m;
      r.detail = j.window ? "not started inside its window " + j.window->text() : "not started before the next one was due";
      (void)journal_.Save(r);
      Log("job " + r.id + " missed: " + r.detail);
      state_.last_handled[name] = m;
      changed = true;
    }
    if (d.run) {
      JobRecord r;
      r.id = JobId(j.kind, *d.run);
      r.job = j.kind;
      r.due_at = *d.run;
      queue_.push_back(r);
      queued_until_[j.kind] = d.until;
    }
    if (d.wake) {
      wake_[j.kind] = *d.wake;
    } else {
      wake_.erase(j.kind);
    }
  }
  if (running_ && running_->until && now > *running_->until && !running_->overran) {
    running_->overran = true;
    Log("job " + running_->record.id + " is still running after its window closed at " + zone_->Format(*running_->until));
  }
  if (changed) {
    Status s = state_.Save(cfg_.state.dir);
    if (!s.ok()) Log("cannot save the agent's state: " + s.message());
  }
  StartNext(now);
}

void Agent::StartNext(UnixNanos now) {
  while (!running_ && !queue_.empty()) {
    JobRecord r = queue_.front();
    queue_.pop_front();
    std::optional<UnixNanos> until = queued_until_[r.job];
    std::string name = JobKindName(r.job);
    state_.last_handled[name] = r.due_at;
    Status saved = state_.Save(cfg_.state.dir);
    if (!saved.ok()) Log("cannot save the agent's state: " + saved.message());
    r.id = journal_.FreshId(r.job, r.due_at);
    if (until && now >= *until) {
      r.state = JobState::kMissed;
      r.detail = "another job ran until its span ended";
      (void)journal_.Save(r);
      Log("job " + r.id + " missed: " + r.detail);
      continue;
    }
    std::vector<std::string> argv = JobCommand(r.job, options_.self, cfg_);
    (void)MakeDirs(journal_.dir(), 0700);
    Result<pid_t> pid = SpawnChild(argv, journal_.OutFile(r.id), journal_.ErrFile(r.id));
    r.started_at = now;
    if (!pid.ok()) {
      r.state = JobState::kFailed;
      r.finished_at = now;
      r.detail = pid.status().message();
      (void)journal_.Save(r);
      Log("job " + r.id + " failed to start: " + r.detail);
      continue;
    }
    r.pid = *pid;
    r.state = JobState::kRunning;
    (void)journal_.Save(r);
    running_ = Running{r, until, false};
    running_pid_ = *pid;
    std::string cmd;
    for (size_t i = 4; i < argv.size(); ++i) cmd += (cmd.empty() ? "" : " ") + argv[i];
    Log("job " + r.id + " started (pid " + std::to_string(*pid) + "): lifeboat " + cmd);
    Notify("STATUS=running job " + r.id);
  }
}

void Agent::Reap() {
  // Only the agent's own children by pid: the notifier's commands are waited for by its thread.
  int status = 0;
  if (running_ && ::waitpid(running_pid_, &status, WNOHANG) == running_pid_) Finish(status);
  if (streamer_.pid != 0 && ::waitpid(streamer_.pid, &status, WNOHANG) == streamer_.pid) StreamerExited(status);
  if (probe_.pid != 0 && ::waitpid(probe_.pid, &status, WNOHANG) == probe_.pid) ProbeExited(status);
  if (runbook_.pid != 0 && ::waitpid(runbook_.pid, &status, WNOHANG) == runbook_.pid) RunbookExited(status);
}

void Agent::Finish(int status) {
  JobRecord r = running_->record;
  r.finished_at = NowNanos();
  r.exit_code = ExitCodeOf(status);
  r.pid = 0;
  r.state = r.exit_code == 0 ? JobState::kSucceeded : JobState::kFailed;
  std::string out = ReadText(journal_.OutFile(r.id));
  std::string err = ReadText(journal_.ErrFile(r.id));
  auto figures = nlohmann::json::parse(out, nullptr, false);
  if (r.state == JobState::kSucceeded && !figures.is_discarded()) r.figures = figures;
  r.detail = LastLines(err, r.state == JobState::kSucceeded ? 1 : 3);
  if (running_->until && *r.finished_at > *running_->until) {
    r.detail += std::string(r.detail.empty() ? "" : "; ") + "finished after its window closed";
  }
  Status saved = journal_.Save(r);
  if (!saved.ok()) Log("cannot journal job " + r.id + ": " + saved.message());
  (void)RemoveFile(journal_.OutFile(r.id));
  (void)RemoveFile(journal_.ErrFile(r.id));
  char secs[32];
  std::snprintf(secs, sizeof(secs), "%.1f s", static_cast<double>(*r.finished_at - *r.started_at) / 1e9);
  Log("job " + r.id + " " + JobStateName(r.state) + " in " + secs +
      (r.state == JobState::kSucceeded ? "" : " (exit " + std::to_string(r.exit_code) + ")") +
      (r.detail.empty() ? "" : ": " + r.detail));
  running_.reset();
  running_pid_ = 0;
  runbook_.due = true;
  Observe();
  Notify("STATUS=watching " + std::to_string(jobs_.size()) + " scheduled job(s)");
}

void Agent::SuperviseStreamer() {
  bool wanted = cfg_.agent.stream && cfg_.database.present;
  if (!wanted) {
    StopStreamer();
    return;
  }
  if (streamer_.pid != 0 || streamer_.given_up || MonotonicSeconds() < streamer_.restart_at) return;
  std::string err = JoinPath(cfg_.state.dir, "agent/wal-stream.log");
  Result<pid_t> pid = SpawnChild({options_.self, "-c", cfg_.file, "wal", "stream"}, err, err);
  if (!pid.ok()) {
    Log("cannot start wal stream: " + pid.status().message());
    streamer_.restart_at = MonotonicSeconds() + streamer_.backoff;
    streamer_.backoff = std::min(kStreamerMaxBackoff, streamer_.backoff * 2);
    return;
  }
  streamer_.pid = *pid;
  streamer_.started = MonotonicSeconds();
  Log("wal stream started (pid " + std::to_string(*pid) + ", its log " + err + ")");
}

void Agent::StreamerExited(int status) {
  int code = ExitCodeOf(status);
  double ran = MonotonicSeconds() - streamer_.started;
  std::string why = LastLines(ReadText(JoinPath(cfg_.state.dir, "agent/wal-stream.log")), 1);
  streamer_.pid = 0;
  streamer_.exited_at = MonotonicSeconds();
  // Exit 1 (usage, config, a wrong key) and 3 (integrity) are not what a restart fixes.
  if (code == 1 || code == 3) {
    streamer_.given_up = true;
    streamer_.why = "exit " + std::to_string(code) + ", " + why + " (not restarted: fix it, then send the agent SIGHUP)";
    Observe();  // the alert says so now, not at the next probe cycle
    Log("wal stream failed (exit " + std::to_string(code) + "): " + why +
        "; not restarted, a restart cannot fix this: fix it, then send the agent SIGHUP");
    return;
  }
  if (ran >= kStreamerHealthySeconds) streamer_.backoff = 1;
  streamer_.restart_at = MonotonicSeconds() + streamer_.backoff;
  char in[32];
  std::snprintf(in, sizeof(in), "%.0f s", streamer_.backoff);
  Log("wal stream exited (exit " + std::to_string(code) + ")" + (why.empty() ? "" : ": " + why) + "; restarting in " + in);
  streamer_.backoff = std::min(kStreamerMaxBackoff, streamer_.backoff * 2);
}

void Agent::StopStreamer() {
  if (streamer_.pid == 0) return;
  ::kill(streamer_.pid, SIGTERM);
  double deadline = MonotonicSeconds() + 10;
  int status = 0;
  while (::waitpid(streamer_.pid, &status, WNOHANG) == 0) {
    if (MonotonicSeconds() > deadline) {
      ::kill(streamer_.pid, SIGKILL);
      (void)::waitpid(streamer_.pid, &status, 0);
      break;
    }
    ::usleep(20 * 1000);
  }
  Log("wal stream stopped");
  streamer_.pid = 0;
}

void Agent::SuperviseProbes() {
  if (!ProbesWanted() || probe_.pid != 0 || MonotonicSeconds() < probe_.next_cycle) return;
  // Without a [database] only the repository's snapshots say anything.
  size_t count = cfg_.database.present ? std::size(kProbes) : 1;
  if (probe_.next >= count) probe_.next = 0;
  std::string dir = JoinPath(cfg_.state.dir, "agent");
  std::vector<std::string> argv = {options_.self, "-c", cfg_.file, "--json"};
  // The primary itself: a fallback to the offsite mirror would hide that it does not answer.
  if (probe_.next == 0) argv.insert(argv.end(), {"--repo", "primary"});
  argv.push_back(kProbes[probe_.next]);
  Result<pid_t> pid = SpawnChild(argv, JoinPath(dir, "probe.out"), JoinPath(dir, "probe.err"));
  if (!pid.ok()) {
    Log("cannot run the metrics probe '" + std::string(kProbes[probe_.next]) + "': " + pid.status().message());
    probe_.next_cycle = MonotonicSeconds() + static_cast<double>(std::max<int64_t>(1, cfg_.agent.probe_interval_seconds));
    return;
  }
  probe_.pid = *pid;
}

void Agent::ProbeExited(int status) {
  probe_.pid = 0;
  std::string name = kProbes[probe_.next];
  bool first = !observed_.count(name);
  std::string dir = JoinPath(cfg_.state.dir, "agent");
  auto out = nlohmann::json::parse(ReadText(JoinPath(dir, "probe.out")), nullptr, false);
  // `status` exits 2 when something is unhealthy and still reports: its JSON counts.
  if (name == "status") previous_status_ = observed_[name];
  observed_[name] = out.is_discarded() ? nlohmann::json() : out;
  if (name == "snapshots") {
    bool up = ExitCodeOf(status) == 0;
    if (first ? !up : up != repository_up_) {
      Log(up ? "the repository answers again"
             : "the repository does not answer: " + LastLines(ReadText(JoinPath(dir, "probe.err")), 1));
    }
    repository_up_ = up;
    repository_error_ = up ? "" : LastLines(ReadText(JoinPath(dir, "probe.err")), 1);
  }
  size_t count = cfg_.database.present ? std::size(kProbes) : 1;
  if (++probe_.next >= count) {
    probe_.next = 0;
    probe_.next_cycle = MonotonicSeconds() + static_cast<double>(std::max<int64_t>(1, cfg_.agent.probe_interval_seconds));
    Observe();
  }
}

void Agent::SuperviseRunbook() {
  if (!runbook_.due || runbook_.pid != 0) return;
  runbook_.due = false;
  std::string err = JoinPath(JoinPath(cfg_.state.dir, "agent"), "runbook.err");
  Result<pid_t> pid = SpawnChild({options_.self, "-c", cfg_.file, "runbook", "--store", "-o",
                                  JoinPath(cfg_.state.dir, "runbook.md")},
                                 err, err);
  if (!pid.ok()) {
    Log("cannot write the runbook: " + pid.status().message());
    return;
  }
  runbook_.pid = *pid;
}

void Agent::RunbookExited(int status) {
  runbook_.pid = 0;
  std::string err = ReadText(JoinPath(JoinPath(cfg_.state.dir, "agent"), "runbook.err"));
  if (ExitCodeOf(status) != 0) {
    Log("cannot write the runbook (exit " + std::to_string(ExitCodeOf(status)) + "): " + LastLines(err, 1));
  } else {
    Log("runbook written to " + JoinPath(cfg_.state.dir, "runbook.md") + " and stored in the repository");
  }
}

bool Agent::ProbesWanted() const { return !cfg_.agent.listen.empty() || !cfg_.alert.notify.empty(); }

void Agent::Observe() {
  if (!ProbesWanted()) return;
  Observations o;
  o.now = NowNanos();
  o.snapshots = observed_["snapshots"];
  o.window = observed_["window"];
  o.drills = observed_["drills"];
  o.status = observed_["status"];
  o.previous_status = previous_status_;
  o.probed = observed_.count("snapshots") > 0;
  o.repository_up = repository_up_;
  o.repository_error = repository_error_;
  Result<std::vector<JobRecord>> jobs = journal_.List();
  if (jobs.ok()) o.jobs = std::move(*jobs);
  o.rto_objective_seconds = cfg_.objectives.rto_seconds;
  o.rpo_objective_seconds = cfg_.objectives.rpo_seconds;
  o.stream_wanted = cfg_.agent.stream && cfg_.database.present;
  // A streamer between a crash and its restart is not down yet.
  constexpr double kStreamerGraceSeconds = 30;
  o.stream_up = streamer_.pid != 0 || (!streamer_.given_up && MonotonicSeconds() - streamer_.exited_at < kStreamerGraceSeconds);
  o.stream_error = streamer_.given_up ? streamer_.why : "";
  std::vector<AlertCheck> checks = EvaluateChecks(o);
  for (const AlertCheck& c : checks) o.alerts[c.name] = c.firing;
  std::vector<Notification> sent = tracker_.Update(checks, o.now);
  for (const Notification& n : sent) {
    Log("alert " + n.alert + " " + n.state + (n.summary.empty() ? "" : ": " + n.summary));
    if (notifier_) notifier_->Send(n);
  }
  // What fires, for `status` (agent/checkup.h's AgentFacts); rewritten when it changes.
  FiringAlerts firing{o.now, tracker_.Firing()};
  std::string text = firing.ToJson().dump(2) + "\n";
  if (!sent.empty() || !alerts_written_) {
    Status s = WriteFileDurable(JoinPath(cfg_.state.dir, "agent/alerts.json"),
                                ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size()), 0600);
    if (!s.ok()) Log("cannot write the firing alerts: " + s.message());
    alerts_written_ = s.ok();
  }
  text = RenderMetrics(o);
  {
    std::lock_guard<std::mutex> lock(metrics_mu_);
    metrics_ = std::move(text);
  }
  RenderDashboard(o);
}

double Agent::NextWakeSeconds(UnixNanos now) const {
  double s = kMaxSleepSeconds;
  for (const auto& [kind, at] : wake_) s = std::min(s, static_cast<double>(at - now) / 1e9);
  if (streamer_.pid == 0 && !streamer_.given_up && streamer_.restart_at > 0) {
    s = std::min(s, streamer_.restart_at - MonotonicSeconds());
  }
  return std::max(0.01, s);
}

nlohmann::json AgentFacts(const Config& cfg) {
  nlohmann::json out = {{"running", false}, {"pid", 0}, {"alerts", nlohmann::json::array()}};
  std::optional<pid_t> holder = LockHolder(JoinPath(cfg.state.dir, "agent/lock"));
  if (!holder) return out;
  out["running"] = true;
  out["pid"] = *holder;
  Result<Bytes> b = ReadFile(JoinPath(cfg.state.dir, "agent/alerts.json"));
  if (!b.ok()) return out;
  Result<FiringAlerts> f =
      FiringAlerts::FromJson(nlohmann::json::parse(b->begin(), b->end(), nullptr, false), "agent/alerts.json");
  if (!f.ok()) return out;
  for (const FiringAlert& a : f->alerts) {
    out["alerts"].push_back({{"alert", a.alert}, {"summary", a.summary}, {"since", FormatIso8601(a.since, true)}});
  }
  return out;
}

}  // namespace lifeboat::agent
