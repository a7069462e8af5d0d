#include "pg/snapshot_meta.h"

#include "base/json_fields.h"

namespace lifeboat::pg {

namespace {

constexpr BackupType kBackupTypes[] = {BackupType::kFull, BackupType::kIncremental};
constexpr IncrementalMeta::Method kMethods[] = {IncrementalMeta::Method::kBlocks, IncrementalMeta::Method::kFiles};

const char* MethodName(IncrementalMeta::Method m) {
  return m == IncrementalMeta::Method::kBlocks ? "blocks" : "files";
}

Status ReadLsn(const JsonFields& f, const char* key, Lsn* out) {
  std::string text;
  LB_RETURN_IF_ERROR(f.String(key, &text));
  Result<Lsn> lsn = ParseLsn(text);
  if (!lsn.ok()) return f.Bad(key, "an LSN");
  *out = *lsn;
  return Status::Ok();
}

// Each element of the array `key` (absent: none) decoded by `one`.
template <typename T, typename Decode>
Status ReadList(const JsonFields& f, const char* key, std::vector<T>* out, Decode one) {
  if (!f.Has(key)) return Status::Ok();
  nlohmann::json arr;
  LB_RETURN_IF_ERROR(f.Array(key, &arr));
  for (size_t i = 0; i < arr.size(); ++i) {
    JsonFields e(arr[i], f.where() + ", " + key + "[" + std::to_string(i) + "]");
    LB_RETURN_IF_ERROR(e.IsObject());
    T item;
    LB_RETURN_IF_ERROR(one(e, &item));
    out->push_back(std::move(item));
  }
  return Status::Ok();
}

Status ReadTable(const JsonFields& t, TableRecord* out) {
  LB_RETURN_IF_ERROR(t.String("schema", &out->schema));
  LB_RETURN_IF_ERROR(t.String("name", &out->name));
  LB_RETURN_IF_ERROR(t.Int("rows", &out->rows));
  if (t.Has("exact")) LB_RETURN_IF_ERROR(t.Bool("exact", &out->exact));
  if (t.Has("bytes")) LB_RETURN_IF_ERROR(t.Int("bytes", &out->bytes));
  if (t.Has("count_error")) LB_RETURN_IF_ERROR(t.String("count_error", &out->count_error));
  return Status::Ok();
}

Status ReadDatabase(const JsonFields& d, DatabaseRecord* out) {
  LB_RETURN_IF_ERROR(d.String("name", &out->name));
  if (d.Has("bytes")) LB_RETURN_IF_ERROR(d.Int("bytes", &out->bytes));
  return ReadList(d, "tables", &out->tables, ReadTable);
}

}  // namespace

const char* BackupTypeName(BackupType t) { return t == BackupType::kIncremental ? "incremental" : "full"; }

nlohmann::json PgSnapshotMeta::ToJson() const {
  nlohmann::json m;
  m["type"] = BackupTypeName(type);
  m["pg_version"] = pg_version;
  m["system_identifier"] = std::to_string(system_identifier);
  m["timeline"] = timeline;
  m["start_lsn"] = FormatLsn(start_lsn);
  m["stop_lsn"] = FormatLsn(stop_lsn);
  m["start_time"] = FormatIso8601(start_time, true);
  m["stop_time"] = FormatIso8601(stop_time, true);
  m["wal_segment_size"] = wal_segment_size;
  m["start_wal_file"] = start_wal_file;
  m["stop_wal_file"] = stop_wal_file;
  m["data_checksums"] = data_checksums;
  m["pages_checked"] = pages_checked;
  nlohmann::json bad = nlohmann::json::array();
  for (const ChecksumFailure& p : checksum_failures) {
    bad.push_back({{"file", p.file}, {"block", p.block}, {"stored", p.stored}, {"computed", p.computed}});
  }
  m["checksum_failures"] = bad;
  m["data_dir"] = data_dir;
  nlohmann::json ts = nlohmann::json::array();
  for (const TablespaceMeta& t : tablespaces) ts.push_back({{"oid", t.oid}, {"location", t.location}});
  m["tablespaces"] = ts;
  m["databases"] = DatabasesToJson(databases);
  if (incremental) {
    nlohmann::json inc = {{"method", MethodName(incremental->method)},
                          {"bytes_read", incremental->bytes_read},
                          {"bytes_reused", incremental->bytes_reused}};
    if (incremental->method == IncrementalMeta::Method::kBlocks) {
      inc["wal_bytes"] = incremental->wal_bytes;
      inc["wal_records"] = incremental->wal_records;
      inc["blocks_changed"] = incremental->blocks_changed;
    } else {
      inc["reason"] = incremental->reason;
    }
    m["incremental"] = inc;
  }
  return m;
}

Result<PgSnapshotMeta> PgSnapshotMeta::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f(j, where);
  LB_RETURN_IF_ERROR(f.IsObject());
  PgSnapshotMeta m;
  std::string sysid;
  LB_RETURN_IF_ERROR(f.String("system_identifier", &sysid));
  if (sysid.empty() || sysid.find_first_not_of("0123456789") != std::string::npos || sysid.size() > 20) {
    return f.Bad("system_identifier", "a decimal system identifier");
  }
  m.system_identifier = std::strtoull(sysid.c_str(), nullptr, 10);
  LB_RETURN_IF_ERROR(f.Uint32("timeline", &m.timeline));
  LB_RETURN_IF_ERROR(f.Uint64("wal_segment_size", &m.wal_segment_size));
  if (m.wal_segment_size == 0) return f.Bad("wal_segment_size", "a segment size");
  LB_RETURN_IF_ERROR(ReadLsn(f, "start_lsn", &m.start_lsn));
  LB_RETURN_IF_ERROR(ReadLsn(f, "stop_lsn", &m.stop_lsn));
  LB_RETURN_IF_ERROR(f.Time("start_time", &m.start_time));
  LB_RETURN_IF_ERROR(f.Time("stop_time", &m.stop_time));
  if (f.Has("type")) {
    LB_RETURN_IF_ERROR(f.Enum("type", kBackupTypes, &BackupTypeName, "full or incremental", &m.type));
  }
  if (f.Has("pg_version")) LB_RETURN_IF_ERROR(f.String("pg_version", &m.pg_version));
  if (f.Has("start_wal_file")) LB_RETURN_IF_ERROR(f.String("start_wal_file", &m.start_wal_file));
  if (f.Has("stop_wal_file")) LB_RETURN_IF_ERROR(f.String("stop_wal_file", &m.stop_wal_file));
  if (f.Has("data_checksums")) LB_RETURN_IF_ERROR(f.Bool("data_checksums", &m.data_checksums));
  if (f.Has("pages_checked")) LB_RETURN_IF_ERROR(f.Uint64("pages_checked", &m.pages_checked));
  if (f.Has("data_dir")) LB_RETURN_IF_ERROR(f.String("data_dir", &m.data_dir));
  LB_RETURN_IF_ERROR(ReadList(f, "checksum_failures", &m.checksum_failures,
                              [](const JsonFields& e, ChecksumFailure* out) -> Status {
                                LB_RETURN_IF_ERROR(e.String("file", &out->file));
                                LB_RETURN_IF_ERROR(e.Uint64("block", &out->block));
                                LB_RETURN_IF_ERROR(e.Uint32("stored", &out->stored));
                                return e.Uint32("computed", &out->computed);
                              }));
  LB_RETURN_IF_ERROR(ReadList(f, "tablespaces", &m.tablespaces,
                              [](const JsonFields& e, TablespaceMeta* out) -> Status {
                                LB_RETURN_IF_ERROR(e.String("oid", &out->oid));
                                return e.String("location", &out->location);
                              }));
  LB_RETURN_IF_ERROR(ReadList(f, "databases", &m.databases, ReadDatabase));
  if (f.Has("incremental")) {
    nlohmann::json inc;
    LB_RETURN_IF_ERROR(f.Object("incremental", &inc));
    JsonFields i(inc, where + ", incremental");
    IncrementalMeta im;
    LB_RETURN_IF_ERROR(i.Enum("method", kMethods, &MethodName, "blocks or files", &im.method));
    if (i.Has("reason")) LB_RETURN_IF_ERROR(i.String("reason", &im.reason));
    if (i.Has("wal_bytes")) LB_RETURN_IF_ERROR(i.Uint64("wal_bytes", &im.wal_bytes));
    if (i.Has("wal_records")) LB_RETURN_IF_ERROR(i.Uint64("wal_records", &im.wal_records));
    if (i.Has("blocks_changed")) LB_RETURN_IF_ERROR(i.Uint64("blocks_changed", &im.blocks_changed));
    if (i.Has("bytes_read")) LB_RETURN_IF_ERROR(i.Uint64("bytes_read", &im.bytes_read));
    if (i.Has("bytes_reused")) LB_RETURN_IF_ERROR(i.Uint64("bytes_reused", &im.bytes_reused));
    m.incremental = im;
  }
  return m;
}

}  // namespace lifeboat::pg
