// Registry definitions are public; records are read and changed by the
// custodian's stewards, each read of a person's record recorded with the
// person as its subject.
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/errors.h"
#include "http/json_input.h"
#include "http/router.h"
#include "modules/registries/registries.h"

namespace dzong::registries {
namespace {

using nlohmann::json;
using http::Request;
using http::Response;

json RegistryJson(const Registry& r) {
  json fields = json::array();
  for (const auto& f : r.fields) {
    json j = {{"name", f.name},         {"type", f.type},         {"required", f.required},
              {"pii", f.pii},           {"description", f.description}, {"label_dz", f.label_dz}};
    if (!f.values.empty()) j["values"] = f.values;
    if (!f.reference.empty()) j["reference"] = f.reference;
    fields.push_back(std::move(j));
  }
  return {{"code", r.code},           {"custodian", r.custodian},         {"title_en", r.title_en},
          {"title_dz", r.title_dz},   {"key_field", r.key_field},         {"schema_version", r.schema_version},
          {"status", r.status},       {"fields", std::move(fields)}};
}

json RecordJson(const Record& r) {
  return {{"registry", r.registry},
          {"key", r.key},
          {"version", r.version},
          {"data", json::parse(r.data)},
          {"valid_from", r.valid_from},
          {"valid_to", r.valid_to ? json(*r.valid_to) : json()},
          {"changed_by", r.changed_by},
          {"reason", r.reason}};
}

/// The registry, for the stewards of its custodian only; anyone else learns
/// nothing of its records.
Result<Registry> CustodiansRegistry(RegistryService& registries, const Request& r, const std::string& code) {
  DZONG_ASSIGN_OR_RETURN(Registry registry, registries.Get(code));
  if (r.principal.organisation != registry.custodian) {
    return Error(errc::kNotCustodian,
                 fmt::format("only the stewards of {} (the custodian) read and change {} records here; other "
                             "agencies use the exchange under an agreement",
                             registry.custodian, code));
  }
  return registry;
}

}  // namespace

Status AddRoutes(http::Router& router, RegistryService& registries) {
  RegistryService* s = &registries;
  DZONG_TRY(router.Add({"GET", "/api/v1/registries", http::kPublic, http::kNoAuditEvent,
                        [s](const Request& r, const http::PathParams&) {
                          auto list = s->List();
                          if (!list.ok()) return http::ErrorResponse(list.error(), r.request_id);
                          json items = json::array();
                          for (const auto& reg : *list) items.push_back(RegistryJson(reg));
                          return http::JsonResponse(200, {{"items", std::move(items)}});
                        },
                        "the registries, their custodians and schemas"}));
  DZONG_TRY(router.Add({"GET", "/api/v1/registries/{code}", http::kPublic, http::kNoAuditEvent,
                        [s](const Request& r, const http::PathParams& p) {
                          auto reg = s->Get(p.at("code"));
                          if (!reg.ok()) return http::ErrorResponse(reg.error(), r.request_id);
                          return http::JsonResponse(200, RegistryJson(*reg));
                        },
                        "one registry and its schema"}));
  DZONG_TRY(router.Add({"GET", "/api/v1/registries/{code}/records/{key}", "registries.steward",
                        "registries.record_read",
                        [s](const Request& r, const http::PathParams& p) {
                          const std::string& code = p.at("code");
                          auto registry = CustodiansRegistry(*s, r, code);
                          if (!registry.ok()) return http::ErrorResponse(registry.error(), r.request_id);
                          std::optional<std::string> as_of = r.QueryParam("as_of");
                          if (as_of && as_of->size() == 10) *as_of += "T23:59:59.999999Z";  // a date: its end
                          auto record = s->GetRecord(code, p.at("key"), as_of);
                          if (!record.ok()) return http::ErrorResponse(record.error(), r.request_id);
                          Response res = http::JsonResponse(200, RecordJson(*record));
                          res.SetHeader("ETag", fmt::format("\"{}\"", record->version));
                          res.audit_subjects = PeopleIn(*registry, *record);
                          return res;
                        },
                        "a record now, or as it was on a date (as_of)"}));
  DZONG_TRY(router.Add({"GET", "/api/v1/registries/{code}/records/{key}/history", "registries.steward",
                        "registries.record_history",
                        [s](const Request& r, const http::PathParams& p) {
                          const std::string& code = p.at("code");
                          auto registry = CustodiansRegistry(*s, r, code);
                          if (!registry.ok()) return http::ErrorResponse(registry.error(), r.request_id);
                          auto history = s->History(code, p.at("key"));
                          if (!history.ok()) return http::ErrorResponse(history.error(), r.request_id);
                          json items = json::array();
                          for (const auto& rec : *history) items.push_back(RecordJson(rec));
                          Response res = http::JsonResponse(200, {{"items", std::move(items)}});
                          if (!history->empty()) res.audit_subjects = PeopleIn(*registry, history->back());
                          return res;
                        },
                        "every version of a record"}));
  DZONG_TRY(router.Add({"PUT", "/api/v1/registries/{code}/records/{key}", "registries.steward",
                        "registries.record_put",
                        [s](const Request& r, const http::PathParams& p) {
                          auto body = http::ParseJsonObject(r);
                          if (!body.ok()) return http::ErrorResponse(body.error(), r.request_id);
                          std::optional<std::int64_t> expected;
                          const std::string_view match = r.HeaderValue("If-Match");
                          if (!match.empty()) {
                            std::string_view v = match;
                            if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
                            std::int64_t n = 0;
                            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
                            if (ec != std::errc() || end != v.data() + v.size()) {
                              return http::ErrorResponse(
                                  Error(dzong::errc::kValidation, "If-Match must be an ETag such as \"3\"",
                                        {{"If-Match", "etag", "If-Match must be the record's ETag, such as \"3\""}}),
                                  r.request_id);
                            }
                            expected = n;
                          }
                          const json data = body->value("data", json());
                          const std::string reason = body->value("reason", std::string());
                          auto record = s->Put(p.at("code"), p.at("key"), data, reason, expected, audit::ActorOf(r));
                          if (!record.ok()) return http::ErrorResponse(record.error(), r.request_id);
                          Response res = http::JsonResponse(200, RecordJson(*record));
                          res.SetHeader("ETag", fmt::format("\"{}\"", record->version));
                          return res;
                        },
                        "create or change a record (stewards of the custodian)"}));
  return {};
}

}  // namespace dzong::registries
