#include "pg/fence.h"

#include <unistd.h>

#include "base/fs.h"

namespace lifeboat::pg {

namespace {

constexpr const char* kFenceLine = "default_transaction_read_only = 'on'\n";

ConnInfo Admin(const ClusterConfig& cluster) {
  ConnInfo info = cluster.conn;
  info.dbname = "postgres";
  return info;
}

}  // namespace

Result<FenceResult> FenceCluster(const ClusterConfig& cluster) {
  std::string what = "cannot fence the retired cluster at " + cluster.data_dir;
  FenceResult result;
  Result<std::unique_ptr<Connection>> conn = Connection::Open(Admin(cluster));
  if (!conn.ok()) {
    // Down (the disaster itself, often): fenced for whenever it is started again.
    std::string conf = cluster.data_dir + "/postgresql.auto.conf";
    if (::access(cluster.data_dir.c_str(), F_OK) != 0) {
      result.present = false;  // gone with its disk: nothing to fence
      return result;
    }
    Result<Bytes> existing = ReadFile(conf);
    std::string text = existing.ok() ? std::string(existing->begin(), existing->end()) : "";
    if (text.find(kFenceLine) != std::string::npos) return result;
    if (!text.empty() && text.back() != '\n') text += "\n";
    LB_RETURN_IF_ERROR(WriteFileDurable(conf, AsBytes(text + kFenceLine), 0600).Context(what));
    return result;
  }
  result.reachable = true;
  Connection& c = **conn;
  LB_RETURN_IF_ERROR(c.Exec("ALTER SYSTEM SET default_transaction_read_only = on").Context(what));
  LB_RETURN_IF_ERROR(c.Exec("SELECT pg_reload_conf()").Context(what));
  LB_ASSIGN_OR_RETURN(std::string n,
                      c.QueryValue("SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                                   "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"));
  result.terminated = std::atoi(n.c_str());
  // Read after the terminations: no transaction of the application can commit any more.
  LB_ASSIGN_OR_RETURN(result.last_commit, LastCommitTime(c));
  return result;
}

Status UnfenceCluster(const ClusterConfig& cluster) {
  std::string what = "cannot lift the fence of the cluster at " + cluster.data_dir;
  Result<std::unique_ptr<Connection>> conn = Connection::Open(Admin(cluster));
  if (!conn.ok()) {
    std::string conf = cluster.data_dir + "/postgresql.auto.conf";
    Result<Bytes> existing = ReadFile(conf);
    if (!existing.ok()) return Status::Ok();
    std::string text(existing->begin(), existing->end());
    size_t at = text.find(kFenceLine);
    if (at == std::string::npos) return Status::Ok();
    text.erase(at, std::string(kFenceLine).size());
    return WriteFileDurable(conf, AsBytes(text), 0600).Context(what);
  }
  LB_RETURN_IF_ERROR((*conn)->Exec("SET default_transaction_read_only = off").Context(what));
  LB_RETURN_IF_ERROR((*conn)->Exec("ALTER SYSTEM RESET default_transaction_read_only").Context(what));
  return (*conn)->Exec("SELECT pg_reload_conf()").Context(what);
}

}  // namespace lifeboat::pg
