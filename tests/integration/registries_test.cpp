// Registries on the engine under test: the shipped definitions, the
// synthetic population (deterministic, consistent families), and the
// custodian's stewards keeping records as versions with their history.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <set>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "main/app.h"
#include "modules/identity/identity.h"
#include "modules/registries/registries.h"
#include "support/test_server.h"

namespace dzong::testing {
namespace {

using nlohmann::json;

const std::map<std::string, std::string> kDzongkhagCodes = {
    {"Bumthang", "01"}, {"Chhukha", "02"},       {"Dagana", "03"},           {"Gasa", "04"},
    {"Haa", "05"},      {"Lhuentse", "06"},      {"Mongar", "07"},           {"Paro", "08"},
    {"Pemagatshel", "09"}, {"Punakha", "10"},    {"Samdrup Jongkhar", "11"}, {"Samtse", "12"},
    {"Sarpang", "13"},  {"Thimphu", "14"},       {"Trashigang", "15"},       {"Trashiyangtse", "16"},
    {"Trongsa", "17"},  {"Tsirang", "18"},       {"Wangdue Phodrang", "19"}, {"Zhemgang", "20"}};

class RegistriesTest : public ::testing::Test {
 protected:
  registries::RegistryService& Registries() { return server_.app().Registries(); }

  std::map<std::string, json> People() {
    auto rows = server_.app().Database().ReadValue<db::Rows>([](db::Connection& c) {
      return c.Query("SELECT record_key, data FROM registry_records WHERE registry = 'population' AND valid_to IS NULL");
    });
    std::map<std::string, json> out;
    for (const auto& r : *rows) out[r.Text(0)] = json::parse(r.Text(1));
    return out;
  }

  /// A bearer token for a new official of `organisation` holding `role`.
  std::string Official(const std::string& username, const std::string& organisation, const std::string& role) {
    auto client = server_.Client();
    auto created = client->Send("POST", "/api/v1/accounts",
                                json{{"kind", "official"}, {"username", username}, {"display_name", "Steward"},
                                     {"organisation", organisation}, {"password", "Registry-Steward-2026"}}.dump(),
                                Operator());
    const std::int64_t id = json::parse(created.body)["id"];
    client->Send("POST", "/api/v1/accounts/" + std::to_string(id) + "/grants", json{{"role", role}}.dump(), Operator());
    return server_.app().Identity().CreateToken(id, "t", "registries.steward", std::chrono::hours(1)).value();
  }

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
};

TEST_F(RegistriesTest, TheShippedRegistriesArePublishedWithTheirCustodians) {
  const auto r = server_.Client()->Get("/api/v1/registries");
  ASSERT_EQ(r.status, 200);
  std::map<std::string, std::string> custodians;
  const json list = json::parse(r.body);
  for (const auto& reg : list["items"]) custodians[reg["code"]] = reg["custodian"];
  EXPECT_EQ(custodians, (std::map<std::string, std::string>{
                            {"business_licences", "MOICE"}, {"land", "NLCS"}, {"population", "DCRC"}}));
  const auto population = json::parse(server_.Client()->Get("/api/v1/registries/population").body);
  EXPECT_EQ(population["key_field"], "cid");
  EXPECT_EQ(population["fields"].size(), 13U);
  EXPECT_EQ(server_.Client()->Get("/api/v1/registries/nothing").status, 404);
}

TEST_F(RegistriesTest, ThePopulationIsDeterministicAndItsFamiliesHoldTogether) {
  audit::Actor seeder;
  seeder.id = "seed";
  auto made = Registries().SeedPopulation(600, 42, false, seeder);
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(made->people, 600);
  const auto people = People();
  ASSERT_EQ(people.size(), 600U);
  std::set<std::string> dzongkhags;
  int with_parents = 0;
  for (const auto& [cid, p] : people) {
    ASSERT_EQ(cid.size(), 11U);
    EXPECT_EQ(cid.substr(1, 2), kDzongkhagCodes.at(p["dzongkhag"])) << p.dump();
    dzongkhags.insert(p["dzongkhag"].get<std::string>());
    EXPECT_TRUE(registries::Validate(Registries().Get("population").value(), p).empty()) << p.dump();
    if (!p.contains("mother_cid")) continue;
    ++with_parents;
    const auto mother = people.find(p["mother_cid"]);
    const auto father = people.find(p["father_cid"]);
    ASSERT_NE(mother, people.end()) << p.dump();
    ASSERT_NE(father, people.end()) << p.dump();
    EXPECT_EQ(mother->second["sex"], "female");
    EXPECT_EQ(father->second["sex"], "male");
    const int mother_born = std::stoi(mother->second["date_of_birth"].get<std::string>().substr(0, 4));
    const int child_born = std::stoi(p["date_of_birth"].get<std::string>().substr(0, 4));
    EXPECT_GE(child_born - mother_born, 18) << p.dump();
    EXPECT_EQ(mother->second["household_number"], p["household_number"]);
  }
  EXPECT_GT(with_parents, 100);
  EXPECT_GE(dzongkhags.size(), 15U);
  // Seeding again with the same seed adds no one.
  auto again = Registries().SeedPopulation(600, 42, false, seeder);
  EXPECT_EQ(again->people, 0);
  EXPECT_EQ(again->already_present, 600);
}

TEST_F(RegistriesTest, LandAndLicencesBelongToPeopleOfThePopulation) {
  audit::Actor seeder;
  seeder.id = "seed";
  auto made = Registries().SeedPopulation(400, 7, true, seeder);
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_GT(made->plots, 100);
  EXPECT_GT(made->licences, 2);
  const auto people = People();
  const auto check = [&](const std::string& registry, std::int64_t expected) {
    auto rows = server_.app().Database().ReadValue<db::Rows>([&](db::Connection& c) {
      const db::Value code[] = {registry};
      return c.Query("SELECT record_key, data FROM registry_records WHERE registry = ? AND valid_to IS NULL", code);
    });
    ASSERT_EQ(static_cast<std::int64_t>(rows->size()), expected);
    const auto schema = Registries().Get(registry).value();
    for (const auto& r : *rows) {
      const json data = json::parse(r.Text(1));
      EXPECT_TRUE(registries::Validate(schema, data).empty()) << data.dump();
      const auto owner = people.find(data["owner_cid"].get<std::string>());
      ASSERT_NE(owner, people.end()) << "the owner is a person of the register: " << data.dump();
      EXPECT_EQ(owner->second["dzongkhag"], data["dzongkhag"]) << data.dump();
      EXPECT_EQ(owner->second["status"], "alive") << data.dump();
    }
  };
  check("land", made->plots);
  check("business_licences", made->licences);

  // What the registers hold about the demo citizen: her own record, her plot and her licence.
  auto about = Registries().RecordsAbout("11410012345");
  ASSERT_TRUE(about.ok());
  std::set<std::string> held;
  for (const auto& [registry, record] : *about) held.insert(registry.code + "/" + record.key);
  EXPECT_EQ(held, (std::set<std::string>{"population/11410012345", "land/CHA-000001", "business_licences/1000001"}));

  // The plot changes hands: the index follows the new version.
  const std::string steward = Official("land.steward", "NLCS", "registry_steward");
  auto plot = json::parse(Registries().GetRecord("land", "CHA-000001", std::nullopt)->data);
  const std::string buyer = people.rbegin()->first;
  plot["owner_cid"] = buyer;
  auto sold = server_.Client()->Send("PUT", "/api/v1/registries/land/records/CHA-000001",
                                     json{{"data", plot}, {"reason", "Sale deed 2026/114"}}.dump(),
                                     {{"Authorization", "Bearer " + steward}, {"If-Match", "\"1\""}});
  ASSERT_EQ(sold.status, 200) << sold.body;
  EXPECT_EQ(Registries().FindBySubject("land", "owner_cid", "11410012345", 10)->size(), 0U);
  auto bought = Registries().FindBySubject("land", "owner_cid", buyer, 10);
  ASSERT_TRUE(bought.ok());
  EXPECT_TRUE(std::any_of(bought->begin(), bought->end(), [](const auto& r) { return r.key == "CHA-000001"; }));
  // Only fields that name a person can be looked up.
  auto by_area = Registries().FindBySubject("land", "area_acres", "0.42", 10);
  ASSERT_FALSE(by_area.ok());
  EXPECT_EQ(by_area.error().fields.at(0).rule, "queryable");
}

TEST_F(RegistriesTest, StewardsOfTheCustodianKeepRecordsAsVersionsWithHistory) {
  audit::Actor seeder;
  seeder.id = "seed";
  ASSERT_TRUE(Registries().SeedPopulation(50, 7, true, seeder).ok());
  const std::string steward = Official("deki.steward", "DCRC", "registry_steward");
  const std::string outsider = Official("tandin.steward", "MOICE", "registry_steward");
  auto client = server_.Client();
  const auto auth = [](const std::string& token) {
    return std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer " + token},
                                                            {"X-Purpose", "DCRC-2026-000555"}};
  };
  const std::string path = "/api/v1/registries/population/records/11410012345";
  auto read = client->Get(path, auth(steward));
  ASSERT_EQ(read.status, 200) << read.body;
  json record = json::parse(read.body);
  EXPECT_EQ(record["data"]["given_name"], "Sonam Choden");
  EXPECT_EQ(read.Header("etag"), "\"1\"");
  // The read is an access to Sonam's data: her data tracker will show it.
  EXPECT_EQ(Count("action = 'registries.record_read' AND subject = '11410012345' AND purpose = 'DCRC-2026-000555'"), 1);
  // Another agency's steward is not the custodian.
  EXPECT_EQ(client->Get(path, auth(outsider)).status, 403);

  // A change: marital status, with a reason and the version read.
  json data = record["data"];
  data["marital_status"] = "married";
  auto put = client->Send("PUT", path, json{{"data", data}, {"reason", "marriage certificate MC-2026-0042"}}.dump(),
                          {{"Authorization", "Bearer " + steward}, {"If-Match", "\"1\""}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(json::parse(put.body)["version"], 2);
  // A stale version is refused and changes nothing.
  auto stale = client->Send("PUT", path, json{{"data", data}, {"reason", "again"}}.dump(),
                            {{"Authorization", "Bearer " + steward}, {"If-Match", "\"1\""}});
  EXPECT_EQ(stale.status, 412);
  // Bad input names the field and the rule, and changes nothing.
  json bad = data;
  bad["date_of_birth"] = "1994-02-30";
  bad["sex"] = "x";
  bad["favourite_colour"] = "red";
  auto invalid = client->Send("PUT", path, json{{"data", bad}, {"reason", "typo"}}.dump(), {{"Authorization", "Bearer " + steward}});
  ASSERT_EQ(invalid.status, 422);
  std::set<std::string> faults;
  const json refused = json::parse(invalid.body);
  for (const auto& f : refused["fields"]) faults.insert(f["field"].get<std::string>() + ":" + f["rule"].get<std::string>());
  EXPECT_EQ(faults, (std::set<std::string>{"date_of_birth:date", "sex:one_of", "favourite_colour:unknown"}));
  json orphan = data;
  orphan["father_cid"] = "19999999999";
  auto missing_parent = client->Send("PUT", path, json{{"data", orphan}, {"reason", "x"}}.dump(), {{"Authorization", "Bearer " + steward}});
  EXPECT_EQ(missing_parent.status, 422);
  EXPECT_EQ(json::parse(missing_parent.body)["fields"][0]["rule"], "exists");
  // The outsider cannot change it either.
  EXPECT_EQ(client->Send("PUT", path, json{{"data", data}, {"reason", "x"}}.dump(), {{"Authorization", "Bearer " + outsider}}).status, 403);

  // History: two versions; the record as it was before the change.
  auto history = json::parse(client->Get(path + "/history", auth(steward)).body)["items"];
  ASSERT_EQ(history.size(), 2U);
  EXPECT_EQ(history[0]["data"]["marital_status"], "single");
  EXPECT_EQ(history[1]["reason"], "marriage certificate MC-2026-0042");
  const std::string before = history[1]["valid_from"];
  auto then = client->Get(path + "?as_of=" + history[0]["valid_from"].get<std::string>(), auth(steward));
  EXPECT_EQ(json::parse(then.body)["data"]["marital_status"], "single");
  auto now = client->Get(path + "?as_of=" + before, auth(steward));
  EXPECT_EQ(json::parse(now.body)["data"]["marital_status"], "married");
  EXPECT_EQ(client->Get(path + "?as_of=1990-01-01", auth(steward)).status, 404);
  // The change and its event committed together.
  EXPECT_EQ(Count("action = 'registries.record_changed' AND subject = '11410012345'"), 1);
}

TEST_F(RegistriesTest, ImportCommitsTheValidRowsAndNamesEveryRefusedOne) {
  audit::Actor importer;
  importer.id = "import";
  const std::string csv =
      "cid,given_name,date_of_birth,sex,dzongkhag,gewog,village,household_number,marital_status,status,father_cid\n"
      "10110000001,Pema Lhamo,1980-05-01,female,Bumthang,Ura,\"Chiwog 1, Ura\",01000001,married,alive,\n"
      "10110000002,Kinley Dorji,2004-09-09,male,Bumthang,Ura,\"Chiwog 1, Ura\",01000001,single,alive,10110000003\n"
      "10110000003,Sangay Wangchuk,1978-01-20,male,Bumthang,Ura,\"Chiwog 1, Ura\",01000001,married,alive,\n"
      "10110000004,Bad Date,1980-02-30,female,Bumthang,Ura,\"Chiwog 1, Ura\",01000002,single,alive,\n"
      "10110000005,Bad Sex,1980-01-01,x,Bumthang,Ura,\"Chiwog 1, Ura\",01000003,single,alive,\n"
      "10110000006,No Father,1999-01-01,male,Bumthang,Ura,\"Chiwog 1, Ura\",01000004,single,alive,10119999999\n"
      "10110000001,Twice,1980-05-01,female,Bumthang,Ura,\"Chiwog 1, Ura\",01000001,married,alive,\n"
      "10110000007,Short Row\n"
      "1234,Short Cid,1980-05-01,female,Bumthang,Ura,\"Chiwog 1, Ura\",01000005,single,alive,\n";
  std::string rejects;
  auto report = Registries().Import("population", csv, rejects, importer);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->rows, 9);
  EXPECT_EQ(report->imported, 3);
  EXPECT_EQ(report->rejected, 6);
  // Each refusal: its line, field and rule.
  for (const char* expected : {"5,date_of_birth,date,", "6,sex,one_of,", "7,father_cid,exists,", "8,cid,unique,",
                               "9,,columns,", "10,cid,cid,"}) {
    EXPECT_NE(rejects.find(std::string("\r\n") + expected), std::string::npos) << expected << "\n" << rejects;
  }
  // The valid rows are there (a child referencing a father later in the file too); the refused ones are not.
  const auto people = People();
  EXPECT_EQ(people.size(), 3U);
  EXPECT_EQ(people.at("10110000002")["father_cid"], "10110000003");
  EXPECT_FALSE(people.contains("10110000004"));

  // The same rows again change nothing; a changed row is a new version.
  std::string again_rejects;
  const std::string changed =
      "cid,given_name,date_of_birth,sex,dzongkhag,gewog,village,household_number,marital_status,status\n"
      "10110000001,Pema Lhamo,1980-05-01,female,Bumthang,Ura,\"Chiwog 1, Ura\",01000001,married,alive\n"
      "10110000003,Sangay Wangchuk,1978-01-20,male,Bumthang,Ura,\"Chiwog 1, Ura\",01000001,widowed,alive\n";
  auto again = Registries().Import("population", changed, again_rejects, importer);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->unchanged, 1);
  EXPECT_EQ(again->imported, 1);
  EXPECT_EQ(Registries().History("population", "10110000003")->size(), 2U);

  // A header that is not the schema's is refused whole.
  std::string none;
  auto wrong = Registries().Import("population", "cid,shoe_size\n10110000009,42\n", none, importer);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().fields.at(0).field, "shoe_size");
  EXPECT_EQ(People().size(), 3U);

  // Export, then import the export: nothing changes.
  const std::string file = (std::filesystem::temp_directory_path() / ("export-" + RandomHex(6) + ".csv")).string();
  std::FILE* out = std::fopen(file.c_str(), "wb");
  ASSERT_EQ(*Registries().Export("population", "csv", out), 3);
  std::fclose(out);
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  std::string round_rejects;
  auto round = Registries().Import("population", text.str(), round_rejects, importer);
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->unchanged, 3) << round_rejects;
  EXPECT_EQ(round->imported, 0);
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace dzong::testing
