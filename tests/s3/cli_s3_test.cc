// The real binary with its repository in a real RGW bucket: what works on a local repository
// works on S3, and the store's own failures (wrong keys, a missing bucket, an endpoint that is
// down, an object changed behind lifeboat's back) are reported as the README says.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../cli/harness.h"
#include "fault_proxy.h"
#include "rgw.h"

namespace lifeboat::testing {
namespace {

class S3CliTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    options_ = NewBucket(&creds_, "shop/prod");
    WriteFile(Path("aws/credentials"), "[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n\n[dr]\n"
                                       "aws_access_key_id = " + creds_.access_key_id + "\naws_secret_access_key = " +
                                       creds_.secret_access_key + "\n");
    WriteS3Config("dr");
  }
  void WriteS3Config(const std::string& profile, const std::string& extra = "") {
    WriteConfig("[repository]\nurl = \"s3://" + options_.bucket + "/" + options_.prefix + "\"\nendpoint = \"" +
                options_.endpoint + "\"\ncredentials_file = \"aws/credentials\"\nprofile = \"" + profile +
                "\"\nretry_seconds = 3\n" + extra);
  }
  std::string url() const { return "s3://" + options_.bucket + "/" + options_.prefix; }
  // A backend on the same bucket and prefix, for the test's own look at what is stored.
  S3Backend Store() const { return S3Backend(options_, creds_); }

  S3Options options_;
  s3::Credentials creds_;
};

TEST_F(S3CliTest, FilesBackupRestoreCheckAndStatsOnS3) {
  RunResult init = Run({"repo", "init"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_EQ(init.out, "created repository at '" + url() + "'\n");
  Result<std::vector<ObjectInfo>> keys = Store().List("keys/");
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->size(), 1u);
  EXPECT_TRUE(Store().Stat("config").ok());

  MakeTree(Path("src"), 3, 2048);
  RunResult backup = Run({"files", "backup", Path("src"), "--name", "tree", "--json"});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  nlohmann::json b = nlohmann::json::parse(backup.out);
  std::string id = b["id"];
  EXPECT_GT(b["storage"]["requests"].get<int>(), 3) << backup.out;  // config, keys, index, packs, manifest...
  EXPECT_EQ(b["storage"]["retries"], 0) << backup.out;
  RunResult r = Run({"files", "restore", id, Path("dst")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(CompareTrees(Path("src"), Path("dst")), "");

  RunResult check = Run({"repo", "check", "--read-data"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  RunResult stats = Run({"repo", "stats", "--json"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  nlohmann::json j = nlohmann::json::parse(stats.out);
  uint64_t stored = 0;
  Result<std::vector<ObjectInfo>> data = Store().List("data/");
  ASSERT_TRUE(data.ok());
  for (const ObjectInfo& o : *data) stored += o.size;
  EXPECT_GT(stored, 0u);
  EXPECT_EQ(j["snapshots"], 1) << stats.out;

  // The prefix now holds a repository: init refuses it.
  RunResult again = Run({"repo", "init"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.err.substr(0, again.err.find('\n')),
            "error: cannot create repository at '" + url() + "': a repository already exists there");
}

TEST_F(S3CliTest, RetriesAreCountedInTheJsonAndLoggedOneLineEach) {
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  FaultProxy proxy(std::stoi(options_.endpoint.substr(options_.endpoint.rfind(':') + 1)));
  options_.endpoint = proxy.endpoint();
  WriteS3Config("dr");
  MakeTree(Path("src"), 4, 64);
  proxy.Inject(FaultProxy::Fault::k503, 2, "PUT ");
  proxy.Inject(FaultProxy::Fault::kSlowDown, 1, "GET ");
  RunResult r = Run({"files", "backup", Path("src"), "--name", "t", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["storage"]["retries"], 3) << r.out;
  // Every request the store saw, plus the three refused, less the lock's DELETE after the output.
  EXPECT_EQ(j["storage"]["requests"].get<int>(), proxy.forwarded() + 3 - 1) << r.out;
  size_t lines = 0;
  for (size_t at = r.err.find("lifeboat: s3: retrying "); at != std::string::npos;
       at = r.err.find("lifeboat: s3: retrying ", at + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 3u) << r.err;
  EXPECT_NE(r.err.find("failed (503 SlowDown: injected by the test's fault proxy)"), std::string::npos) << r.err;
  RunResult restore = Run({"files", "restore", j["id"], Path("dst")});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(CompareTrees(Path("src"), Path("dst")), "");
}

TEST_F(S3CliTest, WrongKeysAreAccessDeniedWithAHint) {
  WriteS3Config("default");
  RunResult r = Run({"repo", "init"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: cannot create repository at '" + url() + "': " + url() +
                       ": access denied (403 InvalidAccessKeyId)\n"
                       "hint: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or [repository] credentials_file "
                       "and profile\n");
  // The right key with a wrong secret: the signature is checked for real.
  RunResult sig = Run({"repo", "init"}, {{"AWS_ACCESS_KEY_ID", creds_.access_key_id},
                                         {"AWS_SECRET_ACCESS_KEY", "not-the-secret"}});
  EXPECT_EQ(sig.exit_code, 1);
  EXPECT_EQ(sig.err.substr(0, sig.err.find('\n')),
            "error: cannot create repository at '" + url() + "': " + url() +
                ": access denied (403 SignatureDoesNotMatch)");
  EXPECT_TRUE(Store().List("")->empty());
  // The environment wins over the file.
  RunResult env = Run({"repo", "init"}, {{"AWS_ACCESS_KEY_ID", creds_.access_key_id},
                                         {"AWS_SECRET_ACCESS_KEY", creds_.secret_access_key}});
  EXPECT_EQ(env.exit_code, 0) << env.err;
}

TEST_F(S3CliTest, AMissingBucketNamesTheBucket) {
  options_.bucket += "-gone";
  WriteS3Config("dr");
  RunResult r = Run({"repo", "init"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: cannot create repository at '" + url() + "': bucket '" + options_.bucket +
                       "' does not exist at " + options_.endpoint +
                       "\nhint: create the bucket, or correct [repository] url and endpoint\n");
}

TEST_F(S3CliTest, AnEndpointThatIsDownIsRetriedThenNamed) {
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  int port = FreePortBlock(47000, 1);
  options_.endpoint = "http://127.0.0.1:" + std::to_string(port);
  WriteConfig("[repository]\nurl = \"" + url() + "\"\nendpoint = \"" + options_.endpoint +
              "\"\ncredentials_file = \"aws/credentials\"\nprofile = \"dr\"\nretry_seconds = 2\n");
  RunResult r = Run({"snapshots"});
  EXPECT_EQ(r.exit_code, 2);
  std::string first = r.err.substr(r.err.rfind("error: "));
  EXPECT_NE(first.find("Failed to connect to 127.0.0.1 port " + std::to_string(port)), std::string::npos) << r.err;
  EXPECT_NE(first.find("(gave up after "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("hint: is the store at " + options_.endpoint + " up and reachable?"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("lifeboat: s3: retrying "), std::string::npos) << r.err;
}

TEST_F(S3CliTest, TlsIsVerifiedAndACertificateNobodySignedIsNamed) {
  const RgwAddress& rgw = SharedRgw();
  options_.endpoint = rgw.tls_endpoint;
  WriteS3Config("dr");
  RunResult refused = Run({"repo", "init"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("SSL certificate problem: self-signed certificate"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("hint: check [repository] endpoint, ca_file and verify_tls"), std::string::npos)
      << refused.err;
  EXPECT_EQ(refused.err.find("retrying"), std::string::npos) << "a TLS failure is not retried: " << refused.err;
  WriteS3Config("dr", "ca_file = \"" + rgw.ca_file + "\"\n");
  RunResult init = Run({"repo", "init"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  MakeTree(Path("src"), 6, 64);
  std::string id = Backup(Path("src"));
  ASSERT_EQ(Run({"files", "restore", id, Path("dst")}).exit_code, 0);
  EXPECT_EQ(CompareTrees(Path("src"), Path("dst")), "");
}

TEST_F(S3CliTest, AnObjectChangedBehindLifeboatsBackFailsTheCheck) {
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  MakeTree(Path("src"), 5, 256);
  Backup(Path("src"));
  Result<std::vector<ObjectInfo>> packs = Store().List("data/");
  ASSERT_TRUE(packs.ok() && !packs->empty());
  const std::string& victim = packs->front().key;
  Bytes b = *Store().Get(victim);
  b[b.size() / 2] ^= 0x40;
  ASSERT_TRUE(Store().Put(victim, b).ok());
  RunResult r = Run({"repo", "check", "--read-data"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find(victim.substr(victim.rfind('/') + 1)), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace lifeboat::testing
