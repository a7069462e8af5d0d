// lifeboat-wal-fetch SOCKET NAME DEST: restore_command's fast path during a restore. Asks the
// restore's prefetch server (pg/wal_prefetch.h) for NAME and moves it to DEST. Exit 0 when it
// is there; 1 otherwise (no server, not archived, or an error, said on stderr), so that
// restore_command's `|| lifeboat ... wal get` fetches it itself and says the last word.
#include <cstdio>
#include <string>

#include "pg/wal_fetch_client.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: lifeboat-wal-fetch SOCKET NAME DEST\n");
    return 1;
  }
  std::string why;
  lifeboat::pg::PrefetchReply r = lifeboat::pg::AskPrefetchServer(argv[1], argv[2], argv[3], &why);
  if (r == lifeboat::pg::PrefetchReply::kStored) return 0;
  if (r == lifeboat::pg::PrefetchReply::kError) std::fprintf(stderr, "lifeboat-wal-fetch: %s\n", why.c_str());
  return 1;
}
