// lifeboat repo passwd: change the passphrase without rewriting any data. The new passphrase
// comes from $LIFEBOAT_NEW_PASSPHRASE, --new-passphrase-file, or a prompt; never from the
// command line, where other users could read it.
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "repository/lock.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string new_passphrase_file;
};

Status Run(Context& ctx, const Options& opt) {
  std::string fresh;
  if (!opt.new_passphrase_file.empty()) {
    LB_ASSIGN_OR_RETURN(fresh, ReadPassphraseFile(opt.new_passphrase_file));
  } else if (const char* env = std::getenv("LIFEBOAT_NEW_PASSPHRASE"); env != nullptr && *env) {
    fresh = env;
  } else {
    LB_ASSIGN_OR_RETURN(fresh, PromptPassphrase("new passphrase: "));
    LB_ASSIGN_OR_RETURN(std::string again, PromptPassphrase("repeat new passphrase: "));
    if (again != fresh) return Status::Usage("the passphrases differ");
  }
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  LB_ASSIGN_OR_RETURN(auto lock, RepositoryLock::Acquire(repo.get(), LockKind::kExclusive, "repo passwd"));
  LB_RETURN_IF_ERROR(repo->ChangePassphrase(fresh));
  if (ctx.json) {
    PrintJson({{"key_file", repo->key_file()}});
  } else {
    std::cout << "passphrase changed; the old passphrase no longer opens the repository\n";
  }
  return Status::Ok();
}

}  // namespace

void AddRepoPasswd(CLI::App* repo, Context* ctx) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = repo->add_subcommand("passwd", "change the repository passphrase");
  cmd->add_option("--new-passphrase-file", opt->new_passphrase_file,
                  "read the new passphrase from this file (else $LIFEBOAT_NEW_PASSPHRASE)");
  cmd->callback([ctx, opt] { ctx->run = [ctx, opt] { return Run(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
