// zstd compression of blobs. Level 0 disables compression.
//
// Thread safety: safe to call concurrently (each thread keeps its own zstd contexts).
#pragma once

#include "base/bytes.h"
#include "base/result.h"

namespace lifeboat {

// Compresses `in` into `out`. Returns false (and leaves `out` unspecified) when compression is
// off or would not save at least 1/32 of the size: such data is stored as it is.
bool CompressIfSmaller(ByteSpan in, int level, Bytes* out);

// Decompresses a blob whose original size is `raw_size`; any mismatch is corruption.
Result<Bytes> Decompress(ByteSpan in, size_t raw_size);
// The same into `out`, whose size is the original size.
Status DecompressInto(ByteSpan in, std::span<uint8_t> out);

// Whole-buffer helpers for metadata objects (indexes, manifests), always compressed.
Bytes CompressAlways(ByteSpan in, int level);
Result<Bytes> DecompressUnknownSize(ByteSpan in, size_t limit);

}  // namespace lifeboat
