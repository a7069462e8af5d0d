#include "verify/snapshot_verification.h"

namespace lifeboat::verify {

namespace {
constexpr const char* kVerifyStream = "verify";
}  // namespace

Baseline BaselineFor(const pg::PgSnapshot& snap, uint64_t system_identifier, const pg::Instance& instance) {
  Baseline b;
  b.snapshot = snap;
  b.system_identifier = system_identifier;
  b.ends_at_snapshot = instance.target == "snapshot";
  if (instance.target.rfind("time ", 0) == 0) {
    Result<UnixNanos> t = ParseTimestamp(instance.target.substr(5));
    if (t.ok()) b.target = *t;
  } else if (!instance.recovered_to.empty()) {
    Result<UnixNanos> t = ParseTimestamp(instance.recovered_to);
    if (t.ok()) b.target = *t;
  } else {
    b.target = snap.stop_time;
  }
  return b;
}

Result<SnapshotVerification> VerifySnapshot(Repository& repo, const pg::ClusterConfig& cluster,
                                            pg::RestoreRequest request, const std::string& snapshot,
                                            const Policy& policy) {
  request.target.kind = pg::RestoreTarget::Kind::kSnapshot;
  request.target.snapshot = snapshot;
  SnapshotVerification out;
  out.verified_at = NowNanos();
  LB_ASSIGN_OR_RETURN(out.snapshot, repo.ResolveSnapshot(snapshot));
  Result<pg::RestoreResult> restored = pg::RestoreInstance(repo, cluster, request, nullptr);
  // Whatever happened, the temporary instance goes.
  auto cleanup = [&] {
    pg::InstanceRegistry registry(request.state_dir);
    Result<std::optional<pg::Instance>> inst = registry.Find(request.name);
    if (inst.ok() && *inst) (void)pg::DropInstance(cluster, request.state_dir, **inst);
  };
  if (!restored.ok()) {
    cleanup();
    CheckResult r;
    r.name = "restore";
    r.outcome = Outcome::kFail;
    r.expected = "restored and promoted";
    r.actual = "failed";
    r.detail = restored.status().message();
    out.report.checks.push_back(r);
  } else {
    LB_ASSIGN_OR_RETURN(std::vector<pg::PgSnapshot> snaps, pg::LoadPgSnapshots(repo));
    pg::WalArchive archive(&repo);
    LB_ASSIGN_OR_RETURN(std::optional<uint64_t> sysid, archive.ClusterIdentity());
    for (const pg::PgSnapshot& s : snaps) {
      if (s.id != out.snapshot) continue;
      pg::ConnInfo conn = cluster.conn;
      conn.host = restored->instance.host;
      conn.port = restored->instance.port;
      out.report = VerifyInstance(conn, BaselineFor(s, sysid.value_or(0), restored->instance), policy);
    }
    cleanup();
  }
  nlohmann::json record = {{"snapshot", out.snapshot.Hex()},
                           {"verified_at", FormatIso8601(out.verified_at, true)},
                           {"result", OutcomeName(out.report.overall())},
                           {"failed", out.report.Failed()}};
  std::string text = record.dump();
  LB_RETURN_IF_ERROR(repo.PutNamed(kVerifyStream, out.snapshot.Hex(), AsBytes(text)));
  return out;
}

Result<std::optional<nlohmann::json>> LastVerification(Repository& repo, const Id& snapshot) {
  Result<Bytes> b = repo.GetNamed(kVerifyStream, snapshot.Hex());
  if (!b.ok()) {
    if (b.status().code() == Code::kNotFound) return std::optional<nlohmann::json>();
    return b.status();
  }
  nlohmann::json j = nlohmann::json::parse(b->begin(), b->end(), nullptr, false);
  if (j.is_discarded()) return Status::Corruption("verification record of " + snapshot.Short() + " is damaged");
  return std::optional<nlohmann::json>(j);
}

}  // namespace lifeboat::verify
