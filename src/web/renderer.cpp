// Mustache rendering through mstch (HTML-escaped by default), kept to this
// one file because its headers are heavy.
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
    for (const auto& item : value) array.push_back(ToNode(item));
    return array;
  }
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<std::int64_t>());
  if (value.is_number()) return std::to_string(value.get<double>());
  return false;  // null renders as nothing and counts as false in sections
}

}  // namespace

std::string Render(const std::string& source, const nlohmann::json& context,
                   const std::map<std::string, std::string>& partials) {
  return mstch::render(source, ToNode(context), partials);
}

}  // namespace dzong::web
