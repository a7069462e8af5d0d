#include "platform/stack.h"

#include "base/fs.h"
#include "base/process.h"
#include "pg/instance.h"
#include "pg/stream.h"
#include "platform/releases.h"
#include "platform/wal_queue.h"

namespace lifeboat::platform {

namespace {

// What `up` started, so that `down` stops exactly that.
struct StackRecord {
  bool started_database = false;
};

std::string RecordPath(const Config& cfg) { return cfg.state.dir + "/stack.json"; }

StackRecord ReadRecord(const Config& cfg) {
  StackRecord r;
  Result<Bytes> b = ReadFile(RecordPath(cfg));
  if (!b.ok()) return r;
  auto j = nlohmann::json::parse(b->begin(), b->end(), nullptr, false);
  if (j.is_object()) r.started_database = j.value("started_database", false);
  return r;
}

Status WriteRecord(const Config& cfg, const StackRecord& r) {
  std::string text = nlohmann::json{{"started_database", r.started_database}}.dump() + "\n";
  LB_RETURN_IF_ERROR(MakeDirs(cfg.state.dir, 0700));
  return WriteFileDurable(RecordPath(cfg),
                          ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size()), 0600);
}

// The production cluster as an instance, with its pg_ctl log in the state directory.

}  // namespace

pg::Instance ProductionInstance(const Config& cfg) {
  pg::Instance i;
  i.name = cfg.database.name;
  i.dir = cfg.state.dir + "/database";
  i.data_dir = cfg.database.data_dir;
  i.host = cfg.database.host;
  i.port = cfg.database.port;
  i.role = pg::InstanceRole::kProduction;
  return i;
}

pg::ClusterConfig ClusterFor(const Config& cfg) {
  pg::ClusterConfig c;
  c.data_dir = cfg.database.data_dir;
  c.conn.host = cfg.database.host;
  c.conn.port = cfg.database.port;
  c.conn.user = cfg.database.user;
  c.os_user = cfg.database.os_user;
  c.bin_dir = cfg.database.bin_dir;
  c.exact_count_limit = cfg.database.exact_count_limit;
  c.archive_timeout_seconds = cfg.database.archive_timeout_seconds;
  return c;
}

pg::ClusterConfig ProductionClusterFor(const Config& cfg, std::string* instance) {
  Config current = cfg;
  ApplyProductionOverride(&current);
  pg::ClusterConfig c = ClusterFor(current);
  if (instance != nullptr) instance->clear();
  Result<std::vector<pg::Instance>> all = pg::InstanceRegistry(cfg.state.dir).List();
  if (!all.ok()) return c;
  for (const pg::Instance& i : *all) {
    if (i.role != pg::InstanceRole::kProduction) continue;
    c.data_dir = i.data_dir;
    c.conn.host = i.host;
    c.conn.port = i.port;
    if (instance != nullptr) *instance = i.name;
  }
  return c;
}

void ApplyProductionOverride(Config* cfg) {
  Result<Bytes> b = ReadFile(cfg->state.dir + "/production.json");
  if (!b.ok()) return;
  auto j = nlohmann::json::parse(b->begin(), b->end(), nullptr, false);
  if (!j.is_object() || !cfg->database.present) return;
  cfg->database.data_dir = j.value("data_dir", cfg->database.data_dir);
  cfg->database.host = j.value("host", cfg->database.host);
  cfg->database.port = j.value("port", cfg->database.port);
}

Status WriteProductionOverride(const Config& cfg, const std::string& data_dir, const std::string& host,
                               int port) {
  std::string text = nlohmann::json{{"data_dir", data_dir}, {"host", host}, {"port", port}}.dump(2) + "\n";
  return WriteFileDurable(cfg.state.dir + "/production.json",
                          ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size()), 0600);
}

Stack::Stack(const Config& cfg, std::string self)
    : cfg_(cfg), self_(std::move(self)), frontend_(cfg, self_), services_(cfg.services) {
  if (frontend_.configured()) services_.push_back(frontend_.AsService());
  manager_ = std::make_unique<ServiceManager>(cfg.state.dir, self_, [this] { return lb_->Sync(); });
  lb_ = std::make_unique<LoadBalancer>(cfg, services_, manager_.get());
}

const ServiceConfig* Stack::FindService(const std::string& name) const {
  for (const auto& s : services_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

pg::ClusterConfig Stack::Cluster() const { return ClusterFor(cfg_); }

Result<ReplicaEnv> Stack::EnvFor(const ServiceConfig& svc, Repository* repo) {
  ReplicaEnv env;
  env.vars = svc.env;
  if (svc.UsesRelease() && repo != nullptr) {
    Releases releases(cfg_, repo);
    LB_ASSIGN_OR_RETURN(std::optional<Revision> active, releases.Active(svc.name));
    if (active) {
      env.release = active->tag;
      LB_ASSIGN_OR_RETURN(env.release_dir, releases.Install(svc.name, active->tag));
    }
  }
  if (svc.secret.empty()) return env;
  if (repo == nullptr) return Status::Usage("service '" + svc.name + "' needs its secret: open the repository");
  SecretStore store(cfg_.state.dir, repo);
  Result<Secret> secret = store.Get(svc.secret);
  if (!secret.ok()) {
    return secret.status().Context("service '" + svc.name + "' uses secret '" + svc.secret + "'");
  }
  const SecretVersion* v = secret->Find(secret->current);
  if (v == nullptr) return Status::Corruption("secret '" + svc.secret + "' has no current version");
  for (const auto& [k, value] : v->values) env.vars[k] = value;
  env.secret_version = v->version;
  return env;
}

Status Stack::StartService(const ServiceConfig& svc, Repository* repo) {
  LB_ASSIGN_OR_RETURN(ReplicaEnv env, EnvFor(svc, repo));
  return manager_->Start(svc, env);
}

Status Stack::RestartService(const ServiceConfig& svc, Repository* repo) {
  LB_ASSIGN_OR_RETURN(ReplicaEnv env, EnvFor(svc, repo));
  return manager_->RollingRestart(svc, env);
}

Status Stack::SwitchService(const ServiceConfig& svc, Repository* repo) {
  LB_ASSIGN_OR_RETURN(ReplicaEnv env, EnvFor(svc, repo));
  return manager_->Switch(svc, env);
}

Result<HttpReply> Stack::Probe(const ServiceConfig& svc, const std::string& path, int attempt) {
  if (lb_->configured() && lb_->Running()) {
    return HttpGet(cfg_.load_balancer.bind, cfg_.load_balancer.port, path, 5);
  }
  LB_ASSIGN_OR_RETURN(ServiceState st, manager_->Load(svc.name));
  std::vector<int> ports;
  for (const auto& r : st.replicas) {
    if (r.registered) ports.push_back(r.port);
  }
  if (ports.empty()) return Status::IO("service '" + svc.name + "' has no replica in service");
  return HttpGet("127.0.0.1", ports[static_cast<size_t>(attempt) % ports.size()], path, 5);
}

std::string Stack::DatabaseState() const {
  if (!cfg_.database.present) return "absent";
  return pg::InstanceStatus(ProductionInstance(cfg_));
}

Status Stack::Up(Repository& repo, const Say& say) {
  if (cfg_.database.present) {
    pg::Instance prod = ProductionInstance(cfg_);
    if (pg::StateOf(prod) == pg::InstanceState::kRunning) {
      say("database: " + prod.name + " already running on port " + std::to_string(prod.port));
    } else {
      LB_RETURN_IF_ERROR(MakeDirs(prod.dir, 0700));
      LB_RETURN_IF_ERROR(pg::StartInstance(Cluster(), prod));
      StackRecord rec = ReadRecord(cfg_);
      rec.started_database = true;
      LB_RETURN_IF_ERROR(WriteRecord(cfg_, rec));
      say("database: started " + prod.name + " on port " + std::to_string(prod.port));
    }
  }
  // Secrets first: a service whose secret is missing must fail before anything starts.
  for (const auto& svc : services_) LB_RETURN_IF_ERROR(EnvFor(svc, &repo).status());
  if (frontend_.configured() && frontend_.Current().empty()) {
    LB_ASSIGN_OR_RETURN(std::string id, frontend_.Publish(repo));
    say("frontend: published " + cfg_.frontend.dir + " as snapshot " + id.substr(0, 12));
  }
  for (const auto& svc : services_) {
    LB_RETURN_IF_ERROR(StartService(svc, &repo));
    LB_ASSIGN_OR_RETURN(ServiceState st, manager_->Load(svc.name));
    std::string ports;
    for (const auto& r : st.replicas) ports += (ports.empty() ? "" : ", ") + std::to_string(r.port);
    say("service " + svc.name + ": " + std::to_string(st.replicas.size()) +
        " healthy replica(s) on port(s) " + ports);
  }
  if (lb_->configured()) {
    LB_RETURN_IF_ERROR(lb_->Ensure());
    say("load balancer: " + lb_->url() + " (haproxy pid " + std::to_string(lb_->pid()) + ")");
  }
  return Status::Ok();
}

Status Stack::Down(const Say& say) {
  if (lb_->Running()) {
    LB_RETURN_IF_ERROR(lb_->Stop());
    say("load balancer: stopped");
  }
  LB_ASSIGN_OR_RETURN(auto states, manager_->LoadAll());
  for (const auto& [name, state] : states) {
    const ServiceConfig* known = FindService(name);
    ServiceConfig svc;
    svc.name = name;  // a service no longer in the config is still stopped, by its recorded pids
    LB_RETURN_IF_ERROR(manager_->Stop(known ? *known : svc));
    if (!state.replicas.empty()) {
      say("service " + name + ": stopped " + std::to_string(state.replicas.size()) + " replica(s)");
    }
  }
  StackRecord rec = ReadRecord(cfg_);
  if (rec.started_database && cfg_.database.present) {
    pg::Instance prod = ProductionInstance(cfg_);
    LB_RETURN_IF_ERROR(pg::StopInstance(Cluster(), prod));
    rec.started_database = false;
    LB_RETURN_IF_ERROR(WriteRecord(cfg_, rec));
    say("database: stopped " + prod.name);
  }
  return Status::Ok();
}

nlohmann::json Stack::Protection(bool* healthy) const {
  std::string instance;
  pg::ClusterConfig prod = ProductionClusterFor(cfg_, &instance);
  nlohmann::json out = {{"production", instance.empty() ? cfg_.database.name : instance},
                        {"host", prod.conn.host},
                        {"port", prod.conn.port}};
  std::vector<std::string> problems;
  // What production has written, and its archiver (pg_stat_archiver).
  std::optional<pg::Lsn> current;
  pg::ConnInfo info = prod.conn;
  info.dbname = "postgres";
  if (Result<std::unique_ptr<pg::Connection>> c = pg::Connection::Open(info); c.ok()) {
    Result<pg::Rows> r = (*c)->Query(
        "SELECT pg_current_wal_lsn()::text, failed_count, coalesce(last_failed_wal, ''), "
        "coalesce(last_failed_time::text, ''), coalesce(last_archived_wal, ''), "
        "(SELECT setting FROM pg_settings WHERE name = 'archive_command'), "
        "coalesce(last_failed_time > coalesce(last_archived_time, '-infinity'), false) FROM pg_stat_archiver");
    if (r.ok() && !r->empty()) {
      if (Result<pg::Lsn> lsn = pg::ParseLsn(r->Get(0, 0)); lsn.ok()) current = *lsn;
      out["archiver"] = {{"failed_count", std::atoll(r->Get(0, 1).c_str())},
                         {"last_failed_wal", r->Get(0, 2)},
                         {"last_failed_time", r->Get(0, 3)},
                         {"last_archived_wal", r->Get(0, 4)},
                         // The newest attempt failed: WAL is piling up in pg_wal.
                         {"failing", r->Get(0, 6) == "t"}};
      if (r->Get(0, 5).empty()) problems.push_back("production does not archive (archive_command is empty)");
      if (r->Get(0, 6) == "t") {
        problems.push_back("production's archiver fails: " + r->Get(0, 1) + " failure(s), the newest on " + r->Get(0, 2) +
                           " at " + r->Get(0, 3));
      }
    }
  }
  // The streamer, from the state it publishes (<state>/stream.json).
  Result<Bytes> b = ReadFile(cfg_.state.dir + "/stream.json");
  if (b.ok()) {
    auto j = nlohmann::json::parse(b->begin(), b->end(), nullptr, false);
    Result<pg::StreamProgress> p = pg::StreamProgress::FromJson(j, "stream.json");
    if (!p.ok()) {
      problems.push_back(p.status().message());
    } else {
      bool alive = ProcessMatches(p->pid, "stream");
      std::string state = pg::StreamStateName(p->state);
      if (!alive && (p->state == pg::StreamProgress::State::kRunning ||
                     p->state == pg::StreamProgress::State::kReconnecting)) {
        state = "dead";
      }
      nlohmann::json st = {{"state", state},           {"pid", p->pid},          {"timeline", p->timeline},
                           {"last_segment", p->segment}, {"flushed", pg::FormatLsn(p->flushed)},
                           {"stored_at", p->stored_at},  {"error", p->error}};
      // Lag: nothing when the repository has all production wrote; else the time since the
      // streamer last stored anything.
      if (current && p->flushed >= *current) {
        st["wal_lag_seconds"] = 0.0;
      } else if (Result<UnixNanos> at = ParseTimestamp(p->stored_at); at.ok()) {  // "" fails: never stored
        st["wal_lag_seconds"] = static_cast<double>(NowNanos() - *at) / 1e9;
      } else {
        st["wal_lag_seconds"] = nullptr;
      }
      out["wal_lag_seconds"] = st["wal_lag_seconds"];
      out["streamer"] = st;
      if (state == "failed" || state == "dead" || state == "stopped") {
        problems.push_back("the WAL streamer (pid " + std::to_string(p->pid) + ") " +
                           (state == "failed" ? "failed: " + p->error
                            : state == "dead" ? std::string("is not running")
                                              : std::string("was stopped")));
      } else if (p->host != prod.conn.host || p->port != prod.conn.port) {
        problems.push_back("the WAL streamer reads " + p->host + " port " + std::to_string(p->port) +
                           ", not production");
      }
    }
  }
  // WAL waiting for a repository that did not store it (wal push's and the streamer's queues).
  nlohmann::json queues = WalQueueSummary(cfg_, &problems);
  if (!queues.empty()) out["wal_queue"] = queues;
  out["problems"] = problems;
  if (!problems.empty()) *healthy = false;
  return out;
}

nlohmann::json Stack::Space(std::vector<std::string>* problems) const {
  // Where lifeboat writes: the repository (when local), production's pg_wal, the instances.
  std::vector<std::pair<std::string, std::string>> places;
  if (!cfg_.repository.is_s3()) places.push_back({"repository", cfg_.repository.path});
  if (cfg_.database.present) places.push_back({"pg_wal", JoinPath(ProductionClusterFor(cfg_, nullptr).data_dir, "pg_wal")});
  places.push_back({"instances", cfg_.instances.dir});
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [what, path] : places) {
    Result<FsSpace> sp = FreeSpace(path);
    if (!sp.ok()) {
      problems->push_back(sp.status().message());
      out.push_back({{"what", what}, {"path", path}, {"error", sp.status().message()}});
      continue;
    }
    double percent = sp->total_bytes == 0 ? 100.0 : 100.0 * static_cast<double>(sp->free_bytes) / static_cast<double>(sp->total_bytes);
    bool low = percent < static_cast<double>(cfg_.alert.min_free_percent);
    out.push_back({{"what", what}, {"path", path}, {"free_bytes", sp->free_bytes}, {"total_bytes", sp->total_bytes},
                   {"free_percent", percent}, {"low", low}});
    if (low) {
      char buf[160];
      std::snprintf(buf, sizeof(buf), "%.1f%% free (%.1f GiB), below [alert] min_free_percent = %lld",
                    percent, static_cast<double>(sp->free_bytes) / (1 << 30), static_cast<long long>(cfg_.alert.min_free_percent));
      problems->push_back("little space for " + what + " at '" + path + "': " + buf);
    }
  }
  return out;
}

Result<nlohmann::json> Stack::Summary() {
  bool healthy = true;
  nlohmann::json out = nlohmann::json::object();
  if (cfg_.database.present) {
    std::string st = DatabaseState();
    healthy = healthy && st == "running";
    out["database"] = {{"name", cfg_.database.name}, {"status", st}, {"port", cfg_.database.port}};
    out["protection"] = Protection(&healthy);
    if (out["protection"].contains("wal_lag_seconds")) out["wal_lag_seconds"] = out["protection"]["wal_lag_seconds"];
  }
  nlohmann::json services = nlohmann::json::array();
  for (const auto& svc : services_) {
    LB_ASSIGN_OR_RETURN(std::vector<ReplicaHealth> replicas, manager_->Health(svc));
    int ok = 0;
    bool crash_loop = false;
    nlohmann::json rs = nlohmann::json::array();
    for (const auto& h : replicas) {
      ok += h.healthy ? 1 : 0;
      crash_loop = crash_loop || h.status.crash_loop();
      rs.push_back(ReplicaHealthToJson(h));
    }
    bool svc_ok = ok >= svc.replicas && !crash_loop;
    healthy = healthy && svc_ok;
    services.push_back({{"name", svc.name}, {"desired", svc.replicas}, {"healthy", ok},
                        {"crash_loop", crash_loop}, {"replicas", rs}});
  }
  out["services"] = services;
  if (lb_->configured()) {
    bool running = lb_->Running();
    healthy = healthy && running;
    out["load_balancer"] = {{"url", lb_->url()}, {"running", running}, {"pid", running ? lb_->pid() : 0}};
  }
  if (frontend_.configured()) {
    out["frontend"] = {{"dir", cfg_.frontend.dir}, {"current", frontend_.Current()}};
  }
  std::vector<std::string> problems;
  out["space"] = Space(&problems);
  out["problems"] = problems;
  healthy = healthy && problems.empty();
  out["healthy"] = healthy;
  return out;
}

Result<nlohmann::json> Stack::Inventory(Repository* repo) {
  nlohmann::json items = nlohmann::json::array();
  pg::InstanceRegistry registry(cfg_.state.dir);
  LB_ASSIGN_OR_RETURN(std::vector<pg::Instance> instances, registry.List());
  bool restored_is_production = false;
  for (const auto& i : instances) restored_is_production = restored_is_production || i.role == pg::InstanceRole::kProduction;
  if (cfg_.database.present) {
    pg::Instance prod = ProductionInstance(cfg_);
    items.push_back({{"type", "instance"}, {"name", prod.name}, {"host", prod.host},
                     {"port", prod.port}, {"data_dir", prod.data_dir},
                     {"role", restored_is_production ? "retired" : "production"},
                     {"status", pg::InstanceStatus(prod)}});
  }
  for (const auto& i : instances) {
    items.push_back({{"type", "instance"}, {"name", i.name}, {"host", i.host}, {"port", i.port},
                     {"data_dir", i.data_dir}, {"role", pg::InstanceRoleName(i.role)}, {"status", pg::InstanceStatus(i)}});
  }
  if (repo != nullptr) {
    SecretStore store(cfg_.state.dir, repo);
    LB_ASSIGN_OR_RETURN(std::vector<std::string> names, store.List());
    for (const auto& n : names) {
      LB_ASSIGN_OR_RETURN(Secret s, store.Get(n));
      items.push_back({{"type", "secret"}, {"name", n}, {"current_version", s.current},
                       {"previous_version", s.previous}});
    }
  }
  for (const auto& svc : services_) {
    LB_ASSIGN_OR_RETURN(std::vector<ReplicaHealth> replicas, manager_->Health(svc));
    nlohmann::json rs = nlohmann::json::array();
    int healthy = 0;
    for (const auto& h : replicas) {
      healthy += h.healthy ? 1 : 0;
      rs.push_back({{"id", h.replica.id}, {"port", h.replica.port}, {"pid", h.replica.pid},
                    {"healthy", h.healthy}, {"secret_version", h.replica.secret_version}});
    }
    items.push_back({{"type", "service"}, {"name", svc.name}, {"desired", svc.replicas},
                     {"healthy", healthy}, {"secret", svc.secret}, {"replicas", rs}});
  }
  if (lb_->configured()) {
    items.push_back({{"type", "load_balancer"}, {"name", "haproxy"}, {"url", lb_->url()},
                     {"running", lb_->Running()}, {"pid", lb_->Running() ? lb_->pid() : 0}});
  }
  if (frontend_.configured()) {
    items.push_back({{"type", "frontend"}, {"name", "frontend"}, {"dir", cfg_.frontend.dir},
                     {"path", cfg_.frontend.path}, {"current_snapshot", frontend_.Current()}});
  }
  items.push_back({{"type", "repository"}, {"name", "repository"}, {"path", cfg_.repository.path},
                   {"id", repo != nullptr ? repo->config().id : ""}});
  return items;
}

}  // namespace lifeboat::platform
