// lifeboat secret set NAME KEY=VALUE... | get NAME [--show] | history NAME | list
//
// Values are never printed without --show. So that a value need not appear on lifeboat's own
// command line (visible in ps), KEY=@FILE reads it from a file and KEY=- from one line of stdin.
#include <unistd.h>

#include <iostream>

#include "base/fs.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "platform/secrets.h"

namespace lifeboat::cli {

namespace {

struct Options {
  std::string name;
  std::vector<std::string> pairs;
  bool show = false;
  bool replace = false;
};

Result<std::string> ValueFrom(const std::string& key, const std::string& spec) {
  if (spec == "-") {
    std::string line;
    if (!std::getline(std::cin, line)) {
      return Status::Usage("no value for " + key + " on standard input");
    }
    return line;
  }
  if (!spec.empty() && spec[0] == '@') {
    Result<Bytes> b = ReadFile(spec.substr(1));
    if (!b.ok()) return b.status().Context("cannot read the value of " + key);
    std::string v(b->begin(), b->end());
    if (!v.empty() && v.back() == '\n') v.pop_back();
    return v;
  }
  return spec;
}

Status Set(Context& ctx, const Options& opt) {
  platform::SecretValues changes;
  for (const std::string& pair : opt.pairs) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos) {
      return Status::Usage("'" + pair + "' is not KEY=VALUE",
                           "use KEY=VALUE, KEY=@FILE (value from a file) or KEY=- (from stdin)");
    }
    std::string key = pair.substr(0, eq);
    LB_RETURN_IF_ERROR(platform::CheckSecretKey(key));
    LB_ASSIGN_OR_RETURN(changes[key], ValueFrom(key, pair.substr(eq + 1)));
  }
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository(false));
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  platform::SecretStore store(cfg.state.dir, repo.get());
  LB_ASSIGN_OR_RETURN(int version, store.Set(opt.name, changes, opt.replace, "set"));
  if (ctx.json) {
    PrintJson({{"name", opt.name}, {"version", version}});
  } else {
    std::cout << "secret '" << opt.name << "': version " << version << " is current\n";
  }
  return Status::Ok();
}

Status Get(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository(false));
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  platform::SecretStore store(cfg.state.dir, repo.get());
  LB_ASSIGN_OR_RETURN(platform::Secret s, store.Get(opt.name));
  const platform::SecretVersion* v = s.Find(s.current);
  nlohmann::json j = platform::SecretSummaryJson(s, s.current);
  if (opt.show && v != nullptr) j["values"] = v->values;
  if (ctx.json) {
    std::cout << j.dump(2) << "\n";
    return Status::Ok();
  }
  std::cout << "secret " << s.name << " version " << s.current << " (current";
  if (s.previous != 0) std::cout << "; previous: version " << s.previous;
  std::cout << ")\n";
  std::vector<std::vector<std::string>> rows;
  if (v != nullptr) {
    for (const auto& [k, value] : v->values) rows.push_back({k, opt.show ? value : "********"});
  }
  PrintTable({"KEY", "VALUE"}, rows);
  if (!opt.show) std::cout << "(values hidden; --show prints them)\n";
  return Status::Ok();
}

Status History(Context& ctx, const Options& opt) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository(false));
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  platform::SecretStore store(cfg.state.dir, repo.get());
  LB_ASSIGN_OR_RETURN(platform::Secret s, store.Get(opt.name));
  nlohmann::json arr = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (auto it = s.versions.rbegin(); it != s.versions.rend(); ++it) {
    nlohmann::json j = platform::SecretSummaryJson(s, it->version);
    arr.push_back(j);
    std::string labels, keys;
    for (const auto& l : j["labels"]) labels += (labels.empty() ? "" : ",") + l.get<std::string>();
    for (const auto& k : j["keys"]) keys += (keys.empty() ? "" : " ") + k.get<std::string>();
    rows.push_back({std::to_string(it->version), labels.empty() ? "-" : labels, it->created_at,
                    it->created_by, it->reason, keys});
  }
  if (ctx.json) {
    std::cout << arr.dump(2) << "\n";
  } else {
    PrintTable({"VERSION", "LABELS", "CREATED", "BY", "REASON", "KEYS"}, rows);
  }
  return Status::Ok();
}

Status List(Context& ctx) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository(false));
  LB_ASSIGN_OR_RETURN(Config cfg, ctx.LoadConfig());
  platform::SecretStore store(cfg.state.dir, repo.get());
  LB_ASSIGN_OR_RETURN(std::vector<std::string> names, store.List());
  nlohmann::json arr = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& n : names) {
    LB_ASSIGN_OR_RETURN(platform::Secret s, store.Get(n));
    arr.push_back(platform::SecretSummaryJson(s, s.current));
    rows.push_back({n, std::to_string(s.current), std::to_string(s.versions.size())});
  }
  if (ctx.json) {
    std::cout << arr.dump(2) << "\n";
  } else {
    PrintTable({"NAME", "CURRENT", "VERSIONS"}, rows);
  }
  return Status::Ok();
}

}  // namespace

void AddSecret(CLI::App* app, Context* ctx) {
  CLI::App* secret = app->add_subcommand("secret", "versioned secrets (set, get, history, list)");
  secret->require_subcommand(1);
  secret->fallthrough();
  auto opt = std::make_shared<Options>();

  CLI::App* set = secret->add_subcommand("set", "add a version: current values with these keys changed");
  set->add_option("name", opt->name, "secret name")->required();
  set->add_option("pairs", opt->pairs, "KEY=VALUE, KEY=@FILE or KEY=- (stdin)")->required();
  set->add_flag("--replace", opt->replace, "the new version holds only the given keys");
  set->callback([ctx, opt] { ctx->run = [ctx, opt] { return Set(*ctx, *opt); }; });

  CLI::App* get = secret->add_subcommand("get", "show the current version (values hidden)");
  get->add_option("name", opt->name, "secret name")->required();
  get->add_flag("--show", opt->show, "print the values");
  get->callback([ctx, opt] { ctx->run = [ctx, opt] { return Get(*ctx, *opt); }; });

  CLI::App* history = secret->add_subcommand("history", "every version, newest first (no values)");
  history->add_option("name", opt->name, "secret name")->required();
  history->callback([ctx, opt] { ctx->run = [ctx, opt] { return History(*ctx, *opt); }; });

  CLI::App* list = secret->add_subcommand("list", "every secret with its current version");
  list->callback([ctx] { ctx->run = [ctx] { return List(*ctx); }; });
}

}  // namespace lifeboat::cli
