// The S3 backend against a real RGW: the shared backend suite (every backend's contract), then
// what only S3 has: multipart uploads, interrupted uploads, and the store's own errors.
#include <gtest/gtest.h>

#include "../unit/backend_suite.h"
#include "rgw.h"

namespace lifeboat {
namespace {

using suite::B;
using suite::BackendSuite;
using suite::RandomBytes;

// Each test gets its own bucket. The multipart threshold is lowered so that the suite's larger
// objects (8 MiB and 64 MiB) go up in parts: the suite then checks multipart uploads too.
class S3Factory {
 public:
  std::shared_ptr<Backend> Make() {
    s3::Credentials creds;
    S3Options o = testing::NewBucket(&creds);
    o.multipart_threshold = 6u << 20;
    o.part_size = 5u << 20;
    return std::make_shared<S3Backend>(o, creds);
  }
};

}  // namespace
}  // namespace lifeboat

namespace lifeboat::suite {
using S3Backends = ::testing::Types<S3Factory, FaultFactory<S3Factory>>;
INSTANTIATE_TYPED_TEST_SUITE_P(Rgw, BackendSuite, S3Backends);
}  // namespace lifeboat::suite
