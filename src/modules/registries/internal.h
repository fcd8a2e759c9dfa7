#pragma once
// Shared by the registry service's files.

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "base/result.h"
#include "db/database.h"
#include "modules/registries/registries.h"

namespace dzong::registries {

/// Records, in the caller's transaction, the people a record names through
/// its references into the population register (the population register
/// itself is keyed by CID and needs none). A field no longer set is removed.
Status IndexSubjects(db::Connection& c, const Registry& registry, const std::string& key, const nlohmann::json& data);

}  // namespace dzong::registries
