// The officer's pages: the organisation's queue with its filters, paging
// and bulk actions, and an application's page with its answers and files,
// the applicant's population record as the agreement allows (each view
// audited with the application's reference as its purpose), the history,
// and what the workflow lets the officer do: transitions, a request for
// information, claim, release or assign.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/router.h"
#include "modules/audit/audit.h"
#include "modules/forms/forms.h"
#include "modules/registries/registries.h"
#include "modules/workflow/page_parts.h"
#include "modules/workflow/workflow.h"

namespace dzong::workflow::pages {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

constexpr std::size_t kMaxComment = 1000;
constexpr std::size_t kMaxQuestion = 1000;
constexpr std::int64_t kPageSize = 25;
constexpr char kRegister[] = "population";

std::string WorkPath(const std::string& reference) { return "/work/" + http::PercentEncode(reference); }

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto comma = text.find(',', at);
    const std::string item = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

std::string JoinList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

class WorkPages {
 public:
  explicit WorkPages(const Parts& parts) : p_(parts) {}

  Response Queue(const Request& r) {
    QueueFilter filter = FilterOf(r);
    auto context = QueueContext(r, filter);
    if (!context.ok()) return p_.web.ErrorPage(r, context.error(), StatusOf(context.error()));
    // The outcome of the last bulk action, one line per application.
    json results = json::array();
    for (const char* outcome : {"done", "stale", "skipped", "failed"}) {
      for (const std::string& ref : SplitList(r.QueryParam(outcome).value_or(""))) {
        results.push_back({{"reference", ref},
                           {"href", WorkPath(ref)},
                           {"outcome", p_.web.Text(r, std::string("work_bulk_") + outcome)},
                           {"ok", std::string(outcome) == "done"}});
      }
    }
    (*context)["results"] = results;
    (*context)["has_results"] = !results.empty();
    return p_.web.Page(r, "work_queue", "work_title", *context);
  }

  Response Bulk(const Request& r) {
    auto form = p_.web.ReadForm(r);
    if (!form.ok()) return p_.web.ErrorPage(r, form.error(), StatusOf(form.error()));
    if (!r.principal.organisation) return p_.web.ErrorPage(r, Error(errc::kNotAllowed, "no organisation"), 403);
    const std::string organisation = *r.principal.organisation;
    const std::string chosen = Field(*form, "bulk_transition");
    const std::string comment = Field(*form, "bulk_comment");
    std::vector<std::pair<std::string, std::int64_t>> picked;
    for (const auto& [name, value] : *form) {
      if (!name.starts_with("pick-")) continue;
      const auto seen = ParseWhole(value);
      if (seen) picked.emplace_back(name.substr(5), *seen);
    }
    // The transition: "<service>:<transition>" of one of the organisation's services.
    const auto colon = chosen.find(':');
    const std::string service = colon == std::string::npos ? "" : chosen.substr(0, colon);
    const std::string transition = colon == std::string::npos ? "" : chosen.substr(colon + 1);
    std::optional<json> found;
    auto definitions = p_.workflow.OwnedDefinitions(organisation);
    if (!definitions.ok()) return p_.web.ErrorPage(r, definitions.error(), 500);
    for (const json& d : *definitions) {
      if (d.value("code", "") != service || !d.contains("workflow")) continue;
      for (const auto& t : d["workflow"].value("transitions", json::array())) {
        if (t.value("id", "") == transition) found = t;
      }
    }
    std::vector<FieldError> problems;
    if (picked.empty()) {
      problems.push_back({"picks", "required", p_.web.Text(r, "work_bulk_pick_one")});
    }
    if (!found) {
      problems.push_back({"bulk_transition", "required", p_.web.Problem(r, "required", p_.web.Text(r, "work_bulk_action"))});
    } else if (found->value("comment_required", false) && comment.find_first_not_of(" \t\r\n") == std::string::npos) {
      problems.push_back({"bulk_comment", "required", p_.web.Problem(r, "required", p_.web.Text(r, "work_comment"))});
    }
    if (comment.size() > kMaxComment) {
      problems.push_back(
          {"bulk_comment", "at_most", p_.web.Problem(r, "at_most", p_.web.Text(r, "work_comment"), 0, kMaxComment)});
    }
    if (!problems.empty()) {
      QueueFilter filter;
      auto context = QueueContext(r, filter, &*form);
      if (!context.ok()) return p_.web.ErrorPage(r, context.error(), 500);
      (*context)["bulk_comment"] = comment;
      return p_.web.ShowProblems(r, "work_queue", "work_title", *context, problems);
    }
    const Who who = Who::Of(r.principal);
    std::vector<std::string> done, stale, skipped, failed;
    for (const auto& [reference, seen] : picked) {
      auto c = p_.workflow.Get(reference, who);
      if (!c.ok() || c->owner != organisation) {
        failed.push_back(reference);
        continue;
      }
      if (c->service != service) {
        skipped.push_back(reference);
        continue;
      }
      Decision decision{transition, seen, comment};
      auto acted = p_.workflow.Act(reference, decision, who, audit::ActorOf(r));
      if (acted.ok()) {
        done.push_back(reference);
      } else if (acted.error().code == errc::kStale) {
        stale.push_back(reference);
      } else if (acted.error().code == errc::kNotAvailable || acted.error().code == errc::kNotAllowed ||
                 acted.error().code == errc::kPaymentDue || acted.error().code == errc::kAlreadyApproved) {
        skipped.push_back(reference);
      } else {
        failed.push_back(reference);
      }
    }
    std::string location = "/work?";
    const std::pair<const char*, const std::vector<std::string>*> outcomes[] = {
        {"done", &done}, {"stale", &stale}, {"skipped", &skipped}, {"failed", &failed}};
    for (const auto& [name, list] : outcomes) {
      if (!list->empty()) location += fmt::format("{}={}&", name, http::PercentEncode(JoinList(*list)));
    }
    location.pop_back();
    return web::Web::Redirect(location);
  }

  Response Show(const Request& r, const std::string& reference) { return Detail(r, reference, {}, 200); }

  Response Act(const Request& r, const std::string& reference) {
    auto form = p_.web.ReadForm(r);
    if (!form.ok()) return p_.web.ErrorPage(r, form.error(), StatusOf(form.error()));
    Decision decision;
    decision.transition = Field(*form, "transition");
    decision.comment = Field(*form, "comment");
    const std::string field = "comment-" + decision.transition;
    Inputs inputs{{field, decision.comment}};
    const auto seen = ParseWhole(Field(*form, "row_version"));
    if (!seen) return p_.web.ErrorPage(r, Error(dzong::errc::kValidation, "row_version must be a whole number"), 422);
    decision.row_version = *seen;
    if (decision.comment.size() > kMaxComment) {
      return Detail(r, reference,
                    {{field, "at_most", p_.web.Problem(r, "at_most", p_.web.Text(r, "work_comment"), 0, kMaxComment)}},
                    422, inputs);
    }
    if (auto refused = Mine(r, reference)) return std::move(*refused);
    auto done = p_.workflow.Act(reference, decision, Who::Of(r.principal), audit::ActorOf(r));
    if (!done.ok()) return Refused(r, reference, done.error(), field, "work_comment", inputs);
    return web::Web::Redirect(WorkPath(reference));
  }

  Response Ask(const Request& r, const std::string& reference) {
    auto form = p_.web.ReadForm(r);
    if (!form.ok()) return p_.web.ErrorPage(r, form.error(), StatusOf(form.error()));
    const std::string question = Field(*form, "question");
    Inputs inputs{{"question", question}};
    const auto seen = ParseWhole(Field(*form, "row_version"));
    if (!seen) return p_.web.ErrorPage(r, Error(dzong::errc::kValidation, "row_version must be a whole number"), 422);
    const std::string label = p_.web.Text(r, "work_question");
    if (question.find_first_not_of(" \t\r\n") == std::string::npos) {
      return Detail(r, reference, {{"question", "required", p_.web.Problem(r, "required", label)}}, 422, inputs);
    }
    if (question.size() > kMaxQuestion) {
      return Detail(r, reference, {{"question", "at_most", p_.web.Problem(r, "at_most", label, 0, kMaxQuestion)}}, 422,
                    inputs);
    }
    if (auto refused = Mine(r, reference)) return std::move(*refused);
    auto done = p_.workflow.RequestInformation(reference, *seen, question, Who::Of(r.principal), audit::ActorOf(r));
    if (!done.ok()) return Refused(r, reference, done.error(), "question", "work_question", inputs);
    return web::Web::Redirect(WorkPath(reference));
  }

  Response Assign(const Request& r, const std::string& reference) {
    auto form = p_.web.ReadForm(r);
    if (!form.ok()) return p_.web.ErrorPage(r, form.error(), StatusOf(form.error()));
    const std::string what = Field(*form, "do");
    std::string assignee = Field(*form, "assignee");
    Inputs inputs{{"assignee", assignee}};
    const auto seen = ParseWhole(Field(*form, "row_version"));
    if (!seen) return p_.web.ErrorPage(r, Error(dzong::errc::kValidation, "row_version must be a whole number"), 422);
    if (what == "claim") {
      assignee = r.principal.id;
    } else if (what == "release") {
      assignee.clear();
    } else if (what != "assign") {
      return p_.web.ErrorPage(r, Error(dzong::errc::kValidation, "do must be claim, release or assign"), 422);
    } else if (assignee.find_first_not_of(" \t") == std::string::npos) {
      return Detail(r, reference,
                    {{"assignee", "required", p_.web.Problem(r, "required", p_.web.Text(r, "work_assignee_label"))}},
                    422, inputs);
    }
    if (auto refused = Mine(r, reference)) return std::move(*refused);
    auto done = p_.workflow.Assign(reference, *seen, assignee, Who::Of(r.principal), audit::ActorOf(r));
    if (!done.ok()) return Refused(r, reference, done.error(), "assignee", "work_assignee_label", inputs);
    return web::Web::Redirect(WorkPath(reference));
  }

  Response File(const Request& r, const std::string& reference, const std::string& sha256) {
    auto c = Load(r, reference);
    if (!c.ok()) return p_.web.ErrorPage(r, c.error(), StatusOf(c.error()));
    return ServeFile(p_, r, *c, sha256);
  }

 private:
  using Inputs = std::map<std::string, std::string>;

  /// The application, when it belongs to the officer's organisation.
  Result<Case> Load(const Request& r, const std::string& reference) {
    DZONG_ASSIGN_OR_RETURN(Case c, p_.workflow.Get(reference, Who::Of(r.principal)));
    if (!r.principal.organisation || c.owner != *r.principal.organisation) {
      return Error(errc::kNotFound, "no such application in your organisation");
    }
    return c;
  }

  /// A refusal page when the application is not one of the organisation's.
  std::optional<Response> Mine(const Request& r, const std::string& reference) {
    auto c = Load(r, reference);
    if (c.ok()) return std::nullopt;
    return p_.web.ErrorPage(r, c.error(), StatusOf(c.error()));
  }

  QueueFilter FilterOf(const Request& r) {
    QueueFilter f;
    f.state = r.QueryParam("state").value_or("");
    f.service = r.QueryParam("service").value_or("");
    const std::string assignee = r.QueryParam("assignee").value_or("");
    if (assignee == "me" || assignee == "none") f.assignee = assignee;
    const std::string sla = r.QueryParam("sla").value_or("");
    for (const char* known : {"on_time", "due_soon", "overdue", "paused"}) {
      if (sla == known) f.sla = sla;
    }
    f.page = ParseWhole(r.QueryParam("page").value_or("1")).value_or(1);
    f.page_size = kPageSize;
    return f;
  }

  static std::string FilterQuery(const QueueFilter& f, std::int64_t page) {
    std::string q;
    const std::pair<const char*, const std::string*> parts[] = {
        {"state", &f.state}, {"service", &f.service}, {"assignee", &f.assignee}, {"sla", &f.sla}};
    for (const auto& [name, value] : parts) {
      if (!value->empty()) q += fmt::format("{}={}&", name, http::PercentEncode(*value));
    }
    return fmt::format("/work?{}page={}", q, page);
  }

  /// The queue page; `posted`: the bulk form sent, whose choices it keeps.
  Result<json> QueueContext(const Request& r, const QueueFilter& filter, const web::Form* posted = nullptr) {
    const auto sent = [posted](const std::string& name) { return posted ? Field(*posted, name) : std::string(); };
    if (!r.principal.organisation) return Error(errc::kNotAllowed, "officers of an organisation work its queue");
    const std::string organisation = *r.principal.organisation;
    const Who who = Who::Of(r.principal);
    DZONG_ASSIGN_OR_RETURN(std::vector<json> definitions, p_.workflow.OwnedDefinitions(organisation));
    DZONG_ASSIGN_OR_RETURN(QueuePage page, p_.workflow.Queue(organisation, filter, who));
    json services = json::array();
    json states = json::array();
    json transitions = json::array();
    std::vector<std::string> state_ids;
    for (const json& d : definitions) {
      const std::string code = d.value("code", "");
      const std::string title = d.contains("title") ? TextOf(p_.web, r, d["title"]) : code;
      services.push_back({{"value", code}, {"text", title}, {"selected", filter.service == code}});
      if (!filter.service.empty() && filter.service != code) continue;
      if (!d.contains("workflow")) continue;
      for (const auto& s : d["workflow"].value("states", json::array())) {
        const std::string id = s.value("id", "");
        if (s.value("final", false) || std::find(state_ids.begin(), state_ids.end(), id) != state_ids.end()) continue;
        state_ids.push_back(id);
        states.push_back({{"value", id}, {"text", StateTitle(p_.web, r, d, id)}, {"selected", filter.state == id}});
      }
      for (const auto& t : d["workflow"].value("transitions", json::array())) {
        // Bulk actions are the officers' transitions, not a citizen's.
        if (!t.contains("by") || !t["by"].contains("role")) continue;
        const std::string value = code + ":" + t.value("id", "");
        transitions.push_back({{"value", value},
                               {"selected", sent("bulk_transition") == value},
                               {"text", title + ": " + (t.contains("label") ? TextOf(p_.web, r, t["label"]) : "")},
                               {"comment_required", t.value("comment_required", false)}});
      }
    }
    std::map<std::string, json> seen_definitions;
    json rows = json::array();
    for (const Case& c : page.cases) {
      const std::string key = c.service + "/" + std::to_string(c.service_version);
      if (!seen_definitions.contains(key)) {
        auto d = p_.workflow.DefinitionOf(c);
        seen_definitions[key] = d.ok() ? *d : json::object();
      }
      json row = CaseRow(p_, r, c, seen_definitions[key], WorkPath(c.reference));
      row["pick"] = "pick-" + c.reference;
      row["checked"] = !sent("pick-" + c.reference).empty();
      row["mine"] = c.assignee && *c.assignee == r.principal.id;
      rows.push_back(std::move(row));
    }
    json pagination = nullptr;
    if (page.pages > 1) {
      json numbers = json::array();
      for (std::int64_t n = 1; n <= page.pages; ++n) {
        numbers.push_back({{"number", n}, {"href", FilterQuery(filter, n)}, {"current", n == page.page}});
      }
      pagination = {{"pages", numbers},
                    {"previous", page.page > 1 ? FilterQuery(filter, page.page - 1) : ""},
                    {"next", page.page < page.pages ? FilterQuery(filter, page.page + 1) : ""}};
    }
    const auto option = [&](const std::string& value, const std::string& key, const std::string& current) {
      return json{{"value", value}, {"text", p_.web.Text(r, key)}, {"selected", current == value}};
    };
    return json{{"services", services},
                {"states", states},
                {"assignees", json::array({option("", "work_assignee_anyone", filter.assignee),
                                           option("me", "work_assignee_me", filter.assignee),
                                           option("none", "work_assignee_none", filter.assignee)})},
                {"slas", json::array({option("", "work_sla_any", filter.sla), option("on_time", "apps_sla_on_time", filter.sla),
                                      option("due_soon", "apps_sla_due_soon", filter.sla),
                                      option("overdue", "apps_sla_overdue", filter.sla),
                                      option("paused", "apps_sla_paused", filter.sla)})},
                {"rows", rows},
                {"none", rows.empty()},
                {"total", page.total},
                {"page", page.page},
                {"pages", page.pages},
                {"pagination", pagination},
                {"transitions", transitions},
                {"has_transitions", !transitions.empty()},
                {"bulk_comment", ""}};
  }

  Response Refused(const Request& r, const std::string& reference, const Error& e, const std::string& field,
                   const std::string& label_key, const Inputs& inputs) {
    const int status = StatusOf(e);
    if (status == 404 || status == 500 || status == 403) return p_.web.ErrorPage(r, e, status);
    if (e.code == dzong::errc::kValidation) {
      std::vector<FieldError> shown;
      for (const FieldError& f : e.fields) shown.push_back({field, f.rule, p_.web.Problem(r, f.rule, p_.web.Text(r, label_key))});
      if (shown.empty()) shown.push_back({field, "invalid", Sentence(p_.web, r, e)});
      return Detail(r, reference, shown, 422, inputs);
    }
    if (e.code == errc::kBadAssignee) return Detail(r, reference, {{"assignee", "bad_assignee", Sentence(p_.web, r, e)}}, 422, inputs);
    if (e.code == errc::kStale) {
      return Detail(r, reference, {{"someone-else-acted", "stale", Sentence(p_.web, r, e)}}, 409, inputs, true);
    }
    return Detail(r, reference, {{"actions", e.code, Sentence(p_.web, r, e)}}, status, inputs);
  }

  /// The population record's fields the owner may read, as label and value.
  json RecordRows(const Request& r, const Case& c, std::vector<std::string>& shown) {
    json rows = json::array();
    auto fields = p_.forms.ReadableFields(c.owner, kRegister, "service:" + c.service, c.applicant);
    if (!fields.ok() || fields->empty()) return rows;
    auto registry = p_.registries.Get(kRegister);
    auto record = p_.registries.GetRecord(kRegister, c.applicant, std::nullopt);
    if (!registry.ok() || !record.ok()) return rows;
    const json data = json::parse(record->data, nullptr, false);
    if (!data.is_object()) return rows;
    const bool dz = p_.web.Language(r) == "dz";
    for (const registries::FieldSpec& f : registry->fields) {
      if (std::find(fields->begin(), fields->end(), f.name) == fields->end()) continue;
      std::string value;
      if (data.contains(f.name) && !data[f.name].is_null()) {
        value = data[f.name].is_string() ? data[f.name].get<std::string>() : data[f.name].dump();
      }
      rows.push_back({{"label", dz && !f.label_dz.empty() ? f.label_dz : f.description}, {"value", value}});
      shown.push_back(f.name);
    }
    return rows;
  }

  Response Detail(const Request& r, const std::string& reference, const std::vector<FieldError>& problems, int status,
                  const Inputs& inputs = {}, bool stale = false) {
    auto found = Load(r, reference);
    if (!found.ok()) return p_.web.ErrorPage(r, found.error(), StatusOf(found.error()));
    const Case& c = *found;
    const Who who = Who::Of(r.principal);
    auto definition_read = p_.workflow.DefinitionOf(c);
    if (!definition_read.ok()) return p_.web.ErrorPage(r, definition_read.error(), 500);
    const json& definition = *definition_read;
    auto events = p_.workflow.History(c.id);
    if (!events.ok()) return p_.web.ErrorPage(r, events.error(), 500);
    auto requests = p_.workflow.InformationRequests(c.id);
    if (!requests.ok()) return p_.web.ErrorPage(r, requests.error(), 500);
    auto available = p_.workflow.AvailableTo(c, who);
    if (!available.ok()) return p_.web.ErrorPage(r, available.error(), 500);
    const auto input = [&](const std::string& name) {
      const auto it = inputs.find(name);
      return it == inputs.end() ? std::string() : it->second;
    };
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
                         {"comment_id", "comment-" + a.id},
                         {"comment", input("comment-" + a.id)},
                         {"comment_required", a.comment_required},
                         {"several", a.approvals_needed > 1},
                         {"approvals", Fill(p_.web.Text(r, "work_approvals"),
                                            {{"given", std::to_string(a.approvals_given)},
                                             {"needed", std::to_string(a.approvals_needed)}})},
                         {"given_by_me", a.given_by_me}});
    }
    json open_request = nullptr;
    json answered = json::array();
    for (const InformationRequest& q : *requests) {
      json item = {{"question", q.question},
                   {"asked_by", q.asked_by},
                   {"asked", web::BhutanTime(q.asked_at)},
                   {"answer", q.answer.value_or("")},
                   {"answered", q.answered_at ? web::BhutanTime(*q.answered_at) : ""}};
      if (!q.answered_at) {
        open_request = item;
      } else {
        answered.push_back(item);
      }
    }
    std::vector<std::string> shown;
    json record = RecordRows(r, c, shown);
    json last = nullptr;
    const json history = HistoryRows(p_, r, c, definition, *events, true);
    if (!history.empty()) last = history.back();
    const bool open = c.outcome.empty();
    json context = {
        {"reference", c.reference},
        {"service_title", definition.contains("title") ? TextOf(p_.web, r, definition["title"]) : c.service},
        {"state", StateTitle(p_.web, r, definition, c.state)},
        {"sla", SlaTag(p_.web, r, p_.workflow.SlaOf(c))},
        {"applicant", c.applicant},
        {"channel", c.channel},
        {"submitted", web::BhutanTime(c.submitted_at)},
        {"submitted_by", c.submitted_by.value_or("")},
        {"due", c.due_on ? DayOf(*c.due_on) : ""},
        {"assignee", c.assignee.value_or("")},
        {"assigned_to_me", c.assignee && *c.assignee == r.principal.id},
        {"awaiting_payment", c.awaiting_payment},
        {"open", open},
        {"row_version", c.row_version},
        {"actions", actions},
        {"has_actions", !actions.empty()},
        {"action", WorkPath(c.reference) + "/actions"},
        {"ask_action", WorkPath(c.reference) + "/information"},
        {"assign_action", WorkPath(c.reference) + "/assignee"},
        {"question", input("question")},
        {"assignee_input", input("assignee")},
        {"open_request", open_request},
        {"may_ask", open && open_request.is_null()},
        {"answered", answered},
        {"has_answered", !answered.empty()},
        {"record", record},
        {"has_record", !record.empty()},
        {"history", history},
        {"last", last},
        {"sections", AnswerSections(p_, r, c, definition, WorkPath(c.reference))},
        {"stale", stale}};
    Response res = problems.empty() ? p_.web.Page(r, "work_application", "work_application", context, status)
                                    : p_.web.ShowProblems(r, "work_application", "work_application", context, problems, status);
    if (!shown.empty()) {
      // The applicant sees this read in their data tracker, with the
      // application it served as its purpose.
      audit::Actor actor = audit::ActorOf(r);
      actor.purpose = c.reference;
      audit::Event read = audit::For(actor, "workflow.registry_read", "registry_record",
                                     std::string(kRegister) + "/" + c.applicant,
                                     json{{"registry", kRegister}, {"fields", shown}, {"application", c.reference}}.dump());
      read.subject = c.applicant;
      const Clock& clock = p_.workflow.clock();
      res.commit_with = [read, &clock](db::Connection& conn) -> Status {
        auto appended = audit::Append(conn, read, clock);
        if (!appended.ok()) return appended.error();
        return {};
      };
    }
    return res;
  }

  Parts p_;
};

}  // namespace

Status AddWorkPages(http::Router& router, const Parts& parts) {
  auto pages = std::make_shared<WorkPages>(parts);
  DZONG_TRY(router.Add({"GET", "/work", "applications.work", "workflow.queue_read",
                        [pages](const Request& r, const http::PathParams&) { return pages->Queue(r); },
                        "the organisation's applications, filtered and paged"}));
  DZONG_TRY(router.Add({"POST", "/work/bulk", "applications.work", "workflow.application_act",
                        [pages](const Request& r, const http::PathParams&) { return pages->Bulk(r); },
                        "take one transition on each selected application"}));
  DZONG_TRY(router.Add({"GET", "/work/{reference}", "applications.work", "workflow.application_read",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Show(r, p.at("reference")); },
                        "an application of the organisation, with the applicant's record and the actions"}));
  DZONG_TRY(router.Add({"POST", "/work/{reference}/actions", "applications.work", "workflow.application_act",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Act(r, p.at("reference")); },
                        "take a transition on an application"}));
  DZONG_TRY(router.Add({"POST", "/work/{reference}/information", "applications.work", "workflow.information_request",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Ask(r, p.at("reference")); },
                        "ask the applicant for more information"}));
  DZONG_TRY(router.Add({"POST", "/work/{reference}/assignee", "applications.work", "workflow.application_assign",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Assign(r, p.at("reference")); },
                        "claim, release or assign an application"}));
  DZONG_TRY(router.Add({"GET", "/work/{reference}/files/{sha256}", "applications.work", "workflow.file_read",
                        [pages](const Request& r, const http::PathParams& p) {
                          return pages->File(r, p.at("reference"), p.at("sha256"));
                        },
                        "a file of an application, as an attachment"}));
  // A page answering one of the forms above (a problem, "someone else
  // acted") links to its own address, e.g. to switch language: back to
  // the page the form is on.
  DZONG_TRY(router.Add({"GET", "/work/bulk", "applications.work", http::kNoAuditEvent,
                        [](const Request&, const http::PathParams&) { return web::Web::Redirect("/work"); },
                        "back to the queue"}));
  for (const char* form : {"actions", "information", "assignee"}) {
    DZONG_TRY(router.Add({"GET", std::string("/work/{reference}/") + form, "applications.work", http::kNoAuditEvent,
                          [](const Request&, const http::PathParams& p) {
                            return web::Web::Redirect("/work/" + http::PercentEncode(p.at("reference")));
                          },
                          "back to the application"}));
  }
  return {};
}

}  // namespace dzong::workflow::pages
