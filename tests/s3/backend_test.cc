// The S3 backend against a real RGW: the shared backend suite (every backend's contract), then
// what only S3 has: multipart uploads, interrupted uploads, and the store's own errors.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "../unit/backend_suite.h"
#include "base/time.h"
#include "fault_proxy.h"
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

int PortOf(const std::string& endpoint) { return std::stoi(endpoint.substr(endpoint.rfind(':') + 1)); }

// A bucket reached through a fault proxy: the backend's options say how long it may retry and
// when a transfer counts as stalled.
struct ProxiedBucket {
  ProxiedBucket(double retry_seconds, double proxy_stall_seconds = 3)
      : options(testing::NewBucket(&creds)), proxy(PortOf(options.endpoint), proxy_stall_seconds) {
    options.endpoint = proxy.endpoint();
    options.retry_seconds = retry_seconds;
    options.stall_seconds = 1;
  }
  s3::Credentials creds;
  S3Options options;
  testing::FaultProxy proxy;
};

TEST(S3BackendTest, RetriesRideOut503sSlowDownsResetsAndStalls) {
  ProxiedBucket pb(30);
  S3Backend b(pb.options, pb.creds);
  Bytes data = RandomBytes(300'000, 5);
  pb.proxy.Inject(testing::FaultProxy::Fault::k503, 2, "PUT ");
  pb.proxy.Inject(testing::FaultProxy::Fault::kSlowDown, 1, "PUT ");
  ASSERT_TRUE(b.Put("data/ab/pack", data).ok());
  pb.proxy.Inject(testing::FaultProxy::Fault::kReset, 1, "GET ");
  pb.proxy.Inject(testing::FaultProxy::Fault::kStall, 1, "GET ");
  Result<Bytes> got = b.Get("data/ab/pack");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data);
  EXPECT_EQ(pb.proxy.injected(), 5);
  EXPECT_EQ(b.counts().retries, 5u);
  EXPECT_EQ(b.counts().requests, 7u);  // 3 + 1 tries of the PUT, 2 + 1 of the GET
}

TEST(S3BackendTest, RetriesAreBoundedInTimeAndTheErrorSaysSo) {
  ProxiedBucket pb(1.5);
  S3Backend b(pb.options, pb.creds);
  pb.proxy.Inject(testing::FaultProxy::Fault::k503, 100000);
  double t0 = MonotonicSeconds();
  Status s = b.Put("locks/x", B("x"));
  double took = MonotonicSeconds() - t0;
  EXPECT_EQ(s.code(), Code::kIO);
  std::string m = s.message();
  EXPECT_EQ(m.substr(0, m.find(" (gave up")),
            b.Location() + ": PUT 'repo/locks/x' failed (503 ServiceUnavailable: injected by "
            "the test's fault proxy)");
  EXPECT_NE(m.find(" attempts in "), std::string::npos) << m;
  EXPECT_EQ(s.hint(), "is the store at " + pb.proxy.endpoint() + " up and reachable?");
  EXPECT_LT(took, 3.0);
  EXPECT_GT(b.counts().retries, 2u);
}

TEST(S3BackendTest, ClockSkewIsReportedAsSuchAndNotRetried) {
  ProxiedBucket pb(30);
  S3Backend b(pb.options, pb.creds);
  pb.proxy.Inject(testing::FaultProxy::Fault::kSkewed, 1);
  Status s = b.Put("locks/x", B("x"));
  EXPECT_EQ(s.code(), Code::kIO);
  EXPECT_EQ(s.message(), b.Location() + ": this machine's clock differs too much from the store's "
                                        "(403 RequestTimeTooSkewed)");
  EXPECT_EQ(s.hint(), "synchronize the clock (chrony or systemd-timesyncd) and try again");
  EXPECT_EQ(b.counts().retries, 0u);
}

// A writer killed in the middle of a multipart upload leaves parts, never an object; prune's
// RemoveIncomplete aborts the upload once it is old enough.
TEST(S3BackendTest, AWriterKilledMidMultipartUploadLeavesNothingVisible) {
  ProxiedBucket pb(30, 60);
  pb.options.multipart_threshold = 6u << 20;
  pb.options.part_size = 5u << 20;
  pb.proxy.Inject(testing::FaultProxy::Fault::kStall, 1, "partNumber=3");
  Bytes big = RandomBytes(24u << 20, 9);
  pid_t child = fork();
  if (child == 0) {
    S3Backend writer(pb.options, pb.creds);
    _exit(writer.Put("data/cd/big", big).ok() ? 0 : 1);
  }
  for (int i = 0; i < 600 && pb.proxy.injected() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(pb.proxy.injected(), 1) << "the writer never reached its third part";
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);

  S3Options direct = pb.options;
  direct.endpoint = testing::SharedRgw().endpoint;
  S3Backend b(direct, pb.creds);
  EXPECT_EQ(b.Stat("data/cd/big").status().code(), Code::kNotFound);
  EXPECT_TRUE(b.List("")->empty());
  EXPECT_EQ(*b.RemoveIncomplete(3600), 0u);  // too young: perhaps a writer still at work
  EXPECT_EQ(*b.RemoveIncomplete(0), 1u);
  EXPECT_EQ(*b.RemoveIncomplete(0), 0u);
  // The key is free for a whole upload.
  ASSERT_TRUE(b.Put("data/cd/big", big).ok());
  EXPECT_TRUE(*b.Get("data/cd/big") == big);
}

}  // namespace
}  // namespace lifeboat

namespace lifeboat::suite {
using S3Backends = ::testing::Types<S3Factory, FaultFactory<S3Factory>>;
INSTANTIATE_TYPED_TEST_SUITE_P(Rgw, BackendSuite, S3Backends);
}  // namespace lifeboat::suite
