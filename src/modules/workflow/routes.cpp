// The workflow as JSON: an organisation's queue for its officers, one
// application for whoever may see it, and the actions on it.
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/errors.h"
#include "http/json_input.h"
#include "http/router.h"
#include "modules/workflow/workflow.h"

namespace dzong::workflow {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

json Optional(const std::optional<std::string>& v) { return v ? json(*v) : json(); }

json CaseJson(const Case& k, const WorkflowService& workflow) {
  json j = {{"reference", k.reference},
            {"service", k.service},
            {"service_version", k.service_version},
            {"owner", k.owner},
            {"applicant", k.applicant},
            {"channel", k.channel},
            {"submitted_by", Optional(k.submitted_by)},
            {"state", k.state},
            {"version", k.row_version},
            {"submitted_at", k.submitted_at},
            {"updated_at", k.updated_at},
            {"fee_chhertum", k.fee_chhertum},
            {"awaiting_payment", k.awaiting_payment},
            {"due_on", Optional(k.due_on)},
            {"paused_since", Optional(k.paused_since)},
            {"assignee", Optional(k.assignee)},
            {"sla", SlaName(workflow.SlaOf(k))},
            {"closed_at", Optional(k.closed_at)},
            {"outcome", k.outcome.empty() ? json() : json(k.outcome)}};
  return j;
}

std::int64_t Number(const std::optional<std::string>& text, std::int64_t fallback) {
  if (!text) return fallback;
  std::int64_t n = 0;
  const auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
  return ec == std::errc() && ptr == text->data() + text->size() ? n : fallback;
}

}  // namespace

Status AddRoutes(http::Router& router, WorkflowService& workflow) {
  WorkflowService* w = &workflow;
  DZONG_TRY(router.Add(
      {"GET", "/api/v1/applications", "applications.work", http::kNoAuditEvent,
       [w](const Request& r, const http::PathParams&) {
         QueueFilter f;
         f.state = r.QueryParam("state").value_or("");
         f.service = r.QueryParam("service").value_or("");
         f.assignee = r.QueryParam("assignee").value_or("");
         f.sla = r.QueryParam("sla").value_or("");
         f.closed = r.QueryParam("closed").value_or("") == "true";
         f.page = Number(r.QueryParam("page"), 1);
         f.page_size = Number(r.QueryParam("page_size"), 25);
         auto page = w->Queue(r.principal.organisation.value_or(""), f, Who::Of(r.principal));
         if (!page.ok()) return http::ErrorResponse(page.error(), r.request_id);
         json items = json::array();
         Response res;
         for (const Case& k : page->cases) {
           items.push_back(CaseJson(k, *w));
           res.audit_subjects.push_back(k.applicant);
         }
         Response out = http::JsonResponse(
             200, {{"items", std::move(items)}, {"total", page->total}, {"page", page->page}, {"pages", page->pages}});
         out.audit_subjects = std::move(res.audit_subjects);
         return out;
       },
       "the officer's organisation's applications: by state, service, assignee (me, none, a username) and SLA, a "
       "page at a time"}));
  DZONG_TRY(router.Add(
      {"GET", "/api/v1/applications/{reference}", "account.self", "workflow.application_read",
       [w](const Request& r, const http::PathParams& p) {
         const Who who = Who::Of(r.principal);
         auto k = w->Get(p.at("reference"), who);
         if (!k.ok()) return http::ErrorResponse(k.error(), r.request_id);
         auto history = w->History(k->id);
         auto available = w->AvailableTo(*k, who);
         auto requests = w->InformationRequests(k->id);
         if (!history.ok()) return http::ErrorResponse(history.error(), r.request_id);
         if (!available.ok()) return http::ErrorResponse(available.error(), r.request_id);
         if (!requests.ok()) return http::ErrorResponse(requests.error(), r.request_id);
         json body = CaseJson(*k, *w);
         body["answers"] = k->answers;
         json events = json::array();
         for (const CaseEvent& e : *history) {
           events.push_back({{"at", e.at},
                             {"kind", e.kind},
                             {"from", e.from_state},
                             {"to", e.to_state},
                             {"transition", e.transition},
                             {"actor", e.actor},
                             {"actor_role", e.actor_role},
                             {"organisation", e.organisation},
                             {"comment", e.comment},
                             {"detail", e.detail}});
         }
         body["history"] = std::move(events);
         json actions = json::array();
         for (const Available& a : *available) {
           actions.push_back({{"transition", a.id},
                              {"label", a.label},
                              {"to", a.to},
                              {"comment_required", a.comment_required},
                              {"approvals_needed", a.approvals_needed},
                              {"approvals_given", a.approvals_given},
                              {"given_by_me", a.given_by_me}});
         }
         body["actions"] = std::move(actions);
         json asked = json::array();
         for (const InformationRequest& q : *requests) {
           asked.push_back({{"asked_by", q.asked_by},
                            {"asked_at", q.asked_at},
                            {"question", q.question},
                            {"answered_at", Optional(q.answered_at)},
                            {"answer", Optional(q.answer)}});
         }
         body["information_requests"] = std::move(asked);
         Response res = http::JsonResponse(200, body);
         res.audit_subjects.push_back(k->applicant);
         return res;
       },
       "one application with its answers, history and the actions the caller may take (the applicant, a citizen "
       "the workflow names, officers of the owner)"}));
  DZONG_TRY(router.Add(
      {"POST", "/api/v1/applications/{reference}/actions", "account.self", "workflow.action",
       [w](const Request& r, const http::PathParams& p) {
         auto body = http::ParseJsonObject(r);
         if (!body.ok()) return http::ErrorResponse(body.error(), r.request_id);
         http::ObjectReader in(*body, {"action", "transition", "version", "comment", "question", "answer", "assignee"});
         const auto action = in.RequiredString("action", 1, 40);
         const auto version = in.OptionalInteger("version", 1, std::numeric_limits<std::int32_t>::max());
         const auto transition = in.OptionalString("transition", 1, 64);
         const auto comment = in.OptionalString("comment", 0, 4000);
         const auto question = in.OptionalString("question", 0, 4000);
         const auto answer = in.OptionalString("answer", 0, 4000);
         const auto assignee = in.OptionalString("assignee", 0, 64);
         if (action && *action != "answer" && !version) {
           in.Fail("version", "required", "give the version of the application you acted on");
         }
         if (action && *action == "transition" && !transition.value) {
           in.Fail("transition", "required", "name the transition to take");
         }
         if (action && *action != "transition" && *action != "request_information" && *action != "answer" &&
             *action != "assign") {
           in.Fail("action", "one_of", "action is one of transition, request_information, answer, assign");
         }
         if (auto finished = in.Finish(); !finished.ok()) return http::ErrorResponse(finished.error(), r.request_id);
         const Who who = Who::Of(r.principal);
         const audit::Actor actor = audit::ActorOf(r);
         Result<Case> done = Error(errc::kNotAllowed, "no action");
         if (*action == "transition") {
           done = w->Act(p.at("reference"), {*transition.value, *version, comment.value.value_or("")}, who, actor);
         } else if (*action == "request_information") {
           done = w->RequestInformation(p.at("reference"), *version, question.value.value_or(""), who, actor);
         } else if (*action == "answer") {
           done = w->ProvideInformation(p.at("reference"), answer.value.value_or(""), who, actor);
         } else {
           done = w->Assign(p.at("reference"), *version, assignee.value.value_or(""), who, actor);
         }
         if (!done.ok()) return http::ErrorResponse(done.error(), r.request_id);
         Response res = http::JsonResponse(200, CaseJson(*done, *w));
         res.audit_subjects.push_back(done->applicant);
         return res;
       },
       "act on an application: take a transition, ask the applicant for information, answer it, or assign it; "
       "`version` is the version acted on (409 when someone else acted first)"}));
  return {};
}

}  // namespace dzong::workflow
