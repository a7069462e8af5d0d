// Helpers for tests of the local stack: HTTP probes, the processes lifeboat recorded in its
// state directory, and teardown that stops them by pid whether the test passed or failed.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace lifeboat::testing {

// GET http://127.0.0.1:port/path: the status (0 when no response) and body.
int HttpGet(int port, const std::string& path, std::string* body = nullptr);
// POST with a JSON body; the status (0 when no response).
int HttpPost(int port, const std::string& path, const std::string& json, std::string* body = nullptr);

// True when something accepts connections on 127.0.0.1:port.
bool PortOpen(int port);
// Alive and not a zombie.
bool ProcessRunning(pid_t pid);
// Every pid lifeboat recorded under `state_dir`: supervisors and their children (services/*),
// and haproxy's master (lb/haproxy.pid).
std::vector<pid_t> RecordedPids(const std::string& state_dir);
// SIGKILL to every recorded pid still running (the safety net after `lifeboat down`).
void KillRecorded(const std::string& state_dir);
// True when some process's command line contains `text`; how many do.
bool AnyCommandLineContains(const std::string& text);
int CountCommandLines(const std::string& text);

}  // namespace lifeboat::testing

namespace lifeboat::testing {
// Runs argv[0] with `env` added to the environment; its exit code, stdout+stderr in `output`.
int RunWithEnv(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env,
               std::string* output = nullptr);
// Starts argv[0] with `env` added, stdout and stderr to `log`; returns its pid.
pid_t StartWithEnv(const std::vector<std::string>& argv,
                   const std::vector<std::pair<std::string, std::string>>& env, const std::string& log);
}  // namespace lifeboat::testing
