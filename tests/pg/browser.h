// A headless Chromium the test drives over the DevTools protocol on a pipe
// (--remote-debugging-pipe: commands on the browser's fd 3, replies and events on its fd 4,
// each a JSON message ended by a NUL byte), so a test reads the page a person would see: the
// DOM after the browser built it, the console's errors, a screenshot, the layout's width.
//
// Not thread-safe: one test thread drives one Browser. The browser runs in a process group of
// its own, which the destructor ends by its pid (and its helpers with it).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lifeboat::testing {

class Browser {
 public:
  // Starts /usr/bin/chromium headless with its profile under `profile_dir`. ok() says whether
  // it started and answered; error() says why not.
  explicit Browser(const std::string& profile_dir);
  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  pid_t pid() const { return pid_; }

  // The viewport: width and height in CSS pixels; `mobile` emulates a phone (touch, the
  // viewport meta tag honoured).
  bool SetViewport(int width, int height, bool mobile);
  // Whether pages run their scripts (true by default).
  bool SetScripts(bool enabled);
  // Navigates and waits up to `seconds` for the load event. Clears the console's errors first.
  bool Load(const std::string& url, int seconds = 20);
  // Evaluates `expression` in the page; its value (JSON), or null when it threw.
  nlohmann::json Eval(const std::string& expression);
  // A PNG of the whole page written to `path`.
  bool Screenshot(const std::string& path);
  // The console's errors and uncaught exceptions since the last Load, as text.
  const std::vector<std::string>& console_errors() const { return console_errors_; }

 private:
  // Sends a command (to the page's session unless `browser_level`) and returns its result,
  // handling events that arrive meanwhile; null with error_ set on failure or timeout.
  nlohmann::json Call(const std::string& method, const nlohmann::json& params = nlohmann::json::object(),
                      bool browser_level = false, int seconds = 20);
  // Reads one message within `seconds`; false on timeout or a closed pipe.
  bool Read(nlohmann::json* message, int seconds);
  void HandleEvent(const nlohmann::json& event);

  pid_t pid_ = -1;
  int to_browser_ = -1;
  int from_browser_ = -1;
  std::string buffer_;
  int next_id_ = 1;
  std::string session_;
  bool loaded_ = false;
  std::string error_;
  std::vector<std::string> console_errors_;
};

// Standard base64 decoding (what the protocol's screenshots are in).
std::string DecodeBase64(const std::string& text);

}  // namespace lifeboat::testing
