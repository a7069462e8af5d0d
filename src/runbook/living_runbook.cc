#include "runbook/living_runbook.h"

#include <algorithm>
#include <cstdio>

#include "base/fs.h"
#include "runbook/checkup.h"
#include "runbook/drill.h"
#include "schedule/schedule.h"

namespace lifeboat::runbook {

namespace {

constexpr double kStaleFactor = 1.1;  // as status warns: a run may be a little late
constexpr int64_t kYearSeconds = 365 * 86400;

// A word for a shell command: as it is when it is safe, else in single quotes.
std::string Shell(const std::string& word) {
  bool safe = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string("/._-:=@+,").find(c) != std::string::npos;
  });
  if (safe) return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string Seconds(const std::optional<double>& v) {
  if (!v) return "not measured";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f s", *v);
  return buf;
}

std::string Objective(int64_t seconds) { return FormatDuration(static_cast<double>(seconds)); }

// The newest drill of `kind`, or null.
const DrillRecord* Newest(const std::vector<DrillRecord>& drills, DrillKind kind) {
  const DrillRecord* best = nullptr;
  for (const DrillRecord& d : drills) {
    if (d.kind == kind && (best == nullptr || d.started_at > best->started_at)) best = &d;
  }
  return best;
}

std::string When(UnixNanos t, const schedule::Zone& zone) {
  std::string local = zone.Format(t);
  return zone.name() == "UTC" ? local : local + " (" + FormatIso8601(t) + ")";
}

// The next run of a [schedule] entry, in the zone and in UTC, or why there is none.
std::string NextRun(const Config& cfg, const std::string& text, UnixNanos now) {
  if (text.empty()) return "not scheduled";
  Result<schedule::Schedule> s = schedule::Schedule::Parse(text);
  Result<schedule::Zone> zone = schedule::Zone::Named(cfg.schedule.timezone);
  if (!s.ok() || !zone.ok()) return "unknown";
  if (s->after_backup()) return "after each backup";
  std::optional<UnixNanos> next = s->NextAfter(now, *zone);
  return next ? When(*next, *zone) : "never";
}

class Writer {
 public:
  Writer(const Config& cfg, const RunbookFacts& facts)
      : cfg_(cfg), facts_(facts), known_(facts.repository.is_object() ? facts.repository : nlohmann::json::object()) {}

  Document Write() {
    doc_.Heading(1, "Disaster-recovery runbook: " + cfg_.database.name);
    doc_.Paragraph("Written by `" + program() + " runbook` at " + FormatIso8601(facts_.now) + " from `" + cfg_.file +
                   "`. Every command below is this stack's own: run them as root on the machine that holds the "
                   "config. Exit codes: 0 ok, 1 usage or config, 2 the operation failed, 3 an integrity or "
                   "verification failure.");
    Overview();
    Strategy();
    Testing();
    ScenarioRestore();
    ScenarioDeploy();
    ScenarioLoss();
    ScenarioResource();
    Contacts();
    Appendix();
    return std::move(doc_);
  }

 private:
  std::string program() const { return facts_.program; }
  // A command of this stack: lifeboat with its config.
  std::string Cmd(const std::string& args) const { return program() + " -c " + Shell(cfg_.file) + " " + args; }

  void Overview() {
    doc_.Heading(2, "Overview", "overview");
    std::vector<std::vector<std::string>> rows = {{"What", "This stack"}};
    rows.push_back({"Objectives", "RTO " + Objective(cfg_.objectives.rto_seconds) + ", RPO " +
                                      Objective(cfg_.objectives.rpo_seconds)});
    if (cfg_.database.present) {
      rows.push_back({"Database", "production instance `" + cfg_.database.name + "`: PostgreSQL in `" +
                                      cfg_.database.data_dir + "`, " + cfg_.database.host + " port " +
                                      std::to_string(cfg_.database.port)});
    }
    rows.push_back({"Repository", "`" + cfg_.repository.location() + "`"});
    const nlohmann::json& r = known_.value("repository", nlohmann::json::object());
    if (!r.value("up", false)) {
      rows.push_back({"**Unknown**", "the repository did not answer (" + r.value("error", std::string()) +
                                         "): its backups, window and drills are missing below"});
    }
    if (cfg_.offsite) rows.push_back({"Offsite repository", "`" + cfg_.offsite->location() + "`"});
    for (const ServiceConfig& s : cfg_.services) {
      rows.push_back({"Service " + s.name, std::to_string(s.replicas) + " replica(s), ports " +
                                               std::to_string(s.port_first) + "-" + std::to_string(s.port_last) +
                                               ", health `" + s.health_path + "`" +
                                               (s.secret.empty() ? "" : ", secret `" + s.secret + "`")});
    }
    if (cfg_.load_balancer.present) {
      rows.push_back({"Load balancer", "haproxy on " + cfg_.load_balancer.bind + ":" +
                                           std::to_string(cfg_.load_balancer.port)});
    }
    if (cfg_.frontend.present) {
      rows.push_back({"Front end", "`" + cfg_.frontend.dir + "` served at `" + cfg_.frontend.path + "`"});
    }
    const nlohmann::json& w = known_.value("window", nlohmann::json());
    if (w.is_object() && w["earliest"].is_string()) {
      rows.push_back({"Restorable window", w["earliest"].get<std::string>() + " to " + w["latest"].get<std::string>() +
                                               (w.value("gaps", 0) > 0 ? " with " + std::to_string(w.value("gaps", 0)) +
                                                                             " gap(s)"
                                                                       : ", no gaps")});
    } else if (cfg_.database.present) {
      rows.push_back({"Restorable window", "empty or unknown: see `" + Cmd("window") + "`"});
    }
    const nlohmann::json& b = known_.value("backups", nlohmann::json());
    for (const char* type : {"full", "incremental"}) {
      if (!b.is_object() || !b.contains(type) || !b[type].is_object()) continue;
      rows.push_back({std::string("Newest ") + type + " backup",
                      b[type].value("id", "") + ", finished " + b[type].value("finished_at", "")});
    }
    doc_.Table(std::move(rows));
  }

  void Strategy() {
    const ScheduleConfigSection& s = cfg_.schedule;
    doc_.Heading(2, "Backup strategy", "strategy");
    doc_.Paragraph("The agent (`" + Cmd("agent") + "`) runs these jobs; `" + Cmd("schedule") +
                   "` lists their next runs and `" + Cmd("jobs") + "` what ran. Times are in " + s.timezone + ".");
    std::vector<std::vector<std::string>> rows = {{"Job", "Schedule", "Next run"}};
    auto row = [&](const std::string& job, const std::string& text, const std::string& extra = "") {
      rows.push_back({job, text.empty() ? "not scheduled" : "`" + text + "`" + extra, NextRun(cfg_, text, facts_.now)});
    };
    row("full backup", s.full, s.window.empty() ? "" : ", inside the window `" + s.window + "`");
    row("incremental backup", s.incremental);
    row("expire", s.expire);
    if (cfg_.offsite) row("copy to offsite", s.copy);
    row("verify the newest snapshot", s.verify);
    row("restore drill", s.drill, s.drill.empty() ? "" : ", point: " + s.drill_point);
    doc_.Table(std::move(rows));
    std::string retention = "Retention: " + std::to_string(cfg_.retention.days) + " days of point-in-time recovery";
    if (cfg_.offsite) {
      retention += "; the offsite repository keeps " +
                   std::to_string(cfg_.offsite->days > 0 ? cfg_.offsite->days : cfg_.retention.days) + " days";
    }
    doc_.Paragraph(retention + ". WAL reaches the repository continuously (archive_command" +
                   std::string(cfg_.agent.stream ? " and the agent's supervised `wal stream`" : "") + ").");
  }

  void Testing() {
    doc_.Heading(2, "Testing schedule", "testing");
    std::vector<std::vector<std::string>> rows = {{"Scenario", "Last test", "Next test", "State"}};
    auto add = [&](const std::string& name, const ScenarioTest& t) {
      rows.push_back({name, t.last, t.next, t.stale.empty() ? "current" : "**STALE**: " + t.stale});
    };
    add("1. Restore the database to a point in time", TestOf(cfg_, DrillKind::kRestore, facts_.drills, facts_.now));
    if (!cfg_.services.empty()) {
      add("2. A bad deployment", TestOf(cfg_, DrillKind::kRollback, facts_.drills, facts_.now));
    }
    add("3. Complete loss of the machine", Untested());
    add("4. One resource deleted", Untested());
    doc_.Table(std::move(rows));
  }

  static ScenarioTest Untested() {
    return {"never", "no drill rehearses this scenario yet", "never tested: no drill rehearses this scenario yet"};
  }

  void TestLines(const ScenarioTest& t) {
    doc_.Paragraph("**Last test:** " + t.last);
    doc_.Paragraph("**Next test:** " + t.next);
    if (!t.stale.empty()) doc_.Paragraph("**STALE:** " + t.stale);
  }

  void Step(int n, const std::string& what, const std::string& checks, const std::vector<std::string>& commands) {
    doc_.Heading(3, "Step " + std::to_string(n) + ": " + what);
    if (!checks.empty()) doc_.Paragraph(checks);
    std::string code;
    for (const auto& c : commands) code += c + "\n";
    if (!code.empty()) doc_.Code(code);
  }

  void ScenarioRestore() {
    doc_.Heading(2, "Scenario 1: restore the database to a point in time", "scenario-1");
    doc_.Paragraph("When: data was deleted or damaged (a bad query, a bad migration, corruption) and production "
                   "must go back to the instant before it. The services keep serving until the cutover.");
    TestLines(TestOf(cfg_, DrillKind::kRestore, facts_.drills, facts_.now));
    const DrillRecord* d = Newest(facts_.drills, DrillKind::kRestore);
    doc_.Paragraph("Objectives: RTO " + Objective(cfg_.objectives.rto_seconds) + " (last measured: " +
                   (d ? Seconds(d->rto_seconds) : std::string("never")) + "), RPO " +
                   Objective(cfg_.objectives.rpo_seconds) + " (last measured: " +
                   (d ? Seconds(d->rpo_seconds) : std::string("never")) + ").");
    if (!cfg_.database.present) {
      doc_.Paragraph("This config has no [database]: there is nothing to recover.");
      return;
    }
    Step(1, "see what can be restored",
         "Prints the earliest and latest restorable instants of production's timeline and any gap; a target "
         "outside it is refused.",
         {Cmd("window")});
    Step(2, "choose the target",
         "The instant just before the damage, with its zone. Set TARGET to it; left unset, it is one minute "
         "ago.",
         {"TARGET=\"${TARGET:-$(date -u -d '1 minute ago' +%Y-%m-%dT%H:%M:%SZ)}\""});
    Step(3, "print the plan",
         "Resolves the snapshot, the WAL, the new instance's name and port, and changes nothing.",
         {Cmd("recover --time \"$TARGET\" --dry-run")});
    std::string gate = cfg_.services.empty() ? "" : ", points the services at it behind the health gate";
    Step(4, "recover",
         "Restores into a new instance beside production, replays WAL to the target, verifies the data (checksums, "
         "indexes, critical tables, row counts)" +
             gate +
             ", and re-arms protection on the new timeline. Each step is journaled: after an interruption, `" +
             Cmd("resume") + "` finishes it.",
         {Cmd("recover --time \"$TARGET\" --yes")});
    Step(5, "confirm", "Every check ok: production, WAL protection, backups, the window.", {Cmd("status")});
    Step(6, "clean up",
         "After " + Objective(cfg_.recovery.cleanup_after_seconds) +
             " ([recovery] cleanup_after): a final snapshot of the retired cluster, then it is dropped and the "
             "recovered instance takes production's name.",
         {Cmd("cleanup --yes")});
  }

  void ScenarioDeploy() {
    if (cfg_.services.empty()) return;
    doc_.Heading(2, "Scenario 2: a bad deployment or a failed migration", "scenario-2");
    doc_.Paragraph("When: a new release fails or its migration damaged data.");
    TestLines(TestOf(cfg_, DrillKind::kRollback, facts_.drills, facts_.now));
    const ServiceConfig& s = cfg_.services.front();
    Step(1, "roll the service back",
         "Replaces the replicas with the previous revision behind the health gate; refused, with the restore point "
         "to recover to, when the revision's migrations cannot be reverted.",
         {Cmd("revisions " + Shell(s.name)), Cmd("rollback " + Shell(s.name) + " --yes")});
    Step(2, "after a failed migration: recover to the deploy's restore point",
         "The deploy took a restore point before its migrations ran: set RESTORE_POINT to the name `migrations` "
         "lists for it. The recovery proceeds as in Scenario 1.",
         {Cmd("migrations " + Shell(s.name)), Cmd("recover --restore-point \"$RESTORE_POINT\" --yes")});
    if (cfg_.services.size() > 1) {
      std::string others;
      for (size_t i = 1; i < cfg_.services.size(); ++i) others += (others.empty() ? "" : ", ") + cfg_.services[i].name;
      doc_.Paragraph("For the other services (" + others + ") the same commands take their name.");
    }
  }

  void ScenarioLoss() {
    doc_.Heading(2, "Scenario 3: complete loss of the machine", "scenario-3");
    doc_.Paragraph("When: the machine, its disks and everything on them are gone; the repository survived.");
    TestLines(Untested());
    std::string loc = cfg_.offsite ? cfg_.offsite->location() : cfg_.repository.location();
    Step(1, "read this runbook on the new machine",
         "It is stored in the repository with every drill; only the repository's location and its key file are "
         "needed (S3 credentials from the environment).",
         {"lifeboat runbook --from-repository " + Shell(cfg_.repository.location()) + " --key KEY_FILE"});
    if (cfg_.offsite) doc_.Paragraph("Or from the offsite repository: `" + loc + "`.");
    Step(2, "restore the config",
         "Write the appendix below to `" + cfg_.file + "`, and the repository's key " +
             (cfg_.repository.passphrase_file.empty() ? std::string("into LIFEBOAT_PASSPHRASE.")
                                                      : "to `" + cfg_.repository.passphrase_file + "`."),
         {});
    if (!cfg_.database.present) return;
    Step(3, "recover the database",
         "Restores the newest point the repository holds into a new instance and verifies it.",
         {Cmd("restore --latest --instance " + Shell(cfg_.database.name + "-rebuilt")),
          Cmd("cutover --instance " + Shell(cfg_.database.name + "-rebuilt") + " --yes")});
    Step(4, "start the stack", "Services, load balancer and front end, as defined; idempotent.",
         {Cmd("up"), Cmd("status")});
  }

  void ScenarioResource() {
    doc_.Heading(2, "Scenario 4: one resource deleted", "scenario-4");
    doc_.Paragraph("When: one part of the stack is gone and the rest still runs. `" + Cmd("up") +
                   "` brings back whatever is missing and leaves what runs alone.");
    TestLines(Untested());
    std::vector<std::vector<std::string>> rows = {{"Resource", "Command"}};
    for (const ServiceConfig& s : cfg_.services) {
      rows.push_back({"service " + s.name, "`" + Cmd("service start " + Shell(s.name)) + "`"});
    }
    if (cfg_.load_balancer.present) rows.push_back({"load balancer", "`" + Cmd("lb start") + "`"});
    if (cfg_.frontend.present) {
      rows.push_back({"front end", "`" + Cmd("frontend versions") + "`, then `" + Cmd("frontend activate ID") + "`"});
    }
    for (const ServiceConfig& s : cfg_.services) {
      if (!s.secret.empty()) rows.push_back({"secret " + s.secret, "`" + Cmd("secret history " + Shell(s.secret)) + "`"});
    }
    if (cfg_.database.present) rows.push_back({"database", "Scenario 1 with `recover --latest --yes`"});
    doc_.Table(std::move(rows));
  }

  void Contacts() {
    doc_.Heading(2, "Contacts", "contacts");
    if (cfg_.contacts.empty()) {
      doc_.Paragraph("None configured: add [[contacts]] (name, email, role) to the config.");
      return;
    }
    std::vector<std::vector<std::string>> rows = {{"Name", "Role", "Email"}};
    for (const ContactConfig& c : cfg_.contacts) rows.push_back({c.name, c.role, c.email});
    doc_.Table(std::move(rows));
  }

  void Appendix() {
    doc_.Heading(2, "Appendix: the config", "config");
    doc_.Paragraph("`" + cfg_.file + "` (recovery fingerprint `" + cfg_.recovery_fingerprint + "`):");
    doc_.Code(facts_.config_text, "toml");
  }

  const Config& cfg_;
  const RunbookFacts& facts_;
  const nlohmann::json known_;  // facts_.repository, an object
  Document doc_;
};

Bytes AsBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

}  // namespace

ScenarioTest TestOf(const Config& cfg, DrillKind kind, const std::vector<DrillRecord>& drills, UnixNanos now) {
  ScenarioTest t;
  Result<schedule::Zone> zone = schedule::Zone::Named(cfg.schedule.timezone);
  const schedule::Zone utc = *schedule::Zone::Named("UTC");
  const schedule::Zone& z = zone.ok() ? *zone : utc;
  // Only restore drills are scheduled; a rollback drill is run by hand.
  const std::string& text = kind == DrillKind::kRestore ? cfg.schedule.drill : std::string();
  t.next = kind == DrillKind::kRestore ? NextRun(cfg, text, now) : "not scheduled";
  if (t.next == "not scheduled") {
    t.next += kind == DrillKind::kRestore ? ": set [schedule] drill, or run `lifeboat drill`"
                                          : ": run `lifeboat drill rollback`";
  } else {
    t.next += " ([schedule] drill `" + text + "`)";
  }
  const DrillRecord* d = Newest(drills, kind);
  if (d == nullptr) {
    t.last = "never";
    t.stale = "never tested";
    return t;
  }
  Result<UnixNanos> at = ParseTimestamp(d->finished_at.empty() ? d->started_at : d->finished_at);
  std::string figures = kind == DrillKind::kRestore
                            ? "RTO " + Seconds(d->rto_seconds) + ", RPO " + Seconds(d->rpo_seconds)
                            : "detected in " + Seconds(d->detect_seconds) + ", rolled back in " +
                                  Seconds(d->rollback_seconds);
  t.last = (at.ok() ? When(*at, z) : d->finished_at) + " — drill " + d->id + ", " + (d->passed ? "passed" : "failed") +
           ", " + figures;
  std::vector<std::string> why;
  if (!d->passed) why.push_back("the last test failed: " + d->reason);
  int64_t interval = IntervalSeconds(text, cfg.schedule.timezone, now);
  int64_t limit = interval > 0 ? interval : kYearSeconds;
  if (at.ok()) {
    double age = static_cast<double>(now - *at) / 1e9;
    if (age > kStaleFactor * static_cast<double>(limit)) {
      why.push_back("the last test is " + FormatDuration(age) + " old, more than " +
                    (interval > 0 ? "the drill schedule's " + FormatDuration(static_cast<double>(interval))
                                  : std::string("a year (no drill is scheduled)")));
    }
  }
  if (d->config_fingerprint.empty()) {
    why.push_back("the last test recorded no configuration");
  } else if (d->config_fingerprint != cfg.recovery_fingerprint) {
    why.push_back("the configuration changed since the last test (fingerprint " + d->config_fingerprint + ", now " +
                  cfg.recovery_fingerprint + ")");
  }
  for (const auto& w : why) t.stale += (t.stale.empty() ? "" : "; ") + w;
  return t;
}

Document LivingRunbook(const Config& cfg, const RunbookFacts& facts) { return Writer(cfg, facts).Write(); }

Result<RunbookFacts> GatherRunbookFacts(const Config& cfg, Repository* repo, const std::string& served_by,
                                        const std::string& repository_error, UnixNanos now) {
  RunbookFacts facts;
  facts.now = now;
  GatherRepositoryFacts(cfg, repo, served_by, repository_error, &facts.repository);
  if (repo != nullptr && facts.repository["repository"].value("up", false)) {
    LB_ASSIGN_OR_RETURN(facts.drills, ListDrills(*repo));
  }
  LB_ASSIGN_OR_RETURN(Bytes text, ReadFile(cfg.file));
  facts.config_text.assign(text.begin(), text.end());
  return facts;
}

Status StoreRunbook(const Config& cfg, const Document& doc, Repository& repo) {
  LB_RETURN_IF_ERROR(repo.PutNamed(kRunbookStream, kRunbookName, AsBytes(doc.ToMarkdown())));
  return repo.PutNamed(kRunbookStream, kRunbookHtmlName, AsBytes(doc.ToHtml("Runbook: " + cfg.database.name)));
}

Result<std::string> StoredRunbook(Repository& repo, const std::string& format) {
  const char* name = format == "html" ? kRunbookHtmlName : kRunbookName;
  Result<Bytes> b = repo.GetNamed(kRunbookStream, name);
  if (!b.ok()) {
    if (b.status().code() != Code::kNotFound) return b.status();
    return Status::NotFound("the repository holds no runbook",
                            "'lifeboat runbook --store' writes it; every drill and every agent start does too");
  }
  return std::string(b->begin(), b->end());
}

}  // namespace lifeboat::runbook
