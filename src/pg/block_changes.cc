#include "pg/block_changes.h"

#include <algorithm>
#include <cstring>

#include "base/fs.h"

namespace lifeboat::pg {

namespace {

bool ParseU32(std::string_view s, uint32_t* out) {
  if (s.empty() || s.size() > 10) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

// Parses a leading decimal number of `s`, advancing it past the digits.
bool TakeU32(std::string_view* s, uint32_t* out) {
  size_t n = 0;
  while (n < s->size() && (*s)[n] >= '0' && (*s)[n] <= '9') ++n;
  if (!ParseU32(s->substr(0, n), out)) return false;
  s->remove_prefix(n);
  return true;
}

bool TakeLiteral(std::string_view* s, std::string_view literal) {
  if (s->substr(0, literal.size()) != literal) return false;
  s->remove_prefix(literal.size());
  return true;
}

}  // namespace

std::optional<RelationFile> ParseRelationFile(std::string_view path) {
  // Relation files live in global/, base/<db>/, or a tablespace's PG_<version>_<catalog>/<db>/.
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view dir = path.substr(0, slash);
  std::string_view name = path.substr(slash + 1);
  RelationFile f;
  if (dir == "data/global") {
    f.database = 0;
  } else {
    bool in_db_dir = dir.rfind("data/base/", 0) == 0 || dir.rfind("tablespaces/", 0) == 0 ||
                     dir.rfind("data/pg_tblspc/", 0) == 0;
    size_t dslash = dir.rfind('/');
    if (!in_db_dir || !ParseU32(dir.substr(dslash + 1), &f.database)) return std::nullopt;
  }
  if (!TakeU32(&name, &f.relfilenode)) return std::nullopt;
  for (std::string_view fork : {"_fsm", "_vm", "_init"}) {
    if (TakeLiteral(&name, fork)) {
      f.fork = std::string(fork.substr(1));
      break;
    }
  }
  if (!name.empty()) {
    if (!TakeLiteral(&name, ".") || !ParseU32(name, &f.segment)) return std::nullopt;
  }
  return f;
}

std::optional<std::vector<bool>> ChangedBlocks::ChangedChunks(const std::string& snapshot_path,
                                                              uint64_t chunk_count,
                                                              uint64_t chunk_size) const {
  std::optional<RelationFile> f = ParseRelationFile(snapshot_path);
  // Only the main fork is fully WAL-logged: the free space map is not, and the others are small.
  if (!f || !f->fork.empty() || chunk_size % block_size_ != 0) return std::nullopt;
  uint64_t key = Key(f->database, f->relfilenode);
  if (whole_.count(key) != 0) return std::nullopt;
  std::vector<bool> changed(chunk_count, false);
  auto it = blocks_.find(key);
  if (it == blocks_.end()) return changed;
  const uint64_t first = static_cast<uint64_t>(f->segment) * blocks_per_segment_;
  const uint64_t per_chunk = chunk_size / block_size_;
  auto b = std::lower_bound(it->second.begin(), it->second.end(), first);
  for (; b != it->second.end() && *b < first + chunk_count * per_chunk; ++b) {
    changed[(*b - first) / per_chunk] = true;
  }
  return changed;
}

void ChangedBlocks::AddBlock(uint32_t database, uint32_t relfilenode, uint32_t block) {
  std::vector<uint32_t>& blocks = blocks_[Key(database, relfilenode)];
  // Successive records mostly change the same pages (an UPDATE names the page it writes and
  // the page it left, row after row): not storing the repeats keeps the sorting below small.
  size_t n = blocks.size();
  if ((n >= 1 && blocks[n - 1] == block) || (n >= 2 && blocks[n - 2] == block)) return;
  blocks.push_back(block);
  // Hot blocks repeat: keep memory proportional to distinct blocks.
  if (blocks.size() >= 4096 && (blocks.size() & (blocks.size() - 1)) == 0) Compact(&blocks);
}

void ChangedBlocks::Compact(std::vector<uint32_t>* blocks) {
  std::sort(blocks->begin(), blocks->end());
  blocks->erase(std::unique(blocks->begin(), blocks->end()), blocks->end());
}

void ChangedBlocks::CompactAll() {
  for (auto& [key, blocks] : blocks_) Compact(&blocks);
}

Status ChangedBlocks::Add(const WalRecord& r) {
  ++records_;
  if (r.rmgr == kRmgrDatabase || r.rmgr == kRmgrTablespace) {
    // The names pg_waldump gives them (commands/dbcommands_xlog.h, commands/tablespace.h).
    static const char* kDatabase[] = {"CREATE_FILE_COPY", "CREATE_WAL_LOG", "DROP"};
    static const char* kTablespace[] = {"CREATE", "DROP"};
    size_t kind = (r.info & 0xF0) >> 4;
    const char* what = r.rmgr == kRmgrDatabase ? (kind < 3 ? kDatabase[kind] : "UNKNOWN")
                                               : (kind < 2 ? kTablespace[kind] : "UNKNOWN");
    return Status::IO(std::string("the WAL holds a ") +
                      (r.rmgr == kRmgrDatabase ? "Database" : "Tablespace") + " record (" + what +
                      " at " + FormatLsn(r.lsn) + "), which changes files without naming their blocks");
  }
  if (r.rmgr == kRmgrStorage) {
    // catalog/storage_xlog.h: xl_smgr_create starts with the relation; xl_smgr_truncate with
    // the new length, then the relation. Either way the relation's files are read whole.
    uint8_t kind = r.info & 0xF0;
    size_t at = kind == 0x10 ? 0 : 4;
    if ((kind != 0x10 && kind != 0x20) || r.main_data.size() < at + 12) {
      return Status::IO("cannot read the relation of the Storage record at " + FormatLsn(r.lsn));
    }
    uint32_t db, rel;
    std::memcpy(&db, r.main_data.data() + at + 4, 4);
    std::memcpy(&rel, r.main_data.data() + at + 8, 4);
    whole_.insert(Key(db, rel));
    return Status::Ok();
  }
  for (const WalBlockRef& b : r.blocks) {
    ++block_refs_;
    // Only the main fork is fully WAL-logged: the free space map is not, the others are small.
    if (b.fork == 0) AddBlock(b.database, b.relfilenode, b.block);
  }
  return Status::Ok();
}

uint64_t ChangedBlocks::blocks() const {
  uint64_t n = 0;
  for (const auto& [key, blocks] : blocks_) n += blocks.size();
  return n;
}

// Collects block references from pg_waldump's output, line by line.
class BlockScanner {
 public:
  explicit BlockScanner(ChangedBlocks* out) : out_(out) {}

  void Feed(std::string_view piece) {
    while (!piece.empty() && error_.empty()) {
      size_t eol = piece.find('\n');
      if (eol == std::string_view::npos) {
        partial_.append(piece);
        return;
      }
      if (partial_.empty()) {
        Line(piece.substr(0, eol));
      } else {
        partial_.append(piece.substr(0, eol));
        Line(partial_);
        partial_.clear();
      }
      piece.remove_prefix(eol + 1);
    }
  }

  // The start of the newest record read.
  Lsn last_lsn() const { return last_lsn_; }

  Status Finish() {
    if (!partial_.empty()) Line(partial_);
    if (!error_.empty()) return Status::IO(error_);
    out_->CompactAll();
    return Status::Ok();
  }

 private:

  // "rmgr: Heap len (rec/tot): 59/59, tx: 7, lsn: 0/0155E1B8, prev 0/0155E180, desc: UPDATE
  //  off 3 ..., blkref #0: rel 1663/5/16384 blk 0, blkref #1: rel 1663/5/16384 fork vm blk 0"
  void Line(std::string_view line) {
    if (!TakeLiteral(&line, "rmgr: ")) return;
    size_t space = line.find(' ');
    std::string_view rmgr = line.substr(0, space);
    ++out_->records_;
    size_t lsn_at = line.find(", lsn: ");
    if (lsn_at != std::string_view::npos) {
      std::string_view lsn = line.substr(lsn_at + 7);
      Result<Lsn> parsed = ParseLsn(lsn.substr(0, lsn.find(',')));
      if (parsed.ok()) last_lsn_ = std::max(last_lsn_, *parsed);
    }
    size_t desc = line.find("desc: ");
    std::string_view what = desc == std::string_view::npos ? "" : line.substr(desc + 6);
    if (rmgr == "Database" || rmgr == "Tablespace") {
      error_ = "the WAL holds a " + std::string(rmgr) + " record (" +
               std::string(what.substr(0, what.find(','))) +
               "), which changes files without naming their blocks";
      return;
    }
    if (rmgr == "Storage") {
      // "CREATE base/5/16384" or "TRUNCATE base/5/16384 to 0 blocks flags 7"
      size_t path_at = what.find(' ');
      std::string_view path = what.substr(path_at + 1);
      path = path.substr(0, path.find(' '));
      std::optional<RelationFile> f = ParseRelationFile("data/" + std::string(path));
      if (!f) {
        error_ = "cannot read the relation of Storage record '" + std::string(what) + "'";
        return;
      }
      out_->whole_.insert(ChangedBlocks::Key(f->database, f->relfilenode));
      return;
    }
    size_t at = 0;
    while ((at = line.find("blkref #", at)) != std::string_view::npos) {
      std::string_view ref = line.substr(at + 8);
      at += 8;
      uint32_t id = 0, spc = 0, db = 0, rel = 0, blk = 0;
      bool main_fork = true;
      bool ok = TakeU32(&ref, &id) && TakeLiteral(&ref, ": rel ") && TakeU32(&ref, &spc) &&
                TakeLiteral(&ref, "/") && TakeU32(&ref, &db) && TakeLiteral(&ref, "/") &&
                TakeU32(&ref, &rel) && TakeLiteral(&ref, " ");
      if (ok && TakeLiteral(&ref, "fork ")) {
        main_fork = false;
        ref.remove_prefix(std::min(ref.find(' '), ref.size()));
        ok = TakeLiteral(&ref, " ");
      }
      ok = ok && TakeLiteral(&ref, "blk ") && TakeU32(&ref, &blk);
      if (!ok) {
        error_ = "cannot read a block reference in '" + std::string(line.substr(0, 200)) + "'";
        return;
      }
      ++out_->block_refs_;
      if (main_fork) out_->AddBlock(db, rel, blk);
    }
  }

  ChangedBlocks* out_;
  Lsn last_lsn_ = 0;
  std::string partial_;
  std::string error_;
};

Result<ChangedBlocks> ChangedBlocks::FromWaldumpOutput(std::string_view output,
                                                     uint64_t block_size,
                                                     uint64_t blocks_per_segment) {
  ChangedBlocks out;
  out.block_size_ = block_size;
  out.blocks_per_segment_ = blocks_per_segment;
  BlockScanner scanner(&out);
  scanner.Feed(output);
  LB_RETURN_IF_ERROR(scanner.Finish());
  return out;
}

Result<ChangedBlocks> ScanChangedBlocks(Repository& repo, const ClusterConfig& cluster,
                                        const BlockScanRange& range) {
  ChangedBlocks out;
  out.block_size_ = range.block_size;
  out.blocks_per_segment_ = range.blocks_per_segment;
  out.wal_bytes_ = range.to - range.from;
  if (range.to <= range.from) return out;

  // Segments still in pg_wal are read there (every byte before `to` was flushed by the
  // checkpoint that returned `to`); older ones come from the repository. A checkpoint running
  // meanwhile may recycle a segment under another name while it is read: its page headers then
  // name other pages, and the scan runs again from the repository alone.
  WalArchive archive(&repo);
  auto scan = [&](bool live) -> Result<ChangedBlocks> {
    ChangedBlocks changes = out;
    WalReader reader(
        [&](uint64_t segno) -> Result<Bytes> {
          std::string name = FormatSegmentName(range.timeline, segno, range.segment_size);
          if (live) {
            Result<Bytes> b = ReadFile(JoinPath(JoinPath(cluster.data_dir, "pg_wal"), name));
            if (b.ok() && b->size() == range.segment_size) return b;
          }
          Result<Bytes> archived = archive.Read(name);
          if (!archived.ok()) return archived.status().Context("WAL since the parent backup");
          return archived;
        },
        range.segment_size, range.block_size);
    LB_RETURN_IF_ERROR(reader.Read(range.from, range.to,
                                   [&](const WalRecord& r) { return changes.Add(r); }));
    changes.CompactAll();
    return changes;
  };
  Result<ChangedBlocks> scanned = scan(true);
  if (!scanned.ok() && scanned.status().code() == Code::kCorruption) scanned = scan(false);
  return scanned;
}

}  // namespace lifeboat::pg
