#include "modules/notify/templates.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "base/embedded.h"

namespace dzong {
std::span<const EmbeddedFile> NotifyTemplateFiles();
}  // namespace dzong

namespace dzong::notify {
namespace {

constexpr char kLanguages[][3] = {"en", "dz"};

std::string Lines(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  std::string out;
  if (!value.is_array()) return out;
  for (const auto& line : value) {
    if (!out.empty()) out += '\n';
    if (line.is_string()) out += line.get<std::string>();
  }
  return out;
}

std::vector<std::string> Strings(const nlohmann::json& value) {
  std::vector<std::string> out;
  if (!value.is_array()) return out;
  for (const auto& v : value) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

struct Loaded {
  std::vector<Template> templates;
  std::map<std::string, std::string> footer;  // by language
  std::optional<Error> error;
};

Loaded Load() {
  Loaded out;
  for (const EmbeddedFile& file : NotifyTemplateFiles()) {
    const nlohmann::json doc = nlohmann::json::parse(file.content, nullptr, false);
    if (!doc.is_object()) {
      out.error = Error("notify.bad_template", fmt::format("{} is not a JSON object", file.name));
      return out;
    }
    for (const auto& [id, spec] : doc.items()) {
      if (id == "_footer") {
        for (const char* lang : kLanguages) {
          if (spec.contains(lang)) out.footer[lang] = Lines(spec[lang]);
        }
        continue;
      }
      Template t;
      t.id = id;
      t.to = spec.contains("to") && spec["to"].is_string() ? spec["to"].get<std::string>() : std::string();
      if (spec.contains("params")) t.params = Strings(spec["params"]);
      if (spec.contains("optional")) t.optional = Strings(spec["optional"]);
      if (spec.contains("inbox") && spec["inbox"].is_boolean()) t.inbox = spec["inbox"].get<bool>();
      for (const char* lang : kLanguages) {
        if (!spec.contains(lang) || !spec[lang].is_object()) {
          out.error = Error("notify.bad_template", fmt::format("{}: {} has no '{}' text", file.name, id, lang));
          return out;
        }
        const nlohmann::json& text = spec[lang];
        Text x;
        if (text.contains("subject")) x.subject = Lines(text["subject"]);
        if (text.contains("body")) x.body = Lines(text["body"]);
        if (text.contains("sms")) x.sms = Lines(text["sms"]);
        if (text.contains("inbox")) x.inbox = Lines(text["inbox"]);
        t.text[lang] = std::move(x);
      }
      out.templates.push_back(std::move(t));
    }
  }
  std::sort(out.templates.begin(), out.templates.end(),
            [](const Template& a, const Template& b) { return a.id < b.id; });
  return out;
}

const Loaded& Templates() {
  static const Loaded loaded = Load();
  return loaded;
}

std::string ValueText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return {};
  return v.dump();
}

/// The params as the text sees them: the language's variants, and the
/// address each path makes.
std::map<std::string, std::string, std::less<>> Context(const nlohmann::json& params, const std::string& language,
                                                        const std::string& site_url) {
  std::map<std::string, std::string, std::less<>> ctx;
  if (!params.is_object()) return ctx;
  for (const auto& item : params.items()) {
    const std::string& key = item.key();
    ctx.emplace(key, ParamText(params, key, language));
    for (const char* lang : kLanguages) {
      const std::string suffix = std::string("_") + lang;
      if (key.size() > suffix.size() && key.ends_with(suffix)) {
        const std::string base = key.substr(0, key.size() - suffix.size());
        if (!params.contains(base)) ctx[base] = ParamText(params, base, language);
      }
    }
  }
  std::vector<std::pair<std::string, std::string>> urls;
  for (const auto& [key, value] : ctx) {
    if (value.empty()) continue;
    if (key == "path") urls.emplace_back("url", site_url + value);
    if (key.size() > 5 && key.ends_with("_path")) urls.emplace_back(key.substr(0, key.size() - 5) + "_url", site_url + value);
  }
  for (auto& [k, v] : urls) ctx[k] = std::move(v);
  return ctx;
}

/// Fills one text: sections first (they may hold placeholders), then values.
std::string Fill(std::string_view text, const std::map<std::string, std::string, std::less<>>& ctx) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t open = text.find("{{", i);
    if (open == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, open - i));
    const std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      out.append(text.substr(open));
      break;
    }
    const std::string_view tag = text.substr(open + 2, close - open - 2);
    if (!tag.empty() && (tag.front() == '#' || tag.front() == '^')) {
      const std::string_view name = tag.substr(1);
      const std::string end = fmt::format("{{{{/{}}}}}", name);
      const std::size_t end_at = text.find(end, close + 2);
      const std::string_view inner =
          text.substr(close + 2, (end_at == std::string_view::npos ? text.size() : end_at) - close - 2);
      const auto it = ctx.find(name);
      const bool has = it != ctx.end() && !it->second.empty();
      if (has == (tag.front() == '#')) out += Fill(inner, ctx);
      i = end_at == std::string_view::npos ? text.size() : end_at + end.size();
      continue;
    }
    const auto it = ctx.find(tag);
    if (it != ctx.end()) out += it->second;
    i = close + 2;
  }
  return out;
}

/// Lines that a section emptied are dropped, and runs of blank lines made one.
std::string Tidy(const std::string& text) {
  std::string out;
  std::size_t start = 0;
  bool last_blank = true;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    const bool blank = line.find_first_not_of(' ') == std::string::npos;
    if (!(blank && last_blank)) {
      out += line;
      out += '\n';
    }
    last_blank = blank;
    start = end + 1;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

Result<const std::vector<Template>*> AllTemplates() {
  const Loaded& loaded = Templates();
  if (loaded.error) return *loaded.error;
  return &loaded.templates;
}

const Template* FindTemplate(std::string_view id) {
  const Loaded& loaded = Templates();
  for (const Template& t : loaded.templates) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

std::string ParamText(const nlohmann::json& params, const std::string& name, const std::string& language) {
  if (!params.is_object()) return {};
  for (const std::string& key : {name + "_" + language, name, name + "_en"}) {
    const auto it = params.find(key);
    if (it != params.end() && !it->is_null()) {
      std::string v = ValueText(*it);
      if (!v.empty()) return v;
    }
  }
  return {};
}

Text Render(const Template& t, const std::string& language, const nlohmann::json& params, const std::string& site_url,
            bool footer) {
  const std::string lang = t.text.contains(language) ? language : "en";
  const Text& source = t.text.at(lang);
  const auto ctx = Context(params, lang, site_url);
  Text out;
  out.subject = Tidy(Fill(source.subject, ctx));
  out.body = Tidy(Fill(source.body, ctx));
  const auto& footers = Templates().footer;
  if (const auto f = footers.find(lang); footer && f != footers.end() && !f->second.empty()) {
    out.body += "\n\n-- \n" + f->second;
  }
  out.sms = Tidy(Fill(source.sms.empty() ? source.subject : source.sms, ctx));
  out.inbox = source.inbox.empty() ? out.body.substr(0, out.body.find("\n\n-- \n")) : Tidy(Fill(source.inbox, ctx));
  return out;
}

std::vector<std::string> Placeholders(std::string_view text) {
  std::vector<std::string> out;
  for (std::size_t open = text.find("{{"); open != std::string_view::npos; open = text.find("{{", open + 2)) {
    const std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    std::string_view tag = text.substr(open + 2, close - open - 2);
    if (!tag.empty() && tag.front() == '/') continue;
    if (!tag.empty() && (tag.front() == '#' || tag.front() == '^')) tag.remove_prefix(1);
    if (std::find(out.begin(), out.end(), tag) == out.end()) out.emplace_back(tag);
  }
  return out;
}

}  // namespace dzong::notify
