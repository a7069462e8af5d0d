#include "shop_db.h"

#include <chrono>
#include <cmath>
#include <ctime>

namespace shop {

Db::~Db() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool Db::Connect() {
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) return true;
  if (conn_ != nullptr) PQfinish(conn_);
  const char* keys[] = {"dbname", "connect_timeout", "application_name", "options", nullptr};
  const char* values[] = {dbname_.c_str(), "3", "shop", "-c client_min_messages=warning", nullptr};
  conn_ = PQconnectdbParams(keys, values, 0);
  if (PQstatus(conn_) != CONNECTION_OK) {
    error_ = PQerrorMessage(conn_);
    PQfinish(conn_);
    conn_ = nullptr;
    return false;
  }
  return true;
}

PgResult Db::Exec(const std::string& sql, const std::vector<std::string>& params) {
  // A broken connection (the server restarted, a failover) is reopened once per call.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!Connect()) return nullptr;
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    // Without parameters the simple protocol runs scripts of several statements.
    PgResult r(values.empty() ? PQexec(conn_, sql.c_str())
                              : PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()),
                                             nullptr, values.data(), nullptr, nullptr, 0));
    ExecStatusType st = PQresultStatus(r.get());
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
    error_ = PQerrorMessage(conn_);
    if (PQstatus(conn_) == CONNECTION_OK) return nullptr;
  }
  return nullptr;
}

double NowSeconds() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(now).count()) / 1e6;
}

std::string IsoTime(double seconds) {
  time_t whole = static_cast<time_t>(std::floor(seconds));
  long micros = std::lround((seconds - static_cast<double>(whole)) * 1e6);
  if (micros >= 1000000) {
    ++whole;
    micros -= 1000000;
  }
  struct tm tm;
  gmtime_r(&whole, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
  return buf;
}

}  // namespace shop
