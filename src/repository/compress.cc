#include "repository/compress.h"

#include <zstd.h>

#include <memory>
#include <string>

namespace lifeboat {

namespace {

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}

ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

}  // namespace

bool CompressIfSmaller(ByteSpan in, int level, Bytes* out) {
  if (level <= 0 || in.empty()) return false;
  size_t limit = in.size() - in.size() / 32;
  out->resize(ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compressCCtx(ThreadCCtx(), out->data(), out->size(), in.data(), in.size(), level);
  if (ZSTD_isError(n) || n >= limit) return false;
  out->resize(n);
  return true;
}

Status DecompressInto(ByteSpan in, std::span<uint8_t> out) {
  size_t n = ZSTD_decompressDCtx(ThreadDCtx(), out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n)) {
    return Status::Corruption(std::string("cannot decompress: ") + ZSTD_getErrorName(n));
  }
  if (n != out.size()) {
    return Status::Corruption("decompressed to " + std::to_string(n) + " bytes, expected " +
                              std::to_string(out.size()));
  }
  return Status::Ok();
}

Result<Bytes> Decompress(ByteSpan in, size_t raw_size) {
  Bytes out(raw_size);
  LB_RETURN_IF_ERROR(DecompressInto(in, out));
  return out;
}

Bytes CompressAlways(ByteSpan in, int level) {
  Bytes out(ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compressCCtx(ThreadCCtx(), out.data(), out.size(), in.data(), in.size(),
                               level > 0 ? level : 1);
  if (ZSTD_isError(n)) throw std::runtime_error("zstd compression failed");
  out.resize(n);
  return out;
}

Result<Bytes> DecompressUnknownSize(ByteSpan in, size_t limit) {
  unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    return Status::Corruption("not a zstd frame with a known size");
  }
  if (size > limit) {
    return Status::Corruption("declared size " + std::to_string(size) + " exceeds the limit");
  }
  return Decompress(in, static_cast<size_t>(size));
}

}  // namespace lifeboat
