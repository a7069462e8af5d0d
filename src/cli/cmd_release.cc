// lifeboat release add SERVICE TAG PATH | releases SERVICE [--json]: immutable releases stored
// in the repository (the runbook's ECR images).
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "platform/releases.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string service, tag, path;
};

Status Add(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  platform::Releases releases(cfg, repo.get());
  LB_ASSIGN_OR_RETURN(std::string id, releases.Add(opt.service, opt.tag, opt.path));
  if (ctx.json) {
    PrintJson({{"service", opt.service}, {"tag", opt.tag}, {"snapshot", id}});
  } else {
    std::cout << "release " << opt.service << ":" << opt.tag << " stored as snapshot " << id.substr(0, 12) << "\n";
  }
  return Status::Ok();
}

Status List(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository(false));
  platform::Releases releases(cfg, repo.get());
  LB_ASSIGN_OR_RETURN(std::vector<platform::ReleaseInfo> all, releases.List(opt.service));
  if (ctx.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : all) {
      arr.push_back({{"tag", r.tag}, {"snapshot", r.snapshot}, {"created_at", r.created_at}, {"bytes", r.bytes},
                     {"deployed_at", r.deployed_at.empty() ? nlohmann::json() : nlohmann::json(r.deployed_at)}});
    }
    std::cout << arr.dump(2) << "\n";
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : all) {
    rows.push_back({r.tag, r.created_at, FormatBytes(r.bytes), r.deployed_at.empty() ? "never" : r.deployed_at});
  }
  PrintTable({"TAG", "CREATED", "SIZE", "DEPLOYED"}, rows);
  return Status::Ok();
}

}  // namespace

void AddRelease(CLI::App* app, Context* ctx) {
  auto opt = std::make_shared<Options>();
  CLI::App* release = app->add_subcommand("release", "store releases of a service");
  release->require_subcommand(1);
  release->fallthrough();
  CLI::App* add = release->add_subcommand("add", "store a directory as an immutable release");
  add->add_option("service", opt->service, "service name")->required();
  add->add_option("tag", opt->tag, "a new tag (never reused)")->required();
  add->add_option("path", opt->path, "the release directory")->required();
  add->callback([ctx, opt] { ctx->run = [ctx, opt] { return Add(*ctx, *opt); }; });
  CLI::App* list = app->add_subcommand("releases", "a service's releases, newest first");
  list->add_option("service", opt->service, "service name")->required();
  list->callback([ctx, opt] { ctx->run = [ctx, opt] { return List(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
