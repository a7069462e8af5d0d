#include "pg/wal.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <vector>

#include "base/fs.h"

namespace lifeboat::pg {

namespace {

constexpr const char* kIdentityStream = "pg";
constexpr const char* kIdentityName = "system_identifier";
constexpr uint16_t kLongHeaderFlag = 0x0002;  // XLP_LONG_HEADER in xlp_info

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) || std::islower(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return !s.empty();
}

uint64_t HexValue(std::string_view s) {
  uint64_t v = 0;
  for (char c : s) v = v * 16 + static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'A' + 10);
  return v;
}

}  // namespace

Result<Lsn> ParseLsn(std::string_view text) {
  size_t slash = text.find('/');
  auto bad = [&] {
    return Status::Usage("invalid LSN '" + std::string(text) + "'", "an LSN looks like 16/B374D848");
  };
  if (slash == std::string_view::npos || slash == 0 || slash > 8 || text.size() - slash - 1 == 0 ||
      text.size() - slash - 1 > 8) {
    return bad();
  }
  std::string hi(text.substr(0, slash)), lo(text.substr(slash + 1));
  for (char& c : hi) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (char& c : lo) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!IsHex(hi) || !IsHex(lo)) return bad();
  return (HexValue(hi) << 32) | HexValue(lo);
}

std::string FormatLsn(Lsn lsn) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%X/%X", static_cast<unsigned>(lsn >> 32),
                static_cast<unsigned>(lsn & 0xffffffffu));
  return buf;
}

bool ParseSegmentName(std::string_view name, uint64_t segment_size, SegmentName* out) {
  if (name.size() != 24 || !IsHex(name)) return false;
  uint64_t per_xlogid = 0x100000000ull / segment_size;
  out->timeline = static_cast<uint32_t>(HexValue(name.substr(0, 8)));
  uint64_t log = HexValue(name.substr(8, 8));
  uint64_t seg = HexValue(name.substr(16, 8));
  if (seg >= per_xlogid) return false;
  out->segno = log * per_xlogid + seg;
  return true;
}

std::string FormatSegmentName(uint32_t timeline, uint64_t segno, uint64_t segment_size) {
  uint64_t per_xlogid = 0x100000000ull / segment_size;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%08X%08X%08X", timeline,
                static_cast<unsigned>(segno / per_xlogid), static_cast<unsigned>(segno % per_xlogid));
  return buf;
}

bool IsWalFileName(std::string_view name) {
  if (name.size() == 24 && IsHex(name)) return true;
  if (name.size() == 16 && IsHex(name.substr(0, 8)) && name.substr(8) == ".history") return true;
  if (name.size() == 32 && IsHex(name.substr(0, 24)) && name.substr(24) == ".partial") return true;
  // 000000010000000000000002.00000028.backup
  if (name.size() == 40 && IsHex(name.substr(0, 24)) && name[24] == '.' &&
      IsHex(name.substr(25, 8)) && name.substr(33) == ".backup") {
    return true;
  }
  return false;
}

Result<uint64_t> ReadSystemIdentifier(ByteSpan segment) {
  // XLogLongPageHeaderData: u16 magic, u16 info, u32 tli, u64 pageaddr, u32 rem_len, padding
  // to 24, then u64 sysid, u32 seg_size, u32 blcksz.
  if (segment.size() < 40) return Status::Corruption("too short to be a WAL segment");
  ByteReader r(segment);
  uint16_t magic = static_cast<uint16_t>(r.U8() | (r.U8() << 8));
  uint16_t info = static_cast<uint16_t>(r.U8() | (r.U8() << 8));
  if (magic < 0xD000 || magic > 0xD1FF || !(info & kLongHeaderFlag)) {
    return Status::Corruption("not a WAL segment (no long page header)");
  }
  ByteReader id(segment.subspan(24, 8));
  return id.U64();
}

Result<std::optional<uint64_t>> WalArchive::ClusterIdentity() {
  Result<Bytes> b = repo_->GetNamed(kIdentityStream, kIdentityName);
  if (!b.ok()) {
    if (b.status().code() == Code::kNotFound) return std::optional<uint64_t>();
    return b.status();
  }
  std::string s(b->begin(), b->end());
  char* end = nullptr;
  uint64_t v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0') return Status::Corruption("the recorded system identifier is damaged");
  return std::optional<uint64_t>(v);
}

Status WalArchive::BindCluster(uint64_t sysid) {
  LB_ASSIGN_OR_RETURN(std::optional<uint64_t> bound, ClusterIdentity());
  if (bound) {
    if (*bound == sysid) return Status::Ok();
    return Status::Usage("this repository belongs to the cluster with system identifier " +
                             std::to_string(*bound) + ", not " + std::to_string(sysid),
                         "give each cluster its own repository");
  }
  return repo_->PutNamed(kIdentityStream, kIdentityName, AsBytes(std::to_string(sysid)));
}

Status WalArchive::Push(const std::string& path) {
  std::string name = Basename(path);
  std::string what = "cannot archive '" + name + "'";
  if (!IsWalFileName(name)) return Status::Usage(what + ": not a WAL file name");
  LB_ASSIGN_OR_RETURN(Bytes data, ReadFile(path));
  if (name.size() == 24 || name.size() == 32) {
    Result<uint64_t> sysid = ReadSystemIdentifier(data);
    if (!sysid.ok()) return sysid.status().Context(what);
    LB_RETURN_IF_ERROR(BindCluster(*sysid).Context(what));
  }
  Result<Bytes> existing = repo_->GetNamed(kWalStream, name);
  if (existing.ok()) {
    if (*existing == data) return Status::Ok();
    return Status::IO(what + ": a different file of that name is already archived",
                      "two clusters may be archiving into one repository; check archive_command");
  }
  if (existing.status().code() != Code::kNotFound) return existing.status().Context(what);
  return repo_->PutNamed(kWalStream, name, data).Context(what);
}

Result<Bytes> WalArchive::Read(const std::string& name) {
  if (!IsWalFileName(name)) return Status::Usage("'" + name + "' is not a WAL file name");
  Result<Bytes> data = repo_->GetNamed(kWalStream, name);
  if (!data.ok() && data.status().code() == Code::kNotFound) {
    return Status::NotFound("WAL file '" + name + "' is not in the repository");
  }
  return data;
}

Result<Bytes> WalArchive::Fetch(const std::string& name) {
  if (!IsWalFileName(name)) return Status::Usage("'" + name + "' is not a WAL file name");
  Result<Bytes> data = repo_->GetNamed(kWalStream, name);
  if (!data.ok() && data.status().code() == Code::kNotFound && name.size() == 24) {
    // The segment still being written, as `wal stream` last stored it. PostgreSQL wants whole
    // segments: the rest is zeros, which recovery reads as the end of the WAL.
    data = repo_->GetNamed(kWalStream, name + ".partial");
    if (data.ok()) {
      // Deltas ("<name>.partial.<offset>") extend it, each from where the previous one ended.
      LB_ASSIGN_OR_RETURN(std::vector<std::string> names, repo_->ListNamed(kWalStream));
      std::map<uint64_t, std::string> deltas;
      std::string prefix = name + ".partial.";
      for (const std::string& n : names) {
        if (n.size() == prefix.size() + 8 && n.compare(0, prefix.size(), prefix) == 0) {
          deltas.emplace(std::strtoull(n.c_str() + prefix.size(), nullptr, 16), n);
        }
      }
      for (const auto& [offset, delta] : deltas) {
        if (offset != data->size()) continue;  // stale, or already covered by the whole partial
        LB_ASSIGN_OR_RETURN(Bytes more, repo_->GetNamed(kWalStream, delta));
        data->insert(data->end(), more.begin(), more.end());
      }
    }
    if (data.ok() && data->size() < kDefaultSegmentSize) data->resize(kDefaultSegmentSize, 0);
  }
  if (!data.ok()) {
    if (data.status().code() == Code::kNotFound) {
      return Status::NotFound("WAL file '" + name + "' is not in the repository");
    }
    return data.status();
  }
  return data;
}

Status WalArchive::Get(const std::string& name, const std::string& dest) {
  LB_ASSIGN_OR_RETURN(Bytes data, Fetch(name));
  return WriteFileDurable(dest, data, 0600);
}

}  // namespace lifeboat::pg
