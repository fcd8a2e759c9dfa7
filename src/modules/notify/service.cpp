// Writing notices (Enqueue), contact details, and what people see of their
// notices: the inbox, and the officers' list of failures.
#include <algorithm>

#include <fmt/format.h>

#include "modules/notify/contact.h"
#include "modules/notify/service.h"
#include "modules/notify/store.h"
#include "modules/notify/templates.h"

namespace dzong {
std::span<const EmbeddedFile> NotifyMigrationFiles();
}  // namespace dzong

namespace dzong::notify {

std::span<const EmbeddedFile> Migrations() { return NotifyMigrationFiles(); }

std::vector<std::string> TemplateIds() {
  std::vector<std::string> out;
  auto all = AllTemplates();
  if (all.ok()) {
    for (const Template& t : **all) out.push_back(t.id);
  }
  return out;
}

namespace {

Error Refused(const std::string& field, const std::string& rule, std::string message) {
  return Error(errc::kInvalidNotice, message, {{field, rule, message}});
}

bool IsCid(const std::string& text) {
  return text.size() == 11 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Status Enqueue(db::Connection& c, const Notice& notice, const std::string& now_utc) {
  auto loaded = AllTemplates();
  if (!loaded.ok()) return loaded.error();
  const Template* t = FindTemplate(notice.template_id);
  if (!t) {
    return Error(errc::kUnknownTemplate,
                 fmt::format("there is no notice template '{}'; the templates are in src/modules/notify/templates/",
                             notice.template_id),
                 {{"template_id", "known", fmt::format("'{}' is not a notice template", notice.template_id)}});
  }
  if (!notice.params.is_object()) return Refused("params", "object", "params must be a JSON object");
  for (const std::string& name : t->params) {
    if (ParamText(notice.params, name, "en").empty() && ParamText(notice.params, name, "dz").empty()) {
      return Refused("params." + name, "required",
                     fmt::format("template {} needs the placeholder '{}' (or {}_en and {}_dz)", t->id, name, name, name));
    }
  }
  if (notice.to.empty()) return Refused("to", "required", "a notice needs a recipient");
  std::optional<std::string> language;
  std::string recipient = notice.to;
  if (notice.to_kind == "account") {
    DZONG_ASSIGN_OR_RETURN(auto account, store::FindAccount(c, notice.to));
    if (!account && notice.unless_no_account) return {};
    if (!account) return Refused("to", "exists", fmt::format("there is no account '{}'", notice.to));
  } else if (notice.to_kind == "organisation") {
    DZONG_ASSIGN_OR_RETURN(bool exists, store::OrganisationExists(c, notice.to));
    if (!exists) return Refused("to", "exists", fmt::format("there is no organisation '{}'", notice.to));
  } else if (notice.to_kind == "sms" || notice.to_kind == "email") {
    if (!notice.language.empty() && notice.language != "en" && notice.language != "dz") {
      return Refused("language", "one_of", "language must be en or dz");
    }
    language = notice.language.empty() ? "en" : notice.language;
    if (notice.to_kind == "sms") {
      const auto mobile = NormaliseMobile(notice.to);
      if (!mobile) {
        return Refused("to", "mobile", fmt::format("'{}' is not a Bhutanese mobile number (17 or 77 and six digits)", notice.to));
      }
      recipient = *mobile;
    } else if (!IsEmailAddress(notice.to)) {
      return Refused("to", "email", fmt::format("'{}' is not an email address", notice.to));
    }
  } else {
    return Refused("to_kind", "one_of", "to_kind must be account, organisation, sms or email");
  }
  std::optional<std::string> application;
  if (!notice.application.empty()) application = notice.application;
  return store::InsertNotice(c, notice.to_kind, recipient, t->id, notice.params.dump(), language, application, now_utc);
}

NotifyService::NotifyService(db::Database& db, const Clock& clock, Settings settings)
    : db_(db), clock_(clock), settings_(std::move(settings)) {}

Result<Contact> NotifyService::GetContact(const std::string& username) {
  return db_.ReadValue<Contact>([&](db::Connection& c) -> Result<Contact> {
    DZONG_ASSIGN_OR_RETURN(auto row, store::FindContact(c, username));
    if (!row) return Contact{};
    return Contact{row->email, row->mobile, row->language, row->updated_at};
  });
}

Result<Contact> NotifyService::SetContact(const std::string& username, const Contact& given,
                                          const audit::Actor& actor) {
  store::ContactRow row;
  row.email = Trim(given.email);
  row.language = given.language;
  std::vector<FieldError> problems;
  if (!row.email.empty() && !IsEmailAddress(row.email)) {
    problems.push_back({"email", "email", "Enter an email address in the right form, such as name@example.bt"});
  }
  if (const std::string mobile = Trim(given.mobile); !mobile.empty()) {
    if (const auto normal = NormaliseMobile(mobile)) {
      row.mobile = *normal;
    } else {
      problems.push_back({"mobile", "mobile",
                          "Enter a Bhutanese mobile number: 17 or 77 and six more digits, with or without +975"});
    }
  }
  if (!row.language.empty() && row.language != "en" && row.language != "dz") {
    problems.push_back({"language", "one_of", "Choose English or Dzongkha"});
  }
  if (!problems.empty()) return Invalid(std::move(problems));
  row.updated_at = FormatUtc(clock_.Now());
  DZONG_TRY(db_.Write([&](db::Connection& c) -> Status {
    DZONG_TRY(store::UpsertContact(c, username, row));
    audit::Event event = audit::For(
        actor, "notify.contact_update", "contact_details", username,
        nlohmann::json{{"email", !row.email.empty()}, {"mobile", !row.mobile.empty()}, {"language", row.language}}.dump());
    if (IsCid(username)) event.subject = username;
    DZONG_TRY(audit::AppendWithCall(c, event, actor, 303, clock_));
    return {};
  }));
  return Contact{row.email, row.mobile, row.language, row.updated_at};
}

namespace {

/// A notice rendered for reading on the platform: no mail footer, and its
/// links as the platform's own paths.
Shown ShowRow(const store::NoticeRow& n, const std::string& language) {
  Shown s;
  s.id = n.id;
  s.template_id = n.template_id;
  s.channel = n.channel;
  s.recipient = n.recipient;
  s.application = n.application.value_or("");
  s.status = n.status;
  s.attempts = n.attempts;
  s.reason = n.last_error.value_or("");
  s.created_at = n.created_at;
  s.failed_at = n.failed_at.value_or("");
  if (const Template* t = FindTemplate(n.template_id)) {
    const nlohmann::json params = nlohmann::json::parse(n.payload, nullptr, false);
    const nlohmann::json given = params.is_object() ? params : nlohmann::json::object();
    const Text text = Render(*t, language, given, "", /*footer=*/false);
    s.subject = text.subject;
    s.body = text.inbox;
    const std::string path = ParamText(given, "path", language);
    if (path.starts_with('/') && !path.starts_with("//")) s.path = path;
  } else {
    s.subject = n.template_id;
  }
  return s;
}

}  // namespace

Result<std::vector<Shown>> NotifyService::Inbox(const std::string& username,
                                                const std::optional<std::string>& officer_of,
                                                const std::string& language) {
  DZONG_ASSIGN_OR_RETURN(auto rows, db_.ReadValue<std::vector<store::NoticeRow>>([&](db::Connection& c) {
                           return store::Inbox(c, username, officer_of.value_or(""), 100);
                         }));
  std::vector<Shown> out;
  for (const auto& n : rows) {
    const Template* t = FindTemplate(n.template_id);
    if (t && !t->inbox) continue;
    out.push_back(ShowRow(n, language));
  }
  return out;
}

Result<std::vector<Shown>> NotifyService::Failed(const std::string& organisation, const std::string& language) {
  DZONG_ASSIGN_OR_RETURN(auto rows, db_.ReadValue<std::vector<store::NoticeRow>>([&](db::Connection& c) {
                           return store::FailedFor(c, organisation, 200);
                         }));
  std::vector<Shown> out;
  for (const auto& n : rows) out.push_back(ShowRow(n, language));
  return out;
}

Status NotifyService::TryAgain(std::int64_t id, const std::string& organisation, const audit::Actor& actor) {
  const std::string now = FormatUtc(clock_.Now());
  return db_.Write([&](db::Connection& c) -> Status {
    DZONG_ASSIGN_OR_RETURN(auto status, store::StatusFor(c, id, organisation));
    if (!status) return Error(errc::kNotFound, "there is no such notice among your organisation's");
    if (*status != "failed") return Error(errc::kNotFailed, "this notice has not failed: it is " + *status);
    DZONG_ASSIGN_OR_RETURN(bool retried, store::Retry(c, id, now));
    if (!retried) return Error(errc::kNotFailed, "this notice has not failed");
    DZONG_TRY(audit::AppendWithCall(c, audit::For(actor, "notify.retry", "notification", std::to_string(id)), actor,
                                    303, clock_));
    return {};
  });
}

Result<int> NotifyService::SeedDemoContacts() {
  // The README's demo people. The addresses are in the domain kept for
  // examples, and the numbers are not anyone's that the demo knows of: do
  // not point a real SMS gateway at a database seeded with --demo.
  struct Demo {
    const char* username;
    const char* email;
    const char* mobile;
  };
  constexpr Demo kDemo[] = {{"11410012345", "sonam.choden@example.com", "+97517000001"},
                            {"pema.wangmo", "pema.wangmo@example.com", "+97577000002"}};
  const std::string now = FormatUtc(clock_.Now());
  return db_.WriteValue<int>([&](db::Connection& c) -> Result<int> {
    int added = 0;
    for (const Demo& d : kDemo) {
      DZONG_ASSIGN_OR_RETURN(auto account, store::FindAccount(c, d.username));
      DZONG_ASSIGN_OR_RETURN(auto contact, store::FindContact(c, d.username));
      if (!account || contact) continue;
      DZONG_TRY(store::UpsertContact(c, d.username, store::ContactRow{d.email, d.mobile, "", now}));
      ++added;
    }
    return added;
  });
}

}  // namespace dzong::notify
