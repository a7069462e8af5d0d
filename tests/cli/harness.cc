#include "harness.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace fs = std::filesystem;

namespace lifeboat::testing {

void CliTest::SetUp() {
  char tmpl[] = "/tmp/lifeboat-cli-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  dir_ = tmpl;
  WriteConfig("[repository]\npath = \"repo\"\n");
}

void CliTest::TearDown() {
  for (pid_t pid : started_) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  fs::remove_all(dir_);
}

bool PortFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

int FreePortBlock(int first, int width) {
  // Blocks stay below the kernel's ephemeral ports (32768 and up), which outgoing connections
  // take at random; 100 blocks from `first`.
  int base = first + static_cast<int>(getpid() % 100) * width;
  for (;; base += width) {
    // Claim the block for this process's lifetime (the lock dies with it), so that a test
    // running beside this one never picks the same ports before either has bound them.
    std::string lock = "/tmp/lifeboat-ports-" + std::to_string(base) + "-" + std::to_string(width) + ".lock";
    int fd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) continue;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      close(fd);
      continue;
    }
    bool all = true;
    for (int p = base; p < base + width && all; ++p) all = PortFree(p);
    if (all) return base;  // fd stays open: the claim lasts until the process exits
    close(fd);
  }
}

void CliTest::WriteConfig(const std::string& text) { WriteFile(Path("lifeboat.toml"), text); }

namespace {

std::vector<char*> Argv(std::vector<std::string>& storage) {
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return argv;
}

}  // namespace

RunResult CliTest::Run(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env) {
  std::vector<std::string> full = {LIFEBOAT_BIN, "-c", config_.empty() ? Path("lifeboat.toml") : config_};
  full.insert(full.end(), args.begin(), args.end());
  std::string out_path = Path(".out"), err_path = Path(".err");
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::string in_path = "/dev/null";
    if (!stdin_text_.empty()) {
      in_path = Path(".in");
      std::ofstream(in_path, std::ios::trunc) << stdin_text_;
    }
    int in = open(in_path.c_str(), O_RDONLY);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    setenv("LIFEBOAT_PASSPHRASE", "test passphrase", 1);
    unsetenv("LIFEBOAT_CONFIG");
    for (const auto& [k, v] : env) {
      if (v.empty()) unsetenv(k.c_str());
      else setenv(k.c_str(), v.c_str(), 1);
    }
    std::vector<char*> argv = Argv(full);
    execv(argv[0], argv.data());
    _exit(127);
  }
  // A command that hangs is killed before CTest's 900 s limit would end the test without a
  // word: the test then fails naming the command, with what it printed.
  int status = 0;
  bool hung = true;
  for (int i = 0; i < 840 * 20; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      hung = false;
      break;
    }
    usleep(50 * 1000);
  }
  if (hung) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadWholeFile(out_path);
  r.err = ReadWholeFile(err_path);
  if (hung) {
    std::string cmd;
    for (const auto& a : full) cmd += " " + a;
    ADD_FAILURE() << "harness: killed after 840 s:" << cmd << "\nstdout: " << r.out << "\nstderr: " << r.err;
  }
  return r;
}

pid_t CliTest::Start(const std::vector<std::string>& args) {
  std::vector<std::string> full = {LIFEBOAT_BIN, "-c", config_.empty() ? Path("lifeboat.toml") : config_};
  full.insert(full.end(), args.begin(), args.end());
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    setenv("LIFEBOAT_PASSPHRASE", "test passphrase", 1);
    std::vector<char*> argv = Argv(full);
    execv(argv[0], argv.data());
    _exit(127);
  }
  started_.push_back(pid);
  return pid;
}

std::string CliTest::Backup(const std::string& path, const std::string& name) {
  RunResult r = Run({"files", "backup", "--name", name, path, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // {"id": "<64 hex>"}
  size_t pos = r.out.find("\"id\": \"");
  if (pos == std::string::npos) return "";
  return r.out.substr(pos + 7, 64);
}

void WriteFile(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << content;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

namespace {

void SetMtime(const std::string& path, int64_t sec, long nsec, bool link = false) {
  struct timespec t[2] = {{sec, nsec}, {sec, nsec}};
  utimensat(AT_FDCWD, path.c_str(), t, link ? AT_SYMLINK_NOFOLLOW : 0);
}

}  // namespace

void MakeTree(const std::string& root, uint32_t seed, size_t scale_kib) {
  std::mt19937 rng(seed);
  fs::create_directories(root);
  auto random_bytes = [&](size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
  };
  auto text = [&](size_t n) {
    static const char* kWords[] = {"order ", "cart ", "member ", "sku ", "shipped ", "paid\n"};
    std::string s;
    while (s.size() < n) s += kWords[rng() % 6];
    s.resize(n);
    return s;
  };
  size_t scale = scale_kib * 1024;
  WriteFile(root + "/README.txt", text(1000));
  WriteFile(root + "/media/logo.bin", random_bytes(scale / 8));
  WriteFile(root + "/media/big-random.bin", random_bytes(scale + 12345));  // spans chunks
  WriteFile(root + "/media/big-text.log", text(scale * 2 + 7));
  WriteFile(root + "/front end/index.html", "<html>" + text(3000) + "</html>");
  WriteFile(root + "/front end/ünïcode name.css", text(500));
  WriteFile(root + "/deep/a/b/c/d/leaf.txt", text(10));
  WriteFile(root + "/empty-file", "");
  fs::create_directories(root + "/empty-dir");
  for (int i = 0; i < 20; ++i) {
    WriteFile(root + "/many/file-" + std::to_string(i), text(static_cast<size_t>(rng() % 4000)));
  }
  symlink("media/logo.bin", (root + "/link-to-logo").c_str());
  symlink("/nonexistent/target", (root + "/dangling-link").c_str());
  chmod((root + "/media/logo.bin").c_str(), 0600);
  chmod((root + "/README.txt").c_str(), 0444);
  chmod((root + "/deep/a").c_str(), 0750);
  chmod((root + "/many/file-3").c_str(), 04755);
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    SetMtime(e.path(), 1'700'000'000 + static_cast<int64_t>(rng() % 1'000'000),
             static_cast<long>(rng() % 1'000'000'000), e.is_symlink());
  }
  SetMtime(root, 1'700'000'000, 5);
}

std::vector<std::string> ListFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && !e.is_symlink()) out.push_back(fs::relative(e.path(), dir));
  }
  std::sort(out.begin(), out.end());
  return out;
}

uint64_t DirectoryBytes(const std::string& dir) {
  uint64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && !e.is_symlink()) n += e.file_size();
  }
  return n;
}

namespace {

void Collect(const std::string& root, std::vector<std::string>* out) {
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    out->push_back(fs::relative(e.path(), root));
  }
  std::sort(out->begin(), out->end());
}

}  // namespace

std::string CompareTrees(const std::string& a, const std::string& b) {
  std::vector<std::string> la, lb;
  Collect(a, &la);
  Collect(b, &lb);
  if (la != lb) {
    for (const auto& p : la) {
      if (!std::binary_search(lb.begin(), lb.end(), p)) return "only in " + a + ": " + p;
    }
    for (const auto& p : lb) {
      if (!std::binary_search(la.begin(), la.end(), p)) return "only in " + b + ": " + p;
    }
  }
  la.insert(la.begin(), ".");
  for (const auto& rel : la) {
    std::string pa = a + "/" + rel, pb = b + "/" + rel;
    struct stat sa {}, sb {};
    lstat(pa.c_str(), &sa);
    lstat(pb.c_str(), &sb);
    if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT)) return rel + ": type differs";
    if (!S_ISLNK(sa.st_mode) && (sa.st_mode & 07777) != (sb.st_mode & 07777)) {
      return rel + ": mode differs";
    }
    if (sa.st_mtim.tv_sec != sb.st_mtim.tv_sec || sa.st_mtim.tv_nsec != sb.st_mtim.tv_nsec) {
      return rel + ": mtime differs";
    }
    if (S_ISLNK(sa.st_mode)) {
      if (fs::read_symlink(pa) != fs::read_symlink(pb)) return rel + ": link target differs";
    } else if (S_ISREG(sa.st_mode)) {
      if (sa.st_size != sb.st_size) return rel + ": size differs";
      if (ReadWholeFile(pa) != ReadWholeFile(pb)) return rel + ": content differs";
    }
  }
  return "";
}

}  // namespace lifeboat::testing

namespace lifeboat::testing {

void WriteRandomFile(const std::string& path, size_t size, uint64_t seed) {
  fs::create_directories(fs::path(path).parent_path());
  std::string buf(size, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i + 8 <= size; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(&buf[i], &x, 8);
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc) << buf;
}

void FlipByte(const std::string& path, size_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x20);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

void TruncateFile(const std::string& path, size_t size) { fs::resize_file(path, size); }

std::vector<std::string> NewFiles(const std::string& dir, const std::vector<std::string>& before) {
  std::vector<std::string> out;
  for (const std::string& f : ListFiles(dir)) {
    if (!std::binary_search(before.begin(), before.end(), f)) out.push_back(f);
  }
  return out;
}

}  // namespace lifeboat::testing
