// The living runbook (runbook/living_runbook.h) against a fake clock: each scenario's last and
// next test, when a section is stale and why, the commands it writes for this stack, and the
// configuration fingerprint the drills record; the document's two renderings.
#include "runbook/living_runbook.h"

#include <gtest/gtest.h>

namespace lifeboat::runbook {
namespace {

UnixNanos At(const char* iso) { return *ParseTimestamp(iso); }

constexpr const char* kConfig = R"(
[repository]
path = "/srv/lifeboat/repo"   # the primary
[database]
data_dir = "/srv/pg/main"
port = 5433
[objectives]
rto = "15m"
rpo = "1m"
[service.shop]
command = "/srv/shop --port {port}"
secret = "db"
[schedule]
timezone = "America/New_York"
drill = "daily 05:00"
)";

Config Parse(const std::string& text) {
  Result<Config> cfg = ParseConfig(text, "/srv/stack/lifeboat.toml");
  EXPECT_TRUE(cfg.ok()) << cfg.status().message();
  return *cfg;
}

DrillRecord Restore(const std::string& id, const std::string& finished, bool passed, const std::string& fingerprint) {
  DrillRecord d;
  d.id = id;
  d.kind = DrillKind::kRestore;
  d.started_at = finished;
  d.finished_at = finished;
  d.passed = passed;
  d.reason = passed ? "" : "an objective was missed";
  d.rto_seconds = 12.34;
  d.rpo_seconds = 0.4;
  d.config_fingerprint = fingerprint;
  return d;
}

TEST(LivingRunbookTest, TheFingerprintFollowsWhatARecoveryDependsOnOnly) {
  Config cfg = Parse(kConfig);
  ASSERT_EQ(cfg.recovery_fingerprint.size(), 16u);
  // Comments, layout, the schedule and the contacts do not change it.
  std::string same = std::string(kConfig) + "\n# a comment\n[[contacts]]\nname = \"Ana\"\nemail = \"ana@example.com\"\n";
  same.replace(same.find("daily 05:00"), 11, "weekly sun 05:00");
  same.replace(same.find("   # the primary"), 16, "");
  EXPECT_EQ(Parse(same).recovery_fingerprint, cfg.recovery_fingerprint);
  std::string moved = kConfig;
  moved.replace(moved.find("port = 5433"), 11, "port = 5434");
  EXPECT_NE(Parse(moved).recovery_fingerprint, cfg.recovery_fingerprint);
}

TEST(LivingRunbookTest, AScenarioNeverTestedIsStaleAndSaysWhenItsNextTestIs) {
  Config cfg = Parse(kConfig);
  // 2026-12-03 12:00 UTC is 07:00 in New York: the next 05:00 there is tomorrow's.
  ScenarioTest t = TestOf(cfg, DrillKind::kRestore, {}, At("2026-12-03T12:00:00Z"));
  EXPECT_EQ(t.last, "never");
  EXPECT_EQ(t.stale, "never tested");
  EXPECT_EQ(t.next, "2026-12-04 05:00:00 EST (2026-12-04T10:00:00Z) ([schedule] drill `daily 05:00`)");
  ScenarioTest rb = TestOf(cfg, DrillKind::kRollback, {}, At("2026-12-03T12:00:00Z"));
  EXPECT_EQ(rb.next, "not scheduled: run `lifeboat drill rollback`");
}

TEST(LivingRunbookTest, TheNewestDrillIsTheLastTestAndItIsCurrentUnderTheSameConfig) {
  Config cfg = Parse(kConfig);
  std::vector<DrillRecord> drills = {Restore("d-old", "2026-12-01T10:00:00Z", false, cfg.recovery_fingerprint),
                                     Restore("d-new", "2026-12-03T10:00:05Z", true, cfg.recovery_fingerprint)};
  ScenarioTest t = TestOf(cfg, DrillKind::kRestore, drills, At("2026-12-03T12:00:00Z"));
  EXPECT_EQ(t.last, "2026-12-03 05:00:05 EST (2026-12-03T10:00:05Z) — drill d-new, passed, RTO 12.3 s, RPO 0.4 s");
  EXPECT_EQ(t.stale, "");
}

TEST(LivingRunbookTest, ALastTestOlderThanTheScheduleOrUnderAnotherConfigIsStale) {
  Config cfg = Parse(kConfig);
  std::vector<DrillRecord> drills = {Restore("d1", "2026-12-01T10:00:00Z", true, cfg.recovery_fingerprint)};
  // A daily drill: stale past 1.1 days (26.4 h); 2 days and 2 hours have passed.
  ScenarioTest t = TestOf(cfg, DrillKind::kRestore, drills, At("2026-12-03T12:00:00Z"));
  EXPECT_EQ(t.stale, "the last test is 2d2h old, more than the drill schedule's 1d");
  // Within the schedule, but the database moved since.
  std::string moved = kConfig;
  moved.replace(moved.find("port = 5433"), 11, "port = 5434");
  Config changed = Parse(moved);
  t = TestOf(changed, DrillKind::kRestore, drills, At("2026-12-01T12:00:00Z"));
  EXPECT_EQ(t.stale, "the configuration changed since the last test (fingerprint " + cfg.recovery_fingerprint +
                         ", now " + changed.recovery_fingerprint + ")");
  // Without a drill schedule a year is the limit (times 1.1, as every interval), as the seed's
  // annual restore test; a failed last test is stale too.
  Config unscheduled = Parse(std::string(kConfig).replace(std::string(kConfig).find("drill = \"daily 05:00\""), 21, ""));
  drills[0].config_fingerprint = unscheduled.recovery_fingerprint;
  drills[0].passed = false;
  drills[0].reason = "an objective was missed";
  t = TestOf(unscheduled, DrillKind::kRestore, drills, At("2028-01-15T00:00:00Z"));
  EXPECT_EQ(t.next, "not scheduled: set [schedule] drill, or run `lifeboat drill`");
  EXPECT_EQ(t.stale, "the last test failed: an objective was missed; the last test is 409d14h old, more than a year "
                     "(no drill is scheduled)");
  drills[0].config_fingerprint = "";
  t = TestOf(unscheduled, DrillKind::kRestore, drills, At("2027-01-01T00:00:00Z"));
  EXPECT_EQ(t.stale, "the last test failed: an objective was missed; the last test recorded no configuration");
}

// The lines of the Markdown between a heading and the next heading of level 2.
std::string Section(const std::string& md, const std::string& heading) {
  size_t from = md.find("\n## " + heading);
  if (from == std::string::npos) return "";
  size_t to = md.find("\n## ", from + 1);
  return md.substr(from + 1, to == std::string::npos ? std::string::npos : to - from - 1);
}

TEST(LivingRunbookTest, TheRunbookNamesThisStacksCommandsTestsAndConfig) {
  Config cfg = Parse(kConfig);
  RunbookFacts facts;
  facts.now = At("2026-12-03T12:00:00Z");
  facts.config_text = kConfig;
  facts.repository = nlohmann::json::parse(R"({
    "repository": {"name": "primary", "location": "/srv/lifeboat/repo", "up": true, "error": "", "served_by": "primary"},
    "backups": {"full": {"id": "ab12cd34ef56", "started_at": "2026-12-03T08:00:00Z", "finished_at": "2026-12-03T08:00:09Z"},
                "incremental": null},
    "window": {"earliest": "2026-12-01T08:00:09Z", "latest": "2026-12-03T11:59:58Z", "gaps": 0}})");
  facts.drills = {Restore("d-new", "2026-12-03T10:00:05Z", true, cfg.recovery_fingerprint)};
  std::string md = LivingRunbook(cfg, facts).ToMarkdown();
  EXPECT_EQ(Section(md, "Scenario 1"),
            "## Scenario 1: restore the database to a point in time\n"
            "\n"
            "When: data was deleted or damaged (a bad query, a bad migration, corruption) and production must go back "
            "to the instant before it. The services keep serving until the cutover.\n"
            "\n"
            "**Last test:** 2026-12-03 05:00:05 EST (2026-12-03T10:00:05Z) — drill d-new, passed, RTO 12.3 s, RPO 0.4 s\n"
            "\n"
            "**Next test:** 2026-12-04 05:00:00 EST (2026-12-04T10:00:00Z) ([schedule] drill `daily 05:00`)\n"
            "\n"
            "Objectives: RTO 15m (last measured: 12.3 s), RPO 1m (last measured: 0.4 s).\n"
            "\n"
            "### Step 1: see what can be restored\n"
            "\n"
            "Prints the earliest and latest restorable instants of production's timeline and any gap; a target outside "
            "it is refused.\n"
            "\n"
            "```sh\nlifeboat -c /srv/stack/lifeboat.toml window\n```\n"
            "\n"
            "### Step 2: choose the target\n"
            "\n"
            "The instant just before the damage, with its zone. Set TARGET to it; left unset, it is one minute ago.\n"
            "\n"
            "```sh\nTARGET=\"${TARGET:-$(date -u -d '1 minute ago' +%Y-%m-%dT%H:%M:%SZ)}\"\n```\n"
            "\n"
            "### Step 3: print the plan\n"
            "\n"
            "Resolves the snapshot, the WAL, the new instance's name and port, and changes nothing.\n"
            "\n"
            "```sh\nlifeboat -c /srv/stack/lifeboat.toml recover --time \"$TARGET\" --dry-run\n```\n"
            "\n"
            "### Step 4: recover\n"
            "\n"
            "Restores into a new instance beside production, replays WAL to the target, verifies the data (checksums, "
            "indexes, critical tables, row counts), points the services at it behind the health gate, and re-arms "
            "protection on the new timeline. Each step is journaled: after an interruption, `lifeboat -c "
            "/srv/stack/lifeboat.toml resume` finishes it.\n"
            "\n"
            "```sh\nlifeboat -c /srv/stack/lifeboat.toml recover --time \"$TARGET\" --yes\n```\n"
            "\n"
            "### Step 5: confirm\n"
            "\n"
            "Every check ok: production, WAL protection, backups, the window.\n"
            "\n"
            "```sh\nlifeboat -c /srv/stack/lifeboat.toml status\n```\n"
            "\n"
            "### Step 6: clean up\n"
            "\n"
            "After 1d ([recovery] cleanup_after): a final snapshot of the retired cluster, then it is dropped and the "
            "recovered instance takes production's name.\n"
            "\n"
            "```sh\nlifeboat -c /srv/stack/lifeboat.toml cleanup --yes\n```\n");
  std::string testing = Section(md, "Testing schedule");
  EXPECT_NE(testing.find("| 1. Restore the database to a point in time | 2026-12-03 05:00:05 EST (2026-12-03T10:00:05Z) "
                         "— drill d-new, passed, RTO 12.3 s, RPO 0.4 s | 2026-12-04 05:00:00 EST "
                         "(2026-12-04T10:00:00Z) ([schedule] drill `daily 05:00`) | current |"),
            std::string::npos)
      << testing;
  EXPECT_NE(testing.find("| 2. A bad deployment | never | not scheduled: run `lifeboat drill rollback` | **STALE**: "
                         "never tested |"),
            std::string::npos)
      << testing;
  std::string overview = Section(md, "Overview");
  EXPECT_NE(overview.find("| Restorable window | 2026-12-01T08:00:09Z to 2026-12-03T11:59:58Z, no gaps |"),
            std::string::npos)
      << overview;
  EXPECT_NE(overview.find("| Newest full backup | ab12cd34ef56, finished 2026-12-03T08:00:09Z |"), std::string::npos);
  EXPECT_NE(Section(md, "Scenario 2").find("lifeboat -c /srv/stack/lifeboat.toml rollback shop --yes\n"),
            std::string::npos);
  EXPECT_NE(Section(md, "Appendix").find("```toml\n" + std::string(kConfig) + "```\n"), std::string::npos);
  EXPECT_NE(Section(md, "Contacts").find("None configured"), std::string::npos);
}

TEST(LivingRunbookTest, AConfigPathWithSpacesIsQuotedAndHtmlIsEscaped) {
  Result<Config> cfg = ParseConfig(kConfig, "/srv/my stack/it's.toml");
  ASSERT_TRUE(cfg.ok());
  RunbookFacts facts;
  facts.now = At("2026-12-03T12:00:00Z");
  facts.config_text = "a <b> & \"c\"";
  Document doc = LivingRunbook(*cfg, facts);
  std::string md = doc.ToMarkdown();
  EXPECT_NE(md.find("lifeboat -c '/srv/my stack/it'\\''s.toml' window\n"), std::string::npos);
  // A repository that did not answer is said, not hidden.
  EXPECT_NE(md.find("| **Unknown** | the repository did not answer (): its backups, window and drills are missing "
                    "below |"),
            std::string::npos);
  std::string html = doc.ToHtml("Runbook: <main>");
  EXPECT_NE(html.find("<title>Runbook: &lt;main&gt;</title>"), std::string::npos);
  EXPECT_NE(html.find("<pre><code>a &lt;b&gt; &amp; &quot;c&quot;</code></pre>"), std::string::npos);
  EXPECT_NE(html.find("<td><strong>Unknown</strong></td>"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);  // nothing loaded from elsewhere
}

}  // namespace
}  // namespace lifeboat::runbook
