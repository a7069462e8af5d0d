// Simulated power cuts on the local backend, after LevelDB's fault_injection_test: a filesystem
// observer tracks what was fsynced, cuts the power at the N-th change (every later change fails
// with EIO), then drops what a real disk could lose: file data written since the file's last
// fsync, and directory entries (new files, new directories, renames) made since the directory's
// last fsync; a rename over a durable file brings the old content back. Deletions count as
// durable at once (the harsher case for prune, which deletes after writing).
//
// For every cut point of a workload (snapshots, a named object, forget + prune with repacking,
// another snapshot), the recovered repository must open, list only complete snapshots, hold
// every snapshot and named object whose write returned success, pass check --read-data, and
// take the whole workload again.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>

#include "base/fs.h"
#include "repo_fixtures.h"
#include "repository/blob_writer.h"
#include "repository/check.h"
#include "repository/prune.h"
#include "storage/local/local_backend.h"

namespace fs = std::filesystem;

namespace lifeboat {
namespace {

using testing::Content;
const ScryptParams& kFast = testing::kFastScrypt;

class PowerCutFs final : public FsObserver {
 public:
  // `cut_at`: the change that fails first (1-based); 0: never.
  PowerCutFs(std::string root, int cut_at) : root_(std::move(root)), cut_at_(cut_at) {}

  bool OnCreate(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!Under(path)) return true;
    if (!Tick()) return false;
    AddEntry(path, std::nullopt);
    synced_size_[path] = 0;
    return true;
  }
  bool OnWrite(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    return !Under(path) || Tick();
  }
  bool OnSync(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!Under(path)) return true;
    if (!Tick()) return false;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return true;
    if (S_ISDIR(st.st_mode)) {
      unsynced_.erase(path);
    } else {
      synced_size_[path] = static_cast<uint64_t>(st.st_size);
    }
    return true;
  }
  bool OnRename(const std::string& from, const std::string& to) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!Under(to)) return true;
    if (!Tick()) return false;
    std::optional<Bytes> previous;
    if (fs::exists(to) && !IsUnsynced(to)) previous = *ReadFile(to);
    AddEntry(to, previous);
    auto it = synced_size_.find(from);
    synced_size_[to] = it != synced_size_.end() ? it->second : 0;
    if (it != synced_size_.end()) synced_size_.erase(from);
    return true;
  }
  bool OnRemove(const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    return !Under(path) || Tick();
  }

  // What the disk holds after the power came back.
  void Apply() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [dir, entries] : unsynced_) {
      for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
        synced_size_.erase(it->path);
        if (it->previous) {
          std::ofstream(it->path, std::ios::binary | std::ios::trunc)
              .write(reinterpret_cast<const char*>(it->previous->data()),
                     static_cast<std::streamsize>(it->previous->size()));
        } else {
          std::error_code ec;
          fs::remove_all(it->path, ec);
        }
      }
    }
    for (const auto& [path, size] : synced_size_) {
      std::error_code ec;
      if (fs::is_regular_file(path, ec) && fs::file_size(path, ec) > size)
        fs::resize_file(path, size, ec);
    }
  }

  int changes() const { return changes_; }
  bool cut() const { return cut_; }

 private:
  struct Entry {
    std::string path;
    std::optional<Bytes> previous;  // the durable content a rename replaced
  };
  bool Under(const std::string& path) const {
    return path == root_ || path.rfind(root_ + "/", 0) == 0;
  }
  bool Tick() {
    if (cut_) return false;
    if (++changes_ == cut_at_) cut_ = true;
    return !cut_;
  }
  bool IsUnsynced(const std::string& path) {
    auto it = unsynced_.find(Dirname(path));
    if (it == unsynced_.end()) return false;
    for (const Entry& e : it->second) {
      if (e.path == path) return true;
    }
    return false;
  }
  void AddEntry(const std::string& path, std::optional<Bytes> previous) {
    if (!IsUnsynced(path)) unsynced_[Dirname(path)].push_back({path, std::move(previous)});
  }

  std::mutex mu_;
  std::string root_;
  int cut_at_;
  int changes_ = 0;
  bool cut_ = false;
  std::map<std::string, std::vector<Entry>> unsynced_;  // by directory
  std::map<std::string, uint64_t> synced_size_;         // files created or replaced in the run
};

// The workload's snapshots by name, and their blobs.
const std::map<std::string, std::vector<std::pair<size_t, uint8_t>>> kSnapshots = {
    {"a", {{300000, 1}, {200000, 2}}},
    {"b", {{300000, 1}, {100000, 4}}},
    {"c", {{100000, 5}, {60000, 6}}},
};

class PowerCutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lifeboat-powercut-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    template_ = dir_ + "/template";
    fs::create_directories(template_);
    LocalBackend backend(template_);
    ASSERT_TRUE(Repository::Init(backend, "pw", kFast).ok());
  }
  void TearDown() override {
    SetFsObserver(nullptr);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  struct Outcome {
    std::map<std::string, Id> committed;  // snapshots whose save returned success
    bool named = false;                   // the named object's put returned success
    bool forgotten = false;               // snapshot "a" deleted
  };

  static Status Commit(Repository& repo, const std::string& name, Outcome* out) {
    BlobWriter w(&repo);
    Snapshot s;
    s.kind = "files";
    s.name = name;
    s.started_at = s.finished_at = NowNanos();
    FileEntry f{.path = "f", .type = EntryType::kFile};
    for (const auto& [size, seed] : kSnapshots.at(name)) {
      LB_ASSIGN_OR_RETURN(Id id, w.Add(Content(size, seed)));
      f.chunks.push_back(id);
      f.size += size;
    }
    LB_RETURN_IF_ERROR(w.Flush());
    s.entries.push_back(f);
    s.logical_bytes = f.size;
    LB_ASSIGN_OR_RETURN(Id id, repo.SaveSnapshot(s));
    out->committed[name] = id;
    return Status::Ok();
  }

  // Runs until the first failure.
  static Status Workload(const std::string& root, Outcome* out) {
    auto backend = std::make_shared<LocalBackend>(root);
    LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, Repository::Open(backend, "pw"));
    LB_RETURN_IF_ERROR(Commit(*repo, "a", out));
    LB_RETURN_IF_ERROR(repo->PutNamed("wal", "000000010000000000000001", Content(50000, 3)));
    out->named = true;
    LB_RETURN_IF_ERROR(Commit(*repo, "b", out));
    LB_RETURN_IF_ERROR(repo->DeleteSnapshot(out->committed.at("a")));
    out->forgotten = true;
    // Snapshot a's pack holds a blob b still uses and one nobody does: it is repacked.
    LB_RETURN_IF_ERROR(Prune(*repo, PruneOptions{.repack_threshold = 0.0}).status());
    return Commit(*repo, "c", out);
  }

  // The recovered repository: every listed snapshot complete, every acknowledged write there.
  void Verify(const std::string& root, const Outcome& out, const std::string& where) {
    auto backend = std::make_shared<LocalBackend>(root);
    Result<std::unique_ptr<Repository>> repo = Repository::Open(backend, "pw");
    ASSERT_TRUE(repo.ok()) << where << ": " << repo.status().ToString();
    Result<std::vector<std::pair<Id, Snapshot>>> all = (*repo)->LoadAllSnapshots();
    ASSERT_TRUE(all.ok()) << where << ": " << all.status().ToString();
    std::map<std::string, Id> listed;
    for (const auto& [id, s] : *all) {
      listed[s.name] = id;
      const auto& blobs = kSnapshots.at(s.name);
      ASSERT_EQ(s.entries.size(), 1u) << where;
      ASSERT_EQ(s.entries[0].chunks.size(), blobs.size()) << where;
      for (size_t i = 0; i < blobs.size(); ++i) {
        Result<Bytes> b = (*repo)->ReadBlob(s.entries[0].chunks[i]);
        ASSERT_TRUE(b.ok()) << where << ": snapshot " << s.name << ": " << b.status().ToString();
        EXPECT_TRUE(*b == Content(blobs[i].first, blobs[i].second))
            << where << ": snapshot " << s.name;
      }
    }
    for (const auto& [name, id] : out.committed) {
      if (name == "a" && out.forgotten) continue;
      EXPECT_EQ(listed.count(name), 1u)
          << where << ": acknowledged snapshot " << name << " is lost";
    }
    if (out.forgotten) {
      EXPECT_EQ(listed.count("a"), 0u) << where;
    }
    if (out.named) {
      Result<Bytes> named = (*repo)->GetNamed("wal", "000000010000000000000001");
      ASSERT_TRUE(named.ok()) << where << ": " << named.status().ToString();
      EXPECT_TRUE(*named == Content(50000, 3)) << where;
    }
    Result<CheckReport> check = CheckRepository(**repo, true, nullptr);
    ASSERT_TRUE(check.ok()) << where << ": " << check.status().ToString();
    for (const CheckProblem& p : check->errors)
      ADD_FAILURE() << where << ": check: " << p.object << ": " << p.problem;
  }

  std::string dir_;
  std::string template_;
};

TEST_F(PowerCutTest, EveryCutPointKeepsWhatWasAcknowledged) {
  // The workload without a cut: how many changes it makes.
  std::string root = dir_ + "/count";
  fs::copy(template_, root, fs::copy_options::recursive);
  PowerCutFs counter(root, 0);
  SetFsObserver(&counter);
  Outcome full;
  Status s = Workload(root, &full);
  SetFsObserver(nullptr);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(full.committed.size(), 3u);
  const int changes = counter.changes();
  ASSERT_GT(changes, 30);

  // Every cut point (LIFEBOAT_TORTURE) or every third, each in a fresh copy.
  const int step = std::getenv("LIFEBOAT_TORTURE") != nullptr ? 1 : 3;
  int cuts = 0, lost_acknowledged = 0;
  for (int cut = 1; cut <= changes; cut += step) {
    std::string where = "cut at change " + std::to_string(cut) + " of " + std::to_string(changes);
    root = dir_ + "/cut-" + std::to_string(cut);
    fs::copy(template_, root, fs::copy_options::recursive);
    PowerCutFs power(root, cut);
    SetFsObserver(&power);
    Outcome out;
    Status failed = Workload(root, &out);
    SetFsObserver(nullptr);
    ASSERT_FALSE(failed.ok()) << where << ": the workload did not see the power cut";
    EXPECT_NE(failed.ToString().find("input/output error"), std::string::npos)
        << where << ": " << failed.ToString();
    power.Apply();
    ++cuts;
    int failures_before =
        ::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count();
    Verify(root, out, where);
    // After the power came back, the whole workload runs again.
    Outcome again;
    Status retry = Workload(root, &again);
    EXPECT_TRUE(retry.ok()) << where << ": retry: " << retry.ToString();
    if (::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count() !=
        failures_before) {
      ++lost_acknowledged;
    }
    fs::remove_all(root);
  }
  EXPECT_EQ(lost_acknowledged, 0);
  std::cout << "power cuts simulated: " << cuts << " of " << changes
            << " change points; runs that lost an acknowledged write: " << lost_acknowledged
            << std::endl;
}

}  // namespace
}  // namespace lifeboat
