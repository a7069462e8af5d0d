#include "runbook/engine.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/time.h"

namespace lifeboat::runbook {

double StepContext::SecondsLeft() const { return deadline - MonotonicSeconds(); }

Result<RunRecord> Engine::Begin(const Plan& plan, const nlohmann::json& params) {
  RunRecord run;
  run.kind = plan.kind;
  run.id = NewRunId(plan.kind);
  run.started_at = FormatIso8601(NowNanos(), true);
  run.who = Username() + "@" + Hostname();
  run.pid = getpid();
  run.params = params;
  for (const Step& s : plan.steps) run.steps.push_back({s.name, s.description});
  // Two runs of one kind in the same second get distinct ids.
  for (int n = 2; journal_->Load(run.id).ok(); ++n) run.id = NewRunId(plan.kind) + "-" + std::to_string(n);
  LB_RETURN_IF_ERROR(journal_->Save(run));
  return run;
}

Status Engine::Finish(RunRecord* run, const Status& s, RunState state) {
  run->state = state;
  run->finished_at = FormatIso8601(NowNanos(), true);
  run->exit_code = ExitCodeFor(s);
  run->error = s.ok() ? "" : s.message();
  Status saved = journal_->Save(*run);
  if (!s.ok()) return s;
  return saved;
}

Status Engine::Execute(RunRecord* run, const Plan& plan) {
  run->pid = getpid();
  run->state = RunState::kRunning;
  run->finished_at.clear();
  for (const Step& step : plan.steps) {
    StepRecord* rec = run->Step(step.name);
    if (rec == nullptr) return Status::Corruption("run " + run->id + " has no step '" + step.name + "'");
    if (rec->state == StepState::kDone) continue;
    double t0 = MonotonicSeconds();
    StepContext ctx{*run, say_, t0 + step.timeout_seconds, [this, run] { return journal_->Save(*run); }};
    rec = run->Step(step.name);
    rec->state = StepState::kRunning;
    rec->started_at = FormatIso8601(NowNanos(), true);
    LB_RETURN_IF_ERROR(journal_->Save(*run));
    say_("[" + step.name + "] " + step.description);

    Result<bool> already = step.done ? step.done(ctx) : Result<bool>(false);
    Result<std::string> outcome = std::string("already done");
    if (!already.ok()) {
      outcome = already.status();
    } else if (!*already) {
      outcome = step.run(ctx);
    }
    double secs = MonotonicSeconds() - t0;
    if (outcome.ok() && secs > step.timeout_seconds) {
      outcome = Status::IO("step '" + step.name + "' took " + FormatDuration(secs) +
                           ", past its timeout of " + FormatDuration(step.timeout_seconds));
    }
    rec = run->Step(step.name);
    rec->finished_at = FormatIso8601(NowNanos(), true);
    rec->seconds = secs;
    if (outcome.ok()) {
      rec->state = StepState::kDone;
      rec->detail = *outcome;
      LB_RETURN_IF_ERROR(journal_->Save(*run));
      say_("[" + step.name + "] done in " + FormatDuration(secs) + (outcome->empty() ? "" : ": " + *outcome));
      continue;
    }
    rec->state = StepState::kFailed;
    rec->detail = outcome.status().message();
    LB_RETURN_IF_ERROR(journal_->Save(*run));
    say_("[" + step.name + "] FAILED after " + FormatDuration(secs) + ": " + outcome.status().message());
    if (plan.revert) {
      StepContext rctx{*run, say_, MonotonicSeconds() + 600, [this, run] { return journal_->Save(*run); }};
      Result<std::string> reverted = plan.revert(rctx, outcome.status());
      if (reverted.ok() && !reverted->empty()) {
        run->result["revert"] = *reverted;
        say_("[revert] " + *reverted);
        return Finish(run, outcome.status(), RunState::kReverted);
      }
      if (!reverted.ok()) {
        run->result["revert_error"] = reverted.status().message();
        say_("[revert] FAILED: " + reverted.status().message());
      }
    }
    return Finish(run, outcome.status(), RunState::kFailed);
  }
  return Finish(run, Status::Ok(), RunState::kSucceeded);
}

Result<RunLock> RunLock::Take(const std::string& state_dir) {
  std::string dir = state_dir + "/runs";
  LB_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  int fd = open((dir + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("cannot open " + dir + "/lock", errno);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    // Name the run that holds it: the newest one still running.
    std::string holder = "another run";
    Journal journal(state_dir, nullptr);
    if (Result<std::vector<RunRecord>> runs = journal.List(); runs.ok()) {
      for (const auto& r : *runs) {
        if (r.Effective() == RunState::kRunning) {
          holder = "run " + r.id + " (pid " + std::to_string(r.pid) + ")";
          break;
        }
      }
    }
    return Status::Busy(holder + " is in progress in this state directory",
                        "wait for it to finish; 'lifeboat runs' shows its steps");
  }
  return RunLock(fd);
}

RunLock::~RunLock() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace lifeboat::runbook
