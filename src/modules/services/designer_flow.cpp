// The editors of the definition's lists and of its certificate: the
// documents an applicant uploads, the fee rules, the workflow's states and
// transitions, the justifications for asking what a registry holds (the
// once-only lint's only way past), and the certificate the service issues.
#include <algorithm>

#include <fmt/format.h>

#include "modules/registries/registries.h"
#include "modules/services/designer.h"

namespace dzong::services::design {

using http::Request;
using http::Response;
using nlohmann::json;

namespace {

struct Format {
  const char* short_name;
  const char* media_type;
  const char* label;
};
constexpr Format kFormats[] = {{"pdf", "application/pdf", "PDF"}, {"jpeg", "image/jpeg", "JPEG"}, {"png", "image/png", "PNG"}};
constexpr const char* kRoles[] = {"officer", "registry_steward", "agency_administrator", "community_centre_operator"};
constexpr const char* kOutcomes[] = {"approved", "rejected", "withdrawn"};

std::string V(const json& values, const std::string& name) { return values.value(name, ""); }

/// The list `part` names in the definition (made when absent), and its path.
json& PartArray(json& d, const std::string& part, std::string& path) {
  json* holder = &d;
  std::string key = part;
  if (part == "fee-rules") {
    if (!d.contains("fee") || !d["fee"].is_object()) d["fee"] = {{"amount_chhertum", 0}};
    holder = &d["fee"];
    key = "rules";
    path = "fee.rules";
  } else if (part == "states" || part == "transitions") {
    if (!d.contains("workflow") || !d["workflow"].is_object()) d["workflow"] = json::object();
    holder = &d["workflow"];
    path = "workflow." + part;
  } else {
    path = part;
  }
  if (!holder->contains(key) || !(*holder)[key].is_array()) (*holder)[key] = json::array();
  return (*holder)[key];
}

/// An optional list left empty goes from the definition.
void DropIfEmpty(json& d, const std::string& part) {
  if (part == "documents" || part == "justifications") {
    if (d.contains(part) && d[part].empty()) d.erase(part);
  } else if (part == "fee-rules") {
    if (d.contains("fee") && d["fee"].contains("rules") && d["fee"]["rules"].empty()) d["fee"].erase("rules");
  }
}

bool Known(const std::string& part) {
  return part == "documents" || part == "fee-rules" || part == "states" || part == "transitions" ||
         part == "justifications";
}

}  // namespace

json DesignerPages::ItemValues(const json& d, const std::string& part, const json& item) {
  json values = json::object();
  if (part == "documents") {
    values = {{"type", item.value("type", "")},
              {"title_en", In(item.value("title", json::object()), "en")},
              {"title_dz", In(item.value("title", json::object()), "dz")},
              {"max_mb", Money(item.value("max_bytes", std::int64_t{1048576}) * 100 / 1048576)}};
    for (const Format& f : kFormats) {
      for (const json& m : item.value("formats", json::array())) {
        if (m == f.media_type) values[std::string("formats.") + f.short_name] = "1";
      }
    }
    if (item.value("required", false)) values["required"] = "1";
  } else if (part == "fee-rules") {
    const json when = item.value("when", json::object());
    values = {{"when_field", when.value("field", "")},
              {"when_values", ConditionValues(when)},
              {"amount", Money(item.value("amount_chhertum", std::int64_t{0}))}};
  } else if (part == "states") {
    values = {{"id", item.value("id", "")},
              {"title_en", In(item.value("title", json::object()), "en")},
              {"title_dz", In(item.value("title", json::object()), "dz")},
              {"outcome", item.value("outcome", "")}};
    if (item.value("final", false)) values["final"] = "1";
    if (d.contains("workflow") && !item.value("id", "").empty() &&
        d["workflow"].value("initial", "") == item.value("id", "")) {
      values["initial"] = "1";
    }
    for (const json& a : item.value("on_enter", json::array())) {
      const std::string what = a.value("do", "");
      const std::string to = a.value("to", "");
      if (what == "notify" && (to == "applicant" || to == "officers")) values["notify_" + to] = "1";
      if (what == "notify" && to != "applicant" && to != "officers") values["notify_field"] = to;
      if (what == "issue_certificate") values["issue_certificate"] = "1";
      if (what == "update_registry") values["update_registry"] = a.value("registry", "");
    }
  } else if (part == "transitions") {
    const json by = item.value("by", json::object());
    values = {{"id", item.value("id", "")},
              {"from", item.value("from", "")},
              {"to", item.value("to", "")},
              {"label_en", In(item.value("label", json::object()), "en")},
              {"label_dz", In(item.value("label", json::object()), "dz")},
              {"by", by.contains("citizen_field") ? "citizen_field" : by.value("applicant", false) ? "applicant" : "role"},
              {"role", by.value("role", "officer")},
              {"organisation", by.value("organisation", "")},
              {"citizen_field", by.value("citizen_field", "")},
              {"approvals", item.contains("approvals") ? item["approvals"].dump() : ""}};
    if (item.value("comment_required", false)) values["comment_required"] = "1";
  } else if (part == "justifications") {
    values = {{"field", item.value("field", "")},
              {"registry_field", item.value("registry_field", "")},
              {"reason", item.value("reason", "")}};
  }
  return values;
}

EditPage DesignerPages::ItemPage(const Request& r, const Version& latest, const std::string& part,
                                 const std::string& index, const json& values) {
  const json& d = latest.definition;
  const bool is_new = index == "new";
  const std::string key = part == "fee-rules" ? "fee_rule" : part.substr(0, part.size() - 1);
  EditPage page;
  page.heading = T(r, (is_new ? "design_add_" : "design_edit_") + key);
  page.caption = In(d.value("title", json::object()), Dz(r) ? "dz" : "en");
  page.action = fmt::format("{}/{}/{}", OverviewPath(latest.service), part, index);
  page.back = OverviewPath(latest.service);
  page.submit = T(r, "design_save");
  const auto options = [&](const std::vector<std::pair<std::string, std::string>>& items, const std::string& chosen) {
    std::vector<Control::Option> out;
    for (const auto& [value, label] : items) out.push_back({value, label, value == chosen, ""});
    return out;
  };
  std::vector<std::pair<std::string, std::string>> states;
  if (d.contains("workflow") && d["workflow"].contains("states")) {
    for (const json& s : d["workflow"]["states"]) {
      states.emplace_back(s.value("id", ""), fmt::format("{} ({})", In(s.value("title", json::object()), Dz(r) ? "dz" : "en"),
                                                         s.value("id", "")));
    }
  }
  if (part == "documents") {
    page.controls.push_back(Text("type", T(r, "design_document_type"), V(values, "type"), T(r, "design_id_hint"), "govuk-input--width-20"));
    page.controls.push_back(Text("title_en", T(r, "design_title_en"), V(values, "title_en")));
    page.controls.push_back(DzText("title_dz", T(r, "design_title_dz"), V(values, "title_dz")));
    std::vector<Control::Option> formats;
    for (const Format& f : kFormats) {
      formats.push_back({f.short_name, f.label, values.contains(std::string("formats.") + f.short_name), ""});
    }
    page.controls.push_back(Checks("formats", T(r, "design_formats"), formats));
    page.controls.push_back(Text("max_mb", T(r, "design_max_mb"), V(values, "max_mb"), T(r, "design_max_mb_hint"), "govuk-input--width-5"));
    page.controls.push_back(Check("required", T(r, "design_document_required"), values.contains("required")));
  } else if (part == "fee-rules") {
    page.controls.push_back(Select("when_field", T(r, "design_when_field"), FieldOptions(r, d, V(values, "when_field"), "", "")));
    page.controls.push_back(Text("when_values", T(r, "design_show_when_values"), V(values, "when_values"),
                                 T(r, "design_show_when_values_hint")));
    page.controls.push_back(Text("amount", T(r, "design_amount"), V(values, "amount"), T(r, "design_fee_hint"), "govuk-input--width-10"));
  } else if (part == "states") {
    page.controls.push_back(Text("id", T(r, "design_state_id"), V(values, "id"), T(r, "design_id_hint"), "govuk-input--width-20"));
    page.controls.push_back(Text("title_en", T(r, "design_title_en"), V(values, "title_en")));
    page.controls.push_back(DzText("title_dz", T(r, "design_title_dz"), V(values, "title_dz")));
    page.controls.push_back(Check("initial", T(r, "design_initial_state"), values.contains("initial")));
    page.controls.push_back(Check("final", T(r, "design_final_state"), values.contains("final")));
    std::vector<std::pair<std::string, std::string>> outcomes = {{"", T(r, "design_none")}};
    for (const char* o : kOutcomes) outcomes.emplace_back(o, T(r, std::string("design_outcome_") + o));
    page.controls.push_back(Select("outcome", T(r, "design_outcome"), options(outcomes, V(values, "outcome"))));
    page.controls.push_back(Heading(T(r, "design_on_enter")));
    page.controls.push_back(Check("notify_applicant", T(r, "design_notify_applicant"), values.contains("notify_applicant")));
    page.controls.push_back(Check("notify_officers", T(r, "design_notify_officers"), values.contains("notify_officers")));
    page.controls.push_back(Select("notify_field", T(r, "design_notify_field"), FieldOptions(r, d, V(values, "notify_field"), "", "cid")));
    page.controls.push_back(Check("issue_certificate", T(r, "design_action_issue_certificate"), values.contains("issue_certificate")));
    std::vector<std::pair<std::string, std::string>> registers = {{"", T(r, "design_none")}};
    if (auto list = registries_.List(); list.ok()) {
      for (const auto& reg : *list) registers.emplace_back(reg.code, Dz(r) ? reg.title_dz : reg.title_en);
    }
    page.controls.push_back(Select("update_registry", T(r, "design_update_registry"), options(registers, V(values, "update_registry"))));
  } else if (part == "transitions") {
    page.controls.push_back(Text("id", T(r, "design_transition_id"), V(values, "id"), T(r, "design_id_hint"), "govuk-input--width-20"));
    page.controls.push_back(Select("from", T(r, "design_from"), options(states, V(values, "from"))));
    page.controls.push_back(Select("to", T(r, "design_to"), options(states, V(values, "to"))));
    page.controls.push_back(Text("label_en", T(r, "design_label_en"), V(values, "label_en")));
    page.controls.push_back(DzText("label_dz", T(r, "design_label_dz"), V(values, "label_dz")));
    page.controls.push_back(Radios("by", T(r, "design_by"),
                                   options({{"role", T(r, "design_by_role")},
                                            {"citizen_field", T(r, "design_by_citizen")},
                                            {"applicant", T(r, "design_by_applicant")}},
                                           V(values, "by"))));
    std::vector<std::pair<std::string, std::string>> roles;
    for (const char* role : kRoles) roles.emplace_back(role, T(r, std::string("design_role_") + role));
    page.controls.push_back(Select("role", T(r, "design_role"), options(roles, V(values, "role"))));
    page.controls.push_back(Text("organisation", T(r, "design_organisation"), V(values, "organisation"),
                                 T(r, "design_organisation_hint"), "govuk-input--width-10"));
    page.controls.push_back(Select("citizen_field", T(r, "design_citizen_field"),
                                   FieldOptions(r, d, V(values, "citizen_field"), "", "cid"), T(r, "design_citizen_field_hint")));
    page.controls.push_back(Text("approvals", T(r, "design_approvals"), V(values, "approvals"), T(r, "design_approvals_hint"), "govuk-input--width-4"));
    page.controls.push_back(Check("comment_required", T(r, "design_comment_required"), values.contains("comment_required")));
  } else {
    page.controls.push_back(Select("field", T(r, "design_lint_field"), FieldOptions(r, d, V(values, "field"), "", "")));
    page.controls.push_back(Select("registry_field", T(r, "design_lint_registry_field"), RegistryFieldOptions(r, V(values, "registry_field"))));
    page.controls.push_back(Area("reason", T(r, "design_reason"), V(values, "reason"), false, 4, T(r, "design_reason_hint")));
  }
  return page;
}

std::vector<FieldError> DesignerPages::ApplyItem(const Request& r, json& d, const std::string& part, const json& values,
                                                 const EditPage& edit, json& item) {
  std::vector<FieldError> problems;
  const auto check = [&](bool ok, const std::string& name, const std::string& rule, std::size_t min = 0,
                         std::size_t max = 0) {
    if (!ok) problems.push_back(Problem(r, name, rule, LabelOf(edit, name), min, max));
  };
  const auto text = [&](const char* name) {
    const std::string en = V(values, std::string(name) + "_en");
    check(!en.empty(), std::string(name) + "_en", "required");
    item[name] = Bilingual(en, V(values, std::string(name) + "_dz"));
  };
  if (part == "documents") {
    check(IsId(V(values, "type")), "type", "id");
    item["type"] = V(values, "type");
    text("title");
    item["formats"] = json::array();
    for (const Format& f : kFormats) {
      if (values.contains(std::string("formats.") + f.short_name)) item["formats"].push_back(f.media_type);
    }
    check(!item["formats"].empty(), "formats", "choose");
    const auto mb = ParseMoney(V(values, "max_mb"));  // megabytes, to two decimals like an amount
    const std::int64_t bytes = mb ? *mb * 1048576 / 100 : 0;
    check(mb && bytes >= 1024 && bytes <= 20971520, "max_mb", "size", 0, 20);
    item["max_bytes"] = bytes;
    SetFlag(item, "required", values.contains("required"));
  } else if (part == "fee-rules") {
    const std::string field = V(values, "when_field");
    check(!field.empty(), "when_field", "choose");
    check(!V(values, "when_values").empty(), "when_values", "required");
    item["when"] = Condition(d, field, V(values, "when_values"));
    const auto amount = ParseMoney(V(values, "amount"));
    check(amount && *amount <= 100000000, "amount", "money");
    item["amount_chhertum"] = amount.value_or(0);
  } else if (part == "states") {
    const std::string old_id = item.value("id", "");
    const std::string id = V(values, "id");
    check(IsId(id), "id", "id");
    item["id"] = id;
    text("title");
    SetFlag(item, "final", values.contains("final"));
    const std::string outcome = V(values, "outcome");
    if (outcome.empty()) {
      item.erase("outcome");
    } else {
      item["outcome"] = outcome;
    }
    json actions = json::array();
    if (values.contains("notify_applicant")) actions.push_back({{"do", "notify"}, {"to", "applicant"}});
    if (values.contains("notify_officers")) actions.push_back({{"do", "notify"}, {"to", "officers"}});
    if (!V(values, "notify_field").empty()) actions.push_back({{"do", "notify"}, {"to", V(values, "notify_field")}});
    if (values.contains("issue_certificate")) actions.push_back({{"do", "issue_certificate"}});
    if (!V(values, "update_registry").empty()) {
      actions.push_back({{"do", "update_registry"}, {"registry", V(values, "update_registry")}});
    }
    // The actions kept stay in their order (issue the certificate, then
    // tell the applicant); the ones added follow.
    json ordered = json::array();
    for (const json& a : item.value("on_enter", json::array())) {
      if (std::find(actions.begin(), actions.end(), a) != actions.end()) ordered.push_back(a);
    }
    for (const json& a : actions) {
      if (std::find(ordered.begin(), ordered.end(), a) == ordered.end()) ordered.push_back(a);
    }
    if (ordered.empty()) {
      item.erase("on_enter");
    } else {
      item["on_enter"] = ordered;
    }
    // A renamed state keeps its transitions and its place as the first.
    json& workflow = d["workflow"];
    if (!old_id.empty() && old_id != id && IsId(id)) {
      for (json& t : workflow["transitions"]) {
        if (t.value("from", "") == old_id) t["from"] = id;
        if (t.value("to", "") == old_id) t["to"] = id;
      }
      if (workflow.value("initial", "") == old_id) workflow["initial"] = id;
    }
    if (values.contains("initial")) workflow["initial"] = id;
  } else if (part == "transitions") {
    check(IsId(V(values, "id")), "id", "id");
    item["id"] = V(values, "id");
    check(!V(values, "from").empty(), "from", "choose");
    check(!V(values, "to").empty(), "to", "choose");
    item["from"] = V(values, "from");
    item["to"] = V(values, "to");
    text("label");
    const std::string by = V(values, "by");
    json who = json::object();
    if (by == "role") {
      who["role"] = V(values, "role");
      if (!V(values, "organisation").empty()) who["organisation"] = V(values, "organisation");
    } else if (by == "citizen_field") {
      check(!V(values, "citizen_field").empty(), "citizen_field", "choose");
      who["citizen_field"] = V(values, "citizen_field");
    } else if (by == "applicant") {
      who["applicant"] = true;
    } else {
      check(false, "by", "choose");
    }
    item["by"] = who;
    item.erase("approvals");
    if (!V(values, "approvals").empty()) {
      const auto n = WholeNumber(V(values, "approvals"));
      check(n && *n >= 1 && *n <= 5, "approvals", "range", 1, 5);
      if (n) item["approvals"] = *n;
    }
    SetFlag(item, "comment_required", values.contains("comment_required"));
  } else {
    check(!V(values, "field").empty(), "field", "choose");
    check(!V(values, "registry_field").empty(), "registry_field", "choose");
    const std::string reason = V(values, "reason");
    check(reason.size() >= 20 && reason.size() <= 2000, "reason", "length", 20, 2000);
    item = {{"field", V(values, "field")}, {"registry_field", V(values, "registry_field")}, {"reason", reason}};
  }
  return problems;
}

Response DesignerPages::ItemForm(const Request& r, const std::string& code, const std::string& part,
                                 const std::string& index) {
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  std::string path;
  json d = latest->definition;
  json& list = PartArray(d, part, path);
  json values = json::object();
  if (index == "new") {
    if (part == "documents") values = {{"max_mb", "2"}, {"formats.pdf", "1"}, {"required", "1"}};
    if (part == "transitions") values = {{"by", "role"}, {"role", "officer"}};
    if (part == "justifications") {
      values = {{"field", r.QueryParam("field").value_or("")},
                {"registry_field", r.QueryParam("registry_field").value_or("")}};
    }
  } else {
    const auto i = WholeNumber(index);
    if (!Known(part) || !i || *i >= static_cast<std::int64_t>(list.size())) {
      return web_.ErrorPage(r, Error(errc::kNotFound, "no such item"), 404);
    }
    values = ItemValues(d, part, list[*i]);
  }
  return ShowEdit(r, ItemPage(r, *latest, part, index, values));
}

Response DesignerPages::SaveItem(const Request& r, const std::string& code, const std::string& part,
                                 const std::string& index) {
  auto form = web_.ReadForm(r);
  if (!form.ok()) return FormError(r, form.error());
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  json d = latest->definition;
  std::string path;
  json& list = PartArray(d, part, path);
  const auto i = WholeNumber(index);
  if (!Known(part) || (index != "new" && (!i || *i >= static_cast<std::int64_t>(list.size())))) {
    return web_.ErrorPage(r, Error(errc::kNotFound, "no such item"), 404);
  }
  const std::size_t at = index == "new" ? list.size() : static_cast<std::size_t>(*i);
  json item = index == "new" ? json::object() : list[at];
  const json values = FormValues(*form);
  EditPage edit = ItemPage(r, *latest, part, index, values);
  auto problems = ApplyItem(r, d, part, values, edit, item);
  if (!problems.empty()) return ShowEdit(r, std::move(edit), problems);
  json& same = PartArray(d, part, path);  // ApplyItem may have changed the workflow
  if (at == same.size()) {
    same.push_back(item);
  } else {
    same[at] = item;
  }
  return SaveAndGo(r, d, fmt::format("{}#{}-heading", OverviewPath(code), part), std::move(edit),
                   fmt::format("{}[{}].", path, at));
}

Response DesignerPages::ArrangeItem(const Request& r, const std::string& code, const std::string& part,
                                    const std::string& index) {
  auto form = web_.ReadForm(r);
  if (!form.ok()) return FormError(r, form.error());
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  json d = latest->definition;
  std::string path;
  const auto i = WholeNumber(index);
  if (!Known(part) || !i || !MoveOrRemove(PartArray(d, part, path), static_cast<std::size_t>(*i), FormText(*form, "do"))) {
    return web_.ErrorPage(r, Error(errc::kNotFound, "no such item or move"), 404);
  }
  DropIfEmpty(d, part);
  return Rearranged(r, *latest, d, fmt::format("{}#{}-heading", OverviewPath(code), part), part);
}

EditPage DesignerPages::CertificatePage(const Request& r, const Version& latest, const json& values, std::size_t rows) {
  EditPage page;
  page.heading = T(r, "design_certificate");
  page.caption = In(latest.definition.value("title", json::object()), Dz(r) ? "dz" : "en");
  page.action = fmt::format("{}/certificate", OverviewPath(latest.service));
  page.back = OverviewPath(latest.service);
  page.submit = T(r, "design_save");
  page.controls.push_back(Text("template", T(r, "design_template"), V(values, "template"), T(r, "design_template_hint"), "govuk-input--width-20"));
  page.controls.push_back(Text("title_en", T(r, "design_title_en"), V(values, "title_en")));
  page.controls.push_back(DzText("title_dz", T(r, "design_title_dz"), V(values, "title_dz")));
  page.controls.push_back(Text("valid_days", T(r, "design_valid_days"), V(values, "valid_days"), T(r, "design_valid_days_hint"), "govuk-input--width-5"));
  page.controls.push_back(Area("statement_en", T(r, "design_statement_en"), V(values, "statement_en"), false, 2,
                               T(r, "design_statement_hint")));
  page.controls.push_back(Area("statement_dz", T(r, "design_statement_dz"), V(values, "statement_dz"), true, 2));
  for (std::size_t i = 0; i < rows; ++i) {
    const std::string n = std::to_string(i);
    page.controls.push_back(Heading(fmt::format("{} {}", T(r, "design_certificate_field"), i + 1)));
    page.controls.push_back(Text("field_" + n, T(r, "design_field_id") + " " + std::to_string(i + 1), V(values, "field_" + n),
                                 i == 0 ? T(r, "design_certificate_field_hint") : "", "govuk-input--width-20"));
    page.controls.push_back(Text("label_en_" + n, T(r, "design_label_en") + " " + std::to_string(i + 1), V(values, "label_en_" + n)));
    page.controls.push_back(DzText("label_dz_" + n, T(r, "design_label_dz") + " " + std::to_string(i + 1), V(values, "label_dz_" + n)));
    page.controls.push_back(Check("public_" + n, T(r, "design_public") + " " + std::to_string(i + 1), values.contains("public_" + n)));
    page.controls.push_back(Check("details_" + n, T(r, "design_details_block") + " " + std::to_string(i + 1),
                                  values.contains("details_" + n)));
  }
  return page;
}

Response DesignerPages::CertificateForm(const Request& r, const std::string& code) {
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  const json c = latest->definition.value("certificate", json::object());
  json values = {{"template", c.value("template", "")},
                 {"title_en", In(c.value("title", json::object()), "en")},
                 {"title_dz", In(c.value("title", json::object()), "dz")},
                 {"valid_days", c.contains("valid_days") ? c["valid_days"].dump() : ""},
                 {"statement_en", In(c.value("statement", json::object()), "en")},
                 {"statement_dz", In(c.value("statement", json::object()), "dz")}};
  const json fields = c.value("fields", json::array());
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::string n = std::to_string(i);
    values["field_" + n] = fields[i].value("field", "");
    values["label_en_" + n] = In(fields[i].value("label", json::object()), "en");
    values["label_dz_" + n] = In(fields[i].value("label", json::object()), "dz");
    if (fields[i].value("public", false)) values["public_" + n] = "1";
    if (fields[i].value("block", "main") == "details") values["details_" + n] = "1";
  }
  return ShowEdit(r, CertificatePage(r, *latest, values, fields.size() + 3));
}

Response DesignerPages::SaveCertificate(const Request& r, const std::string& code) {
  auto form = web_.ReadForm(r);
  if (!form.ok()) return FormError(r, form.error());
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  const json values = FormValues(*form);
  std::size_t rows = 0;
  while (values.contains("field_" + std::to_string(rows)) && rows < 40) ++rows;
  EditPage edit = CertificatePage(r, *latest, values, std::max<std::size_t>(rows, 3));
  std::vector<FieldError> problems;
  const auto check = [&](bool ok, const std::string& name, const std::string& rule, std::size_t min = 0,
                         std::size_t max = 0) {
    if (!ok) problems.push_back(Problem(r, name, rule, LabelOf(edit, name), min, max));
  };
  json d = latest->definition;
  json fields = json::array();
  for (std::size_t i = 0; i < rows; ++i) {
    const std::string n = std::to_string(i);
    const std::string field = V(values, "field_" + n);
    if (field.empty() && V(values, "label_en_" + n).empty() && V(values, "label_dz_" + n).empty()) continue;
    check(IsId(field), "field_" + n, "id");
    check(!V(values, "label_en_" + n).empty(), "label_en_" + n, "required");
    json f = {{"field", field}, {"label", Bilingual(V(values, "label_en_" + n), V(values, "label_dz_" + n))}};
    if (values.contains("public_" + n)) f["public"] = true;
    if (values.contains("details_" + n)) f["block"] = "details";
    fields.push_back(f);
  }
  const std::string template_id = V(values, "template");
  if (template_id.empty() && fields.empty() && V(values, "title_en").empty()) {
    d.erase("certificate");  // the service issues no certificate
  } else {
    check(!template_id.empty(), "template", "required");
    check(!V(values, "title_en").empty(), "title_en", "required");
    check(!fields.empty(), "field_0", "required");
    json c = {{"template", template_id}, {"title", Bilingual(V(values, "title_en"), V(values, "title_dz"))}, {"fields", fields}};
    if (!V(values, "valid_days").empty()) {
      const auto days = WholeNumber(V(values, "valid_days"));
      check(days && *days >= 1 && *days <= 36500, "valid_days", "range", 1, 36500);
      if (days) c["valid_days"] = *days;
    }
    if (!V(values, "statement_en").empty() || !V(values, "statement_dz").empty()) {
      check(!V(values, "statement_en").empty(), "statement_en", "required");
      c["statement"] = Bilingual(V(values, "statement_en"), V(values, "statement_dz"));
    }
    d["certificate"] = c;
  }
  if (!problems.empty()) return ShowEdit(r, std::move(edit), problems);
  return SaveAndGo(r, d, OverviewPath(code), std::move(edit), "certificate.");
}

}  // namespace dzong::services::design
