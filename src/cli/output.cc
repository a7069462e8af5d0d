#include "cli/output.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace lifeboat::cli {

void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& r : rows) {
    for (size_t c = 0; c < r.size() && c < width.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) {
      out += cells[c];
      if (c + 1 < cells.size()) out += std::string(width[c] - cells[c].size() + 2, ' ');
    }
    std::cout << out << "\n";
  };
  bool has_header = std::any_of(header.begin(), header.end(), [](const std::string& h) { return !h.empty(); });
  if (has_header) line(header);
  for (const auto& r : rows) line(r);
}

void PrintJson(const nlohmann::ordered_json& j) { std::cout << j.dump(2) << "\n"; }

nlohmann::ordered_json WithStorage(nlohmann::ordered_json j, const Backend& backend) {
  RequestCounts c = backend.counts();
  if (c.requests > 0) j["storage"] = {{"requests", c.requests}, {"retries", c.retries}};
  return j;
}

std::string FormatRatio(double r) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", r);
  return buf;
}

}  // namespace lifeboat::cli
