// lifeboat.toml: the one configuration file. Loaded strictly: an unknown key, a wrong type or
// a missing required key is an error naming the file, the line and the key. Relative paths in
// the file are relative to the directory that holds it.
#pragma once

#include <string>

#include "base/result.h"

namespace lifeboat {

struct RepositoryConfigSection {
  std::string path;             // required: where the repository lives
  std::string passphrase_file;  // optional; LIFEBOAT_PASSPHRASE is used otherwise
  int compression = 1;          // zstd level for data, 0 = off. Default: 1
};

struct StateConfigSection {
  // Local state that is not in the repository (caches, registries, journals, local locks).
  // Default: ".lifeboat" beside the config file.
  std::string dir;
};

struct Config {
  std::string file;  // absolute path of the file it was loaded from
  RepositoryConfigSection repository;
  StateConfigSection state;
};

// Which file to load: `flag` (-c) if given, else $LIFEBOAT_CONFIG, else ./lifeboat.toml.
std::string ConfigPath(const std::string& flag);

Result<Config> LoadConfig(const std::string& path);
// Parses TOML text as if it came from `path` (for tests and the fuzzer).
Result<Config> ParseConfig(const std::string& text, const std::string& path);

}  // namespace lifeboat
