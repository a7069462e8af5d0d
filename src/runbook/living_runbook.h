// The living runbook: the seed runbook's four scenarios written for this stack from what
// lifeboat knows (the config: its names, paths, ports and repositories) and what it measured
// (the drills), so that it is never out of date. `lifeboat runbook` prints it; after each
// drill and whenever the agent starts or reloads its config it is stored in the repository, so
// that a new machine with only the repository's location and key can read it (StoreRunbook,
// StoredRunbook).
//
// A scenario's section says when it was last tested (the newest drill of its kind) and when it
// is tested next ([schedule] drill). It is STALE, with the reason, when it was never tested,
// when its last test is older than the drill schedule's interval (a year without one, as the
// seed's testing schedule has it), or when the configuration a recovery depends on changed since
// (Config::recovery_fingerprint against the drill's).
//
// Pure: the facts come in, a Document goes out; the unit tests drive it with a fake clock.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "base/time.h"
#include "config/config.h"
#include "repository/repository.h"
#include "runbook/document.h"
#include "runbook/drill_record.h"

namespace lifeboat::runbook {

// What the runbook says about one scenario's testing.
struct ScenarioTest {
  std::string last;   // "2026-12-01 10:15 UTC — drill ID, passed, RTO 12.3 s, RPO 0.4 s" or "never"
  std::string next;   // "2026-12-02 05:00 UTC ([schedule] drill 'daily 05:00')" or why there is none
  std::string stale;  // why the section is stale; "" when it is not
};

// The test state of scenario 1 (restore drills) or 2 (rollback drills) from `drills` (any
// order) at `now`.
ScenarioTest TestOf(const Config& cfg, DrillKind kind, const std::vector<DrillRecord>& drills, UnixNanos now);

// What the runbook is written from.
struct RunbookFacts {
  // What GatherRepositoryFacts adds to a status: "repository", "backups", "window".
  nlohmann::json repository;
  std::vector<DrillRecord> drills;  // every drill record, any order
  std::string config_text;          // the config file as written (its appendix)
  UnixNanos now = 0;
  std::string program = "lifeboat";  // how the commands name lifeboat
};

// The runbook of `cfg`.
Document LivingRunbook(const Config& cfg, const RunbookFacts& facts);

// The named objects the runbook is stored as: stream "runbook", one per format.
inline constexpr const char* kRunbookStream = "runbook";
inline constexpr const char* kRunbookName = "runbook.md";
inline constexpr const char* kRunbookHtmlName = "runbook.html";

// The facts of `cfg` at `now`: the config file's text, and `repo`'s backups, window and drills
// (`repo` is the one that served, as GatherRepositoryFacts takes it; null when none answered,
// and the runbook then says the facts are unknown). Errors: the config file cannot be read, a
// drill record is damaged.
Result<RunbookFacts> GatherRunbookFacts(const Config& cfg, Repository* repo, const std::string& served_by,
                                        const std::string& repository_error, UnixNanos now);

// Writes `doc` into `repo` as Markdown (kRunbookName) and HTML (kRunbookHtmlName). Errors are
// the repository's.
Status StoreRunbook(const Config& cfg, const Document& doc, Repository& repo);

// The stored runbook in `format` ("markdown" or "html"); NotFound with a hint when the
// repository holds none.
Result<std::string> StoredRunbook(Repository& repo, const std::string& format);

}  // namespace lifeboat::runbook
