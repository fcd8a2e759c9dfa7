// The publication lint. Its first rule turns the policy's "reduce redundant
// data collection" into a check: a field that asks the applicant for data a
// registry already holds, and is not filled in from that registry, stops
// publication until a justification is recorded. The other rules catch
// forms a citizen could not complete as designed.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "modules/services/internal.h"
#include "modules/services/services.h"

namespace dzong::services {
namespace {

using nlohmann::json;

/// What people call the data each registry field holds, as it appears in a
/// field's id or English label. Whole words only; the longest phrase wins,
/// so "marital status" is not read as the register's "status".
const std::vector<std::pair<std::string, std::string>>& Phrases() {
  static const auto phrases = [] {
    const std::map<std::string, std::vector<std::string>> table = {
        {"population.given_name",
         {"given name", "first name", "full name", "your name", "applicant name", "father name", "mother name",
          "spouse name", "owner name", "buyer name", "seller name", "child name", "guardian name", "name of the applicant"}},
        {"population.surname", {"surname", "family name", "last name"}},
        {"population.date_of_birth", {"date of birth", "birth date", "dob", "born on", "birthday"}},
        {"population.sex", {"sex", "gender"}},
        {"population.dzongkhag", {"dzongkhag", "district"}},
        {"population.gewog", {"gewog"}},
        {"population.village", {"village", "chiwog"}},
        {"population.household_number", {"household number", "household no", "house hold number"}},
        {"population.marital_status", {"marital status"}},
        {"business_licences.licence_number",
         {"licence number", "license number", "licence no", "license no", "trade licence number"}},
        {"business_licences.business_name", {"business name", "trade name", "name of the business"}},
        {"business_licences.activity", {"business activity", "line of business"}},
        {"land.plot_id", {"plot id", "plot number", "plot no"}},
        {"land.thram_number", {"thram number", "thram no", "thram"}},
        {"land.area_acres", {"land area", "plot area", "area in acres"}},
        {"land.land_type", {"land type", "type of land"}},
    };
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [field, list] : table) {
      for (const auto& phrase : list) out.emplace_back(" " + phrase + " ", field);
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
    return out;
  }();
  return phrases;
}

/// " date of birth " from "date_of_birth" or "Date of birth (DD/MM/YYYY)":
/// lower case, "'s" dropped, everything else but letters and digits a space.
std::string Normalise(std::string_view text) {
  std::string out = " ";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '\'' || static_cast<unsigned char>(c) == 0xE2) && i + 1 < text.size()) {
      // "father's", and the typographic apostrophe (E2 80 99)
      std::size_t next = c == '\'' ? i + 1 : i + 3;
      if (next < text.size() && (text[next] == 's' || text[next] == 'S')) {
        i = next;
        continue;
      }
    }
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (out.back() != ' ') {
      out += ' ';
    }
  }
  if (out.back() != ' ') out += ' ';
  return out;
}

std::string RegistryFieldAskedBy(const json& field) {
  const std::string type = field["type"];
  // A CID identifies a person, whose data is then read; a file, a yes/no
  // and a group hold nothing a register keeps.
  if (type == "cid" || type == "file" || type == "yes_no" || type == "group") return {};
  if (type == "address") return "population.dzongkhag";
  const std::string id = Normalise(field["id"].get<std::string>());
  const std::string label = Normalise(field["label"]["en"].get<std::string>());
  for (const auto& [phrase, registry_field] : Phrases()) {
    if (id.find(phrase) != std::string::npos || label.find(phrase) != std::string::npos) return registry_field;
  }
  return {};
}

LintFinding Finding(std::string rule, std::string path, std::string field, std::string registry_field,
                    std::string message) {
  LintFinding f;
  f.rule = std::move(rule);
  f.path = std::move(path);
  f.field = std::move(field);
  f.registry_field = std::move(registry_field);
  f.message = std::move(message);
  return f;
}

class Linter {
 public:
  explicit Linter(const json& d) : d_(d) {}

  std::vector<LintFinding> Run() {
    const auto fields = AllFields(d_);
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const json& f = *fields[i].field;
      position_[f["id"].get<std::string>()] = {fields[i].page, i};
      by_id_[f["id"].get<std::string>()] = &f;
    }
    OnceOnly(fields);
    Conditions(fields);
    Workflow();
    Dzongkha(d_, "");
    return std::move(findings_);
  }

 private:
  struct Position {
    std::size_t page = 0, order = 0;
  };

  void Add(LintFinding f) { findings_.push_back(std::move(f)); }

  void OnceOnly(const std::vector<FieldRef>& fields) {
    std::map<std::pair<std::string, std::string>, std::string> reasons;
    if (d_.contains("justifications")) {
      for (const auto& j : d_["justifications"]) reasons[{j["field"], j["registry_field"]}] = j["reason"];
    }
    for (const FieldRef& ref : fields) {
      const json& f = *ref.field;
      if (f.contains("prefill")) continue;
      const std::string registry_field = RegistryFieldAskedBy(f);
      if (registry_field.empty()) continue;
      LintFinding finding;
      finding.rule = "once_only";
      finding.path = ref.path;
      finding.field = f["id"];
      finding.registry_field = registry_field;
      auto reason = reasons.find({finding.field, registry_field});
      if (reason != reasons.end()) {
        finding.justification = reason->second;
        finding.blocking = false;
      }
      finding.message = fmt::format(
          "{} asks for {}, which the registry already holds: fill it in from the registry, or record why it must be "
          "asked",
          finding.field, registry_field);
      Add(std::move(finding));
    }
  }

  /// Whether the answer a condition looks for can be given at all.
  bool Answerable(const json& condition) const {
    auto it = by_id_.find(condition["field"].get<std::string>());
    if (it == by_id_.end()) return false;
    const json& f = *it->second;
    std::vector<json> wanted;
    if (condition.contains("equals")) wanted.push_back(condition["equals"]);
    if (condition.contains("in")) {
      for (const auto& v : condition["in"]) wanted.push_back(v);
    }
    const std::string type = f["type"];
    return std::any_of(wanted.begin(), wanted.end(), [&](const json& v) {
      if (type == "choice") {
        return std::any_of(f["options"].begin(), f["options"].end(), [&](const json& o) { return o["value"] == v; });
      }
      if (type == "yes_no") return v.is_boolean() || v == "yes" || v == "no";
      return true;
    });
  }

  void Conditions(const std::vector<FieldRef>& fields) {
    const json& pages = d_["form"]["pages"];
    std::set<std::size_t> unreachable;
    for (std::size_t i = 0; i < pages.size(); ++i) {
      if (!pages[i].contains("show_when")) continue;
      const json& c = pages[i]["show_when"];
      const std::string path = fmt::format("form.pages[{}]", i);
      const std::string on = c["field"];
      auto at = position_.find(on);
      if (at != position_.end() && at->second.page >= i) {
        Add(Finding("later_answer", path + ".show_when", on, "",
             fmt::format("page {} depends on {}, which is asked on the same or a later page", pages[i]["id"].get<std::string>(), on)));
        unreachable.insert(i);
      } else if (!Answerable(c) || (at != position_.end() && unreachable.contains(at->second.page))) {
        unreachable.insert(i);
      }
      if (unreachable.contains(i)) {
        Add(Finding("unreachable_page", path, "", "",
             fmt::format("no applicant can reach page {}: its condition on {} can never hold", pages[i]["id"].get<std::string>(), on)));
      }
    }
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const json& f = *fields[i].field;
      if (!f.contains("show_when")) continue;
      const std::string on = f["show_when"]["field"];
      auto at = position_.find(on);
      if (at != position_.end() && at->second.order >= i) {
        Add(Finding("later_answer", fields[i].path + ".show_when", f["id"], "",
             fmt::format("{} depends on {}, which is asked after it", f["id"].get<std::string>(), on)));
      } else if (!Answerable(f["show_when"])) {
        Add(Finding("unknown_answer", fields[i].path + ".show_when", f["id"], "",
             fmt::format("{} is shown for an answer {} cannot have", f["id"].get<std::string>(), on)));
      }
    }
    if (d_["fee"].contains("rules")) {
      const json& rules = d_["fee"]["rules"];
      for (std::size_t i = 0; i < rules.size(); ++i) {
        if (!Answerable(rules[i]["when"])) {
          Add(Finding("unknown_answer", fmt::format("fee.rules[{}].when", i), rules[i]["when"]["field"], "",
               fmt::format("fee rule {} applies to an answer {} cannot have", i + 1, rules[i]["when"]["field"].get<std::string>())));
        }
      }
    }
  }

  void Workflow() {
    const json& w = d_["workflow"];
    std::set<std::string> reached = {w["initial"].get<std::string>()};
    for (bool grew = true; grew;) {
      grew = false;
      for (const auto& t : w["transitions"]) {
        if (reached.contains(t["from"].get<std::string>()) && reached.insert(t["to"].get<std::string>()).second) grew = true;
      }
    }
    for (std::size_t i = 0; i < w["states"].size(); ++i) {
      const std::string id = w["states"][i]["id"];
      if (!reached.contains(id)) {
        Add(Finding("unreachable_state", fmt::format("workflow.states[{}]", i), "", "",
             fmt::format("no transition leads to state {}", id)));
      }
    }
  }

  /// Every text object ({"en": …}) must have its Dzongkha too.
  void Dzongkha(const json& node, const std::string& path) {
    if (node.is_object()) {
      if (node.contains("en") && node["en"].is_string() && node.size() <= 2) {
        auto dz = node.find("dz");
        if (dz == node.end() || !dz->is_string() || dz->get_ref<const std::string&>().empty()) {
          Add(Finding("missing_dzongkha", path, "", "", fmt::format("{} has no Dzongkha text", path.empty() ? "the service" : path)));
        }
        return;
      }
      for (const auto& [key, value] : node.items()) Dzongkha(value, path.empty() ? key : path + "." + key);
    } else if (node.is_array()) {
      for (std::size_t i = 0; i < node.size(); ++i) Dzongkha(node[i], fmt::format("{}[{}]", path, i));
    }
  }

  const json& d_;
  std::map<std::string, Position> position_;
  std::map<std::string, const json*> by_id_;
  std::vector<LintFinding> findings_;
};

}  // namespace

std::vector<LintFinding> ServiceCatalogue::Lint(const json& definition) const {
  return Linter(definition).Run();
}

}  // namespace dzong::services
