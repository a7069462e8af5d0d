#include "platform/secrets.h"

#include <dirent.h>

#include <algorithm>
#include <cctype>

#include "base/fs.h"
#include "base/time.h"
#include "repository/crypto.h"

namespace lifeboat::platform {

namespace {

constexpr const char* kStream = "secrets";

nlohmann::json ToJson(const Secret& s) {
  nlohmann::json versions = nlohmann::json::array();
  for (const auto& v : s.versions) {
    versions.push_back({{"version", v.version}, {"created_at", v.created_at},
                        {"created_by", v.created_by}, {"reason", v.reason}, {"values", v.values}});
  }
  return {{"name", s.name}, {"current", s.current}, {"previous", s.previous},
          {"versions", versions}};
}

Result<Secret> FromJson(const std::string& name, ByteSpan bytes) {
  auto j = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
  Secret s;
  try {
    if (!j.is_object()) throw std::runtime_error("not an object");
    s.name = j.at("name").get<std::string>();
    s.current = j.at("current").get<int>();
    s.previous = j.at("previous").get<int>();
    for (const auto& v : j.at("versions")) {
      SecretVersion sv;
      sv.version = v.at("version").get<int>();
      sv.created_at = v.at("created_at").get<std::string>();
      sv.created_by = v.at("created_by").get<std::string>();
      sv.reason = v.value("reason", "");
      sv.values = v.at("values").get<SecretValues>();
      s.versions.push_back(std::move(sv));
    }
  } catch (const std::exception& e) {
    return Status::Corruption("secret '" + name + "' is damaged: " + e.what());
  }
  if (s.name != name) {
    return Status::Corruption("secret '" + name + "' holds the secret '" + s.name + "'");
  }
  return s;
}

int Newest(const std::optional<Secret>& s) {
  return s && !s->versions.empty() ? s->versions.back().version : 0;
}

}  // namespace

const SecretVersion* Secret::Find(int version) const {
  for (const auto& v : versions) {
    if (v.version == version) return &v;
  }
  return nullptr;
}

std::vector<std::string> Secret::Labels(int version) const {
  std::vector<std::string> out;
  if (version == current) out.push_back("current");
  if (version == previous && previous != 0) out.push_back("previous");
  return out;
}

nlohmann::json SecretSummaryJson(const Secret& s, int version) {
  const SecretVersion* v = s.Find(version);
  nlohmann::json keys = nlohmann::json::array();
  if (v != nullptr) {
    for (const auto& [k, value] : v->values) keys.push_back(k);
  }
  return {{"name", s.name},
          {"version", version},
          {"labels", s.Labels(version)},
          {"created_at", v ? v->created_at : ""},
          {"created_by", v ? v->created_by : ""},
          {"reason", v ? v->reason : ""},
          {"keys", keys}};
}

Status CheckSecretName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && name[0] != '.';
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') ok = false;
  }
  if (ok) return Status::Ok();
  return Status::Usage("invalid secret name '" + name + "'",
                       "names are 1-64 letters, digits, '_', '-' or '.'");
}

Status CheckSecretKey(const std::string& key) {
  bool ok = !key.empty() && !std::isdigit(static_cast<unsigned char>(key[0]));
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') ok = false;
  }
  if (ok) return Status::Ok();
  return Status::Usage("invalid secret key '" + key + "'",
                       "keys become environment variables: letters, digits and '_'");
}

Result<std::optional<Secret>> SecretStore::ReadLocal(const std::string& name) {
  Result<Bytes> sealed = ReadFile(PathOf(name));
  if (!sealed.ok()) {
    if (sealed.status().code() == Code::kNotFound) return std::optional<Secret>();
    return sealed.status();
  }
  Result<Bytes> plain = Open(repo_->key().encryption, *sealed);
  if (!plain.ok()) {
    return Status::Corruption("secret file '" + PathOf(name) +
                              "' does not open with this repository's key");
  }
  LB_ASSIGN_OR_RETURN(Secret s, FromJson(name, *plain));
  return std::optional<Secret>(std::move(s));
}

Result<Secret> SecretStore::Get(const std::string& name) {
  LB_RETURN_IF_ERROR(CheckSecretName(name));
  LB_ASSIGN_OR_RETURN(std::optional<Secret> local, ReadLocal(name));
  // The repository's copy wins when it is newer: another machine (a rebuild) changed it.
  std::optional<Secret> remote;
  Result<Bytes> plain = repo_->GetNamed(kStream, name);
  if (plain.ok()) {
    LB_ASSIGN_OR_RETURN(Secret s, FromJson(name, *plain));
    remote = std::move(s);
  } else if (plain.status().code() != Code::kNotFound || !local) {
    if (plain.status().code() == Code::kNotFound) {
      return Status::NotFound("no secret named '" + name + "'",
                              "create it with 'lifeboat secret set " + name + " KEY=@FILE ...'");
    }
    if (!local) return plain.status();
  }
  if (!local) return std::move(*remote);
  if (remote && Newest(remote) > Newest(local)) return std::move(*remote);
  return std::move(*local);
}

Result<std::vector<std::string>> SecretStore::List() {
  LB_ASSIGN_OR_RETURN(std::vector<std::string> names, repo_->ListNamed(kStream));
  if (DIR* d = opendir(dir_.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string f = e->d_name;
      const std::string ext = ".sealed";
      if (f.size() > ext.size() && f.compare(f.size() - ext.size(), ext.size(), ext) == 0) {
        names.push_back(f.substr(0, f.size() - ext.size()));
      }
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

Status SecretStore::Save(const Secret& s) {
  std::string text = ToJson(s).dump();
  ByteSpan plain(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  LB_RETURN_IF_ERROR(MakeDirs(dir_, 0700));
  Bytes sealed = Seal(repo_->key().encryption, plain);
  LB_RETURN_IF_ERROR(WriteFileDurable(PathOf(s.name), sealed, 0600));
  Status mirrored = repo_->PutNamed(kStream, s.name, plain);
  if (!mirrored.ok()) return mirrored.Context("secret '" + s.name + "' saved locally but not in the repository");
  return Status::Ok();
}

bool SecretStore::HasLocalCopy(const std::string& name) const { return PathExists(PathOf(name)); }

Result<int> SecretStore::RestoreLocalCopy(const std::string& name) {
  LB_RETURN_IF_ERROR(CheckSecretName(name));
  LB_RETURN_IF_ERROR(MakeDirs(dir_, 0700));
  LB_ASSIGN_OR_RETURN(FileLock lock, FileLock::Take(dir_ + "/" + name + ".lock", "secret '" + name + "'"));
  LB_ASSIGN_OR_RETURN(Secret s, Get(name));
  LB_RETURN_IF_ERROR(Save(s));
  return s.current;
}

Result<int> SecretStore::Set(const std::string& name, const SecretValues& changes, bool replace,
                             const std::string& reason) {
  LB_RETURN_IF_ERROR(CheckSecretName(name));
  for (const auto& [k, v] : changes) LB_RETURN_IF_ERROR(CheckSecretKey(k));
  LB_ASSIGN_OR_RETURN(FileLock lock, FileLock::Take(dir_ + "/" + name + ".lock", "secret '" + name + "'"));
  Secret s;
  Result<Secret> existing = Get(name);
  if (existing.ok()) {
    s = std::move(*existing);
  } else if (existing.status().code() == Code::kNotFound) {
    s.name = name;
  } else {
    return existing.status();
  }
  SecretVersion v;
  v.version = s.versions.empty() ? 1 : s.versions.back().version + 1;
  v.created_at = FormatIso8601(NowNanos(), true);
  v.created_by = Username() + "@" + Hostname();
  v.reason = reason;
  if (!replace) {
    if (const SecretVersion* cur = s.Find(s.current)) v.values = cur->values;
  }
  for (const auto& [k, value] : changes) v.values[k] = value;
  s.previous = s.current;
  s.current = v.version;
  s.versions.push_back(std::move(v));
  LB_RETURN_IF_ERROR(Save(s));
  return s.current;
}

Status SecretStore::Promote(const std::string& name, int version) {
  LB_ASSIGN_OR_RETURN(FileLock lock, FileLock::Take(dir_ + "/" + name + ".lock", "secret '" + name + "'"));
  LB_ASSIGN_OR_RETURN(Secret s, Get(name));
  if (s.Find(version) == nullptr) {
    return Status::NotFound("secret '" + name + "' has no version " + std::to_string(version));
  }
  if (s.current == version) return Status::Ok();
  s.previous = s.current;
  s.current = version;
  return Save(s);
}

}  // namespace lifeboat::platform
