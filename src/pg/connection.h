// A libpq connection with errors as values. Every failure names host, port and libpq's message.
//
// Thread safety: one Connection per thread (libpq connections are not shared).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/time.h"

struct pg_conn;

namespace lifeboat::pg {

struct ConnInfo {
  std::string host;  // socket directory or host name
  int port = 5432;
  std::string user;
  std::string dbname = "postgres";
  std::string password;     // optional
  bool replication = false;  // a physical replication connection
  std::string application_name = "lifeboat";
};

// Rows of text values; a NULL is std::nullopt.
struct Rows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  // The value at (row, col), or "" for NULL. REQUIRES: in range.
  std::string Get(size_t row, size_t col) const { return rows[row][col].value_or(""); }
  bool empty() const { return rows.empty(); }
};

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const ConnInfo& info);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement with text parameters ($1, $2, ...).
  Result<Rows> Query(const std::string& sql, const std::vector<std::string>& params = {});
  // One value of a single-row, single-column query.
  Result<std::string> QueryValue(const std::string& sql, const std::vector<std::string>& params = {});
  Status Exec(const std::string& sql) { return Query(sql).status(); }

  const ConnInfo& info() const { return info_; }
  // "host:port" for messages.
  std::string Where() const;
  pg_conn* raw() { return conn_; }

 private:
  Connection(pg_conn* conn, ConnInfo info) : conn_(conn), info_(std::move(info)) {}
  pg_conn* conn_;
  ConnInfo info_;
};

// The commit time of the cluster's newest transaction (pg_last_committed_xact()), or nullopt
// when track_commit_timestamp is off or nothing committed since it was turned on.
Result<std::optional<UnixNanos>> LastCommitTime(Connection& c);

// Quotes an identifier for SQL ("my table" -> "\"my table\"").
std::string QuoteIdent(const std::string& ident);
// Quotes a literal for configuration files and SQL ('it''s').
std::string QuoteLiteral(const std::string& value);

}  // namespace lifeboat::pg
