#include "agent/dashboard.h"

#include <algorithm>
#include <cstdio>

#include "base/markup.h"
#include "base/time.h"

namespace lifeboat::agent {

namespace {

using nlohmann::json;

std::string E(const std::string& s) { return EscapeMarkup(s); }

std::string Str(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

std::optional<UnixNanos> TimeOf(const json& j, const char* key) {
  Result<UnixNanos> t = ParseTimestamp(Str(j, key));
  return t.ok() ? std::optional<UnixNanos>(*t) : std::nullopt;
}

std::string Seconds(const json& v) {
  if (!v.is_number()) return "—";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f s", v.get<double>());
  return buf;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

std::string Age(UnixNanos then, UnixNanos now) {
  return FormatDuration(std::max(0.0, static_cast<double>(now - then) / 1e9)) + " ago";
}

constexpr const char* kStyle =
    "*{box-sizing:border-box}body{font-family:system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa;"
    "line-height:1.4}header{background:#1b1f24;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;"
    "align-items:baseline}header b{font-size:1.1rem}nav a{color:#c9d1d9;margin-right:.9rem;text-decoration:none}"
    "nav a.on{color:#fff;border-bottom:2px solid #fff}main{max-width:72rem;margin:0 auto;padding:1rem}"
    ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(15rem,1fr));gap:.8rem}"
    ".card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.7rem .9rem;min-width:0}"
    ".card h3{margin:0 0 .3rem;font-size:.85rem;color:#57606a;font-weight:600;text-transform:uppercase}"
    ".big{font-size:1.4rem;font-weight:600}.ok{color:#1a7f37}.bad{color:#cf222e}.warn{color:#9a6700}"
    ".verdict{padding:.8rem 1rem;border-radius:6px;font-size:1.3rem;font-weight:600;margin-bottom:1rem}"
    ".verdict.ok{background:#dafbe1}.verdict.bad{background:#ffebe9}"
    "section{margin-top:1.2rem}h2{font-size:1.1rem;margin:0 0 .4rem}"
    ".scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;background:#fff;width:100%}"
    "th,td{border:1px solid #d0d7de;padding:.25rem .45rem;text-align:left;vertical-align:top;font-size:.9rem}"
    "th{background:#f3f5f7}code{font-family:ui-monospace,monospace;font-size:.88em;word-break:break-all}"
    "svg{width:100%;height:auto;display:block;background:#fff;border:1px solid #d0d7de;border-radius:6px}"
    "ul.steps{margin:0;padding-left:1.1rem}.muted{color:#57606a;font-size:.85rem}"
    "pre{background:#f3f5f7;padding:.6rem .8rem;overflow-x:auto;border-radius:4px}";

std::string Layout(const DashboardInput& in, const std::string& active, const std::string& heading,
                   const std::string& body) {
  std::string nav;
  for (const auto& [path, name] : std::vector<std::pair<std::string, std::string>>{
           {"/", "Overview"}, {"/drills", "Drills"}, {"/runs", "Runs and jobs"}, {"/runbook", "Runbook"}}) {
    nav += "<a href=\"" + path + "\"" + (path == active ? " class=\"on\"" : "") + ">" + name + "</a>";
  }
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" href=\"data:,\">"
         "<title>" +
         E(heading + " — " + in.title) + "</title><style>" + kStyle +
         "</style></head><body>\n<header><b>lifeboat: " + E(in.title) + "</b><nav>" + nav +
         "</nav></header>\n<main>\n" + body + "<p class=\"muted\">As observed at <span id=\"rendered-at\">" +
         FormatIso8601(in.observed.now) +
         "</span>; this page reloads every 10 s.</p>\n</main>\n"
         "<script>setTimeout(function(){location.reload()},10000)</script>\n</body></html>\n";
}

std::string Table(const std::vector<std::string>& header, const std::vector<std::string>& rows,
                  const std::string& id = "") {
  std::string out = "<div class=\"scroll\"><table" + (id.empty() ? "" : " id=\"" + id + "\"") + "><tr>";
  for (const auto& h : header) out += "<th>" + E(h) + "</th>";
  out += "</tr>";
  for (const auto& r : rows) out += r;
  return out + "</table></div>\n";
}

std::string Cells(const std::vector<std::string>& html_cells, const std::string& attrs = "") {
  std::string out = "<tr" + attrs + ">";
  for (const auto& c : html_cells) out += "<td>" + c + "</td>";
  return out + "</tr>";
}

// ---- Overview ----

std::string Verdict(const DashboardInput& in) {
  const json& st = in.observed.status;
  std::vector<std::string> why;
  for (const FiringAlert& a : in.firing) why.push_back(a.alert + ": " + a.summary);
  if (why.empty() && st.is_object() && st.contains("checks")) {
    for (const auto& c : st["checks"]) {
      if (Str(c, "state") == "firing") why.push_back(Str(c, "name") + ": " + Str(c, "summary"));
    }
  }
  if (!st.is_object()) {
    return "<div class=\"verdict bad\" id=\"verdict\">Not known yet: the first status probe has not answered</div>\n";
  }
  if (why.empty()) return "<div class=\"verdict ok\" id=\"verdict\">Protected: every check is ok</div>\n";
  std::string list;
  for (const auto& w : why) list += "<li>" + E(w) + "</li>";
  return "<div class=\"verdict bad\" id=\"verdict\">Not protected</div>\n<ul>" + list + "</ul>\n";
}

std::string BackupCard(const json& b, const std::string& what, UnixNanos now) {
  std::string body = "<span class=\"big\">none</span>";
  std::optional<UnixNanos> at = TimeOf(b, "finished_at");
  if (at) {
    body = "<span class=\"big\">" + E(Age(*at, now)) + "</span><br><code>" + E(Str(b, "id")) + "</code> " +
           E(Str(b, "finished_at"));
  }
  return "<div class=\"card\"><h3>Newest " + E(what) + " backup</h3>" + body + "</div>";
}

std::string Cards(const DashboardInput& in) {
  const json& st = in.observed.status.is_object() ? in.observed.status : json::object();
  const Observations& o = in.observed;
  std::string out = "<div class=\"cards\">";
  // RPO exposure: the WAL the repository does not hold yet, against the objective.
  const json& lag = st.contains("protection") ? st["protection"].value("wal_lag_seconds", json()) : json();
  double rpo = static_cast<double>(o.rpo_objective_seconds);
  std::string cls = !lag.is_number() ? "warn" : lag.get<double>() > rpo ? "bad" : "ok";
  out += "<div class=\"card\"><h3>RPO exposure (WAL lag)</h3><span class=\"big " + cls + "\" id=\"wal-lag\">" +
         (lag.is_number() ? E(FormatDuration(lag.get<double>())) : std::string("unknown")) +
         "</span><br>objective " + E(FormatDuration(rpo)) + "</div>";
  const json& backups = st.value("backups", json::object());
  out += BackupCard(backups.value("full", json()), "full", o.now);
  out += BackupCard(backups.value("incremental", json()), "incremental", o.now);
  const json& d = st.value("drill", json());
  std::string drill = "<span class=\"big\">never</span>";
  if (d.is_object()) {
    bool passed = d.value("passed", false);
    drill = "<span class=\"big " + std::string(passed ? "ok" : "bad") + "\">" + (passed ? "passed" : "FAILED") +
            "</span><br><code>" + E(Str(d, "id")) + "</code> RTO " + E(Seconds(d.value("rto_seconds", json()))) +
            " (objective " + E(FormatDuration(static_cast<double>(o.rto_objective_seconds))) + "), RPO " +
            E(Seconds(d.value("rpo_seconds", json())));
  }
  out += "<div class=\"card\"><h3>Newest restore drill</h3>" + drill + "</div>";
  return out + "</div>\n";
}

// The restorable window as a bar from its earliest to its latest instant: each range green,
// what no range covers red, each database snapshot a tick.
std::string WindowBar(const DashboardInput& in) {
  const json& w = in.observed.window;
  std::optional<UnixNanos> from = TimeOf(w, "earliest"), to = TimeOf(w, "latest");
  int snapshots = 0;
  if (in.observed.snapshots.is_array()) {
    for (const auto& s : in.observed.snapshots) snapshots += Str(s, "kind") == "postgresql" ? 1 : 0;
  }
  std::string head = "<section><h2>Restorable window</h2>";
  if (!from || !to) {
    return head + "<p id=\"window\">empty or not known yet (<span id=\"snapshot-count\">" +
           std::to_string(snapshots) + "</span> database snapshots)</p></section>\n";
  }
  const double width = 1000, x0 = 10, span = width - 2 * x0;
  double total = std::max<double>(1, static_cast<double>(*to - *from));
  auto X = [&](UnixNanos t) {
    return x0 + span * std::clamp(static_cast<double>(t - *from) / total, 0.0, 1.0);
  };
  std::string svg = "<svg viewBox=\"0 0 1000 56\" role=\"img\" aria-label=\"restorable window\">"
                    "<rect x=\"10\" y=\"14\" width=\"980\" height=\"24\" fill=\"#cf222e\"><title>not restorable"
                    "</title></rect>";
  if (w.contains("ranges")) {
    for (const auto& r : w["ranges"]) {
      std::optional<UnixNanos> a = TimeOf(r, "from"), b = TimeOf(r, "to");
      if (!a || !b) continue;
      svg += "<rect class=\"range\" x=\"" + Num(X(*a)) + "\" y=\"14\" width=\"" + Num(std::max(1.0, X(*b) - X(*a))) +
             "\" height=\"24\" fill=\"#2da44e\"><title>" + E(Str(r, "from") + " to " + Str(r, "to")) +
             "</title></rect>";
    }
  }
  if (in.observed.snapshots.is_array()) {
    for (const auto& s : in.observed.snapshots) {
      std::optional<UnixNanos> at = TimeOf(s, "finished_at");
      if (Str(s, "kind") != "postgresql" || !at || *at < *from || *at > *to) continue;
      svg += "<path class=\"snap\" d=\"M" + Num(X(*at)) + " 8 v36\" stroke=\"#0969da\" stroke-width=\"3\"><title>" +
             E("snapshot " + Str(s, "id").substr(0, 12) + " " + Str(s, "finished_at")) + "</title></path>";
    }
  }
  svg += "</svg>";
  size_t gaps = w.contains("gaps") && w["gaps"].is_array() ? w["gaps"].size() : 0;
  return head + svg + "<p id=\"window\">From <span id=\"window-earliest\">" + E(Str(w, "earliest")) +
         "</span> to <span id=\"window-latest\">" + E(Str(w, "latest")) + "</span> (" +
         E(FormatDuration(total / 1e9)) + "); <span id=\"window-gaps\" class=\"" + (gaps ? "bad" : "ok") + "\">" +
         std::to_string(gaps) + "</span> gap(s); <span id=\"snapshot-count\">" + std::to_string(snapshots) +
         "</span> database snapshots, marked in blue.</p></section>\n";
}

std::string Stack(const DashboardInput& in) {
  const json& st = in.observed.status.is_object() ? in.observed.status : json::object();
  std::vector<std::string> rows;
  if (st.contains("database")) {
    const json& db = st["database"];
    std::string production = st.contains("protection") ? Str(st["protection"], "production") : "";
    rows.push_back(Cells({"database", E(Str(db, "name")) + (production.empty() ? "" : " (instance " + E(production) + ")"),
                          E(Str(db, "status")), "port " + E(db.value("port", json()).dump())}));
  }
  if (st.contains("services")) {
    for (const auto& s : st["services"]) {
      int healthy = s.value("healthy", 0), desired = s.value("desired", 0);
      // The release serving: what the replicas run (two during a deploy's rolling step).
      std::vector<std::string> releases;
      if (s.contains("replicas")) {
        for (const auto& r : s["replicas"]) {
          std::string tag = Str(r, "release");
          if (!tag.empty() && std::find(releases.begin(), releases.end(), tag) == releases.end()) releases.push_back(tag);
        }
      }
      std::string serving;
      for (const auto& tag : releases) serving += (serving.empty() ? "release <code>" : ", <code>") + E(tag) + "</code>";
      if (s.value("crash_loop", false)) serving += serving.empty() ? "crash loop" : "; crash loop";
      rows.push_back(Cells({"service", E(Str(s, "name")),
                            std::string("<span class=\"") + (healthy >= desired ? "ok" : "bad") + "\">" +
                                std::to_string(healthy) + "/" + std::to_string(desired) + " healthy</span>",
                            serving}));
    }
  }
  if (st.contains("load_balancer")) {
    bool running = st["load_balancer"].value("running", false);
    rows.push_back(Cells({"load balancer", "haproxy",
                          std::string("<span class=\"") + (running ? "ok\">running" : "bad\">stopped") + "</span>",
                          E(Str(st["load_balancer"], "url"))}));
  }
  if (st.contains("frontend")) {
    const json& cur = st["frontend"].value("current", json());
    rows.push_back(Cells({"front end", E(Str(st["frontend"], "dir")), "serving",
                          cur.is_string() ? "<code>" + E(cur.get<std::string>().substr(0, 12)) + "</code>" : "none"}));
  }
  return "<section><h2>The stack</h2>" + Table({"What", "Name", "State", ""}, rows, "stack") + "</section>\n";
}

std::string Overview(const DashboardInput& in) {
  std::string body = Verdict(in) + Cards(in) + WindowBar(in);
  std::vector<std::string> jobs;
  const json& st = in.observed.status.is_object() ? in.observed.status : json::object();
  if (st.contains("next_jobs")) {
    for (const auto& j : st["next_jobs"]) {
      jobs.push_back(Cells({E(Str(j, "job")), "<code>" + E(Str(j, "schedule")) + "</code>",
                            E(Str(j, "next_local")) + (Str(j, "next").empty() ? "" : " (" + E(Str(j, "next")) + ")")}));
    }
  }
  body += "<section><h2>Next jobs</h2>" +
          (jobs.empty() ? std::string("<p id=\"next-jobs\">none scheduled ([schedule] is empty)</p>")
                        : Table({"Job", "Schedule", "Next"}, jobs, "next-jobs")) +
          "</section>\n";
  std::vector<std::string> alerts;
  for (const FiringAlert& a : in.firing) {
    alerts.push_back(Cells({E(a.alert), E(a.summary), E(FormatIso8601(a.since))}));
  }
  body += "<section><h2>Alerts firing</h2>" +
          (alerts.empty() ? std::string("<p id=\"alerts\">none</p>") : Table({"Alert", "Why", "Since"}, alerts, "alerts")) +
          "</section>\n";
  return Layout(in, "/", "Overview", body + Stack(in));
}

// ---- Drills ----

// A chart of one figure of every restore drill over time, with the objective as a line.
std::string DrillChart(const json& drills, const char* key, const std::string& name, double objective) {
  std::vector<std::tuple<UnixNanos, double, bool, std::string>> points;
  double top = objective;
  for (const auto& d : drills) {
    std::optional<UnixNanos> at = TimeOf(d, "started_at");
    if (Str(d, "kind") != "restore" || !at || !d.contains(key) || !d[key].is_number()) continue;
    points.emplace_back(*at, d[key].get<double>(), d.value("passed", false), Str(d, "id"));
    top = std::max(top, d[key].get<double>());
  }
  top = std::max(top * 1.15, 1e-3);
  std::string svg = "<svg viewBox=\"0 0 1000 220\" role=\"img\" aria-label=\"" + E(name) + " of each drill\">";
  const double left = 60, right = 990, y0 = 200, y1 = 12;
  auto Y = [&](double v) { return y0 - (y0 - y1) * v / top; };
  svg += "<line x1=\"60\" y1=\"200\" x2=\"990\" y2=\"200\" stroke=\"#57606a\"/>";
  svg += "<line class=\"objective\" x1=\"60\" x2=\"990\" y1=\"" + Num(Y(objective)) + "\" y2=\"" + Num(Y(objective)) +
         "\" stroke=\"#9a6700\" stroke-dasharray=\"6 4\"/><text x=\"64\" y=\"" + Num(Y(objective) - 4) +
         "\" font-size=\"13\" fill=\"#9a6700\">objective " + E(FormatDuration(objective)) + "</text>";
  svg += "<text x=\"4\" y=\"" + Num(y1 + 10) + "\" font-size=\"12\">" + E(FormatDuration(top)) +
         "</text><text x=\"4\" y=\"200\" font-size=\"12\">0</text>";
  if (!points.empty()) {
    auto [lo, hi] = std::minmax_element(points.begin(), points.end(),
                                        [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
    UnixNanos t0 = std::get<0>(*lo), t1 = std::get<0>(*hi);
    for (const auto& [at, v, passed, id] : points) {
      double x = t1 == t0 ? (left + right) / 2
                          : left + 10 + (right - left - 20) * static_cast<double>(at - t0) / static_cast<double>(t1 - t0);
      std::string title = "<title>" + E(id + ": " + Num(v) + " s, " + (passed ? "passed" : "failed")) + "</title>";
      svg += passed ? "<circle class=\"point passed\" cx=\"" + Num(x) + "\" cy=\"" + Num(Y(v)) +
                          "\" r=\"6\" fill=\"#2da44e\">" + title + "</circle>"
                    : "<path class=\"point failed\" d=\"M" + Num(x - 6) + " " + Num(Y(v) - 6) + " l12 12 m0 -12 l-12 12\" "
                      "stroke=\"#cf222e\" stroke-width=\"3\">" + title + "</path>";
    }
  }
  return "<section><h2>" + E(name) + " of each restore drill</h2>" + svg +
         "<p class=\"muted\">green circles passed, red crosses failed; the dashed line is the objective.</p></section>\n";
}

std::string Drills(const DashboardInput& in) {
  const json& drills = in.observed.drills.is_array() ? in.observed.drills : json::array();
  std::string body = DrillChart(drills, "rto_seconds", "RTO", static_cast<double>(in.observed.rto_objective_seconds)) +
                     DrillChart(drills, "rpo_seconds", "RPO", static_cast<double>(in.observed.rpo_objective_seconds));
  std::vector<std::string> rows;
  for (const auto& d : drills) {
    bool passed = d.value("passed", false);
    std::string checks;
    if (d.contains("checks")) {
      for (const auto& c : d["checks"]) {
        checks += "<li class=\"" + std::string(c.value("passed", false) ? "ok\">✓ " : "bad\">✗ ") + E(Str(c, "name")) +
                  (Str(c, "detail").empty() ? "" : ": " + E(Str(c, "detail"))) + "</li>";
      }
    }
    std::string figures = Str(d, "kind") == "rollback"
                              ? "detected in " + Seconds(d.value("detect_seconds", json())) + ", rolled back in " +
                                    Seconds(d.value("rollback_seconds", json()))
                              : "RTO " + Seconds(d.value("rto_seconds", json())) + ", RPO " +
                                    Seconds(d.value("rpo_seconds", json()));
    rows.push_back(Cells({"<code>" + E(Str(d, "id")) + "</code>", E(Str(d, "kind")), E(Str(d, "started_at")),
                          std::string("<span class=\"") + (passed ? "ok\">passed" : "bad\">FAILED") + "</span>" +
                              (Str(d, "reason").empty() ? "" : ": " + E(Str(d, "reason"))),
                          E(figures), "<ul class=\"steps\">" + checks + "</ul>"},
                         " id=\"drill-" + E(Str(d, "id")) + "\" data-passed=\"" + (passed ? "true" : "false") + "\""));
  }
  body += "<section><h2>Every drill, newest first</h2>" +
          Table({"Drill", "Kind", "Started", "Result", "Measured", "Checks"}, rows, "drills") + "</section>\n";
  return Layout(in, "/drills", "Drills", body);
}

// ---- Runs and jobs ----

std::string Runs(const DashboardInput& in) {
  std::vector<std::string> rows;
  for (const runbook::RunRecord& r : in.runs) {
    std::string steps;
    size_t done = 0;
    for (const runbook::StepRecord& s : r.steps) {
      done += s.state == runbook::StepState::kDone ? 1 : 0;
      std::string cls = s.state == runbook::StepState::kDone     ? "ok"
                        : s.state == runbook::StepState::kFailed ? "bad"
                        : s.state == runbook::StepState::kRunning ? "warn"
                                                                  : "muted";
      char secs[32];
      std::snprintf(secs, sizeof(secs), "%.1f s", s.seconds);
      steps += "<li class=\"" + cls + "\">" + E(s.name) + " — " + runbook::StepStateName(s.state) +
               (s.state == runbook::StepState::kPending ? "" : std::string(", ") + secs) +
               (s.detail.empty() ? "" : ": " + E(s.detail)) + "</li>";
    }
    std::string state = r.DisplayState();
    if (r.Effective() == runbook::RunState::kRunning) {
      state += " (" + std::to_string(done) + " of " + std::to_string(r.steps.size()) + " steps done)";
    }
    rows.push_back(Cells({"<code>" + E(r.id) + "</code>", E(r.kind), E(state) + (r.error.empty() ? "" : ": " + E(r.error)),
                          E(r.started_at), E(r.finished_at), "<ul class=\"steps\">" + steps + "</ul>"},
                         " id=\"run-" + E(r.id) + "\""));
  }
  std::string body = "<section><h2>Runs, newest first</h2>" +
                     Table({"Run", "Kind", "State", "Started", "Finished", "Steps"}, rows, "runs") + "</section>\n";
  std::vector<std::string> jobs;
  for (const JobRecord& j : in.observed.jobs) {
    std::string took;
    if (j.started_at && j.finished_at) took = FormatDuration(static_cast<double>(*j.finished_at - *j.started_at) / 1e9);
    std::string state = JobStateName(j.state);
    std::string cls = j.state == JobState::kSucceeded ? "ok" : j.state == JobState::kRunning ? "warn" : "bad";
    jobs.push_back(Cells({"<code>" + E(j.id) + "</code>", E(JobKindName(j.job)),
                          "<span class=\"" + cls + "\">" + E(state) + "</span>", E(FormatIso8601(j.due_at)), E(took),
                          E(j.detail)},
                         " id=\"job-" + E(j.id) + "\""));
  }
  body += "<section><h2>Scheduled jobs, newest first</h2>" +
          Table({"Job", "Kind", "State", "Due", "Took", "Detail"}, jobs, "jobs") + "</section>\n";
  return Layout(in, "/runs", "Runs and jobs", body);
}

}  // namespace

std::string RenderPage(const std::string& path, const DashboardInput& in) {
  if (path == "/") return Overview(in);
  if (path == "/drills") return Drills(in);
  if (path == "/runs") return Runs(in);
  if (path == "/runbook") {
    return Layout(in, "/runbook", "Runbook",
                  in.runbook_html.empty() ? "<p>The runbook is not written yet.</p>" : in.runbook_html);
  }
  return "";
}

std::string LoginPage(bool failed) {
  return std::string("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" "
                     "href=\"data:,\"><title>lifeboat: "
                     "sign in</title><style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:3rem auto;"
                     "padding:0 1rem}input{width:100%;padding:.4rem;margin:.4rem 0}</style></head><body>"
                     "<h1>lifeboat</h1>") +
         (failed ? "<p>That token is not the one.</p>" : "") +
         "<form method=\"post\" action=\"/login\"><label>Token ([agent] token_file)<input type=\"password\" "
         "name=\"token\" autocomplete=\"current-password\"></label><input type=\"submit\" value=\"Sign in\"></form>"
         "</body></html>\n";
}

}  // namespace lifeboat::agent
