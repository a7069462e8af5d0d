// What every command shares: the global options, the configuration and the repository,
// loaded lazily so that `--help` and usage errors need neither.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "config/config.h"
#include "pg/cluster.h"
#include "platform/stack.h"
#include "repository/repository.h"

namespace lifeboat::cli {

struct Context {
  // Global options, accepted before or after the command.
  std::string config_flag;
  bool json = false;
  std::string repo_flag;  // --repo primary|offsite: "" = primary, falling back where allowed
  // The repository OpenRepositoryForReading opened ("primary" or "offsite"). Not thread-safe:
  // set only there, while the other Open* calls may run on several threads (wal push).
  std::string served_by = "primary";

  // Set by `repo init` before LoadConfig: the one command that creates a missing local
  // repository directory. For every other command a missing one is gone (moved, removed,
  // unmounted), and creating it would put an empty stranger where the repository was.
  bool creates_repository = false;

  // Set by the command that CLI11 selected; main runs it after parsing.
  std::function<Status()> run;

  // The configuration every command that works on the stack uses, loaded once: the three named
  // steps below, in order. Commands that must see the file as written use ReadConfig.
  Result<Config> LoadConfig();
  // Step 1: the config file (-c, $LIFEBOAT_CONFIG or ./lifeboat.toml), parsed and validated.
  Result<Config> ReadConfig() const;
  // Step 2: after a cleanup, <state>/production.json names the instance that took over
  // production; its data directory, socket and port replace [database]'s.
  static void AdoptProduction(Config* cfg);
  // Step 3: started as root with a cluster to protect, this process becomes the data
  // directory's owner ([database] os_user), so that PostgreSQL programs run and
  // archive_command can write everything lifeboat writes; the state and instances directories
  // (and the repository's, with `creates`) are created as that user when missing.
  // REQUIRES: no thread started yet.
  static Status ActAsDatabaseOwner(const Config& cfg, bool creates_repository);
  // The passphrase: $LIFEBOAT_PASSPHRASE, else [repository] passphrase_file, else a prompt on
  // a terminal.
  Result<std::string> Passphrase(const Config& cfg);
  Result<std::unique_ptr<Repository>> OpenRepository(bool load_index = true);
  // For commands that only read (window, restore, snapshots, wal get, verify): without --repo,
  // when the primary repository cannot be opened because it is unreachable, gone or damaged
  // and [repository.offsite] exists, the offsite mirror serves instead, and stderr says so.
  Result<std::unique_ptr<Repository>> OpenRepositoryForReading(bool load_index = true);
  // A named repository of the config ("primary" or "offsite").
  Result<std::unique_ptr<Repository>> OpenRepositoryNamed(const std::string& name, bool load_index = true);
  // The section --repo names (the primary one without it); a usage error for an unknown name
  // or an offsite the config lacks.
  Result<RepositoryConfigSection> RepositorySection(const Config& cfg, const std::string& name) const;
  // The production cluster as the pg layer wants it (platform::ProductionClusterFor: after a
  // cutover, the instance that took over); a config error when [database] is missing.
  Result<pg::ClusterConfig> Cluster();
  // The configuration if a command loaded it (for the audit log), else null.
  const Config* loaded_config() const { return config_ ? &*config_ : nullptr; }
  // The local stack of the config (services, load balancer, front end), built once.
  Result<platform::Stack*> Stack();

 private:
  std::optional<Config> config_;
  std::unique_ptr<platform::Stack> stack_;
};

// The storage the config's [repository] names: a local directory (path) or an S3 bucket and
// prefix (url, with its endpoint and the credentials of the environment or credentials_file).
Result<std::shared_ptr<Backend>> OpenBackend(const RepositoryConfigSection& rc);

// The absolute path of the running lifeboat binary (for archive and restore commands).
std::string SelfPath();

// Reads a passphrase from the terminal without echo; fails when stdin is not a terminal.
Result<std::string> PromptPassphrase(const std::string& prompt);
// Reads the first line of a file (a trailing newline is not part of the passphrase).
Result<std::string> ReadPassphraseFile(const std::string& path);

// A repository named only by its location, for a machine with no config (runbook
// --from-repository, bootstrap): `location` is a path or s3://BUCKET/PREFIX (with `endpoint`,
// else $AWS_ENDPOINT_URL, and `region`; credentials from the environment), `key_file` holds the
// passphrase. `*section` receives the location as a config section (paths made absolute).
// The index is not loaded.
Result<std::unique_ptr<Repository>> OpenRepositoryAt(const std::string& location, const std::string& key_file,
                                                     const std::string& endpoint, const std::string& region,
                                                     RepositoryConfigSection* section);

}  // namespace lifeboat::cli
