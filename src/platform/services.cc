#include "platform/services.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "base/fs.h"
#include "base/process.h"
#include "base/time.h"
#include "platform/http_probe.h"

namespace lifeboat::platform {

namespace {

void ForgetReplica(ServiceState* state, int id) {
  state->replicas.erase(std::remove_if(state->replicas.begin(), state->replicas.end(),
                                       [&](const Replica& r) { return r.id == id; }),
                        state->replicas.end());
}

nlohmann::json ReplicaToJson(const Replica& r) {
  return {{"id", r.id}, {"port", r.port}, {"pid", r.pid}, {"started_at", r.started_at},
          {"secret_version", r.secret_version}, {"registered", r.registered}, {"release", r.release}};
}

std::string ReadLogTail(const std::string& path, size_t lines) {
  Result<Bytes> b = ReadFile(path);
  if (!b.ok()) return "";
  std::string text(b->begin(), b->end());
  if (text.size() > 16384) text = text.substr(text.size() - 16384);
  return LastLines(text, lines);
}

std::string Indent(const std::string& text) {
  std::string out = "  ";
  for (char c : text) {
    out += c;
    if (c == '\n') out += "  ";
  }
  return out;
}

}  // namespace

nlohmann::json ReplicaHealthToJson(const ReplicaHealth& h) {
  nlohmann::json j = ReplicaToJson(h.replica);
  j["alive"] = h.alive;
  j["healthy"] = h.healthy;
  j["detail"] = h.detail;
  j["supervisor"] = ReplicaStatusToJson(h.status);
  return j;
}

Result<ServiceState> ServiceManager::Load(const std::string& name) const {
  ServiceState s;
  s.name = name;
  Result<Bytes> b = ReadFile(ServiceDir(name) + "/state.json");
  if (!b.ok()) {
    if (b.status().code() == Code::kNotFound) return s;
    return b.status();
  }
  auto j = nlohmann::json::parse(b->begin(), b->end(), nullptr, false);
  try {
    s.next_id = j.at("next_id").get<int>();
    for (const auto& r : j.at("replicas")) {
      Replica x;
      x.id = r.at("id").get<int>();
      x.port = r.at("port").get<int>();
      x.pid = r.at("pid").get<pid_t>();
      x.started_at = r.at("started_at").get<std::string>();
      x.secret_version = r.at("secret_version").get<int>();
      x.registered = r.at("registered").get<bool>();
      x.release = r.value("release", "");
      s.replicas.push_back(x);
    }
  } catch (const std::exception& e) {
    return Status::Corruption("service state '" + ServiceDir(name) + "/state.json' is damaged: " +
                              e.what());
  }
  return s;
}

Result<std::map<std::string, ServiceState>> ServiceManager::LoadAll() const {
  std::map<std::string, ServiceState> all;
  DIR* d = opendir((state_dir_ + "/services").c_str());
  if (d == nullptr) return all;
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') names.push_back(e->d_name);
  }
  closedir(d);
  for (const auto& n : names) {
    LB_ASSIGN_OR_RETURN(ServiceState s, Load(n));
    all[n] = std::move(s);
  }
  return all;
}

Status ServiceManager::Save(const ServiceState& s) const {
  nlohmann::json replicas = nlohmann::json::array();
  for (const auto& r : s.replicas) replicas.push_back(ReplicaToJson(r));
  std::string text = nlohmann::json{{"service", s.name}, {"next_id", s.next_id},
                                    {"replicas", replicas}}.dump(2) + "\n";
  LB_RETURN_IF_ERROR(MakeDirs(ServiceDir(s.name), 0700));
  return WriteFileDurable(ServiceDir(s.name) + "/state.json",
                          ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size()), 0600);
}

bool ServiceManager::Alive(const std::string& name, const Replica& r) const {
  return ProcessMatches(r.pid, StatusFile(name, r.id));
}

Result<int> ServiceManager::PickPort(const ServiceConfig& svc) const {
  LB_ASSIGN_OR_RETURN(auto all, LoadAll());
  for (int port = svc.port_first; port <= svc.port_last; ++port) {
    bool taken = false;
    for (const auto& [n, s] : all) {
      for (const auto& r : s.replicas) taken = taken || r.port == port;
    }
    if (!taken && PortFree("127.0.0.1", port)) return port;
  }
  return Status::IO("service '" + svc.name + "': no free port in " +
                        std::to_string(svc.port_first) + "-" + std::to_string(svc.port_last),
                    "widen [service." + svc.name + "] ports or stop what listens there");
}

Result<Replica> ServiceManager::Spawn(const ServiceConfig& svc, const ReplicaEnv& env,
                                      ServiceState* state) {
  if (svc.UsesRelease() && env.release_dir.empty()) {
    return Status::Usage("service '" + svc.name + "' runs a release and none is deployed",
                         "deploy one with 'lifeboat deploy " + svc.name + " TAG'");
  }
  LB_ASSIGN_OR_RETURN(int port, PickPort(svc));
  Replica r;
  r.release = env.release;
  r.id = state->next_id++;
  r.port = port;
  r.secret_version = env.secret_version;
  r.started_at = FormatIso8601(NowNanos(), true);
  std::vector<std::string> argv = {self_, "_supervise", "--status", StatusFile(svc.name, r.id), "--"};
  for (std::string arg : svc.command) {
    for (const auto& [key, value] : {std::pair<std::string, std::string>{"{port}", std::to_string(port)},
                                     {"{release}", env.release_dir}}) {
      for (size_t at = arg.find(key); at != std::string::npos; at = arg.find(key, at + value.size())) {
        arg.replace(at, key.size(), value);
      }
    }
    argv.push_back(arg);
  }
  // The replica's whole environment: a fixed PATH, the service's variables and its secret. Never
  // lifeboat's own environment, which may hold the repository passphrase.
  std::map<std::string, std::string> vars = {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, {"LANG", "C.UTF-8"}};
  if (const char* home = std::getenv("HOME")) vars["HOME"] = home;
  for (const auto& [k, v] : env.vars) vars[k] = v;
  vars["LIFEBOAT_SERVICE"] = svc.name;
  vars["LIFEBOAT_REPLICA"] = std::to_string(r.id);
  LB_RETURN_IF_ERROR(MakeDirs(ServiceDir(svc.name), 0700));
  std::remove(StatusFile(svc.name, r.id).c_str());
  LB_ASSIGN_OR_RETURN(r.pid, SpawnDaemon(argv, vars, LogFile(svc.name, r.id)));
  state->replicas.push_back(r);
  LB_RETURN_IF_ERROR(Save(*state));
  return r;
}

Status ServiceManager::WaitHealthy(const ServiceConfig& svc, const Replica& r) {
  double deadline = MonotonicSeconds() + static_cast<double>(svc.start_timeout_seconds);
  std::string last;
  while (true) {
    Result<HttpReply> reply = HttpGet("127.0.0.1", r.port, svc.health_path, 1);
    if (reply.ok() && reply->status == 200) return Status::Ok();
    last = reply.ok() ? "health check answered " + std::to_string(reply->status)
                      : reply.status().message();
    ReplicaStatus st = ReadReplicaStatus(StatusFile(svc.name, r.id));
    std::string why;
    if (!Alive(svc.name, r)) why = "its supervisor is gone";
    if (st.crash_loop()) {
      why = "it is in a crash loop (" + std::to_string(st.recent_exits) +
            " exits in the last minute, last: " + st.last_exit + ")";
    }
    if (why.empty() && MonotonicSeconds() > deadline) {
      why = "it was not healthy after " + FormatDuration(static_cast<double>(svc.start_timeout_seconds)) +
            " (" + last + ")";
    }
    if (!why.empty()) {
      std::string tail = ReadLogTail(LogFile(svc.name, r.id), 5);
      return Status::IO("service '" + svc.name + "': replica " + std::to_string(r.id) + " on port " +
                            std::to_string(r.port) + " failed to start: " + why +
                            (tail.empty() ? "" : "; last log lines:\n" + Indent(tail)),
                        "the whole log is " + LogFile(svc.name, r.id));
    }
    usleep(100000);
  }
}

Status ServiceManager::StopReplica(const ServiceConfig& svc, const Replica& r) {
  // The supervisor stops the replica (SIGTERM, then SIGKILL after its grace) before it exits;
  // if the supervisor itself is killed, its child is stopped here by the pid it published.
  ReplicaStatus st = ReadReplicaStatus(StatusFile(svc.name, r.id));
  LB_RETURN_IF_ERROR(StopProcess(r.pid, StatusFile(svc.name, r.id), 15));
  if (st.child_pid > 0 && !svc.command.empty()) {
    std::string program = Basename(svc.command.front());
    LB_RETURN_IF_ERROR(StopProcess(st.child_pid, program, 10));
  }
  return Status::Ok();
}

Status ServiceManager::ReapUnrecorded(const ServiceConfig& svc, const ServiceState& state) {
  std::string prefix = ServiceDir(svc.name) + "/replica-";
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return Status::Ok();
  std::vector<std::pair<pid_t, std::string>> found;
  while (dirent* e = readdir(proc)) {
    std::string name = e->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    Result<Bytes> b = ReadFile("/proc/" + name + "/cmdline");
    if (!b.ok()) continue;
    std::vector<std::string> args;
    std::string cur;
    for (uint8_t c : *b) {
      if (c == 0) {
        args.push_back(cur);
        cur.clear();
      } else {
        cur += static_cast<char>(c);
      }
    }
    // lifeboat _supervise --status <prefix>N.status -- ...
    if (args.size() < 4 || args[1] != "_supervise" || args[2] != "--status" || args[3].rfind(prefix, 0) != 0) continue;
    found.emplace_back(static_cast<pid_t>(std::stol(name)), args[3]);
  }
  closedir(proc);
  for (const auto& [pid, status_file] : found) {
    bool recorded = false;
    for (const auto& r : state.replicas) recorded = recorded || StatusFile(svc.name, r.id) == status_file;
    if (recorded) continue;
    ReplicaStatus st = ReadReplicaStatus(status_file);
    LB_RETURN_IF_ERROR(StopProcess(pid, status_file, 15));
    if (st.child_pid > 0 && !svc.command.empty()) {
      LB_RETURN_IF_ERROR(StopProcess(st.child_pid, Basename(svc.command.front()), 10));
    }
  }
  return Status::Ok();
}

Status ServiceManager::Start(const ServiceConfig& svc, const ReplicaEnv& env) {
  LB_ASSIGN_OR_RETURN(FileLock lock, FileLock::Take(ServiceDir(svc.name) + "/lock", "service '" + svc.name + "'"));
  LB_ASSIGN_OR_RETURN(ServiceState state, Load(svc.name));
  LB_RETURN_IF_ERROR(ReapUnrecorded(svc, state));
  // Replicas whose supervisor is gone (a reboot, a kill -9) are forgotten first.
  auto dead = std::remove_if(state.replicas.begin(), state.replicas.end(),
                             [&](const Replica& r) { return !Alive(svc.name, r); });
  bool changed = dead != state.replicas.end();
  state.replicas.erase(dead, state.replicas.end());
  if (changed) {
    LB_RETURN_IF_ERROR(Save(state));
    LB_RETURN_IF_ERROR(Changed());
  }
  std::vector<Replica> fresh;
  while (state.replicas.size() < static_cast<size_t>(svc.replicas)) {
    LB_ASSIGN_OR_RETURN(Replica r, Spawn(svc, env, &state));
    fresh.push_back(r);
  }
  for (const Replica& r : fresh) LB_RETURN_IF_ERROR(WaitHealthy(svc, r));
  bool unregistered = false;
  for (auto& r : state.replicas) {
    unregistered = unregistered || !r.registered;
    r.registered = true;
  }
  if (unregistered) {
    LB_RETURN_IF_ERROR(Save(state));
    LB_RETURN_IF_ERROR(Changed());
  }
  return Status::Ok();
}

Status ServiceManager::Stop(const ServiceConfig& svc) {
  LB_ASSIGN_OR_RETURN(FileLock lock, FileLock::Take(ServiceDir(svc.name) + "/lock", "service '" + svc.name + "'"));
  LB_ASSIGN_OR_RETURN(ServiceState state, Load(svc.name));
  LB_RETURN_IF_ERROR(ReapUnrecorded(svc, state));
  if (state.replicas.empty()) return Status::Ok();
  for (auto& r : state.replicas) r.registered = false;
  LB_RETURN_IF_ERROR(Save(state));
  LB_RETURN_IF_ERROR(Changed());
  while (!state.replicas.empty()) {
    LB_RETURN_IF_ERROR(StopReplica(svc, state.replicas.back()));
    state.replicas.pop_back();
    LB_RETURN_IF_ERROR(Save(state));
  }
  return Status::Ok();
}

Status ServiceManager::RollingRestart(const ServiceConfig& svc, const ReplicaEnv& env) {
  LB_ASSIGN_OR_RETURN(FileLock lock, FileLock::Take(ServiceDir(svc.name) + "/lock", "service '" + svc.name + "'"));
  LB_ASSIGN_OR_RETURN(ServiceState state, Load(svc.name));
  LB_RETURN_IF_ERROR(ReapUnrecorded(svc, state));
  // Replicas not in the load balancer (one a killed restart left starting) go first, so the
  // ones serving are replaced last.
  std::vector<Replica> old = state.replicas;
  std::stable_sort(old.begin(), old.end(),
                   [](const Replica& a, const Replica& b) { return !a.registered && b.registered; });
  size_t desired = static_cast<size_t>(svc.replicas);
  for (size_t i = 0; i < std::max(old.size(), desired); ++i) {
    if (i >= desired) {
      LB_RETURN_IF_ERROR(Retire(svc, old[i], &state));
      continue;
    }
    LB_ASSIGN_OR_RETURN(Replica fresh, Spawn(svc, env, &state));
    Status healthy = WaitHealthy(svc, fresh);
    if (!healthy.ok()) {
      // The old replicas keep serving; the failed new one goes.
      Status stopped = StopReplica(svc, fresh);
      ForgetReplica(&state, fresh.id);
      LB_RETURN_IF_ERROR(Save(state));
      LB_RETURN_IF_ERROR(stopped);
      return healthy.Context("rolling restart stopped; the previous replicas still serve");
    }
    for (auto& r : state.replicas) {
      if (r.id == fresh.id) r.registered = true;
    }
    LB_RETURN_IF_ERROR(Save(state));
    LB_RETURN_IF_ERROR(Changed());
    if (i < old.size()) LB_RETURN_IF_ERROR(Retire(svc, old[i], &state));
  }
  return Status::Ok();
}

Status ServiceManager::Switch(const ServiceConfig& svc, const ReplicaEnv& env) {
  LB_ASSIGN_OR_RETURN(FileLock lock, FileLock::Take(ServiceDir(svc.name) + "/lock", "service '" + svc.name + "'"));
  LB_ASSIGN_OR_RETURN(ServiceState state, Load(svc.name));
  LB_RETURN_IF_ERROR(ReapUnrecorded(svc, state));
  std::vector<Replica> old = state.replicas;
  std::vector<Replica> fresh;
  Status healthy = Status::Ok();
  while (healthy.ok() && fresh.size() < static_cast<size_t>(svc.replicas)) {
    Result<Replica> r = Spawn(svc, env, &state);
    if (!r.ok()) {
      healthy = r.status();
      break;
    }
    fresh.push_back(*r);
    healthy = WaitHealthy(svc, *r);
  }
  if (!healthy.ok()) {
    // The old replicas keep serving; every new one goes.
    Status stopped = Status::Ok();
    for (const Replica& r : fresh) {
      Status s = StopReplica(svc, r);
      if (stopped.ok()) stopped = s;
      ForgetReplica(&state, r.id);
    }
    LB_RETURN_IF_ERROR(Save(state));
    LB_RETURN_IF_ERROR(stopped);
    return healthy.Context("switch stopped; the previous replicas still serve");
  }
  // One load-balancer change: from here on no new request reaches an old replica.
  bool serving = false;
  for (auto& r : state.replicas) {
    bool is_new = std::any_of(fresh.begin(), fresh.end(), [&](const Replica& f) { return f.id == r.id; });
    serving = serving || (!is_new && r.registered);
    r.registered = is_new;
  }
  LB_RETURN_IF_ERROR(Save(state));
  LB_RETURN_IF_ERROR(Changed());
  if (serving) usleep(static_cast<useconds_t>(svc.drain_seconds * 1000000));
  for (const Replica& r : old) {
    LB_RETURN_IF_ERROR(StopReplica(svc, r));
    ForgetReplica(&state, r.id);
    LB_RETURN_IF_ERROR(Save(state));
  }
  return Status::Ok();
}

Status ServiceManager::Retire(const ServiceConfig& svc, const Replica& retiring, ServiceState* state) {
  // Out of the load balancer first, requests in flight finish during the drain, then it stops.
  for (auto& r : state->replicas) {
    if (r.id == retiring.id) r.registered = false;
  }
  LB_RETURN_IF_ERROR(Save(*state));
  LB_RETURN_IF_ERROR(Changed());
  if (retiring.registered) usleep(static_cast<useconds_t>(svc.drain_seconds * 1000000));
  LB_RETURN_IF_ERROR(StopReplica(svc, retiring));
  ForgetReplica(state, retiring.id);
  return Save(*state);
}

Result<std::vector<ReplicaHealth>> ServiceManager::Health(const ServiceConfig& svc) {
  LB_ASSIGN_OR_RETURN(ServiceState state, Load(svc.name));
  std::vector<ReplicaHealth> out;
  for (const auto& r : state.replicas) {
    ReplicaHealth h;
    h.replica = r;
    h.alive = Alive(svc.name, r);
    h.status = ReadReplicaStatus(StatusFile(svc.name, r.id));
    if (!h.alive) {
      h.detail = "supervisor not running";
    } else if (h.status.crash_loop()) {
      h.detail = "crash loop: " + std::to_string(h.status.recent_exits) +
                 " exits in the last minute, last " + h.status.last_exit + "\n" +
                 Indent(ReadLogTail(LogFile(svc.name, r.id), 5));
    } else {
      Result<HttpReply> reply = HttpGet("127.0.0.1", r.port, svc.health_path, 1);
      h.healthy = reply.ok() && reply->status == 200;
      if (!h.healthy) {
        h.detail = reply.ok() ? "health check answered " + std::to_string(reply->status)
                              : reply.status().message();
      }
    }
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace lifeboat::platform
