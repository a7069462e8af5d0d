#include "verify/coverage.h"

#include <algorithm>
#include <set>

#include "base/fs.h"
#include "base/json_fields.h"
#include "base/progress.h"

namespace lifeboat::verify {

namespace {

constexpr UnitKind kKinds[] = {UnitKind::kIndex, UnitKind::kRelation};
constexpr double kDefaultBytesPerSecond = 64.0 * 1024 * 1024;
constexpr double kPerUnitSeconds = 0.005;  // a query's round trip and planning
// A rate is taken from this run once this many bytes were checked at it: below that, the
// per-query costs dominate and the rate would say little about the next large unit.
constexpr int64_t kRateSampleBytes = 8 << 20;

nlohmann::json UnitsJson(const std::vector<IntegrityUnit>& units) {
  nlohmann::json arr = nlohmann::json::array();
  for (const IntegrityUnit& u : units) {
    arr.push_back({{"database", u.database}, {"kind", UnitKindName(u.kind)}, {"name", u.name}, {"bytes", u.bytes}});
  }
  return arr;
}

Status UnitsFromJson(const JsonFields& f, const char* key, std::vector<IntegrityUnit>* out) {
  nlohmann::json arr;
  LB_RETURN_IF_ERROR(f.Array(key, &arr));
  for (size_t i = 0; i < arr.size(); ++i) {
    JsonFields u(arr[i], f.where() + ", " + key + " " + std::to_string(i + 1));
    LB_RETURN_IF_ERROR(u.IsObject());
    IntegrityUnit unit;
    LB_RETURN_IF_ERROR(u.String("database", &unit.database));
    LB_RETURN_IF_ERROR(u.Enum("kind", kKinds, &UnitKindName, "'index' or 'relation'", &unit.kind));
    LB_RETURN_IF_ERROR(u.String("name", &unit.name));
    LB_RETURN_IF_ERROR(u.Int("bytes", &unit.bytes));
    out->push_back(std::move(unit));
  }
  return Status::Ok();
}

int64_t TotalBytes(const std::vector<IntegrityUnit>& units) {
  int64_t n = 0;
  for (const IntegrityUnit& u : units) n += u.bytes;
  return n;
}

}  // namespace

const char* UnitKindName(UnitKind k) { return k == UnitKind::kIndex ? "index" : "relation"; }

std::string IntegrityUnit::Key() const { return database + "/" + UnitKindName(kind) + "/" + name; }

nlohmann::json CoverageHistory::ToJson() const {
  nlohmann::json checked = nlohmann::json::object();
  for (const auto& [key, at] : last_checked) checked[key] = FormatIso8601(at, true);
  return {{"last_checked", checked},
          {"index_bytes_per_second", index_bytes_per_second},
          {"relation_bytes_per_second", relation_bytes_per_second}};
}

Result<CoverageHistory> CoverageHistory::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f(j, where, &Status::IO);
  LB_RETURN_IF_ERROR(f.IsObject());
  CoverageHistory h;
  LB_RETURN_IF_ERROR(f.Double("index_bytes_per_second", &h.index_bytes_per_second));
  LB_RETURN_IF_ERROR(f.Double("relation_bytes_per_second", &h.relation_bytes_per_second));
  nlohmann::json checked;
  LB_RETURN_IF_ERROR(f.Object("last_checked", &checked));
  JsonFields times(checked, where + ", last_checked", &Status::IO);
  for (const auto& [key, value] : checked.items()) {
    UnixNanos at = 0;
    LB_RETURN_IF_ERROR(times.Time(key.c_str(), &at));
    h.last_checked[key] = at;
  }
  return h;
}

Result<CoverageHistory> CoverageHistory::Load(const std::string& file) {
  Result<Bytes> text = ReadFile(file);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return CoverageHistory{};
    return text.status();
  }
  auto j = nlohmann::json::parse(text->begin(), text->end(), nullptr, false);
  return FromJson(j, "verify coverage '" + file + "'");
}

Status CoverageHistory::Save(const std::string& file) const {
  std::string text = ToJson().dump(1);
  return WriteFileDurable(file, ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size()), 0600);
}

std::string CoverageFile(const std::string& state_dir) { return JoinPath(state_dir, "verify-coverage.json"); }

std::vector<IntegrityUnit> OrderForBudget(std::vector<IntegrityUnit> units, const CoverageHistory& history) {
  struct Ranked {
    bool written_since;  // first tier
    UnixNanos last_checked;
    IntegrityUnit unit;
  };
  std::vector<Ranked> ranked;
  for (IntegrityUnit& u : units) {
    auto it = history.last_checked.find(u.Key());
    bool never = it == history.last_checked.end();
    UnixNanos last = never ? 0 : it->second;
    ranked.push_back({never || u.written > last, last, std::move(u)});
  }
  std::sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    if (a.written_since != b.written_since) return a.written_since;
    if (a.written_since) {
      if (a.unit.bytes != b.unit.bytes) return a.unit.bytes > b.unit.bytes;
    } else if (a.last_checked != b.last_checked) {
      return a.last_checked < b.last_checked;
    }
    return a.unit.Key() < b.unit.Key();
  });
  std::vector<IntegrityUnit> out;
  for (Ranked& r : ranked) out.push_back(std::move(r.unit));
  return out;
}

int64_t Coverage::CheckedBytes() const { return TotalBytes(checked); }
int64_t Coverage::SkippedBytes() const { return TotalBytes(skipped); }

nlohmann::json Coverage::ToJson() const {
  return {{"budget_seconds", budget_seconds ? nlohmann::json(*budget_seconds) : nlohmann::json()},
          {"seconds", seconds},
          {"checked_bytes", CheckedBytes()},
          {"skipped_bytes", SkippedBytes()},
          {"checked", UnitsJson(checked)},
          {"skipped", UnitsJson(skipped)}};
}

Result<Coverage> Coverage::FromJson(const nlohmann::json& j, const std::string& where) {
  JsonFields f(j, where);
  LB_RETURN_IF_ERROR(f.IsObject());
  Coverage c;
  LB_RETURN_IF_ERROR(f.OptionalDouble("budget_seconds", &c.budget_seconds));
  LB_RETURN_IF_ERROR(f.Double("seconds", &c.seconds));
  LB_RETURN_IF_ERROR(UnitsFromJson(f, "checked", &c.checked));
  LB_RETURN_IF_ERROR(UnitsFromJson(f, "skipped", &c.skipped));
  return c;
}

std::string Coverage::Summary() const {
  size_t all = checked.size() + skipped.size();
  std::string s = std::to_string(checked.size()) + " of " + std::to_string(all) + " indexes and relations (" +
                  FormatBytes(static_cast<uint64_t>(CheckedBytes())) + " of " +
                  FormatBytes(static_cast<uint64_t>(CheckedBytes() + SkippedBytes())) + ")";
  if (budget_seconds) s += " within a " + FormatDuration(*budget_seconds) + " budget";
  return s;
}

Coverage CheckWithinBudget(const std::vector<IntegrityUnit>& ordered, std::optional<double> budget_seconds,
                           std::optional<double> deadline, const std::function<double()>& now,
                           const std::function<bool(const IntegrityUnit&)>& check, UnixNanos checked_at,
                           CoverageHistory* history) {
  Coverage cov;
  cov.budget_seconds = budget_seconds;
  struct Measured {
    int64_t bytes = 0;
    double seconds = 0;
  };
  std::map<UnitKind, Measured> measured;
  auto rate = [&](UnitKind k) {
    const Measured& m = measured[k];
    if (m.bytes >= kRateSampleBytes && m.seconds > 0) return static_cast<double>(m.bytes) / m.seconds;
    double known = k == UnitKind::kIndex ? history->index_bytes_per_second : history->relation_bytes_per_second;
    return known > 0 ? known : kDefaultBytesPerSecond;
  };
  double began = now();
  std::set<std::string> present;
  for (const IntegrityUnit& u : ordered) {
    present.insert(u.Key());
    double at = now();
    if (deadline && at + kPerUnitSeconds + static_cast<double>(u.bytes) / rate(u.kind) > *deadline) {
      cov.skipped.push_back(u);
      continue;
    }
    bool intact = check(u);
    double took = now() - at;
    measured[u.kind].bytes += u.bytes;
    measured[u.kind].seconds += took;
    if (intact) {
      history->last_checked[u.Key()] = checked_at;
    } else {
      history->last_checked.erase(u.Key());
    }
    cov.checked.push_back(u);
  }
  cov.seconds = now() - began;
  // Units that no longer exist leave the history, so it does not grow without bound.
  for (auto it = history->last_checked.begin(); it != history->last_checked.end();) {
    it = present.count(it->first) ? std::next(it) : history->last_checked.erase(it);
  }
  for (UnitKind k : kKinds) {
    const Measured& m = measured[k];
    if (m.bytes < kRateSampleBytes || m.seconds <= 0) continue;
    double r = static_cast<double>(m.bytes) / m.seconds;
    (k == UnitKind::kIndex ? history->index_bytes_per_second : history->relation_bytes_per_second) = r;
  }
  return cov;
}

}  // namespace lifeboat::verify
