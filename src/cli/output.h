// Reporting helpers: aligned text tables for people, JSON for programs.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/progress.h"
#include "base/time.h"

namespace lifeboat::cli {

// Prints rows under a header with columns padded to their widest cell.
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);
void PrintJson(const nlohmann::ordered_json& j);
// "1.50" for ratios.
std::string FormatRatio(double r);

}  // namespace lifeboat::cli
