#include "agent/notifier.h"

#include <curl/curl.h>

#include <chrono>

#include "base/process.h"

namespace lifeboat::agent {

namespace {

constexpr int kAttempts = 3;
constexpr long kTimeoutSeconds = 10;  // per attempt, for a webhook and for a command
constexpr double kAttemptSeconds = kTimeoutSeconds;

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

Status PostJson(const std::string& url, const std::string& body) {
  CURL* c = curl_easy_init();
  if (c == nullptr) return Status::IO("cannot start an HTTP request");
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT, kTimeoutSeconds);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Discard);
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK) return Status::IO("POST " + url + ": " + curl_easy_strerror(rc));
  if (status < 200 || status >= 300) return Status::IO("POST " + url + ": answered " + std::to_string(status));
  return Status::Ok();
}

// Runs argv with `body` on its stdin; its exit code must be 0.
Status RunWithInput(const std::vector<std::string>& argv, const std::string& body) {
  ProcessOptions options;
  options.input = body;
  options.timeout_seconds = kAttemptSeconds;
  LB_ASSIGN_OR_RETURN(ProcessResult r, RunProcess(argv, options));
  if (r.exit_code != 0) {
    return Status::IO("'" + argv[0] + "' exited with " + std::to_string(r.exit_code) +
                      (r.err.empty() ? "" : ": " + LastLines(r.err, 1)));
  }
  return Status::Ok();
}

}  // namespace

Notifier::Notifier(std::vector<AlertNotifyConfig> targets, std::vector<ContactConfig> contacts,
                   std::function<void(const std::string&)> log)
    : targets_(std::move(targets)), contacts_(std::move(contacts)), log_(std::move(log)) {
  thread_ = std::thread([this] { Loop(); });
}

Notifier::~Notifier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Notifier::Send(const Notification& n) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(n);
    queue_.back().contacts = contacts_;
  }
  cv_.notify_all();
}

void Notifier::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything was delivered
    Notification n = queue_.front();
    queue_.pop_front();
    lock.unlock();
    std::string body = n.ToJson().dump();
    for (const AlertNotifyConfig& t : targets_) {
      Status s = Deliver(t, body);
      if (!s.ok()) log_("alert " + n.alert + " (" + n.state + ") not delivered: " + s.message());
    }
    lock.lock();
  }
}

Status Notifier::Deliver(const AlertNotifyConfig& target, const std::string& body) {
  Status last = Status::Ok();
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::seconds(attempt));
    last = target.webhook.empty() ? RunWithInput(target.command, body) : PostJson(target.webhook, body);
    if (last.ok()) return last;
  }
  return last;
}

}  // namespace lifeboat::agent
