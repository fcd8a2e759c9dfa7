// The audit log on the engine under test: route calls and refusals are
// recorded, a change and its event commit together, and every kind of
// tampering with the stored chain is found.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "db/database.h"
#include "base/crypto.h"
#include "main/app.h"
#include "modules/audit/audit.h"
#include "modules/identity/identity.h"
#include "modules/keys/keys.h"
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
                                  json{{"code", "AUD" + std::to_string(made_++)}, {"name_en", "Audited"}, {"kind", "agency"}}.dump(),
                                  Operator());
      ASSERT_EQ(r.status, 201);
    }
    client->Send("PATCH", "/api/v1/organisations/DCRC", json{{"name_en", "x"}}.dump());  // refused: no credentials
  }

  std::vector<PublicKey> Keys() { return server_.app().Keys().Published().value(); }

  std::string Verify() {
    auto report = audit::Verify(Db(), Keys());
    if (!report.ok()) return "error: " + report.error().message;
    return report->broken_at ? report->kind + "@" + std::to_string(*report->broken_at) : "intact";
  }

  audit::Checkpoint Checkpoint(std::optional<std::int64_t> seq = std::nullopt) {
    return audit::SignCheckpoint(Db(), server_.app().Keys(), server_.app().Time(), seq, "requested").value();
  }

  std::int64_t Head() {
    return Db().ReadValue<std::int64_t>([](db::Connection& c) -> Result<std::int64_t> {
                 DZONG_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT seq FROM audit_head"));
                 return rows.at(0).Int(0);
               })
        .value();
  }

  /// Rewrites events from `from` to the head as someone with write access to
  /// the database and knowledge of the encoding would: every hash recomputed,
  /// the head moved, so that the chain alone looks intact.
  void Rewrite(std::int64_t from, const std::string& new_actor) {
    ASSERT_TRUE(Db().Write([&](db::Connection& c) -> Status {
      const db::Value after[] = {from - 1};
      DZONG_ASSIGN_OR_RETURN(auto prev, c.Query("SELECT hash FROM audit_events WHERE seq = ?", after));
      std::string prev_hash = prev.empty() ? std::string(64, '0') : prev[0].Text(0);
      DZONG_ASSIGN_OR_RETURN(auto rows, c.Query(std::string("SELECT ") + audit::kEventColumns +
                                                    " FROM audit_events WHERE seq >= ? ORDER BY seq",
                                                std::vector<db::Value>{from}));
      for (const auto& row : rows) {
        audit::StoredEvent e = audit::EventFromRow(row);
        if (e.seq == from) e.event.actor = new_actor;
        e.prev_hash = prev_hash;
        e.hash = audit::EventHash(e);
        prev_hash = e.hash;
        const db::Value v[] = {e.event.actor, e.prev_hash, e.hash, e.seq};
        DZONG_TRY(c.Execute("UPDATE audit_events SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?", v));
      }
      const db::Value head[] = {prev_hash};
      DZONG_TRY(c.Execute("UPDATE audit_head SET hash = ? WHERE id = 1", head));
      return {};
    }).ok());
  }

  std::string TempFile(const std::string& name) {
    return (std::filesystem::temp_directory_path() / (name + "-" + RandomHex(6) + ".ndjson")).string();
  }

  TestServer server_;
  int made_ = 0;
};

TEST_F(AuditTest, RouteCallsAndRefusalsAreRecorded) {
  MakeEvents();
  EXPECT_EQ(Count("action = 'organisations.create' AND object_type = 'route' AND outcome = 'allowed'"), 5);
  // The record of each call sits next to the change's own event: one transaction.
  EXPECT_EQ(Count("action = 'organisations.create' AND object_type = 'route' AND seq - 1 IN (SELECT seq FROM "
                  "audit_events WHERE object_type = 'organisation')"),
            5);
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
  EXPECT_EQ(Verify(), "deleted@4");
  // The last event too: the head remembers how long the chain was.
  const auto last = Count("1 = 1") + 1;
  Exec("DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)");
  const auto report = audit::Verify(Db(), server_.app().Keys().Published().value());
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

TEST_F(AuditTest, CheckpointsAreSignedAndChecked) {
  MakeEvents();
  const audit::Checkpoint cp = Checkpoint();
  EXPECT_EQ(cp.seq, Head());
  auto report = audit::Verify(Db(), Keys());
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->broken_at) << report->detail;
  EXPECT_EQ(report->checkpoints, 1);
  // A checkpoint whose signature was altered is a bad signature.
  Exec("UPDATE audit_checkpoints SET signature = '" + Base64UrlEncode(std::string(64, 'x')) + "'");
  EXPECT_EQ(Verify(), "bad signature@" + std::to_string(cp.seq));
}

TEST_F(AuditTest, AChainRewrittenWithFreshHashesIsCaughtByItsCheckpoint) {
  MakeEvents();
  const audit::Checkpoint cp = Checkpoint();
  Rewrite(3, "someone-else");
  // The chain alone is consistent again; only the signature shows the edit.
  EXPECT_EQ(Verify(), "edited@1");
  (void)cp;
}

TEST_F(AuditTest, ACheckpointPastTheEndShowsTheTailWasCut) {
  MakeEvents();
  const audit::Checkpoint cp = Checkpoint();
  Exec("DELETE FROM audit_events WHERE seq > " + std::to_string(cp.seq - 2));
  Exec("UPDATE audit_head SET seq = " + std::to_string(cp.seq - 2) + ", hash = (SELECT hash FROM audit_events WHERE seq = " +
       std::to_string(cp.seq - 2) + ")");
  EXPECT_EQ(Verify(), "deleted@" + std::to_string(cp.seq - 1));
}

TEST_F(AuditTest, KeyRotationKeepsOldCheckpointsValid) {
  MakeEvents();
  const audit::Checkpoint first = Checkpoint();
  audit::Actor op;
  op.id = "platform-operator";
  const PublicKey second_key = server_.app().Keys().Rotate(op).value();
  EXPECT_NE(second_key.kid, first.signature.kid);
  MakeEvents();
  const audit::Checkpoint second = Checkpoint();
  EXPECT_EQ(second.signature.kid, second_key.kid);
  // The first key is retired: it signs nothing more, what it signed holds.
  EXPECT_EQ(server_.app().Keys().Retire(second_key.kid, op).error().code, keys::errc::kActive);
  ASSERT_TRUE(server_.app().Keys().Retire(first.signature.kid, op).ok());
  auto report = audit::Verify(Db(), Keys());
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->broken_at) << report->detail;
  EXPECT_EQ(report->checkpoints, 2);

  // The published set carries both, as OKP/Ed25519 keys, and verifies on its own.
  const auto jwks = server_.Client()->Get("/.well-known/dzong-keys.json");
  ASSERT_EQ(jwks.status, 200);
  EXPECT_EQ(jwks.Header("content-type"), "application/jwk-set+json");
  const json set = json::parse(jwks.body);
  ASSERT_EQ(set["keys"].size(), 2U);
  for (const auto& k : set["keys"]) {
    EXPECT_EQ(k["kty"], "OKP");
    EXPECT_EQ(k["crv"], "Ed25519");
    EXPECT_EQ(Base64UrlDecode(k["x"].get<std::string>())->size(), 32U);
  }
  auto saved = KeysFromJwks(jwks.body);
  ASSERT_TRUE(saved.ok());
  report = audit::Verify(Db(), *saved);
  EXPECT_FALSE(report->broken_at) << report->detail;
  // Without the first key (a verifier that only knows the new one), its checkpoint fails.
  std::vector<PublicKey> only_new;
  for (const auto& k : *saved) {
    if (k.kid == second_key.kid) only_new.push_back(k);
  }
  report = audit::Verify(Db(), only_new);
  EXPECT_EQ(report->kind, "bad signature");
  EXPECT_EQ(report->broken_at, first.seq);
}

TEST_F(AuditTest, SigningKeysAreSealedAtRest) {
  MakeEvents();
  Checkpoint();
  auto sealed = Db().ReadValue<db::Rows>([](db::Connection& c) {
    return c.Query("SELECT kid, public_key, sealed_secret FROM signing_keys");
  });
  ASSERT_EQ(sealed->size(), 1U);
  const std::string kid = (*sealed)[0].Text(0);
  const auto blob = Base64Decode((*sealed)[0].Text(2));
  ASSERT_TRUE(blob);
  // The public half is the tail of an Ed25519 secret key; it must not appear in the clear.
  const auto pub = Base64UrlDecode((*sealed)[0].Text(1));
  EXPECT_EQ(blob->find(*pub), std::string::npos);
  EXPECT_FALSE(Unseal(RandomBytes(kSealKeyBytes), *blob, kid));
  EXPECT_TRUE(Unseal(server_.config().key_encryption_key, *blob, kid));
  // A server given the wrong key-encryption key cannot sign.
  keys::KeyRing wrong(Db(), server_.app().Time(), RandomBytes(kSealKeyBytes));
  EXPECT_EQ(wrong.Sign("x").error().code, keys::errc::kWrongKeyEncryptionKey);
}

TEST_F(AuditTest, AnExportVerifiesOnItsOwnAndShowsTampering) {
  MakeEvents();
  Checkpoint(4);
  const std::string file = TempFile("export");
  std::FILE* out = std::fopen(file.c_str(), "wb");
  auto written = audit::Export(Db(), server_.app().Keys(), server_.app().Time(), 2, Head(), out);
  std::fclose(out);
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_EQ(*written, Head() - 1);
  const auto verify = [&](const std::string& path) {
    std::FILE* in = std::fopen(path.c_str(), "rb");
    auto report = audit::VerifyExport(in, std::nullopt);
    std::fclose(in);
    if (!report.ok()) return "error: " + report.error().message;
    return report->broken_at ? report->kind + "@" + std::to_string(*report->broken_at)
                             : "intact:" + std::to_string(report->checkpoints);
  };
  EXPECT_EQ(verify(file), "intact:2");  // the checkpoint at 4, and the one signed for the export's end
  // Edit one event in the file.
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  std::string content = text.str();
  const auto at = content.find("\"actor\":\"platform-operator\"");
  ASSERT_NE(at, std::string::npos);
  std::string edited = content;
  edited.replace(at, 27, "\"actor\":\"platform-operatoR\"");
  const std::string tampered = TempFile("tampered");
  std::ofstream(tampered) << edited;
  EXPECT_EQ(verify(tampered).substr(0, 7), "edited@");
  // Cut the end off, checkpoint included.
  const auto last_line = content.rfind('\n', content.size() - 2);
  std::ofstream(tampered, std::ios::trunc) << content.substr(0, last_line + 1);
  EXPECT_EQ(verify(tampered).substr(0, 8), "deleted@");
  std::filesystem::remove(file);
  std::filesystem::remove(tampered);
}

TEST_F(AuditTest, ArchivingLeavesAChainThatStillVerifies) {
  MakeEvents();
  const std::int64_t archived_to = Head();
  const std::string dir = (std::filesystem::temp_directory_path() / ("archive-" + RandomHex(6))).string();
  audit::Actor op;
  op.id = "platform-operator";
  const std::string future = FormatUtc(std::chrono::system_clock::now() + std::chrono::seconds(1));
  auto archived = audit::Archive(Db(), server_.app().Keys(), server_.app().Time(), future, dir, op);
  ASSERT_TRUE(archived.ok()) << archived.error().message;
  EXPECT_EQ(archived->first_seq, 1);
  EXPECT_GE(archived->last_seq, archived_to);
  EXPECT_EQ(Count("seq <= " + std::to_string(archived->last_seq)), 0);
  EXPECT_EQ(Count("action = 'audit.archived'"), 1);
  MakeEvents();
  EXPECT_EQ(Verify(), "intact");
  // The archive file verifies by itself.
  std::FILE* in = std::fopen(archived->file.c_str(), "rb");
  auto report = audit::VerifyExport(in, Keys());
  std::fclose(in);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->broken_at) << report->detail;
  EXPECT_EQ(report->events, archived->events);
  // Removing the archive's record leaves a chain that starts from nowhere.
  Exec("DELETE FROM audit_archives");
  EXPECT_EQ(Verify(), "deleted@1");
  std::filesystem::remove_all(dir);
}

TEST_F(AuditTest, TheCheckpointerSignsEveryNEvents) {
  MakeEvents();  // 11 events or more
  audit::Checkpointer checkpointer(Db(), server_.app().Keys(), server_.app().Time(), 4, std::chrono::hours(1), {});
  auto made = checkpointer.RunOnce();
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(*made, Head() / 4);
  auto seqs = Db().ReadValue<db::Rows>([](db::Connection& c) { return c.Query("SELECT seq FROM audit_checkpoints ORDER BY seq"); });
  for (std::size_t i = 0; i < seqs->size(); ++i) EXPECT_EQ((*seqs)[i].Int(0), static_cast<std::int64_t>(4 * (i + 1)));
  // T seconds: with no time to wait, the rest of the chain is signed at once.
  audit::Checkpointer prompt(Db(), server_.app().Keys(), server_.app().Time(), 1000, std::chrono::milliseconds(0), {});
  ASSERT_TRUE(prompt.RunOnce().ok());
  EXPECT_EQ(audit::Verify(Db(), Keys())->unsigned_tail, 0);
}

// The citizen's data tracker: what others did with my data, and only mine.
TEST_F(AuditTest, TheDataTrackerShowsACitizenExactlyTheAccessesToTheirOwnData) {
  auto& id = server_.app().Identity();
  auto client = server_.Client();
  // A second citizen, and an administrator's token that reads both accounts.
  auto created = client->Send("POST", "/api/v1/accounts",
                              json{{"kind", "citizen"}, {"username", "10101000017"}, {"display_name", "Dechen Wangmo"},
                                   {"password", "Another-Citizen-2026"}}.dump(),
                              Operator());
  ASSERT_EQ(created.status, 201) << created.body;
  std::int64_t tashi = 0, dechen = 0, admin = 0, citizen_self = 0;
  const auto accounts = id.ListAccounts(std::nullopt);
  for (const auto& a : *accounts) {
    if (a.username == "11410012345") tashi = a.id;
    if (a.username == "10101000017") dechen = a.id;
    if (a.username == "tshering.yangzom") admin = a.id;
  }
  citizen_self = tashi;
  const std::string admin_token = id.CreateToken(admin, "test", "accounts.read accounts.all_organisations", std::chrono::hours(1)).value();
  const auto read = [&](std::int64_t account, const std::string& purpose) {
    return client->Get("/api/v1/accounts/" + std::to_string(account),
                       {{"Authorization", "Bearer " + admin_token}, {"X-Purpose", purpose}});
  };
  ASSERT_EQ(read(tashi, "DCRC-2026-000101").status, 200);
  ASSERT_EQ(read(dechen, "DCRC-2026-000102").status, 200);
  ASSERT_EQ(read(tashi, "complaint 77").status, 200);

  const std::string tashi_token = id.CreateToken(citizen_self, "tracker", "data_access.self", std::chrono::hours(1)).value();
  // The citizen's own look at their account is not an access by someone else.
  client->Get("/api/v1/accounts/" + std::to_string(tashi), {{"Authorization", "Bearer " + tashi_token}});
  const auto mine = client->Get("/api/v1/me/data-access", {{"Authorization", "Bearer " + tashi_token}});
  ASSERT_EQ(mine.status, 200) << mine.body;
  const json items = json::parse(mine.body)["items"];
  ASSERT_EQ(items.size(), 2U) << mine.body;
  EXPECT_EQ(items[0]["purpose"], "complaint 77");
  EXPECT_EQ(items[1]["purpose"], "DCRC-2026-000101");
  for (const auto& item : items) {
    EXPECT_EQ(item["organisation"]["code"], "GOVTECH");
    // The role, not the officer's name.
    EXPECT_EQ(item["accessed_by"], "Platform administrator");
    EXPECT_EQ(item["accessed_by"].get<std::string>().find("tshering"), std::string::npos);
    EXPECT_EQ(item["outcome"], "allowed");
  }
  // Filters: an organisation with no accesses, a date range, bad input.
  const auto filtered = client->Get("/api/v1/me/data-access?organisation=DCRC", {{"Authorization", "Bearer " + tashi_token}});
  EXPECT_EQ(json::parse(filtered.body)["items"].size(), 0U);
  const auto bad = client->Get("/api/v1/me/data-access?from=2026-02-30", {{"Authorization", "Bearer " + tashi_token}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(json::parse(bad.body)["fields"][0]["field"], "from");
  EXPECT_EQ(json::parse(bad.body)["fields"][0]["rule"], "date");
  // Paging: one at a time.
  const auto first = json::parse(client->Get("/api/v1/me/data-access?limit=1", {{"Authorization", "Bearer " + tashi_token}}).body);
  ASSERT_EQ(first["items"].size(), 1U);
  const auto second = json::parse(client->Get("/api/v1/me/data-access?limit=1&cursor=" + first["next_cursor"].get<std::string>(),
                                              {{"Authorization", "Bearer " + tashi_token}}).body);
  ASSERT_EQ(second["items"].size(), 1U);
  EXPECT_EQ(second["items"][0]["purpose"], "DCRC-2026-000101");
  // The CSV download holds the same rows.
  const auto csv = client->Get("/my/data-access.csv", {{"Authorization", "Bearer " + tashi_token}});
  ASSERT_EQ(csv.status, 200);
  EXPECT_NE(csv.body.find("complaint 77"), std::string::npos);
  EXPECT_EQ(csv.body.find("DCRC-2026-000102"), std::string::npos);
  // An official has no data tracker of their own.
  EXPECT_EQ(client->Get("/api/v1/me/data-access", {{"Authorization", "Bearer " + admin_token}}).status, 403);
}

TEST_F(AuditTest, AuditorsSearchTheLogAndTheirSearchesAreRecorded) {
  MakeEvents();
  auto& id = server_.app().Identity();
  auto client = server_.Client();
  // An auditor, made by the operator.
  auto created = client->Send("POST", "/api/v1/accounts",
                              json{{"kind", "official"}, {"username", "sonam.auditor"}, {"display_name", "Sonam Choden"},
                                   {"organisation", "ACC"}, {"password", "Royal-Audit-2026-x"}}.dump(),
                              Operator());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::int64_t auditor = json::parse(created.body)["id"].get<std::int64_t>();
  ASSERT_EQ(client->Send("POST", "/api/v1/accounts/" + std::to_string(auditor) + "/grants",
                         json{{"role", "auditor"}}.dump(), Operator()).status, 201);
  const std::string token = id.CreateToken(auditor, "audit", "audit.read", std::chrono::hours(1)).value();
  const auto search = client->Get("/api/v1/audit/events?action=organisations.&outcome=denied",
                                  {{"Authorization", "Bearer " + token}});
  ASSERT_EQ(search.status, 200) << search.body;
  const json items = json::parse(search.body)["items"];
  ASSERT_EQ(items.size(), 1U);
  EXPECT_EQ(items[0]["action"], "organisations.update");
  EXPECT_EQ(items[0]["actor"], "anonymous");
  const auto by_actor = json::parse(client->Get("/api/v1/audit/events?actor=platform-operator&limit=3",
                                                {{"Authorization", "Bearer " + token}}).body);
  EXPECT_EQ(by_actor["items"].size(), 3U);
  EXPECT_FALSE(by_actor["next_cursor"].is_null());
  EXPECT_EQ(client->Get("/api/v1/audit/events?outcome=maybe", {{"Authorization", "Bearer " + token}}).status, 422);
  // The search itself is an event, with what was asked.
  EXPECT_GE(Count("action = 'audit.search' AND actor = 'sonam.auditor' AND detail LIKE '%outcome=denied%'"), 1);
  // Searching for a citizen's records is an access to their data.
  client->Get("/api/v1/audit/events?subject=11410012345", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(Count("action = 'audit.search' AND subject = '11410012345' AND actor_organisation = 'ACC'"), 1);
  // Others may not search.
  EXPECT_EQ(client->Get("/api/v1/audit/events").status, 401);
}

}  // namespace
}  // namespace dzong::testing
