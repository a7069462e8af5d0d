#include "pg/connection.h"

#include <libpq-fe.h>

namespace lifeboat::pg {

namespace {

std::string CleanMessage(const char* msg) {
  std::string s = msg != nullptr ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  // libpq prefixes many messages with "ERROR:  " or "FATAL:  ".
  for (const char* prefix : {"ERROR:  ", "FATAL:  "}) {
    if (s.rfind(prefix, 0) == 0) s = s.substr(std::string(prefix).size());
  }
  size_t nl = s.find('\n');
  if (nl != std::string::npos) s = s.substr(0, nl);
  return s;
}

}  // namespace

std::string Connection::Where() const {
  return info_.host + ":" + std::to_string(info_.port);
}

Result<std::unique_ptr<Connection>> Connection::Open(const ConnInfo& info) {
  std::vector<std::string> keys = {"host", "port", "user", "dbname", "application_name",
                                   "connect_timeout"};
  std::vector<std::string> values = {info.host, std::to_string(info.port), info.user, info.dbname,
                                     info.application_name, "10"};
  if (!info.password.empty()) {
    keys.push_back("password");
    values.push_back(info.password);
  }
  if (info.replication) {
    keys.push_back("replication");
    values.push_back("true");
  } else {
    // Times come back in one unambiguous format whatever the server's defaults.
    keys.push_back("options");
    values.push_back("-c DateStyle=ISO -c TimeZone=UTC");
  }
  std::vector<const char*> k, v;
  for (size_t i = 0; i < keys.size(); ++i) {
    k.push_back(keys[i].c_str());
    v.push_back(values[i].c_str());
  }
  k.push_back(nullptr);
  v.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(k.data(), v.data(), 0);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    std::string msg = conn != nullptr ? CleanMessage(PQerrorMessage(conn)) : "out of memory";
    if (conn != nullptr) PQfinish(conn);
    return Status::IO("cannot connect to PostgreSQL at " + info.host + ":" +
                          std::to_string(info.port) + " as " + info.user + ": " + msg,
                      "check that the cluster is running and [database] host, port and user");
  }
  // Notices (such as pg_backup_stop's "all required WAL segments have been archived") are not
  // for the user's terminal.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Connection>(new Connection(conn, info));
}

Connection::~Connection() { PQfinish(conn_); }

Result<Rows> Connection::Query(const std::string& sql, const std::vector<std::string>& params) {
  std::vector<const char*> p;
  for (const std::string& s : params) p.push_back(s.c_str());
  // Replication connections speak only the simple query protocol.
  PGresult* res = p.empty() ? PQexec(conn_, sql.c_str())
                            : PQexecParams(conn_, sql.c_str(), static_cast<int>(p.size()), nullptr,
                                           p.data(), nullptr, nullptr, 0);
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    std::string msg = CleanMessage(res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(conn_));
    if (msg.empty()) msg = CleanMessage(PQerrorMessage(conn_));
    PQclear(res);
    return Status::IO("PostgreSQL at " + Where() + ": " + msg);
  }
  Rows rows;
  int ncols = PQnfields(res);
  int nrows = PQntuples(res);
  for (int c = 0; c < ncols; ++c) rows.columns.push_back(PQfname(res, c));
  rows.rows.resize(static_cast<size_t>(nrows));
  for (int r = 0; r < nrows; ++r) {
    auto& row = rows.rows[static_cast<size_t>(r)];
    for (int c = 0; c < ncols; ++c) {
      if (PQgetisnull(res, r, c)) row.emplace_back(std::nullopt);
      else row.emplace_back(std::string(PQgetvalue(res, r, c), static_cast<size_t>(PQgetlength(res, r, c))));
    }
  }
  PQclear(res);
  return rows;
}

Result<std::string> Connection::QueryValue(const std::string& sql,
                                           const std::vector<std::string>& params) {
  LB_ASSIGN_OR_RETURN(Rows rows, Query(sql, params));
  if (rows.rows.size() != 1 || rows.columns.size() != 1) {
    return Status::IO("PostgreSQL at " + Where() + ": expected one value from '" + sql + "'");
  }
  return rows.Get(0, 0);
}

std::string QuoteIdent(const std::string& ident) {
  std::string out = "\"";
  for (char c : ident) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string QuoteLiteral(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

Result<std::optional<UnixNanos>> LastCommitTime(Connection& c) {
  // With track_commit_timestamp off, pg_last_committed_xact() is an error, not a null: asked
  // only when it is on (CASE evaluates the function only then; it is volatile, never folded).
  LB_ASSIGN_OR_RETURN(std::string t, c.QueryValue("SELECT CASE WHEN current_setting('track_commit_timestamp')::bool "
                                                  "THEN to_char((pg_last_committed_xact()).timestamp AT TIME ZONE "
                                                  "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') END"));
  if (t.empty()) return std::optional<UnixNanos>();
  LB_ASSIGN_OR_RETURN(UnixNanos when, ParseTimestamp(t));
  return std::optional<UnixNanos>(when);
}

}  // namespace lifeboat::pg
