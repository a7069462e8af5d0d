// Byte buffers and little-endian encoding helpers for the binary formats in
// docs/repository-format.md. ByteReader never reads past its input: every accessor reports
// truncation through ok(), so decoders of untrusted bytes stay memory-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lifeboat {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

inline ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsString(ByteSpan b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// A heap buffer whose start is aligned to `alignment` (a power of two), as O_DIRECT needs.
// Its content starts unspecified.
class AlignedBuffer {
 public:
  AlignedBuffer(size_t size, size_t alignment)
      : data_(static_cast<uint8_t*>(::operator new(size, std::align_val_t(alignment))),
              Delete{alignment}),
        size_(size) {}
  uint8_t* data() { return data_.get(); }
  size_t size() const { return size_; }
  std::span<uint8_t> span() { return {data_.get(), size_}; }

 private:
  struct Delete {
    size_t alignment;
    void operator()(uint8_t* p) const { ::operator delete(p, std::align_val_t(alignment)); }
  };
  std::unique_ptr<uint8_t, Delete> data_;
  size_t size_;
};

class ByteWriter {
 public:
  explicit ByteWriter(Bytes* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(v); }
  void U32(uint32_t v);
  void U64(uint64_t v);
  void Raw(ByteSpan b) { out_->insert(out_->end(), b.begin(), b.end()); }

 private:
  Bytes* out_;
};

class ByteReader {
 public:
  explicit ByteReader(ByteSpan in) : in_(in) {}
  uint8_t U8();
  uint32_t U32();
  uint64_t U64();
  // Returns the next n bytes, or an empty span and !ok() when fewer remain.
  ByteSpan Raw(size_t n);

  bool ok() const { return ok_; }
  size_t remaining() const { return in_.size() - pos_; }

 private:
  bool Need(size_t n);
  ByteSpan in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

std::string HexEncode(ByteSpan b);
// Returns false when `hex` has odd length or a non-hex character.
bool HexDecode(std::string_view hex, Bytes* out);
// Decodes exactly out.size() bytes, without allocating; false as above or on another length.
bool HexDecodeInto(std::string_view hex, std::span<uint8_t> out);

}  // namespace lifeboat
