#include "modules/forms/form.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <regex>

#include <fmt/format.h>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/csv.h"
#include "base/embedded.h"

namespace dzong {
std::span<const EmbeddedFile> FormPlaceFiles();
}

namespace dzong::forms {
namespace {

using nlohmann::json;
using Inputs = std::map<std::string, std::string, std::less<>>;

std::string_view PlaceFile(std::string_view name) {
  for (const auto& f : FormPlaceFiles()) {
    if (f.name.ends_with(name)) return f.content;
  }
  return {};
}

std::string Trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

/// Characters, not bytes: Dzongkha letters take three bytes each.
std::size_t Characters(const std::string& text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string Input(const Inputs& inputs, const std::string& name) {
  const auto it = inputs.find(name);
  return it == inputs.end() ? std::string() : Trimmed(it->second);
}

std::string Number(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  return fmt::format("{}", v);
}

std::optional<double> ParseNumber(const std::string& text) {
  std::string cleaned;
  for (char c : text) {
    if (c != ',') cleaned.push_back(c);
  }
  if (cleaned.empty() || cleaned.size() > 30) return std::nullopt;
  double value = 0;
  const char* end = cleaned.data() + cleaned.size();
  const auto [ptr, ec] = std::from_chars(cleaned.data(), end, value, std::chars_format::fixed);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

struct Reader {
  const json& definition;
  const json& prefilled;
  const Inputs& inputs;
  const std::map<std::string, FileInput>& files;
  std::chrono::sys_days today;
  PageInput& out;

  void Add(const std::string& id, const json& field, std::string rule, std::map<std::string, std::string> values = {}) {
    out.problems.push_back({id, field.value("label", json::object()), std::move(rule), std::move(values)});
  }

  /// A text-like answer: the rules of text, number, date, cid and choice.
  std::optional<json> Scalar(const json& field, const std::string& id, const std::string& name) {
    const std::string type = field.value("type", "text");
    const bool required = field.value("required", false);
    if (type == "date") {
      const std::string day = Input(inputs, name + "-day");
      const std::string month = Input(inputs, name + "-month");
      const std::string year = Input(inputs, name + "-year");
      if (day.empty() && month.empty() && year.empty()) {
        if (required) Add(id + "-day", field, "required_date");
        return std::nullopt;
      }
      const auto digits = [](const std::string& s, std::size_t lo, std::size_t hi) {
        return s.size() >= lo && s.size() <= hi && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
      };
      std::optional<std::chrono::sys_days> parsed;
      if (digits(day, 1, 2) && digits(month, 1, 2) && digits(year, 4, 4)) {
        parsed = ParseDate(fmt::format("{}-{:0>2}-{:0>2}", year, month, day));
      }
      if (!parsed) {
        Add(id + "-day", field, "date");
        return std::nullopt;
      }
      if (field.contains("min_date")) {
        const auto min = ResolveDate(field.value("min_date", ""), today);
        if (min && *parsed < *min) {
          Add(id + "-day", field, "min_date", {{"date", FormatDay(*min)}});
          return std::nullopt;
        }
      }
      if (field.contains("max_date")) {
        const auto max = ResolveDate(field.value("max_date", ""), today);
        if (max && *parsed > *max) {
          Add(id + "-day", field, "max_date", {{"date", FormatDay(*max)}});
          return std::nullopt;
        }
      }
      return FormatDay(*parsed);
    }
    std::string text = Input(inputs, name);
    if (type == "cid") text.erase(std::remove(text.begin(), text.end(), ' '), text.end());
    if (text.empty()) {
      if (required) Add(id, field, type == "choice" || type == "yes_no" ? "required_choice" : "required");
      return std::nullopt;
    }
    if (type == "choice") {
      for (const auto& o : field.value("options", json::array())) {
        if (o.value("value", "") == text) return text;
      }
      Add(id, field, "one_of");
      return std::nullopt;
    }
    if (type == "yes_no") {
      if (text == "yes" || text == "no") return text;
      Add(id, field, "one_of");
      return std::nullopt;
    }
    if (type == "cid") {
      // Bhutan's CID is 11 digits; it carries no public check digit, so
      // the digits and their count are the check.
      if (text.size() != 11 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        Add(id, field, "cid");
        return std::nullopt;
      }
      return text;
    }
    if (type == "number") {
      const auto value = ParseNumber(text);
      if (!value) {
        Add(id, field, "number");
        return std::nullopt;
      }
      if (field.contains("min") && *value < field["min"].get<double>()) {
        Add(id, field, "min", {{"min", Number(field["min"].get<double>())}});
        return std::nullopt;
      }
      if (field.contains("max") && *value > field["max"].get<double>()) {
        Add(id, field, "max", {{"max", Number(field["max"].get<double>())}});
        return std::nullopt;
      }
      if (std::floor(*value) == *value && std::fabs(*value) < 1e15) return static_cast<std::int64_t>(*value);
      return *value;
    }
    // text
    const std::size_t length = Characters(text);
    const std::size_t max = field.value("max_length", 4000);
    const std::size_t min = field.value("min_length", 0);
    if (length > max) {
      Add(id, field, "max_length", {{"max", std::to_string(max)}});
      return std::nullopt;
    }
    if (length < min) {
      Add(id, field, "min_length", {{"min", std::to_string(min)}});
      return std::nullopt;
    }
    if (field.contains("pattern")) {
      bool matches = false;
      try {
        matches = std::regex_match(text, std::regex(field.value("pattern", ""), std::regex::ECMAScript));
      } catch (const std::regex_error&) {
        matches = false;
      }
      if (!matches) {
        Add(id, field, "pattern");
        out.problems.back().label = field.value("label", json::object());
        if (field.contains("pattern_message")) out.problems.back().values["message_en"] = field["pattern_message"].value("en", "");
        if (field.contains("pattern_message")) out.problems.back().values["message_dz"] = field["pattern_message"].value("dz", "");
        return std::nullopt;
      }
    }
    return text;
  }

  std::optional<json> Address(const json& field, const std::string& id) {
    const std::string dzongkhag = Input(inputs, id + "-dzongkhag");
    const std::string gewog = Input(inputs, id + "-gewog");
    const std::string village = Input(inputs, id + "-village");
    if (dzongkhag.empty() && gewog.empty() && village.empty()) {
      if (field.value("required", false)) Add(id + "-dzongkhag", field, "required_address");
      return std::nullopt;
    }
    const Places::Dzongkhag* d = Places::Bhutan().Find(dzongkhag);
    if (!d) {
      Add(id + "-dzongkhag", field, "dzongkhag");
      return std::nullopt;
    }
    const bool in = std::any_of(d->gewogs.begin(), d->gewogs.end(), [&](const Places::Gewog& g) { return g.en == gewog; });
    if (!in) {
      Add(id + "-gewog", field, "gewog", {{"dzongkhag", d->en}});
      return std::nullopt;
    }
    if (village.empty() || Characters(village) > 80) {
      Add(id + "-village", field, "village");
      return std::nullopt;
    }
    return json{{"dzongkhag", d->en}, {"gewog", gewog}, {"village", village}};
  }

  std::optional<json> File(const json& field, const std::string& id, const json& before) {
    const json* document = DocumentOf(definition, field);
    const auto sent = files.find(id);
    if (sent == files.end() || (sent->second.body.empty() && sent->second.filename.empty())) {
      // Nothing new: the file given before stays.
      if (before.is_object() && before.contains(id)) return before[id];
      if (field.value("required", false) || (document && document->value("required", false))) {
        Add(id, field, "required_file");
      }
      return std::nullopt;
    }
    const FileInput& file = sent->second;
    const std::int64_t max_bytes = document ? document->value("max_bytes", std::int64_t{1024 * 1024}) : 1024 * 1024;
    if (file.body.empty()) {
      Add(id, field, "empty_file");
      return std::nullopt;
    }
    if (static_cast<std::int64_t>(file.body.size()) > max_bytes) {
      Add(id, field, "file_too_large", {{"limit", Size(max_bytes)}});
      return std::nullopt;
    }
    const std::string type = SniffMediaType(file.body);
    json formats = document ? document->value("formats", json::array()) : json::array({"application/pdf"});
    const bool allowed = !type.empty() && std::find(formats.begin(), formats.end(), json(type)) != formats.end();
    if (!allowed) {
      std::string names;
      for (const auto& f : formats) {
        const std::string t = f.get<std::string>();
        names += (names.empty() ? "" : ", ") + std::string(t == "application/pdf" ? "PDF" : t == "image/jpeg" ? "JPEG" : "PNG");
      }
      Add(id, field, "file_type", {{"formats", names}});
      return std::nullopt;
    }
    // Only a file name's last part, without control characters, is kept.
    std::string name = file.filename.substr(file.filename.find_last_of("/\\") == std::string::npos
                                                ? 0
                                                : file.filename.find_last_of("/\\") + 1);
    name.erase(std::remove_if(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }),
               name.end());
    if (name.size() > 200) name.resize(200);
    const std::string sha = Sha256Hex(file.body);
    out.files.push_back({sha, type, name, file.body});
    return json{{"sha256", sha}, {"name", name}, {"media_type", type}, {"size", static_cast<std::int64_t>(file.body.size())}};
  }

  static std::string Size(std::int64_t bytes) {
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) return fmt::format("{} MB", bytes / (1024 * 1024));
    if (bytes >= 1024 * 1024) return fmt::format("{:.1f} MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return fmt::format("{} KB", (bytes + 1023) / 1024);
  }

  std::optional<json> Group(const json& field, const std::string& id, const json& answers) {
    const int items = GroupItems(field, inputs, answers);
    json list = json::array();
    for (int i = 0; i < items; ++i) {
      json item = json::object();
      bool any = false;
      const std::size_t before = out.problems.size();
      for (const auto& sub : field.value("fields", json::array())) {
        const std::string sub_id = sub.value("id", "");
        const std::string name = fmt::format("{}-{}-{}", id, i, sub_id);
        if (sub.value("type", "") == "date") {
          any = any || !Input(inputs, name + "-day").empty() || !Input(inputs, name + "-month").empty() ||
                !Input(inputs, name + "-year").empty();
        } else {
          any = any || !Input(inputs, name).empty();
        }
        if (!Shows(sub, item)) continue;
        auto value = Scalar(sub, name, name);
        if (value) item[sub_id] = std::move(*value);
      }
      // An item left wholly empty is not an item (nor a problem).
      if (!any) {
        out.problems.resize(before);
        continue;
      }
      list.push_back(std::move(item));
    }
    const int min = field.value("min_items", field.value("required", false) ? 1 : 0);
    const int max = field.value("max_items", 50);
    if (static_cast<int>(list.size()) < min) {
      Add(fmt::format("{}-0-{}", id, field["fields"][0].value("id", "")), field, "min_items", {{"min", std::to_string(min)}});
    } else if (static_cast<int>(list.size()) > max) {
      Add(id, field, "max_items", {{"max", std::to_string(max)}});
    }
    if (list.empty()) return std::nullopt;
    return list;
  }
};

}  // namespace

const Places::Dzongkhag* Places::Find(const std::string& en) const {
  for (const auto& d : dzongkhags) {
    if (d.en == en) return &d;
  }
  return nullptr;
}

const Places& Places::Bhutan() {
  static const Places places = [] {
    Places p;
    for (const auto& r : CsvRecords(PlaceFile("dzongkhags.csv"))) {
      if (r.size() >= 3) p.dzongkhags.push_back({r[0], r[1], r[2], {}});
    }
    for (const auto& r : CsvRecords(PlaceFile("gewogs.csv"))) {
      if (r.size() < 3) continue;
      for (auto& d : p.dzongkhags) {
        if (d.code == r[0]) d.gewogs.push_back({r[2], r.size() > 5 ? r[5] : std::string()});
      }
    }
    std::sort(p.dzongkhags.begin(), p.dzongkhags.end(), [](const auto& a, const auto& b) { return a.en < b.en; });
    for (auto& d : p.dzongkhags) {
      std::sort(d.gewogs.begin(), d.gewogs.end(), [](const auto& a, const auto& b) { return a.en < b.en; });
    }
    return p;
  }();
  return places;
}

std::string Canonical(const json& value) {
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  if (value.is_number_integer()) return std::to_string(value.get<std::int64_t>());
  if (value.is_number()) return Number(value.get<double>());
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

bool Holds(const json& condition, const json& answers) {
  const std::string field = condition.value("field", "");
  if (!answers.is_object() || !answers.contains(field)) return false;
  const std::string answer = Canonical(answers[field]);
  if (condition.contains("equals")) return answer == Canonical(condition["equals"]);
  if (condition.contains("in")) {
    for (const auto& v : condition["in"]) {
      if (answer == Canonical(v)) return true;
    }
  }
  return false;
}

bool Shows(const json& item, const json& answers) {
  return !item.contains("show_when") || Holds(item["show_when"], answers);
}

Inputs InputsFrom(const json& page, const json& answers) {
  Inputs inputs;
  const auto put = [&](const json& field, const std::string& name, const json& value) {
    const std::string type = field.value("type", "text");
    if (type == "date" && value.is_string()) {
      const std::string text = value.get<std::string>();
      if (const auto day = ParseDate(text)) {
        const std::chrono::year_month_day ymd(*day);
        inputs[name + "-year"] = std::to_string(static_cast<int>(ymd.year()));
        inputs[name + "-month"] = std::to_string(static_cast<unsigned>(ymd.month()));
        inputs[name + "-day"] = std::to_string(static_cast<unsigned>(ymd.day()));
      } else {
        inputs[name + "-day"] = text;  // read back as no date, and said so
      }
    } else if (type == "address" && value.is_object()) {
      for (const char* part : {"dzongkhag", "gewog", "village"}) {
        const auto it = value.find(part);
        inputs[name + "-" + part] = it != value.end() && it->is_string() ? it->get<std::string>() : "";
      }
    } else if (type != "file") {
      inputs[name] = Canonical(value);
    }
  };
  for (const auto& field : page["fields"]) {
    const std::string id = field.value("id", "");
    if (!answers.is_object() || !answers.contains(id)) continue;
    const json& value = answers[id];
    if (field.value("type", "") == "group" && value.is_array()) {
      inputs[id + "-count"] = std::to_string(value.size());
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (!value[i].is_object()) continue;
        for (const auto& sub : field["fields"]) {
          const std::string sub_id = sub.value("id", "");
          if (value[i].contains(sub_id)) put(sub, fmt::format("{}-{}-{}", id, i, sub_id), value[i][sub_id]);
        }
      }
    } else {
      put(field, id, value);
    }
  }
  return inputs;
}

std::int64_t FeeFor(const json& definition, const json& answers) {
  const auto fee = definition.find("fee");
  if (fee == definition.end() || !fee->is_object()) return 0;
  if (const auto rules = fee->find("rules"); rules != fee->end() && rules->is_array()) {
    for (const auto& rule : *rules) {
      if (Holds(rule.value("when", json::object()), answers)) return rule.value("amount_chhertum", std::int64_t{0});
    }
  }
  return fee->value("amount_chhertum", std::int64_t{0});
}

std::vector<const json*> VisiblePages(const json& definition, const json& answers) {
  const json kept = Prune(definition, answers);
  std::vector<const json*> out;
  for (const auto& page : definition["form"]["pages"]) {
    if (Shows(page, kept)) out.push_back(&page);
  }
  return out;
}

const json* FindPage(const json& definition, const std::string& id) {
  for (const auto& page : definition["form"]["pages"]) {
    if (page.value("id", "") == id) return &page;
  }
  return nullptr;
}

json Prune(const json& definition, const json& answers) {
  json kept = json::object();
  if (!answers.is_object()) return kept;
  for (const auto& page : definition["form"]["pages"]) {
    if (!Shows(page, kept)) continue;
    for (const auto& field : page["fields"]) {
      const std::string id = field.value("id", "");
      if (Shows(field, kept) && answers.contains(id)) kept[id] = answers[id];
    }
  }
  return kept;
}

std::string SniffMediaType(std::string_view bytes) {
  if (bytes.starts_with("%PDF-")) return "application/pdf";
  if (bytes.size() >= 3 && static_cast<unsigned char>(bytes[0]) == 0xFF && static_cast<unsigned char>(bytes[1]) == 0xD8 &&
      static_cast<unsigned char>(bytes[2]) == 0xFF) {
    return "image/jpeg";
  }
  if (bytes.starts_with(std::string_view("\x89PNG\r\n\x1a\n", 8))) return "image/png";
  return {};
}

std::chrono::sys_days BhutanToday(std::chrono::system_clock::time_point now) {
  return std::chrono::floor<std::chrono::days>(now + std::chrono::hours(6));
}

std::optional<std::chrono::sys_days> ResolveDate(const std::string& text, std::chrono::sys_days today) {
  using namespace std::chrono;
  if (!text.starts_with("today")) return ParseDate(text);
  if (text == "today") return today;
  if (text.size() < 8) return std::nullopt;
  const int sign = text[5] == '-' ? -1 : text[5] == '+' ? 1 : 0;
  if (sign == 0) return std::nullopt;
  int n = 0;
  const char* begin = text.data() + 6;
  const char* end = text.data() + text.size() - 1;
  const auto [ptr, ec] = std::from_chars(begin, end, n);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  const char unit = text.back();
  if (unit == 'd') return today + days(sign * n);
  const year_month_day ymd(today);
  year_month target = ymd.year() / ymd.month();
  if (unit == 'm') target += months(sign * n);
  else if (unit == 'y') target += years(sign * n);
  else return std::nullopt;
  // The 31st of a shorter month is its last day.
  const day d = std::min(ymd.day(), (target / last).day());
  return sys_days(target / d);
}

std::string FormatDay(std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd(day);
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()));
}

const json* DocumentOf(const json& definition, const json& field) {
  const std::string type = field.value("document", "");
  if (type.empty() || !definition.contains("documents")) return nullptr;
  for (const auto& d : definition["documents"]) {
    if (d.value("type", "") == type) return &d;
  }
  return nullptr;
}

int GroupItems(const json& field, const Inputs& inputs, const json& answers) {
  const std::string id = field.value("id", "");
  const int max = field.value("max_items", 50);
  const auto it = inputs.find(id + "-count");
  int n = 0;
  if (it != inputs.end()) {
    const auto [ptr, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
    if (ec != std::errc()) n = 0;
  } else if (answers.is_object() && answers.contains(id) && answers[id].is_array()) {
    n = static_cast<int>(answers[id].size());
  }
  n = std::max({n, field.value("min_items", 0), 1});
  return std::min(n, max);
}

PageInput ReadPage(const json& definition, const json& page, const json& before, const json& prefilled,
                   const Inputs& inputs, const std::map<std::string, FileInput>& files, std::chrono::sys_days today) {
  PageInput out;
  Reader reader{definition, prefilled, inputs, files, today, out};
  // Conditions see the other pages' answers and this page's earlier ones.
  json seen = before.is_object() ? before : json::object();
  for (const auto& field : page["fields"]) {
    const std::string id = field.value("id", "");
    seen.erase(id);
    if (!Shows(field, seen)) continue;
    if (prefilled.is_object() && prefilled.contains(id)) {
      // A register's answer: whatever was posted for it is ignored.
      seen[id] = prefilled[id]["value"];
      continue;
    }
    const std::string type = field.value("type", "text");
    std::optional<json> value;
    if (type == "address") {
      value = reader.Address(field, id);
    } else if (type == "file") {
      value = reader.File(field, id, before);
    } else if (type == "group") {
      value = reader.Group(field, id, before);
    } else {
      value = reader.Scalar(field, id, id);
    }
    if (value) {
      out.answers[id] = *value;
      seen[id] = std::move(*value);
    }
  }
  return out;
}

}  // namespace dzong::forms
