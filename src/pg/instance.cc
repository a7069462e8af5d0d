#include "pg/instance.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <filesystem>
#include <cstdlib>

#include "base/fs.h"
#include "base/json_fields.h"
#include "base/process.h"

namespace lifeboat::pg {

nlohmann::json InstanceToJson(const Instance& i) {
  return {{"name", i.name},           {"host", i.host},
          {"port", i.port},           {"data_dir", i.data_dir},
          {"dir", i.dir},             {"status", InstanceStatus(i)},
          {"role", InstanceRoleName(i.role)}, {"origin_snapshot", i.origin_snapshot},
          {"target", i.target},       {"created_at", i.created_at},
          {"recovered_to", i.recovered_to.empty() ? nlohmann::json() : nlohmann::json(i.recovered_to)}};
}

namespace {

// An exclusive flock on <state>/instances.lock while the registry is read and rewritten.
Result<FileLock> LockRegistry(const std::string& state_dir) {
  return FileLock::Take(state_dir + "/instances.lock", "the instance registry");
}

}  // namespace

Result<std::vector<Instance>> InstanceRegistry::Read() const {
  Result<Bytes> b = ReadFile(path());
  if (!b.ok()) {
    if (b.status().code() == Code::kNotFound) return std::vector<Instance>();
    return b.status();
  }
  nlohmann::json j = nlohmann::json::parse(b->begin(), b->end(), nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    return Status::IO("instance registry '" + path() + "' is not a JSON list (truncated or damaged)");
  }
  constexpr InstanceRole kRoles[] = {InstanceRole::kRestored, InstanceRole::kProduction, InstanceRole::kRetired,
                                     InstanceRole::kScratch};
  std::vector<Instance> out;
  for (size_t n = 0; n < j.size(); ++n) {
    JsonFields f(j[n], "instance registry '" + path() + "', entry " + std::to_string(n + 1), &Status::IO);
    LB_RETURN_IF_ERROR(f.IsObject());
    Instance i;
    LB_RETURN_IF_ERROR(f.String("name", &i.name));
    LB_RETURN_IF_ERROR(f.String("dir", &i.dir));
    LB_RETURN_IF_ERROR(f.String("data_dir", &i.data_dir));
    LB_RETURN_IF_ERROR(f.String("host", &i.host));
    LB_RETURN_IF_ERROR(f.Int("port", &i.port));
    if (f.Has("origin_snapshot")) LB_RETURN_IF_ERROR(f.String("origin_snapshot", &i.origin_snapshot));
    if (f.Has("target")) LB_RETURN_IF_ERROR(f.String("target", &i.target));
    if (f.Has("created_at")) LB_RETURN_IF_ERROR(f.String("created_at", &i.created_at));
    if (f.Has("role")) {
      LB_RETURN_IF_ERROR(f.Enum("role", kRoles, &InstanceRoleName, "an instance role", &i.role));
    }
    if (f.Has("recovered_to") && j[n]["recovered_to"].is_string()) i.recovered_to = j[n]["recovered_to"];
    out.push_back(std::move(i));
  }
  return out;
}

Status InstanceRegistry::Write(const std::vector<Instance>& all) const {
  nlohmann::json j = nlohmann::json::array();
  for (const Instance& i : all) {
    nlohmann::json e = InstanceToJson(i);
    e.erase("status");  // derived, never stored
    j.push_back(e);
  }
  std::string text = j.dump(2) + "\n";
  return WriteFileDurable(path(), AsBytes(text), 0600);
}

Result<std::vector<Instance>> InstanceRegistry::List() const { return Read(); }

Result<std::optional<Instance>> InstanceRegistry::Find(const std::string& name) const {
  LB_ASSIGN_OR_RETURN(std::vector<Instance> all, Read());
  for (const Instance& i : all) {
    if (i.name == name) return std::optional<Instance>(i);
  }
  return std::optional<Instance>();
}

Status InstanceRegistry::Add(const Instance& instance) {
  LB_ASSIGN_OR_RETURN(FileLock lock, LockRegistry(state_dir_));
  LB_ASSIGN_OR_RETURN(std::vector<Instance> all, Read());
  for (const Instance& i : all) {
    if (i.name == instance.name) {
      return Status::AlreadyExists("instance '" + instance.name + "' already exists",
                                   "choose another --instance name, or drop it first");
    }
  }
  all.push_back(instance);
  return Write(all);
}

Status InstanceRegistry::Remove(const std::string& name) {
  LB_ASSIGN_OR_RETURN(FileLock lock, LockRegistry(state_dir_));
  LB_ASSIGN_OR_RETURN(std::vector<Instance> all, Read());
  std::erase_if(all, [&](const Instance& i) { return i.name == name; });
  return Write(all);
}

Status InstanceRegistry::Update(const Instance& instance) {
  LB_ASSIGN_OR_RETURN(FileLock lock, LockRegistry(state_dir_));
  LB_ASSIGN_OR_RETURN(std::vector<Instance> all, Read());
  for (Instance& i : all) {
    if (i.name == instance.name) i = instance;
  }
  return Write(all);
}

Status DropInstance(const ClusterConfig& cluster, const std::string& state_dir, const Instance& inst) {
  if (RealPath(inst.data_dir) == RealPath(cluster.data_dir)) {
    return Status::Usage("refusing to drop '" + inst.name + "': it is the production cluster");
  }
  LB_RETURN_IF_ERROR(StopInstance(cluster, inst));
  std::error_code ec;
  std::filesystem::remove_all(inst.dir, ec);
  if (ec) return Status::IO("cannot remove '" + inst.dir + "': " + ec.message());
  return InstanceRegistry(state_dir).Remove(inst.name);
}

const char* InstanceRoleName(InstanceRole r) {
  switch (r) {
    case InstanceRole::kRestored: return "restored";
    case InstanceRole::kProduction: return "production";
    case InstanceRole::kRetired: return "retired";
    case InstanceRole::kScratch: return "scratch";
  }
  return "restored";
}

const char* InstanceStateName(InstanceState s) { return s == InstanceState::kRunning ? "running" : "stopped"; }

InstanceState StateOf(const Instance& i) {
  Result<Bytes> pid_file = ReadFile(i.data_dir + "/postmaster.pid");
  if (!pid_file.ok()) return InstanceState::kStopped;
  long pid = std::atol(std::string(pid_file->begin(), pid_file->end()).c_str());
  if (pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) return InstanceState::kRunning;
  return InstanceState::kStopped;
}

std::string InstanceStatus(const Instance& i) { return InstanceStateName(StateOf(i)); }

Status StartInstance(const ClusterConfig& cluster, const Instance& i) {
  if (StateOf(i) == InstanceState::kRunning) return Status::Ok();
  ProcessOptions po;
  po.timeout_seconds = 600;
  LB_ASSIGN_OR_RETURN(ProcessResult r,
                      RunProcess({cluster.Program("pg_ctl"), "start", "-D", i.data_dir, "-l",
                                  i.log_file(), "-w", "-t", "600", "-s"},
                                 po));
  if (r.exit_code != 0) {
    Result<Bytes> log = ReadFile(i.log_file());
    std::string tail = log.ok() ? LastLines(std::string(log->begin(), log->end()), 5) : r.err;
    return Status::IO("PostgreSQL instance '" + i.name + "' did not start on port " +
                          std::to_string(i.port) + ": " + tail,
                      "see '" + i.log_file() + "'");
  }
  return Status::Ok();
}

Status StopInstance(const ClusterConfig& cluster, const Instance& i) {
  if (StateOf(i) != InstanceState::kRunning) return Status::Ok();
  ProcessOptions po;
  po.timeout_seconds = 300;
  LB_ASSIGN_OR_RETURN(ProcessResult r, RunProcess({cluster.Program("pg_ctl"), "stop", "-D",
                                                   i.data_dir, "-m", "fast", "-w", "-s"},
                                                  po));
  if (r.exit_code != 0 && StateOf(i) == InstanceState::kRunning) {
    return Status::IO("cannot stop instance '" + i.name + "': " + LastLines(r.err, 3));
  }
  return Status::Ok();
}

Result<int> FreePort(int first, int last, const std::vector<Instance>& taken) {
  for (int port = first; port <= last; ++port) {
    bool used = false;
    for (const Instance& i : taken) used = used || i.port == port;
    if (used) continue;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return ErrnoStatus("cannot probe ports", errno);
    struct sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    bool free = bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    if (free) return port;
  }
  return Status::IO("no free port in " + std::to_string(first) + "-" + std::to_string(last),
                    "widen [instances] ports or drop instances you no longer need");
}

}  // namespace lifeboat::pg
