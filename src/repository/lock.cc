#include "repository/lock.h"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <nlohmann/json.hpp>

#include "base/fs.h"

namespace lifeboat {

namespace {



Bytes EncodeLock(const LockInfo& l) {
  nlohmann::ordered_json j;
  j["kind"] = l.kind == LockKind::kExclusive ? "exclusive" : "shared";
  j["operation"] = l.operation;
  j["hostname"] = l.hostname;
  j["username"] = l.username;
  j["pid"] = l.pid;
  j["created"] = FormatIso8601(l.created, true);
  j["refreshed"] = FormatIso8601(l.refreshed, true);
  std::string s = j.dump();
  return Bytes(s.begin(), s.end());
}

Result<LockInfo> DecodeLock(ByteSpan b) {
  nlohmann::json j = nlohmann::json::parse(b.begin(), b.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("lock is not valid JSON");
  try {
    LockInfo l;
    l.kind = j.at("kind").get<std::string>() == "exclusive" ? LockKind::kExclusive
                                                             : LockKind::kShared;
    l.operation = j.at("operation").get<std::string>();
    l.hostname = j.at("hostname").get<std::string>();
    l.username = j.value("username", "");
    l.pid = j.at("pid").get<int>();
    auto created = ParseTimestamp(j.at("created").get<std::string>());
    auto refreshed = ParseTimestamp(j.at("refreshed").get<std::string>());
    if (!created.ok() || !refreshed.ok()) return Status::Corruption("lock has a malformed time");
    l.created = *created;
    l.refreshed = *refreshed;
    return l;
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("lock is malformed: ") + e.what());
  }
}

bool IsStale(const LockInfo& l) {
  if (l.hostname == Hostname()) {
    return l.pid <= 0 || (kill(l.pid, 0) != 0 && errno == ESRCH);
  }
  auto age = std::chrono::nanoseconds(NowNanos() - l.refreshed);
  return age > RepositoryLock::kStaleAfter;
}

bool Conflicts(LockKind a, LockKind b) {
  return a == LockKind::kExclusive || b == LockKind::kExclusive;
}

}  // namespace

std::string DescribeLock(const LockInfo& l) {
  return std::string(l.kind == LockKind::kExclusive ? "exclusive" : "shared") + " lock held by " +
         l.operation + " (pid " + std::to_string(l.pid) + " on host " + l.hostname + ", user " +
         l.username + ", since " + FormatIso8601(l.created) + ")";
}

Result<std::vector<std::pair<std::string, LockInfo>>> RepositoryLock::List(Repository* repo,
                                                                         bool remove_stale) {
  LB_ASSIGN_OR_RETURN(std::vector<ObjectInfo> objs, repo->backend().List("locks/"));
  std::vector<std::pair<std::string, LockInfo>> out;
  for (const ObjectInfo& o : objs) {
    Result<Bytes> sealed = repo->backend().Get(o.key);
    if (!sealed.ok()) {
      if (sealed.status().code() == Code::kNotFound) continue;  // released meanwhile
      return sealed.status();
    }
    Result<Bytes> plain = Open(repo->key().encryption, *sealed);
    Result<LockInfo> info = plain.ok() ? DecodeLock(*plain) : Result<LockInfo>(plain.status());
    if (!info.ok()) {
      return Status::Corruption("lock '" + o.key + "' is damaged: " + info.status().message(),
                                "if no lifeboat is running, delete the file '" + o.key +
                                    "' from the repository");
    }
    if (remove_stale && IsStale(*info)) {
      LB_RETURN_IF_ERROR(repo->backend().Delete(o.key));
      continue;
    }
    out.emplace_back(o.key, *info);
  }
  return out;
}

Result<std::unique_ptr<RepositoryLock>> RepositoryLock::Acquire(Repository* repo, LockKind kind,
                                                                const std::string& operation) {
  LockInfo info;
  info.kind = kind;
  info.operation = operation;
  info.hostname = Hostname();
  info.username = Username();
  info.pid = static_cast<int>(getpid());
  info.created = info.refreshed = NowNanos();

  Bytes name(16);
  RandomBytes(name.data(), name.size());
  std::string key = "locks/" + HexEncode(name);
  LB_RETURN_IF_ERROR(repo->backend().Put(key, Seal(repo->key().encryption, EncodeLock(info))));

  Result<std::vector<std::pair<std::string, LockInfo>>> others = List(repo, true);
  if (!others.ok()) {
    (void)repo->backend().Delete(key);
    return others.status();
  }
  for (const auto& [other_key, other] : *others) {
    if (other_key == key || !Conflicts(kind, other.kind)) continue;
    (void)repo->backend().Delete(key);
    return Status::Busy("cannot lock repository for " + operation + ": " + DescribeLock(other),
                        "wait for it to finish; if that process is gone from host " +
                            other.hostname + ", remove '" + other_key + "'");
  }
  return std::unique_ptr<RepositoryLock>(new RepositoryLock(repo, key, info));
}

RepositoryLock::RepositoryLock(Repository* repo, std::string key, LockInfo info)
    : repo_(repo), key_(std::move(key)), info_(std::move(info)) {
  refresher_ = std::thread([this] { RefreshLoop(); });
}

void RepositoryLock::RefreshLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, kRefreshEvery, [this] { return stop_; })) {
    info_.refreshed = NowNanos();
    // A failed refresh is retried at the next tick; the lock only goes stale after kStaleAfter.
    (void)repo_->backend().Put(key_, Seal(repo_->key().encryption, EncodeLock(info_)));
  }
}

RepositoryLock::~RepositoryLock() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  refresher_.join();
  (void)repo_->backend().Delete(key_);
}

}  // namespace lifeboat
