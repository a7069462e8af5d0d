// The SigV4 signer against the signatures AWS publishes: the four S3 examples of "Signature
// Calculations for the Authorization Header: Transferring Payload in a Single Chunk" and the
// IAM guide's ListUsers example. A signer that passes these signs what S3 and RGW check.
#include <gtest/gtest.h>

#include "storage/s3/sigv4.h"

namespace lifeboat::s3 {
namespace {

const Credentials kS3Example{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const char* kDate = "20130524T000000Z";

SigningRequest S3Get(const std::string& uri, std::vector<std::pair<std::string, std::string>> query) {
  SigningRequest r;
  r.method = "GET";
  r.canonical_uri = uri;
  r.query = std::move(query);
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"}, {"x-amz-date", kDate}, {"x-amz-content-sha256", kEmpty}};
  r.payload_sha256 = kEmpty;
  return r;
}

TEST(SigV4Test, GetObjectWithARange) {
  SigningRequest r = S3Get("/test.txt", {});
  r.headers["Range"] = "bytes=0-9";
  Signature s = SignV4(r, kS3Example, "us-east-1", "s3", kDate);
  EXPECT_EQ(s.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, PutObjectWithAKeyThatNeedsEncoding) {
  std::string body = "Welcome to Amazon S3.";
  SigningRequest r;
  r.method = "PUT";
  r.canonical_uri = "/" + UriEncode("test$file.text", true);
  EXPECT_EQ(r.canonical_uri, "/test%24file.text");
  r.payload_sha256 = Sha256Hex(body);
  EXPECT_EQ(r.payload_sha256, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-date", kDate},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
               {"x-amz-content-sha256", r.payload_sha256}};
  Signature s = SignV4(r, kS3Example, "us-east-1", "s3", kDate);
  EXPECT_EQ(Sha256Hex(s.canonical_request), "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  EXPECT_NE(s.authorization.find("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"),
            std::string::npos);
}

TEST(SigV4Test, AQueryParameterWithoutAValue) {
  Signature s = SignV4(S3Get("/", {{"lifecycle", ""}}), kS3Example, "us-east-1", "s3", kDate);
  EXPECT_EQ(s.canonical_request.substr(0, 17), "GET\n/\nlifecycle=\n");
  EXPECT_EQ(s.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4Test, QueryParametersAreSortedAndEncoded) {
  Signature s = SignV4(S3Get("/", {{"prefix", "J"}, {"max-keys", "2"}}), kS3Example, "us-east-1", "s3", kDate);
  EXPECT_EQ(s.canonical_request.substr(0, 26), "GET\n/\nmax-keys=2&prefix=J\n");
  EXPECT_EQ(s.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
  // What curl 7.88's built-in signer got wrong: '/' in a value is %2F in the canonical query.
  EXPECT_EQ(CanonicalQuery({{"prefix", "snapshots/ab"}, {"list-type", "2"}}), "list-type=2&prefix=snapshots%2Fab");
}

TEST(SigV4Test, TheIamGuidesListUsersExample) {
  SigningRequest r;
  r.method = "GET";
  r.canonical_uri = "/";
  r.query = {{"Version", "2010-05-08"}, {"Action", "ListUsers"}};
  r.headers = {{"Host", "iam.amazonaws.com"},
               {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
               {"X-Amz-Date", "20150830T123600Z"}};
  r.payload_sha256 = kEmpty;
  Signature s = SignV4(r, {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""}, "us-east-1", "iam",
                       "20150830T123600Z");
  EXPECT_EQ(Sha256Hex(s.canonical_request), "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request,"
            "SignedHeaders=content-type;host;x-amz-date,"
            "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST(SigV4Test, EncodingAndDates) {
  EXPECT_EQ(UriEncode("a b+c/d~e", false), "a%20b%2Bc%2Fd~e");
  EXPECT_EQ(UriEncode("snapshots/ab/c d", true), "snapshots/ab/c%20d");
  EXPECT_EQ(UriEncode("\xc3\xa9", false), "%C3%A9");
  EXPECT_EQ(AmzDate(1369353600), "20130524T000000Z");
}

}  // namespace
}  // namespace lifeboat::s3
