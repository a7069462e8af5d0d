// S3 credentials the AWS way: the environment first, then the shared-credentials file.
#include <cstdlib>

#include "base/fs.h"
#include "storage/s3/s3_backend.h"

namespace lifeboat {

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string FormatS3Credentials(const s3::Credentials& c) {
  std::string out = "[default]\naws_access_key_id = " + c.access_key_id + "\naws_secret_access_key = " +
                    c.secret_access_key + "\n";
  if (!c.session_token.empty()) out += "aws_session_token = " + c.session_token + "\n";
  return out;
}

Result<s3::Credentials> LoadS3Credentials(const std::string& credentials_file, const std::string& profile) {
  s3::Credentials c{Env("AWS_ACCESS_KEY_ID"), Env("AWS_SECRET_ACCESS_KEY"), Env("AWS_SESSION_TOKEN")};
  if (!c.access_key_id.empty() && !c.secret_access_key.empty()) return c;
  std::string path = credentials_file;
  if (path.empty()) path = Env("AWS_SHARED_CREDENTIALS_FILE");
  if (path.empty() && !Env("HOME").empty()) path = Env("HOME") + "/.aws/credentials";
  std::string want = !profile.empty() ? profile : !Env("AWS_PROFILE").empty() ? Env("AWS_PROFILE") : "default";
  const char* hint = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or [repository] credentials_file and profile";
  Result<Bytes> b = path.empty() ? Result<Bytes>(Status::NotFound("no credentials file")) : ReadFile(path);
  if (!b.ok()) {
    if (credentials_file.empty()) return Status::Config("no S3 credentials found", hint);
    return Status::Config("cannot read credentials_file '" + path + "': " + b.status().message(), hint);
  }
  std::string text(b->begin(), b->end());
  std::string section;
  bool found = false;
  c = {};
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = Trim(text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
    pos = nl == std::string::npos ? text.size() + 1 : nl + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = Trim(line.substr(1, line.size() - 2));
      found = found || section == want;
      continue;
    }
    if (section != want) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = Trim(line.substr(0, eq)), v = Trim(line.substr(eq + 1));
    if (k == "aws_access_key_id") c.access_key_id = v;
    if (k == "aws_secret_access_key") c.secret_access_key = v;
    if (k == "aws_session_token") c.session_token = v;
  }
  if (!found) return Status::Config("credentials file '" + path + "' has no profile [" + want + "]", hint);
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Status::Config("profile [" + want + "] in '" + path + "' lacks aws_access_key_id or aws_secret_access_key",
                          hint);
  }
  return c;
}

}  // namespace lifeboat
