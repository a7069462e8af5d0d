// The PostgreSQL snapshot metadata codec (pg/snapshot_meta.h): what backup writes decodes to
// the same values; metadata of older versions, without the keys added since, still decodes;
// a missing or mistyped key is a corruption error naming the snapshot and the key.
#include <gtest/gtest.h>

#include "pg/snapshot_meta.h"

namespace lifeboat::pg {
namespace {

PgSnapshotMeta Sample() {
  PgSnapshotMeta m;
  m.type = BackupType::kIncremental;
  m.pg_version = "150014";
  m.system_identifier = 7300000000000000001ULL;  // above 2^62: kept exactly, as text
  m.timeline = 3;
  m.start_lsn = 0x3000028;
  m.stop_lsn = 0x3000138;
  m.start_time = 1'795'921'800'123'456'000;
  m.stop_time = 1'795'921'801'654'321'000;
  m.wal_segment_size = 16 << 20;
  m.start_wal_file = "000000030000000000000003";
  m.stop_wal_file = "000000030000000000000003";
  m.data_checksums = true;
  m.pages_checked = 4242;
  m.checksum_failures = {{"base/5/16384", 7, 0x1234, 0x4321}};
  m.data_dir = "/var/lib/postgresql/15/main";
  m.tablespaces = {{"16500", "/srv/ts1"}};
  m.databases = {{"shop", 8'000'000, {{"public", "orders", 1200, true, 90'000, ""},
                                      {"public", "big", 5'000'000, false, 700'000'000, "timeout"}}}};
  IncrementalMeta inc;
  inc.method = IncrementalMeta::Method::kBlocks;
  inc.wal_bytes = 1 << 20;
  inc.wal_records = 900;
  inc.blocks_changed = 12;
  inc.bytes_read = 5 << 20;
  inc.bytes_reused = 40 << 20;
  m.incremental = inc;
  return m;
}

TEST(SnapshotMetaTest, WhatBackupWritesDecodesToTheSameValues) {
  PgSnapshotMeta m = Sample();
  nlohmann::json j = m.ToJson();
  EXPECT_EQ(j["system_identifier"], "7300000000000000001");
  EXPECT_EQ(j["start_lsn"], "0/3000028");
  EXPECT_EQ(j["type"], "incremental");
  EXPECT_EQ(j["incremental"]["method"], "blocks");
  EXPECT_FALSE(j["incremental"].contains("reason"));
  EXPECT_EQ(j["databases"][0]["tables"][1]["count_error"], "timeout");
  EXPECT_FALSE(j["databases"][0]["tables"][0].contains("count_error"));
  Result<PgSnapshotMeta> back = PgSnapshotMeta::FromJson(j, "snapshot 0123abcd");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToJson(), j);
  EXPECT_EQ(back->system_identifier, m.system_identifier);
  EXPECT_EQ(back->databases[0].tables[1].exact, false);
  EXPECT_EQ(back->checksum_failures[0].computed, 0x4321u);
}

TEST(SnapshotMetaTest, OlderMetadataWithoutTheNewerKeysStillDecodes) {
  nlohmann::json j = Sample().ToJson();
  for (const char* k : {"type", "pg_version", "start_wal_file", "stop_wal_file", "data_checksums", "pages_checked",
                        "checksum_failures", "data_dir", "tablespaces", "databases", "incremental"}) {
    j.erase(k);
  }
  Result<PgSnapshotMeta> m = PgSnapshotMeta::FromJson(j, "snapshot 0123abcd");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type, BackupType::kFull);
  EXPECT_FALSE(m->data_checksums);
  EXPECT_TRUE(m->databases.empty());
  EXPECT_FALSE(m->incremental.has_value());
  EXPECT_EQ(m->timeline, 3u);
}

TEST(SnapshotMetaTest, AMissingOrMistypedKeyNamesTheSnapshotAndTheKey) {
  auto error = [](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = Sample().ToJson();
    edit(j);
    Result<PgSnapshotMeta> m = PgSnapshotMeta::FromJson(j, "snapshot 0123abcd");
    EXPECT_EQ(m.status().code(), Code::kCorruption);
    return m.status().message();
  };
  EXPECT_EQ(error([](nlohmann::json& j) { j.erase("stop_lsn"); }),
            "snapshot 0123abcd: key 'stop_lsn' is missing or not a string");
  EXPECT_EQ(error([](nlohmann::json& j) { j["start_lsn"] = "3000028"; }),
            "snapshot 0123abcd: key 'start_lsn' is missing or not an LSN");
  EXPECT_EQ(error([](nlohmann::json& j) { j["system_identifier"] = 7300000000000000001ULL; }),
            "snapshot 0123abcd: key 'system_identifier' is missing or not a string");
  EXPECT_EQ(error([](nlohmann::json& j) { j["timeline"] = -1; }),
            "snapshot 0123abcd: key 'timeline' is missing or not a number in range");
  EXPECT_EQ(error([](nlohmann::json& j) { j["type"] = "differential"; }),
            "snapshot 0123abcd: key 'type' is missing or not full or incremental");
  EXPECT_EQ(error([](nlohmann::json& j) { j["databases"][0]["tables"][1]["rows"] = "many"; }),
            "snapshot 0123abcd, databases[0], tables[1]: key 'rows' is missing or not a number");
  EXPECT_EQ(error([](nlohmann::json& j) { j["incremental"]["method"] = "pages"; }),
            "snapshot 0123abcd, incremental: key 'method' is missing or not blocks or files");
  EXPECT_EQ(error([](nlohmann::json& j) { j["stop_time"] = "yesterday"; }),
            "snapshot 0123abcd: key 'stop_time' is missing or not a time");
}

}  // namespace
}  // namespace lifeboat::pg
