#include <algorithm>
#include <charconv>
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "modules/registries/internal.h"
#include "modules/registries/registries.h"

namespace dzong {
std::span<const EmbeddedFile> RegistryMigrationFiles();
std::span<const EmbeddedFile> RegistrySeedFiles();
}  // namespace dzong

namespace dzong::registries {
namespace {

using nlohmann::json;

constexpr std::size_t kDefaultMaxLength = 1000;
constexpr char kRecordColumns[] =
    "registry, record_key, version, data, retired, valid_from, valid_to, changed_by, reason";

json FieldsToJson(const std::vector<FieldSpec>& fields) {
  json out = json::array();
  for (const auto& f : fields) {
    json j = {{"name", f.name},         {"type", f.type},
              {"required", f.required}, {"pii", f.pii},
              {"description", f.description}, {"label_dz", f.label_dz}};
    if (!f.values.empty()) j["values"] = f.values;
    if (!f.reference.empty()) j["reference"] = f.reference;
    if (f.max_length) j["max_length"] = f.max_length;
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<FieldSpec> FieldsFromJson(const json& list) {
  std::vector<FieldSpec> out;
  for (const auto& j : list) {
    FieldSpec f;
    f.name = j.value("name", "");
    f.type = j.value("type", "string");
    f.required = j.value("required", false);
    f.pii = j.value("pii", false);
    f.description = j.value("description", "");
    f.label_dz = j.value("label_dz", "");
    if (j.contains("values")) f.values = j["values"].get<std::vector<std::string>>();
    f.reference = j.value("reference", "");
    f.max_length = j.value("max_length", std::size_t{0});
    out.push_back(std::move(f));
  }
  return out;
}

Record RecordFromRow(const db::Row& r) {
  Record rec;
  rec.registry = r.Text(0);
  rec.key = r.Text(1);
  rec.version = r.Int(2);
  rec.data = r.Text(3);
  rec.retired = r.Int(4) != 0;
  rec.valid_from = r.Text(5);
  rec.valid_to = r.OptText(6);
  rec.changed_by = r.Text(7);
  rec.reason = r.Text(8);
  return rec;
}

bool IsDate(const std::string& text) { return ParseDate(text).has_value(); }

bool IsCid(const std::string& text) {
  return text.size() == 11 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<Registry> ReadRegistry(db::Connection& c, const std::string& code) {
  const db::Value key[] = {code};
  DZONG_ASSIGN_OR_RETURN(
      db::Rows rows,
      c.Query("SELECT r.code, r.custodian, r.title_en, r.title_dz, r.key_field, r.schema_version, r.status, s.fields "
              "FROM registries r JOIN registry_schemas s ON s.registry = r.code AND s.version = r.schema_version "
              "WHERE r.code = ?",
              key));
  if (rows.empty()) return Error(errc::kNotFound, fmt::format("there is no registry {}", code));
  const db::Row& r = rows[0];
  Registry reg{r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Int(5), r.Text(6),
               FieldsFromJson(json::parse(r.Text(7)))};
  return reg;
}

}  // namespace

std::span<const EmbeddedFile> Migrations() { return RegistryMigrationFiles(); }

std::vector<std::string> PeopleIn(const Registry& registry, const Record& record) {
  std::vector<std::string> out;
  const json data = json::parse(record.data, nullptr, false);
  if (!data.is_object()) return out;
  for (const auto& f : registry.fields) {
    const auto it = data.find(f.name);
    if ((f.type == "cid" || (f.type == "reference" && f.reference == "population")) && it != data.end() &&
        it->is_string() && std::find(out.begin(), out.end(), it->get<std::string>()) == out.end()) {
      out.push_back(it->get<std::string>());
    }
  }
  return out;
}

std::vector<FieldError> Validate(const Registry& registry, const json& data) {
  std::vector<FieldError> errors;
  if (!data.is_object()) {
    errors.push_back({"data", "type", "data must be a JSON object of the registry's fields"});
    return errors;
  }
  for (const auto& [name, value] : data.items()) {
    const bool known = std::any_of(registry.fields.begin(), registry.fields.end(),
                                   [&](const FieldSpec& f) { return f.name == name; });
    if (!known) errors.push_back({name, "unknown", fmt::format("{} is not a field of {}", name, registry.code)});
  }
  for (const FieldSpec& f : registry.fields) {
    const auto it = data.find(f.name);
    if (it == data.end() || it->is_null()) {
      if (f.required) errors.push_back({f.name, "required", fmt::format("{} is required", f.name)});
      continue;
    }
    const json& v = *it;
    const auto fail = [&](const char* rule, std::string message) { errors.push_back({f.name, rule, std::move(message)}); };
    if (f.type == "integer") {
      if (!v.is_number_integer()) fail("type", fmt::format("{} must be a whole number", f.name));
    } else if (f.type == "decimal") {
      if (!v.is_number()) fail("type", fmt::format("{} must be a number", f.name));
    } else if (!v.is_string()) {
      fail("type", fmt::format("{} must be text", f.name));
    } else {
      const std::string& text = v.get_ref<const std::string&>();
      if (f.type == "date" && !IsDate(text)) {
        fail("date", fmt::format("{} must be a real date such as 1990-04-17", f.name));
      } else if ((f.type == "cid" || f.type == "reference") && f.reference.empty() && !IsCid(text)) {
        fail("cid", fmt::format("{} must be a Citizenship ID of 11 digits", f.name));
      } else if (f.type == "reference" && f.reference == "population" && !IsCid(text)) {
        fail("cid", fmt::format("{} must be a Citizenship ID of 11 digits", f.name));
      } else if (f.type == "enum" && std::find(f.values.begin(), f.values.end(), text) == f.values.end()) {
        fail("one_of", fmt::format("{} must be one of: {}", f.name, fmt::join(f.values, ", ")));
      } else if (f.type == "string" && (text.empty() || text.size() > (f.max_length ? f.max_length : kDefaultMaxLength))) {
        fail("length", fmt::format("{} must be 1 to {} characters", f.name, f.max_length ? f.max_length : kDefaultMaxLength));
      }
    }
  }
  return errors;
}

RegistryService::RegistryService(db::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

Result<std::vector<Registry>> RegistryService::List() {
  return db_.ReadValue<std::vector<Registry>>([](db::Connection& c) -> Result<std::vector<Registry>> {
    DZONG_ASSIGN_OR_RETURN(db::Rows codes, c.Query("SELECT code FROM registries ORDER BY code"));
    std::vector<Registry> out;
    for (const auto& row : codes) {
      DZONG_ASSIGN_OR_RETURN(Registry r, ReadRegistry(c, row.Text(0)));
      out.push_back(std::move(r));
    }
    return out;
  });
}

Result<Registry> RegistryService::Get(const std::string& code) {
  return db_.ReadValue<Registry>([&](db::Connection& c) { return ReadRegistry(c, code); });
}

Result<Record> RegistryService::GetRecord(const std::string& code, const std::string& key,
                                          const std::optional<std::string>& as_of) {
  return db_.ReadValue<Record>([&](db::Connection& c) -> Result<Record> {
    DZONG_TRY(ReadRegistry(c, code));
    db::Rows rows;
    if (as_of) {
      const db::Value params[] = {code, key, *as_of, *as_of};
      DZONG_ASSIGN_OR_RETURN(rows, c.Query(std::string("SELECT ") + kRecordColumns +
                                               " FROM registry_records WHERE registry = ? AND record_key = ? AND "
                                               "valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)",
                                           params));
    } else {
      const db::Value params[] = {code, key};
      DZONG_ASSIGN_OR_RETURN(rows, c.Query(std::string("SELECT ") + kRecordColumns +
                                               " FROM registry_records WHERE registry = ? AND record_key = ? AND "
                                               "valid_to IS NULL",
                                           params));
    }
    if (rows.empty()) {
      return Error(errc::kRecordNotFound,
                   as_of ? fmt::format("{} held no record {} at {}", code, key, *as_of)
                         : fmt::format("{} holds no record {}", code, key));
    }
    return RecordFromRow(rows[0]);
  });
}

Result<RecordPage> RegistryService::Records(const std::string& code, const RecordQuery& query) {
  return db_.ReadValue<RecordPage>([&](db::Connection& c) -> Result<RecordPage> {
    DZONG_TRY(ReadRegistry(c, code));
    // Every condition is a range on (registry, record_key) of the index
    // registry_records_current, and the LIMIT stops the read at one page.
    std::string sql = std::string("SELECT ") + kRecordColumns +
                      " FROM registry_records WHERE registry = ? AND valid_to IS NULL";
    std::vector<db::Value> params{code};
    if (!query.key_prefix.empty()) {
      sql += " AND record_key >= ?";
      params.emplace_back(query.key_prefix);
      // The first text after every key with the prefix: its last byte raised
      // by one (a byte of 0xFF is dropped and the one before it raised).
      std::string end = query.key_prefix;
      while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xFF) end.pop_back();
      if (!end.empty()) {
        end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
        sql += " AND record_key < ?";
        params.emplace_back(end);
      }
    }
    const bool backwards = query.after.empty() && !query.before.empty();
    if (!query.after.empty()) {
      sql += " AND record_key > ?";
      params.emplace_back(query.after);
    } else if (backwards) {
      sql += " AND record_key < ?";
      params.emplace_back(query.before);
    }
    sql += backwards ? " ORDER BY record_key DESC LIMIT ?" : " ORDER BY record_key LIMIT ?";
    params.emplace_back(static_cast<std::int64_t>(query.limit + 1));
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(sql, params));
    RecordPage page;
    const bool more = rows.size() > query.limit;
    for (std::size_t i = 0; i < rows.size() && i < query.limit; ++i) page.records.push_back(RecordFromRow(rows[i]));
    if (backwards) {
      std::reverse(page.records.begin(), page.records.end());
      page.has_previous = more;
      page.has_next = true;
    } else {
      page.has_next = more;
      page.has_previous = !query.after.empty();
    }
    return page;
  });
}

Result<std::vector<Record>> RegistryService::History(const std::string& code, const std::string& key) {
  return db_.ReadValue<std::vector<Record>>([&](db::Connection& c) -> Result<std::vector<Record>> {
    DZONG_TRY(ReadRegistry(c, code));
    const db::Value params[] = {code, key};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(std::string("SELECT ") + kRecordColumns +
                                                      " FROM registry_records WHERE registry = ? AND record_key = ? "
                                                      "ORDER BY version",
                                                  params));
    if (rows.empty()) return Error(errc::kRecordNotFound, fmt::format("{} holds no record {}", code, key));
    std::vector<Record> out;
    for (const auto& r : rows) out.push_back(RecordFromRow(r));
    return out;
  });
}

Result<Record> RegistryService::Put(const std::string& code, const std::string& key, const json& data,
                                    const std::string& reason, std::optional<std::int64_t> expected_version,
                                    const audit::Actor& actor) {
  DZONG_ASSIGN_OR_RETURN(Registry registry, Get(code));
  if (!actor.organisation || *actor.organisation != registry.custodian) {
    return Error(errc::kNotCustodian, fmt::format("only the stewards of {} (the custodian) change the {} register",
                                                  registry.custodian, code));
  }
  std::vector<FieldError> errors = Validate(registry, data);
  if (data.is_object()) {
    const auto k = data.find(registry.key_field);
    if (k != data.end() && k->is_string() && *k != key) {
      errors.push_back({registry.key_field, "matches_key",
                        fmt::format("{} must be {}, the record's key", registry.key_field, key)});
    }
  }
  if (reason.empty() || reason.size() > 500) {
    errors.push_back({"reason", "length", "reason must be 1 to 500 characters: why the record changes"});
  }
  if (!errors.empty()) {
    return Invalid(std::move(errors));
  }
  return db_.WriteValue<Record>([&](db::Connection& c) -> Result<Record> {
    const db::Value id[] = {code, key};
    DZONG_ASSIGN_OR_RETURN(db::Rows current,
                           c.Query("SELECT version FROM registry_records WHERE registry = ? AND record_key = ? AND "
                                   "valid_to IS NULL",
                                   id));
    const std::int64_t version = current.empty() ? 0 : current[0].Int(0);
    if (expected_version && *expected_version != version) {
      return Error(dzong::errc::kConflict,
                   fmt::format("record {} has changed since you read it (now version {}, you sent {})", key, version,
                               *expected_version));
    }
    // A reference must point at a record that exists now.
    for (const FieldSpec& f : registry.fields) {
      if (f.type != "reference" || !data.contains(f.name) || !data[f.name].is_string()) continue;
      const db::Value ref[] = {f.reference, data[f.name].get<std::string>()};
      DZONG_ASSIGN_OR_RETURN(db::Rows found, c.Query("SELECT 1 FROM registry_records WHERE registry = ? AND "
                                                     "record_key = ? AND valid_to IS NULL",
                                                     ref));
      if (found.empty()) {
        return Error(dzong::errc::kValidation, fmt::format("{} names no record of {}", f.name, f.reference),
                     {{f.name, "exists", fmt::format("{} must name an existing {} record", f.name, f.reference)}});
      }
    }
    const std::string now = FormatUtc(clock_.Now());
    if (version > 0) {
      const db::Value close[] = {now, code, key};
      DZONG_TRY(c.Execute("UPDATE registry_records SET valid_to = ? WHERE registry = ? AND record_key = ? AND "
                          "valid_to IS NULL",
                          close));
    }
    Record rec{code, key, version + 1, data.dump(), false, now, std::nullopt, actor.id, reason};
    const db::Value row[] = {rec.registry,   rec.key,        rec.version, registry.schema_version,
                             rec.data,       rec.valid_from, rec.changed_by, rec.reason};
    DZONG_TRY(c.Execute("INSERT INTO registry_records (registry, record_key, version, schema_version, data, retired, "
                        "valid_from, changed_by, reason) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)",
                        row));
    DZONG_TRY(IndexSubjects(c, registry, key, data));
    audit::Event event = audit::For(actor, version == 0 ? "registries.record_created" : "registries.record_changed",
                                    "registry_record", code + "/" + key,
                                    json({{"version", rec.version}, {"reason", reason}}).dump());
    if (code == "population") event.subject = key;
    DZONG_TRY(audit::AppendWithCall(c, event, actor, 200, clock_));
    return rec;
  });
}

Result<int> RegistryService::SeedDefinitions(const audit::Actor& actor) {
  const json definitions = json::parse(RegistrySeedFiles().front().content);
  return db_.WriteValue<int>([&](db::Connection& c) -> Result<int> {
    int added = 0;
    const std::string now = FormatUtc(clock_.Now());
    for (const auto& d : definitions) {
      const std::string code = d["code"];
      const db::Value key[] = {code};
      DZONG_ASSIGN_OR_RETURN(db::Rows have, c.Query("SELECT 1 FROM registries WHERE code = ?", key));
      if (!have.empty()) continue;
      const db::Value row[] = {code, d["custodian"].get<std::string>(), d["title_en"].get<std::string>(),
                               d["title_dz"].get<std::string>(), d["key_field"].get<std::string>(), now};
      DZONG_TRY(c.Execute("INSERT INTO registries (code, custodian, title_en, title_dz, key_field, schema_version, "
                          "status, created_at) VALUES (?, ?, ?, ?, ?, 1, 'active', ?)",
                          row));
      const db::Value schema[] = {code, FieldsToJson(FieldsFromJson(d["fields"])).dump(), now};
      DZONG_TRY(c.Execute("INSERT INTO registry_schemas (registry, version, fields, created_at) VALUES (?, 1, ?, ?)",
                          schema));
      DZONG_TRY(audit::Append(c, audit::For(actor, "registries.created", "registry", code), clock_));
      ++added;
    }
    return added;
  });
}

}  // namespace dzong::registries
