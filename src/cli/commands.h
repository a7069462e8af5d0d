// Every command registers itself on the command tree; one command per file (cmd_*.cc). A
// command parses, calls the layers below, and reports; the work happens below it.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace lifeboat::cli {

void AddRepoInit(CLI::App* repo, Context* ctx);
void AddRepoKeygen(CLI::App* repo, Context* ctx);
void AddRepoCheck(CLI::App* repo, Context* ctx);
void AddRepoCopy(CLI::App* repo, Context* ctx);
void AddRepoStats(CLI::App* repo, Context* ctx);
void AddRepoPasswd(CLI::App* repo, Context* ctx);
void AddFilesBackup(CLI::App* files, Context* ctx);
void AddFilesRestore(CLI::App* files, Context* ctx);
void AddSnapshots(CLI::App* app, Context* ctx);
void AddForget(CLI::App* app, Context* ctx);
void AddPrune(CLI::App* app, Context* ctx);
void AddBackup(CLI::App* app, Context* ctx);
void AddWal(CLI::App* app, Context* ctx);
void AddWindow(CLI::App* app, Context* ctx);
void AddRestore(CLI::App* app, Context* ctx);
void AddInstances(CLI::App* app, Context* ctx);
void AddVerify(CLI::App* app, Context* ctx);
void AddExpire(CLI::App* app, Context* ctx);
void AddSecret(CLI::App* app, Context* ctx);
void AddService(CLI::App* app, Context* ctx);
void AddLb(CLI::App* app, Context* ctx);
void AddFrontend(CLI::App* app, Context* ctx);
void AddInventory(CLI::App* app, Context* ctx);
void AddUp(CLI::App* app, Context* ctx);
void AddDown(CLI::App* app, Context* ctx);
void AddStatus(CLI::App* app, Context* ctx);
void AddInternal(CLI::App* app, Context* ctx);
void AddRecover(CLI::App* app, Context* ctx);
void AddCutover(CLI::App* app, Context* ctx);
void AddRuns(CLI::App* app, Context* ctx);
void AddResume(CLI::App* app, Context* ctx);
void AddAudit(CLI::App* app, Context* ctx);
void AddCleanup(CLI::App* app, Context* ctx);
void AddDrill(CLI::App* app, Context* ctx);
void AddRunbook(CLI::App* app, Context* ctx);
// The runbook of `cfg` written into `served` (the repository the command opened) and the
// offsite one: what `runbook --store` does, for the commands that change what it says.
Status StoreRunbook(Context& ctx, const Config& cfg, Repository& served);
void AddStack(CLI::App* app, Context* ctx);
// The stack definition of `cfg` written into `served` and the offsite one (`stack record`), for
// the commands that change it: up, deploy, rollback, front-end changes. StoreRunbook does it too.
Status RecordStack(Context& ctx, const Config& cfg, Repository& served);
// RecordStack after `what` succeeded: a failure is a warning on stderr, `what` stands.
void RecordStackAfter(Context& ctx, Repository& served, const std::string& what);
void AddBootstrap(CLI::App* app, Context* ctx);
void AddPlan(CLI::App* app, Context* ctx);
void AddRecreate(CLI::App* app, Context* ctx);
void AddRebuild(CLI::App* app, Context* ctx);
void AddDemo(CLI::App* app, Context* ctx);
void AddRelease(CLI::App* app, Context* ctx);
void AddDeploy(CLI::App* app, Context* ctx);
void AddRollback(CLI::App* app, Context* ctx);
void AddRevisions(CLI::App* app, Context* ctx);
void AddAgent(CLI::App* app, Context* ctx);
void AddSchedule(CLI::App* app, Context* ctx);
void AddJobs(CLI::App* app, Context* ctx);

}  // namespace lifeboat::cli
