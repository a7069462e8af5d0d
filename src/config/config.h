// lifeboat.toml: the one configuration file. Loaded strictly: an unknown key, a wrong type or
// a missing required key is an error naming the file, the line and the key. Relative paths in
// the file are relative to the directory that holds it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace lifeboat {

struct RepositoryConfigSection {
  std::string name = "primary";  // "primary" ([repository]) or "offsite" ([repository.offsite])
  // Exactly one of `path` (a local directory) and `url` (s3://BUCKET/PREFIX).
  std::string path;
  std::string url;
  std::string passphrase_file;  // optional; LIFEBOAT_PASSPHRASE is used otherwise
  int compression = 1;          // zstd level for data, 0 = off. Default: 1
  // S3 only. Credentials never live here: the environment (AWS_ACCESS_KEY_ID, ...) or
  // `credentials_file` (the AWS shared-credentials format) at `profile`.
  std::string endpoint;        // "" = the AWS endpoint of `region`
  std::string region = "us-east-1";
  std::string uri_style;       // "path" | "host"; "" = host on AWS, path elsewhere
  std::string ca_file;
  bool verify_tls = true;
  std::string storage_class;
  std::string sse;
  std::string credentials_file;
  std::string profile;
  int64_t multipart_threshold_mib = 64;  // larger objects go up as multipart uploads
  int64_t retry_seconds = 60;            // how long one request may keep retrying
  // [repository] only: when archive_command may report success with an offsite repository:
  // "all" (both stored the segment) or "any" (one did; the other catches up from a queue).
  std::string wal_acknowledge = "all";
  // [repository.offsite] only: its own retention in days; 0 = [retention] days.
  int days = 0;

  bool is_s3() const { return !url.empty(); }
  // What messages call the repository: its path or its url.
  const std::string& location() const { return is_s3() ? url : path; }
};

struct StateConfigSection {
  // Local state that is not in the repository (caches, registries, journals, local locks).
  // Default: ".lifeboat" beside the config file.
  std::string dir;
};

// The production cluster lifeboat protects. Present when the config has [database].
struct DatabaseConfigSection {
  bool present = false;
  std::string name = "main";               // the production instance's name in the inventory
  std::string data_dir;                    // required
  std::string host = "/var/run/postgresql";  // socket directory or host name
  int port = 5432;
  std::string user = "postgres";           // role for backup and replication
  std::string os_user = "postgres";        // owner of data_dir; PostgreSQL programs run as it
  std::string bin_dir = "/usr/lib/postgresql/15/bin";
  // Tables up to this size get an exact row count in each snapshot; larger ones an estimate.
  int64_t exact_count_limit = 64 << 20;
  // How long a backup waits for its WAL to reach the repository while none arrives.
  int64_t archive_timeout_seconds = 60;
};

struct RetentionConfigSection {
  int days = 7;  // the point-in-time window
};

// Default port ranges lie below Linux's ephemeral range (32768-60999): a port there can be
// taken at any moment by an outgoing connection, and its TIME_WAIT then blocks a listener.
struct InstancesConfigSection {
  std::string dir;       // where restores create new instances; default: <state dir>/instances
  int port_first = 24000;
  int port_last = 24099;
};

struct ObjectivesConfigSection {
  int64_t rto_seconds = 4 * 3600;   // "4h": the runbook's objective
  int64_t rpo_seconds = 24 * 3600;  // "24h"
};

struct FreshnessConfig {
  std::string database, table, column;
};

struct UserCheckConfig {
  std::string name, database, sql, expect;
};

struct VerifyConfigSection {
  std::vector<std::string> critical_tables;  // "db.schema.table": must exist and hold rows
  double shrink_limit = 0.10;     // a table that lost more than this share of its rows fails
  double size_tolerance = 0.50;   // a database whose size moved more than this share warns
  int64_t amcheck_timeout_seconds = 600;
  double sample = 1.0;            // share of indexes and tables whose pages are checked
  int64_t budget_seconds = 0;     // the time a whole verify may take; 0: check everything
  std::vector<FreshnessConfig> freshness;
  std::vector<UserCheckConfig> checks;
};

// [service.NAME]: a stateless service run as supervised replicas behind the load balancer.
struct ServiceConfig {
  std::string name;
  // The program and its arguments; "{port}" is replaced by the replica's port. A string is
  // split on spaces; a relative program path is relative to the config file's directory.
  std::vector<std::string> command;
  int replicas = 1;
  std::string health_path = "/health";  // 200 means healthy
  std::string smoke_path;               // a request a health gate also makes ("" none)
  std::string secret;                   // its keys become the replicas' environment ("" none)
  int port_first = 24100;
  int port_last = 24199;
  std::map<std::string, std::string> env;  // extra environment
  std::vector<std::string> routes = {"/"};  // path prefixes the load balancer sends here
  int64_t start_timeout_seconds = 30;    // a new replica must be healthy within this
  int64_t drain_seconds = 1;             // a removed replica keeps running this long
  // Deployments: databases that migrations apply to (default: the secret's PGDATABASE), how
  // long a new revision is watched, and the share of failed requests that rolls it back.
  std::vector<std::string> databases;
  int64_t bake_seconds = 5;
  double error_threshold = 0.1;
  int keep_releases = 10;                // retention: the newest N releases, plus any deployed
  // True when the command runs a deployed release ("{release}" in it).
  bool UsesRelease() const {
    for (const auto& a : command) {
      if (a.find("{release}") != std::string::npos) return true;
    }
    return false;
  }
};

// [load_balancer]: haproxy in front of every service.
struct LoadBalancerConfigSection {
  bool present = false;
  std::string bind = "127.0.0.1";
  int port = 8080;
  std::string haproxy = "/usr/sbin/haproxy";
};

// [frontend]: static files published as files snapshots and served through the load balancer.
struct FrontendConfigSection {
  bool present = false;
  std::string dir;             // required: the source directory that `frontend publish` snapshots
  std::string path = "/site/";  // the path prefix the load balancer sends to it
  int port_first = 24200;
  int port_last = 24219;
};

// [recovery]: how recover, cutover and cleanup switch the application over.
struct RecoveryConfigSection {
  // The secret that points the services at the database; cutover writes the restored
  // instance's PGHOST and PGPORT into a new version. Default: the first service's secret.
  std::string secret;
  int64_t gate_timeout_seconds = 60;      // the health gate must pass within this
  int64_t cleanup_after_seconds = 24 * 3600;  // cleanup refuses earlier, unless --now
  // How far ahead of replay a restore fetches WAL, in MiB of spool (0: no prefetch; every
  // restore_command fetches its own file).
  int wal_prefetch_mib = 256;
};

// [rebuild]: what a rebuild (bootstrap) does beyond the stack itself.
struct RebuildConfigSection {
  // The seed's manual DNS step: a program (and its arguments) run once the rebuilt stack
  // serves, with its endpoints as JSON on stdin; it must exit 0. Empty: the rebuild prints the
  // records to set. A relative program is relative to the config's directory.
  std::vector<std::string> dns_hook;
};

// [schedule]: what the agent runs and when (schedule/schedule.h has the forms). A job with
// no schedule is not run by the agent. Every value is checked when the config is loaded.
struct ScheduleConfigSection {
  std::string timezone = "UTC";  // a name of the system's time-zone database
  std::string full;              // full backups
  std::string window;            // the full backups' daily window ("03:00-04:00"; "" any time)
  std::string incremental;       // incremental backups
  std::string expire;
  std::string copy;              // repo copy to the offsite repository ("after backup" or a time)
  std::string verify;            // verify --snapshot latest
  std::string drill;
  std::string drill_point = "latest";  // "random": each drill restores a random point of the window
};

// [agent]: the long-running `lifeboat agent`.
struct AgentConfigSection {
  bool present = false;  // the config has [agent]: a rebuild starts the agent
  bool stream = true;  // supervise `wal stream` (when there is a [database])
  std::string listen;  // "127.0.0.1:9187": serve /metrics and /health there ("" none)
  int64_t probe_interval_seconds = 60;  // how often the metrics' probes run
  // A file whose first line is the token every page and /metrics then require (a Bearer
  // header or the cookie the login form sets). Required when `listen` is not a loopback address.
  std::string token_file;
};

// [alert] and [[alert.notify]]: where the agent's alerts go.
struct AlertNotifyConfig {
  std::string webhook;               // a URL that gets each notification as a JSON POST
  std::vector<std::string> command;  // or a program that gets it as JSON on stdin
};
struct AlertConfigSection {
  int64_t repeat_seconds = 4 * 3600;  // a firing alert notifies again this often
  int64_t min_free_percent = 10;      // less free space than this fires disk_space_low
  std::vector<AlertNotifyConfig> notify;
};

// [[contacts]]: the runbook's contact list; every alert carries it.
struct ContactConfig {
  std::string name, email, role;
};

struct Config {
  std::string file;  // absolute path of the file it was loaded from
  // 16 hex digits that change when anything a recovery depends on changes (every table but
  // [schedule], [agent], [alert] and [[contacts]]), and not with comments or layout. Each drill
  // records it: a runbook section tested under another configuration is stale.
  std::string recovery_fingerprint;
  RepositoryConfigSection repository;
  // The offsite mirror of `repository` (the same repository, kept in step by `repo copy`,
  // `backup` and `wal push`), when the config has [repository.offsite].
  std::optional<RepositoryConfigSection> offsite;
  StateConfigSection state;
  DatabaseConfigSection database;
  RetentionConfigSection retention;
  InstancesConfigSection instances;
  ObjectivesConfigSection objectives;
  VerifyConfigSection verify;
  std::vector<ServiceConfig> services;  // sorted by name
  LoadBalancerConfigSection load_balancer;
  FrontendConfigSection frontend;
  RecoveryConfigSection recovery;
  RebuildConfigSection rebuild;
  ScheduleConfigSection schedule;
  AgentConfigSection agent;
  AlertConfigSection alert;
  std::vector<ContactConfig> contacts;

  const ServiceConfig* FindService(const std::string& name) const;
};

// Which file to load: `flag` (-c) if given, else $LIFEBOAT_CONFIG, else ./lifeboat.toml.
std::string ConfigPath(const std::string& flag);

Result<Config> LoadConfig(const std::string& path);
// Parses TOML text as if it came from `path` (for tests and the fuzzer).
Result<Config> ParseConfig(const std::string& text, const std::string& path);

}  // namespace lifeboat
