#include "fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace lifeboat::testing {

namespace {

bool WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string ErrorReply(int status, const char* reason, const char* code) {
  std::string body = std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>") + code +
                     "</Code><Message>injected by the test's fault proxy</Message></Error>";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: application/xml\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

FaultProxy::FaultProxy(int upstream_port, double stall_seconds)
    : upstream_port_(upstream_port), stall_seconds_(stall_seconds) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t n = sizeof(a);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &n);
  port_ = ntohs(a.sin_port);
  listen(listen_fd_, 64);
  acceptor_ = std::thread([this] { Accept(); });
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  close(listen_fd_);
  acceptor_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : workers_) t.join();
}

void FaultProxy::Inject(Fault fault, int count, const std::string& match) {
  std::lock_guard<std::mutex> lock(mu_);
  plans_.push_back({fault, count, match});
}

bool FaultProxy::Decide(const std::string& request_line, Fault* fault) {
  std::lock_guard<std::mutex> lock(mu_);
  for (Plan& p : plans_) {
    if (p.left > 0 && request_line.find(p.match) != std::string::npos) {
      --p.left;
      *fault = p.fault;
      ++injected_;
      return true;
    }
  }
  return false;
}

void FaultProxy::Accept() {
  while (!stopping_) {
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { Serve(fd); });
  }
}

void FaultProxy::Serve(int fd) {
  std::string buf;
  char chunk[65536];
  while (!stopping_) {
    // One request: its head, then Content-Length bytes of body (lifeboat never sends chunked).
    size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) goto done;
      buf.append(chunk, static_cast<size_t>(n));
    }
    {
      std::string head = buf.substr(0, head_end + 2);
      size_t length = 0;
      std::string lower = Lower(head);
      size_t cl = lower.find("\r\ncontent-length:");
      if (cl != std::string::npos) length = std::strtoull(head.c_str() + cl + 17, nullptr, 10);
      while (buf.size() < head_end + 4 + length) {
        ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
        if (n <= 0) goto done;
        buf.append(chunk, static_cast<size_t>(n));
      }
      std::string body = buf.substr(head_end + 4, length);
      buf.erase(0, head_end + 4 + length);
      std::string request_line = head.substr(0, head.find("\r\n"));
      Fault fault;
      if (Decide(request_line, &fault)) {
        switch (fault) {
          case Fault::k503:
            WriteAll(fd, ErrorReply(503, "Service Unavailable", "ServiceUnavailable"));
            continue;
          case Fault::kSlowDown:
            WriteAll(fd, ErrorReply(503, "Slow Down", "SlowDown"));
            continue;
          case Fault::kSkewed:
            WriteAll(fd, ErrorReply(403, "Forbidden", "RequestTimeTooSkewed"));
            continue;
          case Fault::kReset: {
            linger l{1, 0};  // RST instead of FIN
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
            goto done;
          }
          case Fault::kStall: {
            auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(stall_seconds_);
            while (!stopping_ && std::chrono::steady_clock::now() < until) {
              std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
            goto done;
          }
        }
      }
      // Forward on a fresh upstream connection that closes after the response.
      int up = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<uint16_t>(upstream_port_));
      if (connect(up, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        close(up);
        goto done;
      }
      ++forwarded_;
      WriteAll(up, head + "Connection: close\r\n\r\n" + body);
      std::string reply;
      ssize_t n;
      while ((n = recv(up, chunk, sizeof(chunk), 0)) > 0) reply.append(chunk, static_cast<size_t>(n));
      close(up);
      if (!WriteAll(fd, reply)) goto done;
      goto done;  // the upstream reply says "Connection: close": so does this connection
    }
  }
done:
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  }
  close(fd);
}

}  // namespace lifeboat::testing
