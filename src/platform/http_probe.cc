#include "platform/http_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

namespace lifeboat::platform {

namespace {

bool Address(const std::string& host, int port, sockaddr_in* addr) {
  *addr = {};
  addr->sin_family = AF_INET;
  addr->sin_port = htons(static_cast<uint16_t>(port));
  std::string h = host == "localhost" ? "127.0.0.1" : host;
  return inet_pton(AF_INET, h.c_str(), &addr->sin_addr) == 1;
}

}  // namespace

Result<HttpReply> HttpGet(const std::string& host, int port, const std::string& path,
                          double timeout_seconds) {
  httplib::Client client(host, port);
  time_t secs = static_cast<time_t>(timeout_seconds);
  time_t usecs = static_cast<time_t>((timeout_seconds - static_cast<double>(secs)) * 1e6);
  client.set_connection_timeout(secs, usecs);
  client.set_read_timeout(secs, usecs);
  client.set_write_timeout(secs, usecs);
  auto res = client.Get(path);
  if (!res) {
    return Status::IO("GET http://" + host + ":" + std::to_string(port) + path + ": " +
                      httplib::to_string(res.error()));
  }
  return HttpReply{res->status, res->body};
}

bool PortOpen(const std::string& host, int port) {
  sockaddr_in addr;
  if (!Address(host, port, &addr)) return false;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool open = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return open;
}

bool PortFree(const std::string& host, int port) {
  sockaddr_in addr;
  if (!Address(host, port, &addr)) return false;
  // Nothing may be listening (SO_REUSEPORT below would let a second listener in beside it)...
  if (PortOpen(host, port)) return false;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // ...and the port must be bindable the way servers bind it. The connections a server closed
  // linger in TIME_WAIT for a minute; servers that set SO_REUSEPORT (cpp-httplib, haproxy)
  // leave TIME_WAIT sockets that only a socket with both options may bind over.
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  bool free = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return free;
}

}  // namespace lifeboat::platform
