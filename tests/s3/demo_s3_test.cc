// `lifeboat demo --repository s3://... --offsite s3://... --endpoint URL --ca-file F`: the whole
// demo with both repositories on the RGW over TLS (its certificate trusted through the CA file,
// which the sandbox gets a copy of), each under a new prefix of the one given; the store itself
// (listed here, not lifeboat's report) holds the snapshots and the WAL in both, and the sandbox
// holds no repository. A URL that is not S3, or no credentials: exit 1 before anything is built.
#include <filesystem>

#include "../cli/platform_harness.h"
#include "../pg/pg_harness.h"
#include "rgw.h"

namespace fs = std::filesystem;

namespace lifeboat::testing {
namespace {

class DemoS3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lifeboat-demo-s3-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = std::string(tmpl) + "/sandbox";
    primary_ = NewBucket(&creds_, "shop");
    offsite_ = NewBucket(&creds_, "dr");
    env_ = {{"AWS_ACCESS_KEY_ID", creds_.access_key_id}, {"AWS_SECRET_ACCESS_KEY", creds_.secret_access_key}};
  }
  void TearDown() override {
    RunWithEnv({LIFEBOAT_BIN, "demo", "--dir", dir_, "--down"}, {});
    KillRecorded(dir_ + "/.lifeboat");
    std::error_code ec;
    fs::path real = fs::canonical(dir_, ec);
    if (!ec) fs::remove_all(real);
    fs::remove_all(fs::path(dir_).parent_path());
  }
  // Keys below the bucket's prefix, each as "<demo prefix>/<key>".
  std::vector<std::string> Keys(const S3Options& o) {
    S3Backend store(o, creds_);
    Result<std::vector<ObjectInfo>> listed = store.List("");
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    std::vector<std::string> keys;
    if (listed.ok()) {
      for (const ObjectInfo& i : *listed) keys.push_back(i.key);
    }
    return keys;
  }
  static size_t Count(const std::vector<std::string>& keys, const std::string& part) {
    return static_cast<size_t>(
        std::count_if(keys.begin(), keys.end(), [&](const std::string& k) { return k.find(part) != std::string::npos; }));
  }

  std::string dir_;
  s3::Credentials creds_;
  S3Options primary_, offsite_;
  std::vector<std::pair<std::string, std::string>> env_;
};

TEST_F(DemoS3Test, RunsWithBothRepositoriesOnTheStore) {
  std::string out;
  int rc = RunWithEnv({LIFEBOAT_BIN, "demo", "--dir", dir_, "--repository", "s3://" + primary_.bucket + "/shop/",
                       "--offsite", "s3://" + offsite_.bucket + "/dr", "--endpoint", SharedRgw().tls_endpoint,
                       "--ca-file", SharedRgw().ca_file},
                      env_, &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("repository s3://" + primary_.bucket + "/shop/demo-"), std::string::npos) << out;
  EXPECT_NE(out.find("repository s3://" + offsite_.bucket + "/dr/demo-"), std::string::npos) << out;
  EXPECT_NE(out.find(": PASSED\n"), std::string::npos) << out;
  EXPECT_NE(out.find("(objective 60 s: met)   RPO "), std::string::npos) << out;
  EXPECT_NE(out.find("(objective 1 s: met)\n"), std::string::npos) << out;
  EXPECT_NE(out.find("requests that failed during the recovery: 0 "), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir_ + "/repo"));
  EXPECT_EQ(ReadWholeFile(dir_ + "/demo/ca.pem"), ReadWholeFile(SharedRgw().ca_file));
  for (const S3Options* o : {&primary_, &offsite_}) {
    std::vector<std::string> keys = Keys(*o);
    ASSERT_FALSE(keys.empty()) << o->bucket;
    std::string demo = keys.front().substr(0, keys.front().find('/'));
    EXPECT_EQ(demo.substr(0, 5), "demo-") << keys.front();
    EXPECT_EQ(Count(keys, "/"), keys.size());
    EXPECT_EQ(Count(keys, demo + "/"), keys.size()) << "one demo prefix in " << o->bucket;
    EXPECT_EQ(Count(keys, demo + "/config"), 1u) << o->bucket;
    EXPECT_GE(Count(keys, "/snapshots/"), 1u) << o->bucket;
    EXPECT_GE(Count(keys, "/named/wal/0000000"), 3u) << o->bucket;  // segments of two timelines
    EXPECT_GE(Count(keys, "/named/wal/00000002.history"), 1u) << o->bucket;  // the recovery's timeline
  }
}

TEST_F(DemoS3Test, ANonS3UrlOrNoCredentialsIsRefusedBeforeAnythingIsBuilt) {
  std::string out;
  EXPECT_EQ(RunWithEnv({LIFEBOAT_BIN, "demo", "--dir", dir_, "--repository", "https://" + primary_.bucket + "/shop"},
                       env_, &out),
            1);
  EXPECT_EQ(out, "error: --repository: repository url 'https://" + primary_.bucket +
                     "/shop' is not an s3:// url\nhint: write it as s3://BUCKET/PREFIX\n");
  EXPECT_EQ(RunWithEnv({LIFEBOAT_BIN, "demo", "--dir", dir_, "--repository", "s3://" + primary_.bucket + "/shop",
                        "--endpoint", SharedRgw().endpoint},
                       {{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}, {"HOME", dir_}}, &out),
            1);
  EXPECT_EQ(out.substr(0, out.find('\n')), "error: demo on S3: no S3 credentials found") << out;
  EXPECT_FALSE(fs::exists(dir_));
  EXPECT_TRUE(Keys(primary_).empty());
}

}  // namespace
}  // namespace lifeboat::testing
