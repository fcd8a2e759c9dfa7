#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/errors.h"
#include "http/json_input.h"
#include "http/router.h"
#include "modules/organisations/organisations.h"

namespace dzong::organisations {
namespace {

using nlohmann::json;

constexpr std::size_t kNameMax = 200;

json ToJson(const Organisation& o) {
  return {{"code", o.code},
          {"name_en", o.name_en},
          {"name_dz", o.name_dz ? json(*o.name_dz) : json()},
          {"kind", o.kind},
          {"parent", o.parent ? json(*o.parent) : json()},
          {"status", o.status},
          {"exchange_id", o.ExchangeId()},
          {"version", o.version},
          {"created_at", o.created_at},
          {"updated_at", o.updated_at}};
}

http::Response OrganisationResponse(int status, const Organisation& o) {
  http::Response r = http::JsonResponse(status, ToJson(o));
  r.SetHeader("ETag", fmt::format("\"{}\"", o.version));
  return r;
}

/// Who the history and audit records name: the authenticated principal.
audit::Actor Actor(const http::Request& request) { return audit::ActorOf(request); }

http::Response List(OrganisationService& service, const http::Request& request) {
  ListQuery query;
  std::vector<FieldError> errors;
  const auto check_enum = [&](const char* name, std::span<const std::string_view> allowed) {
    auto value = request.QueryParam(name);
    if (!value) return std::optional<std::string>();
    if (std::find(allowed.begin(), allowed.end(), *value) == allowed.end()) {
      errors.push_back({name, "one_of", fmt::format("{} must be one of: {}", name, fmt::join(allowed, ", "))});
    }
    return value;
  };
  query.kind = check_enum("kind", kKinds);
  query.status = check_enum("status", kStatuses);
  query.parent = request.QueryParam("parent");
  query.after = request.QueryParam("cursor");
  if (auto limit = request.QueryParam("limit")) {
    int n = 0;
    auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), n);
    if (ec != std::errc() || end != limit->data() + limit->size() || n < 1 || n > 200) {
      errors.push_back({"limit", "range", "limit must be a whole number from 1 to 200"});
    } else {
      query.limit = n;
    }
  }
  if (!errors.empty()) {
    std::string message = errors[0].message;  // copied before the errors move
    return http::ErrorResponse(Error(dzong::errc::kValidation, std::move(message), std::move(errors)),
                               request.request_id);
  }
  auto page = service.List(query);
  if (!page.ok()) return http::ErrorResponse(page.error(), request.request_id);
  json items = json::array();
  for (const Organisation& o : page->items) items.push_back(ToJson(o));
  return http::JsonResponse(200, {{"items", std::move(items)},
                            {"next_cursor", page->next_after ? json(*page->next_after) : json()}});
}

http::Response Create(OrganisationService& service, const http::Request& request) {
  auto body = http::ParseJsonObject(request);
  if (!body.ok()) return http::ErrorResponse(body.error(), request.request_id);
  http::ObjectReader reader(*body, {"code", "name_en", "name_dz", "kind", "parent", "status"});
  NewOrganisation input;
  auto code = reader.RequiredString("code", 1, 32);
  auto name_en = reader.RequiredString("name_en", 1, kNameMax);
  auto name_dz = reader.OptionalString("name_dz", 1, kNameMax);
  auto kind = reader.RequiredString("kind", 1, 64);
  auto parent = reader.OptionalString("parent", 1, 32);
  auto status = reader.OptionalString("status", 1, 32);
  if (Status s = reader.Finish(); !s.ok()) return http::ErrorResponse(s.error(), request.request_id);
  input.code = *code;
  input.name_en = *name_en;
  input.name_dz = name_dz.value;
  input.kind = *kind;
  input.parent = parent.value;
  if (status.value) input.status = *status.value;
  auto created = service.Create(input, Actor(request));
  if (!created.ok()) return http::ErrorResponse(created.error(), request.request_id);
  http::Response r = OrganisationResponse(201, *created);
  r.SetHeader("Location", "/api/v1/organisations/" + created->code);
  return r;
}

http::Response Update(OrganisationService& service, const http::Request& request, const std::string& code) {
  auto body = http::ParseJsonObject(request);
  if (!body.ok()) return http::ErrorResponse(body.error(), request.request_id);
  http::ObjectReader reader(*body, {"name_en", "name_dz", "kind", "parent", "status"});
  if (reader.Has("code")) reader.Fail("code", "immutable", "code cannot be changed; create a new organisation");
  OrganisationChange change;
  auto name_en = reader.OptionalString("name_en", 1, kNameMax);
  if (name_en.present && !name_en.value && body->at("name_en").is_null()) {
    reader.Fail("name_en", "required", "name_en cannot be removed");
  }
  change.name_en = name_en.value;
  if (auto dz = reader.OptionalString("name_dz", 1, kNameMax); dz.present) change.name_dz = dz.value;
  change.kind = reader.OptionalString("kind", 1, 64).value;
  if (auto parent = reader.OptionalString("parent", 1, 32); parent.present) change.parent = parent.value;
  change.status = reader.OptionalString("status", 1, 32).value;
  if (body->empty()) reader.Fail("", "min_properties", "send at least one field to change");
  if (Status s = reader.Finish(); !s.ok()) return http::ErrorResponse(s.error(), request.request_id);

  std::optional<std::int64_t> expected;
  if (std::string_view match = request.HeaderValue("If-Match"); !match.empty()) {
    if (match.size() >= 2 && match.front() == '"' && match.back() == '"') match = match.substr(1, match.size() - 2);
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(match.data(), match.data() + match.size(), v);
    if (ec != std::errc() || end != match.data() + match.size()) {
      return http::ErrorResponse(Error(dzong::errc::kValidation, "If-Match must be an ETag this API returned",
                                       {{"If-Match", "pattern", "If-Match must be a quoted version, e.g. \"3\""}}),
                                 request.request_id);
    }
    expected = v;
  }
  auto updated = service.Update(code, change, expected, Actor(request));
  if (!updated.ok()) return http::ErrorResponse(updated.error(), request.request_id);
  return OrganisationResponse(200, *updated);
}

http::Response History(OrganisationService& service, const http::Request& request, const std::string& code) {
  auto history = service.History(code);
  if (!history.ok()) return http::ErrorResponse(history.error(), request.request_id);
  json items = json::array();
  for (const HistoryEntry& h : *history) {
    items.push_back({{"version", h.version},
                     {"changed_at", h.changed_at},
                     {"changed_by", h.changed_by},
                     {"change", json::parse(h.change, nullptr, false)}});
  }
  return http::JsonResponse(200, {{"items", std::move(items)}});
}

}  // namespace

Status AddRoutes(http::Router& router, OrganisationService& service) {
  OrganisationService* s = &service;
  DZONG_TRY(router.Add({"GET", "/api/v1/organisations", "organisations.read", http::kNoAuditEvent,
                        [s](const http::Request& r, const http::PathParams&) { return List(*s, r); },
                        "list organisations"}));
  DZONG_TRY(router.Add({"POST", "/api/v1/organisations", "organisations.manage", "organisations.create",
                        [s](const http::Request& r, const http::PathParams&) { return Create(*s, r); },
                        "create an organisation"}));
  DZONG_TRY(router.Add({"GET", "/api/v1/organisations/{code}", "organisations.read", http::kNoAuditEvent,
                        [s](const http::Request& r, const http::PathParams& p) {
                          auto o = s->Get(p.at("code"));
                          if (!o.ok()) return http::ErrorResponse(o.error(), r.request_id);
                          return OrganisationResponse(200, *o);
                        },
                        "get an organisation"}));
  DZONG_TRY(router.Add({"PATCH", "/api/v1/organisations/{code}", "organisations.manage", "organisations.update",
                        [s](const http::Request& r, const http::PathParams& p) { return Update(*s, r, p.at("code")); },
                        "change an organisation"}));
  DZONG_TRY(router.Add({"GET", "/api/v1/organisations/{code}/history", "organisations.read", http::kNoAuditEvent,
                        [s](const http::Request& r, const http::PathParams& p) { return History(*s, r, p.at("code")); },
                        "an organisation's change history"}));
  return {};
}

}  // namespace dzong::organisations
