#include "verify/verifier.h"

#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include "base/json_fields.h"
#include "verify/expectation.h"

namespace lifeboat::verify {

using pg::ConnInfo;
using pg::Connection;
using pg::QuoteIdent;

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kPass: return "pass";
    case Outcome::kWarn: return "warn";
    case Outcome::kFail: return "fail";
  }
  return "fail";
}

Outcome Report::overall() const {
  Outcome worst = Outcome::kPass;
  for (const CheckResult& c : checks) {
    if (c.outcome == Outcome::kFail) return Outcome::kFail;
    if (c.outcome == Outcome::kWarn) worst = Outcome::kWarn;
  }
  return worst;
}

std::vector<std::string> Report::Failed() const {
  std::vector<std::string> out;
  for (const CheckResult& c : checks) {
    if (c.outcome == Outcome::kFail) out.push_back(c.name);
  }
  return out;
}

Result<Report> Report::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f(j, where);
  LB_RETURN_IF_ERROR(f.IsObject());
  nlohmann::json arr;
  LB_RETURN_IF_ERROR(f.Array("checks", &arr));
  constexpr Outcome kOutcomes[] = {Outcome::kPass, Outcome::kWarn, Outcome::kFail};
  Report r;
  for (size_t i = 0; i < arr.size(); ++i) {
    JsonFields c(arr[i], where + ", check " + std::to_string(i + 1));
    LB_RETURN_IF_ERROR(c.IsObject());
    CheckResult check;
    LB_RETURN_IF_ERROR(c.String("name", &check.name));
    LB_RETURN_IF_ERROR(c.Enum("result", kOutcomes, &OutcomeName, "pass, warn or fail", &check.outcome));
    LB_RETURN_IF_ERROR(c.String("expected", &check.expected));
    LB_RETURN_IF_ERROR(c.String("actual", &check.actual));
    LB_RETURN_IF_ERROR(c.String("detail", &check.detail));
    LB_RETURN_IF_ERROR(c.Double("seconds", &check.seconds));
    r.checks.push_back(std::move(check));
  }
  if (f.Has("coverage") && !j["coverage"].is_null()) {
    LB_ASSIGN_OR_RETURN(Coverage c, Coverage::FromJson(j["coverage"], where + ", coverage"));
    r.coverage = std::move(c);
  }
  return r;
}

nlohmann::json Report::ToJson() const {
  nlohmann::json arr = nlohmann::json::array();
  for (const CheckResult& c : checks) {
    arr.push_back({{"name", c.name}, {"result", OutcomeName(c.outcome)}, {"expected", c.expected},
                   {"actual", c.actual}, {"detail", c.detail}, {"seconds", c.seconds}});
  }
  return {{"result", OutcomeName(overall())},
          {"checks", arr},
          {"coverage", coverage ? coverage->ToJson() : nlohmann::json()}};
}

namespace {

class Run {
 public:
  Run(const ConnInfo& base, const Baseline& baseline, const Policy& policy)
      : base_(base), baseline_(baseline), policy_(policy) {}

  Report Go() {
    started_ = MonotonicSeconds();
    if (!Connectivity()) return report_;
    Databases();
    Tables();
    CriticalTables();
    Freshness();
    UserChecks();
    Integrity();
    return report_;
  }

 private:
  // Times `fn`, which fills the result; exceptions are bugs and propagate.
  void Check(const std::string& name, const std::function<void(CheckResult&)>& fn) {
    CheckResult r;
    r.name = name;
    double start = MonotonicSeconds();
    fn(r);
    r.seconds = MonotonicSeconds() - start;
    report_.checks.push_back(std::move(r));
  }

  Result<std::unique_ptr<Connection>> Open(const std::string& db) {
    ConnInfo info = base_;
    info.dbname = db;
    return Connection::Open(info);
  }

  static void Fail(CheckResult& r, const std::string& why) {
    r.outcome = Outcome::kFail;
    r.detail = why;
  }

  bool Connectivity() {
    bool ok = true;
    Check("accepts connections", [&](CheckResult& r) {
      r.expected = "connection";
      Result<std::unique_ptr<Connection>> c = Open("postgres");
      if (!c.ok()) {
        r.actual = "refused";
        Fail(r, c.status().message());
        ok = false;
        return;
      }
      r.actual = "connected";
    });
    if (!ok) return false;
    Check("promoted (out of recovery)", [&](CheckResult& r) {
      r.expected = "false";
      Result<std::unique_ptr<Connection>> c = Open("postgres");
      Result<std::string> v = c.ok() ? (*c)->QueryValue("SELECT pg_is_in_recovery()")
                                     : Result<std::string>(c.status());
      if (!v.ok()) return Fail(r, v.status().message());
      r.actual = *v == "f" ? "false" : "true";
      if (*v != "f") Fail(r, "the instance is still recovering");
    });
    Check("system identifier", [&](CheckResult& r) {
      r.expected = std::to_string(baseline_.system_identifier);
      Result<std::unique_ptr<Connection>> c = Open("postgres");
      Result<std::string> v = c.ok() ? (*c)->QueryValue("SELECT system_identifier FROM pg_control_system()")
                                     : Result<std::string>(c.status());
      if (!v.ok()) return Fail(r, v.status().message());
      r.actual = *v;
      if (r.actual != r.expected) Fail(r, "the instance is not a copy of this repository's cluster");
    });
    return true;
  }

  void Databases() {
    for (const pg::DatabaseRecord& db : baseline_.snapshot.databases) {
      const std::string& name = db.name;
      int64_t recorded = db.bytes;
      Check("database " + name, [&](CheckResult& r) {
        r.expected = "exists, about " + std::to_string(recorded) + " bytes";
        Result<std::unique_ptr<Connection>> c = Open(name);
        if (!c.ok()) {
          r.actual = "missing";
          return Fail(r, c.status().message());
        }
        Result<std::string> size = (*c)->QueryValue("SELECT pg_database_size(current_database())");
        if (!size.ok()) return Fail(r, size.status().message());
        int64_t actual = std::atoll(size->c_str());
        r.actual = std::to_string(actual) + " bytes";
        double change = recorded > 0 ? std::fabs(static_cast<double>(actual - recorded)) / static_cast<double>(recorded) : 0;
        if (change > policy_.size_tolerance) {
          r.outcome = Outcome::kWarn;
          r.detail = "size changed by " + std::to_string(static_cast<int>(change * 100)) + "%";
        }
      });
    }
  }

  void Tables() {
    for (const pg::DatabaseRecord& db : baseline_.snapshot.databases) {
      const std::string& dbname = db.name;
      for (const pg::TableRecord& t : db.tables) {
        std::string full = dbname + "." + t.schema + "." + t.name;
        int64_t recorded = t.rows;
        bool exact = t.exact;
        Check("rows " + full, [&](CheckResult& r) {
          r.expected = (exact ? "" : "~") + std::to_string(recorded);
          Result<std::unique_ptr<Connection>> c = Open(dbname);
          if (!c.ok()) return Fail(r, c.status().message());
          std::string rel = QuoteIdent(t.schema) + "." + QuoteIdent(t.name);
          Result<std::string> n = (*c)->QueryValue(
              exact ? "SELECT count(*) FROM " + rel
                    : "SELECT reltuples::bigint FROM pg_class WHERE oid = '" + rel + "'::regclass");
          if (!n.ok()) {
            r.actual = "error";
            return Fail(r, "table " + full + ": " + n.status().message());
          }
          int64_t actual = std::atoll(n->c_str());
          r.actual = std::to_string(actual);
          if (actual == recorded) return;
          if (recorded > 0 && actual == 0) return Fail(r, "table " + full + " is empty; it had " + std::to_string(recorded) + " rows");
          double shrink = recorded > 0 ? static_cast<double>(recorded - actual) / static_cast<double>(recorded) : 0;
          if (shrink > policy_.shrink_limit) {
            return Fail(r, "table " + full + " shrank by " + std::to_string(static_cast<int>(shrink * 100)) +
                               "% (" + std::to_string(recorded - actual) + " rows)");
          }
          r.outcome = Outcome::kWarn;
          int64_t diff = actual - recorded;
          r.detail = (diff > 0 ? "+" : "") + std::to_string(diff) + " rows against the snapshot's record" +
                     (baseline_.ends_at_snapshot ? "" : " (a point-in-time restore moves counts)");
        });
      }
    }
  }

  void CriticalTables() {
    for (const std::string& ct : policy_.critical_tables) {
      Check("critical table " + ct, [&](CheckResult& r) {
        r.expected = "exists, rows > 0";
        size_t dot = ct.find('.');
        if (dot == std::string::npos) return Fail(r, "expected db.schema.table, got '" + ct + "'");
        Result<std::unique_ptr<Connection>> c = Open(ct.substr(0, dot));
        if (!c.ok()) return Fail(r, c.status().message());
        std::string rest = ct.substr(dot + 1);
        size_t dot2 = rest.find('.');
        std::string rel = dot2 == std::string::npos ? QuoteIdent(rest)
                                                    : QuoteIdent(rest.substr(0, dot2)) + "." + QuoteIdent(rest.substr(dot2 + 1));
        Result<std::string> n = (*c)->QueryValue("SELECT count(*) FROM (SELECT 1 FROM " + rel + " LIMIT 1) s");
        if (!n.ok()) {
          r.actual = "missing";
          return Fail(r, n.status().message());
        }
        r.actual = *n == "0" ? "empty" : "has rows";
        if (*n == "0") Fail(r, "critical table " + ct + " is empty");
      });
    }
  }

  void Freshness() {
    for (const FreshnessColumn& f : policy_.freshness) {
      std::string name = "freshness " + f.database + "." + f.table + "." + f.column;
      Check(name, [&](CheckResult& r) {
        if (!baseline_.target) {
          r.outcome = Outcome::kWarn;
          r.detail = "no recovery target known";
          return;
        }
        UnixNanos target = *baseline_.target;
        UnixNanos oldest = target - policy_.rpo_seconds * 1'000'000'000;
        r.expected = "between " + FormatIso8601(oldest, true) + " and " + FormatIso8601(target, true);
        Result<std::unique_ptr<Connection>> c = Open(f.database);
        if (!c.ok()) return Fail(r, c.status().message());
        Result<std::string> v = (*c)->QueryValue("SELECT max(" + QuoteIdent(f.column) + ")::timestamptz FROM " +
                                                 QuoteIdent(f.table));
        if (!v.ok()) return Fail(r, v.status().message());
        if (v->empty()) {
          r.actual = "no rows";
          return Fail(r, "no value in " + f.table + "." + f.column);
        }
        Result<UnixNanos> newest = ParseTimestamp(*v);
        if (!newest.ok()) return Fail(r, newest.status().message());
        r.actual = FormatIso8601(*newest, true);
        if (*newest > target) {
          return Fail(r, "a row is newer than the recovery target: the restore went too far");
        }
        if (*newest < oldest) {
          return Fail(r, "the newest row is older than the target minus the RPO objective");
        }
      });
    }
  }

  bool Sampled(const std::string& oid) const {
    if (policy_.sample >= 1.0) return true;
    // Deterministic: the same relations are sampled on every run.
    uint64_t h = std::hash<std::string>{}(oid) % 10000;
    return static_cast<double>(h) < policy_.sample * 10000;
  }

  // One database's integrity: its connection (amcheck created for the run when it was not
  // there) and the two checks its units' results go to.
  struct IntegrityDb {
    std::unique_ptr<Connection> conn;
    bool created_amcheck = false;
    CheckResult amcheck, pages;
    int indexes = 0, relations = 0;  // checked and intact
    int indexes_skipped = 0, relations_skipped = 0;
  };

  // The units of one database: B-tree indexes, and with data checksums the relations whose
  // pages a read verifies. The modification time needs pg_stat_file (a superuser or
  // pg_read_server_files); without it every unit's write time is unknown.
  Status CollectUnits(const std::string& dbname, Connection& conn, bool checksums, std::vector<IntegrityUnit>* out) {
    const std::string written =
        "COALESCE((extract(epoch FROM (pg_stat_file(pg_relation_filepath(c.oid), true)).modification) * 1e9)::bigint, 0)";
    const std::string quoted = "quote_ident(n.nspname) || '.' || quote_ident(c.relname)";
    auto query = [&](const std::string& w) {
      std::string sql =
          "SELECT 'index', c.oid::text, n.nspname || '.' || c.relname, pg_relation_size(c.oid), " + w + ", " + quoted +
          " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
          "JOIN pg_namespace n ON n.oid = c.relnamespace "
          "WHERE a.amname = 'btree' AND c.relpersistence = 'p' AND i.indisvalid";
      if (checksums) {
        sql += " UNION ALL SELECT 'relation', c.oid::text, n.nspname || '.' || c.relname, pg_relation_size(c.oid), " +
               w + ", " + quoted + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE c.relkind IN ('r', 'm', 't') AND c.relpersistence = 'p'";
      }
      return conn.Query(sql + " ORDER BY 2");
    };
    Result<pg::Rows> rows = query(written);
    if (!rows.ok()) rows = query("0::bigint");
    if (!rows.ok()) return rows.status();
    for (size_t i = 0; i < rows->rows.size(); ++i) {
      if (!Sampled(rows->Get(i, 1))) continue;
      IntegrityUnit u;
      u.database = dbname;
      u.kind = rows->Get(i, 0) == "index" ? UnitKind::kIndex : UnitKind::kRelation;
      u.oid = rows->Get(i, 1);
      u.name = rows->Get(i, 2);
      u.bytes = std::atoll(rows->Get(i, 3).c_str());
      u.written = std::atoll(rows->Get(i, 4).c_str());
      u.quoted = rows->Get(i, 5);
      out->push_back(std::move(u));
    }
    return Status::Ok();
  }

  // amcheck of one index or a read of every page of one relation; false when it is damaged.
  bool CheckUnit(IntegrityDb& d, const IntegrityUnit& u) {
    double start = MonotonicSeconds();
    bool index = u.kind == UnitKind::kIndex;
    CheckResult& r = index ? d.amcheck : d.pages;
    // Reading a page into shared buffers verifies its checksum; a sequential scan reads all.
    Status st = index ? d.conn->Exec("SELECT bt_index_check(" + u.oid + "::regclass)")
                      : d.conn->QueryValue("SELECT count(*) FROM ONLY " + u.quoted).status();
    r.seconds += MonotonicSeconds() - start;
    if (st.ok()) {
      ++(index ? d.indexes : d.relations);
      return true;
    }
    if (r.outcome != Outcome::kFail) {
      r.actual = (index ? "index " : "relation ") + u.name + " damaged";
      Fail(r, (index ? "index " : "relation ") + u.name + ": " + st.message());
    }
    return false;
  }

  // Within [verify] budget when there is one (what the checks before this one left of it),
  // the units most worth checking first (coverage.h); the rest are reported as skipped.
  void Integrity() {
    bool checksums = baseline_.snapshot.data_checksums;
    std::map<std::string, IntegrityDb> dbs;
    std::vector<IntegrityUnit> units;
    for (const pg::DatabaseRecord& db : baseline_.snapshot.databases) {
      IntegrityDb& d = dbs[db.name];
      d.amcheck.name = "amcheck " + db.name;
      d.amcheck.expected = "every B-tree index intact";
      d.pages.name = "page checksums " + db.name;
      d.pages.expected = "every page's checksum valid";
      double start = MonotonicSeconds();
      Status s = OpenForIntegrity(db.name, checksums, d, &units);
      d.amcheck.seconds = MonotonicSeconds() - start;
      if (!s.ok()) {
        Fail(d.amcheck, s.message());
        Fail(d.pages, s.message());
        if (d.conn && d.created_amcheck) (void)d.conn->Exec("DROP EXTENSION IF EXISTS amcheck");
        d.conn.reset();
      }
    }
    CoverageHistory history;
    if (!policy_.coverage_file.empty()) {
      Result<CoverageHistory> h = CoverageHistory::Load(policy_.coverage_file);
      if (h.ok()) history = std::move(*h);  // a damaged history only loses the rotation
    }
    std::optional<double> deadline;
    if (policy_.budget_seconds) deadline = started_ + *policy_.budget_seconds;
    Coverage cov = CheckWithinBudget(
        OrderForBudget(std::move(units), history), policy_.budget_seconds, deadline, &MonotonicSeconds,
        [&](const IntegrityUnit& u) { return CheckUnit(dbs[u.database], u); }, NowNanos(), &history);
    for (const IntegrityUnit& u : cov.skipped) {
      ++(u.kind == UnitKind::kIndex ? dbs[u.database].indexes_skipped : dbs[u.database].relations_skipped);
    }
    if (!policy_.coverage_file.empty()) (void)history.Save(policy_.coverage_file);
    for (const pg::DatabaseRecord& db : baseline_.snapshot.databases) {
      IntegrityDb& d = dbs[db.name];
      if (d.conn) {
        if (d.amcheck.outcome != Outcome::kFail) {
          d.amcheck.actual = std::to_string(d.indexes) + " indexes intact" + Skipped(d.indexes_skipped);
        }
        if (d.pages.outcome != Outcome::kFail) {
          d.pages.actual = std::to_string(d.relations) + " relations read" + Skipped(d.relations_skipped);
        }
        if (d.created_amcheck) (void)d.conn->Exec("DROP EXTENSION IF EXISTS amcheck");
      }
      report_.checks.push_back(d.amcheck);
      if (checksums) report_.checks.push_back(d.pages);
    }
    report_.coverage = std::move(cov);
  }

  static std::string Skipped(int n) {
    return n == 0 ? "" : " (" + std::to_string(n) + " skipped for the budget)";
  }

  Status OpenForIntegrity(const std::string& dbname, bool checksums, IntegrityDb& d, std::vector<IntegrityUnit>* units) {
    LB_ASSIGN_OR_RETURN(d.conn, Open(dbname));
    LB_ASSIGN_OR_RETURN(std::string had, d.conn->QueryValue("SELECT count(*) FROM pg_extension WHERE extname = 'amcheck'"));
    LB_RETURN_IF_ERROR(d.conn->Exec("SET statement_timeout = " + std::to_string(policy_.amcheck_timeout_seconds * 1000)));
    if (had == "0") {
      LB_RETURN_IF_ERROR(d.conn->Exec("CREATE EXTENSION amcheck"));
      d.created_amcheck = true;
    }
    return CollectUnits(dbname, *d.conn, checksums, units);
  }

  void UserChecks() {
    for (const UserCheck& u : policy_.checks) {
      Check(u.name, [&](CheckResult& r) {
        r.expected = u.expect;
        Result<Expectation> e = ParseExpectation(u.expect);
        if (!e.ok()) return Fail(r, e.status().message());
        Result<std::unique_ptr<Connection>> c = Open(u.database);
        if (!c.ok()) return Fail(r, c.status().message());
        Result<pg::Rows> rows = (*c)->Query(u.sql);
        if (!rows.ok()) return Fail(r, rows.status().message());
        double v = 0;
        if (e->on_rows) {
          v = static_cast<double>(rows->rows.size());
        } else {
          if (rows->rows.empty() || rows->columns.empty() || !rows->rows[0][0]) {
            r.actual = "no value";
            return Fail(r, "the query returned no value");
          }
          char* end = nullptr;
          v = std::strtod(rows->rows[0][0]->c_str(), &end);
          if (end == nullptr || *end != '\0') {
            r.actual = *rows->rows[0][0];
            return Fail(r, "the query returned '" + r.actual + "', not a number");
          }
        }
        char buf[64];
        std::snprintf(buf, sizeof(buf), "%g", v);
        r.actual = buf;
        if (!e->Holds(v)) Fail(r, "expected " + u.expect + ", got " + r.actual);
      });
    }
  }

  ConnInfo base_;
  const Baseline& baseline_;
  const Policy& policy_;
  Report report_;
  double started_ = 0;
};

}  // namespace

Report VerifyInstance(const ConnInfo& conn, const Baseline& baseline, const Policy& policy) {
  return Run(conn, baseline, policy).Go();
}

}  // namespace lifeboat::verify
