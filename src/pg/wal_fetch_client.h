// The client side of the restore's WAL prefetch server (pg/wal_prefetch.h), and the line
// protocol both sides speak. It depends on nothing beyond the C and C++ libraries, so that
// `lifeboat-wal-fetch`, the program restore_command runs once per WAL file during a restore,
// starts and exits in 1.5 ms instead of the full binary's 6.8 ms (release build, this machine).
#pragma once

#include <sys/un.h>

#include <string>

namespace lifeboat::pg {

enum class PrefetchReply {
  kNoServer,  // nothing listens on the socket (the restore is gone, or prefetch is off)
  kStored,    // the file is at its destination
  kMissing,   // not archived, or not on the recovery's path: the end of the WAL
  kError,     // the server could not fetch it (the message says why)
};

// Whether `path` fits a Unix socket address (sockaddr_un's sun_path, less its final NUL).
bool FitsUnixSocketPath(const std::string& path);

// Asks the server at `socket_path` for `name` and renames what it spooled to `dest`. The
// reason of kMissing and kError goes to `*message`.
PrefetchReply AskPrefetchServer(const std::string& socket_path, const std::string& name, const std::string& dest,
                                std::string* message);

namespace wire {
// The address of the socket at `path`. REQUIRES: FitsUnixSocketPath(path).
sockaddr_un UnixAddress(const std::string& path);
// One line (without its '\n', at most 4 KiB); false on EOF or an error before it.
bool ReadLine(int fd, std::string* line);
bool WriteLine(int fd, const std::string& line);
}  // namespace wire

}  // namespace lifeboat::pg
