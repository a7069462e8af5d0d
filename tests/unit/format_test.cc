// Packs, index files and manifests: encode, decode, and refuse damage.
#include <gtest/gtest.h>

#include "repository/crypto.h"
#include "repository/index.h"
#include "repository/pack.h"
#include "repository/snapshot.h"

namespace lifeboat {
namespace {

Key256 TestKey() {
  Key256 k;
  k.fill(7);
  return k;
}

TEST(PackTest, HeaderListsEveryBlobAtItsOffset) {
  Key256 key = TestKey();
  PackBuilder pb(&key);
  Id a = BlobId(key, AsBytes("alpha"));
  Id b = BlobId(key, AsBytes("bravo!"));
  pb.Add(a, BlobType::kData, 0, AsBytes("alpha"), 5);
  pb.Add(b, BlobType::kData, kBlobCompressed, AsBytes("bravo!"), 6);
  std::vector<PackEntry> written;
  Bytes pack = pb.Finish(&written);
  Result<std::vector<PackEntry>> read = ReadPackHeader(key, pack);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].id, a);
  EXPECT_EQ((*read)[0].offset, 0u);
  EXPECT_EQ((*read)[0].stored_length, 5 + kSealOverhead);
  EXPECT_EQ((*read)[1].id, b);
  EXPECT_EQ((*read)[1].offset, 5 + kSealOverhead);
  EXPECT_EQ((*read)[1].flags, kBlobCompressed);
  EXPECT_EQ((*read)[1].raw_length, 6u);
  EXPECT_EQ(written[1].offset, (*read)[1].offset);
  // The blob itself opens from the offsets alone.
  ByteSpan sealed = ByteSpan(pack).subspan((*read)[1].offset, (*read)[1].stored_length);
  EXPECT_EQ(*Open(key, sealed), Bytes({'b', 'r', 'a', 'v', 'o', '!'}));
}

TEST(PackTest, DamagedTrailerOrHeaderIsCorruption) {
  Key256 key = TestKey();
  PackBuilder pb(&key);
  pb.Add(BlobId(key, AsBytes("x")), BlobType::kData, 0, AsBytes("x"), 1);
  std::vector<PackEntry> entries;
  Bytes pack = pb.Finish(&entries);
  Bytes bad = pack;
  bad.back() ^= 1;
  EXPECT_EQ(ReadPackHeader(key, bad).status().message(), "not a pack file (bad trailer)");
  bad = pack;
  bad[bad.size() - 8] ^= 0x40;  // header length
  EXPECT_EQ(ReadPackHeader(key, bad).status().code(), Code::kCorruption);
  bad = pack;
  bad[bad.size() - 12] ^= 1;  // inside the sealed header
  EXPECT_EQ(ReadPackHeader(key, bad).status().code(), Code::kCorruption);
  EXPECT_EQ(ReadPackHeader(key, Bytes(3)).status().code(), Code::kCorruption);
}

TEST(IndexTest, EncodeDecodeAndLookup) {
  IndexedPack p;
  p.pack = Sha256(AsBytes("pack"));
  PackEntry e;
  e.id = Sha256(AsBytes("blob"));
  e.offset = 100;
  e.stored_length = 200;
  e.raw_length = 300;
  e.flags = kBlobCompressed;
  p.entries.push_back(e);
  Bytes enc = EncodeIndexFile({p});
  Result<std::vector<IndexedPack>> dec = DecodeIndexFile(enc);
  ASSERT_TRUE(dec.ok());
  ASSERT_EQ(dec->size(), 1u);
  EXPECT_EQ((*dec)[0].pack, p.pack);
  EXPECT_EQ((*dec)[0].entries[0].raw_length, 300u);

  Index idx;
  idx.AddPack((*dec)[0]);
  std::optional<BlobLocation> loc = idx.Find(e.id);
  ASSERT_TRUE(loc.has_value());
  EXPECT_EQ(loc->pack, p.pack);
  EXPECT_EQ(loc->entry.offset, 100u);
  EXPECT_FALSE(idx.Contains(p.pack));

  for (size_t cut = 0; cut < enc.size(); ++cut) {
    EXPECT_FALSE(DecodeIndexFile(ByteSpan(enc).first(cut)).ok()) << "cut at " << cut;
  }
  Bytes longer = enc;
  longer.push_back(0);
  EXPECT_EQ(DecodeIndexFile(longer).status().message(), "index file has trailing or missing bytes");
}

TEST(SnapshotManifestTest, RoundTripsEveryField) {
  Snapshot s;
  s.kind = "files";
  s.name = "media";
  s.hostname = "db1";
  s.username = "postgres";
  s.started_at = 1'795'921'800'123'456'000;
  s.finished_at = 1'795'921'801'000'000'000;
  s.parent = Sha256(AsBytes("parent"));
  s.logical_bytes = 10;
  s.stored_bytes = 7;
  s.metadata = {{"producer", "test"}, {"lsn", "0/3000028"}};
  FileEntry dir{.path = ".", .type = EntryType::kDirectory, .mode = 0755, .mtime = 5};
  FileEntry file{.path = "a b/ü.txt", .type = EntryType::kFile, .mode = 0640, .mtime = 6,
                 .size = 10, .uid = 1, .gid = 2, .chunks = {Sha256(AsBytes("c"))},
                 .inode = 99, .ctime = 7};
  FileEntry link{.path = "l", .type = EntryType::kSymlink, .mode = 0777, .mtime = 8,
                 .target = "../x"};
  s.entries = {dir, file, link};
  Result<Snapshot> back = DecodeSnapshot(EncodeSnapshot(s));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->name, "media");
  EXPECT_EQ(back->started_at, s.started_at);
  EXPECT_EQ(back->parent, s.parent);
  EXPECT_EQ(back->metadata["lsn"], "0/3000028");
  ASSERT_EQ(back->entries.size(), 3u);
  EXPECT_EQ(back->entries[1].path, "a b/ü.txt");
  EXPECT_EQ(back->entries[1].chunks, file.chunks);
  EXPECT_EQ(back->entries[1].mode, 0640u);
  EXPECT_EQ(back->entries[1].inode, 99u);
  EXPECT_EQ(back->entries[2].target, "../x");
  EXPECT_EQ(back->entries[2].type, EntryType::kSymlink);
}

TEST(SnapshotManifestTest, MalformedManifestsAreCorruption) {
  EXPECT_EQ(DecodeSnapshot(AsBytes("[1]")).status().message(), "manifest is not valid JSON");
  EXPECT_EQ(DecodeSnapshot(AsBytes(R"({"version":9})")).status().message(),
            "manifest version 9 is unknown");
  EXPECT_EQ(DecodeSnapshot(AsBytes(R"({"version":1})")).status().code(), Code::kCorruption);
}

}  // namespace
}  // namespace lifeboat
