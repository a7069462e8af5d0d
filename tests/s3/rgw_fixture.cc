// The ctest fixture of the S3 tests: `rgw_fixture start DIR` starts the store and writes its
// address to DIR/address (the daemons keep running); `rgw_fixture stop DIR` stops them by pid
// and removes DIR.
#include <cstdio>
#include <filesystem>
#include <string>

#include "rgw.h"

using lifeboat::testing::RgwAddress;
using lifeboat::testing::RgwStore;

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: rgw_fixture start|stop DIR\n");
    return 1;
  }
  std::string cmd = argv[1], dir = argv[2];
  if (cmd == "stop") {
    RgwAddress a;
    bool listed = std::filesystem::exists(dir + "/address");
    if (listed && !RgwStore::ReadAddress(dir + "/address", &a)) {
      // Removing the state would orphan daemons nobody could name any more: keep it, say so.
      fprintf(stderr, "error: cannot read %s/address: the store's pids are unknown; stop them by hand\n", dir.c_str());
      return 2;
    }
    if (listed) RgwStore::Kill(a.pids);
    std::filesystem::remove_all(dir);
    return 0;
  }
  if (cmd != "start") return 1;
  if (std::filesystem::exists(dir + "/address")) {  // a run that never stopped its store
    RgwAddress a;
    if (RgwStore::ReadAddress(dir + "/address", &a)) RgwStore::Kill(a.pids);
  }
  std::filesystem::remove_all(dir);
  std::string error;
  std::unique_ptr<RgwStore> store = RgwStore::Start(dir + "/state", &error);
  if (!store) {
    fprintf(stderr, "error: cannot start RGW: %s\n", error.c_str());
    return 2;
  }
  RgwAddress a = store->address();
  if (!RgwStore::WriteAddress(a, dir + "/address")) return 2;
  printf("RGW at %s (pids", a.endpoint.c_str());
  for (pid_t p : a.pids) printf(" %d", p);
  printf(")\n");
  store->Detach();  // the daemons outlive this process; `stop` ends them
  return 0;
}
