// The real-PostgreSQL tier: each test gets its own cluster (initdb as postgres, archiving into
// the test's repository through the lifeboat binary) in a scratch directory, on its own ports.
// Every cluster and instance the test started is stopped by pid when the test ends, pass or
// fail. Ground truth comes from the test's own connection, never from lifeboat.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "../cli/harness.h"

namespace lifeboat::testing {

inline constexpr const char* kPgBin = "/usr/lib/postgresql/15/bin";

// A wall-clock instant as lifeboat's --time takes it: "2026-12-01T10:15:00.123456Z".
std::string Iso(std::chrono::system_clock::time_point t);

// Runs a program as the postgres user (runuser), returning its exit code.
int RunAsPostgres(const std::vector<std::string>& argv, std::string* output = nullptr);

// Stops the postmaster of `data_dir` (pg_ctl immediate, then its pid killed); nothing when
// it does not run.
void StopPostmaster(const std::string& data_dir);

// Gives `path` and everything below it to the postgres user.
void GiveToPostgres(const std::string& path);

class PgTest : public CliTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  // initdb + archive configuration + start, in Path(name).
  void StartCluster(const std::string& name = "main");
  void StopCluster(const std::string& name = "main");
  // Rows of the query's result, each row's columns joined by '|'. Fails the test on error.
  std::vector<std::string> Sql(const std::string& sql, const std::string& db = "postgres");
  std::vector<std::string> SqlAt(const std::string& host, int port, const std::string& sql,
                                 const std::string& db = "postgres");
  std::string SqlValue(const std::string& sql, const std::string& db = "postgres");
  // Switches to a new WAL segment and waits until the finished one is archived.
  void SwitchWalAndWaitArchived();
  std::string InstanceHost(const std::string& name) { return Path(".lifeboat/instances/" + name); }
  // The config text for this test (repository, database, instances).
  virtual std::string ConfigText(const std::string& instances_dir = "") const;

  int port_ = 0;          // production
  int instance_port_ = 0; // first port of the instances range
};

}  // namespace lifeboat::testing
