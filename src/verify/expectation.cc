#include "verify/expectation.h"

#include <cstdlib>
#include <sstream>
#include <vector>

namespace lifeboat::verify {

namespace {

bool Number(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end != nullptr && *end == '\0';
}

}  // namespace

bool Expectation::Holds(double v) const {
  switch (op) {
    case Op::kEq: return v == a;
    case Op::kNe: return v != a;
    case Op::kGt: return v > a;
    case Op::kGe: return v >= a;
    case Op::kLt: return v < a;
    case Op::kLe: return v <= a;
    case Op::kBetween: return v >= a && v <= b;
  }
  return false;
}

Result<Expectation> ParseExpectation(const std::string& text) {
  Expectation e;
  e.text = text;
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  auto bad = [&] {
    return Status::Config("invalid expectation '" + text + "'",
                          "use = != > >= < <= with a number, \"between A and B\", or \"rows = N\"");
  };
  if (!words.empty() && words[0] == "rows") {
    e.on_rows = true;
    words.erase(words.begin());
  }
  if (words.size() == 4 && words[0] == "between" && words[2] == "and") {
    e.op = Expectation::Op::kBetween;
    if (!Number(words[1], &e.a) || !Number(words[3], &e.b) || e.a > e.b) return bad();
    return e;
  }
  if (words.size() != 2 || !Number(words[1], &e.a)) return bad();
  const std::string& op = words[0];
  if (op == "=" || op == "==") e.op = Expectation::Op::kEq;
  else if (op == "!=" || op == "<>") e.op = Expectation::Op::kNe;
  else if (op == ">") e.op = Expectation::Op::kGt;
  else if (op == ">=") e.op = Expectation::Op::kGe;
  else if (op == "<") e.op = Expectation::Op::kLt;
  else if (op == "<=") e.op = Expectation::Op::kLe;
  else return bad();
  return e;
}

}  // namespace lifeboat::verify
