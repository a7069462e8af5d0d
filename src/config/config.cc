#include "config/config.h"

#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include <openssl/evp.h>
#include <toml++/toml.h>

#include <sstream>

#include "base/fs.h"
#include "base/time.h"
#include "schedule/schedule.h"

namespace lifeboat {

namespace {

// Reads the keys of one table, remembering which were consumed so that Finish() can reject
// the rest.
class SectionReader {
 public:
  SectionReader(const toml::table& table, std::string section, const std::string& file)
      : table_(table), section_(std::move(section)), file_(file) {}

  Status String(const std::string& key, std::string* out, bool required = false) {
    known_.insert(key);
    const toml::node* n = table_.get(key);
    if (n == nullptr) return required ? Missing(key) : Status::Ok();
    if (!n->is_string()) return WrongType(*n, key, "a string");
    *out = *n->value<std::string>();
    return Status::Ok();
  }

  // A string that `check` accepts (its message follows the key's place: "line 4:
  // 'schedule.full': invalid schedule ..", with its hint).
  Status Checked(const std::string& key, std::string* out, const std::function<Status(const std::string&)>& check) {
    LB_RETURN_IF_ERROR(String(key, out));
    const toml::node* n = table_.get(key);
    if (n == nullptr) return Status::Ok();
    Status s = check(*out);
    if (!s.ok()) return Status::Config(Where(*n) + ": '" + Name(key) + "': " + s.message(), s.hint());
    return Status::Ok();
  }

  // A key read elsewhere (a sub-table), so that Finish does not call it unknown.
  void Known(const std::string& key) { known_.insert(key); }

  Status Bool(const std::string& key, bool* out) {
    known_.insert(key);
    const toml::node* n = table_.get(key);
    if (n == nullptr) return Status::Ok();
    if (!n->is_boolean()) return WrongType(*n, key, "true or false");
    *out = *n->value<bool>();
    return Status::Ok();
  }

  Status Int64(const std::string& key, int64_t* out, int64_t min, int64_t max) {
    known_.insert(key);
    const toml::node* n = table_.get(key);
    if (n == nullptr) return Status::Ok();
    if (!n->is_integer()) return WrongType(*n, key, "an integer");
    int64_t v = *n->value<int64_t>();
    if (v < min || v > max) {
      return Status::Config(Where(*n) + ": '" + Name(key) + "' is " + std::to_string(v) +
                            ", outside " + std::to_string(min) + ".." + std::to_string(max));
    }
    *out = v;
    return Status::Ok();
  }

  // A port range "55000-55099".
  Status PortRange(const std::string& key, int* first, int* last) {
    known_.insert(key);
    const toml::node* n = table_.get(key);
    if (n == nullptr) return Status::Ok();
    if (!n->is_string()) return WrongType(*n, key, "a string such as \"55000-55099\"");
    std::string v = *n->value<std::string>();
    int a = 0, b = 0;
    char dash = 0;
    char extra = 0;
    if (std::sscanf(v.c_str(), "%d%c%d%c", &a, &dash, &b, &extra) != 3 || dash != '-' || a < 1 ||
        b > 65535 || a > b) {
      return Status::Config(Where(*n) + ": '" + Name(key) + "' is \"" + v +
                            "\", expected a range such as \"55000-55099\"");
    }
    *first = a;
    *last = b;
    return Status::Ok();
  }

  Status Double(const std::string& key, double* out, double min, double max) {
    known_.insert(key);
    const toml::node* n = table_.get(key);
    if (n == nullptr) return Status::Ok();
    if (!n->is_floating_point() && !n->is_integer()) return WrongType(*n, key, "a number");
    double v = n->is_integer() ? static_cast<double>(*n->value<int64_t>()) : *n->value<double>();
    if (v < min || v > max) {
      return Status::Config(Where(*n) + ": '" + Name(key) + "' is " + std::to_string(v) +
                            ", outside " + std::to_string(min) + ".." + std::to_string(max));
    }
    *out = v;
    return Status::Ok();
  }

  Status Duration(const std::string& key, int64_t* seconds) {
    std::string text;
    const toml::node* n = table_.get(key);
    LB_RETURN_IF_ERROR(String(key, &text));
    if (n == nullptr) return Status::Ok();
    Result<int64_t> d = ParseDuration(text);
    if (!d.ok()) return Status::Config(Where(*n) + ": '" + Name(key) + "': " + d.status().message(),
                                       d.status().hint());
    *seconds = *d;
    return Status::Ok();
  }

  Status StringList(const std::string& key, std::vector<std::string>* out) {
    known_.insert(key);
    const toml::node* n = table_.get(key);
    if (n == nullptr) return Status::Ok();
    const toml::array* arr = n->as_array();
    if (arr == nullptr) return WrongType(*n, key, "an array of strings");
    for (const toml::node& e : *arr) {
      if (!e.is_string()) return WrongType(e, key, "an array of strings");
      out->push_back(*e.value<std::string>());
    }
    return Status::Ok();
  }

  // Each table of an array of tables ([[section.key]]), for the caller to read.
  Status Tables(const std::string& key, std::vector<const toml::table*>* out) {
    known_.insert(key);
    const toml::node* n = table_.get(key);
    if (n == nullptr) return Status::Ok();
    const toml::array* arr = n->as_array();
    if (arr == nullptr) return WrongType(*n, key, "an array of tables ([[" + Name(key) + "]])");
    for (const toml::node& e : *arr) {
      if (!e.is_table()) return WrongType(e, key, "an array of tables ([[" + Name(key) + "]])");
      out->push_back(e.as_table());
    }
    return Status::Ok();
  }

  // A command: an array of strings, or a string split on spaces.
  Status Command(const std::string& key, std::vector<std::string>* out, bool required) {
    known_.insert(key);
    const toml::node* n = table_.get(key);
    if (n == nullptr) return required ? Missing(key) : Status::Ok();
    if (n->is_string()) {
      std::string text = *n->value<std::string>();
      size_t start = 0;
      while (start < text.size()) {
        size_t end = text.find(' ', start);
        if (end == std::string::npos) end = text.size();
        if (end > start) out->push_back(text.substr(start, end - start));
        start = end + 1;
      }
    } else {
      LB_RETURN_IF_ERROR(StringList(key, out));
    }
    if (out->empty()) return Status::Config(Where(*n) + ": '" + Name(key) + "' is empty");
    return Status::Ok();
  }

  // A table of strings: KEY = "value".
  Status StringMap(const std::string& key, std::map<std::string, std::string>* out) {
    known_.insert(key);
    const toml::node* n = table_.get(key);
    if (n == nullptr) return Status::Ok();
    const toml::table* t = n->as_table();
    if (t == nullptr) return WrongType(*n, key, "a table of strings");
    for (const auto& [k, v] : *t) {
      if (!v.is_string()) return WrongType(v, key + "." + std::string(k.str()), "a string");
      (*out)[std::string(k.str())] = *v.value<std::string>();
    }
    return Status::Ok();
  }

  Status Int(const std::string& key, int* out, int min, int max) {
    int64_t v = *out;
    LB_RETURN_IF_ERROR(Int64(key, &v, min, max));
    *out = static_cast<int>(v);
    return Status::Ok();
  }

  Status Finish() {
    for (const auto& [k, node] : table_) {
      std::string key(k.str());
      if (known_.count(key)) continue;
      std::string list;
      for (const std::string& s : known_) list += (list.empty() ? "" : ", ") + s;
      return Status::Config(Where(node) + ": unknown key '" + Name(key) + "'",
                            "keys of [" + section_ + "] are: " + list);
    }
    return Status::Ok();
  }

 private:
  std::string Name(const std::string& key) const { return section_ + "." + key; }
  std::string Where(const toml::node& n) const {
    return "config '" + file_ + "' line " + std::to_string(n.source().begin.line);
  }
  Status Missing(const std::string& key) const {
    return Status::Config("config '" + file_ + "': missing key '" + Name(key) + "'",
                          "add '" + key + " = ...' under [" + section_ + "]");
  }
  Status WrongType(const toml::node& n, const std::string& key, const std::string& want) const {
    return Status::Config(Where(n) + ": '" + Name(key) + "' must be " + want);
  }

  const toml::table& table_;
  std::string section_;
  const std::string& file_;
  std::set<std::string> known_;
};

std::string Resolve(const std::string& base_dir, const std::string& p) {
  if (p.empty() || p.front() == '/') return p;
  return JoinPath(base_dir, p);
}

// [repository] or [repository.offsite]: the same keys, and each section's own extra one.
Status ReadRepository(const toml::table& table, const std::string& section, const std::string& path,
                      const std::string& base_dir, RepositoryConfigSection* out) {
  SectionReader r(table, section, path);
  RepositoryConfigSection& rc = *out;
  bool offsite = section != "repository";
  LB_RETURN_IF_ERROR(r.String("path", &rc.path));
  LB_RETURN_IF_ERROR(r.String("url", &rc.url));
  LB_RETURN_IF_ERROR(r.String("passphrase_file", &rc.passphrase_file));
  LB_RETURN_IF_ERROR(r.Int("compression", &rc.compression, 0, 19));
  LB_RETURN_IF_ERROR(r.String("endpoint", &rc.endpoint));
  LB_RETURN_IF_ERROR(r.String("region", &rc.region));
  LB_RETURN_IF_ERROR(r.String("uri_style", &rc.uri_style));
  LB_RETURN_IF_ERROR(r.String("ca_file", &rc.ca_file));
  LB_RETURN_IF_ERROR(r.Bool("verify_tls", &rc.verify_tls));
  LB_RETURN_IF_ERROR(r.String("storage_class", &rc.storage_class));
  LB_RETURN_IF_ERROR(r.String("sse", &rc.sse));
  LB_RETURN_IF_ERROR(r.String("credentials_file", &rc.credentials_file));
  LB_RETURN_IF_ERROR(r.String("profile", &rc.profile));
  LB_RETURN_IF_ERROR(r.Int64("multipart_threshold_mib", &rc.multipart_threshold_mib, 5, 5 * 1024));
  LB_RETURN_IF_ERROR(r.Int64("retry_seconds", &rc.retry_seconds, 0, 3600));
  if (offsite) {
    LB_RETURN_IF_ERROR(r.Int("days", &rc.days, 1, 3650));
  } else {
    LB_RETURN_IF_ERROR(r.String("wal_acknowledge", &rc.wal_acknowledge));
    r.Known("offsite");  // [repository.offsite], read on its own
  }
  LB_RETURN_IF_ERROR(r.Finish());
  if (rc.wal_acknowledge != "all" && rc.wal_acknowledge != "any") {
    return Status::Config("config '" + path + "': [repository] wal_acknowledge is \"" + rc.wal_acknowledge +
                          "\", expected \"all\" or \"any\"");
  }
  if (rc.path.empty() == rc.url.empty()) {
    return Status::Config("config '" + path + "': [" + section + "] needs exactly one of 'path' and 'url'",
                          "path = \"/var/backups/lifeboat\" for a local repository, url = \"s3://BUCKET/PREFIX\" for S3");
  }
  if (rc.is_s3()) {
    if (rc.url.rfind("s3://", 0) != 0) {
      return Status::Config("config '" + path + "': [" + section + "] url '" + rc.url + "' is not an s3:// url",
                            "write it as url = \"s3://BUCKET/PREFIX\"");
    }
    if (!rc.uri_style.empty() && rc.uri_style != "path" && rc.uri_style != "host") {
      return Status::Config("config '" + path + "': [" + section + "] uri_style is \"" + rc.uri_style +
                            "\", expected \"path\" or \"host\"");
    }
  }
  rc.path = Resolve(base_dir, rc.path);
  rc.passphrase_file = Resolve(base_dir, rc.passphrase_file);
  rc.ca_file = Resolve(base_dir, rc.ca_file);
  rc.credentials_file = Resolve(base_dir, rc.credentials_file);
  return Status::Ok();
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

// [service.NAME], [load_balancer] and [frontend].
Status ParsePlatform(const toml::table& root, const std::string& base_dir, Config* cfg) {
  const std::string& path = cfg->file;
  if (const toml::table* services = root["service"].as_table()) {
    for (const auto& [k, node] : *services) {
      ServiceConfig svc;
      svc.name = std::string(k.str());
      std::string where = "config '" + path + "' line " + std::to_string(node.source().begin.line);
      if (!ValidName(svc.name)) {
        return Status::Config(where + ": service name '" + svc.name +
                              "' must be 1-64 letters, digits, '-' or '_'");
      }
      if (!node.is_table()) {
        return Status::Config(where + ": 'service." + svc.name + "' must be a table");
      }
      SectionReader r(*node.as_table(), "service." + svc.name, path);
      LB_RETURN_IF_ERROR(r.Command("command", &svc.command, true));
      LB_RETURN_IF_ERROR(r.Int("replicas", &svc.replicas, 1, 32));
      LB_RETURN_IF_ERROR(r.String("health_path", &svc.health_path));
      LB_RETURN_IF_ERROR(r.String("smoke_path", &svc.smoke_path));
      LB_RETURN_IF_ERROR(r.String("secret", &svc.secret));
      LB_RETURN_IF_ERROR(r.PortRange("ports", &svc.port_first, &svc.port_last));
      LB_RETURN_IF_ERROR(r.StringMap("env", &svc.env));
      std::vector<std::string> routes;
      LB_RETURN_IF_ERROR(r.StringList("routes", &routes));
      if (!routes.empty()) svc.routes = routes;
      LB_RETURN_IF_ERROR(r.Duration("start_timeout", &svc.start_timeout_seconds));
      LB_RETURN_IF_ERROR(r.Duration("drain", &svc.drain_seconds));
      LB_RETURN_IF_ERROR(r.StringList("databases", &svc.databases));
      LB_RETURN_IF_ERROR(r.Duration("bake", &svc.bake_seconds));
      LB_RETURN_IF_ERROR(r.Double("error_threshold", &svc.error_threshold, 0, 1));
      LB_RETURN_IF_ERROR(r.Int("keep_releases", &svc.keep_releases, 1, 1000));
      LB_RETURN_IF_ERROR(r.Finish());
      for (const std::string& route : svc.routes) {
        if (route.empty() || route.front() != '/' ||
            route.find_first_of(" \t\"'") != std::string::npos) {
          return Status::Config(where + ": route '" + route + "' of service '" + svc.name +
                                "' must be a path prefix such as \"/api/\"");
        }
      }
      std::string& program = svc.command.front();
      if (program.find('/') != std::string::npos && program.rfind("{release}", 0) != 0) {
        program = Resolve(base_dir, program);
      }
      cfg->services.push_back(std::move(svc));
    }
  }
  if (const toml::table* lb = root["load_balancer"].as_table()) {
    LoadBalancerConfigSection& l = cfg->load_balancer;
    l.present = true;
    SectionReader r(*lb, "load_balancer", path);
    LB_RETURN_IF_ERROR(r.String("bind", &l.bind));
    LB_RETURN_IF_ERROR(r.Int("port", &l.port, 1, 65535));
    LB_RETURN_IF_ERROR(r.String("haproxy", &l.haproxy));
    LB_RETURN_IF_ERROR(r.Finish());
  }
  if (const toml::table* fe = root["frontend"].as_table()) {
    FrontendConfigSection& f = cfg->frontend;
    f.present = true;
    SectionReader r(*fe, "frontend", path);
    LB_RETURN_IF_ERROR(r.String("dir", &f.dir, true));
    LB_RETURN_IF_ERROR(r.String("path", &f.path));
    LB_RETURN_IF_ERROR(r.PortRange("ports", &f.port_first, &f.port_last));
    LB_RETURN_IF_ERROR(r.Finish());
    f.dir = Resolve(base_dir, f.dir);
    if (f.path.empty() || f.path.front() != '/' || f.path.back() != '/') {
      return Status::Config("config '" + path + "': 'frontend.path' is \"" + f.path +
                            "\", expected a path prefix such as \"/site/\"");
    }
  }
  if (const toml::table* rec = root["recovery"].as_table()) {
    SectionReader r(*rec, "recovery", path);
    LB_RETURN_IF_ERROR(r.String("secret", &cfg->recovery.secret));
    LB_RETURN_IF_ERROR(r.Duration("gate_timeout", &cfg->recovery.gate_timeout_seconds));
    LB_RETURN_IF_ERROR(r.Duration("cleanup_after", &cfg->recovery.cleanup_after_seconds));
    LB_RETURN_IF_ERROR(r.Int("wal_prefetch_mib", &cfg->recovery.wal_prefetch_mib, 0, 65536));
    LB_RETURN_IF_ERROR(r.Finish());
  }
  if (const toml::table* rb = root["rebuild"].as_table()) {
    SectionReader r(*rb, "rebuild", path);
    LB_RETURN_IF_ERROR(r.StringList("dns_hook", &cfg->rebuild.dns_hook));
    LB_RETURN_IF_ERROR(r.Finish());
    // A relative program is relative to the config's directory, as a service's command is.
    if (!cfg->rebuild.dns_hook.empty()) cfg->rebuild.dns_hook.front() = Resolve(base_dir, cfg->rebuild.dns_hook.front());
  }
  if (const toml::table* sch = root["schedule"].as_table()) {
    ScheduleConfigSection& sc = cfg->schedule;
    SectionReader r(*sch, "schedule", path);
    auto schedule = [](const std::string& v) { return schedule::Schedule::Parse(v).status(); };
    LB_RETURN_IF_ERROR(r.Checked("timezone", &sc.timezone, [](const std::string& v) {
      return schedule::Zone::Named(v).status();
    }));
    for (auto [key, out] : {std::pair{"full", &sc.full}, std::pair{"incremental", &sc.incremental},
                            std::pair{"expire", &sc.expire}, std::pair{"copy", &sc.copy},
                            std::pair{"verify", &sc.verify}, std::pair{"drill", &sc.drill}}) {
      LB_RETURN_IF_ERROR(r.Checked(key, out, schedule));
    }
    LB_RETURN_IF_ERROR(r.Checked("window", &sc.window, [](const std::string& v) {
      return schedule::Window::Parse(v).status();
    }));
    LB_RETURN_IF_ERROR(r.Checked("drill_point", &sc.drill_point, [](const std::string& v) {
      return v == "latest" || v == "random" ? Status::Ok()
                                            : Status::Config("is \"" + v + "\", expected \"latest\" or \"random\"");
    }));
    LB_RETURN_IF_ERROR(r.Finish());
  }
  if (const toml::table* al = root["alert"].as_table()) {
    SectionReader r(*al, "alert", path);
    LB_RETURN_IF_ERROR(r.Duration("repeat", &cfg->alert.repeat_seconds));
    LB_RETURN_IF_ERROR(r.Int64("min_free_percent", &cfg->alert.min_free_percent, 0, 99));
    std::vector<const toml::table*> notify;
    LB_RETURN_IF_ERROR(r.Tables("notify", &notify));
    LB_RETURN_IF_ERROR(r.Finish());
    for (const toml::table* t : notify) {
      AlertNotifyConfig n;
      SectionReader nr(*t, "alert.notify", path);
      LB_RETURN_IF_ERROR(nr.String("webhook", &n.webhook));
      LB_RETURN_IF_ERROR(nr.StringList("command", &n.command));
      LB_RETURN_IF_ERROR(nr.Finish());
      if (n.webhook.empty() == n.command.empty()) {
        return Status::Config("config '" + path + "': each [[alert.notify]] needs exactly one of 'webhook' and 'command'");
      }
      if (!n.webhook.empty() && n.webhook.rfind("http://", 0) != 0 && n.webhook.rfind("https://", 0) != 0) {
        return Status::Config("config '" + path + "': [[alert.notify]] webhook '" + n.webhook + "' is not an http(s) URL");
      }
      cfg->alert.notify.push_back(std::move(n));
    }
  }
  if (const toml::node* contacts = root.get("contacts")) {
    const toml::array* arr = contacts->as_array();
    for (size_t i = 0; arr != nullptr && i < arr->size(); ++i) {
      if (!(*arr)[i].is_table()) arr = nullptr;
    }
    if (arr == nullptr) {
      return Status::Config("config '" + path + "' line " + std::to_string(contacts->source().begin.line) +
                                ": 'contacts' must be an array of tables ([[contacts]])",
                            "one [[contacts]] per person, with name, email and role");
    }
    for (const toml::node& e : *arr) {
      ContactConfig c;
      SectionReader cr(*e.as_table(), "contacts", path);
      LB_RETURN_IF_ERROR(cr.String("name", &c.name, true));
      LB_RETURN_IF_ERROR(cr.String("email", &c.email));
      LB_RETURN_IF_ERROR(cr.String("role", &c.role));
      LB_RETURN_IF_ERROR(cr.Finish());
      cfg->contacts.push_back(std::move(c));
    }
  }
  if (const toml::table* ag = root["agent"].as_table()) {
    cfg->agent.present = true;
    SectionReader r(*ag, "agent", path);
    LB_RETURN_IF_ERROR(r.Bool("stream", &cfg->agent.stream));
    LB_RETURN_IF_ERROR(r.Checked("listen", &cfg->agent.listen, [](const std::string& v) {
      size_t colon = v.rfind(':');
      int port = 0;
      bool ok = colon != std::string::npos && colon > 0 &&
                std::sscanf(v.c_str() + colon + 1, "%d", &port) == 1 && port > 0 && port < 65536;
      return ok ? Status::Ok() : Status::Config("is \"" + v + "\", expected HOST:PORT such as \"127.0.0.1:9187\"");
    }));
    LB_RETURN_IF_ERROR(r.Duration("probe_interval", &cfg->agent.probe_interval_seconds));
    LB_RETURN_IF_ERROR(r.String("token_file", &cfg->agent.token_file));
    cfg->agent.token_file = Resolve(base_dir, cfg->agent.token_file);
    LB_RETURN_IF_ERROR(r.Finish());
    // The dashboard shows the stack's names, paths and figures: beyond this machine only to
    // someone who has the token.
    std::string host = cfg->agent.listen.substr(0, cfg->agent.listen.rfind(':'));
    bool loopback = host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
    if (!cfg->agent.listen.empty() && !loopback && cfg->agent.token_file.empty()) {
      return Status::Config("config '" + path + "': [agent] listen = \"" + cfg->agent.listen +
                                "\" serves the dashboard beyond this machine without a token",
                            "set [agent] token_file to a file holding a secret token, or listen on 127.0.0.1");
    }
  }
  if (cfg->recovery.secret.empty()) {
    for (const auto& svc : cfg->services) {
      if (!svc.secret.empty()) {
        cfg->recovery.secret = svc.secret;
        break;
      }
    }
  }
  return Status::Ok();
}

}  // namespace

const ServiceConfig* Config::FindService(const std::string& name) const {
  for (const auto& s : services) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string ConfigPath(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("LIFEBOAT_CONFIG");
  if (env != nullptr && *env != '\0') return env;
  return "lifeboat.toml";
}

Result<Config> LoadConfig(const std::string& path) {
  // Symlinks resolved: relative paths in the file are relative to where it really is.
  std::string abs = RealPath(AbsolutePath(path));
  Result<Bytes> bytes = ReadFile(abs);
  if (!bytes.ok()) {
    return Status::Config("cannot read config '" + abs + "': " +
                              (bytes.status().code() == Code::kNotFound ? "no such file"
                                                                        : bytes.status().message()),
                          "pass -c FILE, set LIFEBOAT_CONFIG, or create ./lifeboat.toml");
  }
  return ParseConfig(std::string(bytes->begin(), bytes->end()), abs);
}

namespace {

// The tables a recovery depends on, as toml++ formats them (keys in order, comments and layout
// gone), hashed: the watching tables are left out, so a new schedule or contact does not make a
// drill's result stale.
std::string RecoveryFingerprint(toml::table root) {
  for (const char* watching : {"agent", "alert", "contacts", "schedule"}) root.erase(watching);
  std::ostringstream text;
  text << root;
  std::string t = text.str();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(t.data(), t.size(), digest, &n, EVP_sha256(), nullptr);
  return HexEncode(ByteSpan(digest, 8));
}

}  // namespace

Result<Config> ParseConfig(const std::string& text, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return Status::Config("config '" + path + "' line " + std::to_string(e.source().begin.line) +
                          ": " + std::string(e.description()));
  }
  Config cfg;
  cfg.file = path;
  std::string base_dir = Dirname(path);

  static const std::set<std::string> kSections = {
      "agent", "alert", "contacts", "database", "frontend", "instances", "load_balancer", "objectives",
      "rebuild", "recovery", "repository", "retention", "schedule", "service", "state", "verify"};
  for (const auto& [k, node] : root) {
    std::string key(k.str());
    if (!kSections.count(key)) {
      return Status::Config("config '" + path + "' line " +
                                std::to_string(node.source().begin.line) + ": unknown key '" +
                                key + "'",
                            "sections are: [agent], [alert], [[contacts]], [database], [frontend], [instances], "
                            "[load_balancer], "
                            "[objectives], [recovery], [repository], [retention], [schedule], [service.NAME], "
                            "[state], [verify]");
    }
    if (key == "contacts") continue;  // an array of tables, read with [alert]
    if (!node.is_table()) {
      return Status::Config("config '" + path + "' line " +
                            std::to_string(node.source().begin.line) + ": '" + key +
                            "' must be a table ([" + key + "])");
    }
  }

  const toml::table* repo = root["repository"].as_table();
  if (repo == nullptr) {
    return Status::Config("config '" + path + "': missing section [repository]",
                          "add [repository] with path = \"/var/backups/lifeboat\"");
  }
  LB_RETURN_IF_ERROR(ReadRepository(*repo, "repository", path, base_dir, &cfg.repository));
  if (const toml::node* off = repo->get("offsite")) {
    if (!off->is_table()) {
      return Status::Config("config '" + path + "': 'repository.offsite' must be a table ([repository.offsite])");
    }
    RepositoryConfigSection o;
    o.name = "offsite";
    LB_RETURN_IF_ERROR(ReadRepository(*off->as_table(), "repository.offsite", path, base_dir, &o));
    cfg.offsite = o;
  }

  if (const toml::table* state = root["state"].as_table()) {
    SectionReader s(*state, "state", path);
    LB_RETURN_IF_ERROR(s.String("dir", &cfg.state.dir));
    LB_RETURN_IF_ERROR(s.Finish());
  }
  cfg.state.dir = cfg.state.dir.empty() ? JoinPath(base_dir, ".lifeboat")
                                        : Resolve(base_dir, cfg.state.dir);

  if (const toml::table* db = root["database"].as_table()) {
    DatabaseConfigSection& d = cfg.database;
    d.present = true;
    SectionReader r(*db, "database", path);
    LB_RETURN_IF_ERROR(r.String("name", &d.name));
    LB_RETURN_IF_ERROR(r.String("data_dir", &d.data_dir, true));
    LB_RETURN_IF_ERROR(r.String("host", &d.host));
    LB_RETURN_IF_ERROR(r.Int("port", &d.port, 1, 65535));
    LB_RETURN_IF_ERROR(r.String("user", &d.user));
    LB_RETURN_IF_ERROR(r.String("os_user", &d.os_user));
    LB_RETURN_IF_ERROR(r.String("bin_dir", &d.bin_dir));
    LB_RETURN_IF_ERROR(r.Int64("exact_count_limit", &d.exact_count_limit, 0, INT64_MAX));
    LB_RETURN_IF_ERROR(r.Duration("archive_timeout", &d.archive_timeout_seconds));
    LB_RETURN_IF_ERROR(r.Finish());
    d.data_dir = Resolve(base_dir, d.data_dir);
    if (!d.host.empty() && d.host.front() != '/' && d.host.find('/') != std::string::npos) {
      d.host = Resolve(base_dir, d.host);
    }
  }
  if (const toml::table* ret = root["retention"].as_table()) {
    SectionReader r(*ret, "retention", path);
    LB_RETURN_IF_ERROR(r.Int("days", &cfg.retention.days, 1, 3650));
    LB_RETURN_IF_ERROR(r.Finish());
  }
  if (const toml::table* inst = root["instances"].as_table()) {
    SectionReader r(*inst, "instances", path);
    LB_RETURN_IF_ERROR(r.String("dir", &cfg.instances.dir));
    LB_RETURN_IF_ERROR(r.PortRange("ports", &cfg.instances.port_first, &cfg.instances.port_last));
    LB_RETURN_IF_ERROR(r.Finish());
  }
  if (const toml::table* obj = root["objectives"].as_table()) {
    SectionReader r(*obj, "objectives", path);
    LB_RETURN_IF_ERROR(r.Duration("rto", &cfg.objectives.rto_seconds));
    LB_RETURN_IF_ERROR(r.Duration("rpo", &cfg.objectives.rpo_seconds));
    LB_RETURN_IF_ERROR(r.Finish());
  }
  if (const toml::table* ver = root["verify"].as_table()) {
    VerifyConfigSection& v = cfg.verify;
    SectionReader r(*ver, "verify", path);
    LB_RETURN_IF_ERROR(r.StringList("critical_tables", &v.critical_tables));
    LB_RETURN_IF_ERROR(r.Double("shrink_limit", &v.shrink_limit, 0, 1));
    LB_RETURN_IF_ERROR(r.Double("size_tolerance", &v.size_tolerance, 0, 100));
    LB_RETURN_IF_ERROR(r.Duration("amcheck_timeout", &v.amcheck_timeout_seconds));
    LB_RETURN_IF_ERROR(r.Double("sample", &v.sample, 0, 1));
    LB_RETURN_IF_ERROR(r.Duration("budget", &v.budget_seconds));
    std::vector<const toml::table*> fresh, checks;
    LB_RETURN_IF_ERROR(r.Tables("freshness", &fresh));
    LB_RETURN_IF_ERROR(r.Tables("check", &checks));
    LB_RETURN_IF_ERROR(r.Finish());
    for (const toml::table* t : fresh) {
      FreshnessConfig f;
      SectionReader fr(*t, "verify.freshness", path);
      LB_RETURN_IF_ERROR(fr.String("database", &f.database, true));
      LB_RETURN_IF_ERROR(fr.String("table", &f.table, true));
      LB_RETURN_IF_ERROR(fr.String("column", &f.column, true));
      LB_RETURN_IF_ERROR(fr.Finish());
      v.freshness.push_back(f);
    }
    for (const toml::table* t : checks) {
      UserCheckConfig c;
      SectionReader cr(*t, "verify.check", path);
      LB_RETURN_IF_ERROR(cr.String("name", &c.name, true));
      LB_RETURN_IF_ERROR(cr.String("database", &c.database, true));
      LB_RETURN_IF_ERROR(cr.String("sql", &c.sql, true));
      LB_RETURN_IF_ERROR(cr.String("expect", &c.expect, true));
      LB_RETURN_IF_ERROR(cr.Finish());
      v.checks.push_back(c);
    }
  }
  LB_RETURN_IF_ERROR(ParsePlatform(root, base_dir, &cfg));
  cfg.instances.dir = cfg.instances.dir.empty() ? JoinPath(cfg.state.dir, "instances")
                                                : Resolve(base_dir, cfg.instances.dir);
  cfg.recovery_fingerprint = RecoveryFingerprint(root);
  return cfg;
}

}  // namespace lifeboat
