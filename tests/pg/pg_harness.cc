#include "pg_harness.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace fs = std::filesystem;

namespace lifeboat::testing {


void GiveToPostgres(const std::string& path) {
  struct passwd* pw = getpwnam("postgres");
  ASSERT_NE(pw, nullptr);
  for (const auto& e : fs::recursive_directory_iterator(path)) {
    lchown(e.path().c_str(), pw->pw_uid, pw->pw_gid);
  }
  lchown(path.c_str(), pw->pw_uid, pw->pw_gid);
}

// Stops the postmaster of `data_dir`: pg_ctl first, then its pid from postmaster.pid.
void StopPostmaster(const std::string& data_dir) {
  std::string pid_file = data_dir + "/postmaster.pid";
  if (!fs::exists(pid_file)) return;
  pid_t pid = static_cast<pid_t>(std::atol(ReadWholeFile(pid_file).c_str()));
  RunAsPostgres({std::string(kPgBin) + "/pg_ctl", "stop", "-D", data_dir, "-m", "immediate", "-w", "-s"});
  if (pid > 0 && kill(pid, 0) == 0) {
    kill(pid, SIGKILL);
    for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int RunAsPostgres(const std::vector<std::string>& argv, std::string* output) {
  std::string out_path = "/tmp/lifeboat-runas-" + std::to_string(getpid()) + ".out";
  pid_t pid = fork();
  if (pid == 0) {
    FILE* f = freopen(out_path.c_str(), "w", stdout);
    (void)f;
    dup2(STDOUT_FILENO, STDERR_FILENO);
    std::vector<std::string> full = {"/usr/sbin/runuser", "-u", "postgres", "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    std::vector<char*> cargv;
    for (auto& s : full) cargv.push_back(s.data());
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (output) *output = ReadWholeFile(out_path);
  fs::remove(out_path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string Iso(std::chrono::system_clock::time_point t) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(us / 1'000'000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  snprintf(frac, sizeof(frac), ".%06lldZ", static_cast<long long>(us % 1'000'000));
  return std::string(buf) + frac;
}

void PgTest::SetUp() {
  CliTest::SetUp();
  chmod(dir_.c_str(), 0755);
  int base = FreePortBlock(14000, 20);  // 14000-16000; the shop's blocks are 12000-14000
  port_ = base;
  instance_port_ = base + 1;
  WriteFile(Path("pass"), "test passphrase\n");
  chmod(Path("pass").c_str(), 0600);
  WriteConfig(ConfigText());
  GiveToPostgres(dir_);
  RunResult init = Run({"repo", "init"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  StartCluster();
}

std::string PgTest::ConfigText(const std::string& instances_dir) const {
  std::string text = "[repository]\npath = \"repo\"\npassphrase_file = \"pass\"\n\n[database]\n";
  text += "data_dir = \"" + dir_ + "/main\"\nhost = \"" + dir_ + "\"\nport = " + std::to_string(port_) +
          "\nuser = \"postgres\"\nos_user = \"postgres\"\n\n[instances]\n";
  if (!instances_dir.empty()) text += "dir = \"" + instances_dir + "\"\n";
  text += "ports = \"" + std::to_string(instance_port_) + "-" + std::to_string(instance_port_ + 18) + "\"\n";
  return text;
}

void PgTest::TearDown() {
  std::string instances = Path(".lifeboat/instances");
  if (fs::exists(instances)) {
    for (const auto& e : fs::directory_iterator(instances)) StopPostmaster(e.path().string() + "/data");
  }
  for (const char* c : {"main", "other"}) StopPostmaster(Path(c));
  if (HasFailure() && getenv("LIFEBOAT_KEEP_FAILED")) return;  // keep the directory to inspect
  CliTest::TearDown();
}

void PgTest::StartCluster(const std::string& name) {
  std::string data = Path(name);
  std::string out;
  ASSERT_EQ(RunAsPostgres({std::string(kPgBin) + "/initdb", "-D", data, "-A", "trust", "-N",
                           "--data-checksums", "-U", "postgres"},
                          &out),
            0)
      << out;
  std::string conf = "port = " + std::to_string(port_) + "\n" +
                     "unix_socket_directories = '" + dir_ + "'\n" +
                     "listen_addresses = ''\n"
                     "wal_level = replica\n"
                     "track_commit_timestamp = on\n"
                     "archive_mode = on\n"
                     "archive_command = '" + std::string(LIFEBOAT_BIN) + " -c " + Path("lifeboat.toml") + " wal push %p'\n"
                     "fsync = off\n";
  std::ofstream(data + "/postgresql.auto.conf", std::ios::app) << conf;
  GiveToPostgres(data);
  ASSERT_EQ(RunAsPostgres({std::string(kPgBin) + "/pg_ctl", "start", "-D", data, "-l",
                           Path(name + ".log"), "-w", "-s"},
                          &out),
            0)
      << out << ReadWholeFile(Path(name + ".log"));
}

void PgTest::StopCluster(const std::string& name) { StopPostmaster(Path(name)); }

std::vector<std::string> PgTest::SqlAt(const std::string& host, int port, const std::string& sql,
                                       const std::string& db) {
  std::string conninfo = "host=" + host + " port=" + std::to_string(port) + " user=postgres dbname=" + db;
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::vector<std::string> rows;
  if (PQstatus(conn) != CONNECTION_OK) {
    ADD_FAILURE() << "cannot connect to " << conninfo << ": " << PQerrorMessage(conn);
    PQfinish(conn);
    return rows;
  }
  PGresult* res = PQexec(conn, sql.c_str());
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    ADD_FAILURE() << sql << ": " << PQresultErrorMessage(res);
  } else {
    for (int r = 0; r < PQntuples(res); ++r) {
      std::string row;
      for (int c = 0; c < PQnfields(res); ++c) {
        if (c) row += "|";
        row += PQgetvalue(res, r, c);
      }
      rows.push_back(row);
    }
  }
  PQclear(res);
  PQfinish(conn);
  return rows;
}

std::vector<std::string> PgTest::Sql(const std::string& sql, const std::string& db) {
  return SqlAt(dir_, port_, sql, db);
}

std::string PgTest::SqlValue(const std::string& sql, const std::string& db) {
  std::vector<std::string> rows = Sql(sql, db);
  return rows.empty() ? "" : rows[0];
}

void PgTest::SwitchWalAndWaitArchived() {
  // A switch on an idle segment does nothing; make sure the segment holds something.
  Sql("SELECT txid_current()");
  std::string file = SqlValue("SELECT pg_walfile_name(pg_switch_wal())");
  for (int i = 0; i < 600; ++i) {
    std::string last = SqlValue("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver");
    if (last >= file && last.size() == 24) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL() << "WAL file " << file << " was not archived within 30 s: "
         << SqlValue("SELECT last_failed_wal || ' ' || last_failed_time FROM pg_stat_archiver");
}

}  // namespace lifeboat::testing
