#include "pg/wal_reader.h"

#include <nmmintrin.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace lifeboat::pg {

namespace {

// access/xlog_internal.h
constexpr uint16_t kPageMagic = 0xD110;  // XLOG_PAGE_MAGIC of PostgreSQL 15
constexpr uint16_t kFirstIsContRecord = 0x0001;
constexpr uint16_t kLongHeader = 0x0002;
constexpr uint16_t kAllPageFlags = 0x000F;
constexpr size_t kShortPageHeader = 24;  // MAXALIGN(sizeof(XLogPageHeaderData))
constexpr size_t kLongPageHeader = 40;   // MAXALIGN(sizeof(XLogLongPageHeaderData))
// access/xlogrecord.h
constexpr size_t kRecordHeader = 24;  // SizeOfXLogRecord
constexpr size_t kCrcOffset = 20;     // offsetof(XLogRecord, xl_crc)
constexpr uint32_t kMaxRecord = 1u << 30;  // XLogRecordMaxSize
constexpr uint8_t kMaxBlockId = 32;
constexpr uint8_t kBlockIdDataShort = 255;
constexpr uint8_t kBlockIdDataLong = 254;
constexpr uint8_t kBlockIdOrigin = 253;
constexpr uint8_t kBlockIdToplevelXid = 252;
constexpr uint8_t kForkMask = 0x0F;
constexpr uint8_t kHasImage = 0x10;
constexpr uint8_t kSameRel = 0x80;
constexpr uint8_t kImageHasHole = 0x01;
constexpr uint8_t kImageCompressed = 0x04 | 0x08 | 0x10;  // pglz, lz4, zstd
// catalog/pg_control.h
constexpr uint8_t kXlogSwitch = 0x40;

template <typename T>
T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // WAL is in the server's byte order: little-endian here
  return v;
}

Lsn MaxAlign(Lsn x) { return (x + 7) & ~Lsn{7}; }

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}

__attribute__((target("sse4.2"))) uint32_t Crc32cHardware(uint32_t crc, ByteSpan data) {
  const uint8_t* p = data.data();
  size_t n = data.size();
  uint64_t c = crc;
  for (; n >= 8; n -= 8, p += 8) c = _mm_crc32_u64(c, Load<uint64_t>(p));
  auto c32 = static_cast<uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = _mm_crc32_u8(c32, *p);
  return c32;
}

}  // namespace

uint32_t Crc32cUpdate(uint32_t crc, ByteSpan data) {
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  if (hardware) return Crc32cHardware(crc, data);
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  for (uint8_t b : data) crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return crc;
}

size_t WalReader::HeaderSize(Lsn page) const {
  return page % segment_size_ == 0 ? kLongPageHeader : kShortPageHeader;
}

Status WalReader::CheckPageHeader(Lsn page, const uint8_t* p) {
  // Built only on failure: formatting it for each of a backup's thousands of pages showed.
  auto where = [page] { return "WAL page at " + FormatLsn(page); };
  uint16_t info = Load<uint16_t>(p + 2);
  if (Load<uint16_t>(p) != kPageMagic) {
    return Status::Corruption(where() + " has magic " + std::to_string(Load<uint16_t>(p)) +
                              ", not PostgreSQL 15's " + std::to_string(kPageMagic));
  }
  if ((info & ~kAllPageFlags) != 0 || Load<uint64_t>(p + 8) != page) {
    return Status::Corruption(where() + " has a header for another page (" +
                              FormatLsn(Load<uint64_t>(p + 8)) + ")");
  }
  bool first_in_segment = page % segment_size_ == 0;
  if (((info & kLongHeader) != 0) != first_in_segment) {
    return Status::Corruption(where() + " has the wrong kind of header");
  }
  if (first_in_segment &&
      (Load<uint32_t>(p + 32) != segment_size_ || Load<uint32_t>(p + 36) != page_size_)) {
    return Status::Corruption(where() + " belongs to a cluster with other segment or page sizes");
  }
  return Status::Ok();
}

Result<const uint8_t*> WalReader::Page(Lsn page) {
  uint64_t segno = page / segment_size_;
  if (segno != loaded_segno_) {
    loaded_segno_ = UINT64_MAX;
    LB_ASSIGN_OR_RETURN(segment_, source_(segno));
    if (segment_.size() != segment_size_) {
      return Status::Corruption("WAL segment " + std::to_string(segno) + " holds " +
                                std::to_string(segment_.size()) + " bytes, not " +
                                std::to_string(segment_size_));
    }
    loaded_segno_ = segno;
  }
  const uint8_t* p = segment_.data() + page % segment_size_;
  LB_RETURN_IF_ERROR(CheckPageHeader(page, p));
  return p;
}

Status WalReader::Copy(Lsn* at, size_t n, uint64_t* left, Bytes* out) {
  while (n > 0) {
    Lsn page = *at - *at % page_size_;
    LB_ASSIGN_OR_RETURN(const uint8_t* p, Page(page));
    if (*at == page) {
      // The record goes on in this page: its header says so, and how much is left.
      if ((Load<uint16_t>(p + 2) & kFirstIsContRecord) == 0 || Load<uint32_t>(p + 16) != *left) {
        return Status::Corruption("WAL page at " + FormatLsn(page) + " does not continue the " +
                                  "record before it (" + std::to_string(*left) + " bytes left)");
      }
      *at += HeaderSize(page);
    }
    size_t take = std::min<uint64_t>(n, page + page_size_ - *at);
    const uint8_t* from = p + (*at - page);
    if (out != nullptr) out->insert(out->end(), from, from + take);
    n -= take;
    *at += take;
    *left -= take;
  }
  return Status::Ok();
}

Status WalReader::Decode(Lsn lsn, ByteSpan rec, WalRecord* out) {
  auto bad = [lsn](const std::string& why) {
    return Status::Corruption("WAL record at " + FormatLsn(lsn) + " " + why);
  };
  out->lsn = lsn;
  out->info = rec[16];
  out->rmgr = rec[17];
  out->blocks.clear();
  size_t pos = kRecordHeader;
  uint64_t remaining = rec.size() - kRecordHeader;
  uint64_t data_total = 0;
  uint64_t main_data = 0;
  auto take = [&](size_t n) -> const uint8_t* {
    if (remaining < n) return nullptr;
    const uint8_t* p = rec.data() + pos;
    pos += n;
    remaining -= n;
    return p;
  };
  WalBlockRef rel;
  bool have_rel = false;
  // The block headers come first, then the main data's length (always last), then the data.
  while (remaining > data_total) {
    const uint8_t* id = take(1);
    if (*id == kBlockIdDataShort || *id == kBlockIdDataLong) {
      const uint8_t* len = take(*id == kBlockIdDataShort ? 1 : 4);
      if (len == nullptr) return bad("is truncated in its main data length");
      main_data = *id == kBlockIdDataShort ? *len : Load<uint32_t>(len);
      data_total += main_data;
      break;
    }
    if (*id == kBlockIdOrigin || *id == kBlockIdToplevelXid) {
      if (take(*id == kBlockIdOrigin ? 2 : 4) == nullptr) return bad("is truncated");
      continue;
    }
    if (*id > kMaxBlockId) return bad("has an invalid block id " + std::to_string(*id));
    const uint8_t* h = take(3);
    if (h == nullptr) return bad("is truncated in a block header");
    uint8_t fork_flags = h[0];
    data_total += Load<uint16_t>(h + 1);
    if (fork_flags & kHasImage) {
      const uint8_t* img = take(5);
      if (img == nullptr) return bad("is truncated in a page image header");
      data_total += Load<uint16_t>(img);
      if ((img[4] & kImageHasHole) && (img[4] & kImageCompressed) && take(2) == nullptr) {
        return bad("is truncated in a page image header");
      }
    }
    if ((fork_flags & kSameRel) == 0) {
      const uint8_t* node = take(12);
      if (node == nullptr) return bad("is truncated in a relation");
      rel.tablespace = Load<uint32_t>(node);
      rel.database = Load<uint32_t>(node + 4);
      rel.relfilenode = Load<uint32_t>(node + 8);
      have_rel = true;
    } else if (!have_rel) {
      return bad("refers to the previous block's relation, but has none before");
    }
    const uint8_t* block = take(4);
    if (block == nullptr) return bad("is truncated in a block number");
    rel.fork = fork_flags & kForkMask;
    rel.block = Load<uint32_t>(block);
    out->blocks.push_back(rel);
  }
  if (remaining != data_total) {
    return bad("has block data that does not add up to its length");
  }
  out->main_data = rec.subspan(rec.size() - main_data);
  return Status::Ok();
}

Status WalReader::Read(Lsn from, Lsn to, const Visit& visit) {
  if (from % page_size_ < HeaderSize(from - from % page_size_)) {
    return Status::Usage("WAL position " + FormatLsn(from) + " is inside a page header");
  }
  Status visit_error;
  Lsn end = from;
  Status s = Scan(from, to, visit, &visit_error, &end);
  LB_RETURN_IF_ERROR(visit_error);
  LB_RETURN_IF_ERROR(s);
  if (end != to) {
    return Status::Corruption("the WAL from " + FormatLsn(from) + " does not lead to " +
                              FormatLsn(to) + ": a record ends at " + FormatLsn(end));
  }
  return Status::Ok();
}

Status WalReader::ReadSegment(uint64_t segno, const Visit& visit) {
  Lsn start = segno * segment_size_;
  LB_ASSIGN_OR_RETURN(const uint8_t* p, Page(start));
  Lsn pos = start + kLongPageHeader;
  if ((Load<uint16_t>(p + 2) & kFirstIsContRecord) != 0) {
    // The end of a record begun in the segment before: skipped, as it cannot be checked.
    uint64_t left = Load<uint32_t>(p + 16);
    if (!Copy(&pos, left, &left, nullptr).ok()) return Status::Ok();  // it fills the segment
    pos = MaxAlign(pos);
  }
  Status visit_error;
  Lsn end = pos;
  // Whatever else stops the scan is the end of the WAL written into this segment.
  (void)Scan(pos, start + segment_size_, visit, &visit_error, &end);
  return visit_error;
}

Status WalReader::Scan(Lsn from, Lsn to, const Visit& visit, Status* visit_error, Lsn* end) {
  Lsn pos = from;
  Lsn prev = 0;
  Bytes rec;
  WalRecord record;
  for (;;) {
    if (pos % page_size_ == 0) {
      // A record starts after the page's header; the page must not continue an earlier one.
      LB_ASSIGN_OR_RETURN(const uint8_t* p, Page(pos));
      if (prev != 0 && (Load<uint16_t>(p + 2) & kFirstIsContRecord) != 0) {
        return Status::Corruption("WAL page at " + FormatLsn(pos) +
                                  " continues a record, but the one before it has ended");
      }
      pos += HeaderSize(pos);
    }
    if (pos >= to) break;
    Lsn page = pos - pos % page_size_;
    LB_ASSIGN_OR_RETURN(const uint8_t* p, Page(page));
    // Records are 8-aligned and headers are too, so the length never straddles two pages.
    uint32_t total = Load<uint32_t>(p + pos % page_size_);
    if (total < kRecordHeader || total > kMaxRecord) {
      return Status::Corruption("WAL record at " + FormatLsn(pos) + " has an invalid length " +
                                std::to_string(total));
    }
    // Filled page by page: a damaged length fails at the next page's header, long before the
    // gigabyte it may claim is allocated.
    rec.clear();
    Lsn at = pos;
    uint64_t left = total;
    LB_RETURN_IF_ERROR(Copy(&at, total, &left, &rec));
    if (prev != 0 && Load<uint64_t>(rec.data() + 8) != prev) {
      return Status::Corruption("WAL record at " + FormatLsn(pos) + " names " +
                                FormatLsn(Load<uint64_t>(rec.data() + 8)) +
                                " as the record before it, not " + FormatLsn(prev));
    }
    uint32_t crc = Crc32cUpdate(0xFFFFFFFFu, ByteSpan(rec).subspan(kRecordHeader));
    crc = ~Crc32cUpdate(crc, ByteSpan(rec).first(kCrcOffset));
    if (crc != Load<uint32_t>(rec.data() + kCrcOffset)) {
      return Status::Corruption("WAL record at " + FormatLsn(pos) + " fails its CRC");
    }
    LB_RETURN_IF_ERROR(Decode(pos, rec, &record));
    *visit_error = visit(record);
    LB_RETURN_IF_ERROR(*visit_error);
    prev = pos;
    // After a segment switch the rest of the segment is unused.
    bool switched = record.rmgr == kRmgrXlog && (record.info & 0xF0) == kXlogSwitch;
    pos = switched ? (at + segment_size_ - 1) / segment_size_ * segment_size_ : MaxAlign(at);
    *end = pos;
  }
  *end = pos;
  return Status::Ok();
}

}  // namespace lifeboat::pg
