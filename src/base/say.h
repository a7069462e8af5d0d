// A line of progress for the person running a command ("database: running on port 5432"),
// printed by the CLI; the layers below only produce the lines.
#pragma once

#include <functional>
#include <string>

namespace lifeboat {

using Say = std::function<void(const std::string&)>;

}  // namespace lifeboat
