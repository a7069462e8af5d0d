#include "runbook/audit.h"

#include <fcntl.h>
#include <unistd.h>

#include <sstream>

#include "base/fs.h"
#include "base/json_fields.h"

namespace lifeboat::runbook {

nlohmann::json AuditToJson(const AuditEntry& e) {
  return {{"when", e.when}, {"who", e.who}, {"what", e.what}, {"result", e.result}};
}

Result<AuditEntry> AuditFromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f(j, where, &Status::IO);
  LB_RETURN_IF_ERROR(f.IsObject());
  AuditEntry e;
  LB_RETURN_IF_ERROR(f.String("when", &e.when));
  LB_RETURN_IF_ERROR(f.String("who", &e.who));
  LB_RETURN_IF_ERROR(f.String("what", &e.what));
  LB_RETURN_IF_ERROR(f.String("result", &e.result));
  return e;
}

Status AppendAudit(const std::string& state_dir, const AuditEntry& entry) {
  LB_RETURN_IF_ERROR(MakeDirs(state_dir, 0700));
  std::string path = state_dir + "/audit.log";
  // O_APPEND makes each line one atomic append, whoever else writes.
  LB_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  std::string line = AuditToJson(entry).dump() + "\n";
  LB_RETURN_IF_ERROR(WriteAll(fd.get(), line.data(), line.size(), path));
  return FsyncFd(fd.get(), path);
}

Result<std::vector<AuditEntry>> ReadAudit(const std::string& state_dir) {
  std::vector<AuditEntry> out;
  Result<Bytes> b = ReadFile(state_dir + "/audit.log");
  if (!b.ok()) {
    if (b.status().code() == Code::kNotFound) return out;
    return b.status();
  }
  std::istringstream in(std::string(b->begin(), b->end()));
  std::string line;
  while (std::getline(in, line)) {
    Result<AuditEntry> e = AuditFromJson(nlohmann::json::parse(line, nullptr, false), "audit line");
    if (!e.ok()) continue;  // a line torn by a crash mid-append
    out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace lifeboat::runbook
