#include "base/parallel.h"

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace lifeboat {

unsigned DefaultWorkers() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 2 : n;
}

Status RunParallel(size_t count, unsigned workers, const std::function<Status(size_t)>& fn) {
  if (workers == 0) workers = DefaultWorkers();
  if (count < workers) workers = static_cast<unsigned>(count);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first;
  auto loop = [&] {
    while (!failed.load()) {
      size_t i = next.fetch_add(1);
      if (i >= count) return;
      Status s = fn(i);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first.ok()) first = s;
        failed.store(true);
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned w = 1; w < workers; ++w) threads.emplace_back(loop);
  loop();
  for (auto& t : threads) t.join();
  return first;
}

}  // namespace lifeboat
