#include "storage/fault/fault_backend.h"

namespace lifeboat {

FaultBackend::FaultBackend(std::shared_ptr<Backend> inner, FaultPlan plan)
    : inner_(std::move(inner)), caps_(inner_->capabilities()), plan_(plan), rng_(plan.seed) {
  caps_.remote = caps_.remote || plan.remote;
}

Status FaultBackend::Put(const std::string& key, ByteSpan data) {
  bool fault = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (plan_.puts_before_fault >= 0 && puts_++ >= plan_.puts_before_fault) {
      fault = true;
      ++faults_;
    }
  }
  if (!fault) return inner_->Put(key, data);
  if (plan_.short_write && !data.empty()) {
    LB_RETURN_IF_ERROR(inner_->Put(key, data.first(data.size() / 2)));
  }
  return ErrnoStatus("cannot write '" + key + "' (injected fault)", plan_.put_errno);
}

bool FaultBackend::FaultGet() {
  std::lock_guard<std::mutex> lock(mu_);
  ++reads_;
  if (plan_.get_failure_probability <= 0) return false;
  if (std::uniform_real_distribution<double>(0, 1)(rng_) >= plan_.get_failure_probability) {
    return false;
  }
  ++faults_;
  return true;
}

Result<Bytes> FaultBackend::Get(const std::string& key) {
  if (FaultGet()) return ErrnoStatus("cannot read '" + key + "' (injected fault)", EIO);
  return inner_->Get(key);
}

Result<Bytes> FaultBackend::GetRange(const std::string& key, uint64_t offset, size_t length) {
  if (FaultGet()) return ErrnoStatus("cannot read '" + key + "' (injected fault)", EIO);
  return inner_->GetRange(key, offset, length);
}

Result<std::vector<ObjectInfo>> FaultBackend::List(const std::string& prefix) {
  return inner_->List(prefix);
}

void FaultBackend::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  plan_.puts_before_fault = -1;
  plan_.get_failure_probability = 0;
}

uint64_t FaultBackend::reads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reads_;
}

int FaultBackend::faults_injected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return faults_;
}

}  // namespace lifeboat
