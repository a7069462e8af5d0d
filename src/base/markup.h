// Text for XML and HTML: the four characters that would end a text node or an attribute value
// escaped (&, <, >, "). S3's request bodies and the runbook's HTML page share it.
#pragma once

#include <string>

namespace lifeboat {

inline std::string EscapeMarkup(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace lifeboat
