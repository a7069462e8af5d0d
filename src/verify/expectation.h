// The `expect` of a user check: "> 0", ">= 5", "= 3", "!= 0", "< 10", "<= 10",
// "between A and B", or "rows = N" (the number of rows the query returns).
#pragma once

#include <string>

#include "base/result.h"

namespace lifeboat::verify {

struct Expectation {
  enum class Op { kEq, kNe, kGt, kGe, kLt, kLe, kBetween };
  Op op = Op::kEq;
  double a = 0;
  double b = 0;         // upper bound for kBetween
  bool on_rows = false; // compare the number of rows, not the first value
  std::string text;     // as written

  bool Holds(double v) const;
};

Result<Expectation> ParseExpectation(const std::string& text);

}  // namespace lifeboat::verify
