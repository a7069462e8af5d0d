// The living runbook against a real stack: its "Last test" is the drill this test ran; a change
// to the config makes it stale; the copy stored in the repository is printed on a machine with
// no config; and Scenario 1's commands, taken from the Markdown and run in order by a shell,
// recover production to the instant the test chose (ground truth: the rows it committed).
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "../cli/platform_harness.h"
#include "shop_harness.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace lifeboat::testing {
namespace {

// The text of a level-2 section of Markdown: from its heading to the next one.
std::string Section(const std::string& md, const std::string& heading) {
  size_t from = md.find("\n## " + heading);
  if (from == std::string::npos) return "";
  size_t to = md.find("\n## ", from + 1);
  return md.substr(from + 1, to == std::string::npos ? std::string::npos : to - from - 1);
}

// Every ```sh block of `text`, in order, one after the other.
std::string ShellBlocks(const std::string& text) {
  std::string out;
  size_t at = 0;
  while ((at = text.find("```sh\n", at)) != std::string::npos) {
    size_t end = text.find("```\n", at + 6);
    if (end == std::string::npos) break;
    out += text.substr(at + 6, end - at - 6);
    at = end + 4;
  }
  return out;
}

class RunbookTest : public ShopTest {};

TEST_F(RunbookTest, TheRunbookNamesTheDrillItsStoredCopyReadsWithoutAConfigAndScenarioOneRecovers) {
  WriteConfig(ReadWholeFile(Path("lifeboat.toml")) + "\n[recovery]\ncleanup_after = \"0s\"\n");
  ASSERT_EQ(Run({"up"}).exit_code, 0);
  RunResult backup = Run({"backup"});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  SwitchWalAndWaitArchived();

  // Before any drill: never tested.
  RunResult first = Run({"runbook"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(Section(first.out, "Scenario 1").find("**Last test:** never\n\n"), std::string::npos) << first.out;
  EXPECT_NE(Section(first.out, "Scenario 1").find("**STALE:** never tested\n"), std::string::npos);

  RunResult drill = Run({"drill", "--json"});
  ASSERT_EQ(drill.exit_code, 0) << drill.err;
  std::string id = json::parse(drill.out)["id"];
  RunResult after = Run({"runbook"});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  std::string s1 = Section(after.out, "Scenario 1");
  size_t last = s1.find("**Last test:** ");
  ASSERT_NE(last, std::string::npos) << s1;
  std::string line = s1.substr(last, s1.find('\n', last) - last);
  EXPECT_NE(line.find(" — drill " + id + ", passed, RTO "), std::string::npos) << line;
  EXPECT_EQ(s1.find("**STALE:**"), std::string::npos) << s1;

  // The drill stored the runbook; --store stores it again, and that copy is what a machine
  // with only the repository and its key prints.
  RunResult stored = Run({"runbook", "--store"});
  ASSERT_EQ(stored.exit_code, 0) << stored.err;
  EXPECT_EQ(stored.err, "runbook stored in the repository\n");
  fs::create_directories(Path("new-machine"));
  std::string out;
  ASSERT_EQ(RunWithEnv({"/bin/bash", "-c",
                        "cd " + Path("new-machine") + " && exec " LIFEBOAT_BIN " runbook --from-repository " + repo() +
                            " --key " + Path("pass") + " > runbook.md"},
                       {{"LIFEBOAT_PASSPHRASE", ""}, {"LIFEBOAT_CONFIG", ""}}, &out),
            0)
      << out;
  EXPECT_EQ(ReadWholeFile(Path("new-machine/runbook.md")), stored.out);
  EXPECT_EQ(ListFiles(Path("new-machine")), std::vector<std::string>{"runbook.md"});  // nothing else written
  ASSERT_EQ(RunWithEnv({LIFEBOAT_BIN, "runbook", "--from-repository", repo(), "--key", Path("shop-password")}, {}, &out),
            1);
  EXPECT_EQ(out.rfind("error: ", 0), 0u) << out;

  // A change to what a recovery depends on makes the section stale until the next drill.
  std::string config = ReadWholeFile(Path("lifeboat.toml"));
  WriteConfig(config + "\n[verify]\nshrink_limit = 0.2\n");
  RunResult changed = Run({"runbook"});
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_NE(Section(changed.out, "Scenario 1").find("**STALE:** the configuration changed since the last test"),
            std::string::npos)
      << changed.out;
  WriteConfig(config);

  // Scenario 1 as written: the target is an instant between two commits of the test's own.
  Sql("CREATE TABLE runbook_probe (v text)", "startupwebapp_prod");
  Sql("INSERT INTO runbook_probe VALUES ('before')", "startupwebapp_prod");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::string target = Iso(std::chrono::system_clock::now());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Sql("INSERT INTO runbook_probe VALUES ('after')", "startupwebapp_prod");
  SwitchWalAndWaitArchived();
  std::string script = ShellBlocks(Section(Run({"runbook"}).out, "Scenario 1"));
  ASSERT_NE(script.find("recover --time \"$TARGET\" --yes\n"), std::string::npos) << script;
  std::string bin_dir = fs::path(LIFEBOAT_BIN).parent_path().string();
  int code = RunWithEnv({"/bin/bash", "-c", "set -euo pipefail\n" + script},
                        {{"PATH", bin_dir + ":" + getenv("PATH")},
                         {"TARGET", target},
                         {"LIFEBOAT_PASSPHRASE", "test passphrase"}},
                        &out);
  ASSERT_EQ(code, 0) << script << "\n---\n" << out;
  // The services' secret points at the new production; it holds what was committed before the
  // target and nothing after.
  json secret = json::parse(Run({"secret", "get", "shop-db", "--show", "--json"}).out);
  std::vector<std::string> rows = SqlAt(secret["values"]["PGHOST"], std::stoi(secret["values"]["PGPORT"].get<std::string>()),
                                        "SELECT v FROM runbook_probe ORDER BY v", "startupwebapp_prod");
  EXPECT_EQ(rows, std::vector<std::string>{"before"});
  EXPECT_NE(secret["values"]["PGPORT"], std::to_string(port_));
}

}  // namespace
}  // namespace lifeboat::testing
