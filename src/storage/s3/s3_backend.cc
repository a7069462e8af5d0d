#include "storage/s3/s3_backend.h"

#include <openssl/evp.h>
#include <tinyxml2.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <random>
#include <thread>

#include "base/markup.h"
#include "base/time.h"

namespace lifeboat {

namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string Text(const tinyxml2::XMLElement* parent, const char* name) {
  const tinyxml2::XMLElement* e = parent == nullptr ? nullptr : parent->FirstChildElement(name);
  return e != nullptr && e->GetText() != nullptr ? e->GetText() : "";
}

// The <Code> and <Message> of an S3 error body ("" when there is none, as for HEAD).
std::pair<std::string, std::string> ErrorCode(const Bytes& body) {
  tinyxml2::XMLDocument doc;
  if (body.empty() || doc.Parse(reinterpret_cast<const char*>(body.data()), body.size()) != tinyxml2::XML_SUCCESS) {
    return {"", ""};
  }
  const tinyxml2::XMLElement* root = doc.RootElement();
  if (root == nullptr || std::string(root->Name()) != "Error") return {"", ""};
  return {Text(root, "Code"), Text(root, "Message")};
}

bool RetryableStatus(long status, const std::string& code) {
  return status == 500 || status == 502 || status == 503 || status == 504 || code == "SlowDown" ||
         code == "RequestTimeout" || code == "InternalError";
}

}  // namespace

struct S3Backend::Call {
  std::string method;
  std::string key;  // the full key; "" for a request on the bucket
  Query query;
  std::vector<std::pair<std::string, std::string>> headers;  // signed with the rest
  ByteSpan body;
  std::string what() const { return method + " " + (key.empty() ? "bucket" : "'" + key + "'"); }
};

Status ParseS3Url(const std::string& url, S3Options* out) {
  const std::string scheme = "s3://";
  if (url.rfind(scheme, 0) != 0) {
    return Status::Config("repository url '" + url + "' is not an s3:// url", "write it as s3://BUCKET/PREFIX");
  }
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string bucket = rest.substr(0, slash);
  std::string prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  bool ok = bucket.size() >= 3 && bucket.size() <= 63;
  for (char c : bucket) ok = ok && (std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.');
  if (!ok) {
    return Status::Config("repository url '" + url + "': bucket name '" + bucket + "' is not valid",
                          "S3 bucket names are 3-63 lower-case letters, digits, '-' and '.'");
  }
  if (!prefix.empty()) {
    Status s = ValidateKey(prefix);
    if (!s.ok()) return Status::Config("repository url '" + url + "': prefix '" + prefix + "' is not valid");
  }
  out->bucket = bucket;
  out->prefix = prefix;
  return Status::Ok();
}

S3Backend::S3Backend(S3Options options, s3::Credentials credentials)
    : options_(std::move(options)), creds_(std::move(credentials)) {
  std::string endpoint = options_.endpoint;
  bool aws = endpoint.empty();
  if (aws) endpoint = "https://s3." + options_.region + ".amazonaws.com";
  size_t sep = endpoint.find("://");
  scheme_ = sep == std::string::npos ? "https" : endpoint.substr(0, sep);
  host_ = sep == std::string::npos ? endpoint : endpoint.substr(sep + 3);
  while (!host_.empty() && host_.back() == '/') host_.pop_back();
  path_style_ = options_.uri_style == S3Options::UriStyle::kDefault ? !aws
                                                                     : options_.uri_style == S3Options::UriStyle::kPath;
  s3::HttpOptions http;
  http.ca_file = options_.ca_file;
  http.verify_tls = options_.verify_tls;
  http.stall_seconds = options_.stall_seconds;
  http_ = std::make_unique<s3::HttpClient>(http);
}

const Capabilities& S3Backend::capabilities() const {
  // S3 and RGW store an object durably before answering, and read and list what was written;
  // every request is a round trip.
  static const Capabilities caps{.durable_put = true, .range_reads = true, .consistent_list = true, .remote = true};
  return caps;
}

std::string S3Backend::Location() const {
  return "s3://" + options_.bucket + (options_.prefix.empty() ? "" : "/" + options_.prefix);
}

std::string S3Backend::FullKey(const std::string& key) const {
  return options_.prefix.empty() ? key : options_.prefix + "/" + key;
}

Result<s3::HttpResponse> S3Backend::SendOnce(Call& call, s3::TransportError* transport) {
  std::string host = path_style_ ? host_ : options_.bucket + "." + host_;
  std::string path = path_style_ ? "/" + options_.bucket : "";
  if (!call.key.empty()) path += "/" + s3::UriEncode(call.key, true);
  if (path.empty()) path = "/";
  std::string payload = call.body.empty() ? kEmptySha256 : s3::Sha256Hex(call.body.data(), call.body.size());
  std::string date = s3::AmzDate(NowNanos() / 1'000'000'000);
  s3::SigningRequest sr;
  sr.method = call.method;
  sr.canonical_uri = path;
  sr.query = call.query;
  sr.payload_sha256 = payload;
  sr.headers = {{"host", host}, {"x-amz-date", date}, {"x-amz-content-sha256", payload}};
  if (!creds_.session_token.empty()) sr.headers["x-amz-security-token"] = creds_.session_token;
  for (const auto& [k, v] : call.headers) sr.headers[k] = v;
  s3::Signature sig = s3::SignV4(sr, creds_, options_.region, "s3", date);
  s3::HttpRequest req;
  req.method = call.method;
  std::string query = s3::CanonicalQuery(call.query);
  req.url = scheme_ + "://" + host + path + (query.empty() ? "" : "?" + query);
  for (const auto& [k, v] : sr.headers) req.headers.emplace_back(k, v);
  req.headers.emplace_back("Authorization", sig.authorization);
  req.body = call.body;
  return http_->Send(req, transport);
}

Result<s3::HttpResponse> S3Backend::Send(Call& call) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  double start = MonotonicSeconds();
  double deadline = start + options_.retry_seconds;
  for (int attempt = 0;; ++attempt) {
    ++requests_;
    s3::TransportError transport;
    Result<s3::HttpResponse> r = SendOnce(call, &transport);
    Status why;
    if (r.ok()) {
      if (!RetryableStatus(r->status, ErrorCode(r->body).first)) return r;
      why = ErrorFor(call, *r);
    } else {
      why = Status::IO(Location() + ": " + r.status().message());
      if (!transport.transient) return Status::IO(why.message(), "check [repository] endpoint, ca_file and verify_tls");
    }
    // Full jitter: a random wait up to an exponentially growing cap (0.1 s, 0.2 s, ... 5 s).
    double cap = std::min(5.0, 0.1 * std::pow(2.0, attempt));
    double wait = std::uniform_real_distribution<double>(0, cap)(rng);
    if (MonotonicSeconds() + wait > deadline) {
      return Status::IO(why.message() + " (gave up after " + std::to_string(attempt + 1) + " attempts in " +
                            FormatDuration(MonotonicSeconds() - start) + ")",
                        "is the store at " + scheme_ + "://" + host_ + " up and reachable?");
    }
    ++retries_;
    std::cerr << "lifeboat: s3: retrying " << call.what() << " (attempt " << attempt + 2 << "): " << why.message()
              << std::endl;
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
  }
}

Status S3Backend::ErrorFor(const Call& call, const s3::HttpResponse& resp) const {
  auto [code, message] = ErrorCode(resp.body);
  std::string status = std::to_string(resp.status) + (code.empty() ? "" : " " + code);
  if (resp.status == 403 && code == "RequestTimeTooSkewed") {
    return Status::IO(Location() + ": this machine's clock differs too much from the store's (" + status + ")",
                      "synchronize the clock (chrony or systemd-timesyncd) and try again");
  }
  if (resp.status == 403) {
    return Status::Config(Location() + ": access denied (" + status + ")",
                          "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or [repository] credentials_file "
                          "and profile");
  }
  if (resp.status == 404 && code == "NoSuchBucket") {
    return Status::Config("bucket '" + options_.bucket + "' does not exist at " + scheme_ + "://" + host_,
                          "create the bucket, or correct [repository] url and endpoint");
  }
  if (resp.status == 404) return Status::NotFound(Location() + ": no object '" + call.key + "'");
  return Status::IO(Location() + ": " + call.what() + " failed (" + status + (message.empty() ? "" : ": " + message) + ")");
}

Status S3Backend::Put(const std::string& key, ByteSpan data) {
  LB_RETURN_IF_ERROR(ValidateKey(key));
  std::string full = FullKey(key);
  if (data.size() > options_.multipart_threshold) return PutMultipart(full, data);
  Call call{"PUT", full, {}, {}, data};
  if (!options_.storage_class.empty()) call.headers.emplace_back("x-amz-storage-class", options_.storage_class);
  if (!options_.sse.empty()) call.headers.emplace_back("x-amz-server-side-encryption", options_.sse);
  LB_ASSIGN_OR_RETURN(s3::HttpResponse r, Send(call));
  if (r.status != 200) return ErrorFor(call, r);
  return Status::Ok();
}

Status S3Backend::PutMultipart(const std::string& full, ByteSpan data) {
  Call init{"POST", full, {{"uploads", ""}}, {}, {}};
  if (!options_.storage_class.empty()) init.headers.emplace_back("x-amz-storage-class", options_.storage_class);
  if (!options_.sse.empty()) init.headers.emplace_back("x-amz-server-side-encryption", options_.sse);
  LB_ASSIGN_OR_RETURN(s3::HttpResponse r, Send(init));
  if (r.status != 200) return ErrorFor(init, r);
  tinyxml2::XMLDocument doc;
  std::string upload_id;
  if (doc.Parse(reinterpret_cast<const char*>(r.body.data()), r.body.size()) == tinyxml2::XML_SUCCESS) {
    upload_id = Text(doc.RootElement(), "UploadId");
  }
  if (upload_id.empty()) return Status::IO(Location() + ": " + init.what() + ": the store returned no UploadId");
  auto abort = [&] {
    Call a{"DELETE", full, {{"uploadId", upload_id}}, {}, {}};
    (void)Send(a);
  };
  std::string complete = "<CompleteMultipartUpload>";
  uint64_t part = 1;
  for (uint64_t off = 0; off < data.size(); off += options_.part_size, ++part) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(options_.part_size, data.size() - off));
    Call put{"PUT", full, {{"partNumber", std::to_string(part)}, {"uploadId", upload_id}}, {}, data.subspan(off, n)};
    Result<s3::HttpResponse> pr = Send(put);
    if (!pr.ok() || pr->status != 200) {
      Status s = pr.ok() ? ErrorFor(put, *pr) : pr.status();
      abort();
      return s;
    }
    complete += "<Part><PartNumber>" + std::to_string(part) + "</PartNumber><ETag>" + EscapeMarkup(pr->headers["etag"]) +
                "</ETag></Part>";
  }
  complete += "</CompleteMultipartUpload>";
  Call done{"POST", full, {{"uploadId", upload_id}}, {{"content-type", "application/xml"}},
            ByteSpan(reinterpret_cast<const uint8_t*>(complete.data()), complete.size())};
  Result<s3::HttpResponse> cr = Send(done);
  // CompleteMultipartUpload can fail with status 200 and an <Error> body.
  if (!cr.ok() || cr->status != 200 || !ErrorCode(cr->body).first.empty()) {
    Status s = !cr.ok() ? cr.status()
               : cr->status != 200 ? ErrorFor(done, *cr)
                                   : Status::IO(Location() + ": " + done.what() + " failed (" +
                                                ErrorCode(cr->body).first + ")");
    abort();
    return s;
  }
  return Status::Ok();
}

Result<Bytes> S3Backend::Get(const std::string& key) {
  LB_RETURN_IF_ERROR(ValidateKey(key));
  Call call{"GET", FullKey(key), {}, {}, {}};
  LB_ASSIGN_OR_RETURN(s3::HttpResponse r, Send(call));
  if (r.status != 200) return ErrorFor(call, r);
  return std::move(r.body);
}

Result<Bytes> S3Backend::GetRange(const std::string& key, uint64_t offset, size_t length) {
  LB_RETURN_IF_ERROR(ValidateKey(key));
  if (length == 0) {
    LB_ASSIGN_OR_RETURN(ObjectInfo info, Stat(key));
    if (offset > info.size) return Status::IO("cannot read '" + key + "': range beyond the end of the object");
    return Bytes{};
  }
  Call call{"GET", FullKey(key), {}, {{"range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)}}, {}};
  LB_ASSIGN_OR_RETURN(s3::HttpResponse r, Send(call));
  if (r.status == 416) return Status::IO("cannot read '" + key + "': range beyond the end of the object");
  if (r.status != 206 && r.status != 200) return ErrorFor(call, r);
  if (r.status == 200) {  // the whole object: a store that ignores Range
    if (r.body.size() < offset) return Status::IO("cannot read '" + key + "': range beyond the end of the object");
    r.body.erase(r.body.begin(), r.body.begin() + static_cast<ptrdiff_t>(offset));
    if (r.body.size() > length) r.body.resize(length);
  }
  if (r.body.size() != length) return Status::IO("cannot read '" + key + "': range beyond the end of the object");
  return std::move(r.body);
}

Result<std::vector<ObjectInfo>> S3Backend::List(const std::string& prefix) {
  std::string base = options_.prefix.empty() ? "" : options_.prefix + "/";
  std::vector<ObjectInfo> out;
  std::string token;
  do {
    Call call{"GET", "", {{"list-type", "2"}, {"prefix", base + prefix}}, {}, {}};
    if (!token.empty()) call.query.emplace_back("continuation-token", token);
    LB_ASSIGN_OR_RETURN(s3::HttpResponse r, Send(call));
    if (r.status != 200) return ErrorFor(call, r);
    tinyxml2::XMLDocument doc;
    if (doc.Parse(reinterpret_cast<const char*>(r.body.data()), r.body.size()) != tinyxml2::XML_SUCCESS ||
        doc.RootElement() == nullptr) {
      return Status::IO(Location() + ": the listing of '" + prefix + "' is not XML");
    }
    const tinyxml2::XMLElement* root = doc.RootElement();
    for (const tinyxml2::XMLElement* c = root->FirstChildElement("Contents"); c != nullptr;
         c = c->NextSiblingElement("Contents")) {
      std::string k = Text(c, "Key");
      if (k.size() <= base.size()) continue;
      out.push_back({k.substr(base.size()), std::strtoull(Text(c, "Size").c_str(), nullptr, 10)});
    }
    token = Text(root, "IsTruncated") == "true" ? Text(root, "NextContinuationToken") : "";
  } while (!token.empty());
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Result<ObjectInfo> S3Backend::Stat(const std::string& key) {
  LB_RETURN_IF_ERROR(ValidateKey(key));
  Call call{"HEAD", FullKey(key), {}, {}, {}};
  LB_ASSIGN_OR_RETURN(s3::HttpResponse r, Send(call));
  if (r.status != 200) return ErrorFor(call, r);
  return ObjectInfo{key, std::strtoull(r.headers["content-length"].c_str(), nullptr, 10)};
}

Status S3Backend::Delete(const std::string& key) {
  LB_RETURN_IF_ERROR(ValidateKey(key));
  Call call{"DELETE", FullKey(key), {}, {}, {}};
  LB_ASSIGN_OR_RETURN(s3::HttpResponse r, Send(call));
  if (r.status == 204 || r.status == 200) return Status::Ok();
  if (r.status == 404 && ErrorCode(r.body).first != "NoSuchBucket") return Status::Ok();
  return ErrorFor(call, r);
}

Status S3Backend::DeleteMany(const std::vector<std::string>& keys) {
  for (size_t first = 0; first < keys.size(); first += 1000) {
    size_t last = std::min(keys.size(), first + 1000);
    std::string body = "<Delete><Quiet>true</Quiet>";
    for (size_t i = first; i < last; ++i) {
      LB_RETURN_IF_ERROR(ValidateKey(keys[i]));
      body += "<Object><Key>" + EscapeMarkup(FullKey(keys[i])) + "</Key></Object>";
    }
    body += "</Delete>";
    // DeleteObjects requires Content-MD5 (base64 of the body's MD5).
    unsigned char md5[EVP_MAX_MD_SIZE];
    unsigned int md5_len = 0;
    EVP_Digest(body.data(), body.size(), md5, &md5_len, EVP_md5(), nullptr);
    unsigned char b64[64];
    EVP_EncodeBlock(b64, md5, static_cast<int>(md5_len));
    Call call{"POST", "", {{"delete", ""}},
              {{"content-md5", reinterpret_cast<char*>(b64)}, {"content-type", "application/xml"}},
              ByteSpan(reinterpret_cast<const uint8_t*>(body.data()), body.size())};
    LB_ASSIGN_OR_RETURN(s3::HttpResponse r, Send(call));
    if (r.status != 200) return ErrorFor(call, r);
    tinyxml2::XMLDocument doc;
    if (doc.Parse(reinterpret_cast<const char*>(r.body.data()), r.body.size()) == tinyxml2::XML_SUCCESS &&
        doc.RootElement() != nullptr) {
      for (const tinyxml2::XMLElement* e = doc.RootElement()->FirstChildElement("Error"); e != nullptr;
           e = e->NextSiblingElement("Error")) {
        if (Text(e, "Code") == "NoSuchKey") continue;
        return Status::IO(Location() + ": cannot delete '" + Text(e, "Key") + "' (" + Text(e, "Code") + ": " +
                          Text(e, "Message") + ")");
      }
    }
  }
  return Status::Ok();
}

Result<uint64_t> S3Backend::RemoveIncomplete(int64_t min_age_seconds) {
  std::string base = options_.prefix.empty() ? "" : options_.prefix + "/";
  UnixNanos cutoff = NowNanos() - min_age_seconds * 1'000'000'000;
  uint64_t removed = 0;
  std::string key_marker, id_marker;
  bool more = true;
  while (more) {
    Call call{"GET", "", {{"uploads", ""}, {"prefix", base}}, {}, {}};
    if (!key_marker.empty()) call.query.emplace_back("key-marker", key_marker);
    if (!id_marker.empty()) call.query.emplace_back("upload-id-marker", id_marker);
    LB_ASSIGN_OR_RETURN(s3::HttpResponse r, Send(call));
    if (r.status != 200) return ErrorFor(call, r);
    tinyxml2::XMLDocument doc;
    if (doc.Parse(reinterpret_cast<const char*>(r.body.data()), r.body.size()) != tinyxml2::XML_SUCCESS ||
        doc.RootElement() == nullptr) {
      return Status::IO(Location() + ": the list of multipart uploads is not XML");
    }
    const tinyxml2::XMLElement* root = doc.RootElement();
    for (const tinyxml2::XMLElement* u = root->FirstChildElement("Upload"); u != nullptr;
         u = u->NextSiblingElement("Upload")) {
      Result<UnixNanos> started = ParseTimestamp(Text(u, "Initiated"));
      if (started.ok() && *started > cutoff) continue;
      Call abort{"DELETE", Text(u, "Key"), {{"uploadId", Text(u, "UploadId")}}, {}, {}};
      LB_ASSIGN_OR_RETURN(s3::HttpResponse ar, Send(abort));
      if (ar.status != 204 && ar.status != 200 && ar.status != 404) return ErrorFor(abort, ar);
      ++removed;
    }
    more = Text(root, "IsTruncated") == "true";
    key_marker = Text(root, "NextKeyMarker");
    id_marker = Text(root, "NextUploadIdMarker");
    if (key_marker.empty() && id_marker.empty()) more = false;
  }
  return removed;
}

Status S3Backend::CreateBucket() {
  std::string body;
  if (options_.region != "us-east-1") {
    body = "<CreateBucketConfiguration><LocationConstraint>" + EscapeMarkup(options_.region) +
           "</LocationConstraint></CreateBucketConfiguration>";
  }
  Call call{"PUT", "", {}, {}, ByteSpan(reinterpret_cast<const uint8_t*>(body.data()), body.size())};
  LB_ASSIGN_OR_RETURN(s3::HttpResponse r, Send(call));
  if (r.status == 200) return Status::Ok();
  std::string code = ErrorCode(r.body).first;
  if (r.status == 409 && (code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists")) {
    return Status::AlreadyExists("bucket '" + options_.bucket + "' already exists");
  }
  return ErrorFor(call, r);
}

}  // namespace lifeboat
