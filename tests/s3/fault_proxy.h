// A fault-injecting HTTP proxy between lifeboat and RGW, for the retry tests. It forwards each
// request on its own upstream connection (with "Connection: close", so every request is
// seen), except the ones chosen by Inject, which get a 503, a SlowDown, a reset connection, a
// stall, or a clock-skew refusal instead, exactly as a misbehaving store would answer.
//
// Thread safety: Inject and the counters may be called while requests flow.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace lifeboat::testing {

class FaultProxy {
 public:
  enum class Fault { k503, kSlowDown, kReset, kStall, kSkewed };

  // Listens on a free loopback port and forwards to 127.0.0.1:`upstream_port`.
  explicit FaultProxy(int upstream_port, double stall_seconds = 5);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The next `count` requests whose request line contains `match` ("" = any) get `fault`.
  void Inject(Fault fault, int count, const std::string& match = "");
  int injected() const { return injected_; }
  int forwarded() const { return forwarded_; }

 private:
  void Accept();
  void Serve(int fd);
  bool Decide(const std::string& request_line, Fault* fault);

  int upstream_port_;
  double stall_seconds_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<int> open_fds_;
  struct Plan {
    Fault fault;
    int left;
    std::string match;
  };
  std::vector<Plan> plans_;
  std::atomic<int> injected_{0};
  std::atomic<int> forwarded_{0};
};

}  // namespace lifeboat::testing
