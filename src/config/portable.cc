#include "config/portable.h"

#include <sstream>

#include <toml++/toml.h>

#include "base/fs.h"

namespace lifeboat {

namespace {

// Rewrites every string under `node` that is `dir` or below it.
void Relativize(toml::node& node, const std::string& dir) {
  if (toml::table* t = node.as_table()) {
    for (auto&& [k, v] : *t) Relativize(v, dir);
  } else if (toml::array* a = node.as_array()) {
    for (auto& v : *a) Relativize(v, dir);
  } else if (toml::value<std::string>* s = node.as_string()) {
    const std::string& value = s->get();
    if (value == dir) {
      *s = std::string("./");  // with its slash: a host with one is a socket directory
    } else if (value.size() > dir.size() && value.compare(0, dir.size(), dir) == 0 && value[dir.size()] == '/') {
      *s = value.substr(dir.size() + 1);
    }
  }
}

Result<toml::table> Parse(const std::string& text, const std::string& where) {
  try {
    return toml::parse(text, where);
  } catch (const toml::parse_error& e) {
    return Status::Config("config '" + where + "' line " + std::to_string(e.source().begin.line) + ": " +
                          std::string(e.description()));
  }
}

std::string Text(const toml::table& t) {
  std::ostringstream out;
  out << t << "\n";
  return out.str();
}

// The location keys of a repository section, replaced by `rc`'s.
void PlaceRepository(toml::table* section, const RepositoryConfigSection& rc, const std::string& key_file) {
  for (const char* k : {"path", "url", "endpoint", "region", "passphrase_file", "credentials_file", "profile"}) {
    section->erase(k);
  }
  if (!rc.url.empty()) {
    section->insert("url", rc.url);
    if (!rc.endpoint.empty()) section->insert("endpoint", rc.endpoint);
    if (!rc.region.empty()) section->insert("region", rc.region);
    if (!rc.credentials_file.empty()) section->insert("credentials_file", rc.credentials_file);
  } else {
    section->insert("path", rc.path);
  }
  section->insert("passphrase_file", key_file);
}

}  // namespace

Result<std::string> PortableConfigText(const std::string& text, const std::string& dir, const std::string& where) {
  LB_ASSIGN_OR_RETURN(toml::table root, Parse(text, where));
  std::string base = dir.size() > 1 && dir.back() == '/' ? dir.substr(0, dir.size() - 1) : dir;
  Relativize(root, base);
  return Text(root);
}

Result<std::string> PlacedConfigText(const std::string& portable, const RepositoryConfigSection& repository,
                                     const std::string& key_file, const std::string& recorded_dir,
                                     std::string* dropped) {
  LB_ASSIGN_OR_RETURN(toml::table root, Parse(portable, "the stack definition's config"));
  dropped->clear();
  toml::table* repo = root["repository"].as_table();
  if (repo == nullptr) {
    root.insert("repository", toml::table{});
    repo = root["repository"].as_table();
  }
  if (toml::table* off = (*repo)["offsite"].as_table()) {
    std::string url = off->get("url") != nullptr ? off->get("url")->value_or(std::string()) : "";
    std::string path = off->get("path") != nullptr ? off->get("path")->value_or(std::string()) : "";
    std::string resolved = path.empty() || path.front() == '/' ? path : JoinPath(recorded_dir, path);
    if ((!url.empty() && url == repository.url) || (!resolved.empty() && resolved == repository.path)) {
      *dropped = "[repository.offsite] is the repository this rebuild reads from: it is the only one now";
    } else if (url.empty() && !PathExists(resolved)) {
      *dropped = "[repository.offsite] path '" + resolved + "' is not on this machine";
    }
    if (!dropped->empty()) {
      repo->erase("offsite");
    } else {
      if (url.empty()) off->insert_or_assign("path", resolved);
      off->insert_or_assign("passphrase_file", key_file);
      // Its own credentials file, when it was beside the lost config, is not here: the ones the
      // rebuild was given stand in.
      std::string cred = off->get("credentials_file") != nullptr ? off->get("credentials_file")->value_or(std::string()) : "";
      std::string cred_path = cred.empty() || cred.front() == '/' ? cred : JoinPath(recorded_dir, cred);
      if (!url.empty() && !cred.empty() && !PathExists(cred_path)) {
        if (repository.credentials_file.empty()) {
          off->erase("credentials_file");
        } else {
          off->insert_or_assign("credentials_file", repository.credentials_file);
        }
      }
    }
  }
  PlaceRepository(repo, repository, key_file);
  return Text(root);
}

}  // namespace lifeboat
