// lifeboat repo stats [--json]: snapshots, blobs, logical and stored bytes, ratios.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "repository/stats.h"

namespace lifeboat::cli {

namespace {

Status Run(Context& ctx) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<Repository> repo, ctx.OpenRepository());
  LB_ASSIGN_OR_RETURN(RepositoryStats st, ComputeStats(*repo));
  if (ctx.json) {
    nlohmann::ordered_json j;
    j["snapshots"] = st.snapshots;
    j["logical_bytes"] = st.logical_bytes;
    j["blobs"] = st.blobs;
    j["unique_bytes"] = st.unique_bytes;
    j["blob_stored_bytes"] = st.blob_stored_bytes;
    j["packs"] = st.packs;
    j["stored_bytes"] = st.repository_bytes;
    j["dedup_ratio"] = st.dedup_ratio();
    j["compression_ratio"] = st.compression_ratio();
    PrintJson(j);
    return Status::Ok();
  }
  PrintTable({"", ""},
             {{"snapshots", std::to_string(st.snapshots)},
              {"logical size", FormatBytes(st.logical_bytes)},
              {"unique data", FormatBytes(st.unique_bytes) + " in " + std::to_string(st.blobs) +
                                  " chunks"},
              {"stored size", FormatBytes(st.repository_bytes) + " in " +
                                  std::to_string(st.packs) + " packs"},
              {"dedup ratio", FormatRatio(st.dedup_ratio())},
              {"compression ratio", FormatRatio(st.compression_ratio())}});
  return Status::Ok();
}

}  // namespace

void AddRepoStats(CLI::App* repo, Context* ctx) {
  CLI::App* cmd = repo->add_subcommand("stats", "sizes and deduplication and compression ratios");
  cmd->callback([ctx] { ctx->run = [ctx] { return Run(*ctx); }; });
}

}  // namespace lifeboat::cli
