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
  return r;
}

nlohmann::json Report::ToJson() const {
  nlohmann::json arr = nlohmann::json::array();
  for (const CheckResult& c : checks) {
    arr.push_back({{"name", c.name}, {"result", OutcomeName(c.outcome)}, {"expected", c.expected},
                   {"actual", c.actual}, {"detail", c.detail}, {"seconds", c.seconds}});
  }
  return {{"result", OutcomeName(overall())}, {"checks", arr}};
}

namespace {

class Run {
 public:
  Run(const ConnInfo& base, const Baseline& baseline, const Policy& policy)
      : base_(base), baseline_(baseline), policy_(policy) {}

  Report Go() {
    if (!Connectivity()) return report_;
    Databases();
    Tables();
    CriticalTables();
    Freshness();
    Integrity();
    UserChecks();
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

  void Integrity() {
    bool checksums = baseline_.snapshot.data_checksums;
    for (const pg::DatabaseRecord& db : baseline_.snapshot.databases) {
      const std::string& dbname = db.name;
      Check("amcheck " + dbname, [&](CheckResult& r) {
        r.expected = "every B-tree index intact";
        Result<std::unique_ptr<Connection>> c = Open(dbname);
        if (!c.ok()) return Fail(r, c.status().message());
        Connection& conn = **c;
        Result<std::string> had = conn.QueryValue("SELECT count(*) FROM pg_extension WHERE extname = 'amcheck'");
        if (!had.ok()) return Fail(r, had.status().message());
        Status s = conn.Exec("SET statement_timeout = " + std::to_string(policy_.amcheck_timeout_seconds * 1000));
        if (s.ok() && *had == "0") s = conn.Exec("CREATE EXTENSION amcheck");
        if (!s.ok()) return Fail(r, s.message());
        Result<pg::Rows> idx = conn.Query(
            "SELECT c.oid::text, n.nspname || '.' || c.relname FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE a.amname = 'btree' AND c.relpersistence = 'p' AND i.indisvalid ORDER BY 1");
        if (!idx.ok()) return Fail(r, idx.status().message());
        int checked = 0;
        for (size_t i = 0; i < idx->rows.size(); ++i) {
          if (!Sampled(idx->Get(i, 0))) continue;
          ++checked;
          Status st = conn.Exec("SELECT bt_index_check(" + idx->Get(i, 0) + "::regclass)");
          if (!st.ok()) {
            r.actual = "index " + idx->Get(i, 1) + " damaged";
            Fail(r, "index " + idx->Get(i, 1) + ": " + st.message());
            break;
          }
        }
        if (r.outcome != Outcome::kFail) r.actual = std::to_string(checked) + " indexes intact";
        if (*had == "0") (void)conn.Exec("DROP EXTENSION IF EXISTS amcheck");
      });
      if (!checksums) continue;
      Check("page checksums " + dbname, [&](CheckResult& r) {
        r.expected = "every page's checksum valid";
        Result<std::unique_ptr<Connection>> c = Open(dbname);
        if (!c.ok()) return Fail(r, c.status().message());
        Connection& conn = **c;
        Result<pg::Rows> rels = conn.Query(
            "SELECT c.oid::text, n.nspname || '.' || c.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'm', 't') AND c.relpersistence = 'p' ORDER BY 1");
        if (!rels.ok()) return Fail(r, rels.status().message());
        // Reading a page into shared buffers verifies its checksum; a sequential scan of each
        // relation reads all of them.
        int checked = 0;
        for (size_t i = 0; i < rels->rows.size(); ++i) {
          if (!Sampled(rels->Get(i, 0))) continue;
          ++checked;
          std::string rel = rels->Get(i, 1);
          Result<std::string> any = conn.QueryValue("SELECT count(*) FROM ONLY " + rel);
          if (!any.ok()) {
            r.actual = "relation " + rel + " damaged";
            Fail(r, "relation " + rel + ": " + any.status().message());
            break;
          }
        }
        if (r.outcome != Outcome::kFail) r.actual = std::to_string(checked) + " relations read";
      });
    }
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
};

}  // namespace

Report VerifyInstance(const ConnInfo& conn, const Baseline& baseline, const Policy& policy) {
  return Run(conn, baseline, policy).Go();
}

}  // namespace lifeboat::verify
