// The exchange on the engine under test: an agency asks, the custodian
// decides, and the agency's system reads the agreed fields with a signed
// request; every way of being refused is refused with its code, and every
// answered read is recorded with the person it concerns.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "main/app.h"
#include "modules/exchange/client.h"
#include "modules/exchange/exchange.h"
#include "modules/identity/identity.h"
#include "modules/keys/keys.h"
#include "modules/identity/message_signature.h"
#include "modules/registries/registries.h"
#include "support/test_server.h"

namespace dzong::testing {
namespace {

using nlohmann::json;

constexpr char kSystem[] = "BT/GOV/MOH/EPIS";
constexpr char kPerson[] = "11410012345";
constexpr char kRecordPath[] = "/exchange/v1/registries/population/records/11410012345";

class ExchangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    audit::Actor seeder;
    seeder.id = "seed";
    ASSERT_TRUE(server_.app().Registries().SeedPopulation(30, 3, true, seeder).ok());
    auto client = server_.Client();
    // The Ministry of Health: an administrator and a system on the exchange.
    auto admin = client->Send("POST", "/api/v1/accounts",
                              json{{"kind", "official"}, {"username", "moh.admin"}, {"display_name", "Dawa Zangmo"},
                                   {"organisation", "MOH"}, {"password", "Health-Admin-2026-x"}}.dump(),
                              Operator());
    ASSERT_EQ(admin.status, 201) << admin.body;
    const std::int64_t admin_id = json::parse(admin.body)["id"];
    ASSERT_EQ(client->Send("POST", fmt::format("/api/v1/accounts/{}/grants", admin_id),
                           json{{"role", "agency_administrator"}}.dump(), Operator()).status, 201);
    moh_ = server_.app().Identity().CreateToken(admin_id, "t", "agreements.manage", std::chrono::hours(1)).value();
    auto system = client->Send("POST", "/api/v1/accounts",
                               json{{"kind", "system"}, {"username", kSystem}, {"display_name", "Health information system"},
                                    {"organisation", "MOH"}, {"public_key", Base64Encode(keys_.public_key)}}.dump(),
                               Operator());
    ASSERT_EQ(system.status, 201) << system.body;
    ASSERT_EQ(client->Send("POST", fmt::format("/api/v1/accounts/{}/grants", json::parse(system.body)["id"].get<std::int64_t>()),
                           json{{"role", "exchange_client"}}.dump(), Operator()).status, 201);
    // The custodian's administrator: the demo DCRC agency administrator.
    const auto dcrc = server_.app().Identity().ListAccounts(std::string("DCRC"));
    for (const auto& a : *dcrc) {
      if (a.username == "karma.dorji") {
        dcrc_ = server_.app().Identity().CreateToken(a.id, "t", "agreements.manage", std::chrono::hours(1)).value();
      }
    }
  }

  static std::vector<std::pair<std::string, std::string>> Bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }

  json Ask(const std::string& purpose, const std::string& from, const std::string& to,
           const std::string& basis = "law", bool log_bodies = false) {
    json request{{"subsystem", kSystem}, {"registry", "population"},
                 {"fields", {"cid", "given_name", "date_of_birth"}}, {"purpose_code", purpose},
                 {"purpose_text", "Registering patients with their registered identity"},
                 {"legal_basis", basis}, {"legal_reference", "Medical and Health Council Act"},
                 {"valid_from", from}, {"valid_to", to}};
    if (log_bodies) request["log_bodies"] = true;
    auto r = server_.Client()->Send("POST", "/api/v1/agreements", request.dump(), Bearer(moh_));
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body);
  }

  int Decide(std::int64_t id, const std::string& decision, const std::string& token) {
    return server_.Client()->Send("POST", fmt::format("/api/v1/agreements/{}/decision", id),
                                  json{{"decision", decision}, {"note", "as agreed"}}.dump(), Bearer(token)).status;
  }

  /// A signed exchange request, as the system makes it: a fresh nonce unless one is given.
  std::vector<std::pair<std::string, std::string>> Signed(const std::string& path, const std::string& purpose,
                                                          std::string nonce = "") {
    if (nonce.empty()) nonce = RandomHex(16);
    const auto created =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    // A target with a query signs it too.
    const auto mark = path.find('?');
    const std::string query = mark == std::string::npos ? "" : fmt::format("\"@query\": {}\n", path.substr(mark));
    const std::string params =
        fmt::format("(\"@method\" \"@path\"{} \"x-purpose\");created={};keyid=\"{}\";alg=\"ed25519\";nonce=\"{}\"",
                    query.empty() ? "" : " \"@query\"", created, kSystem, nonce);
    const std::string base = fmt::format("\"@method\": GET\n\"@path\": {}\n{}\"x-purpose\": {}\n\"@signature-params\": {}",
                                         path.substr(0, mark), query, purpose, params);
    return {{"X-Purpose", purpose},
            {"X-Road-Issue", "MOH-2026-001234"},
            {"Signature-Input", "sig1=" + params},
            {"Signature", "sig1=:" + Base64Encode(Ed25519Sign(keys_.secret_key, base)) + ":"}};
  }

  std::string Code(const HttpResponse& r) { return json::parse(r.body).value("code", ""); }

  std::int64_t Count(const std::string& where) {
    return server_.app()
        .Database()
        .ReadValue<std::int64_t>([&](db::Connection& c) -> Result<std::int64_t> {
          DZONG_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT COUNT(*) FROM audit_events WHERE " + where));
          return rows.at(0).Int(0);
        })
        .value();
  }

  TestServer server_;
  KeyPair keys_ = Ed25519KeyPair();
  std::string moh_, dcrc_;
};

TEST_F(ExchangeTest, AnApprovedAgreementLetsTheSystemReadOnlyTheAgreedFields) {
  auto client = server_.Client();
  const json agreement = Ask("HEALTH-REG", "2026-01-01", "2030-01-01");
  EXPECT_EQ(agreement["status"], "requested");
  EXPECT_EQ(agreement["custodian"], "DCRC");
  // Not yet approved: no agreement.
  EXPECT_EQ(Code(client->Get(kRecordPath, Signed(kRecordPath, "HEALTH-REG"))), "exchange.no_agreement");
  // Only the custodian decides.
  EXPECT_EQ(Decide(agreement["id"], "approve", moh_), 403);
  EXPECT_EQ(Decide(agreement["id"], "approve", dcrc_), 200);
  EXPECT_EQ(Decide(agreement["id"], "approve", dcrc_), 409);

  const auto headers = Signed(kRecordPath, "HEALTH-REG");
  auto read = client->Get(kRecordPath, headers);
  ASSERT_EQ(read.status, 200) << read.body;
  const json body = json::parse(read.body);
  EXPECT_EQ(body["data"], (json{{"cid", kPerson}, {"given_name", "Sonam Choden"}, {"date_of_birth", "1994-03-12"}}));
  EXPECT_EQ(body["agreement"], agreement["id"]);

  // The answer is signed by the platform over its status, its digest and the request's signature.
  const std::string input = read.Header("signature-input");
  const std::string signature = read.Header("signature");
  ASSERT_TRUE(input.starts_with("sig1=(\"@status\" \"content-digest\" \"signature\";req)")) << input;
  EXPECT_EQ(read.Header("content-digest"), identity::ContentDigest(read.body));
  const std::string kid = input.substr(input.find("keyid=\"") + 7, input.find('"', input.find("keyid=\"") + 7) - input.find("keyid=\"") - 7);
  const auto jwks = KeysFromJwks(client->Get("/.well-known/dzong-keys.json").body);
  ASSERT_TRUE(jwks.ok());
  std::string public_key;
  for (const auto& k : *jwks) {
    if (k.kid == kid) public_key = k.key;
  }
  const std::string request_signature = headers.back().second;
  const std::string base = fmt::format("\"@status\": 200\n\"content-digest\": {}\n\"signature\";req: {}\n\"@signature-params\": {}",
                                       read.Header("content-digest"), request_signature, input.substr(5));
  EXPECT_TRUE(Ed25519Verify(public_key, base, *Base64Decode(signature.substr(6, signature.size() - 7))));

  // The read is in the audit log with the person, the purpose and the case.
  EXPECT_EQ(Count("action = 'exchange.read' AND outcome = 'allowed' AND subject = '11410012345' AND "
                  "actor = 'BT/GOV/MOH/EPIS' AND purpose = 'HEALTH-REG / MOH-2026-001234'"),
            1);

  // The same signed request again is a replay.
  auto again = client->Get(kRecordPath, headers);
  EXPECT_EQ(again.status, 401);
  EXPECT_EQ(Code(again), "exchange.replayed");
}

TEST_F(ExchangeTest, EveryRefusalHasItsCodeAndIsRecorded) {
  auto client = server_.Client();
  const json agreement = Ask("HEALTH-REG", "2026-01-01", "2030-01-01");
  ASSERT_EQ(Decide(agreement["id"], "approve", dcrc_), 200);
  const json old = Ask("OLD-STUDY", "2020-01-01", "2021-01-01");
  ASSERT_EQ(Decide(old["id"], "approve", dcrc_), 200);

  // Another purpose than the agreement's.
  EXPECT_EQ(Code(client->Get(kRecordPath, Signed(kRecordPath, "TAX-AUDIT"))), "exchange.wrong_purpose");
  // An agreement whose period is over.
  EXPECT_EQ(Code(client->Get(kRecordPath, Signed(kRecordPath, "OLD-STUDY"))), "exchange.agreement_expired");
  // A signature that does not match the request.
  auto forged = Signed(kRecordPath, "HEALTH-REG");
  forged[0].second = "HEALTH-REG-2";  // X-Purpose changed after signing
  EXPECT_EQ(client->Get(kRecordPath, forged).status, 401);
  // Not signed at all: the operator's bearer token does not open the exchange.
  auto bearer = client->Get(kRecordPath, {{"Authorization", std::string("Bearer ") + kOperatorToken}, {"X-Purpose", "HEALTH-REG"}});
  EXPECT_EQ(bearer.status, 403);
  EXPECT_EQ(Code(bearer), "exchange.not_signed");
  // Revoked by the custodian: refused from the next request on.
  ASSERT_EQ(client->Get(kRecordPath, Signed(kRecordPath, "HEALTH-REG")).status, 200);
  ASSERT_EQ(Decide(agreement["id"], "revoke", dcrc_), 200);
  EXPECT_EQ(Code(client->Get(kRecordPath, Signed(kRecordPath, "HEALTH-REG"))), "exchange.agreement_revoked");

  // Each refusal is in the audit log as denied.
  EXPECT_GE(Count("action = 'exchange.read' AND outcome = 'denied'"), 5);
  // Each decision too, in both organisations' view of the agreement.
  EXPECT_EQ(Count("action = 'exchange.agreement_revoked' AND actor_organisation = 'DCRC'"), 1);
  const auto mine = json::parse(client->Get("/api/v1/agreements", Bearer(moh_)).body)["items"];
  const auto theirs = json::parse(client->Get("/api/v1/agreements", Bearer(dcrc_)).body)["items"];
  EXPECT_EQ(mine.size(), 2U);
  // The custodian sees them among its others (the demo agreements of the seeded services).
  EXPECT_EQ(std::count_if(theirs.begin(), theirs.end(), [](const json& a) { return a["consumer"] == "MOH"; }), 2);
  EXPECT_EQ(mine[1]["status"], "revoked");
}

TEST_F(ExchangeTest, AnAgreementRequestNamesEveryFaultAndChangesNothing) {
  auto r = server_.Client()->Send("POST", "/api/v1/agreements",
                                  json{{"subsystem", "BT/GOV/DCRC/CENSUS"}, {"registry", "population"},
                                       {"fields", {"cid", "blood_group"}}, {"purpose_code", "bad purpose!"},
                                       {"purpose_text", "x"}, {"legal_basis", "convenience"},
                                       {"legal_reference", "none"}, {"valid_from", "2027-01-01"},
                                       {"valid_to", "2026-01-01"}}.dump(),
                                  Bearer(moh_));
  ASSERT_EQ(r.status, 422) << r.body;
  std::set<std::string> faults;
  const json body = json::parse(r.body);
  for (const auto& f : body["fields"]) faults.insert(f["field"].get<std::string>() + ":" + f["rule"].get<std::string>());
  EXPECT_EQ(faults, (std::set<std::string>{"fields:exists", "subsystem:pattern", "purpose_code:pattern",
                                           "legal_basis:one_of", "valid_to:after"}));
  EXPECT_EQ(json::parse(server_.Client()->Get("/api/v1/agreements", Bearer(moh_)).body)["items"].size(), 0U);
}

TEST_F(ExchangeTest, WhereTheAgreementRestsOnConsentOnlyAnActiveConsentOpensTheRecord) {
  auto client = server_.Client();
  const json agreement = Ask("INSURANCE", "2026-01-01", "2030-01-01", "consent");
  ASSERT_EQ(Decide(agreement["id"], "approve", dcrc_), 200);
  EXPECT_EQ(Code(client->Get(kRecordPath, Signed(kRecordPath, "INSURANCE"))), "exchange.no_consent");

  // Sonam gives consent, for the fields the agreement names.
  std::int64_t sonam = 0;
  const auto accounts = server_.app().Identity().ListAccounts(std::nullopt);
  for (const auto& a : *accounts) {
    if (a.username == kPerson) sonam = a.id;
  }
  const std::string token = server_.app().Identity().CreateToken(sonam, "t", "consent.self", std::chrono::hours(1)).value();
  auto bad = client->Send("POST", "/api/v1/me/consents",
                          json{{"consumer", "MOH"}, {"registry", "population"}, {"purpose_code", "INSURANCE"},
                               {"fields", {"cid", "blood_group"}}, {"valid_to", "2020-01-01"}}.dump(),
                          Bearer(token));
  EXPECT_EQ(bad.status, 422);
  auto given = client->Send("POST", "/api/v1/me/consents",
                            json{{"consumer", "MOH"}, {"registry", "population"}, {"purpose_code", "INSURANCE"},
                                 {"fields", {"cid", "given_name", "date_of_birth"}}, {"valid_to", "2029-12-31"}}.dump(),
                            Bearer(token));
  ASSERT_EQ(given.status, 201) << given.body;
  const json consent = json::parse(given.body);
  EXPECT_EQ(consent["status"], "active");
  // The artefact is signed by the platform with a published key.
  const auto keys = KeysFromJwks(client->Get("/.well-known/dzong-keys.json").body);
  Signature signature{consent["kid"], *Base64UrlDecode(consent["signature"].get<std::string>())};
  EXPECT_EQ(CheckSignature(*keys, signature, consent["artefact"].get<std::string>(), consent["given_at"].get<std::string>()),
            SignatureCheck::kValid);

  EXPECT_EQ(client->Get(kRecordPath, Signed(kRecordPath, "INSURANCE")).status, 200);
  // Revoked: the next request is refused.
  auto revoked = client->Send("POST", fmt::format("/api/v1/me/consents/{}/revoke", consent["id"].get<std::int64_t>()), "",
                              Bearer(token));
  ASSERT_EQ(revoked.status, 200);
  EXPECT_EQ(json::parse(revoked.body)["status"], "revoked");
  EXPECT_EQ(Code(client->Get(kRecordPath, Signed(kRecordPath, "INSURANCE"))), "exchange.no_consent");
  // Her list shows it, revoked; nobody else can revoke it.
  const json mine = json::parse(client->Get("/api/v1/me/consents", Bearer(token)).body);
  ASSERT_EQ(mine["items"].size(), 1U);
  EXPECT_EQ(mine["items"][0]["status"], "revoked");
}

TEST_F(ExchangeTest, TheMessageLogKeepsEveryAnsweredReadInAChain) {
  auto client = server_.Client();
  const json plain = Ask("HEALTH-REG", "2026-01-01", "2030-01-01");
  ASSERT_EQ(Decide(plain["id"], "approve", dcrc_), 200);
  const json full = Ask("CLAIMS", "2026-01-01", "2030-01-01", "law", true);
  EXPECT_EQ(full["log_bodies"], true);
  ASSERT_EQ(Decide(full["id"], "approve", dcrc_), 200);

  const auto first = Signed(kRecordPath, "HEALTH-REG");
  auto read = client->Get(kRecordPath, first);
  ASSERT_EQ(read.status, 200) << read.body;
  // A replay is refused and leaves no message.
  EXPECT_EQ(Code(client->Get(kRecordPath, first)), "exchange.replayed");
  auto claims = client->Get(kRecordPath, Signed(kRecordPath, "CLAIMS"));
  ASSERT_EQ(claims.status, 200) << claims.body;

  auto& db = server_.app().Database();
  auto messages = exchange::Messages(db, {});
  ASSERT_TRUE(messages.ok());
  ASSERT_EQ(messages->size(), 2U);
  const exchange::Message& newest = (*messages)[0];
  const exchange::Message& oldest = (*messages)[1];
  EXPECT_EQ(oldest.client, kSystem);
  EXPECT_EQ(oldest.consumer, "MOH");
  EXPECT_EQ(oldest.record_key, kPerson);
  EXPECT_EQ(oldest.purpose, "HEALTH-REG (MOH-2026-001234)");
  EXPECT_EQ(oldest.request_signature, first.back().second);
  EXPECT_EQ(oldest.response_digest, read.Header("content-digest"));
  EXPECT_EQ(oldest.response_signature, read.Header("signature"));
  EXPECT_FALSE(oldest.body) << "metadata only, unless the agreement asks for bodies";
  ASSERT_TRUE(newest.body);
  EXPECT_EQ(*newest.body, claims.body);
  EXPECT_EQ(newest.prev_hash, oldest.hash);

  auto report = exchange::VerifyMessageLog(db);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->messages, 2);
  EXPECT_FALSE(report->broken_at) << report->detail;

  // Changed after the fact: found, with its number.
  ASSERT_TRUE(db.Write([](db::Connection& c) -> Status {
                  DZONG_TRY(c.Execute("UPDATE exchange_messages SET purpose = 'OTHER' WHERE seq = 1"));
                  return {};
                }).ok());
  report = exchange::VerifyMessageLog(db);
  ASSERT_TRUE(report.ok());
  ASSERT_TRUE(report->broken_at);
  EXPECT_EQ(*report->broken_at, 1);
  // The last message removed: the head no longer matches.
  ASSERT_TRUE(db.Write([](db::Connection& c) -> Status {
                  DZONG_TRY(c.Execute("UPDATE exchange_messages SET purpose = 'HEALTH-REG (MOH-2026-001234)' WHERE seq = 1"));
                  DZONG_TRY(c.Execute("DELETE FROM exchange_messages WHERE seq = 2"));
                  return {};
                }).ok());
  report = exchange::VerifyMessageLog(db);
  ASSERT_TRUE(report.ok());
  ASSERT_TRUE(report->broken_at) << "a removed tail is found";
  EXPECT_EQ(*report->broken_at, 2);

  // After a restart, a nonce answered within a signature's lifetime is still refused.
  exchange::ExchangeService restarted(db, server_.app().Time(), server_.app().Registries(), server_.app().Keys());
  Status replay = db.Write([&](db::Connection& c) { return restarted.LogMessage(c, oldest); });
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code, "exchange.replayed");
  exchange::Message fresh = oldest;
  fresh.nonce = RandomHex(16);
  EXPECT_TRUE(db.Write([&](db::Connection& c) { return restarted.LogMessage(c, fresh); }).ok());
}

TEST_F(ExchangeTest, TheAgencyClientSignsReadsAndChecksTheSignedAnswer) {
  const json agreement = Ask("HEALTH-REG", "2026-01-01", "2030-01-01");
  ASSERT_EQ(Decide(agreement["id"], "approve", dcrc_), 200);
  auto key = exchange::ParseKeyFile(Base64Encode(keys_.secret_key) + "\n");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->PublicKey(), keys_.public_key);
  EXPECT_FALSE(exchange::ParseKeyFile("not a key").ok());

  exchange::ReadRequest request;
  request.server = fmt::format("http://127.0.0.1:{}", server_.port());
  request.client = kSystem;
  request.key = *key;
  request.purpose = "HEALTH-REG";
  request.issue = "MOH-2026-000777";
  request.registry = "population";
  request.record_key = kPerson;
  auto answer = exchange::Read(request);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  ASSERT_EQ(answer->status, 200) << answer->body;
  EXPECT_EQ(answer->signature, SignatureCheck::kValid);
  EXPECT_TRUE(answer->digest_matches);
  EXPECT_EQ(json::parse(answer->body)["data"]["given_name"], "Sonam Choden");
  EXPECT_EQ(Count("action = 'exchange.read' AND purpose = 'HEALTH-REG / MOH-2026-000777' AND subject = '11410012345'"), 1);

  // Against keys that are not the platform's, the answer does not check.
  request.platform_keys = std::vector<PublicKey>{};
  answer = exchange::Read(request);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->signature, SignatureCheck::kUnknownKey);

  // A purpose the agreement does not name: a coded refusal, no signature.
  request.platform_keys.reset();
  request.purpose = "TAX-AUDIT";
  answer = exchange::Read(request);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->status, 403);
  EXPECT_EQ(answer->error_code, "exchange.wrong_purpose");
  EXPECT_FALSE(answer->signature);

  // A key the system did not register.
  request.purpose = "HEALTH-REG";
  request.key = *exchange::ParseKeyFile(exchange::NewKeyFile());
  answer = exchange::Read(request);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->status, 401);
}

TEST_F(ExchangeTest, ASystemFindsAPersonsPlotsByAnAgreedField) {
  auto client = server_.Client();
  auto asked = client->Send("POST", "/api/v1/agreements",
                            json{{"subsystem", kSystem}, {"registry", "land"},
                                 {"fields", {"plot_id", "owner_cid", "area_acres"}}, {"purpose_code", "SUBSIDY"},
                                 {"purpose_text", "Checking land holdings for the farm subsidy"},
                                 {"legal_basis", "public_task"}, {"legal_reference", "Land Act 2007"},
                                 {"valid_from", "2026-01-01"}, {"valid_to", "2030-01-01"}}.dump(),
                            Bearer(moh_));
  ASSERT_EQ(asked.status, 201) << asked.body;
  // The custodian of land is the land commission: the DCRC administrator cannot approve it.
  EXPECT_EQ(Decide(json::parse(asked.body)["id"], "approve", dcrc_), 403);
  auto& db = server_.app().Database();
  ASSERT_TRUE(db.Write([](db::Connection& c) -> Status {
                  DZONG_TRY(c.Execute("UPDATE agreements SET status = 'approved', decided_by = 'nlcs' WHERE registry = 'land'"));
                  return {};
                }).ok());

  const std::string path = "/exchange/v1/registries/land/records?owner_cid=11410012345";
  // Unless the signature covers the query, it is refused.
  EXPECT_EQ(Code(client->Get(path, Signed("/exchange/v1/registries/land/records", "SUBSIDY"))), "exchange.not_signed");
  auto found = client->Get(path, Signed(path, "SUBSIDY"));
  ASSERT_EQ(found.status, 200) << found.body;
  const json body = json::parse(found.body);
  ASSERT_EQ(body["items"].size(), 1U);
  EXPECT_EQ(body["items"][0]["key"], "CHA-000001");
  EXPECT_EQ(body["items"][0]["data"], (json{{"plot_id", "CHA-000001"}, {"owner_cid", kPerson}, {"area_acres", 0.42}}));
  EXPECT_FALSE(found.Header("signature").empty());
  EXPECT_EQ(Count("action = 'exchange.read' AND subject = '11410012345' AND purpose LIKE 'SUBSIDY%'"), 1);

  // A field the agreement does not name, or one that names no person: refused, named.
  auto other = client->Get("/exchange/v1/registries/land/records?thram_number=T14900001",
                           Signed("/exchange/v1/registries/land/records?thram_number=T14900001", "SUBSIDY"));
  EXPECT_EQ(other.status, 422);
  EXPECT_EQ(json::parse(other.body)["fields"][0]["rule"], "agreed");
  auto area = client->Get("/exchange/v1/registries/land/records?area_acres=0.42",
                          Signed("/exchange/v1/registries/land/records?area_acres=0.42", "SUBSIDY"));
  EXPECT_EQ(area.status, 422);
  EXPECT_EQ(json::parse(area.body)["fields"][0]["rule"], "queryable");
}

TEST_F(ExchangeTest, UnderConsentAPlotIsReadOnlyWithItsOwnersConsent) {
  auto client = server_.Client();
  auto asked = client->Send("POST", "/api/v1/agreements",
                            json{{"subsystem", kSystem}, {"registry", "land"}, {"fields", {"plot_id", "area_acres"}},
                                 {"purpose_code", "LOAN"}, {"purpose_text", "Land as security for a loan"},
                                 {"legal_basis", "consent"}, {"legal_reference", "Owner's consent"},
                                 {"valid_from", "2026-01-01"}, {"valid_to", "2030-01-01"}}.dump(),
                            Bearer(moh_));
  ASSERT_EQ(asked.status, 201) << asked.body;
  ASSERT_TRUE(server_.app().Database().Write([](db::Connection& c) -> Status {
                  DZONG_TRY(c.Execute("UPDATE agreements SET status = 'approved' WHERE registry = 'land'"));
                  return {};
                }).ok());
  const std::string path = "/exchange/v1/registries/land/records/CHA-000001";
  EXPECT_EQ(Code(client->Get(path, Signed(path, "LOAN"))), "exchange.no_consent");

  std::int64_t sonam = 0;
  const auto accounts = server_.app().Identity().ListAccounts(std::nullopt);
  for (const auto& a : *accounts) {
    if (a.username == kPerson) sonam = a.id;
  }
  const std::string token = server_.app().Identity().CreateToken(sonam, "t", "consent.self", std::chrono::hours(1)).value();
  auto given = client->Send("POST", "/api/v1/me/consents",
                            json{{"consumer", "MOH"}, {"registry", "land"}, {"purpose_code", "LOAN"},
                                 {"fields", {"plot_id", "area_acres"}}, {"valid_to", "2029-12-31"}}.dump(),
                            Bearer(token));
  ASSERT_EQ(given.status, 201) << given.body;
  auto read = client->Get(path, Signed(path, "LOAN"));
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(json::parse(read.body)["data"], (json{{"plot_id", "CHA-000001"}, {"area_acres", 0.42}}));
}

}  // namespace
}  // namespace dzong::testing
