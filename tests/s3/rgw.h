// A real S3 store for the tests: a single-node Ceph cluster (one monitor, one memstore OSD)
// and a RADOS Gateway on loopback, with every file it writes in one state directory and every
// daemon stopped by its pid.
//
// A ctest run starts one store for all S3 tests (the rgw fixture: `rgw_fixture start DIR`,
// `rgw_fixture stop DIR`) and passes its address in $LIFEBOAT_TEST_RGW; a test binary run by
// hand starts its own on first use and stops it at exit.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "storage/s3/s3_backend.h"

namespace lifeboat::testing {

struct RgwAddress {
  std::string endpoint;      // "http://127.0.0.1:PORT"
  std::string tls_endpoint;  // "https://localhost:PORT", a certificate signed by nobody
  std::string ca_file;       // that certificate (PEM): trust it to verify the TLS endpoint
  std::string access_key;
  std::string secret_key;
  std::vector<pid_t> pids;  // mon, osd, rgw
};

class RgwStore {
 public:
  // Starts the three daemons with their state in `dir` (created; must not exist) and returns
  // once the gateway answers and the test user exists; null with `*error` set on failure
  // (whatever was started is stopped again).
  static std::unique_ptr<RgwStore> Start(const std::string& dir, std::string* error);
  ~RgwStore() { Stop(); }
  // SIGKILL by pid (the state is thrown away), then the state directory is removed.
  void Stop();
  const RgwAddress& address() const { return address_; }
  // Leaves the daemons running past this object (the fixture's `start`); `stop` ends them.
  void Detach() {
    address_.pids.clear();
    dir_.clear();
  }

  // The address file a fixture writes and test binaries read.
  static bool WriteAddress(const RgwAddress& a, const std::string& file);
  static bool ReadAddress(const std::string& file, RgwAddress* a);
  static void Kill(const std::vector<pid_t>& pids);

 private:
  std::string dir_;
  RgwAddress address_;
};

// The store this test binary uses (see the header comment).
const RgwAddress& SharedRgw();
// S3 options and credentials for a new, empty bucket of the shared store (created here).
S3Options NewBucket(s3::Credentials* creds, const std::string& prefix = "repo");
// The credentials of the shared store.
s3::Credentials RgwCredentials();

}  // namespace lifeboat::testing
