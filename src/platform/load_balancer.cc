#include "platform/load_balancer.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <sstream>

#include "base/fs.h"
#include "base/process.h"
#include "base/time.h"
#include "platform/http_probe.h"

namespace lifeboat::platform {

namespace {

// One command on haproxy's admin socket; the whole answer.
Result<std::string> AdminCommand(const std::string& socket_path, const std::string& command) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus("cannot create a socket", errno);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    close(fd);
    return Status::Config("admin socket path '" + socket_path + "' is too long",
                          "use a shorter [state] dir");
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    close(fd);
    return ErrnoStatus("cannot reach haproxy's admin socket " + socket_path, err);
  }
  std::string line = command + "\n";
  Status w = WriteAll(fd, line.data(), line.size(), socket_path);
  std::string out;
  char buf[8192];
  ssize_t n;
  while (w.ok() && (n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  LB_RETURN_IF_ERROR(w);
  return out;
}

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string field;
  while (std::getline(ss, field, ',')) out.push_back(field);
  return out;
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

LoadBalancer::LoadBalancer(const Config& cfg, std::vector<ServiceConfig> services,
                           const ServiceManager* manager)
    : cfg_(cfg), services_(std::move(services)), manager_(manager) {}

std::string LoadBalancer::url() const {
  return "http://" + cfg_.load_balancer.bind + ":" + std::to_string(cfg_.load_balancer.port);
}

pid_t LoadBalancer::pid() const {
  Result<Bytes> b = ReadFile(PidFile());
  if (!b.ok()) return 0;
  return static_cast<pid_t>(std::atol(std::string(b->begin(), b->end()).c_str()));
}

bool LoadBalancer::ConfigWritten() const { return PathExists(ConfigFile()); }

bool LoadBalancer::Running() const { return ProcessMatches(pid(), ConfigFile()); }

Result<std::string> LoadBalancer::Render() const {
  LB_ASSIGN_OR_RETURN(auto states, manager_->LoadAll());
  std::ostringstream c;
  c << "# Written by lifeboat from its state; edits are overwritten.\n"
    << "global\n"
    << "  stats socket " << Quote(Socket()) << " mode 600 level admin expose-fd listeners\n"
    << "  hard-stop-after 30s\n  log stderr format raw local0\n"
    << "defaults\n"
    << "  mode http\n  log global\n  option httplog\n"
    << "  timeout connect 2s\n"
    << "  timeout client 30s\n"
    << "  timeout server 30s\n"
    << "  timeout http-keep-alive 2s\n"
    // A request is retried on another replica only when it never reached one (conn-failure), so
    // an order is never placed twice. Server connections are not reused: a request sent on an
    // idle connection to a replica that just died could not be retried safely.
    << "  retries 3\n"
    << "  option redispatch 1\n"
    << "  retry-on conn-failure\n"
    << "  http-reuse never\n"
    << "frontend main\n"
    << "  bind " << cfg_.load_balancer.bind << ":" << cfg_.load_balancer.port << "\n";
  // Longest prefix first, as an ALB's most specific rule wins.
  std::vector<std::pair<std::string, std::string>> routes;
  std::string fallback;
  for (const auto& svc : services_) {
    for (const auto& r : svc.routes) {
      if (r == "/") {
        fallback = svc.name;
      } else {
        routes.emplace_back(r, svc.name);
      }
    }
  }
  std::stable_sort(routes.begin(), routes.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (const auto& [prefix, name] : routes) {
    c << "  use_backend " << name << " if { path_beg " << prefix << " }\n";
  }
  c << "  default_backend " << (fallback.empty() ? "no_route" : fallback) << "\n";
  for (const auto& svc : services_) {
    c << "backend " << svc.name << "\n"
      << "  balance roundrobin\n"
      << "  option httpchk GET " << svc.health_path << "\n"
      << "  http-check expect status 200\n"
      << "  default-server check inter 1s fall 2 rise 1\n";
    auto it = states.find(svc.name);
    if (it == states.end()) continue;
    for (const auto& r : it->second.replicas) {
      if (r.registered) c << "  server r" << r.id << " 127.0.0.1:" << r.port << "\n";
    }
  }
  c << "backend no_route\n  http-request deny deny_status 404\n";
  return c.str();
}

Status LoadBalancer::Write(bool* changed) {
  LB_ASSIGN_OR_RETURN(std::string text, Render());
  Result<Bytes> old = ReadFile(ConfigFile());
  *changed = !old.ok() || std::string(old->begin(), old->end()) != text;
  if (!*changed) return Status::Ok();
  LB_RETURN_IF_ERROR(MakeDirs(dir(), 0700));
  // Checked before it replaces the running configuration: a bad file never reaches haproxy.
  std::string candidate = dir() + "/haproxy.cfg.new";
  LB_RETURN_IF_ERROR(WriteFileDurable(candidate,
      ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size()), 0600));
  LB_ASSIGN_OR_RETURN(ProcessResult check,
                      RunProcess({cfg_.load_balancer.haproxy, "-c", "-q", "-f", candidate}));
  if (check.exit_code != 0) {
    return Status::IO("load balancer: haproxy rejects the generated configuration: " +
                      LastLines(check.err + check.out, 3), "the file is " + candidate);
  }
  if (std::rename(candidate.c_str(), ConfigFile().c_str()) != 0) {
    return ErrnoStatus("cannot install " + ConfigFile(), errno);
  }
  return FsyncDir(dir());
}

Status LoadBalancer::WaitServing(const std::string& config) const {
  // haproxy serves `config` when its admin socket lists exactly the servers the file names.
  std::map<std::string, int> want;
  std::istringstream in(config);
  std::string line, backend;
  while (std::getline(in, line)) {
    if (line.rfind("backend ", 0) == 0) backend = line.substr(8);
    if (line.rfind("  server ", 0) == 0) {
      std::string rest = line.substr(9);
      ++want[backend + "/" + rest.substr(0, rest.find(' '))];
    }
  }
  double deadline = MonotonicSeconds() + 15;
  std::string last;
  while (MonotonicSeconds() < deadline) {
    Result<std::vector<BackendServer>> servers = Servers();
    if (servers.ok()) {
      std::map<std::string, int> have;
      bool all_up = true;
      for (const auto& s : *servers) {
        ++have[s.backend + "/" + s.server];
        all_up = all_up && s.status.rfind("UP", 0) == 0;
      }
      if (have == want && all_up) return Status::Ok();
      last = "servers do not match the configuration yet";
    } else {
      last = servers.status().message();
    }
    usleep(50000);
  }
  return Status::IO("load balancer: haproxy did not take its new configuration within 15 s: " + last,
                    "see " + dir() + "/haproxy.log");
}

Status LoadBalancer::Ensure() {
  if (!configured()) return Status::Ok();
  if (Running()) return Sync();
  const auto& lb = cfg_.load_balancer;
  if (access(lb.haproxy.c_str(), X_OK) != 0) {
    return Status::Config("load balancer: haproxy not found at " + lb.haproxy,
                          "install Debian's package 'haproxy' (apt-get install haproxy; "
                          "scripts/setup does it), or set [load_balancer] haproxy");
  }
  if (!PortFree(lb.bind, lb.port)) {
    return Status::IO("load balancer: port " + std::to_string(lb.port) + " on " + lb.bind +
                          " is in use",
                      "set [load_balancer] port to a free port, or stop what listens on it");
  }
  bool changed = false;
  LB_RETURN_IF_ERROR(Write(&changed));
  std::remove(Socket().c_str());
  // Foreground master-worker (-W -db) under lifeboat's own daemonizing: the pid lifeboat
  // records is the master's, which stays the same across reloads.
  LB_ASSIGN_OR_RETURN(pid_t master, SpawnDaemon({lb.haproxy, "-W", "-db", "-f", ConfigFile()},
                                                {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}},
                                                dir() + "/haproxy.log"));
  std::string pid_text = std::to_string(master) + "\n";
  LB_RETURN_IF_ERROR(WriteFileDurable(PidFile(),
      ByteSpan(reinterpret_cast<const uint8_t*>(pid_text.data()), pid_text.size()), 0600));
  LB_ASSIGN_OR_RETURN(std::string text, Render());
  Status serving = WaitServing(text);
  if (!serving.ok() && !Running()) {
    Result<Bytes> log = ReadFile(dir() + "/haproxy.log");
    std::string tail = log.ok() ? LastLines(std::string(log->begin(), log->end()), 3) : "";
    return Status::IO("load balancer: haproxy exited at start: " + tail,
                      "see " + dir() + "/haproxy.log");
  }
  return serving;
}

Status LoadBalancer::Sync() {
  if (!configured() || !Running()) return Status::Ok();
  bool changed = false;
  LB_RETURN_IF_ERROR(Write(&changed));
  if (!changed) return Status::Ok();
  if (kill(pid(), SIGUSR2) != 0) return ErrnoStatus("cannot reload haproxy", errno);
  LB_ASSIGN_OR_RETURN(std::string text, Render());
  return WaitServing(text);
}

Status LoadBalancer::Stop() {
  pid_t p = pid();
  LB_RETURN_IF_ERROR(StopProcess(p, ConfigFile(), 10));
  std::remove(PidFile().c_str());
  std::remove(Socket().c_str());
  return Status::Ok();
}

Result<std::vector<BackendServer>> LoadBalancer::Servers() const {
  LB_ASSIGN_OR_RETURN(std::string csv, AdminCommand(Socket(), "show stat"));
  std::istringstream in(csv);
  std::string line;
  std::map<std::string, size_t> col;
  std::vector<BackendServer> out;
  while (std::getline(in, line)) {
    if (line.rfind("# ", 0) == 0) {
      std::vector<std::string> names = SplitCsv(line.substr(2));
      for (size_t i = 0; i < names.size(); ++i) col[names[i]] = i;
      continue;
    }
    std::vector<std::string> f = SplitCsv(line);
    if (col.empty() || f.size() <= col["check_status"]) continue;
    const std::string& sv = f[col["svname"]];
    if (sv == "FRONTEND" || sv == "BACKEND") continue;
    BackendServer s;
    s.backend = f[col["pxname"]];
    s.server = sv;
    s.status = f[col["status"]];
    s.check = f[col["check_status"]];
    if (col.count("addr") && col["addr"] < f.size()) s.address = f[col["addr"]];
    out.push_back(s);
  }
  return out;
}

}  // namespace lifeboat::platform
