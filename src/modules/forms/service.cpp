// The form runner's rules: drafts on a fixed service version, pre-fill
// from the registers under consent and agreement, content-addressed files,
// and one application per draft.

#include <algorithm>
#include <cctype>
#include <set>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "modules/exchange/exchange.h"
#include "modules/forms/form.h"
#include "modules/forms/forms.h"
#include "modules/registries/registries.h"
#include "modules/services/services.h"

namespace dzong {
std::span<const EmbeddedFile> FormsMigrationFiles();
}

namespace dzong::forms {
namespace {

using nlohmann::json;

constexpr char kDraftColumns[] =
    "id, service, version, applicant, consent, answers, prefilled, pages_done, created_at, updated_at, expires_at, "
    "assisted_by, assisted_centre, consent_method, consent_evidence";
constexpr char kApplicationColumns[] =
    "id, reference, service, service_version, owner, applicant, channel, answers, state, submitted_at, draft_id, "
    "submitted_by, submitted_centre, consent_method";

Draft DraftFromRow(const db::Row& r) {
  Draft d;
  d.id = r.Int(0);
  d.service = r.Text(1);
  d.version = r.Int(2);
  d.applicant = r.Text(3);
  d.consent = r.Int(4) != 0;
  d.answers = json::parse(r.Text(5));
  d.prefilled = json::parse(r.Text(6));
  d.pages_done = json::parse(r.Text(7)).get<std::vector<std::string>>();
  d.created_at = r.Text(8);
  d.updated_at = r.Text(9);
  d.expires_at = r.Text(10);
  if (!r.IsNull(11)) {
    d.assisted = Assistance{r.Text(11), r.OptText(12).value_or(""), r.OptText(13).value_or(""),
                            r.OptText(14).value_or("")};
  }
  return d;
}

Application ApplicationFromRow(const db::Row& r) {
  Application a;
  a.id = r.Int(0);
  a.reference = r.Text(1);
  a.service = r.Text(2);
  a.version = r.Int(3);
  a.owner = r.Text(4);
  a.applicant = r.Text(5);
  a.channel = r.Text(6);
  a.answers = json::parse(r.Text(7));
  a.state = r.Text(8);
  a.submitted_at = r.Text(9);
  a.draft_id = r.Int(10);
  a.submitted_by = r.OptText(11);
  a.submitted_centre = r.OptText(12);
  a.consent_method = r.OptText(13);
  return a;
}

/// The answers and the pre-filled values together, as conditions see them.
json Merged(const Draft& d) {
  json all = d.answers.is_object() ? d.answers : json::object();
  for (const auto& [id, source] : d.prefilled.items()) all[id] = source.at("value");
  return all;
}

std::string Purpose(const std::string& code) { return "service:" + code; }

/// The rows a holder may touch: a citizen's own (never an operator's
/// draft for them), or the ones an operator started.
std::string DraftsOf(const Holder& h) { return h.assisting ? "assisted_by = ?" : "applicant = ? AND assisted_by IS NULL"; }

/// A citizen sees every application made for them; an operator those they sent.
std::string ApplicationsOfHolder(const Holder& h) { return h.assisting ? "submitted_by = ?" : "applicant = ?"; }

Result<std::optional<Application>> FindSubmitted(db::Connection& c, std::int64_t draft_id, const Holder& holder) {
  const db::Value key[] = {draft_id, holder.id};
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(std::string("SELECT ") + kApplicationColumns +
                                                    " FROM applications WHERE draft_id = ? AND " +
                                                    ApplicationsOfHolder(holder),
                                                key));
  if (rows.empty()) return std::optional<Application>();
  return std::optional<Application>(ApplicationFromRow(rows[0]));
}

}  // namespace

std::span<const EmbeddedFile> Migrations() { return FormsMigrationFiles(); }

FormService::FormService(db::Database& db, const Clock& clock, services::ServiceCatalogue& catalogue,
                         registries::RegistryService& registries, exchange::ExchangeService& exchange,
                         std::string data_dir, std::chrono::seconds draft_lifetime)
    : db_(db),
      clock_(clock),
      catalogue_(catalogue),
      registries_(registries),
      exchange_(exchange),
      data_dir_(std::move(data_dir)),
      draft_lifetime_(draft_lifetime) {}

Result<std::vector<PrefillSource>> FormService::PrefillSources(const json& definition) {
  const std::string owner = definition.value("owner", "");
  const std::string now = FormatUtc(clock_.Now());
  std::optional<std::vector<exchange::Agreement>> agreements;
  std::vector<PrefillSource> out;
  for (const auto& page : definition["form"]["pages"]) {
    for (const auto& field : page["fields"]) {
      if (!field.contains("prefill")) continue;
      const json& p = field["prefill"];
      PrefillSource s;
      s.field = field.value("id", "");
      s.registry = p.value("registry", "");
      s.registry_field = p.value("field", "");
      auto registry = registries_.Get(s.registry);
      if (!registry.ok()) {
        out.push_back(std::move(s));
        continue;
      }
      s.custodian = registry->custodian;
      if (s.custodian == owner) {
        // The owner keeps the register: its own data needs no agreement.
        s.allowed = true;
      } else {
        if (!agreements) {
          DZONG_ASSIGN_OR_RETURN(auto list, exchange_.ForOrganisation(owner));
          agreements = std::move(list);
        }
        for (const auto& a : *agreements) {
          const bool covers = std::find(a.fields.begin(), a.fields.end(), s.registry_field) != a.fields.end();
          if (a.consumer == owner && a.registry == s.registry && a.status == "approved" && covers &&
              a.valid_from <= now && now < a.valid_to) {
            s.allowed = true;
            s.agreement = a.id;
            break;
          }
        }
      }
      out.push_back(std::move(s));
    }
  }
  return out;
}

Result<std::vector<std::string>> FormService::ReadableFields(const std::string& owner, const std::string& registry,
                                                            const std::string& purpose, const std::string& subject) {
  DZONG_ASSIGN_OR_RETURN(registries::Registry reg, registries_.Get(registry));
  std::vector<std::string> fields;
  if (reg.custodian == owner) {
    // The owner keeps the register: its own data needs no agreement.
    for (const auto& f : reg.fields) fields.push_back(f.name);
    return fields;
  }
  const std::string now = FormatUtc(clock_.Now());
  DZONG_ASSIGN_OR_RETURN(auto agreements, exchange_.ForOrganisation(owner));
  for (const auto& a : agreements) {
    if (a.consumer != owner || a.registry != registry || a.status != "approved" || a.purpose_code != purpose ||
        !(a.valid_from <= now && now < a.valid_to)) {
      continue;
    }
    // An agreement on the person's consent reads nothing once they withdraw it.
    if (a.legal_basis == "consent" && !exchange_.RequireConsent(a, subject).ok()) continue;
    for (const auto& f : a.fields) {
      if (std::find(fields.begin(), fields.end(), f) == fields.end()) fields.push_back(f);
    }
  }
  return fields;
}

Status FormService::Prefill(Draft& draft, const services::Version& version, std::vector<audit::Event>& reads,
                            const audit::Actor& actor) {
  const json& definition = version.definition;
  // Drop what no longer shows, and what hangs on an answer that changed.
  json merged = Merged(draft);
  const json kept = Prune(definition, merged);
  for (auto it = draft.prefilled.begin(); it != draft.prefilled.end();) {
    if (!kept.contains(it.key())) {
      it = draft.prefilled.erase(it);
    } else {
      ++it;
    }
  }
  json answers = json::object();
  for (const auto& [id, value] : kept.items()) {
    if (!draft.prefilled.contains(id)) answers[id] = value;
  }
  draft.answers = std::move(answers);
  if (!draft.consent) return {};
  DZONG_ASSIGN_OR_RETURN(std::vector<PrefillSource> sources, PrefillSources(definition));
  // In form order, so that a pre-filled CID can be the subject of a later field.
  for (const auto& page : definition["form"]["pages"]) {
    merged = Merged(draft);
    if (!Shows(page, Prune(definition, merged))) continue;
    for (const auto& field : page["fields"]) {
      if (!field.contains("prefill")) continue;
      const std::string id = field.value("id", "");
      const auto source = std::find_if(sources.begin(), sources.end(), [&](const auto& s) { return s.field == id; });
      if (source == sources.end() || !source->allowed) continue;
      merged = Merged(draft);
      if (!Shows(field, merged)) continue;
      const json& p = field["prefill"];
      const std::string subject_field = p.value("subject", "applicant");
      std::string subject = draft.applicant;
      if (subject_field != "applicant") {
        if (!merged.contains(subject_field) || !merged[subject_field].is_string()) continue;
        subject = merged[subject_field].get<std::string>();
      }
      std::string key = subject;
      if (p.contains("key")) {
        const std::string key_field = p.value("key", "");
        if (!merged.contains(key_field) || !merged[key_field].is_string()) continue;
        key = merged[key_field].get<std::string>();
      }
      if (draft.prefilled.contains(id) && draft.prefilled[id].value("key", "") == key) continue;
      draft.prefilled.erase(id);
      auto registry = registries_.Get(source->registry);
      if (!registry.ok()) continue;
      auto record = registries_.GetRecord(source->registry, key, std::nullopt);
      if (!record.ok()) {
        if (record.error().code == registries::errc::kRecordNotFound) continue;  // asked as an input instead
        return record.error();
      }
      if (registry->key_field != "cid") {
        // A plot or a licence is read only when it names the person: a key
        // typed in is no way into someone else's record.
        const auto people = registries::PeopleIn(*registry, *record);
        if (std::find(people.begin(), people.end(), subject) == people.end()) continue;
      }
      const json data = json::parse(record->data);
      if (!data.contains(source->registry_field) || data[source->registry_field].is_null()) continue;
      // The person the record is about: the key of a register kept by CID,
      // else the person whose answer led to it.
      const std::string person = registry->key_field == "cid" ? key : subject;
      draft.prefilled[id] = {{"value", data[source->registry_field]},
                             {"registry", source->registry},
                             {"field", source->registry_field},
                             {"key", key},
                             {"subject", person},
                             {"valid_from", record->valid_from},
                             {"custodian", source->custodian}};
      draft.answers.erase(id);
      audit::Event read = audit::For(actor, "forms.prefill_read", "record", source->registry + "/" + key,
                                     json({{"service", draft.service},
                                           {"version", draft.version},
                                           {"field", source->registry_field},
                                           {"form_field", id},
                                           {"agreement", source->agreement ? json(*source->agreement) : json()}})
                                         .dump());
      // The owner's form service reads, on the applicant's behalf: the
      // person's data tracker shows who read it (their own acts it leaves out).
      const std::string owner = definition.value("owner", "");
      read.actor = fmt::format("BT/GOV/{}/FORMS", owner);
      read.actor_organisation = owner;
      read.actor_role = "system";
      read.subject = person;
      read.purpose = Purpose(draft.service);
      reads.push_back(std::move(read));
    }
  }
  return {};
}

Result<Draft> FormService::NewDraft(const std::string& code, const std::string& applicant, bool consent,
                                    const audit::Actor& actor, const std::optional<Assistance>& assisted,
                                    services::Version& version, std::vector<audit::Event>& reads) {
  DZONG_ASSIGN_OR_RETURN(services::Service service, catalogue_.GetPublished(code));
  if (!service.published_version) return Error(services::errc::kNotFound, fmt::format("{} is not published", code));
  DZONG_ASSIGN_OR_RETURN(version, catalogue_.GetVersion(code, *service.published_version));
  const auto now = clock_.Now();
  Draft d;
  d.service = code;
  d.version = version.version;
  d.applicant = applicant;
  d.consent = consent;
  d.created_at = FormatUtc(now);
  d.updated_at = d.created_at;
  d.expires_at = FormatUtc(now + draft_lifetime_);
  d.assisted = assisted;
  if (consent) {
    // Consent artefacts for the registers read under another agency's
    // agreement, valid as long as the draft.
    DZONG_ASSIGN_OR_RETURN(std::vector<PrefillSource> sources, PrefillSources(version.definition));
    std::map<std::string, std::vector<std::string>> by_registry;
    for (const auto& s : sources) {
      if (s.allowed && s.agreement) {
        auto& fields = by_registry[s.registry];
        if (std::find(fields.begin(), fields.end(), s.registry_field) == fields.end()) fields.push_back(s.registry_field);
      }
    }
    audit::Actor giver = actor;
    giver.call.reset();  // the route's call is recorded with the draft
    for (const auto& [registry, fields] : by_registry) {
      exchange::Consent c;
      c.subject = applicant;
      c.consumer = version.definition.value("owner", "");
      c.registry = registry;
      c.purpose_code = Purpose(code);
      c.fields = fields;
      c.valid_to = d.expires_at;
      DZONG_TRY(exchange_.GiveConsent(c, giver));
    }
    DZONG_TRY(Prefill(d, version, reads, actor));
  }
  // A draft's id is random: SQLite would hand the highest id out again
  // once that draft is submitted and removed, and the application made from
  // it is found by it; nor can one be guessed from another.
  std::uint64_t random = 0;
  const std::string bytes = RandomBytes(sizeof random);
  std::memcpy(&random, bytes.data(), sizeof random);
  d.id = static_cast<std::int64_t>(random % ((std::uint64_t{1} << 53) - 1)) + 1;  // exact in a JavaScript number
  return d;
}

Result<Draft> FormService::Start(const std::string& code, const std::string& applicant, bool consent,
                                 const audit::Actor& actor, const std::optional<Assistance>& assisted,
                                 const std::optional<std::pair<StoredFile, std::string>>& scan,
                                 std::optional<std::int64_t> code_id) {
  services::Version version;
  std::vector<audit::Event> reads;
  DZONG_ASSIGN_OR_RETURN(Draft d, NewDraft(code, applicant, consent, actor, assisted, version, reads));
  if (scan) DZONG_TRY(StoreBytes(scan->first.sha256, scan->second));
  return db_.WriteValue<Draft>([&](db::Connection& c) -> Result<Draft> {
    const auto optional = [](const std::optional<std::string>& v) { return v ? db::Value(*v) : db::Value(nullptr); };
    const db::Value row[] = {d.id,
                             d.service,
                             d.version,
                             d.applicant,
                             std::int64_t{d.consent ? 1 : 0},
                             d.answers.dump(),
                             d.prefilled.dump(),
                             json(d.pages_done).dump(),
                             d.created_at,
                             d.updated_at,
                             d.expires_at,
                             optional(assisted ? std::optional(assisted->assisted_by) : std::nullopt),
                             optional(assisted ? std::optional(assisted->centre) : std::nullopt),
                             optional(assisted ? std::optional(assisted->method) : std::nullopt),
                             optional(assisted ? std::optional(assisted->evidence) : std::nullopt)};
    DZONG_TRY(c.Execute("INSERT INTO form_drafts (id, service, version, applicant, consent, answers, prefilled, "
                        "pages_done, created_at, updated_at, expires_at, assisted_by, assisted_centre, consent_method, "
                        "consent_evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        row));
    if (assisted) DZONG_TRY(RecordAssistedConsent(c, d, *assisted, scan, code_id, actor));
    json detail = {{"service", code}, {"version", d.version}, {"consent", consent}};
    if (assisted) detail["assisted_by"] = assisted->assisted_by;
    audit::Event started = audit::For(actor, "forms.draft_started", "draft", std::to_string(d.id), detail.dump());
    started.subject = applicant;
    if (assisted) started.purpose = AssistedPurpose(code);
    DZONG_TRY(audit::AppendWithCall(c, started, actor, 303, clock_));
    for (auto& read : reads) read.object_id += " (draft " + std::to_string(d.id) + ")";
    if (!reads.empty()) DZONG_TRY(audit::AppendAll(c, reads, clock_));
    return d;
  });
}

Result<Draft> FormService::Get(std::int64_t id, const Holder& holder) {
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, db_.ReadValue<db::Rows>([&](db::Connection& c) {
                           const db::Value key[] = {id, holder.id};
                           return c.Query(std::string("SELECT ") + kDraftColumns + " FROM form_drafts WHERE id = ? AND " +
                                              DraftsOf(holder),
                                          key);
                         }));
  if (rows.empty()) return Error(errc::kDraftNotFound, fmt::format("you have no draft {}", id));
  Draft d = DraftFromRow(rows[0]);
  if (FormatUtc(clock_.Now()) >= d.expires_at) {
    DZONG_TRY(db_.Write([&](db::Connection& c) -> Status {
      const db::Value key[] = {id, holder.id};
      DZONG_TRY(c.Execute("DELETE FROM form_drafts WHERE id = ? AND " + DraftsOf(holder), key));
      return {};
    }));
    return Error(errc::kDraftExpired, fmt::format("draft {} expired at {}", id, d.expires_at));
  }
  return d;
}

Result<std::vector<Draft>> FormService::Drafts(const std::string& applicant) {
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, db_.ReadValue<db::Rows>([&](db::Connection& c) {
                           const db::Value key[] = {applicant};
                           return c.Query(std::string("SELECT ") + kDraftColumns +
                                              " FROM form_drafts WHERE applicant = ? AND assisted_by IS NULL ORDER BY created_at DESC",
                                          key);
                         }));
  const std::string now = FormatUtc(clock_.Now());
  std::vector<Draft> out;
  bool expired = false;
  for (const auto& r : rows) {
    Draft d = DraftFromRow(r);
    if (now >= d.expires_at) {
      expired = true;
      continue;
    }
    out.push_back(std::move(d));
  }
  if (expired) {
    DZONG_TRY(db_.Write([&](db::Connection& c) -> Status {
      const db::Value key[] = {applicant, now};
      DZONG_TRY(c.Execute("DELETE FROM form_drafts WHERE applicant = ? AND assisted_by IS NULL AND expires_at <= ?", key));
      return {};
    }));
  }
  return out;
}

Result<std::vector<Draft>> FormService::DraftsWhere(const std::string& condition, const std::string& value) {
  const std::string now = FormatUtc(clock_.Now());
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, db_.ReadValue<db::Rows>([&](db::Connection& c) {
                           const db::Value key[] = {value, now};
                           return c.Query(std::string("SELECT ") + kDraftColumns + " FROM form_drafts WHERE " +
                                              condition + " AND expires_at > ? ORDER BY created_at DESC",
                                          key);
                         }));
  std::vector<Draft> out;
  for (const auto& r : rows) out.push_back(DraftFromRow(r));
  return out;
}

Result<std::vector<Application>> FormService::ApplicationsWhere(const std::string& condition, const std::string& value) {
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, db_.ReadValue<db::Rows>([&](db::Connection& c) {
                           const db::Value key[] = {value};
                           return c.Query(std::string("SELECT ") + kApplicationColumns + " FROM applications WHERE " +
                                              condition + " ORDER BY id DESC",
                                          key);
                         }));
  std::vector<Application> out;
  for (const auto& r : rows) out.push_back(ApplicationFromRow(r));
  return out;
}

Result<services::Version> FormService::VersionOf(const Draft& draft) {
  return catalogue_.GetVersion(draft.service, draft.version);
}

std::vector<std::string> FormService::PagesToDo(const Draft& draft, const json& definition) const {
  std::vector<std::string> out;
  for (const json* page : VisiblePages(definition, Merged(draft))) {
    const std::string id = page->value("id", "");
    if (std::find(draft.pages_done.begin(), draft.pages_done.end(), id) == draft.pages_done.end()) out.push_back(id);
  }
  return out;
}

Status FormService::ApplyPage(Draft& d, const services::Version& version, const json& page,
                              const json& page_answers, std::vector<audit::Event>& reads,
                              const audit::Actor& actor) {
  const std::string page_id = page.value("id", "");
  // The page's fields take exactly the answers given now.
  for (const auto& field : page["fields"]) d.answers.erase(field.value("id", ""));
  for (const auto& [key, value] : page_answers.items()) d.answers[key] = value;
  if (std::find(d.pages_done.begin(), d.pages_done.end(), page_id) == d.pages_done.end()) d.pages_done.push_back(page_id);
  DZONG_TRY(Prefill(d, version, reads, actor));
  // Pages that no longer show are no longer done, nor are pages where an
  // answer changed elsewhere now shows a required field with no answer.
  const json all = Merged(d);
  std::vector<std::string> complete;
  for (const json* p : VisiblePages(version.definition, all)) {
    bool answered = true;
    for (const auto& field : (*p)["fields"]) {
      const json* document = DocumentOf(version.definition, field);
      const bool required = field.value("required", false) || (document && document->value("required", false));
      if (required && Shows(field, all) && !all.contains(field.value("id", ""))) answered = false;
    }
    if (answered) complete.push_back(p->value("id", ""));
  }
  std::erase_if(d.pages_done, [&](const std::string& p) {
    return std::find(complete.begin(), complete.end(), p) == complete.end();
  });
  return {};
}

Result<Draft> FormService::SavePage(std::int64_t id, const Holder& holder, const std::string& page_id,
                                    const json& page_answers, const std::vector<StoredFile>& files,
                                    const std::vector<std::string>& bodies, const audit::Actor& actor) {
  DZONG_ASSIGN_OR_RETURN(Draft d, Get(id, holder));
  DZONG_ASSIGN_OR_RETURN(services::Version version, VersionOf(d));
  const json* page = FindPage(version.definition, page_id);
  if (!page) return Error(errc::kPageNotFound, fmt::format("{} has no page {}", d.service, page_id));
  std::vector<audit::Event> reads;
  DZONG_TRY(ApplyPage(d, version, *page, page_answers, reads, actor));
  for (std::size_t i = 0; i < files.size() && i < bodies.size(); ++i) DZONG_TRY(StoreBytes(files[i].sha256, bodies[i]));
  d.updated_at = FormatUtc(clock_.Now());
  return db_.WriteValue<Draft>([&](db::Connection& c) -> Result<Draft> {
    const db::Value row[] = {d.answers.dump(), d.prefilled.dump(), json(d.pages_done).dump(), d.updated_at, id, holder.id};
    DZONG_ASSIGN_OR_RETURN(std::int64_t changed,
                           c.Execute("UPDATE form_drafts SET answers = ?, prefilled = ?, pages_done = ?, updated_at = ? "
                                     "WHERE id = ? AND " +
                                         DraftsOf(holder),
                                     row));
    if (changed != 1) return Error(errc::kDraftNotFound, fmt::format("you have no draft {}", id));
    for (const StoredFile& f : files) {
      const db::Value upload[] = {f.sha256, f.size, f.media_type, f.original_name, holder.id, d.updated_at};
      DZONG_TRY(c.Execute("INSERT INTO uploads (sha256, size, media_type, original_name, uploaded_by, uploaded_at) "
                          "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256, uploaded_by) DO NOTHING",
                          upload));
    }
    json uploaded = json::array();
    for (const StoredFile& f : files) uploaded.push_back(f.sha256);
    audit::Event saved = audit::For(actor, "forms.draft_saved", "draft", std::to_string(id),
                                    json({{"service", d.service}, {"page", page_id}, {"files", uploaded}}).dump());
    saved.subject = d.applicant;
    if (d.assisted) saved.purpose = AssistedPurpose(d.service);
    DZONG_TRY(audit::AppendWithCall(c, saved, actor, 303, clock_));
    for (auto& read : reads) read.object_id += " (draft " + std::to_string(id) + ")";
    if (!reads.empty()) DZONG_TRY(audit::AppendAll(c, reads, clock_));
    return d;
  });
}

Application FormService::ApplicationFrom(const Draft& d, const services::Version& version, const Holder& holder,
                                         const Channel& channel, std::chrono::system_clock::time_point now) const {
  Application a;
  a.service = d.service;
  a.version = d.version;
  a.owner = version.definition.value("owner", "");
  a.applicant = d.applicant;
  a.channel = d.assisted ? "community_centre" : channel.name;
  if (d.assisted) {
    a.submitted_by = holder.id;
    a.submitted_centre = d.assisted->centre;
    a.consent_method = d.assisted->method;
  }
  a.answers = Prune(version.definition, Merged(d));
  a.state = version.definition["workflow"].value("initial", "");
  a.draft_id = d.id;
  a.submitted_at = FormatUtc(now);
  return a;
}

Status FormService::RecordApplication(db::Connection& c, Application& a, const Draft& d,
                                      const services::Version& version, const Channel& channel,
                                      const audit::Actor& actor, std::chrono::system_clock::time_point now) {
  const int year = static_cast<int>(std::chrono::year_month_day(BhutanToday(now)).year());
  const db::Value counter[] = {a.owner, std::int64_t{year}};
  DZONG_ASSIGN_OR_RETURN(db::Rows next,
                         c.Query("INSERT INTO application_sequences (owner, year, last_number) VALUES (?, ?, 1) "
                                 "ON CONFLICT (owner, year) DO UPDATE SET last_number = "
                                 "application_sequences.last_number + 1 RETURNING last_number",
                                 counter));
  a.reference = fmt::format("{}-{}-{:06}", a.owner, year, next.at(0).Int(0));
  const auto optional = [](const std::optional<std::string>& v) { return v ? db::Value(*v) : db::Value(nullptr); };
  const db::Value row[] = {a.reference,      a.service, a.version,      a.owner,    a.applicant,
                           a.channel,        a.answers.dump(), a.state, a.submitted_at, a.draft_id,
                           optional(a.submitted_by), optional(a.submitted_centre), optional(a.consent_method),
                           optional(d.assisted ? std::optional(d.assisted->evidence) : std::nullopt)};
  DZONG_ASSIGN_OR_RETURN(db::Rows made,
                         c.Query("INSERT INTO applications (reference, service, service_version, owner, applicant, "
                                 "channel, answers, state, submitted_at, draft_id, submitted_by, submitted_centre, "
                                 "consent_method, consent_evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                 "RETURNING id",
                                 row));
  a.id = made.at(0).Int(0);
  json detail = {{"service", a.service}, {"version", a.version}, {"state", a.state}, {"draft", d.id},
                 {"channel", a.channel}};
  if (a.submitted_by) detail["submitted_by"] = *a.submitted_by;
  audit::Event submitted = audit::For(actor, "forms.application_submitted", "application", a.reference, detail.dump());
  submitted.subject = a.applicant;
  submitted.purpose = Purpose(a.service);
  if (d.assisted) DZONG_TRY(NotifySubmittedForYou(c, a, version.definition));
  DZONG_TRY(audit::AppendWithCall(c, submitted, actor, 303, clock_));
  if (on_submit_) DZONG_TRY(on_submit_(c, a, version.definition, actor));
  if (!channel.idempotency_key.empty()) {
    const db::Value request[] = {a.applicant, channel.idempotency_key, channel.request_hash, a.id, a.submitted_at};
    DZONG_ASSIGN_OR_RETURN(std::int64_t kept,
                           c.Execute("INSERT INTO application_requests (applicant, idempotency_key, request_hash, "
                                     "application_id, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                     request));
    // Another request with the key got there first: this one makes nothing.
    if (kept == 0) return Error(errc::kIdempotencyConflict, "an application was already made with this key");
  }
  return {};
}

Result<Application> FormService::SubmittedFrom(std::int64_t draft_id, const Holder& holder) {
  DZONG_ASSIGN_OR_RETURN(auto found, db_.ReadValue<std::optional<Application>>(
                                         [&](db::Connection& c) { return FindSubmitted(c, draft_id, holder); }));
  if (!found) return Error(errc::kDraftNotFound, fmt::format("you have no application from draft {}", draft_id));
  return *found;
}

Result<Application> FormService::Submit(std::int64_t id, const Holder& holder, const audit::Actor& actor) {
  return SubmitVia(id, holder, actor, Channel{});
}

Result<Application> FormService::SubmitVia(std::int64_t id, const Holder& holder, const audit::Actor& actor,
                                           const Channel& channel) {
  auto draft = Get(id, holder);
  if (!draft.ok()) {
    // Sent twice: the first made the application and removed the draft.
    if (draft.error().code == errc::kDraftNotFound) {
      auto made = SubmittedFrom(id, holder);
      if (made.ok()) return made;
    }
    return std::move(draft).error();
  }
  DZONG_ASSIGN_OR_RETURN(services::Version version, VersionOf(*draft));
  const std::vector<std::string> to_do = PagesToDo(*draft, version.definition);
  if (!to_do.empty()) return Error(errc::kIncomplete, fmt::format("page {} still needs an answer", to_do.front()));
  const auto now = clock_.Now();
  Application a = ApplicationFrom(*draft, version, holder, channel, now);
  return db_.WriteValue<Application>([&](db::Connection& c) -> Result<Application> {
    // Removing the draft first serialises two submissions of it: the
    // second waits for the first, then finds no draft and its application.
    const db::Value key[] = {id, holder.id};
    DZONG_ASSIGN_OR_RETURN(std::int64_t removed,
                           c.Execute("DELETE FROM form_drafts WHERE id = ? AND " + DraftsOf(holder), key));
    if (removed != 1) {
      DZONG_ASSIGN_OR_RETURN(auto made, FindSubmitted(c, id, holder));
      if (made) return *made;
      return Error(errc::kDraftNotFound, fmt::format("you have no draft {}", id));
    }
    DZONG_TRY(RecordApplication(c, a, *draft, version, channel, actor, now));
    return a;
  });
}

Result<std::optional<Application>> FormService::Replayed(const std::string& applicant, const std::string& key,
                                                         const std::string& hash) {
  return db_.ReadValue<std::optional<Application>>([&](db::Connection& c) -> Result<std::optional<Application>> {
    const db::Value k[] = {applicant, key};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query("SELECT request_hash, application_id FROM application_requests "
                                                  "WHERE applicant = ? AND idempotency_key = ?",
                                                  k));
    if (rows.empty()) return std::optional<Application>();
    if (rows[0].Text(0) != hash) {
      return Invalid({{"Idempotency-Key", "reused",
                       "This Idempotency-Key was used for another request: use a new key for a new application"}});
    }
    const db::Value id[] = {rows[0].Int(1)};
    DZONG_ASSIGN_OR_RETURN(db::Rows made, c.Query(std::string("SELECT ") + kApplicationColumns +
                                                      " FROM applications WHERE id = ?",
                                                  id));
    if (made.empty()) return Error(dzong::errc::kInternal, "an idempotency key names no application");
    return std::optional<Application>(ApplicationFromRow(made[0]));
  });
}

Result<Application> FormService::SubmitAnswers(const std::string& code, const std::string& applicant, bool consent,
                                               const json& answers, const std::string& key, const audit::Actor& actor) {
  const bool key_ok = key.size() >= 8 && key.size() <= 128 && std::all_of(key.begin(), key.end(), [](char ch) {
                        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
                      });
  if (!key_ok) {
    return Invalid({{"Idempotency-Key", "pattern",
                     "Send an Idempotency-Key header of 8 to 128 letters, digits, '-', '_' or '.', new for each "
                     "application and the same when you retry it"}});
  }
  if (!answers.is_object()) return Invalid({{"answers", "type", "answers is an object of field id to answer"}});
  const std::string hash = Sha256Hex(code + "\n" + (consent ? "1" : "0") + "\n" + answers.dump());
  DZONG_ASSIGN_OR_RETURN(auto earlier, Replayed(applicant, key, hash));
  if (earlier) return *earlier;

  // The draft lives only in memory: the application, its audit records,
  // the workflow's first event and the key are one transaction, so one
  // commit on disk answers the request.
  services::Version version;
  std::vector<audit::Event> reads;
  DZONG_ASSIGN_OR_RETURN(Draft draft, NewDraft(code, applicant, consent, actor, std::nullopt, version, reads));
  const json& definition = version.definition;
  const auto today = BhutanToday(clock_.Now());
  std::vector<FieldError> problems;
  std::set<std::string> asked;
  for (const auto& page : definition["form"]["pages"]) {
    json before = draft.answers;
    for (const auto& [id, source] : draft.prefilled.items()) before[id] = source.at("value");
    for (const auto& field : page["fields"]) asked.insert(field.value("id", ""));
    if (!Shows(page, before)) continue;
    PageInput read = ReadPage(definition, page, before, draft.prefilled, InputsFrom(page, answers), {}, today);
    for (const Problem& p : read.problems) {
      std::string values;
      for (const auto& [name, value] : p.values) values += fmt::format("{}{} {}", values.empty() ? " (" : ", ", name, value);
      problems.push_back({"answers." + p.id, p.rule,
                          fmt::format("{}: the answer breaks the rule '{}'{}", services::TextIn(p.label, "en"), p.rule,
                                      values.empty() ? "" : values + ")")});
    }
    if (!problems.empty()) continue;
    DZONG_TRY(ApplyPage(draft, version, page, read.answers, reads, actor));
  }
  for (const auto& [id, value] : answers.items()) {
    if (!asked.contains(id)) problems.push_back({"answers." + id, "unknown", fmt::format("{} has no field {}", code, id)});
  }
  if (!problems.empty()) return Invalid(std::move(problems));
  const std::vector<std::string> to_do = PagesToDo(draft, definition);
  if (!to_do.empty()) return Error(errc::kIncomplete, fmt::format("page {} still needs an answer", to_do.front()));
  const Channel channel{"api", key, hash};
  const auto now = clock_.Now();
  Application a = ApplicationFrom(draft, version, applicant, channel, now);
  auto made = db_.WriteValue<Application>([&](db::Connection& c) -> Result<Application> {
    DZONG_TRY(RecordApplication(c, a, draft, version, channel, actor, now));
    for (auto& read : reads) read.object_id += " (application " + a.reference + ")";
    if (!reads.empty()) DZONG_TRY(audit::AppendAll(c, reads, clock_));
    return a;
  });
  if (!made.ok() && made.error().code == errc::kIdempotencyConflict) {
    DZONG_ASSIGN_OR_RETURN(auto winner, Replayed(applicant, key, hash));
    if (winner) return *winner;
  }
  return made;
}

}  // namespace dzong::forms
