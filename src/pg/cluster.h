// The protected cluster as lifeboat sees it: where it lives, how to reach it, and what a
// snapshot records about it for verification later.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "pg/connection.h"

namespace lifeboat::pg {

struct ClusterConfig {
  std::string data_dir;
  ConnInfo conn;
  std::string os_user = "postgres";
  std::string bin_dir = "/usr/lib/postgresql/15/bin";
  int64_t exact_count_limit = 64 << 20;  // tables up to this size get an exact row count
  int64_t archive_timeout_seconds = 60;  // a backup's wait for its WAL, while none arrives
  std::string Program(const std::string& name) const { return bin_dir + "/" + name; }
};

struct TableRecord {
  std::string schema;
  std::string name;
  int64_t rows = 0;
  bool exact = true;  // false: pg_class.reltuples estimate for a large table
  int64_t bytes = 0;
  std::string count_error;  // why an exact count failed, if it did
};

struct DatabaseRecord {
  std::string name;
  int64_t bytes = 0;
  std::vector<TableRecord> tables;
};

// Sizes and row counts of every database that accepts connections (templates excluded).
// Counts of each database come from one REPEATABLE READ transaction.
Result<std::vector<DatabaseRecord>> RecordDatabases(const ConnInfo& base, int64_t exact_count_limit);

nlohmann::json DatabasesToJson(const std::vector<DatabaseRecord>& dbs);

}  // namespace lifeboat::pg
