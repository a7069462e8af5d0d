// Objects in an S3-compatible store (AWS S3, Ceph RGW, MinIO) under s3://BUCKET/PREFIX, over
// libcurl with lifeboat's own SigV4 signer (storage/s3/sigv4.h).
//
// How it keeps the Backend contract (storage/backend.h):
//  - Put is atomic because S3 makes an object visible only when its upload completed: a single
//    PUT, or above `multipart_threshold` a multipart upload whose parts stay invisible until
//    CompleteMultipartUpload. An interrupted multipart upload leaves parts, never an object;
//    RemoveIncomplete aborts such uploads once they are older than its minimum age.
//  - Every request carries the payload's real SHA-256 (x-amz-content-sha256), so the store
//    refuses a body damaged on the way.
//  - Transient failures (500, 502, 503, 504, SlowDown, RequestTimeout, resets, timeouts,
//    stalls) are retried with full-jitter exponential backoff for at most `retry_seconds` per
//    operation. Every write is idempotent (objects are content-addressed or written once), so
//    a retried PUT never corrupts. Retries are counted (counts()).
//  - The store must give read-after-write and list-after-write consistency, as AWS S3 (since
//    December 2020) and RGW do; capabilities() declares it.
//
// Errors: wrong credentials are Status::Config "access denied (403 SignatureDoesNotMatch)" with
// a hint; a missing bucket is Status::Config naming it; an unreachable endpoint, after the
// retries, Status::IO naming it; clock skew and TLS failures Status::IO saying so.
//
// Thread safety: all methods may be called concurrently (requests run in parallel, each on a
// pooled connection).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "storage/backend.h"
#include "storage/s3/http_client.h"
#include "storage/s3/sigv4.h"

namespace lifeboat {

struct S3Options {
  std::string bucket;
  std::string prefix;    // without leading or trailing '/'; "" = the bucket's root
  std::string endpoint;  // "http://127.0.0.1:7480"; "" = https://s3.REGION.amazonaws.com
  std::string region = "us-east-1";
  enum class UriStyle { kDefault, kPath, kHost } uri_style = UriStyle::kDefault;  // default: host on AWS, else path
  std::string ca_file;
  bool verify_tls = true;
  std::string storage_class;  // x-amz-storage-class, "" = the store's default
  std::string sse;            // x-amz-server-side-encryption ("AES256", "aws:kms"), "" = none
  // Objects larger than this go up as multipart uploads of `part_size` bytes.
  uint64_t multipart_threshold = 64ull << 20;
  uint64_t part_size = 16ull << 20;
  double retry_seconds = 60;  // total time one operation may spend retrying
  long stall_seconds = 30;    // a transfer without progress for this long is retried
};

// Parses "s3://BUCKET" or "s3://BUCKET/PREFIX" into `out` (bucket and prefix only).
Status ParseS3Url(const std::string& url, S3Options* out);

// The AWS way: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from the
// environment; else `credentials_file` (the shared-credentials INI format) at `profile`
// ("" = $AWS_PROFILE, else "default"); "" for the file means ~/.aws/credentials.
Result<s3::Credentials> LoadS3Credentials(const std::string& credentials_file, const std::string& profile);
// `c` in the shared-credentials format, as profile [default]: what LoadS3Credentials reads, for
// processes that do not get this one's environment (archive_command, the agent).
std::string FormatS3Credentials(const s3::Credentials& c);

class S3Backend final : public Backend {
 public:
  S3Backend(S3Options options, s3::Credentials credentials);

  const Capabilities& capabilities() const override;
  std::string Location() const override;  // "s3://bucket/prefix"

  Status Put(const std::string& key, ByteSpan data) override;
  Result<Bytes> Get(const std::string& key) override;
  Result<Bytes> GetRange(const std::string& key, uint64_t offset, size_t length) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Result<ObjectInfo> Stat(const std::string& key) override;
  Status Delete(const std::string& key) override;
  // DeleteObjects, 1,000 keys a request.
  Status DeleteMany(const std::vector<std::string>& keys) override;
  // Aborts multipart uploads under the prefix started more than `min_age_seconds` ago.
  Result<uint64_t> RemoveIncomplete(int64_t min_age_seconds) override;

  // Creates the bucket (PUT Bucket); AlreadyExists when it is there and ours.
  Status CreateBucket();
  RequestCounts counts() const override { return {requests_.load(), retries_.load()}; }
  const S3Options& options() const { return options_; }

 private:
  struct Call;
  Result<s3::HttpResponse> Send(Call& call);
  Result<s3::HttpResponse> SendOnce(Call& call, s3::TransportError* transport);
  std::string FullKey(const std::string& key) const;
  Status PutMultipart(const std::string& full, ByteSpan data);
  Status ErrorFor(const Call& call, const s3::HttpResponse& resp) const;

  S3Options options_;
  s3::Credentials creds_;
  std::string scheme_;     // "http" or "https"
  std::string host_;       // host[:port] of the endpoint (path style)
  bool path_style_ = true;
  std::unique_ptr<s3::HttpClient> http_;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> retries_{0};
};

}  // namespace lifeboat
