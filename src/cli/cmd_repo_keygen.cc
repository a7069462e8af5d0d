// lifeboat repo keygen FILE: write a generated key, for use as a passphrase_file. A generated
// key holds 256 random bits, so its key file derives with HKDF instead of scrypt and opening the
// repository costs microseconds instead of a tenth of a second: the choice for unattended use
// (archive_command runs lifeboat once per WAL segment).
#include <fcntl.h>

#include <iostream>

#include "base/fs.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "repository/crypto.h"

namespace lifeboat::cli {

namespace {

Status Run(Context& ctx, const std::string& path) {
  // O_EXCL: overwriting a key that already opens a repository would lock its owner out.
  Result<UniqueFd> fd = OpenFile(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (!fd.ok()) {
    if (fd.status().code() == Code::kAlreadyExists) {
      return Status::Usage("cannot write key to '" + path + "': the file exists",
                           "choose a new file; a key in use must not be replaced");
    }
    return fd.status();
  }
  std::string text = NewGeneratedKey() + "\n";
  Status written = WriteAll(fd->get(), text.data(), text.size(), path);
  if (written.ok()) written = FsyncFd(fd->get(), path);
  if (!written.ok()) {
    (void)RemoveFile(path);  // created above and never used: a part of a key must not remain
    return written;
  }
  LB_RETURN_IF_ERROR(FsyncDir(Dirname(path)));
  if (ctx.json) {
    PrintJson({{"path", path}});
  } else {
    std::cout << "wrote a new key to '" << path << "' (mode 0600)\n"
              << "use it as [repository] passphrase_file, then run 'lifeboat repo init' for a new "
                 "repository or 'lifeboat repo passwd --new-passphrase-file "
              << path << "' for an existing one\n";
  }
  return Status::Ok();
}

}  // namespace

void AddRepoKeygen(CLI::App* repo, Context* ctx) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = repo->add_subcommand(
      "keygen", "write a generated key (256 random bits) to use instead of a passphrase");
  cmd->add_option("file", *path, "the file to create (refused if it exists)")->required();
  cmd->callback([ctx, path] { ctx->run = [ctx, path] { return Run(*ctx, *path); }; });
}

}  // namespace lifeboat::cli
