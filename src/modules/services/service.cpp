// The catalogue's rules and storage: drafts, publication (validation and
// lint, then an immutable version), retirement, and the ministry's review
// of justifications. Each change commits with its audit event. Published
// services are kept in memory for citizens' reads.
#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "modules/organisations/organisations.h"
#include "modules/registries/registries.h"
#include "modules/services/internal.h"
#include "modules/services/services.h"

namespace dzong {
std::span<const EmbeddedFile> ServiceMigrationFiles();
std::span<const EmbeddedFile> ServiceSeedFiles();
}  // namespace dzong

namespace dzong::services {

std::span<const EmbeddedFile> Migrations() { return ServiceMigrationFiles(); }
std::span<const EmbeddedFile> SeedFiles() { return ServiceSeedFiles(); }

namespace {

using nlohmann::json;

constexpr char kVersionColumns[] =
    "service, version, status, definition, created_by, created_at, updated_at, published_by, published_at";
constexpr char kServiceColumns[] =
    "s.code, s.owner, s.status, s.published_version, s.latest_version, s.updated_at, v.definition";

/// A version from its row; its definition parsed, or the one given.
Version VersionFromRow(const db::Row& r, const json* parsed = nullptr) {
  Version v;
  v.service = r.Text(0);
  v.version = r.Int(1);
  v.status = r.Text(2);
  v.definition = parsed ? *parsed : json::parse(r.Text(3));
  v.created_by = r.Text(4);
  v.created_at = r.Text(5);
  v.updated_at = r.Text(6);
  v.published_by = r.OptText(7);
  v.published_at = r.OptText(8);
  return v;
}

Service ServiceFromRow(const db::Row& r) {
  Service s;
  s.code = r.Text(0);
  s.owner = r.Text(1);
  s.status = r.Text(2);
  if (!r.IsNull(3)) s.published_version = r.Int(3);
  s.latest_version = r.Int(4);
  s.updated_at = r.Text(5);
  s.definition = json::parse(r.Text(6));
  return s;
}

/// The service with the definition citizens see: the published version,
/// else (never published) the latest draft.
std::string ServiceSelect(const std::string& where) {
  return std::string("SELECT ") + kServiceColumns +
         " FROM services s JOIN service_versions v ON v.service = s.code AND v.version = "
         "COALESCE(s.published_version, s.latest_version) WHERE " +
         where;
}

Justification JustificationFromRow(const db::Row& r) {
  Justification j;
  j.id = r.Int(0);
  j.service = r.Text(1);
  j.version = r.Int(2);
  j.field = r.Text(3);
  j.registry_field = r.Text(4);
  j.reason = r.Text(5);
  j.recorded_by = r.Text(6);
  j.recorded_at = r.Text(7);
  j.review = r.Text(8);
  j.reviewed_by = r.OptText(9);
  j.reviewed_at = r.OptText(10);
  j.review_note = r.OptText(11);
  j.owner = r.Text(12);
  return j;
}

constexpr char kJustificationSelect[] =
    "SELECT j.id, j.service, j.version, j.field, j.registry_field, j.reason, j.recorded_by, j.recorded_at, j.review, "
    "j.reviewed_by, j.reviewed_at, j.review_note, s.owner FROM service_justifications j JOIN services s ON s.code = "
    "j.service";

bool ActsFor(const audit::Actor& actor, const std::string& owner) {
  return actor.organisation && *actor.organisation == owner;
}

}  // namespace

/// The published services, as citizens read them, with their search terms.
struct ServiceCatalogue::Snapshot {
  struct Entry {
    Service service;
    std::set<std::string> terms;
  };
  std::vector<Entry> entries;  ///< by code
  std::uint64_t generation = 0;
};

ServiceCatalogue::ServiceCatalogue(db::Database& db, const Clock& clock, registries::RegistryService& registries,
                                   organisations::OrganisationService& organisations)
    : db_(db), clock_(clock), registries_(registries), organisations_(organisations) {}

ServiceCatalogue::~ServiceCatalogue() = default;

std::uint64_t ServiceCatalogue::Generation() const { return generation_.load(std::memory_order_acquire); }

void ServiceCatalogue::Invalidate() {
  std::lock_guard lock(snapshot_mutex_);
  snapshot_.reset();
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

std::shared_ptr<const ServiceCatalogue::Snapshot> ServiceCatalogue::Published() const {
  std::lock_guard lock(snapshot_mutex_);
  if (snapshot_) return snapshot_;
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->generation = generation_.load(std::memory_order_acquire);
  auto rows = db_.ReadValue<db::Rows>([&](db::Connection& c) {
    return c.Query(ServiceSelect("s.status = 'published' ORDER BY s.code"));
  });
  if (!rows.ok()) return snapshot;  // not kept: the next read tries again
  for (const auto& r : *rows) {
    Snapshot::Entry e{ServiceFromRow(r), {}};
    const json& d = e.service.definition;
    for (const char* key : {"title", "summary", "description"}) {
      if (!d.contains(key)) continue;
      for (const char* lang : {"en", "dz"}) {
        if (!d[key].contains(lang)) continue;
        for (auto& t : SearchTerms(d[key][lang].get<std::string>())) e.terms.insert(std::move(t));
      }
    }
    snapshot->entries.push_back(std::move(e));
  }
  snapshot_ = snapshot;
  return snapshot;
}

Result<std::vector<Service>> ServiceCatalogue::Catalogue(const CatalogueQuery& query) const {
  const auto snapshot = Published();
  const std::vector<std::string> words = SearchTerms(query.text);
  std::vector<Service> out;
  for (const auto& e : snapshot->entries) {
    const json& d = e.service.definition;
    if (!query.owner.empty() && e.service.owner != query.owner) continue;
    if (!query.category.empty() && d["category"] != query.category) continue;
    if (!query.life_event.empty()) {
      const auto& events = d["life_events"];
      if (std::find(events.begin(), events.end(), query.life_event) == events.end()) continue;
    }
    // Every word must match: a Dzongkha syllable exactly, an English word
    // as the start of a word of the service ("regist" finds "registration").
    const bool all = std::all_of(words.begin(), words.end(), [&](const std::string& w) {
      const bool dzongkha = static_cast<unsigned char>(w[0]) >= 0x80;
      if (dzongkha) return e.terms.contains(w);
      auto it = e.terms.lower_bound(w);
      return it != e.terms.end() && it->compare(0, w.size(), w) == 0;
    });
    if (all) out.push_back(e.service);
  }
  return out;
}

Result<Service> ServiceCatalogue::Get(const std::string& code) const {
  const db::Value key[] = {code};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, db_.ReadValue<db::Rows>([&](db::Connection& c) {
                           return c.Query(ServiceSelect("s.code = ?"), key);
                         }));
  if (rows.empty()) return Error(errc::kNotFound, fmt::format("there is no service {}", code));
  return ServiceFromRow(rows.front());
}

Result<Service> ServiceCatalogue::GetPublished(const std::string& code) const {
  const auto snapshot = Published();
  auto it = std::lower_bound(snapshot->entries.begin(), snapshot->entries.end(), code,
                             [](const Snapshot::Entry& e, const std::string& c) { return e.service.code < c; });
  if (it == snapshot->entries.end() || it->service.code != code) {
    return Error(errc::kNotFound, fmt::format("there is no published service {}", code));
  }
  return it->service;
}

Result<Version> ServiceCatalogue::GetVersion(const std::string& code, std::int64_t version) const {
  const db::Value key[] = {code, version};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, db_.ReadValue<db::Rows>([&](db::Connection& c) {
                           return c.Query(std::string("SELECT ") + kVersionColumns +
                                              " FROM service_versions WHERE service = ? AND version = ?",
                                          key);
                         }));
  if (rows.empty()) return Error(errc::kVersionNotFound, fmt::format("service {} has no version {}", code, version));
  const db::Row& row = rows.front();
  const std::string& text = row.Text(3);
  {
    std::lock_guard lock(definitions_mutex_);
    auto it = definitions_.find({code, version});
    if (it != definitions_.end() && it->second.text == text) {
      return VersionFromRow(row, &it->second.definition);
    }
  }
  Version v = VersionFromRow(row);
  std::lock_guard lock(definitions_mutex_);
  definitions_[{code, version}] = ParsedDefinition{text, v.definition};
  return v;
}

Result<std::vector<Version>> ServiceCatalogue::Versions(const std::string& code) const {
  const db::Value key[] = {code};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, db_.ReadValue<db::Rows>([&](db::Connection& c) {
                           return c.Query(std::string("SELECT ") + kVersionColumns +
                                              " FROM service_versions WHERE service = ? ORDER BY version DESC",
                                          key);
                         }));
  std::vector<Version> out;
  for (const auto& r : rows) out.push_back(VersionFromRow(r));
  return out;
}

Result<std::vector<Service>> ServiceCatalogue::OwnedBy(const std::string& organisation) const {
  const db::Value key[] = {organisation};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, db_.ReadValue<db::Rows>([&](db::Connection& c) {
                           return c.Query(ServiceSelect("s.owner = ? ORDER BY s.code"), key);
                         }));
  std::vector<Service> out;
  for (const auto& r : rows) out.push_back(ServiceFromRow(r));
  return out;
}

Result<Version> ServiceCatalogue::SaveDraft(const json& definition, const audit::Actor& actor) {
  if (!definition.is_object()) return Invalid({{"", "type", "a service definition must be a JSON object"}});
  std::vector<FieldError> errors = Validate(definition);
  if (!errors.empty()) return Invalid(std::move(errors));
  const std::string code = definition["code"];
  const std::string owner = definition["owner"];
  if (!ActsFor(actor, owner)) {
    return Error(errc::kNotOwner, fmt::format("only designers of {} define its services", owner));
  }
  Result<Version> saved = db_.WriteValue<Version>([&](db::Connection& c) -> Result<Version> {
    const std::string now = FormatUtc(clock_.Now());
    const db::Value key[] = {code};
    DZONG_ASSIGN_OR_RETURN(db::Rows have,
                           c.Query("SELECT owner, status, latest_version FROM services WHERE code = ?", key));
    Version v;
    v.service = code;
    v.status = "draft";
    v.definition = definition;
    v.created_by = actor.id;
    v.created_at = now;
    v.updated_at = now;
    if (have.empty()) {
      v.version = 1;
      const db::Value row[] = {code, owner, now, now};
      DZONG_TRY(c.Execute("INSERT INTO services (code, owner, status, latest_version, created_at, updated_at) "
                          "VALUES (?, ?, 'draft', 1, ?, ?)",
                          row));
    } else {
      if (have[0].Text(0) != owner) {
        return Error(errc::kNotOwner, fmt::format("service {} belongs to {}", code, have[0].Text(0)));
      }
      if (have[0].Text(1) == "retired") return Error(errc::kRetired, fmt::format("service {} is retired", code));
      const std::int64_t latest = have[0].Int(2);
      const db::Value at[] = {code, latest};
      DZONG_ASSIGN_OR_RETURN(db::Rows current,
                             c.Query("SELECT status, created_by, created_at FROM service_versions WHERE service = ? "
                                     "AND version = ?",
                                     at));
      if (!current.empty() && current[0].Text(0) == "draft") {
        // The draft changes in place: it is no one's version yet.
        v.version = latest;
        v.created_by = current[0].Text(1);
        v.created_at = current[0].Text(2);
        const db::Value change[] = {definition.dump(), now, code, latest};
        DZONG_TRY(c.Execute("UPDATE service_versions SET definition = ?, updated_at = ? WHERE service = ? AND "
                            "version = ?",
                            change));
        const db::Value touch[] = {now, code};
        DZONG_TRY(c.Execute("UPDATE services SET updated_at = ? WHERE code = ?", touch));
        DZONG_TRY(audit::AppendWithCall(
            c, audit::For(actor, "services.draft_saved", "service", code, json({{"version", v.version}}).dump()),
            actor, 200, clock_));
        return v;
      }
      v.version = latest + 1;
      const db::Value bump[] = {v.version, now, code};
      DZONG_TRY(c.Execute("UPDATE services SET latest_version = ?, updated_at = ? WHERE code = ?", bump));
    }
    const db::Value row[] = {code, v.version, definition.dump(), actor.id, now, now};
    DZONG_TRY(c.Execute("INSERT INTO service_versions (service, version, status, definition, created_by, created_at, "
                        "updated_at) VALUES (?, ?, 'draft', ?, ?, ?, ?)",
                        row));
    DZONG_TRY(audit::AppendWithCall(
        c, audit::For(actor, "services.draft_saved", "service", code, json({{"version", v.version}}).dump()), actor,
        201, clock_));
    return v;
  });
  return saved;
}

Result<Version> ServiceCatalogue::Publish(const std::string& code, std::int64_t version, const audit::Actor& actor) {
  DZONG_ASSIGN_OR_RETURN(Service service, Get(code));
  if (!ActsFor(actor, service.owner)) {
    return Error(errc::kNotOwner, fmt::format("only designers of {} publish its services", service.owner));
  }
  DZONG_ASSIGN_OR_RETURN(Version draft, GetVersion(code, version));
  if (draft.status != "draft") {
    return Error(errc::kNotDraft, fmt::format("version {} of {} is {}: only a draft is published", version, code,
                                              draft.status));
  }
  if (service.status == "retired") return Error(errc::kRetired, fmt::format("service {} is retired", code));
  std::vector<FieldError> errors = Validate(draft.definition);
  if (!errors.empty()) return Invalid(std::move(errors));
  std::vector<FieldError> blocking;
  for (const LintFinding& f : Lint(draft.definition)) {
    if (f.blocking) blocking.push_back({f.path, f.rule, f.message});
  }
  if (!blocking.empty()) {
    return Error(errc::kLintBlocked,
                 fmt::format("{} cannot be published: the lint found {} problem{}", code, blocking.size(),
                             blocking.size() == 1 ? "" : "s"),
                 std::move(blocking));
  }
  Result<Version> published = db_.WriteValue<Version>([&](db::Connection& c) -> Result<Version> {
    const std::string now = FormatUtc(clock_.Now());
    // Publish only the draft as it was checked: a change saved meanwhile
    // (a new updated_at) makes this a conflict, not a silent publication.
    const db::Value mark[] = {actor.id, now, now, code, version, draft.updated_at};
    DZONG_ASSIGN_OR_RETURN(std::int64_t changed,
                           c.Execute("UPDATE service_versions SET status = 'published', published_by = ?, "
                                     "published_at = ?, updated_at = ? WHERE service = ? AND version = ? AND status = "
                                     "'draft' AND updated_at = ?",
                                     mark));
    if (changed != 1) {
      return Error(dzong::errc::kConflict, fmt::format("the draft of {} changed while it was being published", code));
    }
    if (service.published_version) {
      const db::Value old[] = {code, *service.published_version};
      DZONG_TRY(c.Execute("UPDATE service_versions SET status = 'superseded' WHERE service = ? AND version = ?", old));
    }
    const db::Value current[] = {version, now, code};
    DZONG_TRY(c.Execute("UPDATE services SET status = 'published', published_version = ?, updated_at = ? WHERE code = ?",
                        current));
    if (draft.definition.contains("justifications")) {
      for (const auto& j : draft.definition["justifications"]) {
        const db::Value row[] = {code,     version, j["field"].get<std::string>(), j["registry_field"].get<std::string>(),
                                 j["reason"].get<std::string>(), actor.id, now};
        DZONG_TRY(c.Execute("INSERT INTO service_justifications (service, version, field, registry_field, reason, "
                            "recorded_by, recorded_at, review) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
                            row));
      }
    }
    DZONG_TRY(audit::AppendWithCall(
        c, audit::For(actor, "services.published", "service", code, json({{"version", version}}).dump()), actor, 200,
        clock_));
    draft.status = "published";
    draft.published_by = actor.id;
    draft.published_at = now;
    draft.updated_at = now;
    return draft;
  });
  if (published.ok()) Invalidate();
  return published;
}

Result<Service> ServiceCatalogue::Retire(const std::string& code, const audit::Actor& actor) {
  DZONG_ASSIGN_OR_RETURN(Service service, Get(code));
  if (!ActsFor(actor, service.owner)) {
    return Error(errc::kNotOwner, fmt::format("only designers of {} retire its services", service.owner));
  }
  if (service.status == "retired") return service;
  DZONG_TRY(db_.Write([&](db::Connection& c) -> Status {
    const db::Value row[] = {FormatUtc(clock_.Now()), code};
    DZONG_TRY(c.Execute("UPDATE services SET status = 'retired', updated_at = ? WHERE code = ?", row));
    DZONG_TRY(audit::AppendWithCall(c, audit::For(actor, "services.retired", "service", code), actor, 200, clock_));
    return {};
  }));
  Invalidate();
  return Get(code);
}

Result<std::vector<Justification>> ServiceCatalogue::Justifications(const std::string& review) const {
  std::vector<db::Value> params;
  std::string sql = kJustificationSelect;
  if (!review.empty()) {
    sql += " WHERE j.review = ?";
    params.emplace_back(review);
  }
  sql += " ORDER BY j.id DESC";
  DZONG_ASSIGN_OR_RETURN(db::Rows rows,
                         db_.ReadValue<db::Rows>([&](db::Connection& c) { return c.Query(sql, params); }));
  std::vector<Justification> out;
  for (const auto& r : rows) out.push_back(JustificationFromRow(r));
  return out;
}

Result<Justification> ServiceCatalogue::Review(std::int64_t id, const std::string& decision, const std::string& note,
                                               const audit::Actor& actor) {
  std::vector<FieldError> errors;
  if (decision != "accepted" && decision != "questioned") {
    errors.push_back({"decision", "enum", "decision must be accepted or questioned"});
  }
  if (decision == "questioned" && note.size() < 10) {
    errors.push_back({"note", "min_length", "a questioned justification needs a note of at least 10 characters"});
  }
  if (note.size() > 2000) errors.push_back({"note", "max_length", "note must be at most 2000 characters"});
  if (!errors.empty()) return Invalid(std::move(errors));
  return db_.WriteValue<Justification>([&](db::Connection& c) -> Result<Justification> {
    const std::string now = FormatUtc(clock_.Now());
    const db::Value row[] = {decision, actor.id, now, note, id};
    DZONG_ASSIGN_OR_RETURN(std::int64_t changed,
                           c.Execute("UPDATE service_justifications SET review = ?, reviewed_by = ?, reviewed_at = ?, "
                                     "review_note = ? WHERE id = ?",
                                     row));
    if (changed != 1) return Error(errc::kJustificationNotFound, fmt::format("there is no justification {}", id));
    const db::Value key[] = {id};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(std::string(kJustificationSelect) + " WHERE j.id = ?", key));
    Justification j = JustificationFromRow(rows.front());
    DZONG_TRY(audit::AppendWithCall(c,
                                    audit::For(actor, "services.justification_reviewed", "service", j.service,
                                               json({{"justification", id}, {"review", decision}}).dump()),
                                    actor, 200, clock_));
    return j;
  });
}

Result<int> ServiceCatalogue::SeedDefinitions(const audit::Actor& seeder) {
  int added = 0;
  for (const EmbeddedFile& file : SeedFiles()) {
    const json definition = json::parse(file.content);
    const std::string code = definition["code"];
    if (Get(code).ok()) continue;
    audit::Actor designer = seeder;
    designer.organisation = definition["owner"].get<std::string>();
    DZONG_ASSIGN_OR_RETURN(Version draft, SaveDraft(definition, designer));
    auto published = Publish(code, draft.version, designer);
    if (!published.ok()) {
      std::string problems;
      for (const auto& f : published.error().fields) problems += "; " + f.field + ": " + f.message;
      return Error(published.error().code, fmt::format("{}: {}{}", file.name, published.error().message, problems));
    }
    ++added;
  }
  return added;
}

}  // namespace dzong::services
