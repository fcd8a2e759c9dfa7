// The audit log on the engine under test: route calls and refusals are
// recorded, a change and its event commit together, and every kind of
// tampering with the stored chain is found.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "db/database.h"
#include "modules/audit/audit.h"
#include "support/test_server.h"

namespace dzong::testing {
namespace {

using nlohmann::json;

class AuditTest : public ::testing::Test {
 protected:
  db::Database& Db() { return server_.app().Database(); }

  std::int64_t Count(const std::string& where) {
    return Db().ReadValue<std::int64_t>([&](db::Connection& c) -> Result<std::int64_t> {
                 DZONG_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT COUNT(*) FROM audit_events WHERE " + where));
                 return rows.at(0).Int(0);
               })
        .value();
  }

  void Exec(const std::string& sql) {
    ASSERT_TRUE(Db().Write([&](db::Connection& c) { return c.Script(sql); }).ok()) << sql;
  }

  /// A few calls that leave events: creations (domain events and route
  /// records) and a refused one.
  void MakeEvents() {
    auto client = server_.Client();
    for (int i = 0; i < 5; ++i) {
      const auto r = client->Send("POST", "/api/v1/organisations",
                                  json{{"code", "AUD" + std::to_string(i)}, {"name_en", "Audited"}, {"kind", "agency"}}.dump(),
                                  Operator());
      ASSERT_EQ(r.status, 201);
    }
    client->Send("PATCH", "/api/v1/organisations/DCRC", json{{"name_en", "x"}}.dump());  // refused: no credentials
  }

  std::string Verify() {
    auto report = audit::Verify(Db());
    if (!report.ok()) return "error: " + report.error().message;
    return report->broken_at ? report->kind + "@" + std::to_string(*report->broken_at) : "intact";
  }

  TestServer server_;
};

TEST_F(AuditTest, RouteCallsAndRefusalsAreRecorded) {
  MakeEvents();
  EXPECT_EQ(Count("action = 'organisations.create' AND object_type = 'route' AND outcome = 'allowed'"), 5);
  EXPECT_EQ(Count("action = 'organisations.create' AND object_type = 'organisation' AND actor = 'platform-operator'"), 5);
  EXPECT_EQ(Count("action = 'organisations.update' AND outcome = 'denied' AND actor = 'anonymous'"), 1);
  // A refused call of a route that records nothing otherwise is recorded too.
  server_.Client()->Get("/api/v1/accounts");
  EXPECT_EQ(Count("action = 'identity.accounts_list' AND outcome = 'denied'"), 1);
  server_.Client()->Get("/account");
  EXPECT_EQ(Count("action = 'access.denied' AND object_id = 'GET /account' AND outcome = 'denied'"), 1);
  EXPECT_EQ(Verify(), "intact");
}

TEST_F(AuditTest, AChangeAndItsEventCommitTogetherOrNotAtAll) {
  const auto before = Count("1 = 1");
  Status failed = Db().Write([&](db::Connection& c) -> Status {
    const db::Value row[] = {std::string("GONE"), std::string("Never kept"), std::string("agency"),
                             std::string("2026-01-01T00:00:00.000000Z")};
    DZONG_TRY(c.Execute("INSERT INTO organisations (code, name_en, kind, status, version, created_at, updated_at) "
                        "VALUES (?, ?, ?, 'active', 1, ?, ?)",
                        std::vector<db::Value>{row[0], row[1], row[2], row[3], row[3]}));
    SystemClock clock;
    DZONG_TRY(audit::Append(c, audit::For(audit::Actor{}, "organisations.create", "organisation", "GONE"), clock));
    return Error("test.forced", "a failure after the domain write");
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(Count("1 = 1"), before);
  EXPECT_EQ(server_.Client()->Get("/api/v1/organisations/GONE").status, 404);
  EXPECT_EQ(Verify(), "intact");
}

TEST_F(AuditTest, EditingAnEventIsFound) {
  MakeEvents();
  Exec("UPDATE audit_events SET actor = 'someone-else' WHERE seq = 3");
  EXPECT_EQ(Verify(), "edited@3");
}

TEST_F(AuditTest, DeletingAnEventIsFound) {
  MakeEvents();
  Exec("DELETE FROM audit_events WHERE seq = 4");
  EXPECT_EQ(Verify(), "deleted@5");
  // The last event too: the head remembers how long the chain was.
  const auto last = Count("1 = 1") + 1;
  Exec("DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)");
  const auto report = audit::Verify(Db());
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->broken_at.has_value());
  (void)last;
}

TEST_F(AuditTest, InsertingAnEventIsFound) {
  MakeEvents();
  // A forged event appended behind the log's back, even with a valid link.
  auto head = Db().ReadValue<db::Rows>([](db::Connection& c) { return c.Query("SELECT seq, hash FROM audit_head"); });
  audit::StoredEvent forged;
  forged.seq = (*head)[0].Int(0) + 1;
  forged.at = "2026-11-29T00:00:00.000000Z";
  forged.event = audit::For(audit::Actor{}, "organisations.create", "organisation", "FAKE");
  forged.prev_hash = (*head)[0].Text(1);
  forged.hash = audit::EventHash(forged);
  ASSERT_TRUE(Db().Write([&](db::Connection& c) -> Status {
    const db::Value row[] = {forged.seq, forged.at, forged.event.actor, forged.event.action, forged.event.object_type,
                             forged.event.object_id, forged.event.purpose, forged.event.request_id,
                             forged.event.remote, forged.event.detail, forged.prev_hash, forged.hash};
    DZONG_TRY(c.Execute("INSERT INTO audit_events (seq, at, actor, action, object_type, object_id, purpose, outcome, "
                        "request_id, remote, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, 'allowed', ?, ?, "
                        "?, ?, ?)",
                        row));
    return {};
  }).ok());
  EXPECT_EQ(Verify(), "inserted@" + std::to_string(forged.seq));
}

TEST_F(AuditTest, ReorderingEventsIsFound) {
  MakeEvents();
  // Swap events 2 and 3, renumbered and rehashed by someone who knows the
  // encoding but cannot relink the chain without rewriting everything after.
  auto rows = Db().ReadValue<db::Rows>([](db::Connection& c) {
    return c.Query(std::string("SELECT ") + audit::kEventColumns + " FROM audit_events WHERE seq IN (2, 3) ORDER BY seq");
  });
  ASSERT_EQ(rows->size(), 2U);
  const auto swapped = [&](const db::Row& r, std::int64_t seq) {
    audit::StoredEvent e = audit::EventFromRow(r);
    e.seq = seq;
    e.hash = audit::EventHash(e);
    return e;
  };
  const auto a = swapped((*rows)[1], 2);
  const auto b = swapped((*rows)[0], 3);
  ASSERT_TRUE(Db().Write([&](db::Connection& c) -> Status {
    for (const auto& e : {a, b}) {
      const db::Value v[] = {e.at, e.event.actor, e.event.action, e.event.object_id, e.event.request_id,
                             e.event.detail, e.prev_hash, e.hash, e.seq};
      DZONG_TRY(c.Execute("UPDATE audit_events SET at = ?, actor = ?, action = ?, object_id = ?, request_id = ?, "
                          "detail = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                          v));
    }
    return {};
  }).ok());
  EXPECT_EQ(Verify(), "reordered@2");
}

}  // namespace
}  // namespace dzong::testing
