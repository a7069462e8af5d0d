#include "repository/repository.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <optional>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/parallel.h"
#include "base/time.h"
#include "repository/compress.h"

namespace lifeboat {

namespace {
// Manifests and indexes larger than this are refused as corrupt rather than allocated.
constexpr size_t kMaxMetadataSize = size_t{4} << 30;
}  // namespace

std::string Repository::PackKey(const Id& pack) {
  std::string hex = pack.Hex();
  return "data/" + hex.substr(0, 2) + "/" + hex;
}

bool Repository::IdFromKey(const std::string& key, Id* id) {
  return Id::FromHex(Basename(key), id);
}

Status Repository::Init(Backend& backend, const std::string& passphrase,
                        const ScryptParams& params) {
  Result<std::vector<ObjectInfo>> existing = backend.List("");
  if (!existing.ok() && existing.status().code() != Code::kNotFound) {
    return existing.status().Context("cannot create repository at '" + backend.Location() + "'");
  }
  if (existing.ok() && !existing->empty()) {
    bool is_repo = std::any_of(existing->begin(), existing->end(),
                               [](const ObjectInfo& o) { return o.key == "config"; });
    return Status::AlreadyExists(
        "cannot create repository at '" + backend.Location() + "': " +
            (is_repo ? "a repository already exists there" : "the location is not empty"),
        is_repo ? "use the existing repository, or choose another [repository] path"
                : "choose an empty or new directory for [repository] path");
  }
  MasterKey master = NewMasterKey();
  LB_ASSIGN_OR_RETURN(KeyFile kf, WrapMasterKey(master, passphrase, params));
  Bytes key_bytes = EncodeKeyFile(kf);
  // The key file first: a config without a key would be an unopenable repository.
  LB_RETURN_IF_ERROR(backend.Put("keys/" + Sha256(key_bytes).Hex(), key_bytes));

  Bytes id(16);
  RandomBytes(id.data(), id.size());
  nlohmann::ordered_json cfg;
  cfg["version"] = kFormatVersion;
  cfg["id"] = HexEncode(id);
  cfg["chunk_size"] = 1u << 20;
  cfg["created"] = FormatIso8601(NowNanos());
  std::string text = cfg.dump(2);
  return backend.Put("config", Seal(master.encryption, AsBytes(text)));
}

Result<std::unique_ptr<Repository>> Repository::Open(std::shared_ptr<Backend> backend,
                                                     const std::string& passphrase,
                                                     OpenOptions options) {
  std::string where = "cannot open repository '" + backend->Location() + "'";
  Result<ObjectInfo> cfg = backend->Stat("config");
  if (!cfg.ok() && cfg.status().code() != Code::kNotFound) return cfg.status().Context(where);
  LB_ASSIGN_OR_RETURN(std::vector<ObjectInfo> keys, backend->List("keys/"));
  if (!cfg.ok()) {
    if (!keys.empty()) return Status::Corruption(where + ": the config object is missing");
    return Status::NotFound(where + ": not a lifeboat repository (it has no config object)",
                            "check [repository] path, or create one with 'lifeboat repo init'");
  }
  std::unique_ptr<Repository> repo(new Repository(std::move(backend), options));
  Status damaged;
  Status newer;  // a key file only a newer lifeboat reads: reported when no other one opens
  std::vector<std::pair<std::string, KeyFile>> candidates;
  for (const ObjectInfo& k : keys) {
    Result<Bytes> bytes = repo->backend_->Get(k.key);
    if (!bytes.ok()) return bytes.status().Context(where);
    Id name;
    if (!IdFromKey(k.key, &name) || Sha256(*bytes) != name) {
      damaged = Status::Corruption(where + ": key file '" + k.key +
                                   "' is damaged (its content does not match its name)");
      continue;
    }
    Result<KeyFile> kf = DecodeKeyFile(*bytes);
    if (!kf.ok()) {
      if (kf.status().code() == Code::kUsage) {
        newer = kf.status().Context(where);
      } else {
        damaged = kf.status().Context(where + ": key file '" + k.key + "'");
      }
      continue;
    }
    candidates.emplace_back(k.key, std::move(*kf));
  }
  // Key files of the passphrase's own kind first: a generated key must not pay for scrypt on
  // every passphrase key file before reaching its own.
  Kdf kind = KdfFor(passphrase);
  std::stable_partition(candidates.begin(), candidates.end(),
                        [kind](const auto& c) { return c.second.kdf == kind; });
  bool opened = false;
  for (const auto& [key, kf] : candidates) {
    Result<MasterKey> mk = UnwrapMasterKey(kf, passphrase);
    if (mk.ok()) {
      repo->key_ = *mk;
      repo->key_file_ = key;
      opened = true;
      break;
    }
    if (mk.status().code() != Code::kWrongPassphrase) return mk.status().Context(where);
  }
  if (!opened) {
    if (!newer.ok()) return newer;
    if (!damaged.ok()) return damaged;
    if (keys.empty()) return Status::Corruption(where + ": the repository has no key file");
    return Status::WrongPassphrase(where + ": wrong passphrase",
                                   "check LIFEBOAT_PASSPHRASE or [repository] passphrase_file");
  }
  LB_RETURN_IF_ERROR(repo->LoadConfig().Context(where));
  if (options.load_index) LB_RETURN_IF_ERROR(repo->LoadIndex().Context(where));
  return repo;
}

Status Repository::LoadConfig() {
  LB_ASSIGN_OR_RETURN(Bytes sealed, backend_->Get("config"));
  Result<Bytes> plain = lifeboat::Open(key_.encryption, sealed);
  if (!plain.ok()) return plain.status().Context("config object is damaged");
  nlohmann::json j = nlohmann::json::parse(plain->begin(), plain->end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corruption("config object is damaged: not valid JSON");
  }
  try {
    config_.version = j.at("version").get<int>();
    config_.id = j.at("id").get<std::string>();
    config_.chunk_size = j.at("chunk_size").get<uint32_t>();
    config_.created = j.value("created", "");
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("config object is damaged: ") + e.what());
  }
  if (config_.version > kFormatVersion) {
    return Status::Usage("repository format version " + std::to_string(config_.version) +
                             " is newer than this lifeboat supports (" +
                             std::to_string(kFormatVersion) + ")",
                         "upgrade lifeboat to read this repository");
  }
  if (config_.chunk_size < 4096 || config_.chunk_size > (64u << 20)) {
    return Status::Corruption("config object is damaged: chunk size out of range");
  }
  return Status::Ok();
}

Status Repository::LoadIndex() {
  LB_ASSIGN_OR_RETURN(std::vector<ObjectInfo> files, backend_->List("index/"));
  for (const ObjectInfo& f : files) {
    Result<Bytes> plain = GetSealed(f.key);
    if (!plain.ok()) {
      if (plain.status().code() != Code::kCorruption) return plain.status();
      damaged_index_files_.emplace_back(f.key, plain.status());
      continue;
    }
    loaded_index_files_.insert(f.key);
    Result<std::vector<IndexedPack>> packs = DecodeIndexFile(*plain);
    if (!packs.ok()) {
      damaged_index_files_.emplace_back(f.key, packs.status());
      continue;
    }
    for (const IndexedPack& p : *packs) index_.AddPack(p);
  }
  return Status::Ok();
}

Result<Id> Repository::PutSealed(const std::string& dir, ByteSpan plain) {
  Bytes sealed = Seal(key_.encryption, CompressAlways(plain, 3));
  Id id = Sha256(sealed);
  LB_RETURN_IF_ERROR(backend_->Put(dir + "/" + id.Hex(), sealed));
  return id;
}

Result<Bytes> Repository::GetSealed(const std::string& key) {
  LB_ASSIGN_OR_RETURN(Bytes sealed, backend_->Get(key));
  Id name;
  if (!IdFromKey(key, &name) || Sha256(sealed) != name) {
    return Status::Corruption("'" + key + "' is damaged (its content does not match its name)");
  }
  Result<Bytes> compressed = lifeboat::Open(key_.encryption, sealed);
  if (!compressed.ok()) return compressed.status().Context("'" + key + "' is damaged");
  Result<Bytes> plain = DecompressUnknownSize(*compressed, kMaxMetadataSize);
  if (!plain.ok()) return plain.status().Context("'" + key + "' is damaged");
  return plain;
}

Status Repository::RefreshIndex() {
  std::lock_guard<std::mutex> lock(refresh_mu_);
  LB_ASSIGN_OR_RETURN(std::vector<ObjectInfo> files, backend_->List("index/"));
  for (const ObjectInfo& f : files) {
    if (loaded_index_files_.count(f.key) != 0) continue;
    Result<Bytes> plain = GetSealed(f.key);
    if (!plain.ok()) continue;  // damaged or gone: check reports it
    Result<std::vector<IndexedPack>> packs = DecodeIndexFile(*plain);
    if (!packs.ok()) continue;
    for (const IndexedPack& p : *packs) index_.AddPack(p, /*replace=*/true);
    loaded_index_files_.insert(f.key);
  }
  return Status::Ok();
}

Result<Bytes> Repository::ReadBlob(const Id& id) {
  Bytes out;
  LB_ASSIGN_OR_RETURN(size_t n, ReadBlobWith(id, [&](size_t raw) {
    out.resize(raw);
    return std::span<uint8_t>(out);
  }));
  out.resize(n);
  return out;
}

Result<size_t> Repository::ReadBlobInto(const Id& id, std::span<uint8_t> out) {
  return ReadBlobWith(id, [&](size_t) { return out; });
}

Result<Bytes> Repository::ReadBlobAt(const BlobLocation& loc) {
  Bytes out(loc.entry.raw_length);
  LB_RETURN_IF_ERROR(ReadBlobAtInto(loc, out, IdCheck::kAlways).status());
  return out;
}

Result<size_t> Repository::ReadBlobWith(const Id& id, const OutputFor& output_for) {
  std::optional<BlobLocation> loc = index_.Find(id);
  if (!loc) {
    return Status::Corruption("blob " + id.Short() + " is missing from the index",
                              "run 'lifeboat repo check' to see which snapshots it breaks");
  }
  Result<size_t> n = ReadBlobAtInto(*loc, output_for(loc->entry.raw_length), IdCheck::kUnlessBound);
  // Readers take no lock: a prune may have repacked the blob since the index was loaded. It
  // writes the new pack and its index before deleting the old pack, so the new location is in
  // an index file this session has not read yet.
  if (!n.ok() && backend_->Stat(PackKey(loc->pack)).status().code() == Code::kNotFound) {
    LB_RETURN_IF_ERROR(RefreshIndex());
    std::optional<BlobLocation> moved = index_.Find(id);
    if (moved && moved->pack != loc->pack) {
      return ReadBlobAtInto(*moved, output_for(moved->entry.raw_length), IdCheck::kUnlessBound);
    }
  }
  return n;
}

Result<size_t> Repository::ReadBlobAtInto(const BlobLocation& loc, std::span<uint8_t> out,
                                          IdCheck id_check) {
  std::string pack_key = PackKey(loc.pack);
  std::string where = "blob " + loc.entry.id.Short() + " in pack '" + pack_key + "'";
  Result<Bytes> sealed = backend_->GetRange(pack_key, loc.entry.offset, loc.entry.stored_length);
  if (!sealed.ok()) {
    // A missing or short pack is damage to the repository (exit 3); a read that failed on a
    // whole pack is an I/O error (exit 2), which a retry may not meet.
    bool damaged = sealed.status().code() == Code::kNotFound;
    if (sealed.status().code() == Code::kIO) {
      Result<ObjectInfo> info = backend_->Stat(pack_key);
      damaged = info.ok() ? info->size < loc.entry.offset + loc.entry.stored_length
                          : info.status().code() == Code::kNotFound;
    }
    if (damaged) return Status::Corruption(where + ": " + sealed.status().message());
    return sealed.status().Context(where);
  }
  return OpenSealedBlob(loc, *sealed, out, id_check);
}

Result<Bytes> Repository::ReadPackSpan(const Id& pack, uint64_t offset, uint64_t length) {
  std::string pack_key = PackKey(pack);
  Result<Bytes> span = backend_->GetRange(pack_key, offset, length);
  if (!span.ok()) return span.status().Context("pack '" + pack_key + "'");
  return span;
}

Result<size_t> Repository::OpenBlobIn(const BlobLocation& loc, ByteSpan span, uint64_t span_offset,
                                      std::span<uint8_t> out) {
  // REQUIRES: the span covers the blob (the caller built it from the blobs' locations).
  assert(loc.entry.offset >= span_offset && loc.entry.offset + loc.entry.stored_length <= span_offset + span.size());
  return OpenSealedBlob(loc, span.subspan(loc.entry.offset - span_offset, loc.entry.stored_length), out,
                        IdCheck::kUnlessBound);
}

Result<size_t> Repository::OpenSealedBlob(const BlobLocation& loc, ByteSpan sealed, std::span<uint8_t> out,
                                          IdCheck id_check) {
  std::string where = "blob " + loc.entry.id.Short() + " in pack '" + PackKey(loc.pack) + "'";
  const uint8_t flags = loc.entry.flags;
  if ((flags & ~kKnownBlobFlags) != 0) {
    return Status::Corruption(where + " has unknown flags " + std::to_string(flags),
                              "a newer lifeboat may have written it; upgrade lifeboat");
  }
  if (out.size() < loc.entry.raw_length) {
    return Status::Corruption(where + " is larger than its reader allows (" +
                              std::to_string(loc.entry.raw_length) + " bytes)");
  }
  const bool bound = (flags & kBlobIdBound) != 0;
  Result<Bytes> payload = lifeboat::Open(key_.encryption, sealed,
                                         bound ? ByteSpan(loc.entry.id.bytes) : ByteSpan());
  if (!payload.ok()) return payload.status().Context(where + " is damaged");
  std::span<uint8_t> plain = out.first(loc.entry.raw_length);
  if (flags & kBlobCompressed) {
    Status d = DecompressInto(*payload, plain);
    if (!d.ok()) return d.Context(where + " is damaged");
  } else if (payload->size() == plain.size()) {
    std::copy(payload->begin(), payload->end(), plain.begin());
  } else {
    return Status::Corruption(where + " is damaged: it holds " + std::to_string(payload->size()) +
                              " bytes, its index entry says " + std::to_string(plain.size()));
  }
  // A bound blob that opened is the one sealed under this id: hashing it again would add
  // nothing but the cost (a third of a restore's CPU). Check still recomputes every id.
  if ((id_check == IdCheck::kAlways || !bound) && BlobId(key_.mac, plain) != loc.entry.id) {
    return Status::Corruption(where + " is damaged: its content does not match its id");
  }
  return plain.size();
}

Result<std::vector<Id>> Repository::ListSnapshotIds() {
  LB_ASSIGN_OR_RETURN(std::vector<ObjectInfo> objs, backend_->List("snapshots/"));
  std::vector<Id> ids;
  for (const ObjectInfo& o : objs) {
    Id id;
    if (IdFromKey(o.key, &id)) ids.push_back(id);
  }
  return ids;
}

Result<Snapshot> Repository::LoadSnapshot(const Id& id) {
  Result<Bytes> plain = GetSealed(SnapshotKey(id));
  if (!plain.ok()) {
    if (plain.status().code() == Code::kNotFound) {
      return Status::NotFound("snapshot " + id.Short() + " does not exist");
    }
    return plain.status().Context("snapshot " + id.Short());
  }
  Result<Snapshot> s = DecodeSnapshot(*plain);
  if (!s.ok()) return s.status().Context("snapshot " + id.Short());
  return s;
}

Result<std::vector<std::pair<Id, Snapshot>>> Repository::LoadAllSnapshots() {
  LB_ASSIGN_OR_RETURN(std::vector<Id> ids, ListSnapshotIds());
  // Each manifest is read, decrypted, decompressed and parsed on its own: in parallel, as a
  // repository keeps more of them than a command has cores.
  std::vector<std::optional<Snapshot>> loaded(ids.size());
  LB_RETURN_IF_ERROR(RunParallel(ids.size(), 0, [&](size_t i) -> Status {
    Result<Snapshot> s = LoadSnapshot(ids[i]);
    if (!s.ok()) {
      // Forgotten while listing: not an error.
      return s.status().code() == Code::kNotFound ? Status::Ok() : s.status();
    }
    loaded[i] = std::move(s).value();
    return Status::Ok();
  }));
  std::vector<std::pair<Id, Snapshot>> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (loaded[i]) out.emplace_back(ids[i], std::move(*loaded[i]));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second.started_at < b.second.started_at;
  });
  return out;
}

Result<Id> Repository::ResolveSnapshot(const std::string& ref) {
  if (ref == "latest") {
    LB_ASSIGN_OR_RETURN(auto all, LoadAllSnapshots());
    if (all.empty()) return Status::NotFound("no snapshot exists yet");
    return all.back().first;
  }
  LB_ASSIGN_OR_RETURN(std::vector<Id> ids, ListSnapshotIds());
  std::vector<Id> matches;
  for (const Id& id : ids) {
    if (ref.size() >= 4 && id.Hex().compare(0, ref.size(), ref) == 0) matches.push_back(id);
  }
  if (matches.size() == 1) return matches[0];
  if (matches.empty()) {
    return Status::NotFound("snapshot '" + ref + "' does not exist",
                            "list snapshots with 'lifeboat snapshots'");
  }
  return Status::Usage("snapshot prefix '" + ref + "' is ambiguous (" +
                       std::to_string(matches.size()) + " snapshots match)",
                       "give more digits of the id");
}

Result<Id> Repository::SaveSnapshot(const Snapshot& snapshot) {
  return PutSealed("snapshots", EncodeSnapshot(snapshot));
}

Status Repository::DeleteSnapshot(const Id& id) { return backend_->Delete(SnapshotKey(id)); }

namespace {

Status ValidateName(const std::string& stream, const std::string& name) {
  auto ok = [](const std::string& s) {
    if (s.empty() || s.size() > 200 || s == "." || s == "..") return false;
    for (char c : s) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
        return false;
      }
    }
    return true;
  };
  if (!ok(stream) || !ok(name)) {
    return Status::Usage("invalid object name '" + stream + "/" + name + "'");
  }
  return Status::Ok();
}

}  // namespace

Status Repository::PutNamed(const std::string& stream, const std::string& name, ByteSpan plain) {
  LB_RETURN_IF_ERROR(ValidateName(stream, name));
  Bytes framed;
  ByteWriter w(&framed);
  w.U32(static_cast<uint32_t>(name.size()));
  w.Raw(AsBytes(name));
  Bytes compressed = CompressAlways(plain, options_.compression_level > 0 ? options_.compression_level : 1);
  w.Raw(compressed);
  return backend_->Put(NamedKey(stream, name), Seal(key_.encryption, framed));
}

Result<Bytes> Repository::GetNamed(const std::string& stream, const std::string& name) {
  LB_RETURN_IF_ERROR(ValidateName(stream, name));
  std::string key = NamedKey(stream, name);
  LB_ASSIGN_OR_RETURN(Bytes sealed, backend_->Get(key));
  Result<Bytes> framed = lifeboat::Open(key_.encryption, sealed);
  if (!framed.ok()) return framed.status().Context("'" + key + "' is damaged");
  ByteReader r(*framed);
  uint32_t len = r.U32();
  ByteSpan stored_name = r.Raw(len);
  if (!r.ok() || AsString(stored_name) != name) {
    return Status::Corruption("'" + key + "' is damaged: it holds another object");
  }
  Result<Bytes> plain = DecompressUnknownSize(r.Raw(r.remaining()), kMaxMetadataSize);
  if (!plain.ok()) return plain.status().Context("'" + key + "' is damaged");
  return plain;
}

Result<std::vector<std::string>> Repository::ListNamed(const std::string& stream) {
  LB_ASSIGN_OR_RETURN(std::vector<ObjectInfo> objs, backend_->List("named/" + stream + "/"));
  std::vector<std::string> names;
  for (const ObjectInfo& o : objs) names.push_back(Basename(o.key));
  return names;
}

Status Repository::DeleteNamed(const std::string& stream, const std::string& name) {
  LB_RETURN_IF_ERROR(ValidateName(stream, name));
  return backend_->Delete(NamedKey(stream, name));
}

Status Repository::ChangePassphrase(const std::string& new_passphrase,
                                    const ScryptParams& params) {
  LB_ASSIGN_OR_RETURN(KeyFile kf, WrapMasterKey(key_, new_passphrase, params));
  Bytes bytes = EncodeKeyFile(kf);
  std::string new_key = "keys/" + Sha256(bytes).Hex();
  // The new key is durable before the old one goes: a crash leaves both, never neither.
  LB_RETURN_IF_ERROR(backend_->Put(new_key, bytes));
  LB_RETURN_IF_ERROR(backend_->Delete(key_file_));
  key_file_ = new_key;
  return Status::Ok();
}

}  // namespace lifeboat
