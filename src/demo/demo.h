// `lifeboat demo`: the embedded default. Builds a sandbox in one directory with everything
// local (a PostgreSQL cluster with the shop's three tenant databases, a repository, WAL
// streaming, the shop with two replicas behind haproxy, the front end, shop-load placing
// orders), then runs the runbook: a backup and a drill, the disaster (DELETE FROM order_order
// with no WHERE), and recover --time to just before it, each step printed as it runs. It leaves
// the stack running; `demo --down` stops every process it started.
#pragma once

#include <string>

#include "base/result.h"
#include "base/say.h"

namespace lifeboat::demo {

struct DemoOptions {
  std::string dir;       // the sandbox
  std::string self;      // the lifeboat binary
  std::string shop_dir;  // where shop-server, shop-seed and shop-load are ("" find them)
  // The repository on S3-compatible storage instead of in the sandbox: "s3://BUCKET/PREFIX"
  // ("" keeps it local). The sandbox's repository is a new prefix below it (demo-<time>), so a
  // rerun never meets an old one. `endpoint` ("" AWS) and `ca_file` apply to both repositories;
  // the credentials are the environment's (AWS_ACCESS_KEY_ID, ...; else the shared credentials
  // file), copied into the sandbox for archive_command and the streamer.
  std::string repository_url;
  std::string offsite_url;  // a second, offsite repository ("" none)
  std::string endpoint;
  std::string ca_file;
};

// REQUIRES: no thread started yet (it may become the postgres user).
Status RunDemo(const DemoOptions& options, const Say& say);
// Stops the load, the streamer, the stack and every cluster of the sandbox at `dir`.
Status DemoDown(const DemoOptions& options, const Say& say);

}  // namespace lifeboat::demo
