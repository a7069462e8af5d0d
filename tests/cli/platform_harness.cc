#include "platform_harness.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "harness.h"

namespace fs = std::filesystem;

namespace lifeboat::testing {

int HttpGet(int port, const std::string& path, std::string* body) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(2, 0);
  c.set_read_timeout(5, 0);
  auto res = c.Get(path);
  if (!res) return 0;
  if (body) *body = res->body;
  return res->status;
}

int HttpPost(int port, const std::string& path, const std::string& json, std::string* body) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(2, 0);
  c.set_read_timeout(5, 0);
  auto res = c.Post(path, json, "application/json");
  if (!res) return 0;
  if (body) *body = res->body;
  return res->status;
}

bool PortOpen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool open = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return open;
}

bool ProcessRunning(pid_t pid) {
  if (pid <= 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

std::vector<pid_t> RecordedPids(const std::string& state_dir) {
  std::vector<pid_t> pids;
  std::string services = state_dir + "/services";
  if (fs::exists(services)) {
    for (const auto& svc : fs::directory_iterator(services)) {
      for (const auto& f : fs::directory_iterator(svc.path())) {
        std::string name = f.path().filename().string();
        bool state = name == "state.json";
        bool status = name.size() > 7 && name.substr(name.size() - 7) == ".status";
        if (!state && !status) continue;
        auto j = nlohmann::json::parse(ReadWholeFile(f.path().string()), nullptr, false);
        if (state && j.is_object()) {
          for (const auto& r : j["replicas"]) pids.push_back(r["pid"].get<pid_t>());
        }
        if (status && j.is_object() && j.value("child_pid", 0) > 0) pids.push_back(j["child_pid"].get<pid_t>());
      }
    }
  }
  std::string lb = state_dir + "/lb/haproxy.pid";
  if (fs::exists(lb)) pids.push_back(std::atoi(ReadWholeFile(lb).c_str()));
  return pids;
}

void KillRecorded(const std::string& state_dir) {
  for (pid_t pid : RecordedPids(state_dir)) {
    if (ProcessRunning(pid)) kill(pid, SIGKILL);
  }
}

bool AnyCommandLineContains(const std::string& text) { return CountCommandLines(text) > 0; }

int CountCommandLines(const std::string& text) {
  int count = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = ReadWholeFile(e.path().string() + "/cmdline");
    for (char& c : cmdline) {
      if (c == '\0') c = ' ';
    }
    if (cmdline.find(text) != std::string::npos && ProcessRunning(std::stoi(name))) ++count;
  }
  return count;
}

}  // namespace lifeboat::testing

namespace lifeboat::testing {

pid_t StartWithEnv(const std::vector<std::string>& argv,
                   const std::vector<std::pair<std::string, std::string>>& env, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<std::string> args = argv;
    std::vector<char*> cargv;
    for (auto& a : args) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  return pid;
}

int RunWithEnv(const std::vector<std::string>& argv,
               const std::vector<std::pair<std::string, std::string>>& env, std::string* output) {
  char tmpl[] = "/tmp/lifeboat-run-XXXXXX";
  int fd = mkstemp(tmpl);
  close(fd);
  pid_t pid = StartWithEnv(argv, env, tmpl);
  int status = 0;
  waitpid(pid, &status, 0);
  if (output) *output = ReadWholeFile(tmpl);
  unlink(tmpl);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace lifeboat::testing
