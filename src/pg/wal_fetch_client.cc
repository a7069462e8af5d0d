#include "pg/wal_fetch_client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace lifeboat::pg {

namespace {

constexpr size_t kMaxLine = 4096;

// Closes its descriptor on every path out.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

namespace wire {

sockaddr_un UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

bool ReadLine(int fd, std::string* line) {
  line->clear();
  char c;
  while (line->size() < kMaxLine) {
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (c == '\n') return true;
    line->push_back(c);
  }
  return false;
}

bool WriteLine(int fd, const std::string& line) {
  std::string out = line + "\n";
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace wire

bool FitsUnixSocketPath(const std::string& path) { return !path.empty() && path.size() < sizeof(sockaddr_un{}.sun_path); }

PrefetchReply AskPrefetchServer(const std::string& socket_path, const std::string& name, const std::string& dest,
                                std::string* message) {
  if (!FitsUnixSocketPath(socket_path)) return PrefetchReply::kNoServer;
  Fd s{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) return PrefetchReply::kNoServer;
  sockaddr_un addr = wire::UnixAddress(socket_path);
  // Nothing listening (the restoring process is gone) or no socket at all: fetch it yourself.
  if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return PrefetchReply::kNoServer;
  std::string answer;
  if (!wire::WriteLine(s.fd, name) || !wire::ReadLine(s.fd, &answer)) return PrefetchReply::kNoServer;
  size_t space = answer.find(' ');
  std::string kind = answer.substr(0, space);
  std::string rest = space == std::string::npos ? "" : answer.substr(space + 1);
  if (kind == "ok") {
    if (::rename(rest.c_str(), dest.c_str()) != 0) {
      *message = "cannot move the prefetched '" + rest + "' to '" + dest + "': " + std::strerror(errno);
      return PrefetchReply::kError;
    }
    return PrefetchReply::kStored;
  }
  *message = kind == "missing" || kind == "error" ? rest : "an answer that is not the protocol's: " + answer;
  return kind == "missing" ? PrefetchReply::kMissing : PrefetchReply::kError;
}

}  // namespace lifeboat::pg
