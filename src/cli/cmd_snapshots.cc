// lifeboat snapshots [--json]: every snapshot, oldest first.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "pg/backup.h"
#include "verify/snapshot_verification.h"

namespace lifeboat::cli {

namespace {

Status Run(Context& ctx) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepositoryForReading());
  LB_ASSIGN_OR_RETURN(auto all, repo->LoadAllSnapshots());
  if (ctx.json) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& [id, s] : all) {
      nlohmann::ordered_json j;
      j["id"] = id.Hex();
      j["kind"] = s.kind;
      j["name"] = s.name;
      j["hostname"] = s.hostname;
      j["started_at"] = FormatIso8601(s.started_at, true);
      j["finished_at"] = FormatIso8601(s.finished_at, true);
      j["logical_bytes"] = s.logical_bytes;
      j["stored_bytes"] = s.stored_bytes;
      j["parent"] = s.parent ? nlohmann::ordered_json(s.parent->Hex()) : nlohmann::ordered_json();
      // A listed snapshot is complete: its manifest is written last.
      j["status"] = "available";
      if (s.kind == "postgresql") {
        LB_ASSIGN_OR_RETURN(std::optional<nlohmann::json> v, verify::LastVerification(*repo, id));
        j["last_verification"] = v ? nlohmann::ordered_json::parse(v->dump()) : nlohmann::ordered_json();
        LB_ASSIGN_OR_RETURN(pg::PgSnapshotMeta m, pg::PgSnapshotMeta::FromJson(s.metadata, "snapshot " + id.Short()));
        nlohmann::json meta = m.ToJson();
        for (const char* k : {"type", "pg_version", "system_identifier", "timeline", "start_lsn",
                              "stop_lsn", "start_time", "stop_time", "start_wal_file",
                              "stop_wal_file", "data_checksums", "pages_checked",
                              "checksum_failures", "tablespaces", "databases", "incremental"}) {
          if (meta.contains(k)) j[k] = nlohmann::ordered_json::parse(meta[k].dump());
        }
      }
      arr.push_back(std::move(j));
    }
    PrintJson(arr);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  bool any_pg = false;
  for (const auto& [id, s] : all) any_pg = any_pg || s.kind == "postgresql";
  for (const auto& [id, s] : all) {
    std::vector<std::string> row = {id.Short(), s.kind, s.name, FormatIso8601(s.started_at),
                                    FormatIso8601(s.finished_at), "available",
                                    FormatBytes(s.logical_bytes), FormatBytes(s.stored_bytes)};
    if (any_pg) {
      std::string verified = "-";
      if (s.kind == "postgresql") {
        LB_ASSIGN_OR_RETURN(std::optional<nlohmann::json> v, verify::LastVerification(*repo, id));
        if (v) verified = (*v)["result"].get<std::string>() + " " + (*v)["verified_at"].get<std::string>().substr(0, 19) + "Z";
      }
      if (s.kind == pg::kSnapshotKind) {
        LB_ASSIGN_OR_RETURN(pg::PgSnapshotMeta m, pg::PgSnapshotMeta::FromJson(s.metadata, "snapshot " + id.Short()));
        row.insert(row.end(), {pg::BackupTypeName(m.type), pg::FormatLsn(m.start_lsn), pg::FormatLsn(m.stop_lsn)});
      } else {
        row.insert(row.end(), {"-", "-", "-"});
      }
      row.push_back(verified);
    }
    rows.push_back(std::move(row));
  }
  std::vector<std::string> header = {"ID", "KIND", "NAME", "CREATED", "FINISHED", "STATUS", "SIZE", "STORED"};
  if (any_pg) header.insert(header.end(), {"TYPE", "START_LSN", "STOP_LSN", "VERIFIED"});
  PrintTable(header, rows);
  return Status::Ok();
}

}  // namespace

void AddSnapshots(CLI::App* app, Context* ctx) {
  CLI::App* cmd = app->add_subcommand("snapshots", "list snapshots");
  cmd->callback([ctx] { ctx->run = [ctx] { return Run(*ctx); }; });
}

}  // namespace lifeboat::cli
