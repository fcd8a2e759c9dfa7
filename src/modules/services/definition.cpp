// What makes a service definition valid: the JSON Schema first (shape,
// types, patterns), then what a schema cannot say: ids that are unique,
// references that point at something that exists (fields, documents,
// states, registries, organisations), and rules that fit their field type.
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/json_schema.h"
#include "modules/organisations/organisations.h"
#include "modules/registries/registries.h"
#include "modules/services/internal.h"
#include "modules/services/services.h"

namespace dzong {
std::span<const EmbeddedFile> DefinitionSchemaFiles();
}  // namespace dzong

namespace dzong::services {

std::string_view DefinitionSchema() { return DefinitionSchemaFiles().front().content; }

std::string TextIn(const nlohmann::json& text, std::string_view language) {
  if (!text.is_object()) return {};
  if (language == "dz") {
    auto dz = text.find("dz");
    if (dz != text.end() && dz->is_string() && !dz->get_ref<const std::string&>().empty()) return dz->get<std::string>();
  }
  auto en = text.find("en");
  return en != text.end() && en->is_string() ? en->get<std::string>() : std::string();
}

namespace {

using nlohmann::json;

const JsonSchema& Schema() {
  static const JsonSchema schema = [] {
    auto parsed = JsonSchema::Parse(DefinitionSchema());
    // The schema is part of the binary: a schema that does not parse is a
    // build mistake, found by the first test that validates anything.
    if (!parsed.ok()) throw std::logic_error("service definition schema: " + parsed.error().message);
    return std::move(parsed).value();
  }();
  return schema;
}

class Checker {
 public:
  Checker(const json& d, registries::RegistryService& registries, organisations::OrganisationService& organisations)
      : d_(d), registries_(registries), organisations_(organisations) {}

  std::vector<FieldError> Run() {
    Owner();
    for (const FieldRef& f : AllFields(d_)) Collect(f);
    Documents();
    for (const FieldRef& f : AllFields(d_)) Field(f);
    Pages();
    Fee();
    Workflow();
    Certificate();
    Justifications();
    return std::move(errors_);
  }

 private:
  void Add(std::string path, std::string rule, std::string message) {
    errors_.push_back({std::move(path), std::move(rule), std::move(message)});
  }

  void Owner() {
    const std::string owner = d_["owner"];
    if (!organisations_.Get(owner).ok()) Add("owner", "exists", fmt::format("owner {} is not an organisation", owner));
  }

  void Collect(const FieldRef& f) {
    const std::string id = (*f.field)["id"];
    const std::string key = f.group_id.empty() ? id : f.group_id + "." + id;
    if (!ids_.emplace(key, f.field).second) {
      Add(f.path + ".id", "unique", fmt::format("field id {} is used twice", key));
    }
  }

  void Documents() {
    if (!d_.contains("documents")) return;
    for (std::size_t i = 0; i < d_["documents"].size(); ++i) {
      const std::string type = d_["documents"][i]["type"];
      if (!documents_.insert(type).second) {
        Add(fmt::format("documents[{}].type", i), "unique", fmt::format("document type {} is listed twice", type));
      }
    }
  }

  const json* FieldById(const std::string& id) const {
    auto it = ids_.find(id);
    return it == ids_.end() ? nullptr : it->second;
  }

  void Condition(const json& c, const std::string& path) {
    const std::string on = c["field"];
    if (!FieldById(on)) Add(path + ".field", "exists", fmt::format("{}.field names no field of the form: {}", path, on));
    const bool equals = c.contains("equals"), in = c.contains("in");
    if (equals == in) Add(path, "one_of", fmt::format("{} needs exactly one of equals or in", path));
  }

  void Field(const FieldRef& ref) {
    const json& f = *ref.field;
    const std::string& p = ref.path;
    const std::string type = f["type"];
    const auto has = [&](const char* k) { return f.contains(k); };
    const auto only = [&](const char* key, std::initializer_list<std::string_view> types) {
      if (!has(key)) return;
      for (std::string_view t : types) {
        if (t == type) return;
      }
      Add(fmt::format("{}.{}", p, key), "not_for_type", fmt::format("{}.{} does not apply to a {} field", p, key, type));
    };
    only("options", {"choice"});
    only("min_length", {"text"});
    only("max_length", {"text"});
    only("pattern", {"text"});
    only("min", {"number"});
    only("max", {"number"});
    only("min_date", {"date"});
    only("max_date", {"date"});
    only("document", {"file"});
    only("fields", {"group"});
    only("min_items", {"group"});
    only("max_items", {"group"});
    if (type == "choice" && !has("options")) Add(p + ".options", "required", fmt::format("{} is a choice and needs options", p));
    if (type == "file" && !has("document")) Add(p + ".document", "required", fmt::format("{} is a file and needs its document type", p));
    if (type == "group" && !has("fields")) Add(p + ".fields", "required", fmt::format("{} is a group and needs fields", p));
    if (has("document") && !documents_.contains(f["document"].get<std::string>())) {
      Add(p + ".document", "exists", fmt::format("{}.document names no document of the service", p));
    }
    if (has("options")) {
      std::set<std::string> values;
      for (std::size_t i = 0; i < f["options"].size(); ++i) {
        if (!values.insert(f["options"][i]["value"].get<std::string>()).second) {
          Add(fmt::format("{}.options[{}].value", p, i), "unique", fmt::format("{}.options[{}] repeats a value", p, i));
        }
      }
    }
    if (has("min_length") && has("max_length") && f["min_length"].get<int>() > f["max_length"].get<int>()) {
      Add(p + ".min_length", "range", fmt::format("{}: min_length is more than max_length", p));
    }
    if (has("min") && has("max") && f["min"].get<double>() > f["max"].get<double>()) {
      Add(p + ".min", "range", fmt::format("{}: min is more than max", p));
    }
    if (has("min_items") && has("max_items") && f["min_items"].get<int>() > f["max_items"].get<int>()) {
      Add(p + ".min_items", "range", fmt::format("{}: min_items is more than max_items", p));
    }
    if (has("pattern")) {
      try {
        std::regex(f["pattern"].get<std::string>(), std::regex::ECMAScript);
      } catch (const std::regex_error&) {
        Add(p + ".pattern", "pattern", fmt::format("{}.pattern is not a valid regular expression", p));
      }
    }
    if (has("show_when")) Condition(f["show_when"], p + ".show_when");
    if (has("prefill")) Prefill(f, p);
  }

  void Prefill(const json& f, const std::string& p) {
    const json& pf = f["prefill"];
    const std::string type = f["type"];
    if (type == "file" || type == "group") {
      Add(p + ".prefill", "not_for_type", fmt::format("a {} field cannot be filled from a registry", type));
      return;
    }
    auto reg = registries_.Get(pf["registry"]);
    if (!reg.ok()) {
      Add(p + ".prefill.registry", "exists", fmt::format("{}.prefill.registry names no registry", p));
      return;
    }
    const std::string field = pf["field"];
    if (std::none_of(reg->fields.begin(), reg->fields.end(), [&](const auto& s) { return s.name == field; })) {
      Add(p + ".prefill.field", "exists", fmt::format("registry {} has no field {}", reg->code, field));
    }
    if (reg->key_field == "cid") {
      if (pf.contains("key")) Add(p + ".prefill.key", "not_for_registry", fmt::format("registry {} is kept by CID: name a subject, not a key", reg->code));
      const std::string subject = pf.value("subject", "applicant");
      if (subject != "applicant") {
        const json* s = FieldById(subject);
        if (!s || (*s)["type"] != "cid") {
          Add(p + ".prefill.subject", "exists", fmt::format("{}.prefill.subject must be applicant or a cid field of the form", p));
        }
      }
    } else {
      if (!pf.contains("key")) {
        Add(p + ".prefill.key", "required", fmt::format("registry {} is kept by {}: name the field that holds the key", reg->code, reg->key_field));
      } else if (!FieldById(pf["key"])) {
        Add(p + ".prefill.key", "exists", fmt::format("{}.prefill.key names no field of the form", p));
      }
      if (pf.contains("subject")) Add(p + ".prefill.subject", "not_for_registry", fmt::format("registry {} is not kept by CID: name a key, not a subject", reg->code));
    }
  }

  void Pages() {
    std::set<std::string> pages;
    const json& list = d_["form"]["pages"];
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string id = list[i]["id"];
      if (!pages.insert(id).second) Add(fmt::format("form.pages[{}].id", i), "unique", fmt::format("page id {} is used twice", id));
      if (list[i].contains("show_when")) Condition(list[i]["show_when"], fmt::format("form.pages[{}].show_when", i));
    }
  }

  void Fee() {
    if (!d_["fee"].contains("rules")) return;
    const json& rules = d_["fee"]["rules"];
    for (std::size_t i = 0; i < rules.size(); ++i) Condition(rules[i]["when"], fmt::format("fee.rules[{}].when", i));
  }

  bool IsCidField(const std::string& id) const {
    const json* f = FieldById(id);
    return f && (*f)["type"] == "cid";
  }

  void Workflow() {
    const json& w = d_["workflow"];
    std::map<std::string, bool> states;  // id → final
    for (std::size_t i = 0; i < w["states"].size(); ++i) {
      const json& s = w["states"][i];
      const std::string id = s["id"];
      const std::string path = fmt::format("workflow.states[{}]", i);
      if (!states.emplace(id, s.value("final", false)).second) Add(path + ".id", "unique", fmt::format("state {} is listed twice", id));
      if (s.contains("outcome") && !s.value("final", false)) Add(path + ".outcome", "final_only", fmt::format("{}: only a final state has an outcome", path));
      if (!s.contains("on_enter")) continue;
      for (std::size_t j = 0; j < s["on_enter"].size(); ++j) {
        const json& a = s["on_enter"][j];
        const std::string ap = fmt::format("{}.on_enter[{}]", path, j);
        const std::string what = a["do"];
        if (what == "notify") {
          const std::string to = a.value("to", "");
          if (to != "applicant" && to != "officers" && !IsCidField(to)) {
            Add(ap + ".to", "exists", fmt::format("{}.to must be applicant, officers or a cid field of the form", ap));
          }
        } else if (what == "update_registry") {
          if (!a.contains("registry") || !registries_.Get(a["registry"]).ok()) {
            Add(ap + ".registry", "exists", fmt::format("{}.registry must name a registry", ap));
          }
        } else if (what == "issue_certificate" && !d_.contains("certificate")) {
          Add(ap, "needs_certificate", fmt::format("{} issues a certificate, but the service defines none", ap));
        }
      }
    }
    const std::string initial = w["initial"];
    if (!states.contains(initial)) Add("workflow.initial", "exists", fmt::format("the initial state {} is not a state", initial));
    std::set<std::string> transitions, leaving;
    for (std::size_t i = 0; i < w["transitions"].size(); ++i) {
      const json& t = w["transitions"][i];
      const std::string path = fmt::format("workflow.transitions[{}]", i);
      if (!transitions.insert(t["id"].get<std::string>()).second) Add(path + ".id", "unique", fmt::format("transition {} is listed twice", t["id"].get<std::string>()));
      for (const char* end : {"from", "to"}) {
        if (!states.contains(t[end].get<std::string>())) Add(fmt::format("{}.{}", path, end), "exists", fmt::format("{}.{} is not a state", path, end));
      }
      if (auto from = states.find(t["from"]); from != states.end() && from->second) {
        Add(path + ".from", "final", fmt::format("{} leaves the final state {}", path, from->first));
      }
      leaving.insert(t["from"].get<std::string>());
      const json& by = t["by"];
      const int kinds = (by.contains("role") ? 1 : 0) + (by.contains("citizen_field") ? 1 : 0) + (by.value("applicant", false) ? 1 : 0);
      if (kinds != 1) Add(path + ".by", "one_of", fmt::format("{}.by needs exactly one of role, citizen_field or applicant", path));
      if (by.contains("organisation") && !organisations_.Get(by["organisation"]).ok()) {
        Add(path + ".by.organisation", "exists", fmt::format("{}.by.organisation is not an organisation", path));
      }
      if (by.contains("organisation") && !by.contains("role")) Add(path + ".by.organisation", "needs_role", fmt::format("{}.by.organisation needs a role", path));
      if (by.contains("citizen_field") && !IsCidField(by["citizen_field"])) {
        Add(path + ".by.citizen_field", "exists", fmt::format("{}.by.citizen_field must be a cid field of the form", path));
      }
    }
    for (const auto& [id, final] : states) {
      if (!final && !leaving.contains(id)) Add("workflow.states", "dead_end", fmt::format("state {} is not final and no transition leaves it", id));
    }
  }

  void Certificate() {
    if (!d_.contains("certificate")) return;
    const json& fields = d_["certificate"]["fields"];
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (!FieldById(fields[i]["field"])) {
        Add(fmt::format("certificate.fields[{}].field", i), "exists", fmt::format("certificate.fields[{}] names no field of the form", i));
      }
    }
  }

  void Justifications() {
    if (!d_.contains("justifications")) return;
    const json& list = d_["justifications"];
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string path = fmt::format("justifications[{}]", i);
      if (!FieldById(list[i]["field"])) Add(path + ".field", "exists", fmt::format("{}.field names no field of the form", path));
      const std::string rf = list[i]["registry_field"];
      const auto dot = rf.find('.');
      auto reg = registries_.Get(rf.substr(0, dot));
      if (!reg.ok() || std::none_of(reg->fields.begin(), reg->fields.end(), [&](const auto& s) { return s.name == rf.substr(dot + 1); })) {
        Add(path + ".registry_field", "exists", fmt::format("{}.registry_field names no registry field", path));
      }
    }
  }

  const json& d_;
  registries::RegistryService& registries_;
  organisations::OrganisationService& organisations_;
  std::map<std::string, const json*> ids_;
  std::set<std::string> documents_;
  std::vector<FieldError> errors_;
};

void Walk(const json& fields, const std::string& path, std::size_t page, const std::string& group,
          std::vector<FieldRef>& out) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::string p = fmt::format("{}.fields[{}]", path, i);
    out.push_back({&fields[i], p, page, group});
    if (fields[i].contains("fields") && fields[i]["fields"].is_array()) {
      Walk(fields[i]["fields"], p, page, fields[i]["id"].get<std::string>(), out);
    }
  }
}

}  // namespace

std::vector<FieldRef> AllFields(const json& definition) {
  std::vector<FieldRef> out;
  const json& pages = definition["form"]["pages"];
  for (std::size_t i = 0; i < pages.size(); ++i) Walk(pages[i]["fields"], fmt::format("form.pages[{}]", i), i, "", out);
  return out;
}

std::vector<FieldError> ServiceCatalogue::Validate(const json& definition) const {
  std::vector<FieldError> errors = Schema().Validate(definition);
  // Meaning is checked only on a well-formed definition: each check below
  // may rely on what the schema guarantees (types, required members).
  if (!errors.empty()) return errors;
  return Checker(definition, registries_, organisations_).Run();
}

}  // namespace dzong::services
