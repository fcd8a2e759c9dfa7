#include "modules/forms/views.h"

#include <fmt/format.h>

#include "modules/services/services.h"

namespace dzong::forms::views {
namespace {

using nlohmann::json;
using Inputs = std::map<std::string, std::string, std::less<>>;

constexpr const char* kTypes[] = {"text", "number", "date", "choice", "yes_no", "cid", "address", "file", "group"};

std::string Input(const Inputs& inputs, const std::string& name) {
  const auto it = inputs.find(name);
  return it == inputs.end() ? std::string() : it->second;
}

std::string Replace(std::string text, std::string_view name, const std::string& value) {
  for (auto at = text.find(name); at != std::string::npos; at = text.find(name, at + value.size())) {
    text.replace(at, name.size(), value);
  }
  return text;
}

/// "1990-04-17" as people here write it: 17-04-1990.
std::string Day(const std::string& iso) {
  if (iso.size() != 10) return iso;
  return iso.substr(8, 2) + "-" + iso.substr(5, 2) + "-" + iso.substr(0, 4);
}

struct Builder {
  const web::Web& web;
  const http::Request& r;
  const Draft& draft;
  const json& definition;
  const Inputs& inputs;
  const std::vector<Problem>& problems;
  const Names& names;
  std::string lang;

  std::string T(const std::string& key) const { return web.Text(r, key); }

  std::string ErrorFor(const std::string& id, bool group) const {
    for (const Problem& p : problems) {
      if (group ? (p.id == id || ((p.rule == "min_items" || p.rule == "max_items") && p.id.starts_with(id + "-")))
                : (p.id == id || p.id.starts_with(id + "-"))) {
        return ProblemText(web, r, p);
      }
    }
    return {};
  }

  std::string Name(const std::string& key) const {
    const auto it = names.find(key);
    return it == names.end() ? key : it->second;
  }

  /// Every key every field template reads, so that none is looked up in
  /// an enclosing context by Mustache.
  json Blank(const json& field, const std::string& id) const {
    json v = {{"id", id},
              {"label", services::TextIn(field.value("label", json::object()), lang)},
              {"hint", field.contains("hint") ? services::TextIn(field["hint"], lang) : ""},
              {"error", ""},
              {"prefilled", false},
              {"value", ""},
              {"options", json::array()},
              {"day", ""},
              {"month", ""},
              {"year", ""},
              {"dzongkhags", json::array()},
              {"gewog_groups", json::array()},
              {"village", ""},
              {"current_file", false},
              {"file_hint", ""},
              {"accept", ""},
              {"items", json::array()},
              {"count", 0},
              {"add_value", ""},
              {"textarea", false},
              {"source", false},
              {"inputmode", ""},
              {"optional", !field.value("required", false)}};
    for (const char* type : kTypes) v[std::string("is_") + type] = field.value("type", "text") == type;
    v["has_hint"] = !v["hint"].get<std::string>().empty();
    return v;
  }

  json Field(const json& field, const std::string& id) const {
    json v = Blank(field, id);
    const std::string type = field.value("type", "text");
    v["error"] = ErrorFor(id, type == "group");
    if (type == "text") {
      v["value"] = Input(inputs, id);
      v["textarea"] = field.value("max_length", 0) > 200;
    } else if (type == "number") {
      v["value"] = Input(inputs, id);
      v["inputmode"] = "decimal";
    } else if (type == "cid") {
      v["value"] = Input(inputs, id);
      v["inputmode"] = "numeric";
    } else if (type == "date") {
      v["day"] = Input(inputs, id + "-day");
      v["month"] = Input(inputs, id + "-month");
      v["year"] = Input(inputs, id + "-year");
    } else if (type == "choice" || type == "yes_no") {
      json options = field.value("options", json::array());
      if (type == "yes_no") {
        options = json::array({{{"value", "yes"}, {"label", {{"en", T("form_yes")}}}},
                               {{"value", "no"}, {"label", {{"en", T("form_no")}}}}});
      }
      const std::string chosen = Input(inputs, id);
      json out = json::array();
      bool first = true;
      for (const auto& o : options) {
        const std::string value = o.value("value", "");
        out.push_back({{"value", value},
                       {"label", services::TextIn(o["label"], lang)},
                       {"checked", value == chosen},
                       {"input_id", first ? id : id + "-" + value}});
        first = false;
      }
      v["options"] = std::move(out);
    } else if (type == "address") {
      const std::string dzongkhag = Input(inputs, id + "-dzongkhag");
      const std::string gewog = Input(inputs, id + "-gewog");
      json dzongkhags = json::array();
      json groups = json::array();
      for (const auto& d : Places::Bhutan().dzongkhags) {
        const std::string label = lang == "dz" && !d.dz.empty() ? d.dz : d.en;
        dzongkhags.push_back({{"value", d.en}, {"label", label}, {"selected", d.en == dzongkhag}});
        json gewogs = json::array();
        for (const auto& g : d.gewogs) {
          gewogs.push_back({{"value", g.en},
                            {"label", lang == "dz" && !g.dz.empty() ? g.dz : g.en},
                            {"selected", d.en == dzongkhag && g.en == gewog}});
        }
        groups.push_back({{"label", label}, {"gewogs", std::move(gewogs)}});
      }
      v["dzongkhags"] = std::move(dzongkhags);
      v["gewog_groups"] = std::move(groups);
      v["village"] = Input(inputs, id + "-village");
    } else if (type == "file") {
      const json* document = DocumentOf(definition, field);
      if (document) {
        v["file_hint"] = Replace(Replace(T("form_file_hint"), "{formats}", Formats(*document)), "{limit}",
                                 Size(document->value("max_bytes", std::int64_t{0})));
        std::string accept;
        for (const auto& f : document->value("formats", json::array())) accept += (accept.empty() ? "" : ",") + f.get<std::string>();
        v["accept"] = accept;
      }
      if (draft.answers.contains(id) && draft.answers[id].is_object()) {
        const json& file = draft.answers[id];
        v["current_file"] = {{"name", file.value("name", "")},
                             {"href", fmt::format("{}/{}/files/{}", draft.assisted ? "/assist/drafts" : "/my/drafts", draft.id,
                                                  file.value("sha256", ""))},
                             {"size", Size(file.value("size", std::int64_t{0}))}};
      }
    } else if (type == "group") {
      const int count = GroupItems(field, inputs, json::object());
      json items = json::array();
      for (int i = 0; i < count; ++i) {
        json subs = json::array();
        for (const auto& sub : field.value("fields", json::array())) {
          subs.push_back(Field(sub, fmt::format("{}-{}-{}", id, i, sub.value("id", ""))));
        }
        items.push_back({{"legend", fmt::format("{} {}", v["label"].get<std::string>(), i + 1)},
                         {"fields", std::move(subs)},
                         {"removable", count > 1},
                         {"remove_value", fmt::format("remove:{}:{}", id, i)},
                         {"remove_label", T("form_remove")}});
      }
      v["items"] = std::move(items);
      v["count"] = count;
      v["add_value"] = count < field.value("max_items", 50) ? "add:" + id : "";
    }
    return v;
  }

  json Prefilled(const json& field, const std::string& id, const json& source) const {
    json v = Blank(field, id);
    v["prefilled"] = true;
    v["value"] = Display(field, source.at("value"));
    const std::string registry = source.value("registry", "");
    std::string text = T("form_from_register");
    text = Replace(text, "{registry}", Name(registry));
    text = Replace(text, "{custodian}", Name("org:" + source.value("custodian", "")));
    text = Replace(text, "{date}", web::BhutanTime(source.value("valid_from", "")));
    std::string correction;
    // Only the person's own record can be corrected at their request (and
    // only by them, not by an operator applying for them).
    if (source.value("subject", "") == draft.applicant && !draft.assisted) {
      correction = fmt::format("/my/corrections/new?registry={}&field={}", http::PercentEncode(registry),
                               http::PercentEncode(source.value("field", "")));
      if (source.value("key", "") != draft.applicant) correction += "&record=" + http::PercentEncode(source.value("key", ""));
    }
    v["source"] = {{"text", text}, {"correction_href", correction}, {"correctable", !correction.empty()}};
    return v;
  }

  /// "Only if you chose Hospital for Place of birth."
  std::string When(const json& question, const json& condition) const {
    std::vector<std::string> answers;
    const auto add = [&](const json& v) { answers.push_back(Display(question, v)); };
    if (condition.contains("equals")) add(condition["equals"]);
    for (const auto& v : condition.value("in", json::array())) add(v);
    std::string joined;
    for (std::size_t i = 0; i < answers.size(); ++i) joined += (i == 0 ? "" : " / ") + answers[i];
    return Replace(Replace(T("form_only_if"), "{answer}", joined), "{question}",
                   services::TextIn(question.value("label", json::object()), lang));
  }

  std::string Display(const json& field, const json& value) const {
    const std::string type = field.value("type", "text");
    if (type == "choice") {
      for (const auto& o : field.value("options", json::array())) {
        if (o.value("value", "") == Canonical(value)) return services::TextIn(o["label"], lang);
      }
    }
    if (type == "yes_no") return Canonical(value) == "yes" ? T("form_yes") : T("form_no");
    if (type == "date" && value.is_string()) return Day(value.get<std::string>());
    if (type == "address" && value.is_object()) {
      std::string dzongkhag = value.value("dzongkhag", "");
      std::string gewog = value.value("gewog", "");
      if (lang == "dz") {
        if (const auto* d = Places::Bhutan().Find(dzongkhag)) {
          if (!d->dz.empty()) dzongkhag = d->dz;
          for (const auto& g : d->gewogs) {
            if (g.en == gewog && !g.dz.empty()) gewog = g.dz;
          }
        }
      }
      return fmt::format("{}, {}, {}", value.value("village", ""), gewog, dzongkhag);
    }
    if (type == "file" && value.is_object()) return value.value("name", "");
    if (type == "group" && value.is_array()) {
      std::string out;
      for (const auto& item : value) {
        std::string line;
        for (const auto& sub : field.value("fields", json::array())) {
          const std::string sub_id = sub.value("id", "");
          if (item.contains(sub_id)) line += (line.empty() ? "" : ", ") + Display(sub, item[sub_id]);
        }
        out += (out.empty() ? "" : "; ") + line;
      }
      return out;
    }
    return Canonical(value);
  }
};

}  // namespace

std::string ProblemText(const web::Web& web, const http::Request& r, const Problem& problem) {
  const std::string lang = web.Language(r);
  if (problem.rule == "pattern") {
    const auto own = problem.values.find(lang == "dz" ? "message_dz" : "message_en");
    if (own != problem.values.end() && !own->second.empty()) return own->second;
    const auto en = problem.values.find("message_en");
    if (en != problem.values.end() && !en->second.empty()) return en->second;
  }
  std::string text = web.Text(r, "form_problem_" + problem.rule);
  if (text == "form_problem_" + problem.rule) text = web.Text(r, "form_problem_invalid");
  text = Replace(text, "{field}", services::TextIn(problem.label, lang));
  for (const auto& [name, value] : problem.values) {
    text = Replace(text, "{" + name + "}", name == "date" ? Day(value) : value);
  }
  return text;
}

std::string Formats(const json& document) {
  std::vector<std::string> names;
  for (const auto& f : document.value("formats", json::array())) {
    const std::string t = f.get<std::string>();
    names.push_back(t == "application/pdf" ? "PDF" : t == "image/jpeg" ? "JPEG" : "PNG");
  }
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) out += (i == 0 ? "" : ", ") + names[i];
  return out;
}

std::string Size(std::int64_t bytes) {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) return fmt::format("{} MB", bytes / (1024 * 1024));
  if (bytes >= 1024 * 1024) return fmt::format("{:.1f} MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return fmt::format("{} KB", (bytes + 1023) / 1024);
}

json PageContext(const web::Web& web, const http::Request& r, const Draft& draft, const json& definition,
                 const json& page, const Inputs& inputs, const std::vector<Problem>& problems, const Names& names) {
  Builder b{web, r, draft, definition, inputs, problems, names, web.Language(r)};
  // Conditions on this page follow what is on it now: the saved answers of
  // the other pages, and what this page holds (as posted, or as saved).
  json seen = draft.answers;
  for (const auto& [id, source] : draft.prefilled.items()) seen[id] = source.at("value");
  json fields = json::array();
  bool multipart = false;
  std::map<std::string, const json*> on_page;
  for (const auto& field : page["fields"]) {
    const std::string id = field.value("id", "");
    seen.erase(id);
    // A field that hangs on an answer on this same page is always shown,
    // saying when to answer it: the page works without JavaScript, and
    // only the answers whose condition holds are kept.
    const json* asked_here = nullptr;
    if (field.contains("show_when")) {
      const auto it = on_page.find(field["show_when"].value("field", ""));
      if (it != on_page.end()) asked_here = it->second;
    }
    on_page[id] = &field;
    if (!asked_here && !Shows(field, seen)) continue;
    if (draft.prefilled.contains(id)) {
      fields.push_back(b.Prefilled(field, id, draft.prefilled[id]));
      seen[id] = draft.prefilled[id]["value"];
      continue;
    }
    fields.push_back(b.Field(field, id));
    if (asked_here) {
      json& view = fields.back();
      const std::string when = b.When(*asked_here, field["show_when"]);
      view["hint"] = view["hint"].get<std::string>().empty() ? when : view["hint"].get<std::string>() + " " + when;
      view["has_hint"] = true;
      view["optional"] = false;
    }
    multipart = multipart || field.value("type", "") == "file";
    // What was entered shows the fields that hang on it, as on the next save.
    const std::string type = field.value("type", "text");
    if (type == "choice" || type == "yes_no" || type == "text" || type == "cid") {
      const std::string value = Input(inputs, id);
      if (!value.empty()) seen[id] = value;
    } else if (type == "number") {
      const std::string value = Input(inputs, id);
      if (!value.empty()) seen[id] = value;
    }
  }
  return {{"fields", fields}, {"multipart", multipart}};
}

json CheckContext(const web::Web& web, const http::Request& r, const Draft& draft, const json& definition,
                  const std::string& draft_path, const Names& names) {
  const Inputs none;
  const std::vector<Problem> no_problems;
  Builder b{web, r, draft, definition, none, no_problems, names, web.Language(r)};
  json all = draft.answers;
  for (const auto& [id, source] : draft.prefilled.items()) all[id] = source.at("value");
  const json kept = Prune(definition, all);
  json sections = json::array();
  for (const json* page : VisiblePages(definition, all)) {
    json rows = json::array();
    const std::string page_id = page->value("id", "");
    for (const auto& field : (*page)["fields"]) {
      const std::string id = field.value("id", "");
      if (!Shows(field, kept)) continue;
      json row = {{"label", services::TextIn(field["label"], b.lang)},
                  {"value", kept.contains(id) ? b.Display(field, kept[id]) : web.Text(r, "form_not_answered")},
                  {"change_href", fmt::format("{}/pages/{}#{}", draft_path, page_id, id)},
                  {"prefilled", draft.prefilled.contains(id)},
                  {"source", ""},
                  {"file_href", ""}};
      if (draft.prefilled.contains(id)) row["source"] = b.Prefilled(field, id, draft.prefilled[id])["source"]["text"];
      if (field.value("type", "") == "file" && kept.contains(id) && kept[id].is_object()) {
        row["file_href"] = fmt::format("{}/files/{}", draft_path, kept[id].value("sha256", ""));
      }
      rows.push_back(std::move(row));
    }
    sections.push_back({{"title", services::TextIn((*page)["title"], b.lang)}, {"rows", std::move(rows)}});
  }
  return {{"sections", sections}};
}

}  // namespace dzong::forms::views
