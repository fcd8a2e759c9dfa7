#pragma once
// Shared inside the services module only.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dzong::services {

/// A field of a definition's form, with where it is.
struct FieldRef {
  const nlohmann::json* field = nullptr;
  std::string path;       ///< form.pages[1].fields[0], or …fields[0].fields[2] inside a group
  std::size_t page = 0;   ///< index of its page
  std::string group_id;   ///< the repeatable group it belongs to, if any
};

/// Every field of a (schema-valid) definition, in form order: a group,
/// then its own fields.
std::vector<FieldRef> AllFields(const nlohmann::json& definition);

/// The words of a text for search: lower-case English words, and Dzongkha
/// syllables split at the tsheg (U+0F0B) and the shad (U+0F0D).
std::vector<std::string> SearchTerms(std::string_view text);

}  // namespace dzong::services
