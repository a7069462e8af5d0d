#include "runbook/journal.h"

#include <dirent.h>
#include <signal.h>

#include <algorithm>

#include "base/fs.h"
#include "base/json_fields.h"
#include "base/process.h"
#include "base/time.h"

namespace lifeboat::runbook {

namespace {

constexpr StepState kStepStates[] = {StepState::kPending, StepState::kRunning, StepState::kDone, StepState::kFailed};
constexpr RunState kWrittenRunStates[] = {RunState::kRunning, RunState::kSucceeded, RunState::kFailed,
                                          RunState::kReverted};

}  // namespace

const char* StepStateName(StepState s) {
  switch (s) {
    case StepState::kPending: return "pending";
    case StepState::kRunning: return "running";
    case StepState::kDone: return "done";
    case StepState::kFailed: return "failed";
  }
  return "pending";
}

const char* RunStateName(RunState s) {
  switch (s) {
    case RunState::kRunning: return "running";
    case RunState::kSucceeded: return "succeeded";
    case RunState::kFailed: return "failed";
    case RunState::kReverted: return "reverted";
    case RunState::kInterrupted: return "interrupted";
  }
  return "running";
}

RunState RunRecord::Effective() const {
  if (state == RunState::kRunning && !ProcessMatches(pid, "lifeboat")) return RunState::kInterrupted;
  return state;
}

StepRecord* RunRecord::Step(const std::string& name) {
  for (auto& s : steps) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

nlohmann::json RunToJson(const RunRecord& r) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : r.steps) {
    steps.push_back({{"name", s.name}, {"description", s.description}, {"state", StepStateName(s.state)},
                     {"started_at", s.started_at}, {"finished_at", s.finished_at},
                     {"seconds", s.seconds}, {"detail", s.detail}});
  }
  return {{"id", r.id},         {"kind", r.kind},           {"state", RunStateName(r.state)},
          {"started_at", r.started_at}, {"finished_at", r.finished_at}, {"who", r.who},
          {"pid", r.pid},       {"exit_code", r.exit_code}, {"error", r.error},
          {"params", r.params}, {"vars", r.vars},           {"result", r.result},
          {"steps", steps}};
}

Result<RunRecord> RunFromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f(j, where, &Status::IO);
  LB_RETURN_IF_ERROR(f.IsObject());
  RunRecord r;
  int pid = 0;
  LB_RETURN_IF_ERROR(f.String("id", &r.id));
  LB_RETURN_IF_ERROR(f.String("kind", &r.kind));
  LB_RETURN_IF_ERROR(f.Enum("state", kWrittenRunStates, &RunStateName,
                            "a run state (running, succeeded, failed, reverted)", &r.state));
  LB_RETURN_IF_ERROR(f.String("started_at", &r.started_at));
  LB_RETURN_IF_ERROR(f.String("finished_at", &r.finished_at));
  LB_RETURN_IF_ERROR(f.String("who", &r.who));
  LB_RETURN_IF_ERROR(f.Int("pid", &pid));
  r.pid = static_cast<pid_t>(pid);
  LB_RETURN_IF_ERROR(f.Int("exit_code", &r.exit_code));
  LB_RETURN_IF_ERROR(f.String("error", &r.error));
  LB_RETURN_IF_ERROR(f.Object("params", &r.params));
  LB_RETURN_IF_ERROR(f.Object("vars", &r.vars));
  LB_RETURN_IF_ERROR(f.Object("result", &r.result));
  nlohmann::json steps;
  LB_RETURN_IF_ERROR(f.Array("steps", &steps));
  for (size_t i = 0; i < steps.size(); ++i) {
    JsonFields sf(steps[i], where + ", step " + std::to_string(i + 1), &Status::IO);
    LB_RETURN_IF_ERROR(sf.IsObject());
    StepRecord st;
    LB_RETURN_IF_ERROR(sf.String("name", &st.name));
    LB_RETURN_IF_ERROR(sf.String("description", &st.description));
    LB_RETURN_IF_ERROR(sf.Enum("state", kStepStates, &StepStateName,
                               "a step state (pending, running, done, failed)", &st.state));
    LB_RETURN_IF_ERROR(sf.String("started_at", &st.started_at));
    LB_RETURN_IF_ERROR(sf.String("finished_at", &st.finished_at));
    LB_RETURN_IF_ERROR(sf.Double("seconds", &st.seconds));
    LB_RETURN_IF_ERROR(sf.String("detail", &st.detail));
    r.steps.push_back(st);
  }
  return r;
}

Status Journal::Save(const RunRecord& run) {
  std::string text = RunToJson(run).dump(2) + "\n";
  ByteSpan bytes(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  LB_RETURN_IF_ERROR(MakeDirs(dir_, 0700));
  LB_RETURN_IF_ERROR(WriteFileDurable(dir_ + "/" + run.id + ".json", bytes, 0600));
  if (repo_ != nullptr) {
    Status mirrored = repo_->PutNamed("runs", run.id, bytes);
    if (!mirrored.ok()) return mirrored.Context("run journal " + run.id + " not mirrored to the repository");
  }
  return Status::Ok();
}

Result<RunRecord> Journal::Load(const std::string& id) const {
  std::string where = "run journal '" + dir_ + "/" + id + ".json'";
  Result<Bytes> b = ReadFile(dir_ + "/" + id + ".json");
  if (!b.ok() && b.status().code() == Code::kNotFound && repo_ != nullptr) {
    Result<Bytes> mirrored = repo_->GetNamed("runs", id);
    if (mirrored.ok()) {
      b = std::move(mirrored);
      where = "run journal 'runs/" + id + "' in the repository";
    }
  }
  if (!b.ok()) {
    if (b.status().code() == Code::kNotFound) {
      return Status::NotFound("no run '" + id + "'", "list runs with 'lifeboat runs'");
    }
    return b.status();
  }
  auto j = nlohmann::json::parse(b->begin(), b->end(), nullptr, false);
  if (j.is_discarded()) {
    return Status::IO(where + " is not JSON (truncated or damaged)",
                      "move it aside to go on; 'lifeboat runs' lists the other runs");
  }
  return RunFromJson(j, where);
}

Result<std::vector<RunRecord>> Journal::List() const {
  std::vector<std::string> ids;
  if (DIR* d = opendir(dir_.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string f = e->d_name;
      if (f.size() > 5 && f.compare(f.size() - 5, 5, ".json") == 0) ids.push_back(f.substr(0, f.size() - 5));
    }
    closedir(d);
  }
  std::vector<RunRecord> runs;
  for (const auto& id : ids) {
    LB_ASSIGN_OR_RETURN(RunRecord r, Load(id));
    runs.push_back(std::move(r));
  }
  std::sort(runs.begin(), runs.end(), [](const RunRecord& a, const RunRecord& b) {
    return a.started_at != b.started_at ? a.started_at > b.started_at : a.id > b.id;
  });
  return runs;
}

std::string NewRunId(const std::string& kind) {
  std::string iso = FormatIso8601(NowNanos());  // 2026-11-29T03:15:00Z
  std::string compact;
  for (char c : iso) {
    if (c == 'T') compact += '-';
    else if (std::isdigit(static_cast<unsigned char>(c))) compact += c;
  }
  return kind + "-" + compact;
}

}  // namespace lifeboat::runbook
