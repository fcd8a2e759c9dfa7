// The canonical encoding is written by hand for speed; it must stay byte for
// byte what nlohmann::json writes for the same array, which is what the
// first events were hashed over.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "modules/audit/audit.h"

namespace dzong::audit {
namespace {

using nlohmann::json;

std::string Reference(const StoredEvent& e) {
  const auto nullable = [](const std::optional<std::string>& v) { return v ? json(*v) : json(); };
  json fields = json::array({e.seq, e.at, e.event.actor, nullable(e.event.actor_organisation), e.event.action,
                             e.event.object_type, e.event.object_id, nullable(e.event.subject), e.event.purpose,
                             e.event.allowed ? "allowed" : "denied", e.event.request_id, e.event.remote,
                             e.event.detail, e.prev_hash});
  if (!e.event.actor_role.empty()) fields.push_back(e.event.actor_role);
  return fields.dump(-1, ' ', false, json::error_handler_t::replace);
}

TEST(CanonicalEncoding, MatchesTheJsonLibraryForEveryKindOfText) {
  const std::string samples[] = {
      "plain",
      "",
      "quote \" backslash \\ slash /",
      "controls \b\f\n\r\t \x01\x1f \x7f",
      "Dzongkha རྫོང་ཁ་ and emoji \xF0\x9F\x99\x8F",
      "broken \xC3 UTF-8",
      "overlong \xC0\xAF and surrogate \xED\xA0\x80",
      "truncated \xE0\xA4",
      R"({"path":"/api/v1/accounts/7","status":200})",
  };
  StoredEvent e;
  e.seq = 9007199254740993;
  e.at = "2026-11-29T15:58:30.123456Z";
  e.prev_hash = std::string(64, 'a');
  for (const std::string& text : samples) {
    e.event.actor = text;
    e.event.detail = text;
    e.event.purpose = text;
    e.event.subject = text;
    e.event.actor_organisation.reset();
    e.event.actor_role.clear();
    EXPECT_EQ(CanonicalEncoding(e), Reference(e)) << text;
    e.event.actor_organisation = "DCRC";
    e.event.actor_role = "officer registry_steward";
    e.event.allowed = false;
    EXPECT_EQ(CanonicalEncoding(e), Reference(e)) << text;
  }
}

}  // namespace
}  // namespace dzong::audit
