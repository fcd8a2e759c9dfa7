// The registry stewards' pages: the registers their organisation keeps, a
// page of records with a search by key, one record with its history and as
// it was on a date, and the form that changes it with a reason. Every view
// of a record names its people in the audit log, as the JSON API does.
#include <charconv>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/router.h"
#include "modules/registries/page_parts.h"
#include "modules/registries/registries.h"
#include "web/web.h"

namespace dzong::registries {
namespace pages {

using nlohmann::json;

std::string Label(const FieldSpec& field, bool dz) {
  return dz && !field.label_dz.empty() ? field.label_dz : field.description;
}

std::string Text(const json& value) {
  if (value.is_null()) return "";
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::optional<std::int64_t> ParseId(const std::string& text) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

std::string PathSegment(const std::string& text) { return http::PercentEncode(text); }

std::vector<FieldError> Localise(const web::Web& web, const http::Request& r, const Registry* registry,
                                 const std::vector<FieldError>& errors, const std::vector<FormField>& others) {
  const bool dz = web.Language(r) == "dz";
  std::vector<FieldError> out;
  for (const FieldError& e : errors) {
    std::string rule = e.rule;
    std::string label = e.field;
    std::size_t min = 0, max = 0;
    const FieldSpec* spec = nullptr;
    if (registry) {
      for (const auto& f : registry->fields) {
        if (f.name == e.field) spec = &f;
      }
    }
    if (spec) {
      label = Label(*spec, dz);
      if (rule == "length") {
        min = 1;
        max = spec->max_length ? spec->max_length : 1000;
      }
      if (rule == "type") rule = spec->type == "integer" ? "whole_number" : spec->type == "decimal" ? "number" : "type";
    } else {
      for (const auto& f : others) {
        if (f.name != e.field) continue;
        label = f.label;
        min = f.min;
        max = f.max;
      }
      if (rule == "length" && min == 0) rule = "at_most";
    }
    out.push_back({e.field, e.rule, web.Problem(r, rule, label, min, max)});
  }
  return out;
}

}  // namespace pages

namespace {

using http::Request;
using http::Response;
using nlohmann::json;
using pages::Label;
using pages::PathSegment;

constexpr std::size_t kPerPage = 25;
constexpr std::size_t kSearchMax = 64;

std::string RecordPath(const std::string& code, const std::string& key) {
  return fmt::format("/steward/registries/{}/records/{}", PathSegment(code), PathSegment(key));
}

/// What a form field holds, as the schema's type: numbers as numbers when
/// they read as one (else the text, which Validate then names).
json FormValue(const FieldSpec& f, const std::string& text) {
  if (f.type == "integer") {
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec == std::errc() && end == text.data() + text.size()) return n;
  } else if (f.type == "decimal") {
    char* end = nullptr;
    const double d = std::strtod(text.c_str(), &end);
    if (!text.empty() && end == text.c_str() + text.size()) return d;
  }
  return text;
}

std::string Trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

std::string FormField(const web::Form& form, const std::string& name) {
  const auto it = form.find(name);
  return it == form.end() ? std::string() : it->second;
}

class StewardPages {
 public:
  StewardPages(RegistryService& registries, CorrectionService& corrections, web::Web& web)
      : registries_(registries), corrections_(corrections), web_(web) {}

  Response Registers(const Request& r) {
    auto list = registries_.List();
    if (!list.ok()) return web_.ErrorPage(r, list.error(), 500);
    const bool dz = Dz(r);
    json rows = json::array();
    for (const auto& reg : *list) {
      if (!r.principal.organisation || reg.custodian != *r.principal.organisation) continue;
      rows.push_back({{"code", reg.code},
                      {"title", dz ? reg.title_dz : reg.title_en},
                      {"href", "/steward/registries/" + PathSegment(reg.code)},
                      {"fields", reg.fields.size()}});
    }
    return web_.Page(
        r, "steward_registries", "steward_registries",
        {{"registers", rows}, {"none", rows.empty()}, {"organisation", r.principal.organisation.value_or("")}});
  }

  Response Records(const Request& r, const std::string& code) {
    auto registry = Kept(r, code);
    if (!registry.ok()) return web_.ErrorPage(r, registry.error(), 404);
    RecordQuery query;
    query.limit = kPerPage;
    const std::string q = Trimmed(r.QueryParam("q").value_or(""));
    query.key_prefix = q;
    query.after = r.QueryParam("after").value_or("");
    query.before = r.QueryParam("before").value_or("");
    json context = RegisterContext(r, *registry);
    context["q"] = q;
    if (q.size() > kSearchMax) {
      context["records"] = json::array();
      const std::string label = Label(KeyField(*registry), Dz(r));
      return web_.ShowProblems(r, "steward_records", "steward_records", context,
                               {{"q", "at_most", web_.Problem(r, "at_most", label, 0, kSearchMax)}});
    }
    auto page = registries_.Records(code, query);
    if (!page.ok()) return web_.ErrorPage(r, page.error(), 500);
    json rows = json::array();
    std::vector<std::string> people;
    for (const Record& rec : page->records) {
      const json data = json::parse(rec.data);
      std::string summary;
      int shown = 0;
      for (const auto& f : registry->fields) {
        if (f.name == registry->key_field || shown == 2 || !data.contains(f.name)) continue;
        summary += (summary.empty() ? "" : " ") + pages::Text(data[f.name]);
        ++shown;
      }
      rows.push_back({{"key", rec.key},
                      {"summary", summary},
                      {"href", RecordPath(code, rec.key)},
                      {"version", rec.version},
                      {"updated", web::BhutanTime(rec.valid_from)}});
      for (auto& cid : PeopleIn(*registry, rec)) people.push_back(std::move(cid));
    }
    context["records"] = rows;
    context["none"] = rows.empty();
    const std::string base =
        "/steward/registries/" + PathSegment(code) + "?" + (q.empty() ? "" : "q=" + PathSegment(q) + "&");
    if (page->has_previous && !page->records.empty()) {
      context["pagination"] = {{"previous", base + "before=" + PathSegment(page->records.front().key)},
                               {"next", false}};
    }
    if (page->has_next && !page->records.empty()) {
      if (!context.contains("pagination")) context["pagination"] = {{"previous", false}};
      context["pagination"]["next"] = base + "after=" + PathSegment(page->records.back().key);
    }
    Response res = web_.Page(r, "steward_records", "steward_records", context);
    res.audit_subjects = std::move(people);
    return res;
  }

  Response ShowRecord(const Request& r, const std::string& code, const std::string& key) {
    auto registry = Kept(r, code);
    if (!registry.ok()) return web_.ErrorPage(r, registry.error(), 404);
    auto history = registries_.History(code, key);
    if (!history.ok()) return web_.ErrorPage(r, history.error(), 404);
    json context = RegisterContext(r, *registry);
    context["key"] = key;
    context["record_href"] = RecordPath(code, key);
    context["edit_href"] = RecordPath(code, key) + "/edit";
    json versions = json::array();
    for (auto it = history->rbegin(); it != history->rend(); ++it) {
      versions.push_back({{"version", it->version},
                          {"when", web::BhutanTime(it->valid_from)},
                          {"who", it->changed_by},
                          {"why", it->reason},
                          {"current", !it->valid_to.has_value()}});
    }
    context["history"] = versions;
    const Record& current = history->back();
    std::vector<std::string> people = PeopleIn(*registry, current);
    const std::string as_of = r.QueryParam("as_of").value_or("");
    const Record* shown = &current;
    std::optional<Record> then;
    if (!as_of.empty()) {
      context["as_of"] = as_of;
      if (!ParseDate(as_of)) {
        context["rows"] = Rows(r, *registry, current);
        context["version"] = current.version;
        context["has_record"] = true;
        Response res = web_.ShowProblems(r, "steward_record", "steward_record", context,
                                         {{"as_of", "date", web_.Problem(r, "date", web_.Text(r, "as_of_label"))}});
        res.audit_subjects = people;
        return res;
      }
      auto found = registries_.GetRecord(code, key, as_of + "T23:59:59.999999Z");
      if (found.ok()) {
        then = std::move(*found);
        shown = &*then;
        for (auto& cid : PeopleIn(*registry, *then)) {
          if (std::find(people.begin(), people.end(), cid) == people.end()) people.push_back(std::move(cid));
        }
      } else {
        shown = nullptr;
      }
      context["viewing_past"] = true;
    }
    context["has_record"] = shown != nullptr;
    if (shown) {
      context["rows"] = Rows(r, *registry, *shown);
      context["version"] = shown->version;
    } else {
      context["no_record_then"] = true;
    }
    Response res = web_.Page(r, "steward_record", "steward_record", context);
    res.audit_subjects = std::move(people);
    return res;
  }

  Response EditForm(const Request& r, const std::string& code, const std::string& key) {
    auto registry = Kept(r, code);
    if (!registry.ok()) return web_.ErrorPage(r, registry.error(), 404);
    auto record = registries_.GetRecord(code, key, std::nullopt);
    if (!record.ok()) return web_.ErrorPage(r, record.error(), 404);
    const json data = json::parse(record->data);
    std::map<std::string, std::string> values;
    for (const auto& f : registry->fields) values[f.name] = data.contains(f.name) ? pages::Text(data[f.name]) : "";
    std::string reason;
    std::string correction;
    if (auto id = pages::ParseId(r.QueryParam("correction").value_or(""))) {
      auto asked = corrections_.GetForCustodian(*id, r.principal.organisation.value_or(""));
      if (asked.ok() && asked->registry == code && asked->record_key == key) {
        correction = std::to_string(*id);
        reason = fmt::format("Correction request {}", *id);
      }
    }
    json context = FormContext(r, *registry, key, values, record->version, reason, correction);
    Response res = web_.Page(r, "steward_record_edit", "steward_record_edit", context);
    res.audit_subjects = PeopleIn(*registry, *record);
    return res;
  }

  Response Edit(const Request& r, const std::string& code, const std::string& key) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return web_.ErrorPage(r, form.error(), form.error().code == "identity.csrf_failed" ? 422 : 415);
    auto registry = Kept(r, code);
    if (!registry.ok()) return web_.ErrorPage(r, registry.error(), 404);
    json data = json::object();
    std::map<std::string, std::string> values;
    for (const auto& f : registry->fields) {
      if (f.name == registry->key_field) {
        data[f.name] = key;
        values[f.name] = key;
        continue;
      }
      const std::string text = Trimmed(FormField(*form, f.name));
      values[f.name] = text;
      if (!text.empty()) data[f.name] = FormValue(f, text);
    }
    const std::string reason = Trimmed(FormField(*form, "reason"));
    const std::string correction = pages::ParseId(FormField(*form, "correction")) ? FormField(*form, "correction") : "";
    // The version the steward read; a form without one cannot be checked
    // against later changes, so it is treated as out of date.
    const std::int64_t version = pages::ParseId(FormField(*form, "version")).value_or(-1);
    auto saved = registries_.Put(code, key, data, reason, version, audit::ActorOf(r));
    if (saved.ok()) {
      return web::Web::Redirect(correction.empty() ? RecordPath(code, key) : "/steward/corrections/" + correction);
    }
    const Error& e = saved.error();
    if (e.code == dzong::errc::kConflict) {
      auto now = registries_.GetRecord(code, key, std::nullopt);
      if (!now.ok()) return web_.ErrorPage(r, now.error(), 404);
      json context = FormContext(r, *registry, key, values, now->version, reason, correction);
      context["conflict"] = {{"version", now->version},
                             {"who", now->changed_by},
                             {"when", web::BhutanTime(now->valid_from)},
                             {"why", now->reason},
                             {"rows", Rows(r, *registry, *now)}};
      Response res = web_.ShowProblems(r, "steward_record_edit", "steward_record_edit", context,
                                       {{"conflict", "version_conflict", web_.Text(r, "record_conflict")}}, 409);
      res.audit_subjects = PeopleIn(*registry, *now);
      return res;
    }
    if (e.code != dzong::errc::kValidation) return web_.ErrorPage(r, e, e.code == errc::kRecordNotFound ? 404 : 500);
    const auto problems =
        pages::Localise(web_, r, &*registry, e.fields, {{"reason", web_.Text(r, "reason_label"), 1, 500}});
    json context = FormContext(r, *registry, key, values, version, reason, correction, problems);
    return web_.ShowProblems(r, "steward_record_edit", "steward_record_edit", context, problems);
  }

 private:
  bool Dz(const Request& r) const { return web_.Language(r) == "dz"; }

  /// The registry, when the steward's organisation keeps it; to anyone else
  /// it is as if it did not exist.
  Result<Registry> Kept(const Request& r, const std::string& code) {
    auto registry = registries_.Get(code);
    if (!registry.ok()) return registry.error();
    if (!r.principal.organisation || *r.principal.organisation != registry->custodian) {
      return Error(errc::kNotFound, fmt::format("there is no registry {} that you keep", code));
    }
    return registry;
  }

  static const FieldSpec& KeyField(const Registry& registry) {
    for (const auto& f : registry.fields) {
      if (f.name == registry.key_field) return f;
    }
    return registry.fields.front();
  }

  json RegisterContext(const Request& r, const Registry& registry) const {
    return {{"code", registry.code},
            {"title", Dz(r) ? registry.title_dz : registry.title_en},
            {"register_href", "/steward/registries/" + PathSegment(registry.code)},
            {"key_label", Label(KeyField(registry), Dz(r))}};
  }

  json Rows(const Request& r, const Registry& registry, const Record& record) const {
    const json data = json::parse(record.data);
    json rows = json::array();
    for (const auto& f : registry.fields) {
      rows.push_back({{"label", Label(f, Dz(r))}, {"value", data.contains(f.name) ? pages::Text(data[f.name]) : ""}});
    }
    return rows;
  }

  json FormContext(const Request& r, const Registry& registry, const std::string& key,
                   const std::map<std::string, std::string>& values, std::int64_t version, const std::string& reason,
                   const std::string& correction, const std::vector<FieldError>& problems = {}) const {
    json fields = json::array();
    for (const auto& f : registry.fields) {
      const std::string value = values.count(f.name) ? values.at(f.name) : "";
      // Each field carries its own problem (or false): a missing key would
      // let the template find the page's error map instead.
      std::string problem;
      for (const auto& p : problems) {
        if (p.field == f.name && problem.empty()) problem = p.message;
      }
      const bool hint = f.type == "date";
      std::string describedby = hint ? f.name + "-hint" : "";
      if (!problem.empty()) describedby += (describedby.empty() ? "" : " ") + f.name + "-error";
      json field = {{"name", f.name},
                    {"label", Label(f, Dz(r))},
                    {"value", value},
                    {"required", f.required},
                    {"is_key", f.name == registry.key_field},
                    {"is_enum", f.type == "enum"},
                    {"numeric", f.type == "integer" || f.type == "decimal"},
                    {"hint", hint ? web_.Text(r, "date_hint") : ""},
                    {"problem", problem.empty() ? json(false) : json(problem)},
                    {"describedby", describedby}};
      if (f.type == "enum") {
        json options = json::array();
        for (const auto& v : f.values) options.push_back({{"value", v}, {"selected", v == value}});
        field["options"] = options;
      }
      fields.push_back(std::move(field));
    }
    json context = RegisterContext(r, registry);
    context["key"] = key;
    context["record_href"] = RecordPath(registry.code, key);
    context["action"] = RecordPath(registry.code, key) + "/edit";
    context["fields"] = fields;
    context["version"] = version;
    context["reason"] = reason;
    context["correction"] = correction;
    return context;
  }

  RegistryService& registries_;
  CorrectionService& corrections_;
  web::Web& web_;
};

}  // namespace

Status AddPages(http::Router& router, RegistryService& registries, CorrectionService& corrections, web::Web& web) {
  auto pages = std::make_shared<StewardPages>(registries, corrections, web);
  DZONG_TRY(router.Add({"GET", "/steward/registries", "registries.steward", http::kNoAuditEvent,
                        [pages](const Request& r, const http::PathParams&) { return pages->Registers(r); },
                        "the registers the steward's organisation keeps"}));
  DZONG_TRY(
      router.Add({"GET", "/steward/registries/{code}", "registries.steward", "registries.records_list",
                  [pages](const Request& r, const http::PathParams& p) { return pages->Records(r, p.at("code")); },
                  "a page of a register's records, with a search by key"}));
  DZONG_TRY(router.Add(
      {"GET", "/steward/registries/{code}/records/{key}", "registries.steward", "registries.record_read",
       [pages](const Request& r, const http::PathParams& p) { return pages->ShowRecord(r, p.at("code"), p.at("key")); },
       "a record, its history, and the record as on a date"}));
  DZONG_TRY(router.Add(
      {"GET", "/steward/registries/{code}/records/{key}/edit", "registries.steward", "registries.record_read",
       [pages](const Request& r, const http::PathParams& p) { return pages->EditForm(r, p.at("code"), p.at("key")); },
       "the form that changes a record"}));
  DZONG_TRY(router.Add(
      {"POST", "/steward/registries/{code}/records/{key}/edit", "registries.steward", "registries.record_put",
       [pages](const Request& r, const http::PathParams& p) { return pages->Edit(r, p.at("code"), p.at("key")); },
       "change a record, with a reason"}));
  return pages::AddCorrectionPages(router, registries, corrections, web);
}

}  // namespace dzong::registries
