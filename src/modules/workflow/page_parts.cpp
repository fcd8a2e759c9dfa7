// What the workflow's pages share: states, SLA tags, history and answers
// in the page's language, and attachments served as the form runner serves
// uploads.
#include "modules/workflow/page_parts.h"

#include <charconv>

#include <fmt/format.h>

#include "http/router.h"
#include "modules/forms/forms.h"
#include "modules/forms/views.h"
#include "modules/services/services.h"

namespace dzong::workflow {

Result<std::vector<nlohmann::json>> WorkflowService::OwnedDefinitions(const std::string& organisation) {
  DZONG_ASSIGN_OR_RETURN(std::vector<services::Service> owned, catalogue_.OwnedBy(organisation));
  std::vector<nlohmann::json> out;
  for (const services::Service& s : owned) {
    if (s.status == "draft") continue;  // never published: no application can be made on it
    out.push_back(s.definition);
  }
  return out;
}

}  // namespace dzong::workflow

namespace dzong::workflow::pages {

using http::Request;
using http::Response;
using nlohmann::json;

std::string TextOf(const web::Web& web, const Request& r, const json& text) {
  return services::TextIn(text, web.Language(r));
}

std::string StateTitle(const web::Web& web, const Request& r, const json& definition, const std::string& state) {
  if (definition.contains("workflow")) {
    for (const auto& s : definition["workflow"].value("states", json::array())) {
      if (s.value("id", "") == state && s.contains("title")) return TextOf(web, r, s["title"]);
    }
  }
  return state;
}

std::string DayOf(const std::string& date_or_time) {
  if (date_or_time.size() > 10) {
    const std::string local = web::BhutanTime(date_or_time);  // "29-11-2026 21:58"
    return local.substr(0, local.find(' '));
  }
  if (date_or_time.size() != 10) return date_or_time;
  return date_or_time.substr(8, 2) + "-" + date_or_time.substr(5, 2) + "-" + date_or_time.substr(0, 4);
}

json SlaTag(const web::Web& web, const Request& r, Sla sla) {
  const std::string name = SlaName(sla);
  std::string colour = "grey";
  if (sla == Sla::kOnTime) colour = "green";
  if (sla == Sla::kDueSoon) colour = "yellow";
  if (sla == Sla::kOverdue) colour = "red";
  if (sla == Sla::kPaused) colour = "blue";
  return {{"text", web.Text(r, "apps_sla_" + name)}, {"colour", colour}, {"name", name}};
}

json CaseRow(const Parts& p, const Request& r, const Case& c, const json& definition, const std::string& href) {
  return {{"reference", c.reference},
          {"href", href},
          {"service_title", definition.contains("title") ? TextOf(p.web, r, definition["title"]) : c.service},
          {"state", StateTitle(p.web, r, definition, c.state)},
          {"submitted", DayOf(c.submitted_at)},
          {"due", c.due_on ? DayOf(*c.due_on) : ""},
          {"sla", SlaTag(p.web, r, p.workflow.SlaOf(c))},
          {"assignee", c.assignee.value_or("")},
          {"row_version", c.row_version}};
}

namespace {

std::string TransitionLabel(const web::Web& web, const Request& r, const json& definition, const std::string& id) {
  if (definition.contains("workflow")) {
    for (const auto& t : definition["workflow"].value("transitions", json::array())) {
      if (t.value("id", "") == id && t.contains("label")) return TextOf(web, r, t["label"]);
    }
  }
  return id;
}

}  // namespace

json HistoryRows(const Parts& p, const Request& r, const Case& c, const json& definition,
                 const std::vector<CaseEvent>& events, bool officer) {
  json rows = json::array();
  for (const CaseEvent& e : events) {
    std::string what = p.web.Text(r, "apps_event_" + e.kind);
    if (what == "apps_event_" + e.kind) what = e.kind;
    if (!e.transition.empty()) what += ": " + TransitionLabel(p.web, r, definition, e.transition);
    std::string who;
    if (e.actor == c.applicant) {
      who = officer ? p.web.Text(r, "work_the_applicant") : p.web.Text(r, "apps_you");
    } else if (officer) {
      who = e.actor + (e.organisation.empty() ? "" : " (" + e.organisation + ")");
    } else if (!e.organisation.empty()) {
      who = e.organisation;
    } else if (e.actor == "system") {
      who = p.web.Text(r, "apps_the_platform");
    } else {
      who = p.web.Text(r, "apps_another_person");
    }
    rows.push_back({{"when", web::BhutanTime(e.at)},
                    {"what", what},
                    {"state", e.to_state.empty() ? "" : StateTitle(p.web, r, definition, e.to_state)},
                    {"who", who},
                    {"comment", e.comment}});
  }
  return rows;
}

json AnswerSections(const Parts& p, const Request& r, const Case& c, const json& definition,
                    const std::string& files_base) {
  // The check-answers view of a draft holding the application's answers
  // (the registers' answers are already among them).
  forms::Draft shown;
  shown.service = c.service;
  shown.version = c.service_version;
  shown.applicant = c.applicant;
  shown.answers = c.answers.is_object() ? c.answers : json::object();
  json context = forms::views::CheckContext(p.web, r, shown, definition, files_base, {});
  return context.value("sections", json::array());
}

bool NamesFile(const json& answers, const std::string& sha256) {
  if (answers.is_object()) {
    if (answers.contains("sha256") && answers["sha256"].is_string() && answers["sha256"] == sha256) return true;
    for (const auto& [key, value] : answers.items()) {
      if (NamesFile(value, sha256)) return true;
    }
  } else if (answers.is_array()) {
    for (const auto& value : answers) {
      if (NamesFile(value, sha256)) return true;
    }
  }
  return false;
}

Response ServeFile(const Parts& p, const Request& r, const Case& c, const std::string& sha256) {
  if (!NamesFile(c.answers, sha256)) {
    return p.web.ErrorPage(r, Error(forms::errc::kFileNotFound, "the application names no such file"), 404);
  }
  auto file = p.forms.ReadAttachment(sha256);
  if (!file.ok()) return p.web.ErrorPage(r, file.error(), file.error().code == forms::errc::kFileNotFound ? 404 : 500);
  return forms::FileDownload(file->first, std::move(file->second));
}

std::optional<std::int64_t> ParseWhole(const std::string& text) {
  std::int64_t n = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || ptr != text.data() + text.size() || n <= 0) return std::nullopt;
  return n;
}

int StatusOf(const Error& e) {
  if (e.code == errc::kNotFound) return 404;
  if (e.code == errc::kNotAllowed) return 403;
  if (e.code == "identity.csrf_failed") return 422;
  if (e.code == errc::kStale || e.code == errc::kNotAvailable || e.code == errc::kPaymentDue ||
      e.code == errc::kNoOpenRequest || e.code == errc::kRequestOpen || e.code == errc::kAlreadyApproved) {
    return 409;
  }
  if (e.code == errc::kBadAssignee || e.code == dzong::errc::kValidation) return 422;
  if (e.code == dzong::errc::kUnsupportedMediaType) return 415;
  return 500;
}

std::string Sentence(const web::Web& web, const Request& r, const Error& e) {
  std::string code = e.code;
  if (code.starts_with("workflow.")) code = code.substr(9);
  const std::string key = "apps_err_" + code;
  const std::string text = web.Text(r, key);
  return text == key ? web.Text(r, "apps_err_other") : text;
}

std::string Fill(std::string text, const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [name, value] : values) {
    const std::string mark = "{" + name + "}";
    for (auto at = text.find(mark); at != std::string::npos; at = text.find(mark, at + value.size())) {
      text.replace(at, mark.size(), value);
    }
  }
  return text;
}

std::string Field(const web::Form& form, const std::string& name) {
  const auto it = form.find(name);
  return it == form.end() ? std::string() : it->second;
}

}  // namespace dzong::workflow::pages
