#pragma once
// What the audit log's own files share: the JSON forms of events and
// checkpoints, and the signed anchor an archive leaves.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "modules/audit/audit.h"

namespace dzong::audit::internal {

using nlohmann::json;

std::string Dump(const json& j);
json Nullable(const std::optional<std::string>& v);
db::Value NullableValue(const std::optional<std::string>& v);

extern const char kCheckpointColumns[];
Checkpoint CheckpointFromRow(const db::Row& r);
Result<std::optional<Checkpoint>> CheckpointAt(db::Connection& c, std::int64_t seq);

/// The chain's start: after the last archive, from its signed checkpoint.
struct Anchor {
  std::int64_t first_seq = 1;
  std::string prev_hash = std::string(64, '0');
  std::optional<Checkpoint> checkpoint;
};
Result<Anchor> ReadAnchor(db::Connection& c);

json EventJson(const StoredEvent& e);
json CheckpointJson(const Checkpoint& cp);

}  // namespace dzong::audit::internal
