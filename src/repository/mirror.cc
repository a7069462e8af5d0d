#include "repository/mirror.h"

#include <atomic>
#include <map>

#include "base/parallel.h"
#include "base/time.h"
#include "repository/crypto.h"

namespace lifeboat {

namespace {

// Prefixes in copy order: what a manifest needs arrives before the manifest.
const char* const kOrder[] = {"keys/", "config", "data/", "index/", "snapshots/", "named/"};

// Objects named by the SHA-256 of their bytes.
bool ContentAddressed(const std::string& key) {
  return key.rfind("keys/", 0) == 0 || key.rfind("data/", 0) == 0 || key.rfind("index/", 0) == 0 ||
         key.rfind("snapshots/", 0) == 0;
}

std::string Name(const std::string& key) { return key.substr(key.rfind('/') + 1); }

}  // namespace

Result<CopyReport> CopyMissing(Backend& from, Backend& to, const CopyOptions& options, Progress* progress) {
  double start = MonotonicSeconds();
  CopyReport report;
  LB_ASSIGN_OR_RETURN(Bytes config, from.Get("config"));
  Result<Bytes> theirs = to.Get("config");
  if (theirs.ok() && *theirs != config) {
    return Status::AlreadyExists("cannot copy to '" + to.Location() + "': it holds another repository",
                                 "an offsite repository must be empty or a copy of '" + from.Location() + "'");
  }
  if (!theirs.ok() && theirs.status().code() != Code::kNotFound) return theirs.status();
  std::atomic<uint64_t> copied{0}, bytes{0};
  for (const char* prefix : kOrder) {
    std::string p = prefix;
    if (!options.only_prefix.empty() && p.rfind(options.only_prefix, 0) != 0 && options.only_prefix.rfind(p, 0) != 0) {
      continue;
    }
    std::string list_prefix = options.only_prefix.size() > p.size() ? options.only_prefix : p;
    LB_ASSIGN_OR_RETURN(std::vector<ObjectInfo> src, from.List(list_prefix));
    LB_ASSIGN_OR_RETURN(std::vector<ObjectInfo> dst, to.List(list_prefix));
    std::map<std::string, uint64_t> have;
    for (const ObjectInfo& o : dst) have[o.key] = o.size;
    std::vector<ObjectInfo> todo;
    for (const ObjectInfo& o : src) {
      if (p == "config" && o.key != "config") continue;
      auto it = have.find(o.key);
      // Content-addressed objects never change; named ones can be replaced (a record
      // rewritten, a partial WAL segment grown): a different size is a different object.
      bool same = it != have.end() && it->second == o.size;
      if (same && !ContentAddressed(o.key) && o.key.rfind("named/wal/", 0) != 0) {
        Result<Bytes> a = from.Get(o.key), b = to.Get(o.key);  // small records: compare them
        same = a.ok() && b.ok() && *a == *b;
      }
      if (same) {
        ++report.objects_present;
      } else {
        todo.push_back(o);
      }
    }
    Status s = RunParallel(todo.size(), options.workers, [&](size_t i) -> Status {
      const std::string& key = todo[i].key;
      LB_ASSIGN_OR_RETURN(Bytes data, from.Get(key));
      Id sum = Sha256(data);
      if (ContentAddressed(key) && sum.Hex() != Name(key)) {
        return Status::Corruption("cannot copy '" + key + "' from '" + from.Location() +
                                      "': its bytes do not match its name (damaged); nothing of it was copied",
                                  "run 'lifeboat repo check --read-data' on that repository");
      }
      LB_RETURN_IF_ERROR(to.Put(key, data));
      LB_ASSIGN_OR_RETURN(Bytes arrived, to.Get(key));
      if (Sha256(arrived) != sum) {
        return Status::Corruption("copy of '" + key + "' to '" + to.Location() + "' reads back different bytes");
      }
      copied.fetch_add(1);
      bytes.fetch_add(data.size());
      if (progress != nullptr) progress->Add(data.size());
      return Status::Ok();
    });
    LB_RETURN_IF_ERROR(s);
  }
  report.objects_copied = copied.load();
  report.bytes_copied = bytes.load();
  report.seconds = MonotonicSeconds() - start;
  return report;
}

}  // namespace lifeboat
