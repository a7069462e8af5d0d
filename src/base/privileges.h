// Running as the data directory's owner. PostgreSQL refuses to run as root, and files that
// archive_command (running as that owner) must write cannot belong to root. So when lifeboat is
// started as root and a [database] os_user is configured, it becomes that user for the rest of
// the process, after creating the directories it needs with that owner.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace lifeboat {

// REQUIRES: called before any thread is started. No-op unless the effective uid is 0.
// `dirs` are created if missing and, when created here or empty, given to `user`.
Status BecomeUser(const std::string& user, const std::vector<std::string>& dirs);

}  // namespace lifeboat
