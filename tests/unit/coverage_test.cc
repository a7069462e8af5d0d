// Integrity checks within a budget (verify/coverage.h), against a fake clock: the order (what
// was written since its last check, largest first; then the longest unchecked), units skipped
// when they would not fit and smaller ones after them checked, rotation over successive runs
// so everything is covered, a damaged unit checked again first, and the history's codec.
#include "verify/coverage.h"

#include <stdlib.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "base/fs.h"

namespace lifeboat::verify {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kMiB = 1 << 20;
constexpr double kRate = 64.0 * kMiB;  // the default estimate, and the fake check's true speed

IntegrityUnit Unit(const std::string& name, int64_t bytes, UnixNanos written = 0,
                   UnitKind kind = UnitKind::kRelation) {
  IntegrityUnit u;
  u.database = "shop";
  u.kind = kind;
  u.oid = "1";
  u.name = "public." + name;
  u.bytes = bytes;
  u.written = written;
  return u;
}

std::vector<std::string> Names(const std::vector<IntegrityUnit>& units) {
  std::vector<std::string> out;
  for (const IntegrityUnit& u : units) out.push_back(u.name.substr(7));
  return out;
}

// A clock that only the checks move: each takes its bytes at kRate.
class FakeChecks {
 public:
  double Now() const { return now_; }
  bool Check(const IntegrityUnit& u) {
    now_ += static_cast<double>(u.bytes) / kRate;
    return damaged_ != u.name;
  }
  void Damage(const std::string& name) { damaged_ = "public." + name; }
  Coverage Run(const std::vector<IntegrityUnit>& units, std::optional<double> budget, CoverageHistory* h,
               UnixNanos at) {
    now_ = 0;
    std::optional<double> deadline = budget;
    return CheckWithinBudget(
        OrderForBudget(units, *h), budget, deadline, [this] { return Now(); },
        [this](const IntegrityUnit& u) { return Check(u); }, at, h);
  }

 private:
  double now_ = 0;
  std::string damaged_;
};

TEST(CoverageTest, WrittenSinceTheLastCheckComesFirstLargestFirstThenTheLongestUnchecked) {
  CoverageHistory h;
  h.last_checked[Unit("old", 0).Key()] = 100;    // checked long ago, unchanged since
  h.last_checked[Unit("recent", 0).Key()] = 300;  // checked lately, unchanged since
  h.last_checked[Unit("hot", 0).Key()] = 200;     // written after its check
  std::vector<IntegrityUnit> units = {Unit("recent", 50 * kMiB, 250), Unit("old", 10 * kMiB, 50),
                                      Unit("hot", 1 * kMiB, 250), Unit("new_small", 2 * kMiB, 0),
                                      Unit("new_large", 90 * kMiB, 0)};
  EXPECT_EQ(Names(OrderForBudget(units, h)),
            (std::vector<std::string>{"new_large", "new_small", "hot", "old", "recent"}));
}

TEST(CoverageTest, AUnitThatWouldNotFitIsSkippedAndSmallerOnesAfterItStillRun) {
  // 400 MiB takes 6.25 s, 300 MiB 4.69 s, 100 MiB 1.56 s, 10 MiB 0.16 s at 64 MiB/s.
  std::vector<IntegrityUnit> units = {Unit("a", 400 * kMiB), Unit("b", 300 * kMiB), Unit("c", 100 * kMiB),
                                      Unit("d", 10 * kMiB)};
  FakeChecks checks;
  CoverageHistory h;
  Coverage cov = checks.Run(units, 10.0, &h, 1000);
  EXPECT_EQ(Names(cov.checked), (std::vector<std::string>{"a", "c", "d"}));
  EXPECT_EQ(Names(cov.skipped), (std::vector<std::string>{"b"}));
  EXPECT_EQ(cov.CheckedBytes(), 510 * kMiB);
  EXPECT_EQ(cov.SkippedBytes(), 300 * kMiB);
  EXPECT_NEAR(cov.seconds, 510.0 / 64, 1e-9);
  EXPECT_LE(cov.seconds, 10.0);
  EXPECT_EQ(*cov.budget_seconds, 10.0);
  EXPECT_EQ(cov.Summary(), "3 of 4 indexes and relations (510.0 MiB of 810.0 MiB) within a 10s budget");
  // The rate this run measured is the next run's estimate; only checked units are recorded.
  EXPECT_DOUBLE_EQ(h.relation_bytes_per_second, kRate);
  EXPECT_EQ(h.index_bytes_per_second, 0);
  EXPECT_EQ(h.last_checked.size(), 3u);
  EXPECT_EQ(h.last_checked.count(Unit("b", 0).Key()), 0u);

  // Without a budget everything is checked.
  CoverageHistory all;
  Coverage whole = checks.Run(units, std::nullopt, &all, 1000);
  EXPECT_EQ(whole.checked.size(), 4u);
  EXPECT_TRUE(whole.skipped.empty());
  EXPECT_FALSE(whole.budget_seconds.has_value());
  EXPECT_EQ(whole.Summary(), "4 of 4 indexes and relations (810.0 MiB of 810.0 MiB)");
}

TEST(CoverageTest, SuccessiveRunsRotateThroughEverythingAndAWriteJumpsTheQueue) {
  // Six units of 64 MiB (1 s each); a budget of 2.5 s fits two per run.
  std::vector<IntegrityUnit> units;
  for (const char* n : {"u1", "u2", "u3", "u4", "u5", "u6"}) units.push_back(Unit(n, 64 * kMiB, 10));
  FakeChecks checks;
  CoverageHistory h;
  EXPECT_EQ(Names(checks.Run(units, 2.5, &h, 100).checked), (std::vector<std::string>{"u1", "u2"}));
  EXPECT_EQ(Names(checks.Run(units, 2.5, &h, 200).checked), (std::vector<std::string>{"u3", "u4"}));
  EXPECT_EQ(Names(checks.Run(units, 2.5, &h, 300).checked), (std::vector<std::string>{"u5", "u6"}));
  // Every unit checked once in three runs; the fourth starts over with the longest unchecked.
  EXPECT_EQ(Names(checks.Run(units, 2.5, &h, 400).checked), (std::vector<std::string>{"u1", "u2"}));
  // u6 is written after its check at 300: it comes before u3 and u4, checked at 200.
  units[5].written = 350;
  EXPECT_EQ(Names(checks.Run(units, 2.5, &h, 500).checked), (std::vector<std::string>{"u6", "u3"}));
}

TEST(CoverageTest, ADamagedUnitIsNotRecordedAsCheckedSoTheNextRunChecksItFirst) {
  std::vector<IntegrityUnit> units = {Unit("a", 64 * kMiB, 10), Unit("b", 64 * kMiB, 10), Unit("c", 64 * kMiB, 10)};
  FakeChecks checks;
  CoverageHistory h;
  checks.Damage("a");
  Coverage first = checks.Run(units, 2.5, &h, 100);
  EXPECT_EQ(Names(first.checked), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(h.last_checked.count(Unit("a", 0).Key()), 0u);
  EXPECT_EQ(Names(checks.Run(units, 2.5, &h, 200).checked), (std::vector<std::string>{"a", "c"}));
}

TEST(CoverageTest, UnitsThatNoLongerExistLeaveTheHistory) {
  FakeChecks checks;
  CoverageHistory h;
  checks.Run({Unit("dropped", kMiB), Unit("kept", kMiB)}, std::nullopt, &h, 100);
  EXPECT_EQ(h.last_checked.size(), 2u);
  checks.Run({Unit("kept", kMiB)}, std::nullopt, &h, 200);
  ASSERT_EQ(h.last_checked.size(), 1u);
  EXPECT_EQ(h.last_checked.begin()->first, "shop/relation/public.kept");
  // A small run measures no rate: the per-query costs would dominate it.
  EXPECT_EQ(h.relation_bytes_per_second, 0);
}

TEST(CoverageTest, TheHistoryRoundTripsThroughItsFileAndADamagedOneIsNamed) {
  char tmpl[] = "/tmp/lifeboat-coverage-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string file = CoverageFile(dir);
  EXPECT_EQ(file, dir + "/verify-coverage.json");
  Result<CoverageHistory> missing = CoverageHistory::Load(file);
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_TRUE(missing->last_checked.empty());

  CoverageHistory h;
  h.last_checked["shop/index/public.order_pkey"] = 1'764'584'100'000'000'000;
  h.index_bytes_per_second = 1.5e8;
  ASSERT_TRUE(h.Save(file).ok());
  Result<CoverageHistory> back = CoverageHistory::Load(file);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->last_checked, h.last_checked);
  EXPECT_EQ(back->index_bytes_per_second, 1.5e8);
  EXPECT_EQ(back->ToJson(), h.ToJson());

  std::string bad = R"({"last_checked": {"shop/index/x": "yesterday"}, "index_bytes_per_second": 0,
                        "relation_bytes_per_second": 0})";
  ASSERT_TRUE(WriteFileDurable(file, ByteSpan(reinterpret_cast<const uint8_t*>(bad.data()), bad.size())).ok());
  Result<CoverageHistory> damaged = CoverageHistory::Load(file);
  EXPECT_EQ(damaged.status().code(), Code::kIO);
  EXPECT_EQ(damaged.status().message(),
            "verify coverage '" + file + "', last_checked: key 'shop/index/x' is missing or not a time");
  fs::remove_all(dir);
}

TEST(CoverageTest, ACoverageReportRoundTripsThroughJson) {
  Coverage c;
  c.budget_seconds = 30;
  c.seconds = 12.5;
  c.checked = {Unit("a", 5 * kMiB, 0, UnitKind::kIndex)};
  c.skipped = {Unit("b", 7 * kMiB)};
  nlohmann::json j = c.ToJson();
  EXPECT_EQ(j["checked"][0], (nlohmann::json{{"database", "shop"}, {"kind", "index"}, {"name", "public.a"},
                                             {"bytes", 5 * kMiB}}));
  EXPECT_EQ(j["skipped_bytes"], 7 * kMiB);
  Result<Coverage> back = Coverage::FromJson(j, "report");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToJson(), j);
  j["skipped"][0]["kind"] = "table";
  EXPECT_EQ(Coverage::FromJson(j, "report").status().message(),
            "report, skipped 1: key 'kind' is missing or not 'index' or 'relation'");
}

}  // namespace
}  // namespace lifeboat::verify
