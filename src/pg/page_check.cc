#include "pg/page_check.h"

#include "pg/block_changes.h"

#include <cstring>

extern "C" uint16_t lifeboat_pg_checksum_page(char* page, uint32_t blkno);

namespace lifeboat::pg {

uint16_t PageChecksum(const uint8_t* page, uint32_t blkno) {
  // pg_checksum_page zeroes pd_checksum while computing and restores it: work on a copy.
  alignas(8) uint8_t copy[kPageSize];
  std::memcpy(copy, page, kPageSize);
  return lifeboat_pg_checksum_page(reinterpret_cast<char*>(copy), blkno);
}

void PageChecker::Inspect(const std::string& path, uint64_t offset, ByteSpan data) {
  std::optional<RelationFile> file = ParseRelationFile(path);
  if (offset % kPageSize != 0 || !file) return;
  const uint64_t first_block = uint64_t{file->segment} * kPagesPerSegment;
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
