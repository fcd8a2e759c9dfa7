// The form's editors: a page (id, title, lead, when it is shown, its
// fields) and a field (id, type, labels, hint, the rules its answer must
// meet, options, the document a file answers, when it is shown, the
// registry field that pre-fills it, and a group's own fields), each added,
// changed, moved or removed in the latest definition and saved as the draft.
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "modules/services/designer.h"

namespace dzong::services::design {

using http::Request;
using http::Response;
using nlohmann::json;

namespace {

constexpr const char* kTypes[] = {"text", "number", "date", "choice", "yes_no", "cid", "address", "file", "group"};

std::string V(const json& values, const std::string& name) { return values.value(name, ""); }

json& Pages(json& d) {
  if (!d.contains("form") || !d["form"].is_object()) d["form"] = json::object();
  if (!d["form"].contains("pages") || !d["form"]["pages"].is_array()) d["form"]["pages"] = json::array();
  return d["form"]["pages"];
}

/// The array a field lives in and its path in the definition, following
/// `address` from the page's fields into groups; nullptr when it does not lead to one.
json* FieldArray(json& page, const FieldAddress& address, std::string& path) {
  json* fields = &page["fields"];
  const std::size_t depth = address.path.size() - (address.is_new ? 0 : 1);
  for (std::size_t k = 0; k < depth; ++k) {
    const std::size_t i = address.path[k];
    if (!fields->is_array() || i >= fields->size() || (*fields)[i].value("type", "") != "group") return nullptr;
    path += fmt::format("fields[{}].", i);
    fields = &(*fields)[i]["fields"];
    if (!fields->is_array()) *fields = json::array();
  }
  if (!fields->is_array()) return nullptr;
  if (!address.is_new && address.path.back() >= fields->size()) return nullptr;
  return fields;
}

std::string AddressText(const std::vector<std::size_t>& path) {
  std::string out;
  for (std::size_t i : path) {
    if (!out.empty()) out += '.';
    out += std::to_string(i);
  }
  return out;
}

bool IsDateBound(const std::string& text) {
  static const std::regex kBound("^(today([+-][0-9]{1,4}[dmy])?|[0-9]{4}-[0-9]{2}-[0-9]{2})$");
  return std::regex_match(text, kBound);
}

bool IsNumber(const std::string& text, double& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end != nullptr && *end == '\0';
}

bool IsOptionValue(const std::string& v) {
  static const std::regex kValue("^[a-z0-9][a-z0-9_-]{0,63}$");
  return std::regex_match(v, kValue);
}

std::string Trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\r"));
  s.erase(s.find_last_not_of(" \t\r") + 1);
  return s;
}

/// Options typed one per line as "value | English | Dzongkha"; the numbers
/// of the lines that are not go to `bad_lines`.
json OptionsFrom(const std::string& text, std::vector<std::size_t>& bad_lines) {
  json options = json::array();
  std::size_t line_number = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    ++line_number;
    if (Trim(line).empty()) continue;
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
      const std::size_t bar = line.find('|', start);
      parts.push_back(Trim(line.substr(start, bar == std::string::npos ? std::string::npos : bar - start)));
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    if (parts.size() < 2 || parts.size() > 3 || !IsOptionValue(parts[0]) || parts[1].empty()) {
      bad_lines.push_back(line_number);
      continue;
    }
    options.push_back({{"value", parts[0]}, {"label", Bilingual(parts[1], parts.size() == 3 ? parts[2] : "")}});
  }
  return options;
}

}  // namespace

Response DesignerPages::Rearranged(const Request& r, const Version& latest, const json& d, const std::string& next,
                                   const std::string& list) {
  auto saved = catalogue_.SaveDraft(d, audit::ActorOf(r));
  if (saved.ok()) return web::Web::Redirect(next);
  if (saved.error().code != dzong::errc::kValidation && saved.error().code != errc::kRetired) {
    return Failure(r, saved.error());
  }
  std::vector<FieldError> problems;
  for (const FieldError& e : saved.error().fields) {
    problems.push_back({list, e.rule, fmt::format("{}: {} ({} {})", e.field, e.message, T(r, "design_rule"), e.rule)});
  }
  if (problems.empty()) problems.push_back({list, "retired", T(r, "design_retired_problem")});
  return web_.ShowProblems(r, "design_service", T(r, "design_overview"), OverviewContext(r, latest, ""), problems);
}

std::vector<Control::Option> DesignerPages::FieldOptions(const Request& r, const json& d, const std::string& chosen,
                                                         const std::string& except, const std::string& type) {
  std::vector<Control::Option> options = {{"", T(r, "design_none"), chosen.empty(), ""}};
  for (const auto& [id, t] : FormFields(d)) {
    if (id == except || (!type.empty() && t != type)) continue;
    options.push_back({id, fmt::format("{} ({})", id, T(r, "design_type_" + t)), id == chosen, ""});
  }
  return options;
}

EditPage DesignerPages::FormPage(const Request& r, const Version& latest, const std::string& page_param,
                                 const json& values) {
  const json& d = latest.definition;
  const bool is_new = page_param == "new";
  const std::string base = OverviewPath(latest.service);
  EditPage page;
  page.heading = T(r, is_new ? "design_add_page" : "design_edit_page");
  page.caption = In(d.value("title", json::object()), Dz(r) ? "dz" : "en");
  page.action = fmt::format("{}/pages/{}", base, page_param);
  page.back = base;
  page.submit = T(r, "design_save");
  page.controls.push_back(Text("id", T(r, "design_id"), V(values, "id"), T(r, "design_id_hint"), "govuk-input--width-20"));
  page.controls.push_back(Text("title_en", T(r, "design_title_en"), V(values, "title_en")));
  page.controls.push_back(DzText("title_dz", T(r, "design_title_dz"), V(values, "title_dz")));
  page.controls.push_back(Area("lead_en", T(r, "design_lead_en"), V(values, "lead_en"), false, 3));
  page.controls.push_back(Area("lead_dz", T(r, "design_lead_dz"), V(values, "lead_dz"), true, 3));
  page.controls.push_back(Heading(T(r, "design_condition")));
  page.controls.push_back(Select("show_when_field", T(r, "design_show_when_field"),
                                 FieldOptions(r, d, V(values, "show_when_field"), "", ""),
                                 T(r, "design_show_when_hint")));
  page.controls.push_back(Text("show_when_values", T(r, "design_show_when_values"), V(values, "show_when_values"),
                               T(r, "design_show_when_values_hint")));
  if (is_new) {
    page.controls.push_back(Heading(T(r, "design_first_field")));
    page.controls.push_back(
        Text("first_id", T(r, "design_field_id"), V(values, "first_id"), T(r, "design_id_hint"), "govuk-input--width-20"));
    std::vector<Control::Option> types;
    for (const char* t : kTypes) types.push_back({t, T(r, std::string("design_type_") + t), V(values, "first_type") == t, ""});
    page.controls.push_back(Select("first_type", T(r, "design_field_type"), types));
    page.controls.push_back(Text("first_label_en", T(r, "design_label_en"), V(values, "first_label_en")));
    page.controls.push_back(DzText("first_label_dz", T(r, "design_label_dz"), V(values, "first_label_dz")));
    page.controls.push_back(Area("first_options", T(r, "design_options"), V(values, "first_options"), false, 4,
                                 T(r, "design_first_options_hint")));
  } else {
    const std::size_t p = static_cast<std::size_t>(*WholeNumber(page_param));
    const json& fields = d.at("form").at("pages").at(p).at("fields");
    json rows = json::array();
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const json& f = fields[i];
      std::string detail = f.value("id", "") + " · " + T(r, "design_type_" + f.value("type", ""));
      if (f.contains("prefill")) {
        detail += " · " + T(r, "design_prefilled") + " " + f["prefill"].value("registry", "") + "." +
                  f["prefill"].value("field", "");
      }
      rows.push_back({{"label", In(f.value("label", json::object()), Dz(r) ? "dz" : "en")},
                      {"detail", detail},
                      {"edit", fmt::format("{}/pages/{}/fields/{}", base, p, i)},
                      {"arrange", fmt::format("{}/pages/{}/fields/{}/arrange", base, p, i)}});
    }
    page.lists.push_back(RowList(T(r, "design_fields"), "fields", rows, fmt::format("{}/pages/{}/fields/new", base, p),
                                 T(r, "design_add_field")));
  }
  return page;
}

Response DesignerPages::PageForm(const Request& r, const std::string& code, const std::string& page_param) {
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  json values = json::object();
  if (page_param != "new") {
    const auto p = WholeNumber(page_param);
    json& pages = Pages(latest->definition);
    if (!p || *p >= static_cast<std::int64_t>(pages.size())) {
      return web_.ErrorPage(r, Error(errc::kNotFound, "no such page"), 404);
    }
    const json& page = pages[*p];
    values = {{"id", page.value("id", "")},
              {"title_en", In(page.value("title", json::object()), "en")},
              {"title_dz", In(page.value("title", json::object()), "dz")},
              {"lead_en", In(page.value("lead", json::object()), "en")},
              {"lead_dz", In(page.value("lead", json::object()), "dz")}};
    if (page.contains("show_when")) {
      values["show_when_field"] = page["show_when"].value("field", "");
      values["show_when_values"] = ConditionValues(page["show_when"]);
    }
  }
  return ShowEdit(r, FormPage(r, *latest, page_param, values));
}

Response DesignerPages::SavePage(const Request& r, const std::string& code, const std::string& page_param) {
  auto form = web_.ReadForm(r);
  if (!form.ok()) return FormError(r, form.error());
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  json d = latest->definition;
  json& pages = Pages(d);
  const bool is_new = page_param == "new";
  const auto p = WholeNumber(page_param);
  if (!is_new && (!p || *p >= static_cast<std::int64_t>(pages.size()))) {
    return web_.ErrorPage(r, Error(errc::kNotFound, "no such page"), 404);
  }
  const json values = FormValues(*form);
  EditPage edit = FormPage(r, *latest, page_param, values);
  std::vector<FieldError> problems;
  const auto check = [&](bool ok, const std::string& name, const std::string& rule) {
    if (!ok) problems.push_back(Problem(r, name, rule, LabelOf(edit, name)));
  };
  check(IsId(V(values, "id")), "id", "id");
  check(!V(values, "title_en").empty(), "title_en", "required");
  check(!(V(values, "lead_en").empty() && !V(values, "lead_dz").empty()), "lead_en", "required");
  const std::string when = V(values, "show_when_field");
  check(when.empty() || !V(values, "show_when_values").empty(), "show_when_values", "required");
  json page = is_new ? json::object() : pages[*p];
  page["id"] = V(values, "id");
  page["title"] = Bilingual(V(values, "title_en"), V(values, "title_dz"));
  if (V(values, "lead_en").empty()) {
    page.erase("lead");
  } else {
    page["lead"] = Bilingual(V(values, "lead_en"), V(values, "lead_dz"));
  }
  if (when.empty()) {
    page.erase("show_when");
  } else {
    page["show_when"] = Condition(d, when, V(values, "show_when_values"));
  }
  if (is_new) {
    const std::string type = V(values, "first_type");
    check(IsId(V(values, "first_id")), "first_id", "id");
    check(std::find_if(std::begin(kTypes), std::end(kTypes), [&](const char* t) { return type == t; }) != std::end(kTypes),
          "first_type", "choose");
    check(!V(values, "first_label_en").empty(), "first_label_en", "required");
    check(type != "group", "first_type", "group_first");
    json first = {{"id", V(values, "first_id")}, {"type", type},
                  {"label", Bilingual(V(values, "first_label_en"), V(values, "first_label_dz"))}};
    std::vector<std::size_t> bad_lines;
    const json options = OptionsFrom(V(values, "first_options"), bad_lines);
    for (std::size_t line : bad_lines) {
      problems.push_back(Problem(r, "first_options", "option_line", LabelOf(edit, "first_options"), line));
    }
    if (!options.empty()) first["options"] = options;
    page["fields"] = json::array({first});
  }
  if (!problems.empty()) return ShowEdit(r, std::move(edit), problems);
  std::size_t index = is_new ? pages.size() : static_cast<std::size_t>(*p);
  if (is_new) {
    pages.push_back(page);
  } else {
    pages[index] = page;
  }
  const std::string next =
      is_new ? fmt::format("/design/{}/pages/{}", code, index) : OverviewPath(code);
  return SaveAndGo(r, d, next, std::move(edit), fmt::format("form.pages[{}].", index));
}

Response DesignerPages::ArrangePage(const Request& r, const std::string& code, const std::string& page_param) {
  auto form = web_.ReadForm(r);
  if (!form.ok()) return FormError(r, form.error());
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  json d = latest->definition;
  const auto p = WholeNumber(page_param);
  if (!p || !MoveOrRemove(Pages(d), static_cast<std::size_t>(*p), FormText(*form, "do"))) {
    return web_.ErrorPage(r, Error(errc::kNotFound, "no such page or move"), 404);
  }
  return Rearranged(r, *latest, d, OverviewPath(code) + "#pages-heading", "pages");
}

EditPage DesignerPages::FieldPage(const Request& r, const Version& latest, const std::string& page_param,
                                  const std::string& field_param, const FieldAddress& address, const json* field,
                                  const json& values) {
  const json& d = latest.definition;
  const std::string base = OverviewPath(latest.service);
  EditPage page;
  page.heading = T(r, address.is_new ? "design_add_field" : "design_edit_field");
  page.caption = In(d.at("form").at("pages").at(static_cast<std::size_t>(*WholeNumber(page_param))).value("title", json::object()), Dz(r) ? "dz" : "en");
  page.action = fmt::format("{}/pages/{}/fields/{}", base, page_param, field_param);
  std::vector<std::size_t> parent = address.path;
  if (!address.is_new) parent.pop_back();
  page.back = parent.empty() ? fmt::format("{}/pages/{}", base, page_param)
                             : fmt::format("{}/pages/{}/fields/{}", base, page_param, AddressText(parent));
  page.submit = T(r, "design_save");
  const std::string type = V(values, "type");
  std::vector<Control::Option> types;
  for (const char* t : kTypes) types.push_back({t, T(r, std::string("design_type_") + t), type == t, ""});
  page.controls.push_back(
      Text("id", T(r, "design_field_id"), V(values, "id"), T(r, "design_id_hint"), "govuk-input--width-20"));
  page.controls.push_back(Select("type", T(r, "design_field_type"), types));
  page.controls.push_back(Text("label_en", T(r, "design_label_en"), V(values, "label_en")));
  page.controls.push_back(DzText("label_dz", T(r, "design_label_dz"), V(values, "label_dz")));
  page.controls.push_back(Text("hint_en", T(r, "design_hint_en"), V(values, "hint_en")));
  page.controls.push_back(DzText("hint_dz", T(r, "design_hint_dz"), V(values, "hint_dz")));
  page.controls.push_back(Check("required", T(r, "design_required"), values.contains("required")));
  page.controls.push_back(Heading(T(r, "design_rules")));
  for (const char* name : {"min_length", "max_length", "min", "max"}) {
    page.controls.push_back(Text(name, T(r, std::string("design_") + name), V(values, name), "", "govuk-input--width-5"));
  }
  page.controls.push_back(Text("pattern", T(r, "design_pattern"), V(values, "pattern"), T(r, "design_pattern_hint")));
  page.controls.push_back(Text("pattern_message_en", T(r, "design_pattern_message_en"), V(values, "pattern_message_en")));
  page.controls.push_back(DzText("pattern_message_dz", T(r, "design_pattern_message_dz"), V(values, "pattern_message_dz")));
  for (const char* name : {"min_date", "max_date"}) {
    page.controls.push_back(
        Text(name, T(r, std::string("design_") + name), V(values, name), T(r, "design_date_bound_hint"), "govuk-input--width-10"));
  }
  page.controls.push_back(Heading(T(r, "design_choices")));
  page.controls.push_back(Area("options", T(r, "design_options"), V(values, "options"), false, 5, T(r, "design_options_hint")));
  std::vector<Control::Option> documents = {{"", T(r, "design_none"), V(values, "document").empty(), ""}};
  if (d.contains("documents")) {
    for (const json& doc : d["documents"]) {
      const std::string t = doc.value("type", "");
      documents.push_back({t, fmt::format("{} ({})", In(doc.value("title", json::object()), Dz(r) ? "dz" : "en"), t),
                           t == V(values, "document"), ""});
    }
  }
  page.controls.push_back(Select("document", T(r, "design_document"), documents, T(r, "design_document_hint")));
  page.controls.push_back(Heading(T(r, "design_condition")));
  page.controls.push_back(Select("show_when_field", T(r, "design_show_when_field"),
                                 FieldOptions(r, d, V(values, "show_when_field"), V(values, "id"), ""),
                                 T(r, "design_show_when_hint")));
  page.controls.push_back(Text("show_when_values", T(r, "design_show_when_values"), V(values, "show_when_values"),
                               T(r, "design_show_when_values_hint")));
  page.controls.push_back(Heading(T(r, "design_prefill")));
  page.controls.push_back(Select("prefill", T(r, "design_prefill_from"), RegistryFieldOptions(r, V(values, "prefill")),
                                 T(r, "design_prefill_hint")));
  page.controls.push_back(Text("prefill_subject", T(r, "design_prefill_subject"), V(values, "prefill_subject"),
                               T(r, "design_prefill_subject_hint"), "govuk-input--width-20"));
  page.controls.push_back(Text("prefill_key", T(r, "design_prefill_key"), V(values, "prefill_key"),
                               T(r, "design_prefill_key_hint"), "govuk-input--width-20"));
  page.controls.push_back(Heading(T(r, "design_group")));
  page.controls.push_back(Text("min_items", T(r, "design_min_items"), V(values, "min_items"), "", "govuk-input--width-4"));
  page.controls.push_back(Text("max_items", T(r, "design_max_items"), V(values, "max_items"), "", "govuk-input--width-4"));
  const bool has_items = field != nullptr && field->contains("fields") && !(*field)["fields"].empty();
  if (!has_items) {
    page.controls.push_back(Text("item_id", T(r, "design_item_id"), V(values, "item_id"), T(r, "design_item_hint"),
                                 "govuk-input--width-20"));
    std::vector<Control::Option> item_types = {{"", T(r, "design_none"), V(values, "item_type").empty(), ""}};
    for (const char* t : kTypes) {
      if (std::string(t) != "group") {
        item_types.push_back({t, T(r, std::string("design_type_") + t), V(values, "item_type") == t, ""});
      }
    }
    page.controls.push_back(Select("item_type", T(r, "design_item_type"), item_types));
    page.controls.push_back(Text("item_label_en", T(r, "design_item_label_en"), V(values, "item_label_en")));
    page.controls.push_back(DzText("item_label_dz", T(r, "design_item_label_dz"), V(values, "item_label_dz")));
  } else {
    json rows = json::array();
    const json& items = (*field)["fields"];
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string at = field_param + "." + std::to_string(i);
      rows.push_back({{"label", In(items[i].value("label", json::object()), Dz(r) ? "dz" : "en")},
                      {"detail", items[i].value("id", "") + " · " + T(r, "design_type_" + items[i].value("type", ""))},
                      {"edit", fmt::format("{}/pages/{}/fields/{}", base, page_param, at)},
                      {"arrange", fmt::format("{}/pages/{}/fields/{}/arrange", base, page_param, at)}});
    }
    page.lists.push_back(RowList(T(r, "design_group_fields"), "group-fields", rows,
                                 fmt::format("{}/pages/{}/fields/{}.new", base, page_param, field_param),
                                 T(r, "design_add_group_field")));
  }
  return page;
}

json DesignerPages::FieldValues(const json& f) {
  json values = {{"id", f.value("id", "")},
                 {"type", f.value("type", "")},
                 {"label_en", In(f.value("label", json::object()), "en")},
                 {"label_dz", In(f.value("label", json::object()), "dz")},
                 {"hint_en", In(f.value("hint", json::object()), "en")},
                 {"hint_dz", In(f.value("hint", json::object()), "dz")},
                 {"pattern", f.value("pattern", "")},
                 {"pattern_message_en", In(f.value("pattern_message", json::object()), "en")},
                 {"pattern_message_dz", In(f.value("pattern_message", json::object()), "dz")},
                 {"min_date", f.value("min_date", "")},
                 {"max_date", f.value("max_date", "")},
                 {"document", f.value("document", "")}};
  if (f.value("required", false)) values["required"] = "1";
  for (const char* n : {"min_length", "max_length", "min", "max", "min_items", "max_items"}) {
    if (f.contains(n)) values[n] = f[n].dump();
  }
  std::string options;
  if (f.contains("options")) {
    for (const json& o : f["options"]) {
      options += fmt::format("{} | {} | {}\n", o.value("value", ""), In(o.value("label", json::object()), "en"),
                             In(o.value("label", json::object()), "dz"));
    }
  }
  values["options"] = options;
  if (f.contains("show_when")) {
    values["show_when_field"] = f["show_when"].value("field", "");
    values["show_when_values"] = ConditionValues(f["show_when"]);
  }
  if (f.contains("prefill")) {
    const json& p = f["prefill"];
    values["prefill"] = p.value("registry", "") + "." + p.value("field", "");
    values["prefill_subject"] = p.value("subject", "");
    values["prefill_key"] = p.value("key", "");
  }
  return values;
}

Response DesignerPages::FieldForm(const Request& r, const std::string& code, const std::string& page_param,
                                  const std::string& field_param) {
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  json& pages = Pages(latest->definition);
  const auto p = WholeNumber(page_param);
  const auto address = ParseFieldAddress(field_param);
  std::string path;
  json* fields = nullptr;
  if (p && *p < static_cast<std::int64_t>(pages.size()) && address) fields = FieldArray(pages[*p], *address, path);
  if (fields == nullptr) return web_.ErrorPage(r, Error(errc::kNotFound, "no such field"), 404);
  const json* field = address->is_new ? nullptr : &(*fields)[address->path.back()];
  const json values = field != nullptr ? FieldValues(*field) : json{{"type", "text"}};
  return ShowEdit(r, FieldPage(r, *latest, page_param, field_param, *address, field, values));
}

std::vector<FieldError> DesignerPages::ApplyField(const Request& r, const json& d, const json& values,
                                                  const EditPage& edit, json& f) {
  std::vector<FieldError> problems;
  const auto check = [&](bool ok, const std::string& name, const std::string& rule, std::size_t min = 0,
                         std::size_t max = 0) {
    if (!ok) problems.push_back(Problem(r, name, rule, LabelOf(edit, name), min, max));
  };
  const std::string type = V(values, "type");
  check(IsId(V(values, "id")), "id", "id");
  check(std::find_if(std::begin(kTypes), std::end(kTypes), [&](const char* t) { return type == t; }) != std::end(kTypes),
        "type", "choose");
  check(!V(values, "label_en").empty(), "label_en", "required");
  f["id"] = V(values, "id");
  f["type"] = type;
  f["label"] = Bilingual(V(values, "label_en"), V(values, "label_dz"));
  const auto text = [&](const char* name, const std::string& en, const std::string& dz) {
    check(!(en.empty() && !dz.empty()), std::string(name) + "_en", "required");
    if (en.empty()) {
      f.erase(name);
    } else {
      f[name] = Bilingual(en, dz);
    }
  };
  text("hint", V(values, "hint_en"), V(values, "hint_dz"));
  text("pattern_message", V(values, "pattern_message_en"), V(values, "pattern_message_dz"));
  SetFlag(f, "required", values.contains("required"));
  for (const char* name : {"min_length", "max_length", "min_items", "max_items"}) {
    const std::string v = V(values, name);
    f.erase(name);
    if (v.empty()) continue;
    const auto n = WholeNumber(v);
    check(n.has_value(), name, "whole_number");
    if (n) f[name] = *n;
  }
  for (const char* name : {"min", "max"}) {
    const std::string v = V(values, name);
    f.erase(name);
    if (v.empty()) continue;
    double n = 0;
    check(IsNumber(v, n), name, "number");
    if (IsNumber(v, n)) f[name] = n == static_cast<double>(static_cast<std::int64_t>(n)) ? json(static_cast<std::int64_t>(n)) : json(n);
  }
  for (const char* name : {"min_date", "max_date", "pattern", "document"}) {
    const std::string v = V(values, name);
    f.erase(name);
    if (v.empty()) continue;
    if (std::string(name).find("date") != std::string::npos) check(IsDateBound(v), name, "date_bound");
    f[name] = v;
  }
  if (!V(values, "pattern").empty()) {
    try {
      std::regex compiled(V(values, "pattern"));
    } catch (const std::regex_error&) {
      check(false, "pattern", "regex");
    }
  }
  f.erase("options");
  std::vector<std::size_t> bad_lines;
  const json options = OptionsFrom(V(values, "options"), bad_lines);
  for (std::size_t line : bad_lines) check(false, "options", "option_line", line);
  if (!options.empty()) f["options"] = options;
  const std::string when = V(values, "show_when_field");
  check(when.empty() || !V(values, "show_when_values").empty(), "show_when_values", "required");
  if (when.empty()) {
    f.erase("show_when");
  } else {
    f["show_when"] = Condition(d, when, V(values, "show_when_values"));
  }
  const std::string prefill = V(values, "prefill");
  f.erase("prefill");
  if (!prefill.empty()) {
    const std::size_t dot = prefill.find('.');
    json p = {{"registry", prefill.substr(0, dot)}, {"field", dot == std::string::npos ? "" : prefill.substr(dot + 1)}};
    for (const char* name : {"subject", "key"}) {
      const std::string v = V(values, std::string("prefill_") + name);
      if (v.empty()) continue;
      check(IsId(v), std::string("prefill_") + name, "id");
      p[name] = v;
    }
    f["prefill"] = p;
  } else {
    check(V(values, "prefill_subject").empty() && V(values, "prefill_key").empty(), "prefill", "required");
  }
  if (type == "group" && (!f.contains("fields") || f["fields"].empty())) {
    const std::string item_type = V(values, "item_type");
    check(IsId(V(values, "item_id")), "item_id", "id");
    check(!item_type.empty(), "item_type", "choose");
    check(!V(values, "item_label_en").empty(), "item_label_en", "required");
    f["fields"] = json::array(
        {{{"id", V(values, "item_id")}, {"type", item_type}, {"label", Bilingual(V(values, "item_label_en"), V(values, "item_label_dz"))}}});
  } else if (type != "group") {
    f.erase("fields");
  }
  return problems;
}

std::optional<Response> DesignerPages::FindField(const Request& r, const std::string& code,
                                                 const std::string& page_param, const std::string& field_param,
                                                 bool may_be_new, FieldTarget& target) {
  auto form = web_.ReadForm(r);
  if (!form.ok()) return FormError(r, form.error());
  auto latest = Latest(r, code);
  if (!latest.ok()) return Failure(r, latest.error());
  target.form = std::move(*form);
  target.latest = std::move(*latest);
  target.definition = target.latest.definition;
  json& pages = Pages(target.definition);
  const auto p = WholeNumber(page_param);
  const auto address = ParseFieldAddress(field_param);
  if (!p || *p >= static_cast<std::int64_t>(pages.size()) || !address || (address->is_new && !may_be_new)) {
    return web_.ErrorPage(r, Error(errc::kNotFound, "no such field"), 404);
  }
  target.page = static_cast<std::size_t>(*p);
  target.address = *address;
  target.fields = FieldArray(pages[target.page], target.address, target.path);
  if (target.fields == nullptr) return web_.ErrorPage(r, Error(errc::kNotFound, "no such field"), 404);
  return std::nullopt;
}

Response DesignerPages::SaveField(const Request& r, const std::string& code, const std::string& page_param,
                                  const std::string& field_param) {
  FieldTarget t;
  if (auto failure = FindField(r, code, page_param, field_param, true, t)) return std::move(*failure);
  json* fields = t.fields;
  const FieldAddress& address = t.address;
  json field = address.is_new ? json::object() : (*fields)[address.path.back()];
  const json values = FormValues(t.form);
  EditPage edit = FieldPage(r, t.latest, page_param, field_param, address,
                            address.is_new ? nullptr : &(*fields)[address.path.back()], values);
  auto problems = ApplyField(r, t.definition, values, edit, field);
  if (!problems.empty()) return ShowEdit(r, std::move(edit), problems);
  std::vector<std::size_t> at = address.path;
  if (address.is_new) {
    at.push_back(fields->size());
    fields->push_back(field);
  } else {
    (*fields)[at.back()] = field;
  }
  const std::string prefix = fmt::format("form.pages[{}].{}fields[{}].", t.page, t.path, at.back());
  // A new group goes on to its own fields; anything else back to where it was added from.
  const std::string next = address.is_new && field.value("type", "") == "group"
                               ? fmt::format("/design/{}/pages/{}/fields/{}", code, t.page, AddressText(at))
                               : edit.back;
  return SaveAndGo(r, t.definition, next, std::move(edit), prefix);
}

Response DesignerPages::ArrangeField(const Request& r, const std::string& code, const std::string& page_param,
                                     const std::string& field_param) {
  FieldTarget t;
  if (auto failure = FindField(r, code, page_param, field_param, false, t)) return std::move(*failure);
  if (!MoveOrRemove(*t.fields, t.address.path.back(), FormText(t.form, "do"))) {
    return web_.ErrorPage(r, Error(errc::kNotFound, "no such move"), 404);
  }
  std::vector<std::size_t> parent = t.address.path;
  parent.pop_back();
  const std::string next = parent.empty()
                               ? fmt::format("/design/{}/pages/{}", code, t.page)
                               : fmt::format("/design/{}/pages/{}/fields/{}", code, t.page, AddressText(parent));
  return Rearranged(r, t.latest, t.definition, next, "pages");
}

}  // namespace dzong::services::design
