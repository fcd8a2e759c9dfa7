// Mustache rendering through mstch (HTML-escaped by default), kept to this
// one file because its headers are heavy; and the reading of a template's
// tags that tells which partials and names it uses.
#include <mstch/mstch.hpp>

#include <nlohmann/json.hpp>

#include "web/renderer.h"

namespace dzong::web {
namespace {

mstch::node ToNode(const nlohmann::json& value) {
  if (value.is_object()) {
    mstch::map map;
    for (const auto& [key, item] : value.items()) map.emplace(key, ToNode(item));
    return map;
  }
  if (value.is_array()) {
    mstch::array array;
    array.reserve(value.size());
    for (const auto& item : value) array.push_back(ToNode(item));
    return array;
  }
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<std::int64_t>());
  if (value.is_number()) return std::to_string(value.get<double>());
  return false;  // null renders as nothing and counts as false in sections
}

std::string_view Trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

}  // namespace

std::string Render(const std::string& source, const nlohmann::json& context,
                   const std::map<std::string, std::string>& partials) {
  return mstch::render(source, ToNode(context), partials);
}

TemplateTags ScanTemplate(std::string_view source) {
  TemplateTags tags;
  std::size_t at = 0;
  while ((at = source.find("{{", at)) != std::string_view::npos) {
    // {{{name}}} is a variable left unescaped; any other tag ends at }}.
    const bool triple = source.substr(at, 3) == "{{{";
    const std::string_view close = triple ? "}}}" : "}}";
    const std::size_t start = at + (triple ? 3 : 2);
    const std::size_t end = source.find(close, start);
    if (end == std::string_view::npos) break;
    at = end + close.size();
    std::string_view tag = Trim(source.substr(start, end - start));
    if (tag.empty() || triple) {
      if (!tag.empty()) tags.names.emplace(tag);
      continue;
    }
    const char sigil = tag.front();
    if (sigil == '!') continue;
    if (sigil == '=') {
      tags.changes_delimiters = true;
      break;
    }
    if (std::string_view("#^/&>").find(sigil) != std::string_view::npos) tag = Trim(tag.substr(1));
    if (tag.empty()) continue;
    (sigil == '>' ? tags.partials : tags.names).emplace(tag);
  }
  return tags;
}

}  // namespace dzong::web
