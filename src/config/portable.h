// The config as a rebuild carries it: recorded with the paths under its own directory made
// relative (so it can be placed under any directory of a new machine), and placed with the
// repository the rebuild reads from and the key it was given.
#pragma once

#include <string>

#include "base/result.h"
#include "config/config.h"

namespace lifeboat {

// `text` (a config file) with every string value that is `dir` or below it made relative to it
// ("./" for `dir` itself: with the slash, a [database] host stays a socket directory), in tables and arrays alike. A path elsewhere stays as it is: on the
// new machine it must exist where it did. Comments and layout are not kept. A text that does
// not parse is Code::kConfig naming `where`.
Result<std::string> PortableConfigText(const std::string& text, const std::string& dir, const std::string& where);

// A portable config for a new machine: [repository] becomes `repository` (its path or url,
// endpoint and region; passphrase_file `key_file`). [repository.offsite] keeps the same key and
// stays when it is an S3 URL or a path on this machine other than `repository` (a relative one
// is resolved against `recorded_dir`, the lost config's directory, and kept absolute when it is
// there); it is dropped when it is `repository` itself or a path not here, and `*dropped` says
// why. Code::kConfig when `portable` does not parse.
Result<std::string> PlacedConfigText(const std::string& portable, const RepositoryConfigSection& repository,
                                     const std::string& key_file, const std::string& recorded_dir,
                                     std::string* dropped);

}  // namespace lifeboat
