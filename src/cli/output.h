// Reporting helpers: aligned text tables for people, JSON for programs.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/progress.h"
#include "base/time.h"
#include "storage/backend.h"

namespace lifeboat::cli {

// Prints rows under a header with columns padded to their widest cell.
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);
void PrintJson(const nlohmann::ordered_json& j);
// `j` with "storage": {"requests", "retries"} added when the backend counts its requests (S3),
// so that a --json output says how hard the store was to reach.
nlohmann::ordered_json WithStorage(nlohmann::ordered_json j, const Backend& backend);
// "1.50" for ratios.
std::string FormatRatio(double r);

}  // namespace lifeboat::cli
