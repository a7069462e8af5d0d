// The shop's database access: one libpq connection per tenant database, opened from libpq's
// environment (PGHOST, PGPORT, PGUSER, PGPASSWORD) with the tenant's database name.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <vector>

namespace shop {

// The three tenants of the runbook's cluster; tenant "x" lives in database "x_prod".
inline const std::vector<std::string> kTenants = {"startupwebapp", "healthtech", "fintech"};
inline std::string TenantDatabase(const std::string& tenant) { return tenant + "_prod"; }

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

// One connection, reopened when it breaks. Not thread-safe: one per thread.
class Db {
 public:
  explicit Db(std::string dbname) : dbname_(std::move(dbname)) {}
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs `sql` with text parameters. On failure returns null and sets error().
  PgResult Exec(const std::string& sql, const std::vector<std::string>& params = {});
  const std::string& error() const { return error_; }
  const std::string& dbname() const { return dbname_; }

 private:
  bool Connect();
  std::string dbname_;
  PGconn* conn_ = nullptr;
  std::string error_;
};

// Seconds since the epoch with microseconds, and the same instant in ISO 8601 UTC.
double NowSeconds();
std::string IsoTime(double seconds);

}  // namespace shop
