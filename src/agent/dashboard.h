// The agent's dashboard: server-rendered HTML pages with inline SVG charts and one small
// stylesheet, all in the binary (no fonts, scripts or links elsewhere: it must read on a
// machine with no network, during the disaster it is for). A line of script reloads a page
// every 10 s; the page reads the same without it.
//
//   /         overview: protected or not, WAL lag against the RPO, the newest backups, the
//             window as a timeline bar with its snapshots and gaps, the next jobs, alerts, the stack
//   /drills   RTO and RPO of every restore drill over time against the objectives; the table
//   /runs     recoveries, cutovers, deploys, rollbacks and drills with their steps; the jobs
//   /runbook  the living runbook (runbook/living_runbook.h)
//
// Pure: RenderPage turns what the agent observed into a page; the unit tests drive it with JSON
// written by hand. Read-only: no page changes anything.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/alerts.h"
#include "agent/metrics.h"
#include "runbook/journal.h"

namespace lifeboat::agent {

struct DashboardInput {
  Observations observed;                 // the probes' outputs, the journal, the objectives
  std::vector<FiringAlert> firing;       // what the alert tracker says fires now
  std::vector<runbook::RunRecord> runs;  // <state>/runs, newest first
  std::string runbook_html;              // the runbook's body (Document::ToHtmlBody)
  std::string title = "lifeboat";        // the production instance's name
};

// The page at `path` ("/", "/drills", "/runs", "/runbook"), or "" for any other path.
std::string RenderPage(const std::string& path, const DashboardInput& in);

// The page a request without the token gets (401): a form that asks for it and nothing else.
// `failed` when a token was given and was not the one.
std::string LoginPage(bool failed);

}  // namespace lifeboat::agent
