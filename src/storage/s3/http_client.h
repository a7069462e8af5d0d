// A small HTTP client over libcurl for the S3 backend: one request at a time per call, any
// number of calls at once from different threads. Easy handles are pooled, so a connection
// (and its TLS session) is reused by the next request instead of being opened again.
//
// Send returns a response for every HTTP status; only transport failures (refused, reset,
// timed out, stalled, TLS) are errors, each a Status::IO whose message names the URL and
// curl's reason, with `transient` telling the caller whether trying again may help.
//
// Thread safety: Send may be called concurrently.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace lifeboat::s3 {

struct HttpRequest {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  ByteSpan body;  // must outlive Send
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  Bytes body;
};

struct HttpOptions {
  std::string ca_file;        // "" = the system's CA bundle
  bool verify_tls = true;
  long connect_timeout_seconds = 5;
  // A transfer that moves no byte for this long is abandoned (a stalled store).
  long stall_seconds = 30;
};

struct TransportError {
  Status status;
  bool transient = false;  // a reset, timeout or refused connection: worth retrying
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // On a transport failure, returns its status and sets `*error` (when not null).
  Result<HttpResponse> Send(const HttpRequest& req, TransportError* error = nullptr);

 private:
  void* Acquire();
  void Release(void* handle);

  HttpOptions options_;
  std::mutex mu_;
  std::vector<void*> idle_;  // CURL* handles with live connections
};

}  // namespace lifeboat::s3
