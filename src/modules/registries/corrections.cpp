// Correction requests: the person a record is about says what is wrong with
// it, and the custodian's stewards answer. A request never changes the
// record by itself; the steward changes it through the register, with a
// reason, like any other change.
#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "modules/registries/registries.h"

namespace dzong::registries {
namespace {

using nlohmann::json;

constexpr std::size_t kDescriptionMin = 10;
constexpr std::size_t kTextMax = 1000;

constexpr char kColumns[] =
    "k.id, k.registry, k.record_key, k.subject, k.field, k.description, k.proposed_value, k.status, k.asked_at, "
    "k.answered_by, k.answered_at, k.answer, k.record_version, r.custodian";

std::string Select(const std::string& where) {
  return std::string("SELECT ") + kColumns +
         " FROM registry_corrections k JOIN registries r ON r.code = k.registry WHERE " + where;
}

Correction FromRow(const db::Row& r) {
  Correction k;
  k.id = r.Int(0);
  k.registry = r.Text(1);
  k.record_key = r.Text(2);
  k.subject = r.Text(3);
  k.field = r.Text(4);
  k.description = r.Text(5);
  k.proposed_value = r.OptText(6);
  k.status = r.Text(7);
  k.asked_at = r.Text(8);
  k.answered_by = r.OptText(9);
  k.answered_at = r.OptText(10);
  k.answer = r.OptText(11);
  if (!r.IsNull(12)) k.record_version = r.Int(12);
  k.custodian = r.Text(13);
  return k;
}

/// Characters as people count them: UTF-8 code points, so that a Dzongkha
/// description is held to the same length as an English one.
std::size_t Characters(const std::string& text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::vector<Correction> AllFromRows(const db::Rows& rows) {
  std::vector<Correction> out;
  for (const auto& r : rows) out.push_back(FromRow(r));
  return out;
}

/// True when one of the record's references into the population register
/// holds `cid`.
bool NamesPerson(const Registry& registry, const Record& record, const std::string& cid) {
  const nlohmann::json data = nlohmann::json::parse(record.data);
  return std::any_of(registry.fields.begin(), registry.fields.end(), [&](const FieldSpec& f) {
    return f.type == "reference" && f.reference == "population" && data.contains(f.name) && data[f.name] == cid;
  });
}

}  // namespace

CorrectionService::CorrectionService(db::Database& db, const Clock& clock, RegistryService& registries)
    : db_(db), clock_(clock), registries_(registries) {}

Result<Correction> CorrectionService::Ask(const std::string& subject, const CorrectionRequest& request,
                                          const audit::Actor& actor) {
  DZONG_ASSIGN_OR_RETURN(Registry registry, registries_.Get(request.registry));
  // The person's own record, or one that names them (a plot they own).
  const bool by_cid = registry.key_field == "cid";
  DZONG_ASSIGN_OR_RETURN(Record record,
                         registries_.GetRecord(registry.code, by_cid ? subject : request.record_key, std::nullopt));
  if (!by_cid && !NamesPerson(registry, record, subject)) {
    return Error(errc::kRecordNotFound, fmt::format("record {} of {} does not name you", record.key, registry.code));
  }
  std::vector<FieldError> errors;
  if (request.field.empty()) {
    errors.push_back({"field", "required", "field is required: choose the part of the record that is wrong"});
  } else if (std::none_of(registry.fields.begin(), registry.fields.end(),
                          [&](const FieldSpec& f) { return f.name == request.field; })) {
    errors.push_back({"field", "one_of", fmt::format("field must be one of the fields of {}", registry.code)});
  }
  const std::size_t length = Characters(request.description);
  if (length < kDescriptionMin || length > kTextMax) {
    errors.push_back(
        {"description", "length",
         fmt::format("description must say what is wrong in {} to {} characters", kDescriptionMin, kTextMax)});
  }
  if (Characters(request.proposed_value) > kTextMax) {
    errors.push_back(
        {"proposed_value", "length", fmt::format("proposed_value must be at most {} characters", kTextMax)});
  }
  if (!errors.empty()) {
    return Invalid(std::move(errors));
  }
  Correction k;
  k.registry = registry.code;
  k.record_key = record.key;
  k.subject = subject;
  k.field = request.field;
  k.description = request.description;
  if (!request.proposed_value.empty()) k.proposed_value = request.proposed_value;
  k.status = "open";
  k.asked_at = FormatUtc(clock_.Now());
  k.custodian = registry.custodian;
  return db_.WriteValue<Correction>([&](db::Connection& c) -> Result<Correction> {
    const db::Value row[] = {k.registry,    k.record_key,
                             k.subject,     k.field,
                             k.description, k.proposed_value ? db::Value(*k.proposed_value) : db::Value(nullptr),
                             k.asked_at};
    DZONG_ASSIGN_OR_RETURN(db::Rows id,
                           c.Query("INSERT INTO registry_corrections (registry, record_key, subject, field, "
                                   "description, proposed_value, status, asked_at) VALUES (?, ?, ?, ?, ?, ?, 'open', "
                                   "?) RETURNING id",
                                   row));
    k.id = id.at(0).Int(0);
    audit::Event event = audit::For(actor, "registries.correction_asked", "registry_correction", std::to_string(k.id),
                                    json({{"registry", k.registry}, {"field", k.field}}).dump());
    event.subject = k.subject;
    DZONG_TRY(audit::AppendWithCall(c, event, actor, 303, clock_));
    return k;
  });
}

Result<std::vector<Correction>> CorrectionService::ForSubject(const std::string& subject) {
  return db_.ReadValue<std::vector<Correction>>([&](db::Connection& c) -> Result<std::vector<Correction>> {
    const db::Value key[] = {subject};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(Select("k.subject = ?") + " ORDER BY k.id DESC", key));
    return AllFromRows(rows);
  });
}

Result<std::vector<Correction>> CorrectionService::OpenFor(const std::string& organisation) {
  return db_.ReadValue<std::vector<Correction>>([&](db::Connection& c) -> Result<std::vector<Correction>> {
    const db::Value key[] = {organisation};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                           c.Query(Select("r.custodian = ? AND k.status = 'open'") + " ORDER BY k.id", key));
    return AllFromRows(rows);
  });
}

Result<Correction> CorrectionService::GetForCustodian(std::int64_t id, const std::string& organisation) {
  return db_.ReadValue<Correction>([&](db::Connection& c) -> Result<Correction> {
    const db::Value key[] = {id, organisation};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(Select("k.id = ? AND r.custodian = ?"), key));
    if (rows.empty()) return Error(errc::kCorrectionNotFound, fmt::format("there is no correction request {}", id));
    return FromRow(rows[0]);
  });
}

Result<Correction> CorrectionService::Answer(std::int64_t id, const std::string& outcome, const std::string& answer,
                                             const audit::Actor& actor) {
  std::vector<FieldError> errors;
  if (outcome != "done" && outcome != "declined") {
    errors.push_back({"outcome", "one_of", "outcome must be one of: done, declined"});
  }
  const std::size_t length = Characters(answer);
  if (outcome == "declined" && length == 0) {
    errors.push_back({"answer", "required", "answer is required: tell the person why the record stays as it is"});
  } else if (length > kTextMax) {
    errors.push_back({"answer", "length", fmt::format("answer must be at most {} characters", kTextMax)});
  }
  if (!errors.empty()) {
    return Invalid(std::move(errors));
  }
  const std::string organisation = actor.organisation.value_or("");
  return db_.WriteValue<Correction>([&](db::Connection& c) -> Result<Correction> {
    const db::Value key[] = {id, organisation};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(Select("k.id = ? AND r.custodian = ?"), key));
    if (rows.empty()) return Error(errc::kCorrectionNotFound, fmt::format("there is no correction request {}", id));
    Correction k = FromRow(rows[0]);
    if (k.status != "open") {
      return Error(errc::kCorrectionClosed, fmt::format("correction request {} is {} already", id, k.status));
    }
    const db::Value record_key[] = {k.registry, k.record_key};
    DZONG_ASSIGN_OR_RETURN(db::Rows current, c.Query("SELECT version FROM registry_records WHERE registry = ? AND "
                                                     "record_key = ? AND valid_to IS NULL",
                                                     record_key));
    k.status = outcome;
    k.answered_by = actor.id;
    k.answered_at = FormatUtc(clock_.Now());
    if (!answer.empty()) k.answer = answer;
    if (!current.empty()) k.record_version = current[0].Int(0);
    const db::Value change[] = {k.status,
                                *k.answered_by,
                                *k.answered_at,
                                k.answer ? db::Value(*k.answer) : db::Value(nullptr),
                                k.record_version ? db::Value(*k.record_version) : db::Value(nullptr),
                                id};
    // The status in the WHERE makes a second steward's answer, racing this
    // one, change nothing rather than overwrite it.
    DZONG_ASSIGN_OR_RETURN(std::int64_t changed,
                           c.Execute("UPDATE registry_corrections SET status = ?, answered_by = ?, answered_at = ?, "
                                     "answer = ?, record_version = ? WHERE id = ? AND status = 'open'",
                                     change));
    if (changed != 1)
      return Error(errc::kCorrectionClosed, fmt::format("correction request {} is answered already", id));
    audit::Event event =
        audit::For(actor, outcome == "done" ? "registries.correction_done" : "registries.correction_declined",
                   "registry_correction", std::to_string(id),
                   json({{"registry", k.registry},
                         {"field", k.field},
                         {"record_version", k.record_version ? json(*k.record_version) : json()}})
                       .dump());
    event.subject = k.subject;
    DZONG_TRY(audit::AppendWithCall(c, event, actor, 303, clock_));
    return k;
  });
}

}  // namespace dzong::registries
