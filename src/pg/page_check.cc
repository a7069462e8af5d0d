#include "pg/page_check.h"

#include <cctype>
#include <cstring>

extern "C" uint16_t lifeboat_pg_checksum_page(char* page, uint32_t blkno);

namespace lifeboat::pg {

uint16_t PageChecksum(const uint8_t* page, uint32_t blkno) {
  // pg_checksum_page zeroes pd_checksum while computing and restores it: work on a copy.
  alignas(8) uint8_t copy[kPageSize];
  std::memcpy(copy, page, kPageSize);
  return lifeboat_pg_checksum_page(reinterpret_cast<char*>(copy), blkno);
}

bool RelationFileFirstBlock(const std::string& path, uint64_t* first_block) {
  // Relation files live in global/, base/<db>/ or a tablespace's <version>/<db>/.
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  bool in_relation_dir = dir == "data/global" || dir.rfind("data/base/", 0) == 0 ||
                         dir.rfind("tablespaces/", 0) == 0;
  if (!in_relation_dir || name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  size_t i = 0;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) ++i;
  std::string rest = name.substr(i);
  for (const char* fork : {"_fsm", "_vm", "_init"}) {
    if (rest.rfind(fork, 0) == 0) {
      rest = rest.substr(std::strlen(fork));
      break;
    }
  }
  uint64_t segno = 0;
  if (!rest.empty()) {
    if (rest[0] != '.' || rest.size() == 1) return false;
    for (size_t k = 1; k < rest.size(); ++k) {
      if (!std::isdigit(static_cast<unsigned char>(rest[k]))) return false;
      segno = segno * 10 + static_cast<uint64_t>(rest[k] - '0');
    }
  }
  *first_block = segno * kPagesPerSegment;
  return true;
}

void PageChecker::Inspect(const std::string& path, uint64_t offset, ByteSpan data) {
  uint64_t first_block = 0;
  if (offset % kPageSize != 0 || !RelationFileFirstBlock(path, &first_block)) return;
  std::vector<BadPage> found;
  uint64_t checked = 0;
  for (size_t pos = 0; pos + kPageSize <= data.size(); pos += kPageSize) {
    const uint8_t* page = data.data() + pos;
    ByteReader header(data.subspan(pos, 24));
    uint32_t lsn_hi = header.U32();
    uint32_t lsn_lo = header.U32();
    uint16_t stored = static_cast<uint16_t>(header.U8() | (header.U8() << 8));
    header.Raw(4);  // pd_flags, pd_lower
    uint16_t upper = static_cast<uint16_t>(header.U8() | (header.U8() << 8));
    if (upper == 0) continue;  // a new page: no checksum yet
    Lsn lsn = (static_cast<Lsn>(lsn_hi) << 32) | lsn_lo;
    if (lsn >= start_) continue;  // written since the backup began: WAL replay restores it
    uint64_t block = first_block + (offset + pos) / kPageSize;
    ++checked;
    uint16_t actual = PageChecksum(page, static_cast<uint32_t>(block));
    if (actual != stored) {
      std::string rel = path.rfind("data/", 0) == 0 ? path.substr(5) : path;
      found.push_back({rel, block, stored, actual});
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  checked_ += checked;
  bad_.insert(bad_.end(), found.begin(), found.end());
}

std::vector<BadPage> PageChecker::bad_pages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bad_;
}

uint64_t PageChecker::pages_checked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return checked_;
}

}  // namespace lifeboat::pg
