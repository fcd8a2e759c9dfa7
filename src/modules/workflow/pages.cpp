// The citizen's pages of the workflow: their applications and those that
// wait for them, each application's status, what happens next, history and
// answers, an open request for information to answer, and the transitions
// the workflow lets them take (withdraw; a named citizen's confirmation).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/router.h"
#include "modules/workflow/page_parts.h"
#include "modules/workflow/workflow.h"

namespace dzong::workflow {
namespace pages {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

constexpr std::size_t kMaxAnswer = 2000;
constexpr std::size_t kMaxComment = 1000;

std::string MyPath(const std::string& reference) { return "/my/applications/" + http::PercentEncode(reference); }

std::string Money(std::int64_t chhertum) { return fmt::format("Nu. {}.{:02}", chhertum / 100, chhertum % 100); }

class CitizenPages {
 public:
  explicit CitizenPages(const Parts& parts) : p_(parts) {}

  Response List(const Request& r) {
    const Who who = Who::Of(r.principal);
    auto mine = p_.workflow.OfCitizen(who.username);
    if (!mine.ok()) return p_.web.ErrorPage(r, mine.error(), 500);
    auto waiting = p_.workflow.WaitingFor(who.username);
    if (!waiting.ok()) return p_.web.ErrorPage(r, waiting.error(), 500);
    json rows = json::array();
    for (const Case& c : *mine) rows.push_back(Row(r, c));
    json waiting_rows = json::array();
    for (const Case& c : *waiting) waiting_rows.push_back(Row(r, c));
    return p_.web.Page(r, "my_applications", "apps_title",
                       {{"applications", rows},
                        {"none", rows.empty()},
                        {"waiting", waiting_rows},
                        {"has_waiting", !waiting_rows.empty()}});
  }

  Response Show(const Request& r, const std::string& reference) { return Detail(r, reference, {}, 200); }

  Response Act(const Request& r, const std::string& reference) {
    auto form = p_.web.ReadForm(r);
    if (!form.ok()) return p_.web.ErrorPage(r, form.error(), StatusOf(form.error()));
    Decision decision;
    decision.transition = Field(*form, "transition");
    decision.comment = Field(*form, "comment");
    const auto seen = ParseWhole(Field(*form, "row_version"));
    if (!seen) return p_.web.ErrorPage(r, Error(dzong::errc::kValidation, "row_version must be a whole number"), 422);
    decision.row_version = *seen;
    const std::string comment_field = "comment-" + decision.transition;
    if (decision.comment.size() > kMaxComment) {
      return Detail(r, reference,
                    {{comment_field, "at_most", p_.web.Problem(r, "at_most", p_.web.Text(r, "apps_comment"), 0, kMaxComment)}},
                    422);
    }
    auto done = p_.workflow.Act(reference, decision, Who::Of(r.principal), audit::ActorOf(r));
    if (!done.ok()) return Refused(r, reference, done.error(), comment_field);
    return web::Web::Redirect(MyPath(reference));
  }

  Response Answer(const Request& r, const std::string& reference) {
    auto form = p_.web.ReadForm(r);
    if (!form.ok()) return p_.web.ErrorPage(r, form.error(), StatusOf(form.error()));
    const std::string answer = Field(*form, "answer");
    const std::string label = p_.web.Text(r, "apps_answer_label");
    if (answer.find_first_not_of(" \t\r\n") == std::string::npos) {
      return Detail(r, reference, {{"answer", "required", p_.web.Problem(r, "required", label)}}, 422, answer);
    }
    if (answer.size() > kMaxAnswer) {
      return Detail(r, reference, {{"answer", "at_most", p_.web.Problem(r, "at_most", label, 0, kMaxAnswer)}}, 422,
                    answer);
    }
    auto done = p_.workflow.ProvideInformation(reference, answer, Who::Of(r.principal), audit::ActorOf(r));
    if (!done.ok()) return Refused(r, reference, done.error(), "answer");
    return web::Web::Redirect(MyPath(reference));
  }

  Response File(const Request& r, const std::string& reference, const std::string& sha256) {
    auto c = p_.workflow.Get(reference, Who::Of(r.principal));
    if (!c.ok()) return p_.web.ErrorPage(r, c.error(), StatusOf(c.error()));
    return ServeFile(p_, r, *c, sha256);
  }

 private:
  json Row(const Request& r, const Case& c) {
    auto definition = p_.workflow.DefinitionOf(c);
    return CaseRow(p_, r, c, definition.ok() ? *definition : json::object(), MyPath(c.reference));
  }

  /// An action the workflow refused: the page again, saying why; a
  /// version someone else changed shows the application as it is now.
  Response Refused(const Request& r, const std::string& reference, const Error& e, const std::string& field) {
    const int status = StatusOf(e);
    if (status == 404 || status == 500) return p_.web.ErrorPage(r, e, status);
    if (e.code == dzong::errc::kValidation && !e.fields.empty()) {
      std::vector<FieldError> shown;
      for (const FieldError& f : e.fields) {
        const std::string name = f.field == "comment" ? field : f.field;
        shown.push_back({name, f.rule, p_.web.Problem(r, f.rule, p_.web.Text(r, "apps_comment"))});
      }
      return Detail(r, reference, shown, 422);
    }
    if (e.code == errc::kStale) {
      return Detail(r, reference, {{"someone-else-acted", "stale", Sentence(p_.web, r, e)}}, 409, "", true);
    }
    return Detail(r, reference, {{"actions", e.code, Sentence(p_.web, r, e)}}, status);
  }

  Response Detail(const Request& r, const std::string& reference, const std::vector<FieldError>& problems, int status,
                  const std::string& answer = "", bool stale = false) {
    const Who who = Who::Of(r.principal);
    auto found = p_.workflow.Get(reference, who);
    if (!found.ok()) return p_.web.ErrorPage(r, found.error(), StatusOf(found.error()));
    const Case& c = *found;
    auto definition_read = p_.workflow.DefinitionOf(c);
    if (!definition_read.ok()) return p_.web.ErrorPage(r, definition_read.error(), 500);
    const json& definition = *definition_read;
    auto events = p_.workflow.History(c.id);
    if (!events.ok()) return p_.web.ErrorPage(r, events.error(), 500);
    auto requests = p_.workflow.InformationRequests(c.id);
    if (!requests.ok()) return p_.web.ErrorPage(r, requests.error(), 500);
    auto available = p_.workflow.AvailableTo(c, who);
    if (!available.ok()) return p_.web.ErrorPage(r, available.error(), 500);

    const bool mine = c.applicant == who.username;
    json actions = json::array();
    const auto problem_of = [&](const std::string& field) {
      for (const FieldError& f : problems) {
        if (f.field == field) return f.message;
      }
      return std::string();
    };
    for (const Available& a : *available) {
      actions.push_back({{"id", a.id},
                         {"problem", problem_of("comment-" + a.id)},
                         {"label", TextOf(p_.web, r, a.label)},
                         {"comment_required", a.comment_required},
                         {"comment_id", "comment-" + a.id},
                         {"warning", a.id == "withdraw" || a.to == "withdrawn"},
                         {"row_version", c.row_version}});
    }
    json open_request = nullptr;
    json answered = json::array();
    for (const InformationRequest& q : *requests) {
      if (!q.answered_at) {
        open_request = {{"question", q.question}, {"asked", web::BhutanTime(q.asked_at)}};
      } else {
        answered.push_back({{"question", q.question},
                            {"asked", web::BhutanTime(q.asked_at)},
                            {"answer", q.answer.value_or("")},
                            {"answered", web::BhutanTime(*q.answered_at)}});
      }
    }
    const std::string title = definition.contains("title") ? TextOf(p_.web, r, definition["title"]) : c.service;
    const std::string state = StateTitle(p_.web, r, definition, c.state);
    // What happens next, in one sentence.
    std::string next;
    if (!c.outcome.empty()) {
      next = p_.web.Text(r, "apps_next_" + c.outcome);
    } else if (c.awaiting_payment && mine) {
      next = p_.web.Text(r, "apps_next_pay");
    } else if (!open_request.is_null() && mine) {
      next = p_.web.Text(r, "apps_next_answer");
    } else if (!actions.empty() && !mine) {
      next = p_.web.Text(r, "apps_next_your_decision");
    } else if (c.due_on) {
      next = Fill(p_.web.Text(r, "apps_next_decide_by"), {{"owner", c.owner}, {"date", DayOf(*c.due_on)}});
    } else {
      next = Fill(p_.web.Text(r, "apps_next_wait"), {{"owner", c.owner}});
    }
    json context = {{"reference", c.reference},
                    {"service_title", title},
                    {"owner", c.owner},
                    {"state", state},
                    {"closed", !c.outcome.empty()},
                    {"sla", SlaTag(p_.web, r, p_.workflow.SlaOf(c))},
                    {"submitted", web::BhutanTime(c.submitted_at)},
                    {"submitted_by", c.submitted_by.value_or("")},
                    {"due", c.due_on ? DayOf(*c.due_on) : ""},
                    {"fee", c.fee_chhertum > 0 ? Money(c.fee_chhertum) : ""},
                    {"pay_href", c.awaiting_payment && mine ? MyPath(c.reference) + "/pay" : ""},
                    {"next", next},
                    {"is_applicant", mine},
                    {"open_request", open_request},
                    {"answer_open", !open_request.is_null() && mine},
                    {"answer", answer},
                    {"answered", answered},
                    {"has_answered", !answered.empty()},
                    {"actions", actions},
                    {"has_actions", !actions.empty()},
                    {"action", MyPath(c.reference) + "/actions"},
                    {"answer_action", MyPath(c.reference) + "/information"},
                    {"history", HistoryRows(p_, r, c, definition, *events, false)},
                    {"sections", AnswerSections(p_, r, c, definition, MyPath(c.reference))},
                    {"stale", stale}};
    if (problems.empty()) return p_.web.Page(r, "my_application", "apps_application", context, status);
    return p_.web.ShowProblems(r, "my_application", "apps_application", context, problems, status);
  }

  Parts p_;
};

}  // namespace

Status AddCitizenPages(http::Router& router, const Parts& parts) {
  auto pages = std::make_shared<CitizenPages>(parts);
  DZONG_TRY(router.Add({"GET", "/my/applications", "consent.self", "workflow.applications_list",
                        [pages](const Request& r, const http::PathParams&) { return pages->List(r); },
                        "my applications, and those waiting for me"}));
  DZONG_TRY(router.Add({"GET", "/my/applications/{reference}", "consent.self", "workflow.application_read",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Show(r, p.at("reference")); },
                        "one of my applications: status, next step, history and answers"}));
  DZONG_TRY(router.Add({"POST", "/my/applications/{reference}/actions", "consent.self", "workflow.application_act",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Act(r, p.at("reference")); },
                        "take a transition the workflow offers me (withdraw, confirm, decline)"}));
  DZONG_TRY(router.Add({"POST", "/my/applications/{reference}/information", "consent.self",
                        "workflow.information_provide",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Answer(r, p.at("reference")); },
                        "answer the open request for more information"}));
  DZONG_TRY(router.Add({"GET", "/my/applications/{reference}/files/{sha256}", "consent.self", "workflow.file_read",
                        [pages](const Request& r, const http::PathParams& p) {
                          return pages->File(r, p.at("reference"), p.at("sha256"));
                        },
                        "a file of one of my applications, as an attachment"}));
  // Back to the application from a page answering its forms (e.g. to switch language).
  for (const char* form : {"actions", "information"}) {
    DZONG_TRY(router.Add({"GET", std::string("/my/applications/{reference}/") + form, "consent.self",
                          http::kNoAuditEvent,
                          [](const Request&, const http::PathParams& p) {
                            return web::Web::Redirect("/my/applications/" + http::PercentEncode(p.at("reference")));
                          },
                          "back to the application"}));
  }
  return {};
}

}  // namespace pages

Status AddPages(http::Router& router, WorkflowService& workflow, forms::FormService& forms,
                registries::RegistryService& registries, web::Web& web) {
  const pages::Parts parts{workflow, forms, registries, web};
  DZONG_TRY(pages::AddCitizenPages(router, parts));
  DZONG_TRY(pages::AddWorkPages(router, parts));
  return {};
}

}  // namespace dzong::workflow
