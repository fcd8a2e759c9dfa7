// The register updates that decided applications ask of the custodian's
// stewards: the open ones, one beside the application's answers, and the
// steward's answer (done once the record is changed, or declined with a
// reason), recorded on the application.
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/router.h"
#include "modules/workflow/workflow.h"
#include "web/web.h"

namespace dzong::workflow {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

std::optional<std::int64_t> ParseId(const std::string& text) {
  std::int64_t id = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

std::string Shown(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  if (value.is_object() && value.contains("name")) return value.value("name", "");
  if (value.is_object()) {
    std::string out;
    for (const auto& [k, v] : value.items()) out += (out.empty() ? "" : ", ") + Shown(v);
    return out;
  }
  return value.dump();
}

class TaskPages {
 public:
  TaskPages(WorkflowService& workflow, web::Web& web) : workflow_(workflow), web_(web) {}

  Response List(const Request& r) {
    auto tasks = workflow_.OpenTasks(r.principal.organisation.value_or(""), "update_registry");
    if (!tasks.ok()) return web_.ErrorPage(r, tasks.error(), 500);
    json rows = json::array();
    for (const Task& t : *tasks) {
      rows.push_back({{"id", t.id},
                      {"href", fmt::format("/steward/tasks/{}", t.id)},
                      {"reference", t.reference},
                      {"service", t.service},
                      {"registry", t.registry.value_or("")},
                      {"created", web::BhutanTime(t.created_at)}});
    }
    return web_.Page(r, "steward_tasks", "task_list_title", {{"tasks", rows}, {"none", rows.empty()}});
  }

  Response One(const Request& r, const std::string& id_text) {
    auto context = Context(r, id_text);
    if (!context.ok()) return web_.ErrorPage(r, context.error(), 404);
    Response res = web_.Page(r, "steward_task", "task_title", context->first);
    res.audit_subjects = {context->second};
    return res;
  }

  Response Close(const Request& r, const std::string& id_text) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return web_.ErrorPage(r, form.error(), form.error().code == "identity.csrf_failed" ? 422 : 415);
    auto context = Context(r, id_text);
    if (!context.ok()) return web_.ErrorPage(r, context.error(), 404);
    const auto field = [&](const char* name) {
      const auto it = form->find(name);
      return it == form->end() ? std::string() : it->second;
    };
    const std::string outcome = field("outcome");
    const std::string note = field("note");
    auto closed = workflow_.CloseTask(*ParseId(id_text), outcome, note, Who::Of(r.principal), audit::ActorOf(r));
    if (closed.ok()) return web::Web::Redirect("/steward/tasks");
    json& page = context->first;
    page["note"] = note;
    page["outcome_done"] = outcome == "done";
    page["outcome_declined"] = outcome == "declined";
    std::vector<FieldError> shown;
    int status = 422;
    if (closed.error().code == errc::kTaskClosed) {
      status = 409;
      shown.push_back({"outcome", "closed", web_.Text(r, "task_problem_closed")});
    } else if (closed.error().code == dzong::errc::kValidation) {
      for (const FieldError& f : closed.error().fields) {
        shown.push_back({f.field, f.rule, web_.Text(r, "task_problem_" + f.field + "_" + f.rule)});
      }
    } else {
      return web_.ErrorPage(r, closed.error(), closed.error().code == errc::kNotAllowed ? 403 : 404);
    }
    Response res = web_.ShowProblems(r, "steward_task", "task_title", page, shown, status);
    res.audit_subjects = {context->second};
    return res;
  }

 private:
  /// The page's context and the applicant whose answers it shows.
  Result<std::pair<json, std::string>> Context(const Request& r, const std::string& id_text) {
    const auto id = ParseId(id_text);
    if (!id) return Error(errc::kTaskNotFound, "no such task");
    DZONG_ASSIGN_OR_RETURN(Task t, workflow_.GetTask(*id, r.principal.organisation.value_or("")));
    if (t.kind != "update_registry") return Error(errc::kTaskNotFound, "no such task");
    json answers = json::array();
    if (t.answers.is_object()) {
      for (const auto& [k, v] : t.answers.items()) answers.push_back({{"field", k}, {"value", Shown(v)}});
    }
    json page = {{"id", t.id},
                 {"reference", t.reference},
                 {"service", t.service},
                 {"applicant", t.applicant},
                 {"registry", t.registry.value_or("")},
                 {"registry_href", "/steward/registries/" + http::PercentEncode(t.registry.value_or(""))},
                 {"created", web::BhutanTime(t.created_at)},
                 {"answers", answers},
                 {"open", t.status == "open"},
                 {"status", web_.Text(r, "task_status_" + t.status)},
                 {"note", t.note.value_or("")},
                 {"done_by", t.done_by.value_or("")},
                 {"done_at", t.done_at ? web::BhutanTime(*t.done_at) : ""},
                 {"action", fmt::format("/steward/tasks/{}", t.id)}};
    return std::make_pair(std::move(page), t.applicant);
  }

  WorkflowService& workflow_;
  web::Web& web_;
};

}  // namespace

Status AddTaskPages(http::Router& router, WorkflowService& workflow, web::Web& web) {
  auto pages = std::make_shared<TaskPages>(workflow, web);
  DZONG_TRY(router.Add({"GET", "/steward/tasks", "registries.steward", http::kNoAuditEvent,
                        [pages](const Request& r, const http::PathParams&) { return pages->List(r); },
                        "the register updates decided applications ask of the steward's organisation"}));
  DZONG_TRY(router.Add({"GET", "/steward/tasks/{id}", "registries.steward", "workflow.task_read",
                        [pages](const Request& r, const http::PathParams& p) { return pages->One(r, p.at("id")); },
                        "one register update beside the application's answers"}));
  DZONG_TRY(router.Add({"POST", "/steward/tasks/{id}", "registries.steward", "workflow.task_closed",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Close(r, p.at("id")); },
                        "mark a register update done or decline it with a reason"}));
  return {};
}

}  // namespace dzong::workflow
