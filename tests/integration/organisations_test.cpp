// The organisations API end to end, on whichever engine the suite runs on.
#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include <nlohmann/json.hpp>

#include "support/test_server.h"

namespace dzong::testing {
namespace {

using nlohmann::json;

json Body(const HttpResponse& r) { return json::parse(r.body, nullptr, false); }

int CountAll(HttpClient& client) {
  int total = 0;
  std::string cursor;
  for (int guard = 0; guard < 100; ++guard) {
    auto r = client.Get("/api/v1/organisations?limit=200" + (cursor.empty() ? "" : "&cursor=" + cursor));
    const json page = Body(r);
    total += static_cast<int>(page["items"].size());
    if (page["next_cursor"].is_null()) break;
    cursor = page["next_cursor"];
  }
  return total;
}

/// The field errors of a response, as "field:rule".
std::set<std::string> FieldRules(const HttpResponse& r) {
  std::set<std::string> out;
  const json body = Body(r);
  for (const auto& f : body["fields"]) out.insert(f["field"].get<std::string>() + ":" + f["rule"].get<std::string>());
  return out;
}

HttpResponse Create(HttpClient& client, const json& body) {
  return client.Send("POST", "/api/v1/organisations", body.dump(), Operator());
}

class OrganisationsTest : public ::testing::Test {
 protected:
  TestServer server_;
  std::unique_ptr<HttpClient> client_ = server_.Client();
};

TEST_F(OrganisationsTest, SeedHoldsTheStructureThePolicyNames) {
  EXPECT_EQ(CountAll(*client_), 50);
  auto dzongkhags = Body(client_->Get("/api/v1/organisations?kind=dzongkhag_administration&limit=200"));
  EXPECT_EQ(dzongkhags["items"].size(), 20U);
  auto dcrc = client_->Get("/api/v1/organisations/DCRC");
  ASSERT_EQ(dcrc.status, 200);
  EXPECT_EQ(Body(dcrc)["parent"], "MOHA");
  EXPECT_EQ(Body(dcrc)["exchange_id"], "BT/GOV/DCRC");
  EXPECT_EQ(Body(client_->Get("/api/v1/organisations/BTCIRT"))["kind"], "cirt");
  EXPECT_EQ(Body(client_->Get("/api/v1/organisations/GNHC"))["status"], "dissolved");
  EXPECT_EQ(Body(client_->Get("/api/v1/organisations/DZ-THIMPHU"))["name_dz"], "ཐིམ་ཕུག་རྫོང་ཁག");
  for (const char* code : {"MOIC", "GOVTECH", "CABSEC", "RBP", "EGOV-COMMITTEE"}) {
    EXPECT_EQ(client_->Get(std::string("/api/v1/organisations/") + code).status, 200) << code;
  }
}

TEST_F(OrganisationsTest, SeedingAgainChangesNothing) {
  auto again = server_.app().Seed(/*demo=*/true);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, "organisations: 0 added, 50 already present; identity: 13 roles, 0 demo accounts added; "
                    "registries: 0 added; services: 0 added; public holidays: 0 added");
  EXPECT_EQ(CountAll(*client_), 50);
}

TEST_F(OrganisationsTest, PagesWalkEveryOrganisationOnce) {
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto r = client_->Get("/api/v1/organisations?limit=7" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200);
    const json page = Body(r);
    EXPECT_LE(page["items"].size(), 7U);
    for (const auto& o : page["items"]) EXPECT_TRUE(seen.insert(o["code"]).second) << o["code"];
    cursor = page["next_cursor"].is_null() ? "" : page["next_cursor"].get<std::string>();
    ++pages;
  } while (!cursor.empty());
  EXPECT_EQ(seen.size(), 50U);
  EXPECT_EQ(pages, 8);
  auto children = Body(client_->Get("/api/v1/organisations?parent=MOHA"));
  EXPECT_EQ(children["items"].size(), 5U);  // DCRC, DCDD, DLGDM, DOI, RBP
}

TEST_F(OrganisationsTest, BadListParametersNameTheField) {
  auto r = client_->Get("/api/v1/organisations?limit=0&kind=castle");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(FieldRules(r), (std::set<std::string>{"limit:range", "kind:one_of"}));
}

TEST_F(OrganisationsTest, CreateThenReadBack) {
  const json input = {{"code", "DITT"},
                      {"name_en", "Department of Information Technology and Telecom"},
                      {"name_dz", "བརྡ་དོན་ཚན་རིག"},
                      {"kind", "department"},
                      {"parent", "MOIC"}};
  auto created = Create(*client_, input);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Header("location"), "/api/v1/organisations/DITT");
  EXPECT_EQ(created.Header("etag"), "\"1\"");
  auto read = client_->Get("/api/v1/organisations/DITT");
  ASSERT_EQ(read.status, 200);
  const json o = Body(read);
  EXPECT_EQ(o["name_dz"], "བརྡ་དོན་ཚན་རིག");
  EXPECT_EQ(o["parent"], "MOIC");
  EXPECT_EQ(o["status"], "active");
  EXPECT_EQ(o["version"], 1);
  EXPECT_EQ(o["exchange_id"], "BT/GOV/DITT");
  auto history = Body(client_->Get("/api/v1/organisations/DITT/history"));
  ASSERT_EQ(history["items"].size(), 1U);
  EXPECT_EQ(history["items"][0]["changed_by"], "platform-operator");
  EXPECT_EQ(history["items"][0]["change"]["code"], "DITT");
}

TEST_F(OrganisationsTest, WritingNeedsTheOperatorsToken) {
  const json input = {{"code", "NEW1"}, {"name_en", "New Agency"}, {"kind", "agency"}};
  auto anonymous = client_->Send("POST", "/api/v1/organisations", input.dump());
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(Body(anonymous)["code"], "auth.unauthenticated");
  auto wrong = client_->Send("POST", "/api/v1/organisations", input.dump(),
                             {{"Authorization", "Bearer not-the-token-not-the-token-not-the-token"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(client_->Get("/api/v1/organisations/NEW1").status, 404);
}

TEST_F(OrganisationsTest, MalformedJsonIs400AndWritesNothing) {
  auto r = client_->Send("POST", "/api/v1/organisations", R"({"code": "BAD1", "name_en": )", Operator());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["code"], "request.malformed_json");
  auto array = client_->Send("POST", "/api/v1/organisations", "[1,2]", Operator());
  EXPECT_EQ(array.status, 400);
  EXPECT_EQ(CountAll(*client_), 50);
}

TEST_F(OrganisationsTest, NonJsonContentTypeIs415) {
  auto r = client_->Send("POST", "/api/v1/organisations", "code=X", {Operator()[0], {"Content-Type", "text/plain"}});
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(Body(r)["code"], "request.unsupported_media_type");
}

TEST_F(OrganisationsTest, WrongTypesUnknownAndMissingFieldsAreAllReported) {
  auto r = Create(*client_, {{"code", 42}, {"name_dz", true}, {"colour", "red"}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Body(r)["code"], "request.invalid");
  EXPECT_EQ(FieldRules(r), (std::set<std::string>{"code:type", "name_dz:type", "colour:unknown_field",
                                                  "name_en:required", "kind:required"}));
  EXPECT_EQ(CountAll(*client_), 50);
}

TEST_F(OrganisationsTest, DomainRulesNameTheFieldAndTheRule) {
  auto r = Create(*client_, {{"code", "bad code"}, {"name_en", "Something"}, {"name_dz", "Latin letters"},
                             {"kind", "castle"}, {"status", "sleeping"}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(FieldRules(r), (std::set<std::string>{"code:pattern", "name_dz:script", "kind:one_of",
                                                  "status:one_of"}));
  auto long_name = Create(*client_, {{"code", "LONG"}, {"name_en", std::string(201, 'x')}, {"kind", "agency"}});
  EXPECT_EQ(FieldRules(long_name), (std::set<std::string>{"name_en:max_length"}));
  EXPECT_EQ(CountAll(*client_), 50);
}

TEST_F(OrganisationsTest, DuplicateCodeIs409) {
  auto r = Create(*client_, {{"code", "DCRC"}, {"name_en", "Another"}, {"kind", "agency"}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(Body(r)["code"], "organisations.already_exists");
  EXPECT_EQ(Body(client_->Get("/api/v1/organisations/DCRC"))["name_en"], "Department of Civil Registration and Census");
}

TEST_F(OrganisationsTest, UnknownParentIs422) {
  auto r = Create(*client_, {{"code", "ORPHAN"}, {"name_en", "Orphan"}, {"kind", "agency"}, {"parent", "NOBODY"}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Body(r)["code"], "organisations.parent_not_found");
  EXPECT_EQ(FieldRules(r), (std::set<std::string>{"parent:not_found"}));
  EXPECT_EQ(client_->Get("/api/v1/organisations/ORPHAN").status, 404);
}

TEST_F(OrganisationsTest, UpdateWritesANewVersionAndItsHistory) {
  auto r = client_->Send("PATCH", "/api/v1/organisations/DCRC",
                         json{{"name_dz", "མི་རློབས་ཐོ་བཀོད་ལས་ཁུངས"}}.dump(), Operator());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["version"], 2);
  EXPECT_EQ(r.Header("etag"), "\"2\"");
  auto history = Body(client_->Get("/api/v1/organisations/DCRC/history"));
  ASSERT_EQ(history["items"].size(), 2U);
  EXPECT_EQ(history["items"][0]["version"], 2);
  EXPECT_EQ(history["items"][0]["change"], (json{{"name_dz", "མི་རློབས་ཐོ་བཀོད་ལས་ཁུངས"}}));
  // The same change again is no change: no new version.
  auto same = client_->Send("PATCH", "/api/v1/organisations/DCRC",
                            json{{"name_dz", "མི་རློབས་ཐོ་བཀོད་ལས་ཁུངས"}}.dump(), Operator());
  EXPECT_EQ(Body(same)["version"], 2);
}

TEST_F(OrganisationsTest, StaleIfMatchIs412AndChangesNothing) {
  auto r = client_->Send("PATCH", "/api/v1/organisations/RBP", json{{"name_en", "Police"}}.dump(),
                         {Operator()[0], {"If-Match", "\"7\""}});
  EXPECT_EQ(r.status, 412);
  EXPECT_EQ(Body(r)["code"], "request.version_conflict");
  EXPECT_EQ(Body(client_->Get("/api/v1/organisations/RBP"))["name_en"], "Royal Bhutan Police");
  auto ok = client_->Send("PATCH", "/api/v1/organisations/RBP", json{{"name_en", "Royal Bhutan Police (RBP)"}}.dump(),
                          {Operator()[0], {"If-Match", "\"1\""}});
  EXPECT_EQ(ok.status, 200);
}

TEST_F(OrganisationsTest, UpdateRefusesLoopsCodeChangesAndEmptyBodies) {
  auto loop = client_->Send("PATCH", "/api/v1/organisations/MOHA", json{{"parent", "DCRC"}}.dump(), Operator());
  EXPECT_EQ(loop.status, 422);
  EXPECT_EQ(Body(loop)["code"], "organisations.parent_cycle");
  auto code = client_->Send("PATCH", "/api/v1/organisations/MOHA", json{{"code", "MOHA2"}}.dump(), Operator());
  EXPECT_EQ(FieldRules(code), (std::set<std::string>{"code:immutable", "code:unknown_field"}));
  auto empty = client_->Send("PATCH", "/api/v1/organisations/MOHA", "{}", Operator());
  EXPECT_EQ(empty.status, 422);
  auto missing = client_->Send("PATCH", "/api/v1/organisations/NOPE", json{{"name_en", "x"}}.dump(), Operator());
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Body(missing)["code"], "organisations.not_found");
  EXPECT_EQ(Body(client_->Get("/api/v1/organisations/MOHA"))["version"], 1);
}

TEST_F(OrganisationsTest, ConcurrentWritesAreAllKeptAndShareCommits) {
  const auto read = [&](const std::string& metrics, const std::string& name) {
    const auto at = metrics.find("\n" + name + " ");
    return std::stoull(metrics.substr(at + name.size() + 2));
  };
  const std::string before = client_->Get("/metrics").body;
  constexpr int kThreads = 8;
  constexpr int kEach = 25;
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(server_.port());
      for (int i = 0; i < kEach; ++i) {
        auto r = Create(client, {{"code", "LOAD-" + std::to_string(t) + "-" + std::to_string(i)},
                                 {"name_en", "Load test agency"},
                                 {"kind", "agency"}});
        if (r.status == 201) ++created;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), kThreads * kEach);
  EXPECT_EQ(CountAll(*client_), 50 + kThreads * kEach);
  if (server_.database().postgres()) return;
  // On SQLite the group committer lets concurrent writers share a commit.
  const std::string after = client_->Get("/metrics").body;
  const auto writes = read(after, "dzong_db_writes_total") - read(before, "dzong_db_writes_total");
  const auto commits = read(after, "dzong_db_commits_total") - read(before, "dzong_db_commits_total");
  // Each create is one write: the change, its event and the record of the call together.
  EXPECT_EQ(writes, static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_LT(commits, writes);
}

TEST_F(OrganisationsTest, AcknowledgedWritesSurviveARestart) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(Create(*client_, {{"code", "KEEP" + std::to_string(i)}, {"name_en", "Kept"}, {"kind", "agency"}}).status,
              201);
  }
  server_.Stop();
  Config config = server_.config();
  auto reopened = App::Create(config, nullptr);
  ASSERT_TRUE(reopened.ok());
  auto port = (*reopened)->Listen();
  ASSERT_TRUE(port.ok());
  std::thread serving([&] { (*reopened)->Serve(false); });
  HttpClient client(*port);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(client.Get("/api/v1/organisations/KEEP" + std::to_string(i)).status, 200);
  }
  (*reopened)->Shutdown();
  serving.join();
}

}  // namespace
}  // namespace dzong::testing
