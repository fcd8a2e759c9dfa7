#pragma once
// Reading the CSV seed files shipped in the binary, and writing CSV downloads.

#include <string>
#include <string_view>
#include <vector>

namespace dzong {

/// Splits one CSV record (RFC 4180 quoting; no line breaks inside fields).
std::vector<std::string> SplitCsvLine(std::string_view line);

/// The records of a CSV text after its header line, each split into fields.
std::vector<std::vector<std::string>> CsvRecords(std::string_view text);

/// Appends one CSV record (RFC 4180: quoted when needed, CRLF at the end).
/// For files people open in a spreadsheet (`for_people`), a field it would
/// run as a formula (=, +, -, @ first) is prefixed with an apostrophe; data
/// exports meant to be read back keep every value as it is.
void AppendCsvRecord(std::string& out, const std::vector<std::string>& fields, bool for_people = true);

}  // namespace dzong
