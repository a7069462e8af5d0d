// Repository commands, configuration and bad input through the real binary.
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <regex>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "repository/lock.h"
#include "storage/local/local_backend.h"

namespace fs = std::filesystem;

namespace lifeboat::testing {
namespace {

using RepoTest = CliTest;

TEST_F(RepoTest, InitRefusesAnExistingRepositoryAndANonEmptyDirectory) {
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  RunResult again = Run({"repo", "init"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.err, "error: cannot create repository at '" + repo() +
                           "': a repository already exists there\n"
                           "hint: use the existing repository, or choose another [repository] path\n");
  WriteFile(Path("other/notes.txt"), "x");
  WriteConfig("[repository]\npath = \"other\"\n");
  RunResult other = Run({"repo", "init"});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_EQ(other.err.substr(0, other.err.find('\n')),
            "error: cannot create repository at '" + Path("other") + "': the location is not empty");
  EXPECT_EQ(ReadWholeFile(Path("other/notes.txt")), "x");
}

TEST_F(RepoTest, RepositoryFilesAreOwnerOnly) {
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  MakeTree(Path("src"), 1, 16);
  Backup(Path("src"));
  for (const auto& e : fs::recursive_directory_iterator(repo())) {
    struct stat st {};
    ASSERT_EQ(stat(e.path().c_str(), &st), 0);
    if (e.is_regular_file()) EXPECT_EQ(st.st_mode & 0777, 0600u) << e.path();
    else EXPECT_EQ(st.st_mode & 0077, 0u) << e.path();
  }
}

TEST_F(RepoTest, WrongPassphraseExitsOneAndNeverPrintsData) {
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  RunResult r = Run({"snapshots"}, {{"LIFEBOAT_PASSPHRASE", "not it"}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "error: cannot open repository '" + repo() + "': wrong passphrase\n"
                   "hint: check LIFEBOAT_PASSPHRASE or [repository] passphrase_file\n");
}

TEST_F(RepoTest, PassphraseFileIsRead) {
  WriteFile(Path("pass"), "from a file\n");
  WriteConfig("[repository]\npath = \"repo\"\npassphrase_file = \"pass\"\n");
  ASSERT_EQ(Run({"repo", "init"}, {{"LIFEBOAT_PASSPHRASE", ""}}).exit_code, 0);
  EXPECT_EQ(Run({"snapshots", "--json"}, {{"LIFEBOAT_PASSPHRASE", ""}}).out, "[]\n");
  // The environment wins over the file; the file's passphrase is the real one.
  EXPECT_EQ(Run({"snapshots"}, {{"LIFEBOAT_PASSPHRASE", "from a file"}}).exit_code, 0);
  EXPECT_EQ(Run({"snapshots"}, {{"LIFEBOAT_PASSPHRASE", "other"}}).exit_code, 1);
}

TEST_F(RepoTest, NoPassphraseAnywhereIsAConfigError) {
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  RunResult r = Run({"snapshots"}, {{"LIFEBOAT_PASSPHRASE", ""}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: no passphrase given\n"
                   "hint: set LIFEBOAT_PASSPHRASE or [repository] passphrase_file\n");
}

TEST_F(RepoTest, APathThatIsNotARepositoryIsAClearError) {
  fs::create_directories(repo());
  RunResult r = Run({"snapshots"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: cannot open repository '" + repo() +
                       "': not a lifeboat repository (it has no config object)\n"
                       "hint: check [repository] path, or create one with 'lifeboat repo init'\n");
}

TEST_F(RepoTest, PasswdChangesThePassphraseWithoutRewritingData) {
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  MakeTree(Path("src"), 2, 32);
  std::string id = Backup(Path("src"));
  std::vector<std::string> packs_before = ListFiles(repo() + "/data");
  RunResult r = Run({"repo", "passwd"}, {{"LIFEBOAT_NEW_PASSPHRASE", "second"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "passphrase changed; the old passphrase no longer opens the repository\n");
  EXPECT_EQ(ListFiles(repo() + "/data"), packs_before);
  EXPECT_EQ(Run({"snapshots"}).exit_code, 1);
  RunResult restore =
      Run({"files", "restore", id, Path("dst")}, {{"LIFEBOAT_PASSPHRASE", "second"}});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(CompareTrees(Path("src"), Path("dst")), "");
}

TEST_F(RepoTest, KeygenWritesAKeyThatOpensTheRepositoryInPlaceOfThePassphrase) {
  RunResult gen = Run({"repo", "keygen", Path("key")});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  EXPECT_EQ(gen.out, "wrote a new key to '" + Path("key") +
                         "' (mode 0600)\n"
                         "use it as [repository] passphrase_file, then run 'lifeboat repo init' for "
                         "a new repository or 'lifeboat repo passwd --new-passphrase-file " +
                         Path("key") + "' for an existing one\n");
  std::string key = ReadWholeFile(Path("key"));
  EXPECT_TRUE(std::regex_match(key, std::regex("lbk1-[0-9a-f]{64}\n"))) << key;
  struct stat st {};
  ASSERT_EQ(stat(Path("key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // A key is never overwritten: it may be the only thing that opens a repository.
  RunResult again = Run({"repo", "keygen", Path("key")});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.err, "error: cannot write key to '" + Path("key") +
                           "': the file exists\n"
                           "hint: choose a new file; a key in use must not be replaced\n");
  EXPECT_EQ(ReadWholeFile(Path("key")), key);

  // An existing passphrase repository moves to the key; the old passphrase stops working.
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  MakeTree(Path("src"), 2, 32);
  std::string id = Backup(Path("src"));
  RunResult passwd = Run({"repo", "passwd", "--new-passphrase-file", Path("key")});
  ASSERT_EQ(passwd.exit_code, 0) << passwd.err;
  std::vector<std::string> keys = ListFiles(repo() + "/keys");
  ASSERT_EQ(keys.size(), 1u);
  std::string key_file = ReadWholeFile(repo() + "/keys/" + keys[0]);
  EXPECT_NE(key_file.find("\"kdf\": \"hkdf-sha256\""), std::string::npos) << key_file;
  EXPECT_EQ(Run({"snapshots"}).exit_code, 1);
  WriteConfig("[repository]\npath = \"repo\"\npassphrase_file = \"key\"\n");
  RunResult restore = Run({"files", "restore", id, Path("dst")}, {{"LIFEBOAT_PASSPHRASE", ""}});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(CompareTrees(Path("src"), Path("dst")), "");
  // One changed digit is a wrong key, not a passphrase to try with scrypt.
  std::string other = key.substr(0, 68);
  other += key[68] == '0' ? '1' : '0';
  RunResult wrong = Run({"snapshots"}, {{"LIFEBOAT_PASSPHRASE", other}});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_EQ(wrong.err, "error: cannot open repository '" + repo() + "': wrong passphrase\n"
                       "hint: check LIFEBOAT_PASSPHRASE or [repository] passphrase_file\n");
}

TEST_F(RepoTest, AKeyThatCannotBeWrittenWhollyLeavesNoFile) {
  // A file size limit of 16 bytes (the key takes 70): the write fails with EFBIG, SIGXFSZ
  // being ignored; both are inherited by the lifeboat process the harness starts.
  struct rlimit old {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  struct rlimit tiny = old;
  tiny.rlim_cur = 16;
  auto old_handler = signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &tiny), 0);
  RunResult r = Run({"repo", "keygen", Path("key")});
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, old_handler);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.substr(0, 7), "error: ");  // the rest is cut by the same limit
  EXPECT_FALSE(fs::exists(Path("key")));
}

TEST_F(RepoTest, ConfigErrorsNameFileLineAndKey) {
  WriteConfig("[repository]\npath = \"repo\"\ncompresion = 3\n");
  RunResult r = Run({"snapshots"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: config '" + Path("lifeboat.toml") +
                       "' line 3: unknown key 'repository.compresion'\n"
                       "hint: keys of [repository] are: ca_file, compression, credentials_file, endpoint, "
                   "multipart_threshold_mib, offsite, passphrase_file, path, profile, region, retry_seconds, sse, "
                   "storage_class, uri_style, url, verify_tls, wal_acknowledge\n");
  WriteConfig("[repository]\npath = [1]\n");
  r = Run({"snapshots"});
  EXPECT_EQ(r.err, "error: config '" + Path("lifeboat.toml") +
                       "' line 2: 'repository.path' must be a string\n");
  fs::remove(Path("lifeboat.toml"));
  r = Run({"snapshots"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: cannot read config '" + Path("lifeboat.toml") + "': no such file\n"
                   "hint: pass -c FILE, set LIFEBOAT_CONFIG, or create ./lifeboat.toml\n");
}

TEST_F(RepoTest, HelpDocumentsTheExitCodes) {
  RunResult r = Run({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Exit codes:\n  0  success\n  1  usage or configuration error (including a "
                       "wrong passphrase)\n  2  operation failed (I/O, unreachable, lock held, out "
                       "of space)\n  3  integrity or verification failure\n"),
            std::string::npos)
      << r.out;
  RunResult bad = Run({"frobnicate"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err.rfind("error: invalid command line: ", 0), 0u) << bad.err;
}

TEST_F(RepoTest, AHeldExclusiveLockMakesOthersExitTwoNamingTheHolder) {
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  MakeTree(Path("src"), 3, 16);
  auto repo_or = Repository::Open(std::make_shared<LocalBackend>(repo()), "test passphrase");
  ASSERT_TRUE(repo_or.ok());
  auto lock = RepositoryLock::Acquire(repo_or->get(), LockKind::kExclusive, "prune");
  ASSERT_TRUE(lock.ok());
  RunResult r = Run({"files", "backup", "--name", "x", Path("src")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("error: cannot lock repository for files backup: exclusive lock held by "
                        "prune (pid " + std::to_string(getpid()) + " on host ",
                        0),
            0u)
      << r.err;
  EXPECT_NE(r.err.find("hint: wait for it to finish"), std::string::npos);
  // Readers never block.
  EXPECT_EQ(Run({"snapshots"}).exit_code, 0);
  lock->reset();
  EXPECT_EQ(Run({"files", "backup", "--name", "x", Path("src")}).exit_code, 0);
}

TEST_F(RepoTest, ALockLeftByADeadProcessIsStaleAndRemoved) {
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  // A child takes an exclusive lock and dies without releasing it.
  pid_t child = fork();
  if (child == 0) {
    auto r = Repository::Open(std::make_shared<LocalBackend>(repo()), "test passphrase");
    auto l = RepositoryLock::Acquire(r->get(), LockKind::kExclusive, "prune");
    _exit(l.ok() ? 0 : 1);  // _exit: no destructors, the lock stays behind
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  ASSERT_EQ(ListFiles(repo() + "/locks").size(), 1u);
  RunResult p = Run({"prune"});
  EXPECT_EQ(p.exit_code, 0) << p.err;
  EXPECT_TRUE(ListFiles(repo() + "/locks").empty());
}

}  // namespace
}  // namespace lifeboat::testing

namespace lifeboat::testing {
namespace {

TEST_F(RepoTest, OffsiteChoicesAndCopiesThatCannotBeAreClearErrors) {
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  RunResult nope = Run({"--repo", "tertiary", "snapshots"});
  EXPECT_EQ(nope.exit_code, 1);
  EXPECT_EQ(nope.err, "error: there is no repository named 'tertiary'\nhint: --repo takes primary or offsite\n");
  RunResult none = Run({"--repo", "offsite", "snapshots"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_EQ(none.err.substr(0, none.err.find('\n')), "error: the config has no offsite repository");
  RunResult copy = Run({"repo", "copy"});
  EXPECT_EQ(copy.exit_code, 1);
  EXPECT_EQ(copy.err.substr(0, copy.err.find('\n')), "error: nothing to copy to: the config has no [repository.offsite]");

  // An offsite path that holds another repository is refused, and keeps what it holds.
  WriteConfig("[repository]\npath = \"other\"\n");
  ASSERT_EQ(Run({"repo", "init"}).exit_code, 0);
  std::string other_config = ReadWholeFile(Path("other/config"));
  WriteConfig("[repository]\npath = \"repo\"\n[repository.offsite]\npath = \"other\"\n");
  RunResult clash = Run({"repo", "copy"});
  EXPECT_EQ(clash.exit_code, 1);
  EXPECT_EQ(clash.err.substr(0, clash.err.find('\n')),
            "error: repo copy to offsite '" + Path("other") + "' stopped: cannot copy to '" + Path("other") +
                "': it holds another repository");
  EXPECT_EQ(ReadWholeFile(Path("other/config")), other_config);

  // A local mirror: copied, then a second copy moves nothing, and the mirror opens alone.
  WriteConfig("[repository]\npath = \"repo\"\n[repository.offsite]\npath = \"mirror\"\n");
  MakeTree(Path("src"), 8, 128);
  std::string id = Backup(Path("src"));
  RunResult first = Run({"repo", "copy", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_GT(nlohmann::json::parse(first.out)["copied"].get<int>(), 3);
  RunResult second = Run({"repo", "copy", "--json"});
  EXPECT_EQ(nlohmann::json::parse(second.out)["copied"], 0) << second.out;
  ASSERT_EQ(Run({"--repo", "offsite", "files", "restore", id, Path("dst")}).exit_code, 0);
  EXPECT_EQ(CompareTrees(Path("src"), Path("dst")), "");
}

}  // namespace
}  // namespace lifeboat::testing
