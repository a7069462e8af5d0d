// The agent's dashboard behind [agent] token_file, through the real binary on a repository of
// files: without the token every path answers 401 with the login form and nothing of the stack;
// the Bearer header and the login form's cookie open it; a wrong token does not. Listening
// beyond loopback without a token is refused when the config is loaded.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include <httplib.h>

#include "harness.h"

namespace lifeboat::testing {
namespace {

constexpr const char* kToken = "0123456789abcdef-token";

class DashboardCliTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    port_ = FreePortBlock(29700, 1);
    WriteFile(Path("token"), std::string(kToken) + "\n");
    WriteConfig("[repository]\npath = \"repo\"\n[agent]\nlisten = \"127.0.0.1:" + std::to_string(port_) +
                "\"\nprobe_interval = \"1s\"\ntoken_file = \"token\"\n");
    ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  }
  void TearDown() override {
    if (agent_ > 0) {
      kill(agent_, SIGTERM);
      waitpid(agent_, nullptr, 0);
      Forget(agent_);
    }
    CliTest::TearDown();
  }
  int port_ = 0;
  pid_t agent_ = 0;
};

TEST_F(DashboardCliTest, EveryPageNeedsTheTokenAndAWrongOneOpensNothing) {
  agent_ = Start({"agent"});
  httplib::Client c("127.0.0.1", port_);
  httplib::Headers bearer = {{"Authorization", std::string("Bearer ") + kToken}};
  // Until the first probe cycle has rendered the overview.
  std::string overview;
  for (int i = 0; i < 150 && overview.find("id=\"verdict\"") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (auto r = c.Get("/", bearer); r && r->status == 200) overview = r->body;
  }
  ASSERT_NE(overview.find("<b>lifeboat: main</b>"), std::string::npos) << overview;
  for (const char* path : {"/", "/drills", "/runs", "/runbook", "/metrics", "/health"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 401) << path;
    EXPECT_NE(r->body.find("<form method=\"post\" action=\"/login\">"), std::string::npos) << path;
    EXPECT_EQ(r->body.find(dir_), std::string::npos) << path;  // no path, name or figure of the stack
    EXPECT_EQ(r->body.find("lifeboat_"), std::string::npos) << path;
    auto wrong = c.Get(path, httplib::Headers{{"Authorization", "Bearer 0123456789abcdef-other"}});
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401) << path;
    auto ok = c.Get(path, bearer);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200) << path;
  }
  EXPECT_NE(c.Get("/runbook", bearer)->body.find("<h1>Disaster-recovery runbook: main</h1>"), std::string::npos);

  // The login form: a wrong token is refused, the right one sets the cookie that opens pages.
  auto refused = c.Post("/login", "token=nope", "application/x-www-form-urlencoded");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_NE(refused->body.find("That token is not the one."), std::string::npos);
  EXPECT_FALSE(refused->has_header("Set-Cookie"));
  auto login = c.Post("/login", std::string("token=") + kToken, "application/x-www-form-urlencoded");
  ASSERT_TRUE(login);
  EXPECT_EQ(login->status, 303);
  std::string cookie = login->get_header_value("Set-Cookie");
  ASSERT_EQ(cookie.rfind("lifeboat_token=", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("; HttpOnly; SameSite=Strict"), std::string::npos);
  EXPECT_EQ(cookie.find(kToken), std::string::npos);  // the browser keeps a digest, not the token
  auto with_cookie = c.Get("/drills", httplib::Headers{{"Cookie", cookie.substr(0, cookie.find(';'))}});
  ASSERT_TRUE(with_cookie);
  EXPECT_EQ(with_cookie->status, 200);
  EXPECT_NE(with_cookie->body.find("<table id=\"drills\">"), std::string::npos);
}

TEST_F(DashboardCliTest, ListeningBeyondLoopbackWithoutATokenIsRefused) {
  WriteConfig("[repository]\npath = \"repo\"\n[agent]\nlisten = \"0.0.0.0:" + std::to_string(port_) + "\"\n");
  RunResult r = Run({"agent"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: config '" + Path("lifeboat.toml") + "': [agent] listen = \"0.0.0.0:" +
                       std::to_string(port_) + "\" serves the dashboard beyond this machine without a token\n"
                       "hint: set [agent] token_file to a file holding a secret token, or listen on 127.0.0.1\n");
  WriteFile(Path("token"), "short\n");
  WriteConfig("[repository]\npath = \"repo\"\n[agent]\nlisten = \"127.0.0.1:" + std::to_string(port_) +
              "\"\ntoken_file = \"token\"\n");
  r = Run({"agent"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("holds a token of 5 characters; it needs at least 16\n"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lifeboat::testing
