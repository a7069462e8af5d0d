// AWS Signature Version 4 for S3 requests (header-based, single-chunk payloads), built on
// OpenSSL's SHA-256 and HMAC. Checked against the examples AWS publishes in the S3 API
// reference ("Signature Calculations for the Authorization Header") and the IAM guide.
//
// The caller gives the canonical URI already encoded (UriEncode of each path segment) and the
// payload's real SHA-256; the signer never reads a clock, so every input is explicit and a
// test can reproduce a published signature exactly.
//
// Thread safety: free functions without state.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace lifeboat::s3 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" unless temporary credentials
};

struct SigningRequest {
  std::string method;         // "GET", "PUT", ...
  std::string canonical_uri;  // encoded path, e.g. "/bucket/key%24name"
  std::vector<std::pair<std::string, std::string>> query;  // raw (unencoded) names and values
  // Headers to sign: names in any case, values as sent. Must include "host" and
  // "x-amz-date"; "x-amz-content-sha256" is required by S3.
  std::map<std::string, std::string> headers;
  std::string payload_sha256;  // lower-case hex
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lower-case hex
  std::string authorization;  // the Authorization header's value
};

// `amz_date` is the request's x-amz-date ("20130524T000000Z"); `service` is "s3" for S3.
Signature SignV4(const SigningRequest& req, const Credentials& creds, const std::string& region,
                 const std::string& service, const std::string& amz_date);

// RFC 3986 encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - _ . ~) as they are,
// everything else %XX in upper case; '/' kept when `keep_slash` (object keys in a path).
std::string UriEncode(const std::string& s, bool keep_slash);
// The canonical query string: names and values encoded, sorted by name then value.
std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query);

std::string Sha256Hex(const void* data, size_t n);
inline std::string Sha256Hex(const std::string& s) { return Sha256Hex(s.data(), s.size()); }
// "20130524T000000Z" for a Unix time in seconds.
std::string AmzDate(int64_t unix_seconds);

}  // namespace lifeboat::s3
