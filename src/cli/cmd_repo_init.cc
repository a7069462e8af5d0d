// lifeboat repo init: create the repository named by [repository] path or url.
#include <iostream>

#include "base/fs.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "repository/mirror.h"

namespace lifeboat::cli {

namespace {

Status Run(Context& ctx) {
  ctx.creates_repository = true;
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  std::string pass;
  if (const char* env = std::getenv("LIFEBOAT_PASSPHRASE"); env != nullptr && *env != '\0') {
    pass = env;
  } else if (!cfg.repository.passphrase_file.empty()) {
    LB_ASSIGN_OR_RETURN(pass, ReadPassphraseFile(cfg.repository.passphrase_file));
  } else {
    LB_ASSIGN_OR_RETURN(pass, PromptPassphrase("new passphrase: "));
    LB_ASSIGN_OR_RETURN(std::string again, PromptPassphrase("repeat passphrase: "));
    if (again != pass) return Status::Usage("the passphrases differ");
  }
  if (!cfg.repository.is_s3()) LB_RETURN_IF_ERROR(MakeDirs(cfg.repository.path, 0700));
  LB_ASSIGN_OR_RETURN(std::shared_ptr<Backend> backend, OpenBackend(cfg.repository));
  LB_RETURN_IF_ERROR(Repository::Init(*backend, pass));
  // With [repository.offsite], its mirror starts now (the config and key files), so that WAL
  // reaches both from the first segment.
  if (cfg.offsite) {
    if (!cfg.offsite->is_s3()) LB_RETURN_IF_ERROR(MakeDirs(cfg.offsite->path, 0700));
    LB_ASSIGN_OR_RETURN(std::shared_ptr<Backend> offsite, OpenBackend(*cfg.offsite));
    LB_RETURN_IF_ERROR(CopyMissing(*backend, *offsite)
                           .status()
                           .Context("created repository at '" + cfg.repository.location() +
                                    "', but not its offsite mirror at '" + cfg.offsite->location() + "'")
                           .WithHint("run 'lifeboat repo copy' once the offsite repository is reachable"));
  }
  if (ctx.json) {
    nlohmann::ordered_json j = {{cfg.repository.is_s3() ? "url" : "path", cfg.repository.location()}};
    if (cfg.offsite) j["offsite"] = cfg.offsite->location();
    PrintJson(j);
  } else {
    std::cout << "created repository at '" << cfg.repository.location() << "'\n";
    if (cfg.offsite) std::cout << "and its offsite mirror at '" << cfg.offsite->location() << "'\n";
  }
  return Status::Ok();
}

}  // namespace

void AddRepoInit(CLI::App* repo, Context* ctx) {
  CLI::App* cmd = repo->add_subcommand("init", "create a new, empty, encrypted repository");
  cmd->callback([ctx] { ctx->run = [ctx] { return Run(*ctx); }; });
}

}  // namespace lifeboat::cli
