#include "cli/context.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "base/fs.h"
#include "base/privileges.h"
#include "storage/local/local_backend.h"
#include "storage/s3/s3_backend.h"

namespace lifeboat::cli {

Result<Config> Context::ReadConfig() const { return lifeboat::LoadConfig(ConfigPath(config_flag)); }

void Context::AdoptProduction(Config* cfg) { platform::ApplyProductionOverride(cfg); }

Status Context::ActAsDatabaseOwner(const Config& cfg, bool creates_repository) {
  if (!cfg.database.present) return Status::Ok();
  std::vector<std::string> dirs = {cfg.state.dir, cfg.instances.dir};
  if (!cfg.repository.is_s3() && (creates_repository || PathExists(cfg.repository.path))) {
    dirs.push_back(cfg.repository.path);
  }
  return BecomeUser(cfg.database.os_user, dirs);
}

Result<Config> Context::LoadConfig() {
  if (!config_) {
    LB_ASSIGN_OR_RETURN(Config cfg, ReadConfig());
    AdoptProduction(&cfg);
    LB_RETURN_IF_ERROR(ActAsDatabaseOwner(cfg, creates_repository));
    config_ = std::move(cfg);
  }
  return *config_;
}

Result<std::string> ReadPassphraseFile(const std::string& path) {
  Result<Bytes> b = ReadFile(path);
  if (!b.ok()) {
    return Status::Config("cannot read passphrase_file '" + path + "': " + b.status().message());
  }
  std::string s(b->begin(), b->end());
  size_t nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  if (!s.empty() && s.back() == '\r') s.pop_back();
  if (s.empty()) return Status::Config("passphrase_file '" + path + "' is empty");
  return s;
}

Result<std::string> PromptPassphrase(const std::string& prompt) {
  if (!isatty(STDIN_FILENO)) {
    return Status::Config("no passphrase given",
                          "set LIFEBOAT_PASSPHRASE or [repository] passphrase_file");
  }
  std::fprintf(stderr, "%s", prompt.c_str());
  std::fflush(stderr);
  struct termios old {};
  tcgetattr(STDIN_FILENO, &old);
  struct termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string line;
  std::getline(std::cin, line);
  tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::fprintf(stderr, "\n");
  if (line.empty()) return Status::Usage("empty passphrase");
  return line;
}

Result<std::string> Context::Passphrase(const Config& cfg) {
  const char* env = std::getenv("LIFEBOAT_PASSPHRASE");
  if (env != nullptr && *env != '\0') return std::string(env);
  if (!cfg.repository.passphrase_file.empty()) {
    return ReadPassphraseFile(cfg.repository.passphrase_file);
  }
  return PromptPassphrase("passphrase for repository '" + cfg.repository.location() + "': ");
}

Result<pg::ClusterConfig> Context::Cluster() {
  LB_ASSIGN_OR_RETURN(Config cfg, LoadConfig());
  if (!cfg.database.present) {
    return Status::Config("config '" + cfg.file + "' has no [database] section",
                          "add [database] with data_dir, host, port, user and os_user");
  }
  return platform::ProductionClusterFor(cfg);
}

Result<platform::Stack*> Context::Stack() {
  if (!stack_) {
    LB_RETURN_IF_ERROR(LoadConfig().status());
    stack_ = std::make_unique<platform::Stack>(*config_, SelfPath());
  }
  return stack_.get();
}

std::string SelfPath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "lifeboat";
}

Result<RepositoryConfigSection> Context::RepositorySection(const Config& cfg, const std::string& name) const {
  if (name.empty() || name == "primary") return cfg.repository;
  if (name != "offsite") {
    return Status::Usage("there is no repository named '" + name + "'", "--repo takes primary or offsite");
  }
  if (!cfg.offsite) {
    return Status::Usage("the config has no offsite repository", "add [repository.offsite] to '" + cfg.file + "'");
  }
  return *cfg.offsite;
}

Result<std::unique_ptr<Repository>> Context::OpenRepositoryNamed(const std::string& name, bool load_index) {
  LB_ASSIGN_OR_RETURN(Config cfg, LoadConfig());
  LB_ASSIGN_OR_RETURN(RepositoryConfigSection rc, RepositorySection(cfg, name));
  LB_ASSIGN_OR_RETURN(std::string pass, Passphrase(cfg));
  OpenOptions options;
  options.load_index = load_index;
  options.compression_level = rc.compression;
  LB_ASSIGN_OR_RETURN(std::shared_ptr<Backend> backend, OpenBackend(rc));
  return Repository::Open(std::move(backend), pass, options);
}

Result<std::unique_ptr<Repository>> Context::OpenRepository(bool load_index) {
  return OpenRepositoryNamed(repo_flag, load_index);
}

Result<std::unique_ptr<Repository>> Context::OpenRepositoryForReading(bool load_index) {
  Result<std::unique_ptr<Repository>> primary = OpenRepositoryNamed(repo_flag, load_index);
  served_by = repo_flag.empty() ? "primary" : repo_flag;
  // Unreachable (I/O), gone (no config object) or damaged: the mirror may still serve. A wrong
  // passphrase or a bad config would fail there too, and says more about the primary.
  Code code = primary.ok() ? Code::kOk : primary.status().code();
  if (!repo_flag.empty() || (code != Code::kIO && code != Code::kNotFound && code != Code::kCorruption)) {
    return primary;
  }
  LB_ASSIGN_OR_RETURN(Config cfg, LoadConfig());
  if (!cfg.offsite) return primary;
  Result<std::unique_ptr<Repository>> offsite = OpenRepositoryNamed("offsite", load_index);
  if (!offsite.ok()) return primary;
  served_by = "offsite";
  std::cerr << "lifeboat: the primary repository is unreachable (" << primary.status().message()
            << "); reading from the offsite repository '" << cfg.offsite->location() << "'" << std::endl;
  return offsite;
}

Result<std::unique_ptr<Repository>> OpenRepositoryAt(const std::string& location, const std::string& key_file,
                                                     const std::string& endpoint, const std::string& region,
                                                     RepositoryConfigSection* section) {
  RepositoryConfigSection& rc = *section;
  if (location.rfind("s3://", 0) == 0) {
    rc.url = location;
    rc.region = region;
    const char* env = std::getenv("AWS_ENDPOINT_URL");
    rc.endpoint = !endpoint.empty() ? endpoint : env != nullptr ? env : "";
  } else {
    rc.path = AbsolutePath(location);
  }
  LB_ASSIGN_OR_RETURN(std::string pass, ReadPassphraseFile(key_file));
  LB_ASSIGN_OR_RETURN(std::shared_ptr<Backend> backend, OpenBackend(rc));
  OpenOptions options;
  options.load_index = false;
  return Repository::Open(std::move(backend), pass, options);
}

Result<std::shared_ptr<Backend>> OpenBackend(const RepositoryConfigSection& rc) {
  if (!rc.is_s3()) return std::shared_ptr<Backend>(std::make_shared<LocalBackend>(rc.path));
  S3Options o;
  LB_RETURN_IF_ERROR(ParseS3Url(rc.url, &o));
  o.endpoint = rc.endpoint;
  o.region = rc.region;
  o.uri_style = rc.uri_style == "path"   ? S3Options::UriStyle::kPath
                : rc.uri_style == "host" ? S3Options::UriStyle::kHost
                                         : S3Options::UriStyle::kDefault;
  o.ca_file = rc.ca_file;
  o.verify_tls = rc.verify_tls;
  o.storage_class = rc.storage_class;
  o.sse = rc.sse;
  o.multipart_threshold = static_cast<uint64_t>(rc.multipart_threshold_mib) << 20;
  o.retry_seconds = static_cast<double>(rc.retry_seconds);
  LB_ASSIGN_OR_RETURN(s3::Credentials creds, LoadS3Credentials(rc.credentials_file, rc.profile));
  return std::shared_ptr<Backend>(std::make_shared<S3Backend>(std::move(o), std::move(creds)));
}

}  // namespace lifeboat::cli
