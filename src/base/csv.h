#pragma once
// Reading the CSV seed files shipped in the binary.

#include <string>
#include <string_view>
#include <vector>

namespace dzong {

/// Splits one CSV record (RFC 4180 quoting; no line breaks inside fields).
std::vector<std::string> SplitCsvLine(std::string_view line);

/// The records of a CSV text after its header line, each split into fields.
std::vector<std::vector<std::string>> CsvRecords(std::string_view text);

}  // namespace dzong
