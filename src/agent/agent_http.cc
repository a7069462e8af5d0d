// The agent's HTTP face: /metrics, /health and the dashboard's pages, each handed out from what
// the main loop last rendered (under metrics_mu_), so a request never waits on the repository.
// With [agent] token_file every path but the login form needs the token: `Authorization:
// Bearer TOKEN`, or the cookie the form sets (the token's SHA-256, so the token itself is not
// stored by the browser). A request without it gets 401 and the form, nothing of the stack.
#include <openssl/crypto.h>

#include <httplib.h>

#include "agent/agent.h"
#include "agent/dashboard.h"
#include "base/fs.h"
#include "repository/crypto.h"
#include "runbook/drill_record.h"
#include "runbook/living_runbook.h"

namespace lifeboat::agent {

namespace {

constexpr const char* kCookie = "lifeboat_token=";
const char* const kPages[] = {"/", "/drills", "/runs", "/runbook"};

bool SameSecret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The cookie's value from a Cookie header ("" when absent).
std::string CookieValue(const std::string& header) {
  size_t at = 0;
  while ((at = header.find(kCookie, at)) != std::string::npos) {
    if (at == 0 || header[at - 1] == ' ' || header[at - 1] == ';') {
      size_t from = at + std::string(kCookie).size();
      return header.substr(from, header.find(';', from) - from);
    }
    at += 1;
  }
  return "";
}

// The runbook as the dashboard shows it: from the status probe's repository facts and the
// drills probe's records, so the page costs no repository access.
std::string RunbookBody(const Config& cfg, const Observations& o) {
  runbook::RunbookFacts facts;
  facts.now = o.now;
  facts.repository = o.status.is_object() ? o.status : nlohmann::json::object();
  if (o.drills.is_array()) {
    for (const auto& d : o.drills) {
      Result<runbook::DrillRecord> r = runbook::DrillRecord::FromJson(d, "drill record");
      if (r.ok()) facts.drills.push_back(std::move(*r));
    }
  }
  Result<Bytes> text = ReadFile(cfg.file);
  if (text.ok()) facts.config_text.assign(text->begin(), text->end());
  return runbook::LivingRunbook(cfg, facts).ToHtmlBody();
}

}  // namespace

void Agent::RenderDashboard(const Observations& o) {
  if (!http_) return;
  DashboardInput in;
  in.observed = o;
  in.firing = tracker_.Firing();
  in.title = cfg_.database.name;
  Result<std::vector<runbook::RunRecord>> runs = runbook::Journal(cfg_.state.dir, nullptr).List();
  if (runs.ok()) in.runs = std::move(*runs);
  in.runbook_html = RunbookBody(cfg_, o);
  std::map<std::string, std::string> pages;
  for (const char* p : kPages) pages[p] = RenderPage(p, in);
  std::lock_guard<std::mutex> lock(metrics_mu_);
  pages_ = std::move(pages);
}

Status Agent::StartHttp() {
  if (cfg_.agent.listen.empty()) return Status::Ok();
  size_t colon = cfg_.agent.listen.rfind(':');
  std::string host = cfg_.agent.listen.substr(0, colon);
  int port = std::stoi(cfg_.agent.listen.substr(colon + 1));
  std::string token;
  if (!cfg_.agent.token_file.empty()) {
    Result<Bytes> b = ReadFile(cfg_.agent.token_file);
    if (!b.ok()) return b.status().Context("cannot read [agent] token_file");
    token.assign(b->begin(), b->end());
    token = token.substr(0, token.find('\n'));
    if (token.size() < 16) {
      return Status::Config("[agent] token_file '" + cfg_.agent.token_file + "' holds a token of " +
                                std::to_string(token.size()) + " characters; it needs at least 16",
                            "write a random one: head -c 32 /dev/urandom | base64 > FILE");
    }
  }
  http_ = std::make_unique<httplib::Server>();
  if (!token.empty()) {
    std::string cookie = Sha256(ByteSpan(reinterpret_cast<const uint8_t*>(token.data()), token.size())).Hex();
    http_->set_pre_routing_handler([token, cookie](const httplib::Request& req, httplib::Response& res) {
      if (req.path == "/login") return httplib::Server::HandlerResponse::Unhandled;
      std::string auth = req.get_header_value("Authorization");
      bool ok = (auth.rfind("Bearer ", 0) == 0 && SameSecret(auth.substr(7), token)) ||
                SameSecret(CookieValue(req.get_header_value("Cookie")), cookie);
      if (ok) return httplib::Server::HandlerResponse::Unhandled;
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer");
      res.set_content(LoginPage(false), "text/html; charset=utf-8");
      return httplib::Server::HandlerResponse::Handled;
    });
    http_->Get("/login", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(LoginPage(false), "text/html; charset=utf-8");
    });
    http_->Post("/login", [token, cookie](const httplib::Request& req, httplib::Response& res) {
      if (!SameSecret(req.get_param_value("token"), token)) {
        res.status = 401;
        res.set_content(LoginPage(true), "text/html; charset=utf-8");
        return;
      }
      res.set_header("Set-Cookie", std::string(kCookie) + cookie + "; Path=/; HttpOnly; SameSite=Strict");
      res.set_redirect("/", 303);
    });
  }
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(metrics_mu_);
    res.set_content(metrics_, "text/plain; version=0.0.4; charset=utf-8");
  });
  http_->Get("/health", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  for (const char* p : kPages) {
    http_->Get(p, [this, p](const httplib::Request&, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(metrics_mu_);
      auto it = pages_.find(p);
      res.set_header("Cache-Control", "no-store");
      res.set_content(it != pages_.end() ? it->second : "<!DOCTYPE html><p>Starting: the first probe has not answered.</p>",
                      "text/html; charset=utf-8");
    });
  }
  if (!http_->bind_to_port(host, port)) {
    http_.reset();
    return Status::IO("cannot listen on " + cfg_.agent.listen + " ([agent] listen)",
                      "another process may hold the port; choose another in [agent] listen");
  }
  http_thread_ = std::thread([this] { http_->listen_after_bind(); });
  Log("metrics on http://" + cfg_.agent.listen + "/metrics, the dashboard on http://" + cfg_.agent.listen + "/");
  return Status::Ok();
}

void Agent::StopHttp() {
  if (!http_) return;
  http_->stop();
  if (http_thread_.joinable()) http_thread_.join();
  http_.reset();
}

}  // namespace lifeboat::agent
