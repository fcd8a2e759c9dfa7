// Correction requests on the engine under test: a person asks the custodian
// to correct a field of their record; invalid requests store nothing; the
// custodian's stewards decline or do them, and nobody else sees them.
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "main/app.h"
#include "modules/identity/identity.h"
#include "modules/registries/registries.h"
#include "support/test_server.h"

namespace dzong::testing {
namespace {

using nlohmann::json;

constexpr char kSonam[] = "11410012345";

class CorrectionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    audit::Actor seeder;
    seeder.id = "seed";
    ASSERT_TRUE(server_.app().Registries().SeedPopulation(30, 11, true, seeder).ok());
    auto other = server_.app().Database().ReadValue<db::Rows>([](db::Connection& c) {
      return c.Query("SELECT record_key FROM registry_records WHERE registry = 'population' AND record_key <> '" +
                     std::string(kSonam) + "' AND valid_to IS NULL ORDER BY record_key LIMIT 1");
    });
    ASSERT_TRUE(other.ok() && !other->empty());
    neighbour_ = other->at(0).Text(0);
  }

  registries::CorrectionService& Corrections() { return server_.app().Corrections(); }

  static audit::Actor Citizen(const std::string& cid) {
    audit::Actor a;
    a.id = cid;
    a.role = "citizen";
    return a;
  }

  static audit::Actor Steward(const std::string& organisation) {
    audit::Actor a;
    a.id = "steward." + organisation;
    a.organisation = organisation;
    a.role = "registry_steward";
    return a;
  }

  std::int64_t Count(const std::string& sql) {
    return server_.app()
        .Database()
        .ReadValue<std::int64_t>([&](db::Connection& c) -> Result<std::int64_t> {
          DZONG_ASSIGN_OR_RETURN(auto rows, c.Query(sql));
          return rows.at(0).Int(0);
        })
        .value();
  }

  registries::Correction Ask(const std::string& cid, const std::string& field = "date_of_birth") {
    auto asked = Corrections().Ask(
        cid, {"population", field, "My date of birth is 17 April, not as written here.", "1990-04-17", ""}, Citizen(cid));
    EXPECT_TRUE(asked.ok()) << asked.error().message;
    return *asked;
  }

  TestServer server_;
  std::string neighbour_;
};

TEST_F(CorrectionsTest, APersonAsksAndTheCustodianSeesItOpen) {
  const registries::Correction k = Ask(kSonam);
  EXPECT_GT(k.id, 0);
  EXPECT_EQ(k.status, "open");
  EXPECT_EQ(k.custodian, "DCRC");
  EXPECT_EQ(k.record_key, kSonam);
  auto mine = Corrections().ForSubject(kSonam);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1U);
  EXPECT_EQ(mine->at(0).proposed_value, "1990-04-17");
  auto open = Corrections().OpenFor("DCRC");
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 1U);
  EXPECT_EQ(open->at(0).id, k.id);
  // Asking is in the audit log, with the person as its subject.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'registries.correction_asked' AND subject = '" +
                  std::string(kSonam) + "'"),
            1);
}

TEST_F(CorrectionsTest, InvalidRequestsAreRefusedByFieldAndRuleAndStoreNothing) {
  const auto refused = [&](const registries::CorrectionRequest& request) {
    auto asked = Corrections().Ask(kSonam, request, Citizen(kSonam));
    EXPECT_FALSE(asked.ok());
    std::set<std::string> faults;
    if (!asked.ok()) {
      EXPECT_EQ(asked.error().code, errc::kValidation);
      for (const auto& f : asked.error().fields) faults.insert(f.field + ":" + f.rule);
    }
    return faults;
  };
  EXPECT_EQ(refused({"population", "eye_colour", "short", "", ""}),
            (std::set<std::string>{"field:one_of", "description:length"}));
  EXPECT_EQ(refused({"population", "", std::string(1001, 'x'), std::string(1001, 'y'), ""}),
            (std::set<std::string>{"field:required", "description:length", "proposed_value:length"}));
  // Characters are counted as people count them: nine Dzongkha letters
  // (27 bytes) are too few, ten are enough.
  EXPECT_EQ(refused({"population", "village", "ཀཁགངཅཆཇཉཏ", "", ""}), (std::set<std::string>{"description:length"}));
  auto dz = Corrections().Ask(kSonam, {"population", "village", "ཀཁགངཅཆཇཉཏཐ", "", ""}, Citizen(kSonam));
  EXPECT_TRUE(dz.ok());
  // A register that holds no record of the person, or does not exist.
  EXPECT_EQ(Corrections()
                .Ask("19999999999", {"population", "village", "The village is wrong here.", "", ""}, Citizen("19999999999"))
                .error()
                .code,
            registries::errc::kRecordNotFound);
  EXPECT_EQ(
      Corrections().Ask(kSonam, {"nothing", "village", "The village is wrong here.", "", ""}, Citizen(kSonam)).error().code,
      registries::errc::kNotFound);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM registry_corrections"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'registries.correction_asked'"), 1);
}

TEST_F(CorrectionsTest, AStewardDeclinesWithAReasonOnce) {
  const registries::Correction k = Ask(kSonam);
  auto no_reason = Corrections().Answer(k.id, "declined", "", Steward("DCRC"));
  ASSERT_FALSE(no_reason.ok());
  EXPECT_EQ(no_reason.error().fields.at(0).field, "answer");
  EXPECT_EQ(no_reason.error().fields.at(0).rule, "required");
  EXPECT_EQ(Corrections().Answer(k.id, "maybe", "x", Steward("DCRC")).error().fields.at(0).rule, "one_of");
  EXPECT_EQ(Corrections().ForSubject(kSonam)->at(0).status, "open");

  auto declined =
      Corrections().Answer(k.id, "declined", "The birth certificate shows the date we hold.", Steward("DCRC"));
  ASSERT_TRUE(declined.ok()) << declined.error().message;
  EXPECT_EQ(declined->status, "declined");
  const auto seen = Corrections().ForSubject(kSonam)->at(0);
  EXPECT_EQ(seen.status, "declined");
  EXPECT_EQ(seen.answer, "The birth certificate shows the date we hold.");
  EXPECT_EQ(seen.answered_by, "steward.DCRC");
  EXPECT_TRUE(Corrections().OpenFor("DCRC")->empty());
  // Answered once: a second answer changes nothing.
  EXPECT_EQ(Corrections().Answer(k.id, "done", "", Steward("DCRC")).error().code, registries::errc::kCorrectionClosed);
  EXPECT_EQ(Corrections().ForSubject(kSonam)->at(0).status, "declined");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'registries.correction_declined' AND subject = '" +
                  std::string(kSonam) + "'"),
            1);
}

TEST_F(CorrectionsTest, AStewardChangesTheRecordAndMarksTheRequestDone) {
  const registries::Correction k = Ask(kSonam);
  auto& registries = server_.app().Registries();
  auto record = registries.GetRecord("population", kSonam, std::nullopt);
  ASSERT_TRUE(record.ok());
  json data = json::parse(record->data);
  data["date_of_birth"] = "1990-04-17";
  auto changed = registries.Put("population", kSonam, data, "Correction request " + std::to_string(k.id),
                                record->version, Steward("DCRC"));
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  auto done = Corrections().Answer(k.id, "done", "", Steward("DCRC"));
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->status, "done");
  EXPECT_EQ(done->record_version, changed->version);
  EXPECT_EQ(Corrections().ForSubject(kSonam)->at(0).record_version, changed->version);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'registries.correction_done' AND subject = '" +
                  std::string(kSonam) + "'"),
            1);
}

TEST_F(CorrectionsTest, OnlyTheCustodiansStewardsSeeOrDecide) {
  const registries::Correction k = Ask(kSonam);
  EXPECT_TRUE(Corrections().OpenFor("NLCS")->empty());
  EXPECT_EQ(Corrections().GetForCustodian(k.id, "NLCS").error().code, registries::errc::kCorrectionNotFound);
  EXPECT_EQ(Corrections().Answer(k.id, "declined", "Not ours to keep.", Steward("NLCS")).error().code,
            registries::errc::kCorrectionNotFound);
  audit::Actor nobody = Citizen(kSonam);
  EXPECT_EQ(Corrections().Answer(k.id, "done", "", nobody).error().code, registries::errc::kCorrectionNotFound);
  EXPECT_EQ(Corrections().ForSubject(kSonam)->at(0).status, "open");
  EXPECT_TRUE(Corrections().GetForCustodian(k.id, "DCRC").ok());

  // Through the pages too: another agency's steward gets 404, DCRC's the request.
  auto client = server_.Client();
  const auto token = [&](const std::string& username, const std::string& organisation) {
    auto created = client->Send("POST", "/api/v1/accounts",
                                json{{"kind", "official"},
                                     {"username", username},
                                     {"display_name", "Steward"},
                                     {"organisation", organisation},
                                     {"password", "Registry-Steward-2026"}}
                                    .dump(),
                                Operator());
    const std::int64_t id = json::parse(created.body)["id"];
    client->Send("POST", "/api/v1/accounts/" + std::to_string(id) + "/grants",
                 json{{"role", "registry_steward"}}.dump(), Operator());
    return server_.app().Identity().CreateToken(id, "t", "registries.steward", std::chrono::hours(1)).value();
  };
  const std::string path = "/steward/corrections/" + std::to_string(k.id);
  EXPECT_EQ(client->Get(path, {{"Authorization", "Bearer " + token("sonam.nlcs", "NLCS")}}).status, 404);
  const auto own = client->Get(path, {{"Authorization", "Bearer " + token("deki.dcrc", "DCRC")}});
  EXPECT_EQ(own.status, 200);
  EXPECT_NE(own.body.find("My date of birth is 17 April"), std::string::npos);
}

TEST_F(CorrectionsTest, APersonSeesOnlyTheirOwnRequests) {
  const registries::Correction sonam = Ask(kSonam);
  const registries::Correction neighbour = Ask(neighbour_, "village");
  auto mine = Corrections().ForSubject(kSonam);
  ASSERT_EQ(mine->size(), 1U);
  EXPECT_EQ(mine->at(0).id, sonam.id);
  auto theirs = Corrections().ForSubject(neighbour_);
  ASSERT_EQ(theirs->size(), 1U);
  EXPECT_EQ(theirs->at(0).id, neighbour.id);
  EXPECT_EQ(Corrections().OpenFor("DCRC")->size(), 2U);
}

TEST_F(CorrectionsTest, AnOwnerAsksTheLandCommissionToCorrectTheirPlot) {
  // Sonam's plot names her as owner: she may ask; her neighbour may not.
  auto asked = Corrections().Ask(
      kSonam, {"land", "area_acres", "The plot was measured again in 2025: it is 0.47 acres.", "0.47", "CHA-000001"},
      Citizen(kSonam));
  ASSERT_TRUE(asked.ok()) << asked.error().message;
  EXPECT_EQ(asked->custodian, "NLCS");
  EXPECT_EQ(asked->record_key, "CHA-000001");
  auto open = Corrections().OpenFor("NLCS");
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->size(), 1U);
  auto not_theirs = Corrections().Ask(
      neighbour_, {"land", "area_acres", "The plot was measured again in 2025: it is 0.47 acres.", "", "CHA-000001"},
      Citizen(neighbour_));
  ASSERT_FALSE(not_theirs.ok());
  EXPECT_EQ(not_theirs.error().code, "registries.record_not_found");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM registry_corrections WHERE subject <> '11410012345'"), 0);
}

}  // namespace
}  // namespace dzong::testing
