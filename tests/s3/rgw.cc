#include "rgw.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/process.h"

namespace lifeboat::testing {

namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t n = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

std::string Uuid() {
  std::ifstream in("/proc/sys/kernel/random/uuid");
  std::string u;
  std::getline(in, u);
  return u;
}

// Runs a setup program with the cluster's config; false with `*error` on failure.
bool Step(const std::vector<std::string>& argv, const std::string& conf, std::string* error, double timeout = 60) {
  ProcessOptions o;
  o.env = {{"CEPH_CONF", conf}};
  o.timeout_seconds = timeout;
  Result<ProcessResult> r = RunProcess(argv, o);
  if (!r.ok() || r->exit_code != 0) {
    *error = argv[0] + ": " + (r.ok() ? LastLines(r->err + r->out, 5) : r.status().message());
    return false;
  }
  return true;
}

// The cluster's config: memstore, pools of one replica, msgr v1 on loopback, fast paxos, and
// every path inside `dir` (the facts in shared/reference/ceph-rgw, as settings of our own).
std::string Config(const std::string& dir, const std::string& fsid, int mon_port, int rgw_port, int tls_port) {
  std::ostringstream c;
  c << "[global]\n"
    << "fsid = " << fsid << "\n"
    << "mon host = v1:127.0.0.1:" << mon_port << "\n"
    << "public addr = 127.0.0.1\ncluster addr = 127.0.0.1\n"
    << "ms bind ipv4 = true\nms bind ipv6 = false\nms bind msgr2 = false\n"
    << "auth cluster required = cephx\nauth service required = cephx\nauth client required = cephx\n"
    << "keyring = " << dir << "/keyring\n"
    << "run dir = " << dir << "/run\n"
    << "admin socket = " << dir << "/run/$name.asok\n"
    << "log file = " << dir << "/log/$name.log\n"
    << "mon cluster log file = " << dir << "/log/cluster.log\n"
    << "crash dir = " << dir << "/crash\n"
    << "log to stderr = false\nerr to stderr = true\n"
    << "osd pool default size = 1\nosd pool default min size = 1\n"
    << "osd pool default pg num = 8\nosd pool default pgp num = 8\n"
    << "osd pool default pg autoscale mode = off\nosd crush chooseleaf type = 0\n"
    << "mon allow pool size one = true\nmon warn on pool no redundancy = false\n"
    << "mon max pg per osd = 1000\n"
    << "paxos propose interval = 0.05\npaxos min wait = 0.01\n"
    << "mon data avail warn = 1\nmon data avail crit = 0\n"
    << "[mon]\nmon data = " << dir << "/mon/$name\n"
    << "[osd]\nosd data = " << dir << "/osd/$id\nosd objectstore = memstore\n"
    << "memstore device bytes = 6442450944\nosd memory target = 939524096\n"
    << "osd class load list = *\nosd class default list = *\n"
    << "[client.rgw.a]\n"
    << "rgw frontends = beast endpoint=127.0.0.1:" << rgw_port << " ssl_endpoint=127.0.0.1:" << tls_port
    << " ssl_certificate=" << dir << "/tls/cert.pem ssl_private_key=" << dir << "/tls/key.pem\n"
    << "rgw data = " << dir << "/rgw\n"
    // Deleted objects' space comes back within a minute, not two hours (memstore is memory).
    << "rgw gc obj min wait = 60\nrgw gc processor period = 60\n";
  return c.str();
}

bool Answers(int port) {
  Result<ProcessResult> r = RunProcess({"/usr/bin/curl", "-s", "-o", "/dev/null", "-m", "2",
                                        "http://127.0.0.1:" + std::to_string(port) + "/"});
  return r.ok() && r->exit_code == 0;
}

}  // namespace

void RgwStore::Kill(const std::vector<pid_t>& pids) {
  for (pid_t p : pids) {
    if (p > 0) kill(p, SIGKILL);
  }
  for (pid_t p : pids) {
    for (int i = 0; p > 0 && i < 200 && kill(p, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

std::unique_ptr<RgwStore> RgwStore::Start(const std::string& dir, std::string* error) {
  auto store = std::unique_ptr<RgwStore>(new RgwStore());
  store->dir_ = dir;
  for (const char* sub : {"mon", "osd/0", "log", "run", "rgw", "crash", "tls"}) std::filesystem::create_directories(dir + "/" + sub);
  int mon_port = FreePort(), rgw_port = FreePort(), tls_port = FreePort();
  while (rgw_port == mon_port) rgw_port = FreePort();
  while (tls_port == mon_port || tls_port == rgw_port) tls_port = FreePort();
  std::string fsid = Uuid(), conf = dir + "/ceph.conf", keyring = dir + "/keyring";
  std::ofstream(conf) << Config(dir, fsid, mon_port, rgw_port, tls_port);
  // A self-signed certificate for the TLS listener, valid for localhost and 127.0.0.1.
  if (!Step({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "7", "-subj",
             "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout",
             dir + "/tls/key.pem", "-out", dir + "/tls/cert.pem"},
            conf, error)) {
    return nullptr;
  }
  std::map<std::string, std::string> env = {{"CEPH_CONF", conf}, {"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}};
  auto key = [&](const std::string& name, std::vector<std::string> caps, bool create) {
    std::vector<std::string> argv = {"/usr/bin/ceph-authtool", keyring};
    if (create) argv.insert(argv.begin() + 1, "--create-keyring");
    argv.insert(argv.end(), {"--gen-key", "-n", name});
    argv.insert(argv.end(), caps.begin(), caps.end());
    return Step(argv, conf, error);
  };
  bool ok = key("mon.", {"--cap", "mon", "allow *"}, true) &&
            key("client.admin", {"--cap", "mon", "allow *", "--cap", "osd", "allow *", "--cap", "mgr", "allow *"}, false) &&
            key("osd.0", {"--cap", "mon", "allow profile osd", "--cap", "osd", "allow *", "--cap", "mgr", "allow profile osd"}, false) &&
            key("client.rgw.a", {"--cap", "mon", "allow rw", "--cap", "osd", "allow rwx", "--cap", "mgr", "allow rw"}, false) &&
            // On a port other than 6789 monmaptool would record a msgr2 address: give v1 explicitly.
            Step({"/usr/bin/monmaptool", "--create", "--fsid", fsid, "--addv", "a",
                  "[v1:127.0.0.1:" + std::to_string(mon_port) + "]", dir + "/monmap"}, conf, error) &&
            Step({"/usr/bin/ceph-mon", "--mkfs", "-i", "a", "--monmap", dir + "/monmap", "--keyring", keyring}, conf, error);
  auto spawn = [&](const std::vector<std::string>& argv, const std::string& log) {
    Result<pid_t> pid = SpawnDaemon(argv, env, dir + "/log/" + log);
    if (!pid.ok()) {
      *error = pid.status().message();
      return false;
    }
    store->address_.pids.push_back(*pid);
    return true;
  };
  std::string osd_uuid = Uuid();
  ok = ok && spawn({"/usr/bin/ceph-mon", "-i", "a", "-f"}, "mon.out") &&
       Step({"/usr/bin/ceph", "--connect-timeout", "30", "osd", "new", osd_uuid, "0"}, conf, error) &&
       Step({"/usr/bin/ceph-osd", "-i", "0", "--mkfs", "--osd-uuid", osd_uuid}, conf, error) &&
       spawn({"/usr/bin/ceph-osd", "-i", "0", "-f"}, "osd.out") &&
       spawn({"/usr/bin/radosgw", "-n", "client.rgw.a", "-f"}, "rgw.out");
  if (ok) {
    ok = false;
    for (int i = 0; i < 240 && !ok; ++i) {
      ok = Answers(rgw_port);
      if (!ok) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    if (!ok) *error = "radosgw did not answer on port " + std::to_string(rgw_port) + " within 60 s";
  }
  store->address_.endpoint = "http://127.0.0.1:" + std::to_string(rgw_port);
  store->address_.tls_endpoint = "https://localhost:" + std::to_string(tls_port);
  store->address_.ca_file = dir + "/tls/cert.pem";
  store->address_.access_key = "LIFEBOATTESTKEY";
  store->address_.secret_key = "lifeboat-test-secret-" + fsid.substr(0, 8);
  ok = ok && Step({"/usr/bin/radosgw-admin", "user", "create", "--uid=lifeboat", "--display-name=lifeboat",
                   "--access-key=" + store->address_.access_key, "--secret-key=" + store->address_.secret_key},
                  conf, error);
  if (!ok) return nullptr;  // the destructor stops what started
  return store;
}

void RgwStore::Stop() {
  Kill(address_.pids);
  address_.pids.clear();
  if (!dir_.empty()) std::filesystem::remove_all(dir_);
  dir_.clear();
}

bool RgwStore::WriteAddress(const RgwAddress& a, const std::string& file) {
  std::ofstream out(file);
  out << a.endpoint << "\n" << a.access_key << "\n" << a.secret_key << "\n" << a.tls_endpoint << "\n" << a.ca_file
      << "\n";
  for (pid_t p : a.pids) out << p << " ";
  out << "\n";
  return static_cast<bool>(out);
}

bool RgwStore::ReadAddress(const std::string& file, RgwAddress* a) {
  std::ifstream in(file);
  if (!std::getline(in, a->endpoint) || !std::getline(in, a->access_key) || !std::getline(in, a->secret_key) ||
      !std::getline(in, a->tls_endpoint) || !std::getline(in, a->ca_file)) {
    return false;
  }
  pid_t p = 0;
  while (in >> p) a->pids.push_back(p);
  return true;
}

namespace {

std::unique_ptr<RgwStore> g_own;

}  // namespace

const RgwAddress& SharedRgw() {
  static RgwAddress address = [] {
    RgwAddress a;
    const char* file = std::getenv("LIFEBOAT_TEST_RGW");
    if (file != nullptr && RgwStore::ReadAddress(file, &a)) return a;
    char tmpl[] = "/tmp/lifeboat-rgw-XXXXXX";
    std::string dir = mkdtemp(tmpl);
    std::filesystem::remove_all(dir);
    std::string error;
    g_own = RgwStore::Start(dir, &error);
    if (!g_own) {
      fprintf(stderr, "cannot start the test's RGW: %s\n", error.c_str());
      std::abort();
    }
    std::atexit([] { g_own.reset(); });
    return g_own->address();
  }();
  return address;
}

s3::Credentials RgwCredentials() {
  const RgwAddress& a = SharedRgw();
  return {a.access_key, a.secret_key, ""};
}

S3Options NewBucket(s3::Credentials* creds, const std::string& prefix) {
  static std::atomic<int> n{0};
  S3Options o;
  o.endpoint = SharedRgw().endpoint;
  o.bucket = "lb-" + std::to_string(getpid()) + "-" + std::to_string(n++) + "-" +
             std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
  o.prefix = prefix;
  o.retry_seconds = 20;
  *creds = RgwCredentials();
  S3Backend b(o, *creds);
  Status s = b.CreateBucket();
  if (!s.ok()) {
    fprintf(stderr, "cannot create bucket %s: %s\n", o.bucket.c_str(), s.ToString().c_str());
    std::abort();
  }
  return o;
}

}  // namespace lifeboat::testing
