// The index of the people registry records name, and the reads it serves.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "modules/registries/internal.h"
#include "modules/registries/registries.h"

namespace dzong::registries {

Status IndexSubjects(db::Connection& c, const Registry& registry, const std::string& key, const nlohmann::json& data) {
  if (registry.code == "population") return {};
  for (const FieldSpec& f : registry.fields) {
    if (f.type != "reference" || f.reference != "population") continue;
    const std::string subject =
        data.contains(f.name) && data.at(f.name).is_string() ? data.at(f.name).get<std::string>() : std::string();
    if (subject.empty()) {
      const db::Value gone[] = {registry.code, key, f.name};
      DZONG_TRY(c.Execute("DELETE FROM registry_subjects WHERE registry = ? AND record_key = ? AND field = ?", gone));
      continue;
    }
    const db::Value row[] = {registry.code, key, f.name, subject};
    DZONG_TRY(c.Execute("INSERT INTO registry_subjects (registry, record_key, field, subject) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (registry, record_key, field) DO UPDATE SET subject = excluded.subject",
                        row));
  }
  return {};
}

Result<std::vector<std::pair<Registry, Record>>> RegistryService::RecordsAbout(const std::string& cid) {
  std::vector<std::pair<Registry, Record>> out;
  DZONG_ASSIGN_OR_RETURN(std::vector<Registry> registries, List());
  const auto registry = [&](const std::string& code) -> const Registry* {
    for (const auto& r : registries) {
      if (r.code == code) return &r;
    }
    return nullptr;
  };
  if (const Registry* population = registry("population")) {
    auto own = GetRecord("population", cid, std::nullopt);
    if (own.ok()) out.emplace_back(*population, std::move(own).value());
  }
  DZONG_ASSIGN_OR_RETURN(db::Rows named, db_.ReadValue<db::Rows>([&](db::Connection& c) {
                           const db::Value who[] = {cid};
                           return c.Query("SELECT DISTINCT registry, record_key FROM registry_subjects WHERE subject = ? "
                                          "ORDER BY registry, record_key LIMIT 200",
                                          who);
                         }));
  for (const auto& row : named) {
    const Registry* r = registry(row.Text(0));
    if (!r) continue;
    auto record = GetRecord(r->code, row.Text(1), std::nullopt);
    if (record.ok()) out.emplace_back(*r, std::move(record).value());
  }
  return out;
}

Result<std::vector<Record>> RegistryService::FindBySubject(const std::string& code, const std::string& field,
                                                           const std::string& cid, std::int64_t limit) {
  DZONG_ASSIGN_OR_RETURN(Registry registry, Get(code));
  const bool indexed = std::any_of(registry.fields.begin(), registry.fields.end(), [&](const FieldSpec& f) {
    return f.name == field && f.type == "reference" && f.reference == "population";
  });
  if (!indexed || code == "population") {
    return Error(dzong::errc::kValidation, fmt::format("{} records cannot be looked up by {}", code, field),
                 {{field, "queryable", fmt::format("only a field naming a person (a CID) can be queried in {}", code)}});
  }
  DZONG_ASSIGN_OR_RETURN(db::Rows keys, db_.ReadValue<db::Rows>([&](db::Connection& c) {
                           const db::Value where[] = {cid, code, field, limit};
                           return c.Query("SELECT record_key FROM registry_subjects WHERE subject = ? AND registry = ? "
                                          "AND field = ? ORDER BY record_key LIMIT ?",
                                          where);
                         }));
  std::vector<Record> out;
  for (const auto& k : keys) {
    auto record = GetRecord(code, k.Text(0), std::nullopt);
    if (record.ok()) out.push_back(std::move(record).value());
  }
  return out;
}

}  // namespace dzong::registries
