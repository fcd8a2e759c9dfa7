// The catalogue and the definitions as JSON: public for what is published;
// drafts only for the designers of the owning organisation.
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/errors.h"
#include "http/json_input.h"
#include "http/router.h"
#include "modules/services/services.h"

namespace dzong::services {
namespace {

using nlohmann::json;
using http::Request;
using http::Response;

constexpr char kDesign[] = "services.design";

json Summary(const Service& s) {
  const json& d = s.definition;
  return {{"code", s.code},
          {"owner", s.owner},
          {"status", s.status},
          {"version", s.published_version ? json(*s.published_version) : json()},
          {"title", d["title"]},
          {"summary", d["summary"]},
          {"category", d["category"]},
          {"life_events", d["life_events"]},
          {"fee_chhertum", d["fee"]["amount_chhertum"]},
          {"sla_working_days", d["sla_working_days"]}};
}

json VersionJson(const Version& v) {
  return {{"service", v.service},
          {"version", v.version},
          {"status", v.status},
          {"created_by", v.created_by},
          {"created_at", v.created_at},
          {"updated_at", v.updated_at},
          {"published_by", v.published_by ? json(*v.published_by) : json()},
          {"published_at", v.published_at ? json(*v.published_at) : json()},
          {"definition", v.definition}};
}

json LintJson(const std::vector<LintFinding>& findings) {
  json items = json::array();
  for (const auto& f : findings) {
    json j = {{"rule", f.rule}, {"path", f.path}, {"message", f.message}, {"blocking", f.blocking}};
    if (!f.field.empty()) j["field"] = f.field;
    if (!f.registry_field.empty()) j["registry_field"] = f.registry_field;
    if (f.justification) j["justification"] = *f.justification;
    items.push_back(std::move(j));
  }
  return items;
}

bool DesignsFor(const Request& r, const std::string& owner) {
  return r.principal.May(kDesign) && r.principal.organisation == owner;
}

Result<std::int64_t> VersionNumber(const std::string& text) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1) {
    return Error(errc::kVersionNotFound, fmt::format("{} is not a version number", text));
  }
  return n;
}

}  // namespace

Status AddRoutes(http::Router& router, ServiceCatalogue& catalogue) {
  ServiceCatalogue* s = &catalogue;
  DZONG_TRY(router.Add({"GET", "/api/v1/services", http::kPublic, http::kNoAuditEvent,
                        [s](const Request& r, const http::PathParams&) {
                          CatalogueQuery q;
                          q.text = r.QueryParam("q").value_or("");
                          q.life_event = r.QueryParam("life_event").value_or("");
                          q.owner = r.QueryParam("owner").value_or("");
                          q.category = r.QueryParam("category").value_or("");
                          auto list = s->Catalogue(q);
                          if (!list.ok()) return http::ErrorResponse(list.error(), r.request_id);
                          json items = json::array();
                          for (const auto& service : *list) items.push_back(Summary(service));
                          return http::JsonResponse(200, {{"items", std::move(items)}});
                        },
                        "the published services: by life event, agency, category, or words in English or Dzongkha"}));
  DZONG_TRY(router.Add({"GET", "/api/v1/services/{code}", http::kPublic, http::kNoAuditEvent,
                        [s](const Request& r, const http::PathParams& p) {
                          auto service = s->GetPublished(p.at("code"));
                          if (!service.ok()) return http::ErrorResponse(service.error(), r.request_id);
                          json body = Summary(*service);
                          body["definition"] = service->definition;
                          return http::JsonResponse(200, body);
                        },
                        "a published service and its current definition"}));
  DZONG_TRY(router.Add({"GET", "/api/v1/services/{code}/versions/{version}", http::kPublic, http::kNoAuditEvent,
                        [s](const Request& r, const http::PathParams& p) {
                          auto number = VersionNumber(p.at("version"));
                          if (!number.ok()) return http::ErrorResponse(number.error(), r.request_id);
                          auto service = s->Get(p.at("code"));
                          auto version = service.ok() ? s->GetVersion(p.at("code"), *number)
                                                      : Result<Version>(service.error());
                          // A draft is its owner's business until published.
                          if (version.ok() && version->status == "draft" && !DesignsFor(r, service->owner)) {
                            version = Error(errc::kVersionNotFound, "there is no such published version");
                          }
                          if (!version.ok()) return http::ErrorResponse(version.error(), r.request_id);
                          return http::JsonResponse(200, VersionJson(*version));
                        },
                        "one version of a service's definition (drafts for their designers only)"}));
  DZONG_TRY(router.Add({"POST", "/api/v1/services", kDesign, "services.draft_saved",
                        [s](const Request& r, const http::PathParams&) {
                          auto body = http::ParseJsonObject(r);
                          if (!body.ok()) return http::ErrorResponse(body.error(), r.request_id);
                          auto saved = s->SaveDraft(*body, audit::ActorOf(r));
                          if (!saved.ok()) return http::ErrorResponse(saved.error(), r.request_id);
                          Response res = http::JsonResponse(201, VersionJson(*saved));
                          res.SetHeader("Location", fmt::format("/api/v1/services/{}/versions/{}", saved->service,
                                                                saved->version));
                          return res;
                        },
                        "save a definition as its service's draft (designers of the owner)"}));
  DZONG_TRY(router.Add({"POST", "/api/v1/services/lint", kDesign, "services.linted",
                        [s](const Request& r, const http::PathParams&) {
                          auto body = http::ParseJsonObject(r);
                          if (!body.ok()) return http::ErrorResponse(body.error(), r.request_id);
                          std::vector<FieldError> errors = s->Validate(*body);
                          if (!errors.empty()) return http::ErrorResponse(Invalid(std::move(errors)), r.request_id);
                          const auto findings = s->Lint(*body);
                          const bool blocked = std::any_of(findings.begin(), findings.end(),
                                                           [](const LintFinding& f) { return f.blocking; });
                          return http::JsonResponse(200, {{"publishable", !blocked}, {"findings", LintJson(findings)}});
                        },
                        "validate and lint a definition without saving it"}));
  DZONG_TRY(router.Add({"POST", "/api/v1/services/{code}/versions/{version}/publish", kDesign, "services.published",
                        [s](const Request& r, const http::PathParams& p) {
                          auto number = VersionNumber(p.at("version"));
                          if (!number.ok()) return http::ErrorResponse(number.error(), r.request_id);
                          auto published = s->Publish(p.at("code"), *number, audit::ActorOf(r));
                          if (!published.ok()) return http::ErrorResponse(published.error(), r.request_id);
                          return http::JsonResponse(200, VersionJson(*published));
                        },
                        "publish a draft: validation and the once-only lint must pass"}));
  DZONG_TRY(router.Add({"POST", "/api/v1/services/{code}/retire", kDesign, "services.retired",
                        [s](const Request& r, const http::PathParams& p) {
                          auto retired = s->Retire(p.at("code"), audit::ActorOf(r));
                          if (!retired.ok()) return http::ErrorResponse(retired.error(), r.request_id);
                          return http::JsonResponse(200, Summary(*retired));
                        },
                        "take a service out of the catalogue"}));
  DZONG_TRY(router.Add({"GET", "/api/v1/service-justifications", "services.review", http::kNoAuditEvent,
                        [s](const Request& r, const http::PathParams&) {
                          auto list = s->Justifications(r.QueryParam("review").value_or(""));
                          if (!list.ok()) return http::ErrorResponse(list.error(), r.request_id);
                          json items = json::array();
                          for (const auto& j : *list) {
                            items.push_back({{"id", j.id}, {"service", j.service}, {"version", j.version},
                                             {"owner", j.owner}, {"field", j.field},
                                             {"registry_field", j.registry_field}, {"reason", j.reason},
                                             {"recorded_by", j.recorded_by}, {"recorded_at", j.recorded_at},
                                             {"review", j.review}});
                          }
                          return http::JsonResponse(200, {{"items", std::move(items)}});
                        },
                        "the once-only justifications recorded at publication, for the ministry's review"}));
  return {};
}

}  // namespace dzong::services
