// An open repository: the unlocked master key, the repository config and the merged index, on
// top of one storage backend. The layout and every format are in docs/repository-format.md.
//
//   config                 Seal(JSON): format version, repository id, chunk size
//   keys/<sha256>          key files (plain JSON, the master key wrapped by a passphrase)
//   data/<xx>/<sha256>     pack files
//   index/<sha256>         Seal(zstd(binary index))
//   snapshots/<sha256>     Seal(zstd(JSON manifest))
//   locks/<random>         Seal(JSON lock)
//
// Objects other than config and locks are named by the SHA-256 of their stored bytes, so a
// damaged object is detected by re-hashing it without any key.
//
// Thread safety: after Open, all methods may be called concurrently.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "repository/crypto.h"
#include "repository/index.h"
#include "repository/key_file.h"
#include "repository/snapshot.h"
#include "storage/backend.h"

namespace lifeboat {

struct RepositoryConfig {
  int version = kFormatVersion;
  std::string id;                   // random, hex
  uint32_t chunk_size = 1u << 20;   // fixed, aligned chunks of this size
  std::string created;
};

struct OpenOptions {
  int compression_level = 1;          // zstd level for blobs; 0 stores them uncompressed
  size_t pack_size = 32u << 20;       // a pack is written once it reaches this size
  // Load the index at open. Operations on named objects only (WAL archiving) skip it: they
  // must stay fast however large the repository grows.
  bool load_index = true;
};

class Repository {
 public:
  // Creates config and the first key file. Refuses (Code::kAlreadyExists) when a repository
  // or any other object already exists at the backend's location.
  static Status Init(Backend& backend, const std::string& passphrase,
                     const ScryptParams& params = {});

  // Opens with any key file that `passphrase` unlocks and loads every index file. Index files
  // that fail to load are skipped and listed in damaged_index_files() for `repo check`.
  static Result<std::unique_ptr<Repository>> Open(std::shared_ptr<Backend> backend,
                                                  const std::string& passphrase,
                                                  OpenOptions options = {});

  Backend& backend() const { return *backend_; }
  const std::shared_ptr<Backend>& shared_backend() const { return backend_; }
  const MasterKey& key() const { return key_; }
  const RepositoryConfig& config() const { return config_; }
  const OpenOptions& options() const { return options_; }
  Index& index() { return index_; }
  const std::vector<std::pair<std::string, Status>>& damaged_index_files() const {
    return damaged_index_files_;
  }
  // The key file this session was opened with, e.g. "keys/ab12...".
  const std::string& key_file() const { return key_file_; }

  // Metadata objects: compressed, sealed and named by the SHA-256 of the stored bytes.
  Result<Id> PutSealed(const std::string& dir, ByteSpan plain);
  // Fetches `key`, checks its name against its content, opens and decompresses it.
  Result<Bytes> GetSealed(const std::string& key);

  // Reads, authenticates and decompresses a blob, and checks it is the blob named `id`: by
  // its seal, which binds the id, or (for blobs of format version 1) by hashing it.
  Result<Bytes> ReadBlob(const Id& id);
  // The same for a blob at a known location, always hashing it (check, prune).
  Result<Bytes> ReadBlobAt(const BlobLocation& loc);
  // The same into a caller's buffer (say, one aligned for O_DIRECT), which must hold at least
  // the blob's raw length (at most the chunk size); returns that length. On error the buffer's
  // content is unspecified.
  Result<size_t> ReadBlobInto(const Id& id, std::span<uint8_t> out);
  // For readers that fetch many blobs of a pack in one request (a remote store, where each
  // request is a round trip; the blobs' places come from index().Find): the stored bytes
  // [offset, offset + length) of a pack, and a blob opened out of such a span (which must
  // cover it) as ReadBlobInto would. A pack that is gone is Code::kNotFound: a prune repacked
  // it since the index was loaded, and ReadBlobInto finds the blob's new place.
  Result<Bytes> ReadPackSpan(const Id& pack, uint64_t offset, uint64_t length);
  Result<size_t> OpenBlobIn(const BlobLocation& loc, ByteSpan span, uint64_t span_offset, std::span<uint8_t> out);

  Result<std::vector<Id>> ListSnapshotIds();
  Result<Snapshot> LoadSnapshot(const Id& id);
  // Every snapshot, oldest first (by started_at). Damaged manifests are an error.
  Result<std::vector<std::pair<Id, Snapshot>>> LoadAllSnapshots();
  // Resolves a full id, a unique prefix of at least 4 hex digits, or "latest".
  Result<Id> ResolveSnapshot(const std::string& ref);
  // Writes the manifest; the snapshot is listed from this moment on.
  Result<Id> SaveSnapshot(const Snapshot& snapshot);
  Status DeleteSnapshot(const Id& id);

  // Named objects ("named/<stream>/<name>"): content a producer addresses by its own names,
  // such as WAL segments. Compressed and sealed like every object; the name is sealed inside,
  // so an object moved under another name is detected. Names are [A-Za-z0-9._-]+.
  Status PutNamed(const std::string& stream, const std::string& name, ByteSpan plain);
  // Code::kNotFound when absent; Code::kCorruption when damaged or misplaced.
  Result<Bytes> GetNamed(const std::string& stream, const std::string& name);
  // Names in the stream, sorted.
  Result<std::vector<std::string>> ListNamed(const std::string& stream);
  Status DeleteNamed(const std::string& stream, const std::string& name);

  // Wraps the master key under `new_passphrase` in a new key file, then removes the key file
  // this session was opened with. No data is rewritten.
  Status ChangePassphrase(const std::string& new_passphrase, const ScryptParams& params = {});

  static std::string PackKey(const Id& pack);
  static std::string SnapshotKey(const Id& id) { return "snapshots/" + id.Hex(); }
  static std::string IndexKey(const Id& id) { return "index/" + id.Hex(); }
  static std::string NamedKey(const std::string& stream, const std::string& name) {
    return "named/" + stream + "/" + name;
  }
  // Parses the id out of a key such as "data/ab/ab12..." (false for temp or foreign files).
  static bool IdFromKey(const std::string& key, Id* id);

 private:
  Repository(std::shared_ptr<Backend> backend, OpenOptions options)
      : backend_(std::move(backend)), options_(options) {}
  Status LoadConfig();
  Status LoadIndex();
  // Adds the index files written since the index was loaded, their entries replacing older
  // locations: a prune that ran meanwhile may have moved blobs to new packs.
  Status RefreshIndex();
  // Reads blob `id` into the buffer `output_for(raw length)` returns; it may be asked twice
  // when the blob moved to another pack.
  using OutputFor = std::function<std::span<uint8_t>(size_t raw_length)>;
  Result<size_t> ReadBlobWith(const Id& id, const OutputFor& output_for);
  // kUnlessBound trusts a blob whose seal binds its id (kBlobIdBound) to hold that id's content.
  enum class IdCheck { kAlways, kUnlessBound };
  Result<size_t> ReadBlobAtInto(const BlobLocation& loc, std::span<uint8_t> out, IdCheck id_check);
  // Authenticates, decompresses and checks the sealed bytes of blob `loc` into `out`.
  Result<size_t> OpenSealedBlob(const BlobLocation& loc, ByteSpan sealed, std::span<uint8_t> out, IdCheck id_check);

  std::shared_ptr<Backend> backend_;
  OpenOptions options_;
  MasterKey key_;
  RepositoryConfig config_;
  std::string key_file_;
  Index index_;
  std::vector<std::pair<std::string, Status>> damaged_index_files_;
  std::mutex refresh_mu_;                       // one RefreshIndex at a time
  std::set<std::string> loaded_index_files_;    // guarded by refresh_mu_ after Open
};

}  // namespace lifeboat
