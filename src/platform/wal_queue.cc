#include "platform/wal_queue.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "base/fs.h"
#include "base/time.h"
#include "pg/wal.h"

namespace lifeboat::platform {

std::string WalQueueDir(const Config& cfg, const std::string& repository) {
  return cfg.state.dir + "/wal-queue/" + repository;
}

std::vector<std::string> QueuedWal(const Config& cfg, const std::string& repository) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(WalQueueDir(cfg, repository), ec)) {
    if (pg::IsWalFileName(e.path().filename().string())) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status EnqueueWal(const Config& cfg, const std::string& repository, const std::string& name, ByteSpan data) {
  std::string dir = WalQueueDir(cfg, repository);
  LB_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  return WriteFileDurable(dir + "/" + name, data, 0600);
}

Result<size_t> DrainWalQueue(const Config& cfg, const std::string& repository, Repository* repo) {
  pg::WalArchive archive(repo);
  size_t stored = 0;
  for (const std::string& q : QueuedWal(cfg, repository)) {
    Status s = archive.Push(q);
    std::error_code ec;
    if (!s.ok() && s.code() == Code::kNotFound && !std::filesystem::exists(q, ec)) continue;  // another drainer stored it
    LB_RETURN_IF_ERROR(s.Context("queued WAL '" + Basename(q) + "'"));
    LB_RETURN_IF_ERROR(RemoveFile(q));
    ++stored;
  }
  return stored;
}

WalFeeder::WalFeeder(const Config& cfg, std::string repository, Opener open, Log log, double poll_seconds)
    : cfg_(cfg),
      repository_(std::move(repository)),
      open_(std::move(open)),
      log_(std::move(log)),
      poll_seconds_(poll_seconds),
      thread_([this] { Run(); }) {}

WalFeeder::~WalFeeder() { Stop(); }

void WalFeeder::Notify() {
  std::lock_guard<std::mutex> lock(mu_);
  notified_ = true;
  cv_.notify_one();
}

void WalFeeder::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

size_t WalFeeder::stored() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stored_;
}

void WalFeeder::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    notified_ = false;
    lock.unlock();
    DrainOnce();
    lock.lock();
    cv_.wait_for(lock, std::chrono::duration<double>(poll_seconds_), [this] { return stop_ || notified_; });
  }
}

void WalFeeder::DrainOnce() {
  if (QueuedWal(cfg_, repository_).empty()) return;
  Status s = Status::Ok();
  if (repo_ == nullptr) {
    Result<std::unique_ptr<Repository>> r = open_();
    if (r.ok()) repo_ = std::move(*r);
    s = r.status();
  }
  if (s.ok()) {
    Result<size_t> n = DrainWalQueue(cfg_, repository_, repo_.get());
    if (n.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      stored_ += *n;
    }
    s = n.status();
  }
  if (!s.ok()) {
    repo_.reset();  // reopened on the next attempt: the failure may have been the connection
    if (s.message() != failing_) {
      log_("the " + repository_ + " repository did not store queued WAL: " + s.message() + "; retrying every " +
           FormatDuration(poll_seconds_));
    }
    failing_ = s.message();
  } else if (!failing_.empty()) {
    log_("the " + repository_ + " repository stores WAL again");
    failing_.clear();
  }
}

nlohmann::json WalQueueSummary(const Config& cfg, std::vector<std::string>* problems) {
  nlohmann::json out = nlohmann::json::object();
  std::vector<std::pair<std::string, std::string>> repos = {{"primary", cfg.repository.location()}};
  if (cfg.offsite) repos.emplace_back("offsite", cfg.offsite->location());
  for (const auto& [name, location] : repos) {
    std::vector<std::string> queued = QueuedWal(cfg, name);
    if (queued.empty()) continue;
    struct stat st {};
    double waiting = 0;
    if (::stat(queued.front().c_str(), &st) == 0) {
      UnixNanos queued_at = static_cast<UnixNanos>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
      waiting = std::max(0.0, static_cast<double>(NowNanos() - queued_at) / 1e9);
    }
    out[name] = {{"segments", queued.size()}, {"oldest", Basename(queued.front())}, {"waiting_seconds", waiting}};
    if (waiting > kWalQueueAlertSeconds) {
      char line[512];
      std::snprintf(line, sizeof(line), "the %s repository '%s' has not stored %zu WAL segment(s) (the oldest, %s, for %s)",
                    name.c_str(), location.c_str(), queued.size(), Basename(queued.front()).c_str(),
                    FormatDuration(waiting).c_str());
      problems->push_back(line);
    }
  }
  return out;
}

}  // namespace lifeboat::platform
