// lifeboat demo [--dir DIR] [--repository s3://... [--endpoint URL] [--offsite s3://...]] [--down]:
// the embedded default (see demo/demo.h).
#include <iostream>

#include "base/fs.h"
#include "cli/commands.h"
#include "demo/demo.h"

namespace lifeboat::cli {

void AddDemo(CLI::App* app, Context* ctx) {
  struct Options {
    std::string dir = "lifeboat-demo";
    bool down = false;
    demo::DemoOptions demo;
  };
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app->add_subcommand("demo", "build a local sandbox and run the whole runbook in it");
  cmd->add_option("--dir", opt->dir, "the sandbox directory (default: ./lifeboat-demo)");
  cmd->add_option("--repository", opt->demo.repository_url,
                  "s3://BUCKET/PREFIX: the repository on S3 (credentials from AWS_ACCESS_KEY_ID, ...)");
  cmd->add_option("--offsite", opt->demo.offsite_url, "s3://BUCKET/PREFIX: a second, offsite repository");
  cmd->add_option("--endpoint", opt->demo.endpoint, "the S3 endpoint, e.g. http://127.0.0.1:7480 (default: AWS)");
  cmd->add_option("--ca-file", opt->demo.ca_file, "a CA certificate (PEM) to trust for the endpoint");
  cmd->add_flag("--down", opt->down, "stop every process of the sandbox");
  cmd->callback([ctx, opt] {
    ctx->run = [opt]() -> Status {
      demo::DemoOptions o = opt->demo;
      auto absolute = [](const std::string& p) { return p.front() == '/' ? p : JoinPath(RealPath("."), p); };
      o.dir = absolute(opt->dir);
      if (!o.ca_file.empty()) o.ca_file = absolute(o.ca_file);
      o.self = SelfPath();
      auto say = [](const std::string& line) { std::cout << line << std::endl; };
      return opt->down ? demo::DemoDown(o, say) : demo::RunDemo(o, say);
    };
  });
}

}  // namespace lifeboat::cli
