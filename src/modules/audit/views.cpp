// The citizen's data tracker and the auditors' search.
#include "modules/audit/views.h"

#include <charconv>
#include <chrono>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/csv.h"
#include "http/errors.h"
#include "http/json_input.h"
#include "http/router.h"
#include "modules/audit/audit.h"
#include "modules/organisations/organisations.h"
#include "web/web.h"

namespace dzong::audit {
namespace {

using nlohmann::json;
using http::Request;
using http::Response;

constexpr int kPerPage = 25;
constexpr int kCsvMax = 100000;

/// "2026-11-29", a day in Bhutan (UTC+6), as the UTC time it starts at.
std::optional<std::string> BhutanDayStart(std::string_view text, int add_days = 0) {
  const auto day = ParseDate(text);
  if (!day) return std::nullopt;
  using namespace std::chrono;
  return FormatUtc(time_point_cast<system_clock::duration>(sys_time<seconds>(*day + days{add_days}) - hours{6}));
}

/// The filters of a search, read from the query string; each bad one is a
/// field error naming the rule.
struct Filters {
  SearchQuery query;
  std::vector<FieldError> errors;
  json echo = json::object();  ///< what was asked, to refill the form
};

Filters ReadFilters(const Request& r, bool auditor, int default_limit) {
  Filters f;
  f.query.limit = default_limit;
  const auto text = [&](const char* name, std::optional<std::string>& out, std::size_t max) {
    auto v = r.QueryParam(name);
    if (!v || v->empty()) return;
    f.echo[name] = *v;
    if (v->size() > max) {
      f.errors.push_back({name, "max_length", fmt::format("{} must be at most {} characters", name, max)});
      return;
    }
    out = *v;
  };
  text("organisation", f.query.organisation, 64);
  if (auditor) {
    text("actor", f.query.actor, 128);
    text("subject", f.query.subject, 32);
    text("action", f.query.action, 128);
    if (auto v = r.QueryParam("outcome"); v && !v->empty()) {
      f.echo["outcome"] = *v;
      if (*v == "allowed" || *v == "denied") {
        f.query.allowed = *v == "allowed";
      } else {
        f.errors.push_back({"outcome", "one_of", "outcome must be one of: allowed, denied"});
      }
    }
  }
  const auto date = [&](const char* name, std::optional<std::string>& out, int add_days) {
    auto v = r.QueryParam(name);
    if (!v || v->empty()) return;
    f.echo[name] = *v;
    out = BhutanDayStart(*v, add_days);
    if (!out) f.errors.push_back({name, "date", fmt::format("{} must be a date such as 2026-11-29", name)});
  };
  date("from", f.query.from, 0);
  date("to", f.query.to, 1);  // to a day, inclusive
  if (f.query.from && f.query.to && *f.query.to <= *f.query.from) {
    f.errors.push_back({"to", "not_before", "to must not be before from"});
  }
  const auto integer = [&](const char* name, std::int64_t min, std::int64_t max, std::int64_t& out) {
    auto v = r.QueryParam(name);
    if (!v || v->empty()) return false;
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || end != v->data() + v->size() || n < min || n > max) {
      f.errors.push_back({name, "range", fmt::format("{} must be a whole number from {} to {}", name, min, max)});
      return false;
    }
    out = n;
    return true;
  };
  std::int64_t cursor = 0;
  if (integer("cursor", 1, INT64_MAX, cursor)) f.query.before = cursor;
  std::int64_t limit = 0;
  if (integer("limit", 1, 200, limit)) f.query.limit = static_cast<int>(limit);
  return f;
}

/// Whose hands the data passed through, as the citizen is told.
class Describer {
 public:
  Describer(const web::Web& web, const Request& r, organisations::OrganisationService& organisations,
            ViewPolicy policy)
      : web_(web), request_(r), organisations_(organisations), policy_(policy) {}

  json Organisation(const std::optional<std::string>& code) {
    if (!code) return nullptr;
    auto it = names_.find(*code);
    if (it == names_.end()) {
      auto o = organisations_.Get(*code);
      json name = {{"code", *code}, {"name", *code}};
      if (o.ok()) name["name"] = web_.Language(request_) == "dz" && o->name_dz ? *o->name_dz : o->name_en;
      it = names_.emplace(*code, std::move(name)).first;
    }
    return it->second;
  }

  /// The system's name, the officer's roles (and name when the policy
  /// says so), or what kind of person acted.
  std::string Who(const Event& e) const {
    const std::string& role = e.actor_role;
    if (role == "system") return e.actor;
    if (role.empty()) return e.actor == "anonymous" ? Text("who_anonymous") : Text("who_platform");
    if (role == "operator") return Text("who_operator");
    if (role == "citizen") return Text("who_citizen");
    std::string out;
    std::size_t start = 0;
    while (start < role.size()) {
      std::size_t end = role.find(' ', start);
      if (end == std::string::npos) end = role.size();
      const std::string code = role.substr(start, end - start);
      if (!out.empty()) out += ", ";
      out += Text("role." + code);
      start = end + 1;
    }
    if (policy_.show_officer_names) out += " (" + e.actor + ")";
    return out;
  }

  std::string What(const Event& e) const {
    const std::string key = "action." + e.action;
    const std::string text = web_.Text(request_, key);
    return text == key ? e.action : text;
  }

  std::string Text(const std::string& key) const { return web_.Text(request_, key); }

 private:
  const web::Web& web_;
  const Request& request_;
  organisations::OrganisationService& organisations_;
  ViewPolicy policy_;
  std::map<std::string, json> names_;
};

json TrackerItem(const StoredEvent& e, Describer& describe) {
  return {{"seq", e.seq},
          {"at", e.at},
          {"organisation", describe.Organisation(e.event.actor_organisation)},
          {"accessed_by", describe.Who(e.event)},
          {"action", e.event.action},
          {"what", describe.What(e.event)},
          {"purpose", e.event.purpose},
          {"outcome", e.event.allowed ? "allowed" : "denied"}};
}

json AuditItem(const StoredEvent& e) {
  return {{"seq", e.seq},
          {"at", e.at},
          {"actor", e.event.actor},
          {"actor_organisation", e.event.actor_organisation ? json(*e.event.actor_organisation) : json()},
          {"actor_role", e.event.actor_role},
          {"action", e.event.action},
          {"object_type", e.event.object_type},
          {"object_id", e.event.object_id},
          {"subject", e.event.subject ? json(*e.event.subject) : json()},
          {"purpose", e.event.purpose},
          {"outcome", e.event.allowed ? "allowed" : "denied"},
          {"request_id", e.event.request_id},
          {"remote", e.event.remote},
          {"detail", e.event.detail},
          {"hash", e.hash}};
}

/// The query string of the filters with the cursor set, for links.
std::string LinkQuery(const json& echo, std::optional<std::int64_t> cursor) {
  std::string q;
  for (const auto& [name, value] : echo.items()) {
    q += (q.empty() ? "?" : "&") + name + "=";
    for (unsigned char ch : value.get<std::string>()) {
      if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_') {
        q += static_cast<char>(ch);
      } else {
        q += fmt::format("%{:02X}", ch);
      }
    }
  }
  if (cursor) q += fmt::format("{}cursor={}", q.empty() ? "?" : "&", *cursor);
  return q;
}

class Views {
 public:
  Views(db::Database& db, web::Web& web, organisations::OrganisationService& organisations, ViewPolicy policy)
      : db_(db), web_(web), organisations_(organisations), policy_(policy) {}

  /// The tracker's search: the signed-in citizen's own data, what others did with it.
  Result<SearchPage> TrackerPage(const Request& r, Filters& f) {
    f.query.subject = r.principal.id;
    f.query.not_actor = r.principal.id;
    f.query.actor.reset();
    if (!f.errors.empty()) return Error(dzong::errc::kValidation, "the filters are not valid", f.errors);
    return Search(db_, f.query);
  }

  Response TrackerApi(const Request& r) {
    Filters f = ReadFilters(r, false, kPerPage);
    auto page = TrackerPage(r, f);
    if (!page.ok()) return http::ErrorResponse(page.error(), r.request_id);
    Describer describe(web_, r, organisations_, policy_);
    json items = json::array();
    for (const auto& e : page->items) items.push_back(TrackerItem(e, describe));
    return http::JsonResponse(200, {{"items", std::move(items)},
                      {"next_cursor", page->next_before ? json(std::to_string(*page->next_before)) : json()}});
  }

  Response TrackerHtml(const Request& r) {
    Filters f = ReadFilters(r, false, kPerPage);
    auto page = TrackerPage(r, f);
    json context = {{"filters", f.echo}, {"csv_link", "/my/data-access.csv" + LinkQuery(f.echo, std::nullopt)}};
    auto organisations = TrackerOrganisations(r);
    if (organisations.ok()) context["organisations"] = *organisations;
    if (!page.ok()) {
      if (page.error().code == dzong::errc::kValidation) {
        return web_.Invalid(r, "data_access", "data_tracker", context, page.error());
      }
      return web_.ErrorPage(r, page.error(), 500);
    }
    Describer describe(web_, r, organisations_, policy_);
    json rows = json::array();
    for (const auto& e : page->items) {
      json item = TrackerItem(e, describe);
      item["when"] = web::BhutanTime(e.at);
      item["denied"] = !e.event.allowed;
      rows.push_back(std::move(item));
    }
    context["items"] = rows;
    context["empty"] = rows.empty();
    if (page->next_before) {
      context["pagination"] = {{"next", "/my/data-access" + LinkQuery(f.echo, page->next_before)}};
    }
    if (f.query.before) context["newest_link"] = "/my/data-access" + LinkQuery(f.echo, std::nullopt);
    return web_.Page(r, "data_access", "data_tracker", context);
  }

  Response TrackerCsv(const Request& r) {
    Filters f = ReadFilters(r, false, kCsvMax);
    f.query.before.reset();
    auto page = TrackerPage(r, f);
    if (!page.ok()) {
      Response bad = http::ErrorResponse(page.error(), r.request_id);
      return bad;
    }
    Describer describe(web_, r, organisations_, policy_);
    std::string out = "\xEF\xBB\xBF";  // so that spreadsheets read the Dzongkha as UTF-8
    AppendCsvRecord(out, {"reference", "time_utc", "time_bhutan", "organisation", "organisation_name", "accessed_by",
                          "what", "purpose", "outcome"});
    for (const auto& e : page->items) {
      json org = describe.Organisation(e.event.actor_organisation);
      AppendCsvRecord(out, {std::to_string(e.seq), e.at, web::BhutanTime(e.at),
                            org.is_null() ? "" : org["code"].get<std::string>(),
                            org.is_null() ? "" : org["name"].get<std::string>(), describe.Who(e.event),
                            describe.What(e.event), e.event.purpose, e.event.allowed ? "allowed" : "denied"});
    }
    Response res;
    res.content_type = "text/csv; charset=utf-8";
    res.body = std::move(out);
    res.SetHeader("Content-Disposition", "attachment; filename=\"my-data-access.csv\"");
    res.SetHeader("Cache-Control", "no-store");
    return res;
  }

  Result<json> TrackerOrganisations(const Request& r) {
    DZONG_ASSIGN_OR_RETURN(db::Rows rows, db_.ReadValue<db::Rows>([&](db::Connection& c) {
                             const db::Value who[] = {r.principal.id, r.principal.id};
                             return c.Query("SELECT DISTINCT actor_organisation FROM audit_events WHERE subject = ? "
                                            "AND actor <> ? AND actor_organisation IS NOT NULL ORDER BY 1",
                                            who);
                           }));
    Describer describe(web_, r, organisations_, policy_);
    const std::string chosen = r.QueryParam("organisation").value_or("");
    json out = json::array();
    for (const auto& row : rows) {
      json org = describe.Organisation(row.Text(0));
      org["selected"] = org["code"] == chosen;
      out.push_back(std::move(org));
    }
    return out;
  }

  Result<SearchPage> AuditorPage(Filters& f) {
    if (!f.errors.empty()) return Error(dzong::errc::kValidation, "the filters are not valid", f.errors);
    return Search(db_, f.query);
  }

  /// The people whose records the auditor saw: each is told of the look.
  static std::vector<std::string> Subjects(const SearchPage& page, const SearchQuery& q) {
    std::vector<std::string> out;
    if (q.subject) out.push_back(*q.subject);
    for (const auto& e : page.items) {
      if (e.event.subject && std::find(out.begin(), out.end(), *e.event.subject) == out.end()) {
        out.push_back(*e.event.subject);
      }
    }
    return out;
  }

  Response AuditorApi(const Request& r) {
    Filters f = ReadFilters(r, true, kPerPage);
    auto page = AuditorPage(f);
    if (!page.ok()) return http::ErrorResponse(page.error(), r.request_id);
    json items = json::array();
    for (const auto& e : page->items) items.push_back(AuditItem(e));
    Response res = http::JsonResponse(200, {{"items", std::move(items)},
                              {"next_cursor", page->next_before ? json(std::to_string(*page->next_before)) : json()}});
    res.audit_subjects = Subjects(*page, f.query);
    return res;
  }

  Response AuditorHtml(const Request& r) {
    Filters f = ReadFilters(r, true, kPerPage);
    auto page = AuditorPage(f);
    json context = {{"filters", f.echo},
                    {"outcome_allowed", f.echo.value("outcome", "") == "allowed"},
                    {"outcome_denied", f.echo.value("outcome", "") == "denied"}};
    if (!page.ok()) {
      if (page.error().code == dzong::errc::kValidation) {
        return web_.Invalid(r, "audit_search", "audit_log", context, page.error());
      }
      return web_.ErrorPage(r, page.error(), 500);
    }
    json rows = json::array();
    for (const auto& e : page->items) {
      json item = AuditItem(e);
      item["when"] = web::BhutanTime(e.at);
      item["denied"] = !e.event.allowed;
      rows.push_back(std::move(item));
    }
    context["items"] = rows;
    context["empty"] = rows.empty();
    if (page->next_before) context["pagination"] = {{"next", "/audit" + LinkQuery(f.echo, page->next_before)}};
    if (f.query.before) context["newest_link"] = "/audit" + LinkQuery(f.echo, std::nullopt);
    Response res = web_.Page(r, "audit_search", "audit_log", context);
    res.audit_subjects = Subjects(*page, f.query);
    return res;
  }

 private:
  db::Database& db_;
  web::Web& web_;
  organisations::OrganisationService& organisations_;
  ViewPolicy policy_;
};

}  // namespace

Status AddRoutes(http::Router& router, db::Database& db, web::Web& web,
                 organisations::OrganisationService& organisations, ViewPolicy policy) {
  auto views = std::make_shared<Views>(db, web, organisations, policy);
  const auto bind = [views](Response (Views::*method)(const Request&)) {
    return [views, method](const Request& r, const http::PathParams&) { return ((*views).*method)(r); };
  };
  DZONG_TRY(router.Add({"GET", "/my/data-access", "data_access.self", "audit.tracker_read",
                        bind(&Views::TrackerHtml), "the citizen's data tracker: who accessed my data"}));
  DZONG_TRY(router.Add({"GET", "/my/data-access.csv", "data_access.self", "audit.tracker_read",
                        bind(&Views::TrackerCsv), "the data tracker as CSV"}));
  DZONG_TRY(router.Add({"GET", "/api/v1/me/data-access", "data_access.self", "audit.tracker_read",
                        bind(&Views::TrackerApi), "who accessed my data, newest first"}));
  DZONG_TRY(router.Add({"GET", "/audit", "audit.read", "audit.search", bind(&Views::AuditorHtml),
                        "the auditors' search of the audit log"}));
  DZONG_TRY(router.Add({"GET", "/api/v1/audit/events", "audit.read", "audit.search", bind(&Views::AuditorApi),
                        "search the audit log"}));
  return {};
}

}  // namespace dzong::audit
