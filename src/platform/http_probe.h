// HTTP probes for health checks and health gates: one GET with short timeouts.
#pragma once

#include <string>

#include "base/result.h"

namespace lifeboat::platform {

struct HttpReply {
  int status = 0;
  std::string body;
};

// GET http://host:port/path. Fails (Code::kIO) when no HTTP response arrives within
// `timeout_seconds`; any HTTP status is a reply.
Result<HttpReply> HttpGet(const std::string& host, int port, const std::string& path,
                          double timeout_seconds = 2);

// True when something accepts TCP connections on host:port.
bool PortOpen(const std::string& host, int port);
// True when this process could bind host:port now (nothing listens on it).
bool PortFree(const std::string& host, int port);

}  // namespace lifeboat::platform
