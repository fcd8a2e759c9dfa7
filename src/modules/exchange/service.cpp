#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "modules/exchange/exchange.h"
#include "modules/registries/registries.h"

namespace dzong {
std::span<const EmbeddedFile> ExchangeMigrationFiles();
}

namespace dzong::exchange {
namespace {

using nlohmann::json;

constexpr char kColumns[] =
    "a.id, a.consumer, a.subsystem, a.registry, a.fields, a.purpose_code, a.purpose_text, a.legal_basis, "
    "a.legal_reference, a.valid_from, a.valid_to, a.status, a.requested_by, a.requested_at, a.decided_by, "
    "a.decided_at, a.decision_note, r.custodian, a.log_bodies";

Agreement FromRow(const db::Row& r) {
  Agreement a;
  a.id = r.Int(0);
  a.consumer = r.Text(1);
  a.subsystem = r.Text(2);
  a.registry = r.Text(3);
  a.fields = json::parse(r.Text(4)).get<std::vector<std::string>>();
  a.purpose_code = r.Text(5);
  a.purpose_text = r.Text(6);
  a.legal_basis = r.Text(7);
  a.legal_reference = r.Text(8);
  a.valid_from = r.Text(9);
  a.valid_to = r.Text(10);
  a.status = r.Text(11);
  a.requested_by = r.Text(12);
  a.requested_at = r.Text(13);
  a.decided_by = r.OptText(14);
  a.decided_at = r.OptText(15);
  a.decision_note = r.OptText(16);
  a.custodian = r.Text(17);
  a.log_bodies = r.Int(18) != 0;
  return a;
}

std::string Select(const std::string& where) {
  return std::string("SELECT ") + kColumns + " FROM agreements a JOIN registries r ON r.code = a.registry WHERE " + where;
}

bool PurposeCode(const std::string& code) {
  return !code.empty() && code.size() <= 40 &&
         std::all_of(code.begin(), code.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':'; });
}

/// What an agreement or a consent names: a registry that exists, and at
/// least one of its fields, each real.
void CheckFields(const Result<registries::Registry>& registry, const std::string& code,
                 const std::vector<std::string>& fields, std::vector<FieldError>& errors) {
  if (!registry.ok()) {
    errors.push_back({"registry", "exists", fmt::format("there is no registry {}", code)});
    return;
  }
  if (fields.empty()) errors.push_back({"fields", "required", "fields must name at least one field"});
  for (const auto& f : fields) {
    const bool known = std::any_of(registry->fields.begin(), registry->fields.end(),
                                   [&](const registries::FieldSpec& spec) { return spec.name == f; });
    if (!known) errors.push_back({"fields", "exists", fmt::format("{} is not a field of {}", f, code)});
  }
}

constexpr char kConsentColumns[] =
    "id, subject, consumer, registry, purpose_code, fields, valid_from, valid_to, artefact, kid, signature, given_at, "
    "revoked_at";

Consent ConsentFromRow(const db::Row& r) {
  Consent c;
  c.id = r.Int(0);
  c.subject = r.Text(1);
  c.consumer = r.Text(2);
  c.registry = r.Text(3);
  c.purpose_code = r.Text(4);
  c.fields = json::parse(r.Text(5)).get<std::vector<std::string>>();
  c.valid_from = r.Text(6);
  c.valid_to = r.Text(7);
  c.artefact = r.Text(8);
  c.kid = r.Text(9);
  c.signature = r.Text(10);
  c.given_at = r.Text(11);
  c.revoked_at = r.OptText(12);
  return c;
}

}  // namespace

std::span<const EmbeddedFile> Migrations() { return ExchangeMigrationFiles(); }

ExchangeService::ExchangeService(db::Database& db, const Clock& clock, registries::RegistryService& registries,
                                 Signer& signer)
    : db_(db), clock_(clock), registries_(registries), signer_(signer) {}

Result<Agreement> ExchangeService::Request(Agreement a, const audit::Actor& actor) {
  std::vector<FieldError> errors;
  auto registry = registries_.Get(a.registry);
  CheckFields(registry, a.registry, a.fields, errors);
  const std::string prefix = fmt::format("BT/GOV/{}/", a.consumer);
  if (!a.subsystem.starts_with(prefix) || a.subsystem.size() == prefix.size()) {
    errors.push_back({"subsystem", "pattern", fmt::format("subsystem must be one of your systems, {}<NAME>", prefix)});
  }
  if (!PurposeCode(a.purpose_code)) {
    errors.push_back({"purpose_code", "pattern", "purpose_code must be 1 to 40 letters, digits, '-', '_', '.' or ':'"});
  }
  if (a.purpose_text.empty() || a.purpose_text.size() > 500) {
    errors.push_back({"purpose_text", "length", "purpose_text must say why, in 1 to 500 characters"});
  }
  if (a.legal_basis != "law" && a.legal_basis != "consent" && a.legal_basis != "public_task") {
    errors.push_back({"legal_basis", "one_of", "legal_basis must be one of: law, consent, public_task"});
  }
  if (a.legal_reference.empty() || a.legal_reference.size() > 300) {
    errors.push_back({"legal_reference", "length", "legal_reference must name the law, consent scheme or task"});
  }
  if (a.valid_from.size() < 10 || a.valid_to.size() < 10) {
    errors.push_back({"valid_to", "date", "valid_from and valid_to must be dates such as 2026-12-01"});
  } else if (a.valid_to <= a.valid_from) {
    errors.push_back({"valid_to", "after", "valid_to must come after valid_from"});
  }
  if (!errors.empty()) {
    return Invalid(std::move(errors));
  }
  a.status = "requested";
  a.requested_by = actor.id;
  a.requested_at = FormatUtc(clock_.Now());
  a.custodian = registry->custodian;
  return db_.WriteValue<Agreement>([&](db::Connection& c) -> Result<Agreement> {
    const db::Value row[] = {a.consumer,     a.subsystem,       a.registry,   json(a.fields).dump(),
                             a.purpose_code, a.purpose_text,    a.legal_basis, a.legal_reference,
                             a.valid_from,   a.valid_to,        a.requested_by, a.requested_at,
                             std::int64_t{a.log_bodies ? 1 : 0}};
    DZONG_ASSIGN_OR_RETURN(
        db::Rows id, c.Query("INSERT INTO agreements (consumer, subsystem, registry, fields, purpose_code, purpose_text, "
                             "legal_basis, legal_reference, valid_from, valid_to, status, requested_by, requested_at, "
                             "log_bodies) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'requested', ?, ?, ?) RETURNING id",
                             row));
    a.id = id.at(0).Int(0);
    DZONG_TRY(audit::AppendWithCall(c,
                                    audit::For(actor, "exchange.agreement_requested", "agreement", std::to_string(a.id),
                                               json({{"registry", a.registry}, {"fields", a.fields},
                                                     {"purpose", a.purpose_code}, {"custodian", a.custodian}})
                                                   .dump()),
                                    actor, 201, clock_));
    return a;
  });
}

Result<Agreement> ExchangeService::Get(std::int64_t id) {
  return db_.ReadValue<Agreement>([&](db::Connection& c) -> Result<Agreement> {
    const db::Value key[] = {id};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(Select("a.id = ?"), key));
    if (rows.empty()) return Error(errc::kAgreementNotFound, fmt::format("there is no agreement {}", id));
    return FromRow(rows[0]);
  });
}

Result<std::vector<Agreement>> ExchangeService::ForOrganisation(const std::string& organisation) {
  return db_.ReadValue<std::vector<Agreement>>([&](db::Connection& c) -> Result<std::vector<Agreement>> {
    const db::Value org[] = {organisation, organisation};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(Select("a.consumer = ? OR r.custodian = ?") + " ORDER BY a.id DESC", org));
    std::vector<Agreement> out;
    for (const auto& r : rows) out.push_back(FromRow(r));
    return out;
  });
}

Result<Agreement> ExchangeService::Decide(std::int64_t id, const std::string& decision, const std::string& note,
                                          const audit::Actor& actor) {
  if (decision != "approve" && decision != "refuse" && decision != "revoke") {
    return Error(dzong::errc::kValidation, "decision must be one of: approve, refuse, revoke",
                 {{"decision", "one_of", "decision must be one of: approve, refuse, revoke"}});
  }
  if (note.size() > 500) {
    return Error(dzong::errc::kValidation, "note is too long", {{"note", "length", "note must be at most 500 characters"}});
  }
  return db_.WriteValue<Agreement>([&](db::Connection& c) -> Result<Agreement> {
    const db::Value key[] = {id};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(Select("a.id = ?"), key));
    if (rows.empty()) return Error(errc::kAgreementNotFound, fmt::format("there is no agreement {}", id));
    Agreement a = FromRow(rows[0]);
    if (!actor.organisation || *actor.organisation != a.custodian) {
      return Error(errc::kNotCustodian, fmt::format("only {}, the custodian of {}, decides this agreement", a.custodian,
                                                    a.registry));
    }
    const std::string from = a.status;
    const bool allowed = (decision == "revoke") ? from == "approved" : from == "requested";
    if (!allowed) {
      return Error(errc::kAlreadyDecided, fmt::format("agreement {} is {}; it cannot be {}d", id, from, decision));
    }
    a.status = decision == "approve" ? "approved" : decision == "refuse" ? "refused" : "revoked";
    a.decided_by = actor.id;
    a.decided_at = FormatUtc(clock_.Now());
    a.decision_note = note;
    const db::Value update[] = {a.status, *a.decided_by, *a.decided_at, note, id, from};
    DZONG_ASSIGN_OR_RETURN(std::int64_t changed,
                           c.Execute("UPDATE agreements SET status = ?, decided_by = ?, decided_at = ?, decision_note = ? "
                                     "WHERE id = ? AND status = ?",
                                     update));
    if (changed != 1) return Error(dzong::errc::kConflict, "the agreement was decided at the same time; read it again");
    DZONG_TRY(audit::AppendWithCall(c,
                                    audit::For(actor, "exchange.agreement_" + a.status, "agreement", std::to_string(id),
                                               json({{"from", from}, {"note", note}, {"consumer", a.consumer}}).dump()),
                                    actor, 200, clock_));
    return a;
  });
}

Result<Agreement> ExchangeService::Authorise(const std::string& subsystem, const std::string& registry,
                                             const std::string& purpose) {
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, db_.ReadValue<db::Rows>([&](db::Connection& c) {
                           const db::Value key[] = {subsystem, registry};
                           return c.Query(Select("a.subsystem = ? AND a.registry = ?") + " ORDER BY a.id DESC", key);
                         }));
  const std::string now = FormatUtc(clock_.Now());
  std::optional<Agreement> expired, revoked, other_purpose;
  for (const auto& row : rows) {
    Agreement a = FromRow(row);
    if (a.purpose_code != purpose) {
      if (a.status == "approved") other_purpose = a;
      continue;
    }
    if (a.status == "revoked") {
      revoked = a;
      continue;
    }
    if (a.status != "approved") continue;
    if (now < a.valid_from || now >= a.valid_to) {
      expired = a;
      continue;
    }
    return a;
  }
  if (revoked) {
    return Error(errc::kAgreementRevoked,
                 fmt::format("agreement {} for {} was revoked by {}", revoked->id, purpose, revoked->custodian));
  }
  if (expired) {
    return Error(errc::kAgreementExpired,
                 fmt::format("agreement {} is valid from {} to {}, not now", expired->id, expired->valid_from,
                             expired->valid_to));
  }
  if (other_purpose) {
    return Error(errc::kWrongPurpose,
                 fmt::format("{} may read {} for {} (agreement {}), not for {}", subsystem, registry,
                             other_purpose->purpose_code, other_purpose->id, purpose));
  }
  return Error(errc::kNoAgreement, fmt::format("{} has no approved agreement to read {}", subsystem, registry));
}

Result<Consent> ExchangeService::GiveConsent(Consent c, const audit::Actor& actor) {
  std::vector<FieldError> errors;
  auto registry = registries_.Get(c.registry);
  CheckFields(registry, c.registry, c.fields, errors);
  if (!PurposeCode(c.purpose_code)) {
    errors.push_back({"purpose_code", "pattern", "purpose_code must be 1 to 40 letters, digits, '-', '_', '.' or ':'"});
  }
  c.given_at = FormatUtc(clock_.Now());
  c.valid_from = c.given_at;
  if (c.valid_to.size() < 10 || c.valid_to <= c.valid_from) {
    errors.push_back({"valid_to", "after", "valid_to must be a date after today"});
  }
  if (!errors.empty()) {
    return Invalid(std::move(errors));
  }
  return db_.WriteValue<Consent>([&](db::Connection& conn) -> Result<Consent> {
    const db::Value org[] = {c.consumer};
    DZONG_ASSIGN_OR_RETURN(db::Rows found, conn.Query("SELECT 1 FROM organisations WHERE code = ?", org));
    if (found.empty()) {
      return Error(dzong::errc::kValidation, fmt::format("there is no organisation {}", c.consumer),
                   {{"consumer", "exists", fmt::format("there is no organisation {}", c.consumer)}});
    }
    // The artefact: what was agreed, in a fixed order, signed as it stands.
    c.artefact = json({{"type", "dzong-consent/1"},
                       {"subject", c.subject},
                       {"consumer", c.consumer},
                       {"registry", c.registry},
                       {"purpose_code", c.purpose_code},
                       {"fields", c.fields},
                       {"valid_from", c.valid_from},
                       {"valid_to", c.valid_to},
                       {"given_at", c.given_at}})
                     .dump();
    DZONG_ASSIGN_OR_RETURN(Signature signature, signer_.Sign(c.artefact));
    c.kid = signature.kid;
    c.signature = Base64UrlEncode(signature.bytes);
    const db::Value row[] = {c.subject,    c.consumer, c.registry, c.purpose_code, json(c.fields).dump(),
                             c.valid_from, c.valid_to, c.artefact, c.kid,          c.signature, c.given_at};
    DZONG_ASSIGN_OR_RETURN(db::Rows id,
                           conn.Query("INSERT INTO consents (subject, consumer, registry, purpose_code, fields, "
                                      "valid_from, valid_to, artefact, kid, signature, given_at) VALUES (?, ?, ?, ?, "
                                      "?, ?, ?, ?, ?, ?, ?) RETURNING id",
                                      row));
    c.id = id.at(0).Int(0);
    audit::Event event = audit::For(actor, "exchange.consent_given", "consent", std::to_string(c.id),
                                    json({{"consumer", c.consumer}, {"registry", c.registry},
                                          {"purpose", c.purpose_code}, {"fields", c.fields}})
                                        .dump());
    event.subject = c.subject;
    DZONG_TRY(audit::AppendWithCall(conn, event, actor, 201, clock_));
    return c;
  });
}

Result<std::vector<Consent>> ExchangeService::Consents(const std::string& subject) {
  return db_.ReadValue<std::vector<Consent>>([&](db::Connection& c) -> Result<std::vector<Consent>> {
    const db::Value who[] = {subject};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(std::string("SELECT ") + kConsentColumns +
                                                      " FROM consents WHERE subject = ? ORDER BY id DESC",
                                                  who));
    std::vector<Consent> out;
    for (const auto& r : rows) out.push_back(ConsentFromRow(r));
    return out;
  });
}

Result<Consent> ExchangeService::RevokeConsent(const std::string& subject, std::int64_t id, const audit::Actor& actor) {
  return db_.WriteValue<Consent>([&](db::Connection& c) -> Result<Consent> {
    const db::Value key[] = {id, subject};
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, c.Query(std::string("SELECT ") + kConsentColumns +
                                                      " FROM consents WHERE id = ? AND subject = ?",
                                                  key));
    // Someone else's consent is as good as absent.
    if (rows.empty()) return Error(errc::kConsentNotFound, fmt::format("you have no consent {}", id));
    Consent consent = ConsentFromRow(rows[0]);
    if (consent.revoked_at) return consent;
    consent.revoked_at = FormatUtc(clock_.Now());
    const db::Value update[] = {*consent.revoked_at, id};
    DZONG_TRY(c.Execute("UPDATE consents SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", update));
    audit::Event event = audit::For(actor, "exchange.consent_revoked", "consent", std::to_string(id),
                                    json({{"consumer", consent.consumer}, {"purpose", consent.purpose_code}}).dump());
    event.subject = subject;
    DZONG_TRY(audit::AppendWithCall(c, event, actor, 200, clock_));
    return consent;
  });
}

Status ExchangeService::RequireConsent(const Agreement& agreement, const std::string& subject) {
  DZONG_ASSIGN_OR_RETURN(std::vector<Consent> consents, Consents(subject));
  const std::string now = FormatUtc(clock_.Now());
  for (const Consent& c : consents) {
    if (c.consumer != agreement.consumer || c.registry != agreement.registry ||
        c.purpose_code != agreement.purpose_code || c.Status(now) != "active" || now < c.valid_from) {
      continue;
    }
    const bool covers = std::all_of(agreement.fields.begin(), agreement.fields.end(), [&](const std::string& f) {
      return std::find(c.fields.begin(), c.fields.end(), f) != c.fields.end();
    });
    if (covers) return {};
  }
  return Error(errc::kNoConsent,
               fmt::format("agreement {} rests on consent, and the person has given {} no active consent for {}",
                           agreement.id, agreement.consumer, agreement.purpose_code));
}

}  // namespace dzong::exchange
