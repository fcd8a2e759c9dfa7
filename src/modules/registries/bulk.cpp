// Bulk import and export of a registry's records.
#include <charconv>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/csv.h"
#include "modules/registries/internal.h"
#include "modules/registries/registries.h"

namespace dzong::registries {
namespace {

using nlohmann::json;

/// A CSV cell as the field's JSON value; nullopt when the cell is empty.
std::optional<json> Cell(const FieldSpec& field, const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (field.type == "integer") {
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec == std::errc() && end == text.data() + text.size()) return json(n);
    return json(text);  // left as text: the schema check names the rule
  }
  if (field.type == "decimal") {
    double d = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec == std::errc() && end == text.data() + text.size()) return json(d);
    return json(text);
  }
  return json(text);
}

}  // namespace

Result<ImportReport> RegistryService::Import(const std::string& code, std::string_view csv, std::string& rejects,
                                             const audit::Actor& actor,
                                             const std::function<void(std::int64_t)>& progress) {
  DZONG_ASSIGN_OR_RETURN(Registry registry, Get(code));
  ImportReport report;
  AppendCsvRecord(rejects, {"line", "field", "rule", "message"});
  const auto next_line = [&csv]() {
    const auto newline = csv.find('\n');
    std::string_view line = csv.substr(0, newline);
    csv = newline == std::string_view::npos ? std::string_view{} : csv.substr(newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };
  if (csv.starts_with("\xEF\xBB\xBF")) csv.remove_prefix(3);
  const std::vector<std::string> header = SplitCsvLine(next_line());
  std::vector<const FieldSpec*> columns;
  std::vector<FieldError> header_errors;
  for (const std::string& name : header) {
    const FieldSpec* found = nullptr;
    for (const auto& f : registry.fields) {
      if (f.name == name) found = &f;
    }
    if (!found) header_errors.push_back({name, "unknown", fmt::format("{} is not a field of {}", name, code)});
    columns.push_back(found);
  }
  if (std::find(header.begin(), header.end(), registry.key_field) == header.end()) {
    header_errors.push_back({registry.key_field, "required", fmt::format("the header must name {}, the key", registry.key_field)});
  }
  if (!header_errors.empty()) {
    return Error(dzong::errc::kValidation, "the header row is not the registry's fields", std::move(header_errors));
  }

  struct Row {
    std::int64_t line;
    std::string key;
    json data;
  };
  std::vector<Row> valid;
  std::unordered_set<std::string> keys_in_file;
  std::int64_t line_number = 1;
  const auto reject = [&](std::int64_t line, const FieldError& e) {
    AppendCsvRecord(rejects, {std::to_string(line), e.field, e.rule, e.message});
  };
  while (!csv.empty()) {
    const std::string_view line = next_line();
    ++line_number;
    if (line.empty()) continue;
    ++report.rows;
    const std::vector<std::string> cells = SplitCsvLine(line);
    if (cells.size() != columns.size()) {
      reject(line_number, {"", "columns", fmt::format("the row has {} cells; the header has {}", cells.size(), columns.size())});
      ++report.rejected;
      continue;
    }
    json data = json::object();
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (auto value = Cell(*columns[i], cells[i])) data[columns[i]->name] = std::move(*value);
    }
    const std::vector<FieldError> errors = Validate(registry, data);
    const std::string key = data.value(registry.key_field, std::string());
    if (!errors.empty() || !keys_in_file.insert(key).second) {
      for (const auto& e : errors) reject(line_number, e);
      if (errors.empty()) reject(line_number, {registry.key_field, "unique", fmt::format("{} appears twice in the file", key)});
      ++report.rejected;
      continue;
    }
    valid.push_back({line_number, key, std::move(data)});
    if (progress && report.rows % 50000 == 0) progress(report.rows);
  }
  if (progress) progress(report.rows);

  const std::string now = FormatUtc(clock_.Now());
  DZONG_TRY(db_.Write([&](db::Connection& c) -> Status {
    // References must name a record of the register or of this file.
    std::unordered_set<std::string> checked;
    std::vector<Row> accepted;
    accepted.reserve(valid.size());
    for (Row& row : valid) {
      bool ok = true;
      for (const auto& f : registry.fields) {
        if (f.type != "reference" || !row.data.contains(f.name)) continue;
        const std::string target = row.data[f.name];
        if ((f.reference == code && keys_in_file.contains(target)) || checked.contains(f.reference + "/" + target)) continue;
        const db::Value ref[] = {f.reference, target};
        DZONG_ASSIGN_OR_RETURN(db::Rows found, c.Query("SELECT 1 FROM registry_records WHERE registry = ? AND "
                                                       "record_key = ? AND valid_to IS NULL",
                                                       ref));
        if (found.empty()) {
          reject(row.line, {f.name, "exists", fmt::format("{} names no record of {}", f.name, f.reference)});
          ok = false;
        } else {
          checked.insert(f.reference + "/" + target);
        }
      }
      if (ok) {
        accepted.push_back(std::move(row));
      } else {
        ++report.rejected;
      }
    }
    // Records already held become a new version; new keys start at 1.
    std::unordered_map<std::string, std::int64_t> current;
    {
      const db::Value reg[] = {code};
      DZONG_TRY(c.QueryEach("SELECT record_key, version FROM registry_records WHERE registry = ? AND valid_to IS NULL",
                            reg, [&](const db::RowView& r) {
                              current.emplace(std::string(r.Text(0)), r.Int(1));
                              return true;
                            }));
    }
    constexpr std::size_t kPerStatement = 100;
    std::vector<db::Value> params;
    std::string sql;
    std::size_t at = 0;
    while (at < accepted.size()) {
      const std::size_t n = std::min(kPerStatement, accepted.size() - at);
      sql = "INSERT INTO registry_records (registry, record_key, version, schema_version, data, retired, valid_from, "
            "changed_by, reason) VALUES ";
      params.clear();
      for (std::size_t i = 0; i < n; ++i) {
        const Row& row = accepted[at + i];
        const auto existing = current.find(row.key);
        const std::int64_t version = existing == current.end() ? 1 : existing->second + 1;
        if (existing != current.end()) {
          const db::Value key[] = {code, row.key};
          DZONG_ASSIGN_OR_RETURN(db::Rows held, c.Query("SELECT data FROM registry_records WHERE registry = ? AND "
                                                        "record_key = ? AND valid_to IS NULL",
                                                        key));
          if (!held.empty() && held[0].Text(0) == row.data.dump()) {
            ++report.unchanged;  // the same record again: no new version
            continue;
          }
          const db::Value close[] = {now, code, row.key};
          DZONG_TRY(c.Execute("UPDATE registry_records SET valid_to = ? WHERE registry = ? AND record_key = ? AND "
                              "valid_to IS NULL",
                              close));
        }
        DZONG_TRY(IndexSubjects(c, registry, row.key, row.data));
        sql += params.empty() ? "(?, ?, ?, ?, ?, 0, ?, ?, 'import')" : ", (?, ?, ?, ?, ?, 0, ?, ?, 'import')";
        params.emplace_back(code);
        params.emplace_back(row.key);
        params.emplace_back(version);
        params.emplace_back(registry.schema_version);
        params.emplace_back(row.data.dump());
        params.emplace_back(now);
        params.emplace_back(actor.id);
      }
      if (!params.empty()) DZONG_TRY(c.Execute(sql, params));
      at += n;
    }
    report.imported = static_cast<std::int64_t>(accepted.size()) - report.unchanged;
    DZONG_TRY(audit::Append(c,
                            audit::For(actor, "registries.imported", "registry", code,
                                       json({{"rows", report.rows}, {"imported", report.imported},
                                             {"unchanged", report.unchanged}, {"rejected", report.rejected}})
                                           .dump()),
                            clock_));
    return {};
  }));
  return report;
}

Result<std::int64_t> RegistryService::Export(const std::string& code, const std::string& format, std::FILE* out) {
  DZONG_ASSIGN_OR_RETURN(Registry registry, Get(code));
  if (format != "csv" && format != "ndjson") {
    return Error(dzong::errc::kValidation, "format must be csv or ndjson", {{"format", "one_of", "format must be csv or ndjson"}});
  }
  std::int64_t written = 0;
  std::string buffer;
  if (format == "csv") {
    std::vector<std::string> names;
    for (const auto& f : registry.fields) names.push_back(f.name);
    AppendCsvRecord(buffer, names, false);
  }
  DZONG_TRY(db_.Read([&](db::Connection& c) -> Status {
    const db::Value reg[] = {code};
    return c.QueryEach("SELECT data FROM registry_records WHERE registry = ? AND valid_to IS NULL ORDER BY record_key",
                       reg, [&](const db::RowView& r) {
                         if (format == "ndjson") {
                           buffer.append(r.Text(0));
                           buffer += '\n';
                         } else {
                           const json data = json::parse(r.Text(0));
                           std::vector<std::string> cells;
                           for (const auto& f : registry.fields) {
                             const auto it = data.find(f.name);
                             cells.push_back(it == data.end() ? std::string()
                                             : it->is_string() ? it->get<std::string>()
                                                               : it->dump());
                           }
                           AppendCsvRecord(buffer, cells, false);
                         }
                         ++written;
                         if (buffer.size() > (1 << 20)) {
                           std::fwrite(buffer.data(), 1, buffer.size(), out);
                           buffer.clear();
                         }
                         return true;
                       });
  }));
  std::fwrite(buffer.data(), 1, buffer.size(), out);
  if (std::fflush(out) != 0) return Error(dzong::errc::kInternal, "the export could not be written");
  return written;
}

}  // namespace dzong::registries
