// lifeboat runbook [--format markdown|html] [-o FILE] [--store]: this stack's runbook, written
// from the config and the repository's facts (runbook/living_runbook.h); --store also writes it
// into the repository and the offsite one.
// lifeboat runbook --from-repository PATH_OR_URL --key FILE [--endpoint E] [--region R]: the
// runbook the repository holds, with no config (a new machine after the loss of the old one).
#include <cstdlib>
#include <iostream>

#include "base/fs.h"
#include "cli/commands.h"
#include "runbook/living_runbook.h"

namespace lifeboat::cli {

namespace {

struct RunbookOptions {
  std::string format = "markdown";
  std::string output;
  bool store = false;
  std::string from;
  std::string key;
  std::string endpoint;
  std::string region = "us-east-1";
};

Status Emit(const RunbookOptions& opt, const std::string& text) {
  if (opt.output.empty()) {
    std::cout << text;
    return Status::Ok();
  }
  LB_RETURN_IF_ERROR(WriteFileDurable(opt.output, ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size())));
  std::cerr << "runbook written to " << opt.output << "\n";
  return Status::Ok();
}

Status FromRepository(const RunbookOptions& opt) {
  if (opt.key.empty()) {
    return Status::Usage("--from-repository needs --key FILE", "the file that holds the repository's passphrase");
  }
  RepositoryConfigSection rc;
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, OpenRepositoryAt(opt.from, opt.key, opt.endpoint, opt.region, &rc));
  LB_ASSIGN_OR_RETURN(std::string text, runbook::StoredRunbook(*repo, opt.format));
  return Emit(opt, text);
}

// Into the repository that served, then the offsite one when that was the primary: a new
// machine may have either. With the stack definition, so that it can also rebuild what the
// runbook describes.
Status StoreRunbooks(Context& ctx, const Config& cfg, const runbook::Document& doc, Repository& served) {
  LB_RETURN_IF_ERROR(runbook::StoreRunbook(cfg, doc, served));
  if (cfg.offsite && ctx.served_by != "offsite") {
    LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> offsite, ctx.OpenRepositoryNamed("offsite", false));
    LB_RETURN_IF_ERROR(runbook::StoreRunbook(cfg, doc, *offsite));
  }
  return RecordStack(ctx, cfg, served);
}

Status Run(Context& ctx, const RunbookOptions& opt) {
  if (!opt.from.empty()) return FromRepository(opt);
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  Result<std::unique_ptr<Repository>> repo = ctx.OpenRepositoryForReading(false);
  if (!repo.ok()) {
    if (opt.store) return repo.status();
    std::cerr << "lifeboat: the repository did not answer (" << repo.status().message()
              << "): the runbook lacks its backups, window and drills" << std::endl;
  }
  Repository* served = repo.ok() ? repo->get() : nullptr;
  LB_ASSIGN_OR_RETURN(runbook::RunbookFacts facts,
                      runbook::GatherRunbookFacts(cfg, served, ctx.served_by,
                                                  repo.ok() ? "" : repo.status().message(), NowNanos()));
  runbook::Document doc = runbook::LivingRunbook(cfg, facts);
  if (opt.store) {
    LB_RETURN_IF_ERROR(StoreRunbooks(ctx, cfg, doc, *served));
    std::cerr << "runbook stored in the repository" << (cfg.offsite ? " and the offsite one" : "") << "\n";
  }
  return Emit(opt, opt.format == "html" ? doc.ToHtml("Runbook: " + cfg.database.name) : doc.ToMarkdown());
}

}  // namespace

Status StoreRunbook(Context& ctx, const Config& cfg, Repository& served) {
  LB_ASSIGN_OR_RETURN(runbook::RunbookFacts facts,
                      runbook::GatherRunbookFacts(cfg, &served, ctx.served_by, "", NowNanos()));
  return StoreRunbooks(ctx, cfg, runbook::LivingRunbook(cfg, facts), served);
}

void AddRunbook(CLI::App* app, Context* ctx) {
  auto opt = std::make_shared<RunbookOptions>();
  CLI::App* cmd = app->add_subcommand("runbook", "this stack's disaster-recovery runbook, with its last tests");
  cmd->add_option("--format", opt->format, "markdown (default) or html")->check(CLI::IsMember({"markdown", "html"}));
  cmd->add_option("-o,--output", opt->output, "write it to FILE instead of stdout");
  auto* store = cmd->add_flag("--store", opt->store, "also write it into the repository (and the offsite one)");
  auto* from = cmd->add_option("--from-repository", opt->from,
                               "print the runbook stored in this repository (a path or s3://BUCKET/PREFIX); no config");
  from->excludes(store);
  cmd->add_option("--key", opt->key, "with --from-repository: the file holding the repository's passphrase");
  cmd->add_option("--endpoint", opt->endpoint, "with an s3:// repository: its endpoint (default $AWS_ENDPOINT_URL)");
  cmd->add_option("--region", opt->region, "with an s3:// repository: its region (default us-east-1)");
  cmd->callback([ctx, opt] { ctx->run = [ctx, opt] { return Run(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
