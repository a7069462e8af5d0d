// The storage interface: a flat namespace of immutable objects addressed by keys such as
// "snapshots/3fa4...". Everything lifeboat keeps lives behind it; the repository format decides
// the keys, a backend only stores bytes.
//
// Contract for every implementation (checked by tests/unit/backend_suite_test.cc):
//  - Put is atomic: a reader sees either no object or the whole object, never a prefix. When
//    capabilities().durable_put is set, a successful Put survives a power cut.
//  - Put replaces an existing object of the same key.
//  - Get and GetRange of a missing key return Code::kNotFound.
//  - List(prefix) returns every complete object whose key starts with `prefix`, in key order.
//  - Delete of a missing key succeeds (deletes are idempotent).
//  - Keys are relative, '/'-separated, without "." or ".." components.
//  - All methods are safe to call concurrently from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace lifeboat {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
};

// What a backend guarantees, declared rather than guessed by callers.
struct Capabilities {
  bool durable_put = false;      // Put survives a crash or power cut once it returned
  bool range_reads = false;      // GetRange reads only the requested bytes
  bool consistent_list = false;  // List sees every Put that returned before it started
  // Each request costs a round trip (an object store): readers fetch neighbouring ranges of
  // an object in one request, and keep several requests in flight.
  bool remote = false;
};

// Requests a backend sent and how many of them were retries (remote backends count; local
// ones report zeros).
struct RequestCounts {
  uint64_t requests = 0;
  uint64_t retries = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual const Capabilities& capabilities() const = 0;
  // Human-readable location for messages, e.g. "/var/backups/lifeboat".
  virtual std::string Location() const = 0;

  virtual Status Put(const std::string& key, ByteSpan data) = 0;
  virtual Result<Bytes> Get(const std::string& key) = 0;
  // Reads `length` bytes at `offset`; fewer available bytes is an error.
  virtual Result<Bytes> GetRange(const std::string& key, uint64_t offset, size_t length) = 0;
  virtual Result<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;
  virtual Result<ObjectInfo> Stat(const std::string& key) = 0;
  virtual Status Delete(const std::string& key) = 0;
  // Deletes every key as Delete would (missing keys are fine). The default deletes one after
  // another; an object store overrides it with batch requests.
  virtual Status DeleteMany(const std::vector<std::string>& keys);

  virtual RequestCounts counts() const { return {}; }

  // Removes what writers killed mid-Put left behind (never listed, never read), when older than
  // `min_age_seconds`. Returns how many were removed. Default: nothing to clean.
  virtual Result<uint64_t> RemoveIncomplete(int64_t min_age_seconds) {
    (void)min_age_seconds;
    return uint64_t{0};
  }
};

// Returns an error for keys that are empty, absolute or contain "." / ".." components.
Status ValidateKey(const std::string& key);

}  // namespace lifeboat
