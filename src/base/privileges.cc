#include "base/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/fs.h"

namespace lifeboat {

Status BecomeUser(const std::string& user, const std::vector<std::string>& dirs) {
  if (geteuid() != 0) return Status::Ok();
  struct passwd* pw = getpwnam(user.c_str());
  if (pw == nullptr) {
    return Status::Config("os_user '" + user + "' does not exist on this machine",
                          "set [database] os_user to the owner of data_dir");
  }
  uid_t uid = pw->pw_uid;
  gid_t gid = pw->pw_gid;
  for (const std::string& dir : dirs) {
    if (dir.empty()) continue;
    // Create each missing component as the user, so that it can write below it.
    std::string path;
    size_t pos = 0;
    while (pos != std::string::npos) {
      pos = dir.find('/', pos + 1);
      path = dir.substr(0, pos);
      if (path.empty()) continue;
      struct stat st {};
      if (stat(path.c_str(), &st) == 0) continue;
      if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
        return ErrnoStatus("cannot create directory '" + path + "'", errno);
      }
      if (chown(path.c_str(), uid, gid) != 0) {
        return ErrnoStatus("cannot give '" + path + "' to " + user, errno);
      }
    }
    Result<bool> empty = IsMissingOrEmptyDir(dir);
    if (empty.ok() && *empty && chown(dir.c_str(), uid, gid) != 0) {
      return ErrnoStatus("cannot give '" + dir + "' to " + user, errno);
    }
  }
  if (initgroups(user.c_str(), gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
    return ErrnoStatus("cannot switch to os_user '" + user + "'", errno);
  }
  return Status::Ok();
}

}  // namespace lifeboat
