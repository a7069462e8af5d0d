// The dashboard in a real browser: Debian's Chromium, headless, loads every page of an agent
// watching the shop's stack after three backups and two drills (one failed, then one passed),
// and the test reads from the DOM what it knows from its own side: the drills it ran and how
// each ended, the snapshots it took, the window's ends between the clocks it read. No console
// errors; a screenshot of each page at 1280 px and at a phone's width (saved under the build
// directory's test-artifacts/dashboard); no horizontal scroll at either width; and the overview
// reads the same with scripts disabled.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "browser.h"
#include "shop_harness.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace lifeboat::testing {
namespace {

// A PNG's width in pixels (its IHDR chunk), or 0 when the file is not a PNG.
uint32_t PngWidth(const std::string& path) {
  std::string png = ReadWholeFile(path);
  if (png.size() < 24 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return 0;
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(png[i])); };
  return b(16) << 24 | b(17) << 16 | b(18) << 8 | b(19);
}

class BrowserTest : public ShopTest {
 protected:
  std::string Url(const std::string& page) const { return "http://127.0.0.1:" + std::to_string(port_http_) + page; }
  // The text of the element `selector` matches, or null.
  static json Text(Browser& b, const std::string& selector) {
    return b.Eval("(function(){var e=document.querySelector(" + json(selector).dump() +
                  ");return e?e.textContent:null})()");
  }
  static json Attr(Browser& b, const std::string& selector, const std::string& attr) {
    return b.Eval("(function(){var e=document.querySelector(" + json(selector).dump() + ");return e?e.getAttribute(" +
                  json(attr).dump() + "):null})()");
  }
  static json Count(Browser& b, const std::string& selector) {
    return b.Eval("document.querySelectorAll(" + json(selector).dump() + ").length");
  }
  // Whether the page is wider than the viewport (a horizontal scroll bar); the elements that
  // reach past its right edge, to say why.
  static json Overflows(Browser& b) {
    return b.Eval("document.documentElement.scrollWidth > document.documentElement.clientWidth");
  }
  static json Wide(Browser& b) {
    return b.Eval(
        "(function(){var w=document.documentElement.clientWidth,out=[];"
        "document.querySelectorAll('body *').forEach(function(e){var r=e.getBoundingClientRect();"
        "if(r.right>w+0.5&&out.length<8)out.push(e.tagName+' '+e.className+' '+Math.round(r.right)+' '+"
        "e.textContent.slice(0,40))});return out})()");
  }
  // An element's text parsed as a time by the browser, in milliseconds since the epoch.
  static json TimeMs(Browser& b, const std::string& selector) {
    return b.Eval("Date.parse(document.querySelector(" + json(selector).dump() + ").textContent)");
  }

  // Loads `page` and cancels its timers, so the 10 s auto-refresh cannot replace the DOM while
  // the test reads it.
  bool Load(Browser& b, const std::string& page) {
    return b.Load(Url(page)) &&
           b.Eval("(function(){var n=setTimeout(function(){},0);for(var i=0;i<=n;i++)clearTimeout(i);return 1})()") == 1;
  }

  int port_http_ = 0;
};

TEST_F(BrowserTest, EveryPageShowsWhatTheTestDidWithoutConsoleErrorsAtDesktopAndPhoneWidth) {
  ASSERT_TRUE(fs::exists("/usr/bin/chromium")) << "chromium is not installed: run scripts/setup";
  port_http_ = FreePortBlock(29700, 1);
  const std::string base = ReadWholeFile(Path("lifeboat.toml")) + "\n[agent]\nlisten = \"127.0.0.1:" +
                           std::to_string(port_http_) + "\"\nprobe_interval = \"1s\"\n";
  WriteConfig(base);
  ASSERT_EQ(Run({"up"}).exit_code, 0);
  Sql("CREATE TABLE t (id int)");

  // Three backups; the first one's start and end bound the window's earliest instant.
  double before_first = NowSeconds();
  RunResult full = Run({"backup", "--json"});
  ASSERT_EQ(full.exit_code, 0) << full.err;
  double after_first = NowSeconds();
  for (int i = 0; i < 2; ++i) {
    Sql("INSERT INTO t VALUES (" + std::to_string(i) + ")");
    RunResult incr = Run({"backup", "--type", "incremental", "--json"});
    ASSERT_EQ(incr.exit_code, 0) << incr.err;
  }
  SwitchWalAndWaitArchived();

  // Two drills: one whose verification cannot pass, then one that passes.
  WriteConfig(base + "\n[[verify.check]]\nname = \"impossible\"\ndatabase = \"startupwebapp_prod\"\n"
                     "sql = \"SELECT count(*) FROM order_product\"\nexpect = \"= 12345\"\n");
  RunResult bad = Run({"drill"});
  ASSERT_EQ(bad.exit_code, 3) << bad.err;
  const std::string prefix = "error: drill ";
  ASSERT_EQ(bad.err.rfind(prefix, 0), 0u) << bad.err;
  std::string failed_id = bad.err.substr(prefix.size(), bad.err.find(' ', prefix.size()) - prefix.size());
  WriteConfig(base);
  RunResult good = Run({"drill", "--json"});
  ASSERT_EQ(good.exit_code, 0) << good.err << good.out;
  std::string passed_id = json::parse(good.out)["id"];

  // The last commit the window must reach.
  double before_last = NowSeconds();
  Sql("INSERT INTO t VALUES (99)");
  SwitchWalAndWaitArchived();

  pid_t agent = StartWithEnv({LIFEBOAT_BIN, "-c", Path("lifeboat.toml"), "agent"},
                             {{"LIFEBOAT_PASSPHRASE", "test passphrase"}}, Path("agent.log"));
  started_.push_back(agent);
  // Wait until a probe cycle has seen the snapshots and the status.
  httplib::Client http("127.0.0.1", port_http_);
  std::string overview;
  for (int i = 0; i < 300; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    httplib::Result r = http.Get("/");
    if (r && r->status == 200 && r->body.find("id=\"snapshot-count\">3<") != std::string::npos &&
        r->body.find("Not known yet") == std::string::npos && r->body.find("id=\"window-earliest\"") != std::string::npos) {
      overview = r->body;
      break;
    }
  }
  ASSERT_FALSE(overview.empty()) << ReadWholeFile(Path("agent.log"));

  const std::string shots = std::string(LIFEBOAT_ARTIFACTS) + "/dashboard";
  fs::create_directories(shots);
  fs::create_directories(Path("chromium"));
  Browser browser(Path("chromium"));
  ASSERT_TRUE(browser.ok()) << browser.error() << ReadWholeFile(Path("chromium/chromium.log"));

  const std::vector<std::pair<std::string, std::string>> pages = {
      {"/", "overview"}, {"/drills", "drills"}, {"/runs", "runs"}, {"/runbook", "runbook"}};
  for (const auto& [width, height, mobile, label] :
       std::vector<std::tuple<int, int, bool, std::string>>{{1280, 900, false, "1280"}, {390, 844, true, "phone"}}) {
    ASSERT_TRUE(browser.SetViewport(width, height, mobile)) << browser.error();
    for (const auto& [page, name] : pages) {
      SCOPED_TRACE(page + " at " + label);
      ASSERT_TRUE(Load(browser, page)) << browser.error();
      EXPECT_EQ(browser.console_errors(), std::vector<std::string>{});
      EXPECT_EQ(Text(browser, "header b"), "lifeboat: main");  // the data directory's name
      EXPECT_EQ(Count(browser, "nav a.on"), 1);
      EXPECT_EQ(Overflows(browser), false) << "the page scrolls sideways: " << Wide(browser).dump();
      std::string shot = shots + "/" + name + "-" + label + ".png";
      ASSERT_TRUE(browser.Screenshot(shot)) << browser.error();
      EXPECT_EQ(PngWidth(shot), static_cast<uint32_t>(mobile ? width * 2 : width));
    }
  }

  // The overview, at the phone's width: the verdict (the newest drill passed and nothing
  // fires), the snapshots taken, no gap, and the window's ends between the test's clocks.
  ASSERT_TRUE(Load(browser, "/")) << browser.error();
  EXPECT_EQ(Text(browser, "#verdict"), "Protected: every check is ok");
  EXPECT_EQ(Text(browser, "#snapshot-count"), "3");
  EXPECT_EQ(Text(browser, "#window-gaps"), "0");
  EXPECT_EQ(Count(browser, "svg path.snap"), 3);
  double earliest = TimeMs(browser, "#window-earliest").get<double>();
  double latest = TimeMs(browser, "#window-latest").get<double>();
  EXPECT_GE(earliest, std::floor(before_first * 1000));
  EXPECT_LE(earliest, std::ceil(after_first * 1000));
  EXPECT_GE(latest, std::floor(before_last * 1000));
  EXPECT_LE(latest, std::ceil(NowSeconds() * 1000));
  EXPECT_EQ(Text(browser, "#next-jobs"), "none scheduled ([schedule] is empty)");
  EXPECT_EQ(Count(browser, "#stack tr"), 1 + 1 + 1 + 1);  // header, database, service, load balancer
  EXPECT_NE(Text(browser, "#stack").get<std::string>().find("2/2 healthy"), std::string::npos);

  // The drills: both, newest first, each as it ended; the passed one is on both charts.
  ASSERT_TRUE(Load(browser, "/drills")) << browser.error();
  EXPECT_EQ(Count(browser, "#drills tr[id^=drill-]"), 2);
  EXPECT_EQ(Attr(browser, "#drills tr:nth-child(2)", "id"), "drill-" + passed_id);
  EXPECT_EQ(Attr(browser, "tr#drill-" + passed_id, "data-passed"), "true");
  EXPECT_EQ(Attr(browser, "tr#drill-" + failed_id, "data-passed"), "false");
  EXPECT_NE(Text(browser, "tr#drill-" + failed_id).get<std::string>().find("FAILED: verification failed: impossible"),
            std::string::npos);
  EXPECT_EQ(Count(browser, "circle.point.passed"), 2);  // the RTO chart and the RPO chart

  // Runs: each drill's run is listed, and none is still running.
  ASSERT_TRUE(Load(browser, "/runs")) << browser.error();
  EXPECT_EQ(Count(browser, "tr#run-" + passed_id), 1);
  EXPECT_EQ(Count(browser, "tr#run-" + failed_id), 1);
  EXPECT_EQ(Text(browser, "#runs").get<std::string>().find("steps done)"), std::string::npos);

  // The runbook: Scenario 1's last test is the drill that passed.
  ASSERT_TRUE(Load(browser, "/runbook")) << browser.error();
  EXPECT_NE(Text(browser, "main").get<std::string>().find(" — drill " + passed_id + ", passed"), std::string::npos);

  // Without scripts the overview reads the same.
  ASSERT_TRUE(browser.SetScripts(false)) << browser.error();
  ASSERT_TRUE(Load(browser, "/")) << browser.error();
  EXPECT_EQ(Text(browser, "#verdict"), "Protected: every check is ok");
  EXPECT_EQ(Text(browser, "#snapshot-count"), "3");

  kill(agent, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(agent, &status, 0), agent);
  Forget(agent);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << ReadWholeFile(Path("agent.log"));
}

}  // namespace
}  // namespace lifeboat::testing
