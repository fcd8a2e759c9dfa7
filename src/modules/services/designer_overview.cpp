// What a designer reads: a service's overview (its details, the parts of
// its latest version with their edit links, the lint with the once-only
// findings and their justifications, the versions), the preview of the
// form as an applicant will read it, and the ministry's review of the
// justifications recorded at publication.
#include <fmt/format.h>

#include "modules/audit/audit.h"
#include "modules/organisations/organisations.h"
#include "modules/registries/registries.h"
#include "modules/services/designer.h"

namespace dzong::services::design {

using http::Request;
using http::Response;
using nlohmann::json;

namespace {

std::string Dashed(std::string value) {
  std::replace(value.begin(), value.end(), '-', '_');
  return value;
}

const json& Part(const json& d, const char* key) {
  static const json kEmpty = json::array();
  return d.contains(key) && d.at(key).is_array() ? d.at(key) : kEmpty;
}

/// A member object of `d`, or an empty one: a reference that outlives any loop over it.
const json& Member(const json& d, const char* key) {
  static const json kEmpty = json::object();
  return d.contains(key) && d.at(key).is_object() ? d.at(key) : kEmpty;
}

std::string Replace(std::string text, const std::string& name, const std::string& value) {
  for (auto at = text.find(name); at != std::string::npos; at = text.find(name, at + value.size())) {
    text.replace(at, name.size(), value);
  }
  return text;
}

}  // namespace

json DesignerPages::OverviewContext(const Request& r, const Version& latest, const std::string& import_text) {
  const json& d = latest.definition;
  const char* lang = Dz(r) ? "dz" : "en";
  const std::string code = latest.service;
  const std::string base = OverviewPath(code);
  auto service = catalogue_.Get(code);
  const std::string status = service.ok() ? service->status : "draft";

  json details = json::array();
  const auto row = [&](const std::string& key, const std::string& value) {
    details.push_back({{"key", T(r, key)}, {"value", value.empty() ? "–" : value}});
  };
  row("design_title_en", In(d.value("title", json::object()), "en"));
  row("design_title_dz", In(d.value("title", json::object()), "dz"));
  row("design_summary", In(d.value("summary", json::object()), lang));
  row("design_category", T(r, "category_" + Dashed(d.value("category", "other"))));
  std::string events;
  for (const json& e : Part(d, "life_events")) {
    events += (events.empty() ? "" : ", ") + T(r, "life_event_" + Dashed(e.get<std::string>()));
  }
  row("design_life_events", events);
  row("design_fee", "Nu. " + Money(d.contains("fee") ? d.at("fee").value("amount_chhertum", std::int64_t{0}) : 0));
  row("design_sla", std::to_string(d.value("sla_working_days", std::int64_t{0})));

  json lists = json::array();
  json rows = json::array();
  std::size_t i = 0;
  for (const json& page : Part(Member(d, "form"), "pages")) {
    rows.push_back({{"label", In(page.value("title", json::object()), lang)},
                    {"detail", fmt::format("{} · {} {}", page.value("id", ""), Part(page, "fields").size(),
                                           T(r, "design_fields_count"))},
                    {"edit", fmt::format("{}/pages/{}", base, i)},
                    {"arrange", fmt::format("{}/pages/{}/arrange", base, i)}});
    ++i;
  }
  lists.push_back(RowList(T(r, "design_pages"), "pages", rows, base + "/pages/new", T(r, "design_add_page")));

  rows = json::array();
  i = 0;
  for (const json& doc : Part(d, "documents")) {
    std::string formats;
    for (const json& f : Part(doc, "formats")) formats += (formats.empty() ? "" : ", ") + f.get<std::string>();
    rows.push_back({{"label", In(doc.value("title", json::object()), lang)},
                    {"detail", fmt::format("{} · {} · {} MB", doc.value("type", ""), formats,
                                           Money(doc.value("max_bytes", std::int64_t{0}) * 100 / 1048576))},
                    {"edit", fmt::format("{}/documents/{}", base, i)},
                    {"arrange", fmt::format("{}/documents/{}/arrange", base, i)}});
    ++i;
  }
  lists.push_back(
      RowList(T(r, "design_documents"), "documents", rows, base + "/documents/new", T(r, "design_add_document")));

  rows = json::array();
  i = 0;
  for (const json& rule : Part(Member(d, "fee"), "rules")) {
    const json when = rule.value("when", json::object());
    rows.push_back({{"label", fmt::format("{} = {}", when.value("field", ""), ConditionValues(when))},
                    {"detail", "Nu. " + Money(rule.value("amount_chhertum", std::int64_t{0}))},
                    {"edit", fmt::format("{}/fee-rules/{}", base, i)},
                    {"arrange", fmt::format("{}/fee-rules/{}/arrange", base, i)}});
    ++i;
  }
  lists.push_back(
      RowList(T(r, "design_fee_rules"), "fee-rules", rows, base + "/fee-rules/new", T(r, "design_add_fee_rule")));

  const json workflow = d.value("workflow", json::object());
  rows = json::array();
  i = 0;
  for (const json& s : Part(workflow, "states")) {
    std::string detail = s.value("id", "");
    if (s.value("id", "") == workflow.value("initial", "")) detail += " · " + T(r, "design_initial");
    if (s.value("final", false)) detail += " · " + T(r, "design_final");
    if (s.contains("outcome")) detail += " · " + T(r, "design_outcome_" + s.value("outcome", ""));
    for (const json& a : Part(s, "on_enter")) {
      detail += " · " + T(r, "design_action_" + a.value("do", "")) + (a.contains("to") ? " " + a.value("to", "") : "");
    }
    rows.push_back({{"label", In(s.value("title", json::object()), lang)},
                    {"detail", detail},
                    {"edit", fmt::format("{}/states/{}", base, i)},
                    {"arrange", fmt::format("{}/states/{}/arrange", base, i)}});
    ++i;
  }
  lists.push_back(RowList(T(r, "design_states"), "states", rows, base + "/states/new", T(r, "design_add_state")));

  rows = json::array();
  i = 0;
  for (const json& t : Part(workflow, "transitions")) {
    const json by = t.value("by", json::object());
    std::string who = by.contains("role") ? T(r, "design_role_" + by.value("role", ""))
                      : by.contains("citizen_field") ? T(r, "design_by_citizen") + " " + by.value("citizen_field", "")
                                                     : T(r, "design_by_applicant");
    rows.push_back({{"label", In(t.value("label", json::object()), lang)},
                    {"detail", fmt::format("{} → {} · {}", t.value("from", ""), t.value("to", ""), who)},
                    {"edit", fmt::format("{}/transitions/{}", base, i)},
                    {"arrange", fmt::format("{}/transitions/{}/arrange", base, i)}});
    ++i;
  }
  lists.push_back(RowList(T(r, "design_transitions"), "transitions", rows, base + "/transitions/new",
                          T(r, "design_add_transition")));

  rows = json::array();
  i = 0;
  for (const json& j : Part(d, "justifications")) {
    rows.push_back({{"label", j.value("field", "")},
                    {"detail", fmt::format("{}: {}", j.value("registry_field", ""), j.value("reason", ""))},
                    {"edit", fmt::format("{}/justifications/{}", base, i)},
                    {"arrange", fmt::format("{}/justifications/{}/arrange", base, i)}});
    ++i;
  }
  lists.push_back(RowList(T(r, "design_justifications"), "justifications", rows, base + "/justifications/new",
                          T(r, "design_add_justification")));

  json findings = json::array();
  bool blocking = false;
  for (const LintFinding& f : catalogue_.Lint(d)) {
    blocking = blocking || (f.blocking && !f.justification);
    const bool once_only = f.rule == "once_only";
    findings.push_back(
        {{"rule", T(r, "design_lint_" + f.rule)},
         {"path", f.path},
         {"field", f.field.empty() ? "–" : f.field},
         {"registry_field", f.registry_field.empty() ? "–" : f.registry_field},
         {"message", f.message},
         {"blocking", f.blocking && !f.justification},
         {"justification", f.justification.value_or("")},
         {"justify", once_only && !f.justification
                         ? fmt::format("{}/justifications/new?field={}&registry_field={}", base,
                                       http::PercentEncode(f.field), http::PercentEncode(f.registry_field))
                         : ""}});
  }

  json versions = json::array();
  if (auto all = catalogue_.Versions(code); all.ok()) {
    for (const Version& v : *all) {
      versions.push_back({{"version", std::to_string(v.version)},
                          {"status", T(r, "design_version_" + v.status)},
                          {"created", web::BhutanTime(v.created_at)},
                          {"published", v.published_at ? web::BhutanTime(*v.published_at) : "–"}});
    }
  }
  const json certificate = d.value("certificate", json::object());
  const std::string published = r.QueryParam("published").value_or("");
  return {{"code", code},
          {"base", base},
          {"service_title", In(d.value("title", json::object()), lang)},
          {"status", T(r, "design_status_" + status)},
          {"version", std::to_string(latest.version)},
          {"version_status", T(r, "design_version_" + latest.status)},
          {"is_draft", latest.status == "draft"},
          {"details", details},
          {"lists", lists},
          {"has_certificate", certificate.contains("template")},
          {"certificate", In(certificate.value("title", json::object()), lang)},
          {"findings", findings},
          {"no_findings", findings.empty()},
          {"blocked", blocking},
          {"versions", versions},
          {"may_publish", latest.status == "draft" && status != "retired"},
          {"may_retire", status != "retired"},
          {"just_published", !published.empty()},
          {"published_version", published},
          {"import_text", import_text}};
}

Response DesignerPages::Overview(const Request& r, const std::string& code) {
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  return web_.Page(r, "design_service", T(r, "design_overview"), OverviewContext(r, *latest, ""));
}

Response DesignerPages::Preview(const Request& r, const std::string& code) {
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  const json& d = latest->definition;
  const char* lang = Dz(r) ? "dz" : "en";
  std::map<std::string, std::string> labels;
  std::function<void(const json&)> collect = [&](const json& fields) {
    for (const json& f : fields) {
      labels[f.value("id", "")] = In(f.value("label", json::object()), lang);
      if (f.contains("fields")) collect(f.at("fields"));
    }
  };
  for (const json& page : Part(Member(d, "form"), "pages")) collect(Part(page, "fields"));
  const auto shown_when = [&](const json& holder) -> std::string {
    if (!holder.contains("show_when")) return "";
    const json& c = holder.at("show_when");
    const std::string field = c.value("field", "");
    return Replace(Replace(T(r, "design_shown_when"), "{field}", labels.contains(field) ? labels[field] : field),
                   "{values}", ConditionValues(c));
  };
  std::map<std::string, std::string> registry_titles;
  std::map<std::string, std::string> field_labels;
  if (auto list = registries_.List(); list.ok()) {
    for (const auto& reg : *list) {
      registry_titles[reg.code] = Dz(r) ? reg.title_dz : reg.title_en;
      for (const auto& f : reg.fields) {
        field_labels[reg.code + "." + f.name] = Dz(r) && !f.label_dz.empty() ? f.label_dz : f.description;
      }
    }
  }
  std::function<json(const json&)> fields_of = [&](const json& fields) {
    json out = json::array();
    for (const json& f : fields) {
      json options = json::array();
      for (const json& o : Part(f, "options")) options.push_back(In(o.value("label", json::object()), lang));
      std::string prefill;
      if (f.contains("prefill")) {
        const json& p = f.at("prefill");
        const std::string reg = p.value("registry", "");
        const std::string key = reg + "." + p.value("field", "");
        prefill = Replace(Replace(T(r, "design_prefilled_from"), "{registry}",
                                  registry_titles.contains(reg) ? registry_titles[reg] : reg),
                          "{field}", field_labels.contains(key) ? field_labels[key] : key);
        if (p.contains("subject")) prefill += " · " + T(r, "design_prefill_subject") + " " + p.value("subject", "");
        if (p.contains("key")) prefill += " · " + T(r, "design_prefill_key") + " " + p.value("key", "");
      }
      std::string limits;
      const auto limit = [&](const char* name, const char* key) {
        if (f.contains(name)) {
          const json& v = f.at(name);
          limits += (limits.empty() ? "" : " · ") + T(r, key) + " " + (v.is_string() ? v.get<std::string>() : v.dump());
        }
      };
      limit("min_length", "design_min_length");
      limit("max_length", "design_max_length");
      limit("min", "design_min");
      limit("max", "design_max");
      limit("min_date", "design_min_date");
      limit("max_date", "design_max_date");
      limit("pattern", "design_pattern");
      out.push_back({{"label", In(f.value("label", json::object()), lang)},
                     {"hint", In(f.value("hint", json::object()), lang)},
                     {"type", T(r, "design_type_" + f.value("type", "text"))},
                     {"required", f.value("required", false)},
                     {"options", options},
                     {"has_options", !options.empty()},
                     {"condition", shown_when(f)},
                     {"prefill", prefill},
                     {"limits", limits},
                     {"items", f.contains("fields") ? fields_of(f.at("fields")) : json::array()},
                     {"has_items", f.contains("fields")}});
    }
    return out;
  };
  json pages = json::array();
  std::size_t n = 0;
  for (const json& page : Part(Member(d, "form"), "pages")) {
    ++n;
    pages.push_back({{"number", std::to_string(n)},
                     {"title", In(page.value("title", json::object()), lang)},
                     {"lead", In(page.value("lead", json::object()), lang)},
                     {"condition", shown_when(page)},
                     {"fields", fields_of(Part(page, "fields"))}});
  }
  json documents = json::array();
  for (const json& doc : Part(d, "documents")) {
    std::string formats;
    for (const json& f : Part(doc, "formats")) formats += (formats.empty() ? "" : ", ") + f.get<std::string>();
    documents.push_back({{"title", In(doc.value("title", json::object()), lang)},
                         {"formats", formats},
                         {"size", Money(doc.value("max_bytes", std::int64_t{0}) * 100 / 1048576)},
                         {"required", doc.value("required", false)}});
  }
  json rules = json::array();
  for (const json& rule : Part(Member(d, "fee"), "rules")) {
    const json when = rule.value("when", json::object());
    const std::string field = when.value("field", "");
    rules.push_back({{"when", Replace(Replace(T(r, "design_when"), "{field}", labels.contains(field) ? labels[field] : field),
                                      "{values}", ConditionValues(when))},
                     {"amount", Money(rule.value("amount_chhertum", std::int64_t{0}))}});
  }
  return web_.Page(r, "design_preview", T(r, "design_preview"),
                   {{"code", code},
                    {"back", OverviewPath(code)},
                    {"service_title", In(d.value("title", json::object()), lang)},
                    {"summary", In(d.value("summary", json::object()), lang)},
                    {"pages", pages},
                    {"fee", Money(d.contains("fee") ? d.at("fee").value("amount_chhertum", std::int64_t{0}) : 0)},
                    {"rules", rules},
                    {"has_rules", !rules.empty()},
                    {"sla", std::to_string(d.value("sla_working_days", std::int64_t{0}))},
                    {"documents", documents},
                    {"has_documents", !documents.empty()}});
}

json DesignerPages::JustificationsContext(const Request& r, const std::string& filter) {
  json rows = json::array();
  if (auto list = catalogue_.Justifications(filter); list.ok()) {
    for (const Justification& j : *list) {
      const std::string id = std::to_string(j.id);
      rows.push_back({{"id", id},
                      {"service", j.service},
                      {"version", std::to_string(j.version)},
                      {"owner", j.owner},
                      {"field", j.field},
                      {"registry_field", j.registry_field},
                      {"reason", j.reason},
                      {"recorded_by", j.recorded_by},
                      {"recorded_at", web::BhutanTime(j.recorded_at)},
                      {"review", T(r, "design_review_" + j.review)},
                      {"pending", j.review == "pending"},
                      {"reviewed_by", j.reviewed_by.value_or("")},
                      {"review_note", j.review_note.value_or("")},
                      {"action", "/review/justifications/" + id + (filter.empty() ? "" : "?review=" + filter)},
                      {"note", ""},
                      {"error_note", ""},
                      {"error_decision", ""},
                      {"accepted", false},
                      {"questioned", false}});
    }
  }
  json filters = json::array();
  for (const char* f : {"", "pending", "accepted", "questioned"}) {
    filters.push_back({{"value", f},
                       {"id", std::string("review-") + (*f ? f : "all")},
                       {"label", T(r, std::string("design_review_") + (*f ? f : "all"))},
                       {"chosen", filter == f}});
  }
  return {{"rows", rows}, {"none", rows.empty()}, {"filters", filters}};
}

Response DesignerPages::Justifications(const Request& r) {
  std::string filter = r.QueryParam("review").value_or("");
  if (filter != "pending" && filter != "accepted" && filter != "questioned") filter.clear();
  return web_.Page(r, "review_justifications", "design_review_title", JustificationsContext(r, filter));
}

Response DesignerPages::ReviewJustification(const Request& r, const std::string& id_text) {
  auto form = web_.ReadForm(r);
  if (!form.ok()) return FormError(r, form.error());
  const auto id = WholeNumber(id_text);
  if (!id) return web_.ErrorPage(r, Error(errc::kJustificationNotFound, "no such justification"), 404);
  std::string filter = r.QueryParam("review").value_or("");
  if (filter != "pending" && filter != "accepted" && filter != "questioned") filter.clear();
  const std::string decision = FormText(*form, "decision");
  const std::string note = FormText(*form, "note");
  auto reviewed = catalogue_.Review(*id, decision, note, audit::ActorOf(r));
  if (reviewed.ok()) {
    return web::Web::Redirect("/review/justifications" + (filter.empty() ? "" : "?review=" + filter));
  }
  if (reviewed.error().code == errc::kJustificationNotFound) return web_.ErrorPage(r, reviewed.error(), 404);
  if (reviewed.error().code != dzong::errc::kValidation) return Failure(r, reviewed.error());
  json context = JustificationsContext(r, filter);
  std::vector<FieldError> problems;
  for (json& row : context["rows"]) {
    if (row["id"] != id_text) continue;
    row["note"] = note;
    row["accepted"] = decision == "accepted";
    row["questioned"] = decision == "questioned";
    for (const FieldError& e : reviewed.error().fields) {
      const bool on_note = e.field == "note";
      const std::string message =
          on_note ? web_.Problem(r, "design_note", T(r, "design_review_note")) : web_.Problem(r, "one_of", T(r, "design_review_decision"));
      row[on_note ? "error_note" : "error_decision"] = message;
      problems.push_back({(on_note ? "note-" : "decision-") + id_text, e.rule, message});
    }
  }
  if (problems.empty()) problems.push_back({"review", "invalid", reviewed.error().message});
  return web_.ShowProblems(r, "review_justifications", "design_review_title", context, problems);
}

}  // namespace dzong::services::design
