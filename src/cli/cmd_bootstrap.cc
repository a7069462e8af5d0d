// lifeboat bootstrap --repository PATH_OR_URL --key FILE --dir DIR [--endpoint E] [--region R]
// [--dry-run] [--yes] [--json]: Scenario 3 on a machine with none of the stack. The stack
// definition the repository holds becomes DIR/lifeboat.toml (its repository the one given, its
// passphrase_file a copy of the key), then a journaled run (runbook/rebuild.h) recovers the
// database to the latest point as the new production and brings the rest back around it.
#include <iostream>

#include "base/fs.h"
#include "base/privileges.h"
#include "cli/commands.h"
#include "cli/plan_runner.h"
#include "config/portable.h"
#include "platform/definition.h"
#include "runbook/rebuild.h"
#include "storage/s3/s3_backend.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string repository;
  std::string key;
  std::string dir;
  std::string endpoint;
  std::string region = "us-east-1";
  PlanRunOptions run;
};

constexpr const char* kKeyName = "repository.key";
constexpr const char* kCredentialsName = "aws-credentials";

Status Write(const std::string& path, const std::string& text) {
  return WriteFileDurable(path, ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size()), 0600);
}

Status Run(Context& ctx, Options opt) {
  std::string dir = AbsolutePath(opt.dir);
  LB_ASSIGN_OR_RETURN(bool empty, IsMissingOrEmptyDir(dir));
  if (!empty) {
    return Status::Usage("bootstrap: '" + dir + "' is not empty",
                         "bootstrap builds the stack into a new directory: give one that is missing or empty");
  }
  RepositoryConfigSection rc;
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo,
                      OpenRepositoryAt(opt.repository, opt.key, opt.endpoint, opt.region, &rc));
  LB_ASSIGN_OR_RETURN(platform::StackDefinition def, platform::StoredDefinition(*repo));
  LB_ASSIGN_OR_RETURN(std::string key, ReadPassphraseFile(opt.key));
  // archive_command and the agent do not get this process's environment: the S3 credentials
  // that opened the repository go into a file of the new stack's, as `demo` does.
  std::string credentials;
  if (rc.is_s3()) {
    LB_ASSIGN_OR_RETURN(s3::Credentials c, LoadS3Credentials("", ""));
    credentials = FormatS3Credentials(c);
    rc.credentials_file = kCredentialsName;
  }
  std::string dropped;
  LB_ASSIGN_OR_RETURN(std::string text, PlacedConfigText(def.config, rc, kKeyName, Dirname(def.recorded_from), &dropped));
  std::string cfg_path = JoinPath(dir, "lifeboat.toml");
  Result<Config> parsed = ParseConfig(text, cfg_path);
  if (!parsed.ok()) return parsed.status().Context("bootstrap: the repository's stack definition");
  const Config& planned = *parsed;
  Say say = [&ctx](const std::string& line) { (ctx.json ? std::cerr : std::cout) << line << std::endl; };
  say("stack definition recorded " + def.recorded_at + " from " + def.recorded_from);
  if (!dropped.empty()) say("note: " + dropped + "; add [repository.offsite] again once there is a second copy");

  opt.run.confirm_what = "bootstrap builds the whole stack under " + dir + " and starts it";
  if (opt.run.dry_run) {
    platform::Stack stack(planned, SelfPath());
    runbook::Rebuild rebuild(planned, &stack, repo.get(), SelfPath());
    LB_ASSIGN_OR_RETURN(nlohmann::json params, rebuild.ResolveBootstrap(def));
    LB_ASSIGN_OR_RETURN(runbook::Plan plan, rebuild.PlanFor("bootstrap"));
    return RunPlan(ctx, repo.get(), plan, params, opt.run);
  }
  LB_RETURN_IF_ERROR(Confirm(opt.run));
  opt.run.yes = true;

  // As root, DIR and the state below it belong to the database's owner, as they would on the
  // machine that was lost: PostgreSQL and archive_command run as that user.
  if (planned.database.present) {
    LB_RETURN_IF_ERROR(BecomeUser(planned.database.os_user, {dir, planned.state.dir, planned.instances.dir}));
  } else {
    LB_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  }
  LB_RETURN_IF_ERROR(Write(JoinPath(dir, kKeyName), key + "\n"));
  if (!credentials.empty()) LB_RETURN_IF_ERROR(Write(JoinPath(dir, kCredentialsName), credentials));
  LB_RETURN_IF_ERROR(Write(cfg_path, "# Written by 'lifeboat bootstrap' from the stack definition recorded " +
                                         def.recorded_at + "\n# from " + def.recorded_from + ".\n" + text));
  say("config written to " + cfg_path);

  ctx.config_flag = cfg_path;
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  LB_ASSIGN_OR_RETURN(platform::Stack * stack, ctx.Stack());
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> served, ctx.OpenRepositoryForReading());
  runbook::Rebuild rebuild(cfg, stack, served.get(), SelfPath(), ctx.served_by);
  LB_ASSIGN_OR_RETURN(nlohmann::json params, rebuild.ResolveBootstrap(def));
  LB_ASSIGN_OR_RETURN(runbook::Plan plan, rebuild.PlanFor("bootstrap"));
  return RunPlan(ctx, served.get(), plan, params, opt.run);
}

}  // namespace

void AddBootstrap(CLI::App* app, Context* ctx) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app->add_subcommand(
      "bootstrap", "rebuild the whole stack on this machine from the repository alone (Scenario 3)");
  cmd->add_option("--repository", opt->repository, "the repository: a path or s3://BUCKET/PREFIX")->required();
  cmd->add_option("--key", opt->key, "the file that holds the repository's passphrase")->required();
  cmd->add_option("--dir", opt->dir, "where the new stack lives (missing or empty)")->required();
  cmd->add_option("--endpoint", opt->endpoint, "with an s3:// repository: its endpoint (default $AWS_ENDPOINT_URL)");
  cmd->add_option("--region", opt->region, "with an s3:// repository: its region (default us-east-1)");
  cmd->add_flag("--yes", opt->run.yes, "do not ask for confirmation");
  cmd->add_flag("--dry-run", opt->run.dry_run, "print the plan with its resolved values and change nothing");
  cmd->callback([ctx, opt] { ctx->run = [ctx, opt] { return Run(*ctx, *opt); }; });
}

}  // namespace lifeboat::cli
