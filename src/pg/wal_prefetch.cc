#include "pg/wal_prefetch.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "base/fs.h"

namespace lifeboat::pg {

namespace {

constexpr int kWorkerNice = 10;

// One line, so a message with a newline in it cannot end the answer early.
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

}  // namespace

Result<std::unique_ptr<WalPrefetchServer>> WalPrefetchServer::Start(Repository* repo, std::vector<TimelineStep> path,
                                                                    std::string socket_path, std::string spool_dir,
                                                                    WalPrefetchOptions options) {
  std::string what = "cannot serve WAL on '" + socket_path + "'";
  if (!FitsUnixSocketPath(socket_path)) return Status::Usage(what + ": the path is too long for a Unix socket");
  LB_RETURN_IF_ERROR(MakeDirs(spool_dir, 0700));
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(what, errno);
  ::unlink(socket_path.c_str());  // a server that died left it
  sockaddr_un addr = wire::UnixAddress(socket_path);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 16) != 0 ||
      ::chmod(socket_path.c_str(), 0600) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus(what, err);
  }
  return std::unique_ptr<WalPrefetchServer>(
      new WalPrefetchServer(repo, std::move(path), std::move(socket_path), std::move(spool_dir), options, fd));
}

WalPrefetchServer::WalPrefetchServer(Repository* repo, std::vector<TimelineStep> path, std::string socket_path,
                                     std::string spool_dir, WalPrefetchOptions options, int listen_fd)
    : repo_(repo),
      path_(std::move(path)),
      socket_path_(std::move(socket_path)),
      spool_dir_(std::move(spool_dir)),
      options_(options),
      listen_fd_(listen_fd) {
  for (size_t i = 0; i < std::max<size_t>(1, options_.workers); ++i) workers_.emplace_back([this] { WorkerLoop(); });
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

WalPrefetchServer::~WalPrefetchServer() { Stop(); }

void WalPrefetchServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  if (acceptor_.joinable()) acceptor_.join();
  for (std::thread& w : workers_) {
    if (w.joinable()) w.join();
  }
  if (listen_fd_ >= 0) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [name, e] : entries_) {
        if (e.state == Entry::State::kReady) ++stats_.discarded;  // fetched ahead, never asked for
      }
      entries_.clear();
      queue_.clear();
    }
    ::close(listen_fd_);
    listen_fd_ = -1;
    ::unlink(socket_path_.c_str());
    std::error_code ec;
    std::filesystem::remove_all(spool_dir_, ec);
  }
}

WalPrefetchStats WalPrefetchServer::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void WalPrefetchServer::AcceptLoop() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    // restore_command asks for one file at a time and waits for it: one connection at a time.
    Serve(fd);
    ::close(fd);
  }
}

void WalPrefetchServer::Serve(int fd) {
  timeval timeout{5, 0};  // a client that connects and says nothing does not block the next
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string name;
  if (!wire::ReadLine(fd, &name)) return;
  wire::WriteLine(fd, IsWalFileName(name) ? Answer(name) : "error '" + OneLine(name) + "' is not a WAL file name");
}

std::string WalPrefetchServer::Answer(const std::string& name) {
  std::unique_lock<std::mutex> lock(mu_);
  ++stats_.requests;
  SegmentName sn;
  if (ParseSegmentName(name, kDefaultSegmentSize, &sn)) Plan(name);
  auto it = entries_.find(name);
  if (it != entries_.end()) {
    changed_.wait(lock, [&] {
      it = entries_.find(name);
      return stop_ || it == entries_.end() ||
             (it->second.state != Entry::State::kQueued && it->second.state != Entry::State::kFetching);
    });
    if (stop_) return "error the restore is ending";
    if (it != entries_.end()) {
      bool ready = it->second.state == Entry::State::kReady;
      entries_.erase(it);
      if (ready) {
        ++stats_.from_spool;
        return "ok " + SpoolFile(name);
      }
      // A failed prefetch is asked again: the file may have reached the repository since (the
      // streamer stores the newest segment as replay catches up), or the error passed.
    }
  }
  lock.unlock();
  std::string file = SpoolFile(name) + ".asked";
  Status s = FetchInto(name, file);
  lock.lock();
  if (s.ok()) {
    ++stats_.on_demand;
    return "ok " + file;
  }
  if (s.code() == Code::kNotFound) {
    ++stats_.missing;
    return "missing " + OneLine(s.message());
  }
  return "error " + OneLine(s.message());
}

Status WalPrefetchServer::FetchInto(const std::string& name, const std::string& file) {
  LB_ASSIGN_OR_RETURN(Bytes data, FetchAlongPath(*repo_, name, path_));
  // A cache, not a copy to keep: no fsync. The rename keeps a reader from a half-written file.
  std::string tmp = file + ".tmp";
  {
    LB_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    LB_RETURN_IF_ERROR(WriteAll(fd.get(), data.data(), data.size(), tmp));
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) return ErrnoStatus("cannot rename '" + tmp + "'", errno);
  return Status::Ok();
}

void WalPrefetchServer::Plan(const std::string& segment) {
  size_t ahead = static_cast<size_t>(options_.spool_bytes / kDefaultSegmentSize);
  std::vector<std::string> window;
  for (std::string n = NextSegmentOnPath(path_, segment); !n.empty() && window.size() < ahead;
       n = NextSegmentOnPath(path_, n)) {
    window.push_back(n);
  }
  // Off the path (PostgreSQL trying an older timeline's copy of a segment): nothing to plan,
  // and what is spooled for the path stays.
  if (window.empty()) return;
  for (auto it = entries_.begin(); it != entries_.end();) {
    const std::string& n = it->first;
    bool keep = n == segment || std::find(window.begin(), window.end(), n) != window.end();
    ++it;
    if (!keep) Discard(n);
  }
  for (const std::string& n : window) {
    if (entries_.emplace(n, Entry{}).second) queue_.push_back(n);
  }
  changed_.notify_all();
}

void WalPrefetchServer::Discard(const std::string& name) {
  auto it = entries_.find(name);
  if (it == entries_.end()) return;
  switch (it->second.state) {
    case Entry::State::kQueued:
      queue_.erase(std::remove(queue_.begin(), queue_.end(), name), queue_.end());
      entries_.erase(it);
      break;
    case Entry::State::kFetching:
      it->second.wanted = false;  // its worker deletes it when done
      break;
    case Entry::State::kReady:
      ::unlink(SpoolFile(name).c_str());
      ++stats_.discarded;
      entries_.erase(it);
      break;
    case Entry::State::kFailed:
      entries_.erase(it);
      break;
  }
}

void WalPrefetchServer::WorkerLoop() {
  // Replay is the critical path and fetching ahead only has to keep ahead of it: on a busy
  // machine the workers yield the CPU to PostgreSQL's startup process (a thread's own nice
  // value, Linux). A file replay waits for is fetched by the acceptor, which is not lowered.
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kWorkerNice);
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    changed_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    std::string name = queue_.front();
    queue_.pop_front();
    auto it = entries_.find(name);
    if (it == entries_.end()) continue;
    it->second.state = Entry::State::kFetching;
    lock.unlock();
    Status s = FetchInto(name, SpoolFile(name));
    lock.lock();
    it = entries_.find(name);
    if (it == entries_.end() || !it->second.wanted) {
      if (s.ok()) {
        ::unlink(SpoolFile(name).c_str());
        ++stats_.discarded;
      }
      if (it != entries_.end()) entries_.erase(it);
    } else if (s.ok()) {
      it->second.state = Entry::State::kReady;
    } else {
      it->second.state = Entry::State::kFailed;
      it->second.status = s;
    }
    changed_.notify_all();
  }
}

}  // namespace lifeboat::pg
