#include "browser.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include <openssl/evp.h>

namespace lifeboat::testing {

using nlohmann::json;

namespace {

// Waits up to `seconds` for `pid` to exit; true when it was reaped.
bool ReapWithin(pid_t pid, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return true;
    usleep(50 * 1000);
  }
  return false;
}

}  // namespace

std::string DecodeBase64(const std::string& text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return "";
  size_t size = static_cast<size_t>(n);
  // EVP_DecodeBlock counts the padding's bytes as data.
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --size;
  out.resize(size);
  return out;
}

Browser::Browser(const std::string& profile_dir) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    error_ = "socketpair failed";
    return;
  }
  std::string log = profile_dir + "/chromium.log";
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);
    // The browser reads commands on fd 3 and writes replies on fd 4: both are its end of
    // the socket pair.
    int high = fcntl(fds[1], F_DUPFD, 10);
    dup2(high, 3);
    dup2(high, 4);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(out, 2);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    std::string profile = "--user-data-dir=" + profile_dir;
    execl("/usr/bin/chromium", "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
          "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
          "--remote-debugging-pipe", profile.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  if (pid_ < 0) {
    close(fds[0]);
    error_ = "fork failed";
    return;
  }
  setpgid(pid_, pid_);  // also here, so the group exists before the destructor can need it
  to_browser_ = from_browser_ = fds[0];
  json target = Call("Target.createTarget", {{"url", "about:blank"}}, true, 60);
  if (!ok()) return;
  json attached = Call("Target.attachToTarget", {{"targetId", target["targetId"]}, {"flatten", true}}, true);
  if (!ok()) return;
  session_ = attached["sessionId"].get<std::string>();
  for (const char* domain : {"Page.enable", "Runtime.enable", "Log.enable"}) {
    Call(domain);
    if (!ok()) return;
  }
}

Browser::~Browser() {
  if (pid_ > 0) {
    if (to_browser_ >= 0 && error_.empty()) Call("Browser.close", json::object(), true, 5);
    if (!ReapWithin(pid_, 5)) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    kill(-pid_, SIGKILL);  // helpers of the browser's group that outlived it, if any
  }
  if (to_browser_ >= 0) close(to_browser_);
}

bool Browser::Read(json* message, int seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (;;) {
    size_t end = buffer_.find('\0');
    if (end != std::string::npos) {
      *message = json::parse(buffer_.substr(0, end), nullptr, false);
      buffer_.erase(0, end + 1);
      return true;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{from_browser_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char chunk[65536];
    ssize_t n = read(from_browser_, chunk, sizeof(chunk));
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

void Browser::HandleEvent(const json& event) {
  const std::string method = event.value("method", "");
  const json& p = event.contains("params") ? event["params"] : json::object();
  if (method == "Page.loadEventFired" && event.value("sessionId", "") == session_) {
    loaded_ = true;
  } else if (method == "Runtime.consoleAPICalled" && (p["type"] == "error" || p["type"] == "assert")) {
    std::string text = "console." + p["type"].get<std::string>() + ":";
    for (const auto& a : p["args"]) text += " " + (a.contains("value") ? a["value"].dump() : a.value("description", ""));
    console_errors_.push_back(text);
  } else if (method == "Runtime.exceptionThrown") {
    const json& d = p["exceptionDetails"];
    console_errors_.push_back("exception: " + (d.contains("exception") ? d["exception"].value("description", "")
                                                                        : d.value("text", "")));
  } else if (method == "Log.entryAdded" && p["entry"]["level"] == "error") {
    console_errors_.push_back("log: " + p["entry"].value("text", "") + " " + p["entry"].value("url", ""));
  }
}

json Browser::Call(const std::string& method, const json& params, bool browser_level, int seconds) {
  int id = next_id_++;
  json message = {{"id", id}, {"method", method}, {"params", params}};
  if (!browser_level) message["sessionId"] = session_;
  std::string wire = message.dump() + std::string(1, '\0');
  for (size_t sent = 0; sent < wire.size();) {
    ssize_t n = send(to_browser_, wire.data() + sent, wire.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      error_ = method + ": the browser's pipe is closed";
      return json();
    }
    sent += static_cast<size_t>(n);
  }
  json reply;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::seconds>(deadline - std::chrono::steady_clock::now()).count()) + 1;
    if (!Read(&reply, left)) break;
    if (!reply.is_object()) continue;
    if (!reply.contains("id")) {
      HandleEvent(reply);
      continue;
    }
    if (reply["id"] != id) continue;
    if (reply.contains("error")) {
      error_ = method + ": " + reply["error"].dump();
      return json();
    }
    return reply["result"];
  }
  error_ = method + ": no reply within " + std::to_string(seconds) + " s";
  return json();
}

bool Browser::SetViewport(int width, int height, bool mobile) {
  Call("Emulation.setDeviceMetricsOverride",
       {{"width", width}, {"height", height}, {"deviceScaleFactor", mobile ? 2 : 1}, {"mobile", mobile}});
  return ok();
}

bool Browser::SetScripts(bool enabled) {
  Call("Emulation.setScriptExecutionDisabled", {{"value", !enabled}});
  return ok();
}

bool Browser::Load(const std::string& url, int seconds) {
  loaded_ = false;
  console_errors_.clear();
  json nav = Call("Page.navigate", {{"url", url}});
  if (!ok()) return false;
  if (nav.contains("errorText")) {
    error_ = "navigating to " + url + ": " + nav["errorText"].get<std::string>();
    return false;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  json event;
  while (!loaded_ && std::chrono::steady_clock::now() < deadline) {
    if (!Read(&event, 1)) continue;
    if (event.is_object() && !event.contains("id")) HandleEvent(event);
  }
  if (!loaded_) error_ = "no load event from " + url + " within " + std::to_string(seconds) + " s";
  return loaded_;
}

json Browser::Eval(const std::string& expression) {
  json r = Call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}});
  if (!ok() || r.contains("exceptionDetails")) return json();
  return r["result"].contains("value") ? r["result"]["value"] : json();
}

bool Browser::Screenshot(const std::string& path) {
  json metrics = Call("Page.getLayoutMetrics");
  if (!ok()) return false;
  const json& size = metrics["cssContentSize"];
  json shot = Call("Page.captureScreenshot",
                   {{"format", "png"},
                    {"captureBeyondViewport", true},
                    {"clip", {{"x", 0}, {"y", 0}, {"width", size["width"]}, {"height", size["height"]}, {"scale", 1}}}});
  if (!ok()) return false;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << DecodeBase64(shot["data"].get<std::string>());
  return static_cast<bool>(out);
}

}  // namespace lifeboat::testing
