#include "runbook/document.h"

#include <algorithm>

#include "base/markup.h"

namespace lifeboat::runbook {

namespace {

// Inline spans to HTML: `code` and **strong**; an unpaired marker stays as it is.
std::string InlineHtml(const std::string& text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '`') {
      size_t end = text.find('`', i + 1);
      if (end != std::string::npos) {
        out += "<code>" + HtmlEscape(text.substr(i + 1, end - i - 1)) + "</code>";
        i = end + 1;
        continue;
      }
    }
    if (text.compare(i, 2, "**") == 0) {
      size_t end = text.find("**", i + 2);
      if (end != std::string::npos) {
        out += "<strong>" + InlineHtml(text.substr(i + 2, end - i - 2)) + "</strong>";
        i = end + 2;
        continue;
      }
    }
    out += HtmlEscape(std::string(1, text[i]));
    ++i;
  }
  return out;
}

// A table cell in Markdown: a pipe would end the cell.
std::string Cell(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

constexpr const char* kStyle =
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem;line-height:1.45;color:#1b1f24}"
    "h1,h2,h3{line-height:1.2}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2rem;margin-top:2rem}"
    "pre{background:#f3f5f7;padding:.6rem .8rem;overflow-x:auto;border-radius:4px}"
    "code{font-family:ui-monospace,monospace;font-size:.92em}"
    ".scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse}"
    "th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#f3f5f7}strong{color:#8a1c12}";

}  // namespace

std::string HtmlEscape(const std::string& text) { return EscapeMarkup(text); }

void Document::Heading(int level, const std::string& text, const std::string& id) {
  Block b;
  b.kind = Block::Kind::kHeading;
  b.level = std::clamp(level, 1, 4);
  b.text = text;
  b.id = id;
  blocks_.push_back(std::move(b));
}

void Document::Paragraph(const std::string& text) {
  Block b;
  b.text = text;
  blocks_.push_back(std::move(b));
}

void Document::List(std::vector<std::string> items) {
  Block b;
  b.kind = Block::Kind::kList;
  b.items = std::move(items);
  blocks_.push_back(std::move(b));
}

void Document::Code(const std::string& text, const std::string& lang) {
  Block b;
  b.kind = Block::Kind::kCode;
  b.text = text;
  b.lang = lang;
  blocks_.push_back(std::move(b));
}

void Document::Table(std::vector<std::vector<std::string>> rows) {
  Block b;
  b.kind = Block::Kind::kTable;
  b.rows = std::move(rows);
  blocks_.push_back(std::move(b));
}

std::string Document::ToMarkdown() const {
  std::string out;
  for (const Block& b : blocks_) {
    if (!out.empty()) out += "\n";
    switch (b.kind) {
      case Block::Kind::kHeading: out += std::string(static_cast<size_t>(b.level), '#') + " " + b.text + "\n"; break;
      case Block::Kind::kParagraph: out += b.text + "\n"; break;
      case Block::Kind::kList:
        for (const std::string& item : b.items) out += "- " + item + "\n";
        break;
      case Block::Kind::kCode: out += "```" + b.lang + "\n" + b.text + (b.text.ends_with('\n') ? "" : "\n") + "```\n"; break;
      case Block::Kind::kTable:
        for (size_t r = 0; r < b.rows.size(); ++r) {
          out += "|";
          for (const std::string& c : b.rows[r]) out += " " + Cell(c) + " |";
          out += "\n";
          if (r == 0) {
            out += "|";
            for (size_t c = 0; c < b.rows[r].size(); ++c) out += " --- |";
            out += "\n";
          }
        }
        break;
    }
  }
  return out;
}

std::string Document::ToHtml(const std::string& title) const {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>" +
         HtmlEscape(title) + "</title><style>" + kStyle + "</style></head><body>\n" + ToHtmlBody() +
         "</body></html>\n";
}

std::string Document::ToHtmlBody() const {
  std::string out;
  for (const Block& b : blocks_) {
    switch (b.kind) {
      case Block::Kind::kHeading: {
        std::string h = "h" + std::to_string(b.level);
        out += "<" + h + (b.id.empty() ? "" : " id=\"" + HtmlEscape(b.id) + "\"") + ">" + InlineHtml(b.text) + "</" + h +
               ">\n";
        break;
      }
      case Block::Kind::kParagraph: out += "<p>" + InlineHtml(b.text) + "</p>\n"; break;
      case Block::Kind::kList:
        out += "<ul>";
        for (const std::string& item : b.items) out += "<li>" + InlineHtml(item) + "</li>";
        out += "</ul>\n";
        break;
      case Block::Kind::kCode: out += "<pre><code>" + HtmlEscape(b.text) + "</code></pre>\n"; break;
      case Block::Kind::kTable:
        // Wrapped so that a table wider than a phone scrolls by itself, not the page.
        out += "<div class=\"scroll\"><table>";
        for (size_t r = 0; r < b.rows.size(); ++r) {
          out += "<tr>";
          for (const std::string& c : b.rows[r]) out += (r == 0 ? "<th>" : "<td>") + InlineHtml(c) + (r == 0 ? "</th>" : "</td>");
          out += "</tr>";
        }
        out += "</table></div>\n";
        break;
    }
  }
  return out;
}

}  // namespace lifeboat::runbook
