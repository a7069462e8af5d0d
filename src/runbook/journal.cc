#include "runbook/journal.h"

#include <dirent.h>
#include <signal.h>

#include <algorithm>

#include "base/fs.h"
#include "base/process.h"
#include "base/time.h"

namespace lifeboat::runbook {

std::string RunRecord::DisplayState() const {
  if (state == "running" && !ProcessMatches(pid, "lifeboat")) return "interrupted";
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
    steps.push_back({{"name", s.name}, {"description", s.description}, {"state", s.state},
                     {"started_at", s.started_at}, {"finished_at", s.finished_at},
                     {"seconds", s.seconds}, {"detail", s.detail}});
  }
  return {{"id", r.id},         {"kind", r.kind},           {"state", r.state},
          {"started_at", r.started_at}, {"finished_at", r.finished_at}, {"who", r.who},
          {"pid", r.pid},       {"exit_code", r.exit_code}, {"error", r.error},
          {"params", r.params}, {"vars", r.vars},           {"result", r.result},
          {"steps", steps}};
}

Result<RunRecord> RunFromJson(const nlohmann::json& j) {
  RunRecord r;
  try {
    r.id = j.at("id");
    r.kind = j.at("kind");
    r.state = j.at("state");
    r.started_at = j.at("started_at");
    r.finished_at = j.at("finished_at");
    r.who = j.at("who");
    r.pid = j.at("pid");
    r.exit_code = j.at("exit_code");
    r.error = j.at("error");
    r.params = j.at("params");
    r.vars = j.at("vars");
    r.result = j.at("result");
    for (const auto& s : j.at("steps")) {
      StepRecord st;
      st.name = s.at("name");
      st.description = s.at("description");
      st.state = s.at("state");
      st.started_at = s.at("started_at");
      st.finished_at = s.at("finished_at");
      st.seconds = s.at("seconds");
      st.detail = s.at("detail");
      r.steps.push_back(st);
    }
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("run journal is damaged: ") + e.what());
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
  Result<Bytes> b = ReadFile(dir_ + "/" + id + ".json");
  if (!b.ok() && b.status().code() == Code::kNotFound && repo_ != nullptr) {
    Result<Bytes> mirrored = repo_->GetNamed("runs", id);
    if (mirrored.ok()) b = std::move(mirrored);
  }
  if (!b.ok()) {
    if (b.status().code() == Code::kNotFound) {
      return Status::NotFound("no run '" + id + "'", "list runs with 'lifeboat runs'");
    }
    return b.status();
  }
  auto j = nlohmann::json::parse(b->begin(), b->end(), nullptr, false);
  if (j.is_discarded()) return Status::Corruption("run journal '" + id + "' is not JSON");
  return RunFromJson(j);
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
