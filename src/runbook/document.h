// A small document model for what lifeboat writes for people to read (the living runbook):
// headings, paragraphs, lists, code blocks and tables, rendered to Markdown or to one HTML
// page with its stylesheet inline (no fonts, scripts or links outside it: it must read on a
// machine with no network, during the disaster it is for).
//
// Inline text may hold `code` spans and **strong** spans; both renderers understand them and
// HTML escapes everything else. Value type; not shared between threads.
#pragma once

#include <string>
#include <vector>

namespace lifeboat::runbook {

struct Block {
  enum class Kind { kHeading, kParagraph, kList, kCode, kTable };
  Kind kind = Kind::kParagraph;
  int level = 1;                               // headings: 1..4
  std::string text;                            // heading, paragraph or code
  std::vector<std::string> items;              // list items
  std::vector<std::vector<std::string>> rows;  // table: the first row is the header
  std::string id;                              // headings: an anchor ("" none)
  std::string lang;                            // code: its language ("sh", "toml")
};

class Document {
 public:
  void Heading(int level, const std::string& text, const std::string& id = "");
  void Paragraph(const std::string& text);
  void List(std::vector<std::string> items);
  void Code(const std::string& text, const std::string& lang = "sh");  // shell commands: one per line
  void Table(std::vector<std::vector<std::string>> rows);

  const std::vector<Block>& blocks() const { return blocks_; }
  std::string ToMarkdown() const;
  std::string ToHtml(const std::string& title) const;
  std::string ToHtmlBody() const;  // the blocks alone, for a page that has its own frame

 private:
  std::vector<Block> blocks_;
};

// Text escaped for HTML (&, <, >, ").
std::string HtmlEscape(const std::string& text);

}  // namespace lifeboat::runbook
