#include "pg/cluster.h"

#include <cstdlib>

namespace lifeboat::pg {

Result<std::vector<DatabaseRecord>> RecordDatabases(const ConnInfo& base, int64_t exact_count_limit) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(base));
  LB_ASSIGN_OR_RETURN(Rows dbs, conn->Query(
      "SELECT datname, pg_database_size(oid) FROM pg_database "
      "WHERE datallowconn AND NOT datistemplate ORDER BY datname"));
  std::vector<DatabaseRecord> out;
  for (size_t i = 0; i < dbs.rows.size(); ++i) {
    DatabaseRecord db;
    db.name = dbs.Get(i, 0);
    db.bytes = std::atoll(dbs.Get(i, 1).c_str());
    ConnInfo info = base;
    info.dbname = db.name;
    LB_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, Connection::Open(info));
    LB_RETURN_IF_ERROR(c->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    LB_ASSIGN_OR_RETURN(Rows tables, c->Query(
        "SELECT n.nspname, c.relname, c.reltuples::bigint, pg_relation_size(c.oid) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'm') AND c.relpersistence = 'p' "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' "
        "ORDER BY 1, 2"));
    for (size_t t = 0; t < tables.rows.size(); ++t) {
      TableRecord tr;
      tr.schema = tables.Get(t, 0);
      tr.name = tables.Get(t, 1);
      tr.bytes = std::atoll(tables.Get(t, 3).c_str());
      tr.rows = std::max<int64_t>(0, std::atoll(tables.Get(t, 2).c_str()));
      tr.exact = false;
      if (tr.bytes <= exact_count_limit) {
        // A table that cannot be counted (a damaged page, say) keeps its estimate and the
        // reason; the backup itself goes on.
        LB_RETURN_IF_ERROR(c->Exec("SAVEPOINT count_rows"));
        Result<std::string> n = c->QueryValue("SELECT count(*) FROM " + QuoteIdent(tr.schema) +
                                              "." + QuoteIdent(tr.name));
        if (n.ok()) {
          tr.rows = std::atoll(n->c_str());
          tr.exact = true;
          LB_RETURN_IF_ERROR(c->Exec("RELEASE SAVEPOINT count_rows"));
        } else {
          tr.count_error = n.status().message();
          LB_RETURN_IF_ERROR(c->Exec("ROLLBACK TO SAVEPOINT count_rows"));
        }
      }
      db.tables.push_back(std::move(tr));
    }
    LB_RETURN_IF_ERROR(c->Exec("COMMIT"));
    out.push_back(std::move(db));
  }
  return out;
}

nlohmann::json DatabasesToJson(const std::vector<DatabaseRecord>& dbs) {
  nlohmann::json arr = nlohmann::json::array();
  for (const DatabaseRecord& db : dbs) {
    nlohmann::json tables = nlohmann::json::array();
    for (const TableRecord& t : db.tables) {
      nlohmann::json tj = {{"schema", t.schema}, {"name", t.name}, {"rows", t.rows},
                           {"exact", t.exact}, {"bytes", t.bytes}};
      if (!t.count_error.empty()) tj["count_error"] = t.count_error;
      tables.push_back(tj);
    }
    arr.push_back({{"name", db.name}, {"bytes", db.bytes}, {"tables", tables}});
  }
  return arr;
}

}  // namespace lifeboat::pg
