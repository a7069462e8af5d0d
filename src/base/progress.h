// Progress of a long operation, shown on stderr only when stderr is a terminal: bytes done of
// total, rate and ETA, redrawn a few times a second by a background thread.
//
// Thread safety: Add() may be called from any thread; Start/Finish from the owning thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace lifeboat {

class Progress {
 public:
  // `label` prefixes each line, e.g. "backup".
  explicit Progress(std::string label);
  ~Progress();

  void SetTotal(uint64_t bytes) { total_.store(bytes); }
  void Add(uint64_t bytes) { done_.fetch_add(bytes, std::memory_order_relaxed); }
  uint64_t done() const { return done_.load(); }

  // Begins redrawing (no-op when stderr is not a terminal).
  void Start();
  // Stops redrawing and clears the line.
  void Finish();

 private:
  void Draw(double elapsed);

  std::string label_;
  std::atomic<uint64_t> total_{0};
  std::atomic<uint64_t> done_{0};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool active_ = false;
};

// "1.5 GiB", "12 MiB", "512 B".
std::string FormatBytes(uint64_t bytes);

}  // namespace lifeboat
