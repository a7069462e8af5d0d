#include "demo/demo.h"

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/fs.h"
#include "base/privileges.h"
#include "base/process.h"
#include "base/time.h"
#include "config/config.h"
#include "pg/connection.h"
#include "pg/instance.h"
#include "platform/http_probe.h"
#include "platform/stack.h"
#include "repository/crypto.h"
#include "runbook/journal.h"
#include "runbook/scenario_state.h"
#include "storage/s3/s3_backend.h"

namespace lifeboat::demo {

namespace {

namespace fs = std::filesystem;

std::string RandomHex(size_t bytes) {
  std::vector<uint8_t> b(bytes);
  RandomBytes(b.data(), b.size());
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (uint8_t c : b) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

Status Write(const std::string& path, const std::string& text, mode_t mode = 0644) {
  return WriteFileDurable(path, ByteSpan(reinterpret_cast<const uint8_t*>(text.data()), text.size()), mode);
}

int FreeTcpPort(int first, int last) {
  for (int p = first; p <= last; ++p) {
    if (platform::PortFree("127.0.0.1", p)) return p;
  }
  return 0;
}

class Sandbox {
 public:
  Sandbox(const DemoOptions& o, const Say& say) : o_(o), say_(say) {}

  std::string cfg() const { return o_.dir + "/lifeboat.toml"; }
  std::string shop(const std::string& prog) const { return o_.shop_dir + "/" + prog; }

  // Runs lifeboat with the sandbox's config, its output on the terminal.
  Status Lifeboat(const std::vector<std::string>& args, bool show = true) {
    std::vector<std::string> argv = {o_.self, "-c", cfg()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string line = "$ lifeboat";
    for (const auto& a : args) line += " " + a;
    if (show) say_("\n" + line);
    ProcessOptions po;
    po.capture = !show;
    LB_ASSIGN_OR_RETURN(ProcessResult r, RunProcess(argv, po));
    if (r.exit_code != 0) {
      return Status::IO("demo step '" + line.substr(2) + "' failed with exit code " + std::to_string(r.exit_code) +
                        (show ? "" : ": " + LastLines(r.err, 3)));
    }
    return Status::Ok();
  }

  Status Program(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
    ProcessOptions po;
    po.env = env;
    LB_ASSIGN_OR_RETURN(ProcessResult r, RunProcess(argv, po));
    if (r.exit_code != 0) {
      return Status::IO(Basename(argv[0]) + " failed: " + LastLines(r.err + r.out, 4));
    }
    return Status::Ok();
  }

  const DemoOptions& o_;
  const Say& say_;
};

std::string FindShop(const DemoOptions& o) {
  if (!o.shop_dir.empty()) return o.shop_dir;
  const char* env = std::getenv("LIFEBOAT_SHOP_DIR");
  if (env != nullptr && *env != '\0') return env;
  std::string here = Dirname(o.self);
  for (const std::string& d : {here + "/../../examples/shop", here}) {
    if (access((d + "/shop-server").c_str(), X_OK) == 0) return RealPath(d);
  }
  return "";
}

// True when `uid`/`gid` may search every directory from / down to `path`.
bool Traversable(const std::string& path, uid_t uid, gid_t gid) {
  std::string p;
  for (const auto& part : fs::path(path)) {
    p = part == "/" ? "/" : (p == "/" ? "/" : p + "/") + part.string();
    struct stat st {};
    if (stat(p.c_str(), &st) != 0) return true;  // not created yet: it will be ours
    bool ok = (st.st_mode & S_IXOTH) || (st.st_uid == uid && (st.st_mode & S_IXUSR)) ||
              (st.st_gid == gid && (st.st_mode & S_IXGRP));
    if (!ok) return false;
  }
  return true;
}

// Where the sandbox really lives: DIR itself, or, when PostgreSQL's user cannot reach DIR
// (a checkout under /root, mode 0700), a directory under /var/tmp that DIR links to.
std::string SandboxPath(const std::string& dir, const std::string& os_user) {
  if (fs::is_symlink(dir)) return RealPath(dir);
  const struct passwd* pw = getpwnam(os_user.c_str());
  if (geteuid() != 0 || pw == nullptr || Traversable(dir, pw->pw_uid, pw->pw_gid)) return dir;
  Id h = Sha256(ByteSpan(reinterpret_cast<const uint8_t*>(dir.data()), dir.size()));
  return "/var/tmp/lifeboat-demo-" + h.Short();
}

Result<pid_t> ReadPid(const std::string& path) {
  LB_ASSIGN_OR_RETURN(Bytes b, ReadFile(path));
  return static_cast<pid_t>(std::atol(std::string(b.begin(), b.end()).c_str()));
}

// What an S3 sandbox takes from the user who ran the demo, read before it becomes PostgreSQL's
// user (who may not read the user's files): the credentials and the CA certificate.
struct S3Access {
  s3::Credentials creds;
  std::string ca_pem;  // "" when no --ca-file
};

// The config's [repository] (and [repository.offsite]) sections; for S3 the credentials and the
// CA certificate are written into the sandbox (demo/aws-credentials, demo/ca.pem).
Result<std::string> RepositorySections(const DemoOptions& o, const std::string& d, const S3Access& access,
                                       const Say& say) {
  const s3::Credentials& c = access.creds;
  std::string stamp = FormatIso8601(NowNanos(), false);
  stamp.erase(std::remove_if(stamp.begin(), stamp.end(), [](char c) { return c == '-' || c == ':'; }), stamp.end());
  auto s3_keys = [&](const std::string& url) {
    std::string u = url;
    while (!u.empty() && u.back() == '/') u.pop_back();
    std::string keys = "url = \"" + u + "/demo-" + stamp + "\"\ncredentials_file = \"demo/aws-credentials\"\n";
    if (!o.endpoint.empty()) keys += "endpoint = \"" + o.endpoint + "\"\n";
    if (!access.ca_pem.empty()) keys += "ca_file = \"demo/ca.pem\"\n";
    say("repository " + u + "/demo-" + stamp);
    return keys;
  };
  std::string out = "[repository]\n" + (o.repository_url.empty() ? "path = \"repo\"\n" : s3_keys(o.repository_url)) +
                    "passphrase_file = \"passphrase\"\n\n";
  if (!o.offsite_url.empty()) out += "[repository.offsite]\n" + s3_keys(o.offsite_url) + "\n";
  if (o.repository_url.empty() && o.offsite_url.empty()) return out;
  LB_RETURN_IF_ERROR(Write(d + "/demo/aws-credentials", FormatS3Credentials(c), 0600));
  if (!access.ca_pem.empty()) LB_RETURN_IF_ERROR(Write(d + "/demo/ca.pem", access.ca_pem, 0644));
  return out;
}

// Refused before anything is built: a URL that is not s3://BUCKET[/PREFIX].
Status CheckRepositoryUrls(const DemoOptions& o) {
  for (const std::string* url : {&o.repository_url, &o.offsite_url}) {
    if (url->empty()) continue;
    S3Options parsed;
    LB_RETURN_IF_ERROR(ParseS3Url(*url, &parsed).Context(url == &o.repository_url ? "--repository" : "--offsite"));
  }
  if (!o.endpoint.empty() && o.repository_url.empty() && o.offsite_url.empty()) {
    return Status::Usage("--endpoint is for an S3 repository", "give --repository s3://BUCKET/PREFIX or --offsite");
  }
  return Status::Ok();
}

}  // namespace

Status DemoDown(const DemoOptions& options_in, const Say& say) {
  DemoOptions options = options_in;
  options.dir = RealPath(options.dir);  // the sandbox itself when DIR links to it
  std::string cfg_path = options.dir + "/lifeboat.toml";
  LB_ASSIGN_OR_RETURN(Config cfg, LoadConfig(cfg_path));
  platform::ApplyProductionOverride(&cfg);
  LB_RETURN_IF_ERROR(BecomeUser(cfg.database.os_user, {}));
  for (const auto& [file, marker] : std::vector<std::pair<std::string, std::string>>{
           {"/demo/load.pid", "shop-load"}, {"/demo/agent.pid", "agent"}}) {
    // The agent lets a running job finish, then stops its streamer.
    Result<pid_t> pid = ReadPid(options.dir + file);
    if (pid.ok()) LB_RETURN_IF_ERROR(StopProcess(*pid, marker, 60));
  }
  say("shop-load and the agent (with its wal stream): stopped");
  platform::Stack stack(cfg, options.self);
  LB_RETURN_IF_ERROR(stack.Down(say));
  pg::ClusterConfig cluster = platform::ClusterFor(cfg);
  pg::InstanceRegistry registry(cfg.state.dir);
  LB_ASSIGN_OR_RETURN(std::vector<pg::Instance> instances, registry.List());
  pg::Instance prod;
  prod.name = cfg.database.name;
  prod.data_dir = cfg.database.data_dir;
  instances.push_back(prod);
  for (const auto& i : instances) {
    if (pg::StateOf(i) != pg::InstanceState::kRunning) continue;
    LB_RETURN_IF_ERROR(pg::StopInstance(cluster, i));
    say("PostgreSQL " + i.name + ": stopped");
  }
  say("the sandbox is down; its files stay in " + options.dir + " (remove them with rm -rf)");
  return Status::Ok();
}

// The newest restorable instant `window --json` reports, 0 when there is none.
UnixNanos WindowLatest(const std::string& self, const std::string& cfg) {
  Result<ProcessResult> w = RunProcess({self, "-c", cfg, "window", "--json"});
  if (!w.ok()) return 0;
  auto j = nlohmann::json::parse(w->out, nullptr, false);
  if (!j.is_object() || !j["latest"].is_string()) return 0;
  Result<UnixNanos> latest = ParseTimestamp(j["latest"].get<std::string>());
  return latest.ok() ? *latest : 0;
}

// Waits up to `seconds` until the window reaches past `t`; the reason when it does not.
Status AwaitWindowPast(const std::string& self, const std::string& dir, UnixNanos t, double seconds) {
  double deadline = MonotonicSeconds() + seconds;
  UnixNanos latest = 0;
  while (MonotonicSeconds() < deadline) {
    latest = WindowLatest(self, dir + "/lifeboat.toml");
    if (latest > t) return Status::Ok();
    usleep(250000);
  }
  Result<Bytes> log = ReadFile(dir + "/.lifeboat/agent/wal-stream.log");
  std::string tail = log.ok() ? LastLines(std::string(log->begin(), log->end()), 3) : "";
  return Status::IO("WAL does not reach the repository: the window's latest point is " +
                        (latest == 0 ? std::string("none") : FormatIso8601(latest, true)) + ", " +
                        FormatDuration(static_cast<double>(NowNanos() - (latest == 0 ? t : latest)) / 1e9) +
                        " behind; the streamer's log ends: " + tail,
                    "see " + dir + "/.lifeboat/agent/wal-stream.log, the agent's " + dir +
                        "/demo/agent.log and the archiver in " + dir + "/demo/postgresql.log");
}

Status RunDemo(const DemoOptions& o_in, const Say& say) {
  DemoOptions o = o_in;
  double t_start = MonotonicSeconds();
  // The sandbox has its own config and generated key: a passphrase or config of the user's
  // must not reach the commands it runs (a passphrase in the environment would seal the
  // repository with it while archive_command and the streamer use the key file).
  ::unsetenv("LIFEBOAT_PASSPHRASE");
  ::unsetenv("LIFEBOAT_CONFIG");
  LB_RETURN_IF_ERROR(CheckRepositoryUrls(o));
  S3Access access;
  if (!o.repository_url.empty() || !o.offsite_url.empty()) {
    // Before anything is built (no credentials, no sandbox), and as the user who ran the demo:
    // their shared credentials file may be one PostgreSQL's user cannot read.
    Result<s3::Credentials> found = LoadS3Credentials("", "");
    if (!found.ok()) return found.status().Context("demo on S3");
    access.creds = *found;
    if (!o.ca_file.empty()) {
      Result<Bytes> pem = ReadFile(o.ca_file);
      if (!pem.ok()) return pem.status().Context("--ca-file");
      access.ca_pem.assign(pem->begin(), pem->end());
    }
  }
  o.shop_dir = FindShop(o);
  if (o.shop_dir.empty()) {
    return Status::Config("the shop's programs (shop-server, shop-seed, shop-load) were not found next to lifeboat",
                          "build them ('make build-release'), or set LIFEBOAT_SHOP_DIR");
  }
  std::string os_user = "postgres";
  if (geteuid() != 0) {
    os_user = Username();
  } else if (getpwnam("postgres") == nullptr) {
    return Status::Config("the postgres user does not exist", "install Debian's postgresql-15 (scripts/setup does)");
  }
  if (fs::exists(o.dir + "/lifeboat.toml")) {
    say("a previous demo is in " + o.dir + ": taking it down first");
    // In a child: taking it down switches to the postgres user, and this process must stay
    // itself to build the new sandbox.
    LB_ASSIGN_OR_RETURN(ProcessResult down, RunProcess({o.self, "demo", "--dir", o.dir, "--down"}));
    if (down.exit_code != 0) {
      return Status::IO("cannot take the previous demo down: " + LastLines(down.err, 3),
                        "run 'lifeboat demo --dir " + o.dir + " --down' and remove the directory");
    }
    fs::remove_all(RealPath(o.dir));
    fs::remove(o.dir);
  } else if (fs::exists(o.dir + "/demo")) {
    fs::remove_all(RealPath(o.dir));  // what a demo that failed while building left
    fs::remove(o.dir);
  } else if (fs::exists(o.dir) && !fs::is_empty(o.dir)) {
    return Status::Usage("'" + o.dir + "' exists and is not a lifeboat demo", "choose another --dir");
  }
  int pg_port = FreeTcpPort(24300, 24399);
  int lb_port = platform::PortFree("127.0.0.1", 8080) ? 8080 : FreeTcpPort(8081, 8199);
  int metrics_port = platform::PortFree("127.0.0.1", 9187) ? 9187 : FreeTcpPort(9188, 9287);
  if (pg_port == 0 || lb_port == 0 || metrics_port == 0) return Status::IO("no free ports for the demo");

  std::string link = o.dir;
  o.dir = SandboxPath(link, os_user);
  const std::string& d = o.dir;
  if (d != link) {
    LB_RETURN_IF_ERROR(MakeDirs(Dirname(link), 0755));
    fs::remove_all(d);
    fs::create_symlink(d, link);
    say("== building the sandbox in " + d + " (" + link + " links to it: PostgreSQL's user cannot reach " +
        Dirname(link) + ")");
  } else {
    say("== building the sandbox in " + d);
  }
  // Everything from here on runs as the user PostgreSQL runs as, in directories it owns.
  LB_RETURN_IF_ERROR(MakeDirs(d, 0755));
  // The programs the sandbox runs are copied into it, so that PostgreSQL's user can run them
  // wherever the build is.
  std::vector<std::string> programs = {o.self, o.shop_dir + "/shop-server", o.shop_dir + "/shop-seed",
                                       o.shop_dir + "/shop-load"};
  // restore_command's client of a restore's prefetch server, when it was built next to lifeboat.
  if (fs::exists(Dirname(o.self) + "/lifeboat-wal-fetch")) programs.push_back(Dirname(o.self) + "/lifeboat-wal-fetch");
  for (const auto& sub : {"/bin", "/demo", "/site"}) LB_RETURN_IF_ERROR(MakeDirs(d + sub, 0755));
  for (const auto& prog : programs) {
    LB_ASSIGN_OR_RETURN(ProcessResult cp, RunProcess({"/bin/cp", prog, d + "/bin/"}));
    if (cp.exit_code != 0) return Status::IO("cannot copy " + prog + " into the sandbox: " + LastLines(cp.err, 2));
  }
  LB_ASSIGN_OR_RETURN(ProcessResult cp, RunProcess({"/bin/cp", "-r", o.shop_dir + "/releases", d + "/releases"}));
  if (cp.exit_code != 0) return Status::IO("cannot copy the shop's releases: " + LastLines(cp.err, 2));
  if (geteuid() == 0) {
    LB_ASSIGN_OR_RETURN(ProcessResult own, RunProcess({"/bin/chown", "-R", os_user + ":", d}));
    if (own.exit_code != 0) return Status::IO("cannot give " + d + " to " + os_user + ": " + LastLines(own.err, 2));
  }
  LB_RETURN_IF_ERROR(BecomeUser(os_user, {}));
  o.self = d + "/bin/lifeboat";
  o.shop_dir = d + "/bin";
  chmod(d.c_str(), 0755);
  Sandbox box(o, say);
  // A generated key, as for any unattended repository: archive_command opens it once per segment.
  LB_RETURN_IF_ERROR(Write(d + "/passphrase", NewGeneratedKey() + "\n", 0600));
  std::string shop_password = RandomHex(16);
  LB_RETURN_IF_ERROR(Write(d + "/demo/shop-password", shop_password + "\n", 0600));
  LB_RETURN_IF_ERROR(Write(d + "/site/index.html",
                           "<!doctype html><title>StartupWebApp</title><h1>StartupWebApp shop</h1>\n"
                           "<p>Served from a front end snapshot through haproxy.</p>\n"));
  LB_ASSIGN_OR_RETURN(std::string repositories, RepositorySections(o, d, access, say));
  std::ostringstream toml;
  toml << "# The demo sandbox, written by 'lifeboat demo'.\n" << repositories
       << "[database]\ndata_dir = \"pgdata\"\nhost = \"" << d << "\"\nport = " << pg_port
       << "\nuser = \"postgres\"\nos_user = \"" << os_user << "\"\n\n"
       << "[instances]\nports = \"" << pg_port + 1 << "-" << pg_port + 40 << "\"\n\n"
       << "[objectives]\nrto = \"60s\"\nrpo = \"1s\"\n\n"
       << "[service.shop]\ncommand = \"{release}/bin/shop-server --port {port}\"\nreplicas = 2\n"
       << "databases = [\"startupwebapp_prod\", \"healthtech_prod\", \"fintech_prod\"]\nbake = \"2s\"\n"
       << "start_timeout = \"10s\"\n"
       << "secret = \"shop-db\"\nhealth_path = \"/health\"\nsmoke_path = \"/order/products\"\n"
       << "routes = [\"/health\", \"/order\", \"/cart\", \"/orders\", \"/t/\"]\n\n"
       << "[load_balancer]\nport = " << lb_port << "\n\n"
       << "[frontend]\ndir = \"site\"\n\n"
       << "[verify]\ncritical_tables = [\"startupwebapp_prod.public.order_product\", "
          "\"startupwebapp_prod.public.user_member\"]\n\n"
       << "[agent]\nlisten = \"127.0.0.1:" << metrics_port << "\"\nprobe_interval = \"10s\"\n\n"
       << "[[contacts]]\nname = \"Ops Lead\"\nemail = \"ops@example.com\"\nrole = \"primary on-call\"\n";
  LB_RETURN_IF_ERROR(Write(box.cfg(), toml.str()));

  std::string bin = "/usr/lib/postgresql/15/bin";
  std::string pgdata = d + "/pgdata";
  say("PostgreSQL 15: initdb, archiving and streaming through lifeboat, port " + std::to_string(pg_port));
  std::string auth = os_user == "postgres" ? "peer" : "trust";
  LB_RETURN_IF_ERROR(box.Program({bin + "/initdb", "-D", pgdata, "-U", "postgres", "--auth-local=" + auth,
                                  "--auth-host=scram-sha-256", "--data-checksums", "-N"}, {}));
  LB_RETURN_IF_ERROR(Write(pgdata + "/pg_hba.conf",
                           "# The shop's role signs in with its password; the postgres OS user over the socket.\n"
                           "local all shop scram-sha-256\nlocal all all " + auth + "\nlocal replication all " + auth + "\n"));
  std::ofstream(pgdata + "/postgresql.conf", std::ios::app)
      << "\n# lifeboat demo\nport = " << pg_port << "\nunix_socket_directories = '" << d << "'\n"
      << "listen_addresses = ''\nwal_level = replica\narchive_mode = on\n"
      << "archive_command = '" << o.self << " -c " << box.cfg() << " wal push %p'\n"
      << "archive_timeout = 60\nmax_wal_senders = 5\nmax_replication_slots = 5\n"
      << "track_commit_timestamp = on\nshared_buffers = 64MB\n";
  LB_RETURN_IF_ERROR(box.Program({bin + "/pg_ctl", "start", "-D", pgdata, "-l", d + "/demo/postgresql.log", "-w", "-s"}, {}));
  LB_RETURN_IF_ERROR(box.Lifeboat({"repo", "init"}));
  say("\n$ shop-seed --app-role shop   (three tenant databases, orders spread over 30 days)");
  LB_RETURN_IF_ERROR(box.Program({box.shop("shop-seed"), "--app-role", "shop", "--orders", "5000", "--days", "30"},
                                 {{"PGHOST", d}, {"PGPORT", std::to_string(pg_port)}, {"PGUSER", "postgres"},
                                  {"SHOP_APP_PASSWORD", shop_password}}));
  LB_RETURN_IF_ERROR(box.Lifeboat({"secret", "set", "shop-db", "PGHOST=" + d, "PGPORT=" + std::to_string(pg_port),
                                   "PGUSER=shop", "PGPASSWORD=@" + d + "/demo/shop-password",
                                   "PGDATABASE=startupwebapp_prod"}));
  say("\n$ lifeboat agent   (in the background: it supervises 'wal stream', whose segment in progress reaches the "
      "repository every second, and serves its metrics)");
  LB_ASSIGN_OR_RETURN(pid_t agent, SpawnDaemon({o.self, "-c", box.cfg(), "agent"}, {{"PATH", "/usr/bin:/bin"}},
                                               d + "/demo/agent.log"));
  LB_RETURN_IF_ERROR(Write(d + "/demo/agent.pid", std::to_string(agent) + "\n"));
  say("\n$ lifeboat release add shop v1..v4 " + d + "/releases/...   (the shop's builds: v3 and v4 are bad ones)");
  for (const char* v : {"v1", "v2", "v3", "v4"}) {
    LB_RETURN_IF_ERROR(box.Lifeboat({"release", "add", "shop", v, d + "/releases/" + v}, false));
  }
  LB_RETURN_IF_ERROR(box.Lifeboat({"deploy", "shop", "v1", "--yes"}));
  LB_RETURN_IF_ERROR(box.Lifeboat({"up"}));
  std::string url = "http://127.0.0.1:" + std::to_string(lb_port);
  say("\n$ shop-load --url " + url + " --rate 20   (in the background, logging every order to demo/load.log)");
  LB_ASSIGN_OR_RETURN(pid_t load, SpawnDaemon({box.shop("shop-load"), "--url", url, "--rate", "20", "--duration", "0",
                                               "--log", d + "/demo/load.log"},
                                              {{"PATH", "/usr/bin:/bin"}}, d + "/demo/load.out"));
  LB_RETURN_IF_ERROR(Write(d + "/demo/load.pid", std::to_string(load) + "\n"));

  say("\n== 1. a backup and a drill (the runbook's restore test, while the shop keeps serving)");
  LB_RETURN_IF_ERROR(box.Lifeboat({"backup"}));
  LB_RETURN_IF_ERROR(box.Lifeboat({"drill"}));

  // Protection must work before the disaster is staged: the orders placed now reach the
  // repository within seconds, or the demo stops here with the reason.
  LB_RETURN_IF_ERROR(AwaitWindowPast(o.self, d, NowNanos(), 20).Context("demo: before the disaster"));
  say("\n== 2. the disaster: DELETE FROM order_order, with no WHERE, in startupwebapp_prod");
  usleep(3000000);
  LB_ASSIGN_OR_RETURN(Config cfg, LoadConfig(box.cfg()));
  pg::ClusterConfig cluster = platform::ClusterFor(cfg);
  pg::ConnInfo conn = cluster.conn;
  conn.dbname = "startupwebapp_prod";
  LB_ASSIGN_OR_RETURN(std::unique_ptr<pg::Connection> c, pg::Connection::Open(conn));
  UnixNanos disaster = NowNanos();
  LB_ASSIGN_OR_RETURN(std::string before, c->QueryValue("SELECT count(*) FROM order_order"));
  LB_RETURN_IF_ERROR(c->Query("DELETE FROM order_order").status());
  say("at " + FormatIso8601(disaster, true) + ": " + before + " orders deleted");
  c.reset();

  // The streamer stores the segment in progress every second; wait until the window reaches
  // past the disaster, so that "just before it" is restorable.
  LB_RETURN_IF_ERROR(AwaitWindowPast(o.self, d, disaster, 20).Context("demo"));

  say("\n== 3. recover to just before the disaster: restore, verify, cutover, measure");
  double recover_start = static_cast<double>(NowNanos()) / 1e9;
  LB_RETURN_IF_ERROR(box.Lifeboat({"recover", "--time", FormatIso8601(disaster, true), "--yes"}));
  double recover_end = static_cast<double>(NowNanos()) / 1e9;
  // The second disaster must be as recoverable as the first: the new production's orders
  // reach the repository (the streamer followed the cutover) within seconds.
  UnixNanos after = NowNanos();
  LB_RETURN_IF_ERROR(AwaitWindowPast(o.self, d, after, 20).Context("demo: after the recovery"));
  say("protected again: orders placed on the new production after the cutover are in the repository within " +
      FormatDuration(static_cast<double>(NowNanos() - after) / 1e9));

  int failed = 0, orders = 0;
  std::ifstream log(d + "/demo/load.log");
  std::string line;
  while (std::getline(log, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    if (j["event"] == "failed" && j["time"].get<double>() >= recover_start && j["time"].get<double>() <= recover_end) {
      ++failed;
    }
    if (j["event"] == "order") ++orders;
  }
  runbook::Journal journal(cfg.state.dir, nullptr);
  LB_ASSIGN_OR_RETURN(std::vector<runbook::RunRecord> runs, journal.List());
  say("\n== result");
  for (const auto& r : runs) {
    if (r.kind != "recover" || r.state != runbook::RunState::kSucceeded) continue;
    LB_ASSIGN_OR_RETURN(runbook::RecoverResult res, runbook::RecoverResult::FromJson(r.result, "run " + r.id));
    char buf[256];
    std::snprintf(buf, sizeof(buf), "RTO %.1f s (objective 60 s: %s)   RPO %.3f s (objective 1 s: %s)",
                  res.rto_seconds, res.rto_met ? "met" : "MISSED", res.rpo_seconds, res.rpo_met ? "met" : "MISSED");
    say(buf);
    break;
  }
  say("requests that failed during the recovery: " + std::to_string(failed) + " (shop-load placed " +
      std::to_string(orders) + " orders so far, 20 a second)");
  std::string psql = "runuser -u postgres -- psql -h <host> -p <port> startupwebapp_prod   (see inventory)";
  pg::InstanceRegistry registry(cfg.state.dir);
  if (Result<std::vector<pg::Instance>> all = registry.List(); all.ok()) {
    for (const auto& i : *all) {
      if (i.role == pg::InstanceRole::kProduction) {
        psql = (os_user == "postgres" ? "runuser -u postgres -- " : "") + std::string("psql -h ") + i.host +
               " -p " + std::to_string(i.port) + " startupwebapp_prod";
      }
    }
  }
  // From now on the agent keeps the protection standing on short schedules: its config gains
  // a [schedule] and a SIGHUP makes it take it (nothing of it ran while the demo worked).
  LB_RETURN_IF_ERROR(Write(box.cfg(), toml.str() + "\n[schedule]\nfull = \"daily 03:00\"\nwindow = \"03:00-04:00\"\n"
                                                    "incremental = \"every 10m\"\nexpire = \"daily 04:30\"\n"
                                                    "verify = \"every 30m\"\ndrill = \"every 1h\"\n"));
  if (::kill(agent, SIGHUP) != 0) return ErrnoStatus("cannot signal the agent (pid " + std::to_string(agent) + ")", errno);
  std::string metrics = "http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics";
  say("\n== 4. standing protection: the agent now runs incremental backups every 10 minutes, a verify every 30, "
      "a drill every hour, a full backup daily at 03:00 and expire at 04:30 (UTC), and alerts on what fails");
  say("its dashboard: http://127.0.0.1:" + std::to_string(metrics_port) + "/   its metrics: " + metrics +
      "   its log: " + d + "/demo/agent.log");
  say("the runbook for this stack, with its last drill: " + JoinPath(cfg.state.dir, "runbook.md") + " (also in the repository)");
  // The commands to explore name the lifeboat that ran the demo (it may not be on PATH).
  const std::string lb = o_in.self;
  char took[64];
  std::snprintf(took, sizeof(took), "%.0f s", MonotonicSeconds() - t_start);
  say("the whole demo took " + std::string(took) + "\n\nThe stack keeps running. Explore it:\n"
      "  " + lb + " -c " + box.cfg() + " snapshots\n"
      "  " + lb + " -c " + box.cfg() + " window\n"
      "  " + lb + " -c " + box.cfg() + " drills\n"
      "  " + lb + " -c " + box.cfg() + " inventory\n"
      "  " + lb + " -c " + box.cfg() + " runs\n"
      "  " + lb + " -c " + box.cfg() + " status            (the quarterly check: backups, drills, alerts)\n"
      "  " + lb + " -c " + box.cfg() + " schedule          jobs\n"
      "  " + lb + " -c " + box.cfg() + " runbook           (this stack's runbook, every command resolved)\n"
      "  curl " + metrics + "\n"
      "  " + lb + " -c " + box.cfg() + " releases shop      deploy shop v2 --yes      drill rollback\n"
      "  curl " + url + "/order/products      curl " + url + "/site/\n"
      "  " + psql + "\n"
      "Tear it down (no process is left behind):\n"
      "  " + lb + " demo --dir " + link + " --down");
  return Status::Ok();
}

}  // namespace lifeboat::demo
