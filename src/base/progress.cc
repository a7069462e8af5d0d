#include "base/progress.h"

#include <unistd.h>

#include <cstdio>

#include "base/time.h"

namespace lifeboat {

Progress::Progress(std::string label) : label_(std::move(label)) {}

Progress::~Progress() { Finish(); }

void Progress::Start() {
  if (active_ || !isatty(STDERR_FILENO)) return;
  active_ = true;
  double start = MonotonicSeconds();
  thread_ = std::thread([this, start] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::milliseconds(250));
      if (!stop_) Draw(MonotonicSeconds() - start);
    }
  });
}

void Progress::Finish() {
  if (!active_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  active_ = false;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

void Progress::Draw(double elapsed) {
  uint64_t done = done_.load();
  uint64_t total = total_.load();
  double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  std::string line = label_ + ": " + FormatBytes(done);
  if (total > 0) line += " / " + FormatBytes(total);
  line += "  " + FormatBytes(static_cast<uint64_t>(rate)) + "/s";
  if (total > done && rate > 0) {
    auto eta = static_cast<uint64_t>(static_cast<double>(total - done) / rate);
    char buf[32];
    std::snprintf(buf, sizeof(buf), "  ETA %lu:%02lu", static_cast<unsigned long>(eta / 60),
                  static_cast<unsigned long>(eta % 60));
    line += buf;
  }
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof(buf), "%lu B", static_cast<unsigned long>(bytes));
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[unit]);
  }
  return buf;
}

}  // namespace lifeboat
