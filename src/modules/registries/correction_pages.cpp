// Correction requests on the web: a person asks for a field of their record
// to be corrected and follows the answer; the register's stewards see the
// open requests, open one beside the record, and mark it done or decline it.
#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/router.h"
#include "modules/registries/page_parts.h"
#include "modules/registries/registries.h"
#include "web/web.h"

namespace dzong::registries::pages {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

std::string FormText(const web::Form& form, const std::string& name) {
  const auto it = form.find(name);
  return it == form.end() ? std::string() : it->second;
}

class CorrectionPages {
 public:
  CorrectionPages(RegistryService& registries, CorrectionService& corrections, web::Web& web)
      : registries_(registries), corrections_(corrections), web_(web) {}

  Response Mine(const Request& r) {
    auto list = corrections_.ForSubject(r.principal.id);
    if (!list.ok()) return web_.ErrorPage(r, list.error(), 500);
    json rows = json::array();
    for (const Correction& k : *list) rows.push_back(Row(r, k));
    return web_.Page(r, "my_corrections", "my_corrections", {{"corrections", rows}, {"none", rows.empty()}});
  }

  Response AskForm(const Request& r) {
    const std::string record = r.QueryParam("record").value_or("");
    auto registry = OwnRegister(r, r.QueryParam("registry").value_or(""), record);
    if (!registry.ok()) return web_.ErrorPage(r, registry.error(), 404);
    return web_.Page(r, "correction_new", "correction_new", AskContext(r, *registry, {{"record", record}}));
  }

  Response Ask(const Request& r) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    auto registry = OwnRegister(r, FormText(*form, "registry"), FormText(*form, "record"));
    if (!registry.ok()) return web_.ErrorPage(r, registry.error(), 404);
    CorrectionRequest request{registry->code, FormText(*form, "field"), FormText(*form, "description"),
                              FormText(*form, "proposed_value"), FormText(*form, "record")};
    auto asked = corrections_.Ask(r.principal.id, request, audit::ActorOf(r));
    if (asked.ok()) return web::Web::Redirect("/my/corrections");
    if (asked.error().code != dzong::errc::kValidation) return web_.ErrorPage(r, asked.error(), 404);
    const json values = {{"field", request.field},
                         {"description", request.description},
                         {"proposed_value", request.proposed_value},
                         {"record", request.record_key}};
    const auto problems = Localise(web_, r, nullptr, asked.error().fields,
                                   {{"field", web_.Text(r, "correction_field"), 0, 0},
                                    {"description", web_.Text(r, "correction_description"), 10, 1000},
                                    {"proposed_value", web_.Text(r, "correction_proposed"), 0, 1000}});
    return web_.ShowProblems(r, "correction_new", "correction_new", AskContext(r, *registry, values), problems);
  }

  Response Open(const Request& r) {
    auto list = corrections_.OpenFor(r.principal.organisation.value_or(""));
    if (!list.ok()) return web_.ErrorPage(r, list.error(), 500);
    json rows = json::array();
    std::vector<std::string> people;
    for (const Correction& k : *list) {
      json row = Row(r, k);
      row["href"] = fmt::format("/steward/corrections/{}", k.id);
      row["key"] = k.record_key;
      rows.push_back(std::move(row));
      if (std::find(people.begin(), people.end(), k.subject) == people.end()) people.push_back(k.subject);
    }
    Response res =
        web_.Page(r, "steward_corrections", "steward_corrections", {{"corrections", rows}, {"none", rows.empty()}});
    res.audit_subjects = std::move(people);
    return res;
  }

  Response One(const Request& r, const std::string& id_text) {
    auto context = OneContext(r, id_text);
    if (!context.ok()) return web_.ErrorPage(r, context.error(), 404);
    Response res = web_.Page(r, "steward_correction", "steward_correction", context->first);
    res.audit_subjects = {context->second};
    return res;
  }

  Response Answer(const Request& r, const std::string& id_text) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return FormError(r, form.error());
    auto context = OneContext(r, id_text);
    if (!context.ok()) return web_.ErrorPage(r, context.error(), 404);
    const std::string outcome = FormText(*form, "outcome");
    const std::string answer = FormText(*form, "answer");
    auto answered = corrections_.Answer(*ParseId(id_text), outcome, answer, audit::ActorOf(r));
    if (answered.ok()) return web::Web::Redirect("/steward/corrections");
    json& page = context->first;
    page["answer"] = answer;
    page["outcome_done"] = outcome == "done";
    page["outcome_declined"] = outcome == "declined";
    std::vector<FieldError> shown;
    int status = 422;
    if (answered.error().code == errc::kCorrectionClosed) {
      status = 409;
      shown.push_back({"outcome", "closed", web_.Text(r, "correction_closed")});
    } else if (answered.error().code == dzong::errc::kValidation) {
      shown = Localise(web_, r, nullptr, answered.error().fields,
                       {{"outcome", web_.Text(r, "correction_outcome"), 0, 0},
                        {"answer", web_.Text(r, "correction_answer"), 0, 1000}});
    } else {
      return web_.ErrorPage(r, answered.error(), 404);
    }
    Response res = web_.ShowProblems(r, "steward_correction", "steward_correction", page, shown, status);
    res.audit_subjects = {context->second};
    return res;
  }

 private:
  bool Dz(const Request& r) const { return web_.Language(r) == "dz"; }

  Response FormError(const Request& r, const Error& e) {
    return web_.ErrorPage(r, e, e.code == "identity.csrf_failed" ? 422 : 415);
  }

  /// A register that holds a record of the person asking: their own, in a
  /// register kept by CID, or `record`, one that names them (a plot, a licence).
  Result<Registry> OwnRegister(const Request& r, const std::string& code, const std::string& record) {
    auto registry = registries_.Get(code);
    if (!registry.ok()) return registry.error();
    if (registry->key_field == "cid") {
      auto own = registries_.GetRecord(code, r.principal.id, std::nullopt);
      if (!own.ok()) return own.error();
      return registry;
    }
    auto named = registries_.RecordsAbout(r.principal.id);
    if (!named.ok()) return named.error();
    const bool theirs = std::any_of(named->begin(), named->end(), [&](const auto& held) {
      return held.first.code == code && held.second.key == record;
    });
    if (!theirs) return Error(errc::kRecordNotFound, fmt::format("record {} of {} does not name you", record, code));
    return registry;
  }

  std::string FieldLabel(const Request& r, const std::string& code, const std::string& field) {
    auto registry = registries_.Get(code);
    if (!registry.ok()) return field;
    for (const auto& f : registry->fields) {
      if (f.name == field) return Label(f, Dz(r));
    }
    return field;
  }

  std::string Title(const Request& r, const std::string& code) {
    auto registry = registries_.Get(code);
    if (!registry.ok()) return code;
    return Dz(r) ? registry->title_dz : registry->title_en;
  }

  json Row(const Request& r, const Correction& k) {
    return {{"id", k.id},
            {"register", Title(r, k.registry)},
            {"field", FieldLabel(r, k.registry, k.field)},
            {"description", k.description},
            {"proposed", k.proposed_value.value_or("")},
            {"asked", web::BhutanTime(k.asked_at)},
            {"status", web_.Text(r, "correction_status_" + k.status)},
            {"open", k.status == "open"},
            {"done", k.status == "done"},
            {"answer", k.answer.value_or("")},
            {"answered", k.answered_at ? web::BhutanTime(*k.answered_at) : ""}};
  }

  json AskContext(const Request& r, const Registry& registry, const json& values) {
    json fields = json::array();
    const json given = values.is_object() ? values : json::object();
    const std::string chosen = given.value("field", "");
    for (const auto& f : registry.fields) {
      fields.push_back({{"name", f.name}, {"label", Label(f, Dz(r))}, {"selected", f.name == chosen}});
    }
    return {{"registry", registry.code},
            {"record", given.value("record", "")},
            {"title", Dz(r) ? registry.title_dz : registry.title_en},
            {"fields", fields},
            {"description", given.value("description", "")},
            {"proposed_value", given.value("proposed_value", "")}};
  }

  /// The request and the record it is about, for the stewards of its
  /// custodian; the second is the person it is about.
  Result<std::pair<json, std::string>> OneContext(const Request& r, const std::string& id_text) {
    const auto id = ParseId(id_text);
    if (!id) return Error(errc::kCorrectionNotFound, "there is no such correction request");
    DZONG_ASSIGN_OR_RETURN(Correction k, corrections_.GetForCustodian(*id, r.principal.organisation.value_or("")));
    DZONG_ASSIGN_OR_RETURN(Registry registry, registries_.Get(k.registry));
    json context = Row(r, k);
    context["key"] = k.record_key;
    const std::string record_href =
        fmt::format("/steward/registries/{}/records/{}", PathSegment(k.registry), PathSegment(k.record_key));
    context["record_href"] = record_href;
    context["edit_href"] = fmt::format("{}/edit?correction={}", record_href, k.id);
    context["action"] = fmt::format("/steward/corrections/{}", k.id);
    auto record = registries_.GetRecord(k.registry, k.record_key, std::nullopt);
    json rows = json::array();
    if (record.ok()) {
      const json data = json::parse(record->data);
      for (const auto& f : registry.fields) {
        rows.push_back({{"label", Label(f, Dz(r))},
                        {"value", data.contains(f.name) ? Text(data[f.name]) : ""},
                        {"asked_about", f.name == k.field}});
      }
      context["version"] = record->version;
    }
    context["rows"] = rows;
    return std::make_pair(std::move(context), k.subject);
  }

  RegistryService& registries_;
  CorrectionService& corrections_;
  web::Web& web_;
};

}  // namespace

Status AddCorrectionPages(http::Router& router, RegistryService& registries, CorrectionService& corrections,
                          web::Web& web) {
  auto pages = std::make_shared<CorrectionPages>(registries, corrections, web);
  DZONG_TRY(router.Add({"GET", "/my/corrections", "consent.self", "registries.own_corrections",
                        [pages](const Request& r, const http::PathParams&) { return pages->Mine(r); },
                        "my correction requests and their answers"}));
  DZONG_TRY(router.Add({"GET", "/my/corrections/new", "consent.self", http::kNoAuditEvent,
                        [pages](const Request& r, const http::PathParams&) { return pages->AskForm(r); },
                        "the form that asks for a correction of my record"}));
  DZONG_TRY(router.Add({"POST", "/my/corrections", "consent.self", "registries.correction_ask",
                        [pages](const Request& r, const http::PathParams&) { return pages->Ask(r); },
                        "ask for a correction of my record"}));
  DZONG_TRY(router.Add({"GET", "/steward/corrections", "registries.steward", "registries.corrections_list",
                        [pages](const Request& r, const http::PathParams&) { return pages->Open(r); },
                        "open correction requests on the registers the organisation keeps"}));
  DZONG_TRY(router.Add({"GET", "/steward/corrections/{id}", "registries.steward", "registries.correction_read",
                        [pages](const Request& r, const http::PathParams& p) { return pages->One(r, p.at("id")); },
                        "a correction request beside the record"}));
  DZONG_TRY(router.Add({"POST", "/steward/corrections/{id}", "registries.steward", "registries.correction_answer",
                        [pages](const Request& r, const http::PathParams& p) { return pages->Answer(r, p.at("id")); },
                        "mark a correction request done, or decline it"}));
  return {};
}

}  // namespace dzong::registries::pages
