// What the designer's pages share: controls and their rendering, reading
// a form, saving a draft and showing its problems at the controls, the
// registry fields a form field may be pre-filled from, and conditions.
#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "modules/audit/audit.h"
#include "modules/registries/registries.h"
#include "modules/services/designer.h"

namespace dzong::services::design {

using http::Request;
using http::Response;
using nlohmann::json;

std::string FormText(const web::Form& form, const std::string& name) {
  const auto it = form.find(name);
  return it == form.end() ? std::string() : it->second;
}

json FormValues(const web::Form& form) {
  json values = json::object();
  for (const auto& [k, v] : form) {
    if (k != "csrf_token") values[k] = v;
  }
  return values;
}

std::string In(const json& text, const char* language) {
  if (!text.is_object() || !text.contains(language) || !text.at(language).is_string()) return {};
  return text.at(language).get<std::string>();
}

json Bilingual(const std::string& en, const std::string& dz) {
  json text = {{"en", en}};
  if (!dz.empty()) text["dz"] = dz;
  return text;
}

void SetFlag(json& object, const char* key, bool on) {
  if (on) {
    object[key] = true;
  } else if (object.contains(key)) {
    object[key] = false;
  }
}

std::optional<std::int64_t> WholeNumber(const std::string& text) {
  std::int64_t n = 0;
  if (text.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 0) return std::nullopt;
  return n;
}

bool MoveOrRemove(json& array, std::size_t i, const std::string& action) {
  if (!array.is_array() || i >= array.size()) return false;
  if (action == "up" && i > 0) {
    std::swap(array[i], array[i - 1]);
  } else if (action == "down" && i + 1 < array.size()) {
    std::swap(array[i], array[i + 1]);
  } else if (action == "remove") {
    array.erase(array.begin() + static_cast<std::ptrdiff_t>(i));
  } else {
    return false;
  }
  return true;
}

bool IsId(const std::string& text) {
  if (text.empty() || text.size() > 64 || text[0] < 'a' || text[0] > 'z') return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

std::optional<FieldAddress> ParseFieldAddress(const std::string& text) {
  FieldAddress address;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t dot = text.find('.', start);
    const std::string part = text.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part == "new" && dot == std::string::npos) {
      address.is_new = true;
    } else {
      const auto n = WholeNumber(part);
      if (!n || *n > 100) return std::nullopt;
      address.path.push_back(static_cast<std::size_t>(*n));
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (address.path.empty() && !address.is_new) return std::nullopt;
  return address;
}

Control Text(std::string name, std::string label, std::string value, std::string hint, std::string width) {
  Control c;
  c.name = std::move(name);
  c.label = std::move(label);
  c.value = std::move(value);
  c.hint = std::move(hint);
  c.width = std::move(width);
  return c;
}

Control DzText(std::string name, std::string label, std::string value, std::string hint) {
  Control c = Text(std::move(name), std::move(label), std::move(value), std::move(hint));
  c.dzongkha = true;
  return c;
}

Control Area(std::string name, std::string label, std::string value, bool dzongkha, int rows, std::string hint) {
  Control c = Text(std::move(name), std::move(label), std::move(value), std::move(hint));
  c.kind = Control::Kind::kTextarea;
  c.dzongkha = dzongkha;
  c.rows = rows;
  return c;
}

Control Check(std::string name, std::string label, bool checked, std::string hint) {
  Control c = Text(std::move(name), std::move(label), "", std::move(hint));
  c.kind = Control::Kind::kCheckbox;
  c.checked = checked;
  return c;
}

Control Select(std::string name, std::string label, std::vector<Control::Option> options, std::string hint) {
  Control c = Text(std::move(name), std::move(label), "", std::move(hint));
  c.kind = Control::Kind::kSelect;
  c.options = std::move(options);
  return c;
}

Control Radios(std::string name, std::string label, std::vector<Control::Option> options, std::string hint) {
  Control c = Select(std::move(name), std::move(label), std::move(options), std::move(hint));
  c.kind = Control::Kind::kRadios;
  return c;
}

Control Checks(std::string name, std::string label, std::vector<Control::Option> options, std::string hint) {
  Control c = Select(std::move(name), std::move(label), std::move(options), std::move(hint));
  c.kind = Control::Kind::kCheckboxes;
  return c;
}

json RowList(const std::string& heading, const std::string& id, json rows, const std::string& add,
             const std::string& add_label) {
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i]["first"] = i == 0;
    rows[i]["last"] = i + 1 == rows.size();
  }
  const bool empty = rows.empty();
  return {{"rows_heading", heading}, {"rows_id", id},  {"rows_empty", empty},
          {"rows", std::move(rows)}, {"rows_add", add}, {"rows_add_label", add_label}};
}

Control Heading(std::string text) {
  Control c;
  c.kind = Control::Kind::kHeading;
  c.label = std::move(text);
  return c;
}

namespace {

json ControlJson(const Control& c, const std::string& error) {
  using K = Control::Kind;
  std::string describedby;
  if (!c.hint.empty()) describedby = c.name + "-hint";
  if (!error.empty()) describedby += (describedby.empty() ? "" : " ") + c.name + "-error";
  json options = json::array();
  json groups = json::array();
  for (std::size_t i = 0; i < c.options.size(); ++i) {
    const Control::Option& o = c.options[i];
    const std::string id = i == 0 ? c.name : c.name + "-" + o.value;
    json item = {{"value", o.value},
                 {"label", o.label},
                 {"chosen", o.chosen},
                 {"id", id},
                 {"input", c.kind == K::kCheckboxes ? c.name + "." + o.value : c.name}};
    if (c.kind == K::kSelect && !o.group.empty()) {
      if (groups.empty() || groups.back()["group"] != o.group) groups.push_back({{"group", o.group}, {"items", json::array()}});
      groups.back()["items"].push_back(std::move(item));
    } else {
      options.push_back(std::move(item));
    }
  }
  return {{"name", c.name},
          {"label", c.label},
          {"hint", c.hint},
          {"error", error},
          {"value", c.value},
          {"checked", c.checked},
          {"width", c.width},
          {"dzongkha", c.dzongkha},
          {"rows", c.rows},
          {"describedby", describedby},
          {"options", options},
          {"groups", groups},
          {"is_heading", c.kind == K::kHeading},
          {"is_text", c.kind == K::kText},
          {"is_textarea", c.kind == K::kTextarea},
          {"is_select", c.kind == K::kSelect},
          {"is_checkbox", c.kind == K::kCheckbox},
          {"is_group", c.kind == K::kRadios || c.kind == K::kCheckboxes},
          {"is_radios", c.kind == K::kRadios}};
}

bool HasControl(const EditPage& page, const std::string& name) {
  return std::any_of(page.controls.begin(), page.controls.end(), [&](const Control& c) {
    return c.kind != Control::Kind::kHeading && c.name == name;
  });
}

std::string FirstControl(const EditPage& page) {
  for (const Control& c : page.controls) {
    if (c.kind != Control::Kind::kHeading) return c.name;
  }
  return "save";
}

}  // namespace

std::string DesignerPages::TextIn(const std::string& key, const char* language) const {
  Request r;
  r.headers.push_back({"Cookie", fmt::format("{}={}", web::kLanguageCookie, language)});
  return web_.Text(r, key);
}

Result<Version> DesignerPages::Latest(const Request& r, const std::string& code) {
  auto service = catalogue_.Get(code);
  if (!service.ok()) return service.error();
  if (!r.principal.organisation || service->owner != *r.principal.organisation) {
    // Another organisation's service is not there, as far as this designer goes.
    return Error(errc::kNotFound, fmt::format("there is no service {} of your organisation", code));
  }
  DZONG_ASSIGN_OR_RETURN(auto versions, catalogue_.Versions(code));
  if (versions.empty()) return Error(errc::kVersionNotFound, fmt::format("service {} has no version", code));
  return versions.front();
}

Response DesignerPages::FormError(const Request& r, const Error& e) {
  return web_.ErrorPage(r, e, e.code == "identity.csrf_failed" ? 422 : 415);
}

Response DesignerPages::Failure(const Request& r, const Error& e) {
  if (e.code == errc::kNotFound || e.code == errc::kVersionNotFound) return web_.ErrorPage(r, e, 404);
  if (e.code == errc::kNotOwner) return web_.ErrorPage(r, e, 403);
  return web_.ErrorPage(r, e, 500);
}

FieldError DesignerPages::Problem(const Request& r, const std::string& name, const std::string& rule,
                                  const std::string& label, std::size_t min, std::size_t max) const {
  return {name, rule, web_.Problem(r, "design_" + rule, label, min, max)};
}

std::string DesignerPages::LabelOf(const EditPage& page, const std::string& name) {
  for (const Control& c : page.controls) {
    if (c.name == name) return c.label;
  }
  return name;
}

Response DesignerPages::ShowEdit(const Request& r, EditPage page, const std::vector<FieldError>& problems) {
  std::vector<FieldError> shown;
  for (const FieldError& p : problems) {
    // A problem the page has no control for is shown at its first one.
    shown.push_back({HasControl(page, p.field) ? p.field : FirstControl(page), p.rule, p.message});
  }
  json controls = json::array();
  for (const Control& c : page.controls) {
    std::string error;
    for (const FieldError& p : shown) {
      if (p.field == c.name && c.kind != Control::Kind::kHeading) {
        error = p.message;
        break;
      }
    }
    controls.push_back(ControlJson(c, error));
  }
  json context = {{"heading", page.heading}, {"caption", page.caption}, {"action", page.action},
                  {"back", page.back},       {"submit", page.submit},   {"controls", controls},
                  {"lists", page.lists.is_array() ? page.lists : json::array()}};
  if (shown.empty()) return web_.Page(r, "design_edit", page.heading, context);
  return web_.ShowProblems(r, "design_edit", page.heading, context, shown);
}

std::vector<FieldError> DesignerPages::Explain(const Request& r, const std::vector<FieldError>& errors,
                                               const EditPage& page, const std::string& prefix) const {
  std::vector<FieldError> out;
  for (const FieldError& e : errors) {
    std::string name;
    std::string label = e.field;
    if (!prefix.empty() && e.field.rfind(prefix, 0) == 0) {
      std::string rest = e.field.substr(prefix.size());
      std::string whole = rest;
      std::replace(whole.begin(), whole.end(), '.', '_');
      const std::string first = rest.substr(0, rest.find_first_of(".["));
      if (HasControl(page, whole)) {
        name = whole;
      } else if (HasControl(page, first)) {
        name = first;
      } else if (HasControl(page, first + "_en")) {
        name = first + "_en";
      }
      if (!name.empty()) label = LabelOf(page, name);
    }
    out.push_back({name.empty() ? FirstControl(page) : name, e.rule,
                   fmt::format("{}: {} ({} {})", label, e.message, web_.Text(r, "design_rule"), e.rule)});
  }
  return out;
}

Response DesignerPages::SaveAndGo(const Request& r, const json& definition, const std::string& next, EditPage page,
                                  const std::string& prefix) {
  auto saved = catalogue_.SaveDraft(definition, audit::ActorOf(r));
  if (saved.ok()) return web::Web::Redirect(next);
  const Error& e = saved.error();
  if (e.code == dzong::errc::kValidation) {
    auto problems = Explain(r, e.fields, page, prefix);
    return ShowEdit(r, std::move(page), problems);
  }
  if (e.code == errc::kRetired) {
    std::vector<FieldError> problems = {{FirstControl(page), "retired", web_.Text(r, "design_retired_problem")}};
    return ShowEdit(r, std::move(page), problems);
  }
  return Failure(r, e);
}

std::vector<Control::Option> DesignerPages::RegistryFieldOptions(const Request& r, const std::string& chosen) {
  std::vector<Control::Option> options = {{"", web_.Text(r, "design_none"), chosen.empty(), ""}};
  auto list = registries_.List();
  if (!list.ok()) return options;
  for (const auto& registry : *list) {
    const std::string group = Dz(r) ? registry.title_dz : registry.title_en;
    for (const auto& f : registry.fields) {
      const std::string value = registry.code + "." + f.name;
      const std::string label = Dz(r) && !f.label_dz.empty() ? f.label_dz : f.description;
      options.push_back({value, fmt::format("{} ({})", label, f.name), value == chosen, group});
    }
  }
  return options;
}

std::vector<std::pair<std::string, std::string>> DesignerPages::FormFields(const json& definition) {
  std::vector<std::pair<std::string, std::string>> out;
  std::function<void(const json&)> walk = [&](const json& fields) {
    if (!fields.is_array()) return;
    for (const json& f : fields) {
      out.emplace_back(f.value("id", ""), f.value("type", ""));
      if (f.contains("fields")) walk(f.at("fields"));
    }
  };
  if (definition.contains("form") && definition.at("form").contains("pages")) {
    for (const json& page : definition.at("form").at("pages")) {
      if (page.contains("fields")) walk(page.at("fields"));
    }
  }
  return out;
}

json DesignerPages::Condition(const json& definition, const std::string& field, const std::string& values) {
  std::string type;
  for (const auto& [id, t] : FormFields(definition)) {
    if (id == field) type = t;
  }
  std::vector<json> parsed;
  std::size_t start = 0;
  while (start <= values.size()) {
    const std::size_t comma = values.find(',', start);
    std::string v = values.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    v.erase(0, v.find_first_not_of(' '));
    v.erase(v.find_last_not_of(' ') + 1);
    if (!v.empty()) {
      if (type == "yes_no") {
        parsed.emplace_back(v == "yes" || v == "true");
      } else if (type == "number") {
        char* end = nullptr;
        const double d = std::strtod(v.c_str(), &end);
        if (end != nullptr && *end == '\0') {
          parsed.push_back(d == static_cast<double>(static_cast<std::int64_t>(d)) ? json(static_cast<std::int64_t>(d))
                                                                                  : json(d));
        } else {
          parsed.emplace_back(v);
        }
      } else {
        parsed.emplace_back(v);
      }
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  json condition = {{"field", field}};
  if (parsed.size() == 1) {
    condition["equals"] = parsed.front();
  } else if (!parsed.empty()) {
    // `in` holds strings and numbers only; a yes/no answer is one of two anyway.
    condition["in"] = json::array();
    for (const json& v : parsed) condition["in"].push_back(v.is_boolean() ? json(v.get<bool>() ? "yes" : "no") : v);
  }
  return condition;
}

std::string DesignerPages::ConditionValues(const json& condition) {
  const auto text = [](const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return std::string(v.get<bool>() ? "yes" : "no");
    return v.dump();
  };
  if (!condition.is_object()) return {};
  if (condition.contains("equals")) return text(condition.at("equals"));
  std::string out;
  if (condition.contains("in")) {
    for (const json& v : condition.at("in")) out += (out.empty() ? "" : ", ") + text(v);
  }
  return out;
}

}  // namespace dzong::services::design
