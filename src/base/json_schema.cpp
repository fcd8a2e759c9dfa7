#include "base/json_schema.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace dzong {

namespace {

using nlohmann::json;

const std::set<std::string, std::less<>> kAnnotations = {"$schema", "$id", "title", "description", "$defs",
                                                          "$comment", "examples", "default"};
const std::set<std::string, std::less<>> kKeywords = {
    "type",     "enum",      "const",     "properties", "required",    "additionalProperties",
    "items",    "minItems",  "maxItems",  "uniqueItems", "minLength",  "maxLength",
    "pattern",  "minimum",   "maximum",   "$ref",       "allOf",       "anyOf",
    "oneOf"};

std::size_t Characters(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool HasType(const json& v, std::string_view type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  if (type == "integer") return v.is_number_integer() || (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<long long>(v.get<double>())));
  if (type == "number") return v.is_number();
  return false;
}

std::string Join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

std::string Shown(const std::string& path) { return path.empty() ? "the document" : path; }

}  // namespace

struct JsonSchema::Compiled {
  json root;
  std::map<std::string, std::regex> patterns;

  Status Check(const json& schema, const std::string& where) {
    if (schema.is_boolean()) return {};
    if (!schema.is_object()) return Error("schema.invalid", fmt::format("{}: a schema must be an object", where));
    for (const auto& [key, value] : schema.items()) {
      if (kAnnotations.contains(key)) continue;
      if (!kKeywords.contains(key)) {
        return Error("schema.invalid", fmt::format("{}: keyword {} is not supported", where, key));
      }
    }
    if (auto p = schema.find("pattern"); p != schema.end()) {
      const std::string text = p->get<std::string>();
      try {
        patterns.emplace(text, std::regex(text, std::regex::ECMAScript));
      } catch (const std::regex_error&) {
        return Error("schema.invalid", fmt::format("{}: pattern {} is not a valid regular expression", where, text));
      }
    }
    if (auto r = schema.find("$ref"); r != schema.end()) {
      const std::string ref = r->get<std::string>();
      if (ref.rfind("#/$defs/", 0) != 0 || !root["$defs"].contains(ref.substr(8))) {
        return Error("schema.invalid", fmt::format("{}: $ref {} does not name a definition", where, ref));
      }
    }
    if (auto props = schema.find("properties"); props != schema.end()) {
      for (const auto& [name, sub] : props->items()) DZONG_TRY(Check(sub, where + "/properties/" + name));
    }
    for (const char* key : {"items", "additionalProperties"}) {
      if (auto sub = schema.find(key); sub != schema.end()) DZONG_TRY(Check(*sub, where + "/" + key));
    }
    for (const char* key : {"allOf", "anyOf", "oneOf"}) {
      if (auto list = schema.find(key); list != schema.end()) {
        for (std::size_t i = 0; i < list->size(); ++i) DZONG_TRY(Check((*list)[i], fmt::format("{}/{}/{}", where, key, i)));
      }
    }
    return {};
  }

  const json& Resolve(const json& schema) const {
    const json* s = &schema;
    // Definitions may refer to one another; the chain ends at a schema
    // without $ref (Check made sure each target exists).
    for (int depth = 0; depth < 32 && s->is_object() && s->contains("$ref"); ++depth) {
      s = &root["$defs"][(*s)["$ref"].get<std::string>().substr(8)];
    }
    return *s;
  }

  void Validate(const json& schema_in, const json& v, const std::string& path, std::vector<FieldError>& out) const {
    if (schema_in.is_boolean()) {
      if (!schema_in.get<bool>()) out.push_back({path, "unknown_field", fmt::format("{} is not allowed", Shown(path))});
      return;
    }
    const json& schema = Resolve(schema_in);
    if (auto t = schema.find("type"); t != schema.end()) {
      std::vector<std::string> types;
      if (t->is_string()) {
        types.push_back(t->get<std::string>());
      } else {
        for (const auto& x : *t) types.push_back(x.get<std::string>());
      }
      if (std::none_of(types.begin(), types.end(), [&](const std::string& type) { return HasType(v, type); })) {
        std::string list;
        for (const auto& x : types) list += (list.empty() ? "" : " or ") + x;
        out.push_back({path, "type", fmt::format("{} must be {} {}", Shown(path), list[0] == 'a' || list[0] == 'o' || list[0] == 'i' ? "an" : "a", list)});
        return;  // nothing else about a value of the wrong type is worth saying
      }
    }
    if (auto e = schema.find("enum"); e != schema.end()) {
      if (std::find(e->begin(), e->end(), v) == e->end()) {
        std::string list;
        for (const auto& x : *e) list += (list.empty() ? "" : ", ") + (x.is_string() ? x.get<std::string>() : x.dump());
        out.push_back({path, "enum", fmt::format("{} must be one of: {}", Shown(path), list)});
      }
    }
    if (auto c = schema.find("const"); c != schema.end() && *c != v) {
      out.push_back({path, "const", fmt::format("{} must be {}", Shown(path), c->dump())});
    }
    if (v.is_string()) {
      const std::string s = v.get<std::string>();
      const std::size_t n = Characters(s);
      if (auto m = schema.find("minLength"); m != schema.end() && n < m->get<std::size_t>()) {
        out.push_back({path, m->get<std::size_t>() == 1 ? "required" : "min_length",
                       m->get<std::size_t>() == 1 ? fmt::format("{} must not be empty", Shown(path))
                                                  : fmt::format("{} must be at least {} characters", Shown(path), m->get<std::size_t>())});
      }
      if (auto m = schema.find("maxLength"); m != schema.end() && n > m->get<std::size_t>()) {
        out.push_back({path, "max_length", fmt::format("{} must be at most {} characters", Shown(path), m->get<std::size_t>())});
      }
      if (auto p = schema.find("pattern"); p != schema.end()) {
        const std::string text = p->get<std::string>();
        if (!std::regex_search(s, patterns.at(text))) {
          out.push_back({path, "pattern", fmt::format("{} must match {}", Shown(path), text)});
        }
      }
    }
    if (v.is_number()) {
      const double x = v.get<double>();
      if (auto m = schema.find("minimum"); m != schema.end() && x < m->get<double>()) {
        out.push_back({path, "minimum", fmt::format("{} must be at least {}", Shown(path), m->dump())});
      }
      if (auto m = schema.find("maximum"); m != schema.end() && x > m->get<double>()) {
        out.push_back({path, "maximum", fmt::format("{} must be at most {}", Shown(path), m->dump())});
      }
    }
    if (v.is_object()) {
      if (auto req = schema.find("required"); req != schema.end()) {
        for (const auto& name : *req) {
          if (!v.contains(name.get<std::string>())) {
            const std::string p = Join(path, name.get<std::string>());
            out.push_back({p, "required", fmt::format("{} is required", p)});
          }
        }
      }
      const auto props = schema.find("properties");
      const auto extra = schema.find("additionalProperties");
      for (const auto& [name, value] : v.items()) {
        const std::string p = Join(path, name);
        if (props != schema.end() && props->contains(name)) {
          Validate((*props)[name], value, p, out);
        } else if (extra != schema.end()) {
          if (extra->is_boolean() && !extra->get<bool>()) {
            out.push_back({p, "unknown_field", fmt::format("{} is not a field of {}", name, Shown(path))});
          } else {
            Validate(*extra, value, p, out);
          }
        }
      }
    }
    if (v.is_array()) {
      if (auto m = schema.find("minItems"); m != schema.end() && v.size() < m->get<std::size_t>()) {
        out.push_back({path, "min_items", fmt::format("{} must have at least {} item{}", Shown(path), m->get<std::size_t>(), m->get<std::size_t>() == 1 ? "" : "s")});
      }
      if (auto m = schema.find("maxItems"); m != schema.end() && v.size() > m->get<std::size_t>()) {
        out.push_back({path, "max_items", fmt::format("{} must have at most {} items", Shown(path), m->get<std::size_t>())});
      }
      if (auto u = schema.find("uniqueItems"); u != schema.end() && u->get<bool>()) {
        for (std::size_t i = 0; i < v.size(); ++i) {
          for (std::size_t j = 0; j < i; ++j) {
            if (v[i] == v[j]) {
              out.push_back({fmt::format("{}[{}]", path, i), "unique_items", fmt::format("{}[{}] repeats an earlier item", Shown(path), i)});
            }
          }
        }
      }
      if (auto items = schema.find("items"); items != schema.end()) {
        for (std::size_t i = 0; i < v.size(); ++i) Validate(*items, v[i], fmt::format("{}[{}]", path, i), out);
      }
    }
    if (auto all = schema.find("allOf"); all != schema.end()) {
      for (const auto& sub : *all) Validate(sub, v, path, out);
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      auto list = schema.find(key);
      if (list == schema.end()) continue;
      std::size_t holding = 0;
      for (const auto& sub : *list) {
        std::vector<FieldError> inner;
        Validate(sub, v, path, inner);
        holding += inner.empty() ? 1 : 0;
      }
      const bool one = std::string_view(key) == "oneOf";
      if (one ? holding != 1 : holding == 0) {
        out.push_back({path, one ? "one_of" : "any_of",
                       fmt::format("{} must match {} of its allowed forms", Shown(path), one ? "exactly one" : "one")});
      }
    }
  }
};

JsonSchema::JsonSchema(std::unique_ptr<Compiled> compiled) : compiled_(std::move(compiled)) {}
JsonSchema::~JsonSchema() = default;
JsonSchema::JsonSchema(JsonSchema&&) noexcept = default;
JsonSchema& JsonSchema::operator=(JsonSchema&&) noexcept = default;

Result<JsonSchema> JsonSchema::Parse(std::string_view text) {
  auto compiled = std::make_unique<Compiled>();
  compiled->root = json::parse(text, nullptr, false);
  if (compiled->root.is_discarded()) return Error("schema.invalid", "the schema is not JSON");
  if (auto defs = compiled->root.find("$defs"); defs != compiled->root.end()) {
    for (const auto& [name, sub] : defs->items()) DZONG_TRY(compiled->Check(sub, "#/$defs/" + name));
  }
  DZONG_TRY(compiled->Check(compiled->root, "#"));
  return JsonSchema(std::move(compiled));
}

std::vector<FieldError> JsonSchema::Validate(const json& instance) const {
  std::vector<FieldError> out;
  compiled_->Validate(compiled_->root, instance, "", out);
  return out;
}

}  // namespace dzong
