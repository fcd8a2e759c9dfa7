// Issuing, finding, verifying and revoking certificates.
#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "base/crypto.h"
#include "base/jcs.h"
#include "modules/certificates/certificates.h"
#include "modules/certificates/internal.h"
#include "modules/keys/keys.h"
#include "modules/notify/notify.h"
#include "modules/organisations/organisations.h"
#include "modules/services/services.h"

namespace dzong {
std::span<const EmbeddedFile> CertificateMigrationFiles();
}

namespace dzong::certificates {
namespace {

using nlohmann::json;

constexpr char kColumns[] =
    "id, application_id, application_reference, service, service_version, template, issuer, holder, payload, "
    "issued_at, expires_at, kid, signature, status_list, status_index, status, revoked_at, revoked_by, "
    "revocation_reason";

Certificate FromRow(const db::Row& r) {
  Certificate c;
  c.id = r.Text(0);
  c.application_id = r.Int(1);
  c.application_reference = r.Text(2);
  c.service = r.Text(3);
  c.service_version = r.Int(4);
  c.template_id = r.Text(5);
  c.issuer = r.Text(6);
  c.holder = r.Text(7);
  c.payload = r.Text(8);
  c.issued_at = r.Text(9);
  c.expires_at = r.OptText(10);
  c.signature.kid = r.Text(11);
  c.signature.bytes = Base64UrlDecode(r.Text(12)).value_or(std::string());
  c.status_list = r.Int(13);
  c.status_index = r.Int(14);
  c.status = r.Text(15);
  c.revoked_at = r.OptText(16);
  c.revoked_by = r.OptText(17);
  c.revocation_reason = r.OptText(18);
  return c;
}

/// The form field `id` of a definition, looked for through pages and groups.
/// The pointer is into `fields`, which must outlive it.
const json* FindField(const json& fields, const std::string& id) {
  if (!fields.is_array()) return nullptr;
  for (const auto& f : fields) {
    if (f.value("id", "") == id) return &f;
    if (f.contains("fields")) {
      if (const json* inner = FindField(f["fields"], id)) return inner;
    }
  }
  return nullptr;
}

const json* FormField(const json& definition, const std::string& id) {
  if (!definition.contains("form") || !definition["form"].contains("pages")) return nullptr;
  for (const auto& page : definition["form"]["pages"]) {
    if (!page.contains("fields")) continue;
    if (const json* f = FindField(page["fields"], id)) return f;
  }
  return nullptr;
}

/// An answer as a certificate prints it: a choice by its labels in both
/// languages, an address by its parts, anything else as written.
std::string Shown(const json& answer, const json* field) {
  if (answer.is_string()) {
    const std::string& value = answer.get_ref<const std::string&>();
    if (field) {
      for (const auto& option : field->value("options", json::array())) {
        if (option.value("value", "") != value) continue;
        const json label = option.value("label", json::object());
        const std::string en = label.value("en", value);
        const std::string dz = label.value("dz", "");
        return dz.empty() ? en : en + " / " + dz;
      }
    }
    return value;
  }
  if (answer.is_object()) {
    std::vector<std::string> parts;
    for (const auto& [key, part] : answer.items()) {
      if (part.is_string() && !part.get<std::string>().empty()) parts.push_back(part.get<std::string>());
    }
    return fmt::format("{}", fmt::join(parts, ", "));
  }
  if (answer.is_null()) return "";
  return answer.dump();
}

/// "birth-certificate" → "BIRTH"; "security-clearance-certificate" → "SECURITY-CLEARANCE".
std::string TypeCode(std::string template_id) {
  if (template_id.ends_with("-certificate") && template_id.size() > 12) template_id.resize(template_id.size() - 12);
  std::transform(template_id.begin(), template_id.end(), template_id.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  return template_id;
}

/// Ten characters of Crockford's base32: 50 random bits, read aloud without
/// confusing 0 and O or 1 and I.
std::string RandomCode() {
  constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  const std::string bytes = RandomBytes(10);
  std::string out;
  for (char b : bytes) out += kAlphabet[static_cast<unsigned char>(b) % 32];
  return out;
}

/// The same time of day `days` later: "2026-11-30T09:00:00.123456Z" + 365.
std::string AddDays(const std::string& utc, std::int64_t days) {
  auto day = ParseDate(std::string_view(utc).substr(0, 10));
  if (!day) return utc;
  const std::chrono::sys_days later = *day + std::chrono::days(days);
  return FormatUtc(later).substr(0, 10) + utc.substr(10);
}

}  // namespace

std::span<const EmbeddedFile> Migrations() { return CertificateMigrationFiles(); }

CertificateService::CertificateService(db::Database& db, const Clock& clock, keys::KeyRing& keys,
                                       services::ServiceCatalogue& services,
                                       organisations::OrganisationService& organisations, Settings settings)
    : db_(db), clock_(clock), keys_(keys), services_(services), organisations_(organisations),
      settings_(std::move(settings)) {}

std::string CertificateService::VerifyUrl(const std::string& id) const { return settings_.site_url + "/verify/" + id; }

Result<std::string> CertificateService::Issue(db::Connection& c, std::int64_t application_id, const std::string& now) {
  const db::Value key[] = {application_id};
  DZONG_ASSIGN_OR_RETURN(db::Rows apps, c.Query("SELECT reference, service, service_version, applicant, owner, answers "
                                                "FROM applications WHERE id = ?",
                                                key));
  if (apps.empty()) return Error(errc::kNotFound, fmt::format("there is no application {}", application_id));
  DZONG_ASSIGN_OR_RETURN(db::Rows issued, c.Query("SELECT id FROM certificates WHERE application_id = ?", key));
  if (!issued.empty()) return issued[0].Text(0);  // entered the issuing state again: one certificate per application
  const db::Row& a = apps[0];
  DZONG_ASSIGN_OR_RETURN(services::Version version, services_.GetVersion(a.Text(1), a.Int(2)));
  const json& definition = version.definition;
  if (!definition.contains("certificate")) {
    return Error(errc::kNoTemplate, fmt::format("the service {} has no certificate template", a.Text(1)));
  }
  const json& tmpl = definition["certificate"];
  const json answers = json::parse(a.Text(5), nullptr, false);
  json fields = json::object();
  for (const auto& f : tmpl.value("fields", json::array())) {
    const std::string id = f.value("field", "");
    fields[id] = answers.is_object() && answers.contains(id) ? Shown(answers[id], FormField(definition, id)) : "";
  }
  Certificate cert;
  cert.application_id = application_id;
  cert.application_reference = a.Text(0);
  cert.service = a.Text(1);
  cert.service_version = a.Int(2);
  cert.template_id = tmpl.value("template", "certificate");
  cert.holder = a.Text(3);
  cert.issuer = a.Text(4);
  cert.id = fmt::format("{}-{}-{}", cert.issuer, TypeCode(cert.template_id), RandomCode());
  cert.issued_at = now;
  if (tmpl.contains("valid_days")) cert.expires_at = AddDays(now, tmpl["valid_days"].get<std::int64_t>());
  // A place in the newest status list that is not half full, chosen at
  // random so that a list's bits say nothing about the order of issue.
  DZONG_ASSIGN_OR_RETURN(db::Rows lists, c.Query("SELECT COALESCE(MAX(status_list), 1) FROM certificates"));
  cert.status_list = lists[0].Int(0);
  const db::Value in_list[] = {cert.status_list};
  DZONG_ASSIGN_OR_RETURN(db::Rows count, c.Query("SELECT COUNT(*) FROM certificates WHERE status_list = ?", in_list));
  if (count[0].Int(0) >= kListBits / 2) ++cert.status_list;
  for (int attempt = 0;; ++attempt) {
    const std::string r = RandomBytes(4);
    cert.status_index = static_cast<std::int64_t>((static_cast<unsigned char>(r[0]) << 16 |
                                                   static_cast<unsigned char>(r[1]) << 8 |
                                                   static_cast<unsigned char>(r[2])) %
                                                  kListBits);
    const db::Value place[] = {cert.status_list, cert.status_index};
    DZONG_ASSIGN_OR_RETURN(db::Rows taken, c.Query("SELECT 1 FROM certificates WHERE status_list = ? AND "
                                                   "status_index = ?",
                                                   place));
    if (taken.empty() || attempt > 64) break;
  }
  json claims = {{"v", 1},
                 {"id", cert.id},
                 {"iss", cert.issuer},
                 {"typ", cert.template_id},
                 {"tv", cert.service_version},
                 {"svc", cert.service},
                 {"app", cert.application_reference},
                 {"sub", cert.holder},
                 {"iat", cert.issued_at},
                 {"st", {{"l", cert.status_list}, {"i", cert.status_index}}},
                 {"f", fields}};
  if (cert.expires_at) claims["exp"] = *cert.expires_at;
  DZONG_ASSIGN_OR_RETURN(cert.payload, Canonical(claims));
  DZONG_ASSIGN_OR_RETURN(cert.signature, keys_.SignWithin(c, cert.payload));
  const db::Value row[] = {cert.id,
                           cert.application_id,
                           cert.application_reference,
                           cert.service,
                           cert.service_version,
                           cert.template_id,
                           cert.issuer,
                           cert.holder,
                           cert.payload,
                           cert.issued_at,
                           cert.expires_at ? db::Value(*cert.expires_at) : db::Value(nullptr),
                           cert.signature.kid,
                           Base64UrlEncode(cert.signature.bytes),
                           cert.status_list,
                           cert.status_index};
  DZONG_TRY(c.Execute("INSERT INTO certificates (id, application_id, application_reference, service, service_version, "
                      "template, issuer, holder, payload, issued_at, expires_at, kid, signature, status_list, "
                      "status_index, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'valid')",
                      row));
  audit::Actor platform;
  platform.id = "workflow";
  platform.role = "system";
  platform.organisation = cert.issuer;
  audit::Event event = audit::For(platform, "certificates.issued", "certificate", cert.id,
                                  json({{"application", cert.application_reference},
                                        {"template", cert.template_id},
                                        {"template_version", cert.service_version},
                                        {"kid", cert.signature.kid}})
                                      .dump());
  event.subject = cert.holder;
  event.purpose = cert.application_reference;
  DZONG_TRY(audit::Append(c, event, clock_));
  const json title = tmpl.value("title", json::object());
  notify::Notice notice{"account",
                        cert.holder,
                        "certificate.issued",
                        {{"reference", cert.application_reference},
                         {"service_en", title.value("en", cert.template_id)},
                         {"service_dz", title.value("dz", title.value("en", cert.template_id))},
                         {"certificate", cert.id},
                         {"path", "/my/documents/" + cert.id}},
                        "",
                        cert.application_reference};
  notice.unless_no_account = true;
  DZONG_TRY(notify::Enqueue(c, notice, now));
  return cert.id;
}

Result<Certificate> CertificateService::Get(const std::string& id) {
  DZONG_ASSIGN_OR_RETURN(auto found, db_.ReadValue<std::optional<Certificate>>(
                                         [&](db::Connection& c) -> Result<std::optional<Certificate>> {
                                           const db::Value key[] = {id};
                                           DZONG_ASSIGN_OR_RETURN(
                                               db::Rows rows,
                                               c.Query(fmt::format("SELECT {} FROM certificates WHERE id = ?", kColumns),
                                                       key));
                                           if (rows.empty()) return std::optional<Certificate>();
                                           return std::optional<Certificate>(FromRow(rows[0]));
                                         }));
  if (!found) return Error(errc::kNotFound, fmt::format("no certificate has the id {}", id));
  return *found;
}

namespace {

Result<std::vector<Certificate>> Listed(db::Database& db, const std::string& where, const std::string& value) {
  return db.ReadValue<std::vector<Certificate>>([&](db::Connection& c) -> Result<std::vector<Certificate>> {
    const db::Value key[] = {value};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(fmt::format("SELECT {} FROM certificates WHERE {} = ? ORDER BY "
                                                              "issued_at DESC, id LIMIT 200",
                                                              kColumns, where),
                                                  key));
    std::vector<Certificate> out;
    for (const auto& r : rows) out.push_back(FromRow(r));
    return out;
  });
}

}  // namespace

Result<std::vector<Certificate>> CertificateService::ForHolder(const std::string& cid) {
  return Listed(db_, "holder", cid);
}

Result<std::vector<Certificate>> CertificateService::IssuedBy(const std::string& organisation) {
  return Listed(db_, "issuer", organisation);
}

CertificateService::Names CertificateService::NamesOf(const Certificate& certificate) {
  Names names{certificate.template_id, "", certificate.issuer, ""};
  if (auto version = services_.GetVersion(certificate.service, certificate.service_version); version.ok()) {
    const json title = version->definition.value("certificate", json::object()).value("title", json::object());
    names.title_en = title.value("en", names.title_en);
    names.title_dz = title.value("dz", "");
  }
  if (auto o = organisations_.Get(certificate.issuer); o.ok()) {
    names.issuer_en = o->name_en;
    names.issuer_dz = o->name_dz.value_or("");
  }
  return names;
}

Result<std::vector<Field>> CertificateService::FieldsOf(const Certificate& certificate) {
  DZONG_ASSIGN_OR_RETURN(services::Version version,
                         services_.GetVersion(certificate.service, certificate.service_version));
  const json values = certificate.Fields();
  std::vector<Field> out;
  for (const auto& f : version.definition.value("certificate", json::object()).value("fields", json::array())) {
    Field field;
    field.id = f.value("field", "");
    const json label = f.value("label", json::object());
    field.label_en = label.value("en", field.id);
    field.label_dz = label.value("dz", "");
    field.value = values.value(field.id, "");
    field.is_public = f.value("public", false);
    field.block = f.value("block", "main");
    out.push_back(std::move(field));
  }
  return out;
}

Result<CertificateService::Check> CertificateService::Verify(const std::string& id) {
  Check out;
  auto found = Get(id);
  if (!found.ok()) {
    if (found.error().code == errc::kNotFound) return out;
    return found.error();
  }
  DZONG_ASSIGN_OR_RETURN(std::vector<PublicKey> keys, keys_.Published());
  Compact compact{found->payload, found->signature, json::parse(found->payload, nullptr, false)};
  std::string detail;
  out.verdict = CheckCompact(compact, keys, detail);
  // A stored payload must name the row it is stored under.
  if (!compact.claims.is_object() || compact.claims.value("id", "") != id) out.verdict = Verdict::kForged;
  if (out.verdict == Verdict::kValid) {
    const std::string status = found->StatusAt(FormatUtc(clock_.Now()));
    if (status == "revoked") out.verdict = Verdict::kRevoked;
    if (status == "expired") out.verdict = Verdict::kExpired;
  }
  out.certificate = std::move(*found);
  return out;
}

Result<CertificateService::Check> CertificateService::VerifyPayload(std::string_view text) {
  DZONG_ASSIGN_OR_RETURN(Compact compact, ParseCompact(text));
  DZONG_ASSIGN_OR_RETURN(Check online, Verify(compact.claims.value("id", "")));
  if (online.verdict == Verdict::kNotFound) return online;
  // What was scanned must be what was issued, byte for byte; the stored
  // signature was checked by Verify.
  const Certificate& issued = *online.certificate;
  if (compact.payload != issued.payload || compact.signature.kid != issued.signature.kid ||
      compact.signature.bytes != issued.signature.bytes) {
    online.verdict = Verdict::kForged;
  }
  return online;
}

Result<Certificate> CertificateService::Revoke(const std::string& id, const std::string& reason_text,
                                               const audit::Actor& actor) {
  std::string reason = reason_text;
  while (!reason.empty() && std::isspace(static_cast<unsigned char>(reason.back()))) reason.pop_back();
  while (!reason.empty() && std::isspace(static_cast<unsigned char>(reason.front()))) reason.erase(0, 1);
  std::vector<FieldError> problems;
  if (reason.empty()) {
    problems.push_back({"reason", "required", "Say why the certificate is revoked: the holder is told"});
  }
  if (reason.size() > 1000) problems.push_back({"reason", "max_length", "A reason can be at most 1000 characters"});
  if (!problems.empty()) return Invalid(std::move(problems));
  DZONG_ASSIGN_OR_RETURN(Certificate cert, Get(id));
  if (!actor.organisation || *actor.organisation != cert.issuer) {
    return Error(errc::kNotAllowed, fmt::format("only officers of {}, which issued it, can revoke {}", cert.issuer, id));
  }
  if (cert.status == "revoked") return Error(errc::kAlreadyRevoked, fmt::format("{} is already revoked", id));
  return db_.WriteValue<Certificate>([&](db::Connection& c) -> Result<Certificate> {
    const std::string now = FormatUtc(clock_.Now());
    const db::Value row[] = {now, actor.id, reason, id};
    DZONG_ASSIGN_OR_RETURN(std::int64_t n, c.Execute("UPDATE certificates SET status = 'revoked', revoked_at = ?, "
                                                     "revoked_by = ?, revocation_reason = ? WHERE id = ? AND status = "
                                                     "'valid'",
                                                     row));
    if (n == 0) return Error(errc::kAlreadyRevoked, fmt::format("{} was revoked meanwhile", id));
    audit::Event event = audit::For(actor, "certificates.revoked", "certificate", id, json({{"reason", reason}}).dump());
    event.subject = cert.holder;
    event.purpose = cert.application_reference;
    DZONG_TRY(audit::AppendWithCall(c, event, actor, 200, clock_));
    notify::Notice notice{"account",
                          cert.holder,
                          "certificate.revoked",
                          {{"reference", cert.application_reference},
                           {"certificate", id},
                           {"reason", reason},
                           {"path", "/my/documents/" + id}},
                          "",
                          cert.application_reference};
    notice.unless_no_account = true;
    DZONG_TRY(notify::Enqueue(c, notice, now));
    cert.status = "revoked";
    cert.revoked_at = now;
    cert.revoked_by = actor.id;
    cert.revocation_reason = reason;
    return cert;
  });
}

}  // namespace dzong::certificates
