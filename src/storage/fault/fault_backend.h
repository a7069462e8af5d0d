// A wrapper that injects storage faults into any backend, for reliability tests: failed or
// short writes, ENOSPC, failed reads, each after a countdown or with a probability.
//
// Thread safety: as the wrapped backend; the fault plan is guarded by a mutex.
#pragma once

#include <memory>
#include <mutex>
#include <random>

#include "storage/backend.h"

namespace lifeboat {

struct FaultPlan {
  // Puts that succeed before faults start (-1: never fault puts).
  int puts_before_fault = -1;
  // errno reported by a faulted put (ENOSPC for "disk full", EIO for a failed write/fsync).
  int put_errno = ENOSPC;
  // A faulted put first stores a truncated object under the key, as a short write would,
  // then fails. The object's name no longer matches its content.
  bool short_write = false;
  // Probability in [0,1] that any get fails with EIO.
  double get_failure_probability = 0;
  uint64_t seed = 1;
  // Claims to be a remote store (Capabilities::remote), so that readers take the path they
  // take on S3 over any backend.
  bool remote = false;
};

class FaultBackend final : public Backend {
 public:
  FaultBackend(std::shared_ptr<Backend> inner, FaultPlan plan);

  const Capabilities& capabilities() const override { return caps_; }
  std::string Location() const override { return inner_->Location(); }

  Status Put(const std::string& key, ByteSpan data) override;
  Result<Bytes> Get(const std::string& key) override;
  Result<Bytes> GetRange(const std::string& key, uint64_t offset, size_t length) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Result<ObjectInfo> Stat(const std::string& key) override { return inner_->Stat(key); }
  Status Delete(const std::string& key) override { return inner_->Delete(key); }
  RequestCounts counts() const override { return inner_->counts(); }

  // Turns every fault off (the disk was freed, the network came back).
  void Clear();
  int faults_injected() const;
  // Get and GetRange calls so far, faulted or not.
  uint64_t reads() const;

 private:
  bool FaultGet();

  std::shared_ptr<Backend> inner_;
  Capabilities caps_;
  mutable std::mutex mu_;
  FaultPlan plan_;
  std::mt19937_64 rng_;
  int puts_ = 0;
  int faults_ = 0;
  uint64_t reads_ = 0;
};

}  // namespace lifeboat
