// Assisted digital, the rules: a community-centre operator finds a citizen
// in the population register, records how the citizen gave consent (a
// signed paper form, scanned; a one-time code sent to their mobile; or
// consent refused), and starts a draft on their behalf that only the
// operator works on. Every step is recorded with the citizen as subject.
#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "modules/forms/form.h"
#include "modules/forms/forms.h"
#include "modules/identity/identity.h"
#include "modules/notify/notify.h"
#include "modules/registries/registries.h"
#include "modules/services/services.h"

namespace dzong::forms {
namespace {

using nlohmann::json;

constexpr std::chrono::minutes kCodeLifetime{10};
constexpr std::int64_t kCodeAttempts = 5;
/// A scan of a signed consent form: a few pages, photographed or scanned.
constexpr std::int64_t kScanLimit = 5 * 1024 * 1024;

std::string CodeHash(const std::string& salt, const std::string& code) { return Sha256Hex(salt + ":" + code); }

/// A uniformly drawn six-digit code.
std::string NewCode() {
  std::uint32_t n = 0;
  do {
    const std::string bytes = RandomBytes(sizeof n);
    std::memcpy(&n, bytes.data(), sizeof n);
  } while (n >= 4294000000U);  // a multiple of 10^6: no digit is likelier than another
  return fmt::format("{:06}", n % 1000000U);
}

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string AssistedPurpose(const std::string& service) {
  return service.empty() ? std::string("assisted") : "assisted:service:" + service;
}

Result<Citizen> FormService::FindCitizen(const std::string& cid, const audit::Actor& actor, const std::string& action,
                                         int status) {
  auto shape = identity::ValidateCid("cid", cid);
  if (!shape.empty()) return Invalid(std::move(shape));
  auto record = registries_.GetRecord("population", cid, std::nullopt);
  if (!record.ok()) {
    if (record.error().code == registries::errc::kRecordNotFound) {
      return Invalid({{"cid", "not_registered", "There is no one with this Citizenship ID in the population register"}});
    }
    return record.error();
  }
  const json data = json::parse(record->data);
  Citizen found{cid, data.value("given_name", ""), data.value("surname", ""), data.value("dzongkhag", ""),
                data.value("gewog", "")};
  DZONG_TRY(db_.Write([&](db::Connection& c) -> Status {
    audit::Event read = audit::For(actor, action, "record", "population/" + cid,
                                   json({{"registry", "population"}, {"version", record->version}}).dump());
    read.subject = cid;
    read.purpose = AssistedPurpose("");
    DZONG_TRY(audit::AppendWithCall(c, read, actor, status, clock_));
    return {};
  }));
  return found;
}

Result<Draft> FormService::StartWithScan(const std::string& citizen, const std::string& service,
                                         const std::string& filename, std::string bytes, const audit::Actor& actor) {
  // The form runner's own checks of an upload: a document of the kinds and
  // size a scan may be, checked by its bytes.
  const json label = {{"en", "Scan of the signed consent"}, {"dz", "མིང་རྟགས་བཀོད་ཡོད་པའི་ཆོག་ཐམ་གྱི་པར།"}};
  const json definition = {
      {"documents",
       {{{"type", "consent"}, {"formats", {"application/pdf", "image/jpeg", "image/png"}}, {"max_bytes", kScanLimit},
         {"required", true}}}},
      {"form", {{"pages", json::array()}}}};
  const json page = {{"id", "consent"},
                     {"fields", {{{"id", "scan"}, {"type", "file"}, {"label", label}, {"required", true},
                                  {"document", "consent"}}}}};
  std::map<std::string, FileInput> files;
  if (!bytes.empty()) files["scan"] = FileInput{filename, std::move(bytes)};
  PageInput read = ReadPage(definition, page, json::object(), json::object(), {}, files,
                            BhutanToday(clock_.Now()));
  if (!read.problems.empty()) {
    std::vector<FieldError> problems;
    for (const Problem& p : read.problems) {
      const std::string message = p.rule == "required_file"    ? "Upload the scan of the consent form the citizen signed"
                                  : p.rule == "empty_file"     ? "The scan is an empty file"
                                  : p.rule == "file_too_large" ? "The scan must be 5 MB or smaller"
                                                               : "The scan must be a PDF, JPEG or PNG";
      problems.push_back({"scan", p.rule, message});
    }
    return Invalid(std::move(problems));
  }
  AcceptedFile& accepted = read.files.at(0);
  StoredFile stored{accepted.sha256, static_cast<std::int64_t>(accepted.body.size()), accepted.media_type,
                    accepted.filename, actor.id, FormatUtc(clock_.Now())};
  Assistance a{actor.id, actor.organisation.value_or(""), "paper", accepted.sha256};
  return Start(service, citizen, true, actor, a, std::make_pair(std::move(stored), std::move(accepted.body)));
}

Status FormService::RecordAssistedConsent(db::Connection& c, const Draft& d, const Assistance& a,
                                          const std::optional<std::pair<StoredFile, std::string>>& scan,
                                          std::optional<std::int64_t> code_id, const audit::Actor& actor) {
  if (scan) {
    const StoredFile& f = scan->first;
    const db::Value upload[] = {f.sha256, f.size, f.media_type, f.original_name, a.assisted_by, d.created_at};
    DZONG_TRY(c.Execute("INSERT INTO uploads (sha256, size, media_type, original_name, uploaded_by, uploaded_at) "
                        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256, uploaded_by) DO NOTHING",
                        upload));
  }
  if (code_id) {
    // A code starts one draft: the second use finds it used.
    const db::Value used[] = {d.created_at, *code_id, a.assisted_by};
    DZONG_ASSIGN_OR_RETURN(std::int64_t changed,
                           c.Execute("UPDATE assisted_consent_codes SET used_at = ? WHERE id = ? AND operator = ? AND "
                                     "used_at IS NULL",
                                     used));
    if (changed != 1) return Error(errc::kCodeUsed, "this code has already been used");
  }
  audit::Event recorded = audit::For(actor, "assist.consent_recorded", "draft", std::to_string(d.id),
                                     json({{"service", d.service},
                                           {"method", a.method},
                                           {"evidence", a.evidence},
                                           {"consent", d.consent},
                                           {"centre", a.centre}})
                                         .dump());
  recorded.subject = d.applicant;
  recorded.purpose = AssistedPurpose(d.service);
  DZONG_TRY(audit::Append(c, recorded, clock_));
  return {};
}

Status FormService::NotifySubmittedForYou(db::Connection& c, const Application& a, const json& definition) {
  json params = {{"reference", a.reference},
                 {"service_en", services::TextIn(definition["title"], "en")},
                 {"service_dz", services::TextIn(definition["title"], "dz")},
                 {"operator", a.submitted_by.value_or("")},
                 {"centre", a.submitted_centre.value_or("")},
                 {"path", "/my/applications/" + a.reference}};
  // A citizen without an account yet finds it when they first sign in.
  notify::Notice notice{"account", a.applicant, "application.submitted_for_you", params, "", a.reference};
  notice.unless_no_account = true;
  return notify::Enqueue(c, notice, a.submitted_at);
}

Result<std::int64_t> FormService::SendConsentCode(const std::string& citizen, const std::string& service,
                                                  const std::string& mobile, const audit::Actor& actor) {
  const std::string number = notify::NormaliseMobile(mobile).value_or("");
  if (number.empty()) {
    return Invalid({{"mobile", "mobile",
                     "Enter a Bhutanese mobile number of 8 digits starting 17 or 77, such as 17123456"}});
  }
  DZONG_ASSIGN_OR_RETURN(services::Service s, catalogue_.GetPublished(service));
  if (!s.published_version) return Error(services::errc::kNotFound, fmt::format("{} is not published", service));
  const std::string code = NewCode();
  const std::string salt = RandomHex(16);
  const auto now = clock_.Now();
  const std::string created = FormatUtc(now);
  const std::string expires = FormatUtc(now + kCodeLifetime);
  const std::string centre = actor.organisation.value_or("");
  return db_.WriteValue<std::int64_t>([&](db::Connection& c) -> Result<std::int64_t> {
    const db::Value row[] = {actor.id, centre, citizen, service, number, salt, CodeHash(salt, code), std::int64_t{0},
                             created, expires};
    DZONG_ASSIGN_OR_RETURN(db::Rows made,
                           c.Query("INSERT INTO assisted_consent_codes (operator, centre, citizen, service, mobile, salt, "
                                   "code_hash, attempts, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                   "RETURNING id",
                                   row));
    const std::int64_t id = made.at(0).Int(0);
    DZONG_TRY(notify::Enqueue(c,
                              {"sms", number, "assisted.consent_code",
                               json({{"code", code},
                                     {"operator", actor.id},
                                     {"centre", centre},
                                     {"service_en", services::TextIn(s.definition["title"], "en")},
                                     {"service_dz", services::TextIn(s.definition["title"], "dz")}}),
                               "", ""},
                              created));
    audit::Event sent = audit::For(actor, "assist.consent_code_sent", "consent_code", std::to_string(id),
                                   json({{"service", service}, {"mobile", number}, {"expires_at", expires}}).dump());
    sent.subject = citizen;
    sent.purpose = AssistedPurpose(service);
    DZONG_TRY(audit::AppendWithCall(c, sent, actor, 303, clock_));
    return id;
  });
}

Result<FormService::ConsentCode> FormService::GetConsentCode(std::int64_t code_id, const std::string& operator_username) {
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, db_.ReadValue<db::Rows>([&](db::Connection& c) {
                           const db::Value key[] = {code_id, operator_username};
                           return c.Query("SELECT id, citizen, service, mobile, expires_at, attempts, used_at FROM "
                                          "assisted_consent_codes WHERE id = ? AND operator = ?",
                                          key);
                         }));
  if (rows.empty()) return Error(errc::kCodeNotFound, "you sent no such code");
  const db::Row& r = rows[0];
  return ConsentCode{r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Int(5), !r.IsNull(6)};
}

Result<Draft> FormService::CheckConsentCode(std::int64_t code_id, const std::string& code, const audit::Actor& actor) {
  if (code.size() != 6 || !AllDigits(code)) {
    return Invalid({{"code", "code_format", "Enter the 6-digit code the citizen received by SMS"}});
  }
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, db_.ReadValue<db::Rows>([&](db::Connection& c) {
                           const db::Value key[] = {code_id, actor.id};
                           return c.Query("SELECT citizen, service, mobile, salt, code_hash, attempts, expires_at, "
                                          "used_at, centre FROM assisted_consent_codes WHERE id = ? AND operator = ?",
                                          key);
                         }));
  if (rows.empty()) return Error(errc::kCodeNotFound, "you sent no such code");
  const std::string citizen = rows[0].Text(0);
  const std::string service = rows[0].Text(1);
  const std::string mobile = rows[0].Text(2);
  const std::string salt = rows[0].Text(3);
  const std::string hash = rows[0].Text(4);
  const std::string expires = rows[0].Text(6);
  const std::string centre = rows[0].Text(8);
  if (!rows[0].IsNull(7)) return Error(errc::kCodeUsed, "this code has already been used");
  if (FormatUtc(clock_.Now()) >= expires) return Error(errc::kCodeExpired, "this code has expired; send a new one");
  const bool right = ConstantTimeEquals(CodeHash(salt, code), hash);
  // Counted under the row's own write: concurrent guesses each use one of the attempts.
  DZONG_ASSIGN_OR_RETURN(std::int64_t attempt, db_.WriteValue<std::int64_t>([&](db::Connection& c) -> Result<std::int64_t> {
    const db::Value key[] = {code_id, kCodeAttempts};
    DZONG_ASSIGN_OR_RETURN(db::Rows counted,
                           c.Query("UPDATE assisted_consent_codes SET attempts = attempts + 1 WHERE id = ? AND "
                                   "attempts < ? RETURNING attempts",
                                   key));
    const std::int64_t n = counted.empty() ? kCodeAttempts + 1 : counted.at(0).Int(0);
    audit::Event checked = audit::For(actor, "assist.consent_code_checked", "consent_code", std::to_string(code_id),
                                      json({{"service", service},
                                            {"attempt", n},
                                            {"outcome", n > kCodeAttempts ? "too_many_attempts"
                                                        : right            ? "right"
                                                                           : "wrong"}})
                                          .dump());
    checked.subject = citizen;
    checked.purpose = AssistedPurpose(service);
    // A wrong code is answered with 422 and the right one goes on to start
    // the draft, whose call is recorded with it.
    if (right && n <= kCodeAttempts) {
      DZONG_TRY(audit::Append(c, checked, clock_));
    } else {
      DZONG_TRY(audit::AppendWithCall(c, checked, actor, 422, clock_));
    }
    return n;
  }));
  if (attempt > kCodeAttempts) {
    return Invalid({{"code", "too_many_attempts", "The code was entered wrongly too many times; send a new one"}});
  }
  if (!right) {
    return Invalid({{"code", "code_wrong",
                     fmt::format("The code is not the one sent; {} attempts left", kCodeAttempts - attempt)}});
  }
  Assistance a{actor.id, centre, "sms", fmt::format("code {} to {}", code_id, mobile)};
  return Start(service, citizen, true, actor, a, std::nullopt, code_id);
}

Result<std::vector<Application>> FormService::ApplicationsOf(const std::string& applicant) {
  return ApplicationsWhere("applicant = ?", applicant);
}

Result<std::vector<Application>> FormService::SubmittedByOperator(const std::string& username) {
  return ApplicationsWhere("submitted_by = ?", username);
}

Result<std::vector<Draft>> FormService::AssistedDrafts(const std::string& username) {
  return DraftsWhere("assisted_by = ?", username);
}

}  // namespace dzong::forms
