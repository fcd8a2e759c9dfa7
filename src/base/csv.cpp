#include "base/csv.h"

namespace dzong {

std::vector<std::string> SplitCsvLine(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

std::vector<std::vector<std::string>> CsvRecords(std::string_view text) {
  std::vector<std::vector<std::string>> out;
  bool header = true;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    if (header) {
      header = false;
      continue;
    }
    if (!line.empty() && line != "\r") out.push_back(SplitCsvLine(line));
  }
  return out;
}

void AppendCsvRecord(std::string& out, const std::vector<std::string>& fields, bool for_people) {
  bool first = true;
  for (const std::string& field : fields) {
    if (!first) out += ',';
    first = false;
    std::string_view value = field;
    std::string guarded;
    if (for_people && !value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@')) {
      guarded = "'" + field;
      value = guarded;
    }
    if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
      out += value;
      continue;
    }
    out += '"';
    for (char ch : value) {
      if (ch == '"') out += '"';
      out += ch;
    }
    out += '"';
  }
  out += "\r\n";
}

}  // namespace dzong
