#include "repository/snapshot.h"

namespace lifeboat {

using nlohmann::json;

const char* EntryTypeName(EntryType t) {
  switch (t) {
    case EntryType::kDirectory:
      return "dir";
    case EntryType::kFile:
      return "file";
    case EntryType::kSymlink:
      return "symlink";
  }
  return "unknown";
}

namespace {

bool ParseEntryType(const std::string& s, EntryType* t) {
  if (s == "dir") *t = EntryType::kDirectory;
  else if (s == "file") *t = EntryType::kFile;
  else if (s == "symlink") *t = EntryType::kSymlink;
  else return false;
  return true;
}

Id IdFromJson(const json& j) {
  Id id;
  if (!Id::FromHex(j.get_ref<const std::string&>(), &id)) {
    throw json::other_error::create(501, "malformed id", &j);
  }
  return id;
}

UnixNanos TimeFromJson(const json& j) {
  Result<UnixNanos> t = ParseTimestamp(j.get<std::string>());
  if (!t.ok()) throw json::other_error::create(501, "malformed time", &j);
  return *t;
}

}  // namespace

Bytes EncodeSnapshot(const Snapshot& s) {
  nlohmann::ordered_json j;
  j["version"] = s.version;
  j["kind"] = s.kind;
  j["name"] = s.name;
  j["hostname"] = s.hostname;
  j["username"] = s.username;
  j["started_at"] = FormatIso8601(s.started_at, true);
  j["finished_at"] = FormatIso8601(s.finished_at, true);
  j["parent"] = s.parent ? json(s.parent->Hex()) : json(nullptr);
  j["logical_bytes"] = s.logical_bytes;
  j["stored_bytes"] = s.stored_bytes;
  j["new_blobs"] = s.new_blobs;
  j["metadata"] = s.metadata;
  auto& entries = j["entries"] = nlohmann::ordered_json::array();
  for (const FileEntry& e : s.entries) {
    nlohmann::ordered_json je;
    je["path"] = e.path;
    je["type"] = EntryTypeName(e.type);
    je["mode"] = e.mode;
    je["mtime_ns"] = e.mtime;
    je["uid"] = e.uid;
    je["gid"] = e.gid;
    if (e.type == EntryType::kFile) {
      je["size"] = e.size;
      je["inode"] = e.inode;
      je["ctime_ns"] = e.ctime;
      auto& chunks = je["chunks"] = nlohmann::ordered_json::array();
      for (const Id& c : e.chunks) chunks.push_back(c.Hex());
    }
    if (e.type == EntryType::kSymlink) je["target"] = e.target;
    entries.push_back(std::move(je));
  }
  std::string text = j.dump();
  return Bytes(text.begin(), text.end());
}

Result<Snapshot> DecodeSnapshot(ByteSpan bytes) {
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("manifest is not valid JSON");
  try {
    Snapshot s;
    s.version = j.at("version").get<int>();
    if (s.version != 1) {
      return Status::Corruption("manifest version " + std::to_string(s.version) + " is unknown");
    }
    s.kind = j.at("kind").get<std::string>();
    s.name = j.at("name").get<std::string>();
    s.hostname = j.value("hostname", "");
    s.username = j.value("username", "");
    s.started_at = TimeFromJson(j.at("started_at"));
    s.finished_at = TimeFromJson(j.at("finished_at"));
    if (!j.at("parent").is_null()) s.parent = IdFromJson(j.at("parent"));
    s.logical_bytes = j.at("logical_bytes").get<uint64_t>();
    s.stored_bytes = j.at("stored_bytes").get<uint64_t>();
    s.new_blobs = j.value("new_blobs", uint64_t{0});
    s.metadata = j.at("metadata");
    for (const json& je : j.at("entries")) {
      FileEntry e;
      e.path = je.at("path").get<std::string>();
      if (!ParseEntryType(je.at("type").get<std::string>(), &e.type)) {
        return Status::Corruption("manifest entry '" + e.path + "' has an unknown type");
      }
      e.mode = je.at("mode").get<uint32_t>();
      e.mtime = je.at("mtime_ns").get<int64_t>();
      e.uid = je.value("uid", 0u);
      e.gid = je.value("gid", 0u);
      if (e.type == EntryType::kFile) {
        e.size = je.at("size").get<uint64_t>();
        e.inode = je.value("inode", uint64_t{0});
        e.ctime = je.value("ctime_ns", int64_t{0});
        for (const json& c : je.at("chunks")) e.chunks.push_back(IdFromJson(c));
      }
      if (e.type == EntryType::kSymlink) e.target = je.at("target").get<std::string>();
      s.entries.push_back(std::move(e));
    }
    return s;
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("manifest is malformed: ") + e.what());
  }
}

}  // namespace lifeboat
