// Services as data on the engine under test: definitions checked against
// the schema and their meaning, field by field; the once-only lint blocking
// publication until justified; versions that never change once published;
// the catalogue, searched in English and in Dzongkha syllables.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "main/app.h"
#include "modules/identity/identity.h"
#include "modules/services/services.h"
#include "support/test_server.h"

namespace dzong::testing {
namespace {

using nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

/// A small valid service of DCRC: one page asking for a reason, and a
/// two-state workflow.
json Minimal(const std::string& code) {
  return json::parse(R"({
    "code": ")" + code + R"(",
    "owner": "DCRC",
    "title": {"en": "Household information extract", "dz": "ཁྱིམ་གུང་བརྡ་དོན་ཕྱིར་འདོན།"},
    "summary": {"en": "A certified extract of your household", "dz": "ཁྱིམ་གུང་གི་བརྡ་དོན་ངོས་སྦྱོར།"},
    "category": "civil-registration",
    "life_events": ["moving-home"],
    "eligibility": {"en": "Citizens of Bhutan", "dz": "འབྲུག་གི་མི་སེར།"},
    "fee": {"amount_chhertum": 5000},
    "sla_working_days": 2,
    "form": {"pages": [{"id": "purpose", "title": {"en": "Why you need it", "dz": "དགོས་དོན།"}, "fields": [
      {"id": "use", "type": "choice", "label": {"en": "What is it for", "dz": "ག་ཅི་ལུ་དགོཔ།"}, "required": true,
       "options": [{"value": "bank", "label": {"en": "A bank", "dz": "དངུལ་ཁང་།"}},
                   {"value": "other", "label": {"en": "Something else", "dz": "གཞན།"}}]}
    ]}]},
    "workflow": {"initial": "submitted", "states": [
      {"id": "submitted", "title": {"en": "Submitted", "dz": "ཕུལ་ཡོདཔ།"}},
      {"id": "issued", "title": {"en": "Issued", "dz": "སྤྲོད་ཡོདཔ།"}, "final": true, "outcome": "approved"}],
     "transitions": [{"id": "issue", "from": "submitted", "to": "issued",
                      "label": {"en": "Issue", "dz": "སྤྲོད།"}, "by": {"role": "officer"}}]}
  })");
}

std::set<std::string> Problems(const json& body) {
  std::set<std::string> out;
  for (const auto& f : body["fields"]) out.insert(f["field"].get<std::string>() + " " + f["rule"].get<std::string>());
  return out;
}

class ServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = server_.Client();
    designer_ = Token("tashi.penjor", "services.design");
    reviewer_ = Token("tshering.yangzom", "services.review");
    // A designer of another organisation.
    auto rbp = client_->Send("POST", "/api/v1/accounts",
                             json{{"kind", "official"}, {"username", "pema.rbp"}, {"display_name", "Pema Lhamo"},
                                  {"organisation", "RBP"}, {"password", "Police-Designer-2026"}}.dump(),
                             Operator());
    ASSERT_EQ(rbp.status, 201) << rbp.body;
    const std::int64_t id = json::parse(rbp.body)["id"];
    ASSERT_EQ(client_->Send("POST", fmt::format("/api/v1/accounts/{}/grants", id),
                            json{{"role", "service_designer"}}.dump(), Operator()).status, 201);
    other_designer_ = server_.app().Identity().CreateToken(id, "t", "services.design", std::chrono::hours(1)).value();
  }

  std::string Token(const std::string& username, const std::string& scope) {
    auto accounts = server_.app().Identity().ListAccounts(std::nullopt);
    for (const auto& a : *accounts) {
      if (a.username == username) {
        return server_.app().Identity().CreateToken(a.id, "t", scope, std::chrono::hours(1)).value();
      }
    }
    ADD_FAILURE() << "no account " << username;
    return {};
  }

  static Headers As(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

  HttpResponse Save(const json& definition, const std::string& token) {
    return client_->Send("POST", "/api/v1/services", definition.dump(), As(token));
  }
  HttpResponse Publish(const std::string& code, std::int64_t version) {
    return client_->Send("POST", fmt::format("/api/v1/services/{}/versions/{}/publish", code, version), "", As(designer_));
  }

  TestServer server_;
  std::unique_ptr<HttpClient> client_;
  std::string designer_, reviewer_, other_designer_;
};

TEST_F(ServicesTest, TheSeededServicesArePublishedAndFoundByLifeEventAgencyAndWords) {
  const json all = json::parse(client_->Get("/api/v1/services").body);
  std::set<std::string> codes;
  for (const auto& s : all["items"]) codes.insert(s["code"]);
  EXPECT_EQ(codes, (std::set<std::string>{"birth-registration", "business-licence", "census-transfer", "land-transfer",
                                          "security-clearance"}));
  const auto only = [&](const std::string& query) {
    std::set<std::string> found;
    const json body = json::parse(client_->Get("/api/v1/services?" + query).body);
    for (const auto& s : body["items"]) found.insert(s["code"]);
    return found;
  };
  EXPECT_EQ(only("life_event=birth"), std::set<std::string>{"birth-registration"});
  EXPECT_EQ(only("owner=RBP"), std::set<std::string>{"security-clearance"});
  EXPECT_EQ(only("category=land-and-housing"), std::set<std::string>{"land-transfer"});
  EXPECT_EQ(only("q=Birth"), std::set<std::string>{"birth-registration"});
  EXPECT_TRUE(only("q=regist").contains("birth-registration")) << "an English word matches from its start";
  EXPECT_EQ(only("q=birth+regist"), std::set<std::string>{"birth-registration"}) << "every word must match";
  EXPECT_TRUE(only("q=nothing-like-this").empty());
  // Dzongkha: a whole syllable of the title finds it (སྐྱེས "birth").
  const json birth = json::parse(client_->Get("/api/v1/services/birth-registration").body);
  const std::string title_dz = birth["definition"]["title"]["dz"];
  const std::string first_syllable = title_dz.substr(0, title_dz.find("\u0F0B"));
  ASSERT_FALSE(first_syllable.empty());
  EXPECT_TRUE(only("q=" + http::PercentEncode(first_syllable)).contains("birth-registration"));
  // Part of a syllable is not a syllable: its first letter alone finds nothing of it.
  EXPECT_FALSE(only("q=" + http::PercentEncode(first_syllable.substr(0, 3))).contains("birth-registration"));

  EXPECT_EQ(birth["version"], 1);
  EXPECT_EQ(birth["owner"], "DCRC");
  EXPECT_EQ(client_->Get("/api/v1/services/no-such-service").status, 404);
}

TEST_F(ServicesTest, ABadDefinitionIsRefusedFieldByFieldAndNothingIsSaved) {
  json bad = Minimal("household-extract");
  bad.erase("title");
  bad["category"] = "astrology";
  bad["colour"] = "red";
  bad["fee"]["amount_chhertum"] = -5;
  bad["form"]["pages"][0]["fields"][0]["type"] = "slider";
  auto r = Save(bad, designer_);
  ASSERT_EQ(r.status, 422) << r.body;
  const auto problems = Problems(json::parse(r.body));
  EXPECT_TRUE(problems.contains("title required")) << r.body;
  EXPECT_TRUE(problems.contains("category enum")) << r.body;
  EXPECT_TRUE(problems.contains("colour unknown_field")) << r.body;
  EXPECT_TRUE(problems.contains("fee.amount_chhertum minimum")) << r.body;
  EXPECT_TRUE(problems.contains("form.pages[0].fields[0].type enum")) << r.body;

  // Well-formed, but pointing at what does not exist.
  json wrong = Minimal("household-extract");
  wrong["form"]["pages"][0]["fields"].push_back(
      {{"id", "details"}, {"type", "text"}, {"label", {{"en", "Details"}, {"dz", "ཁ་གསལ།"}}},
       {"show_when", {{"field", "nowhere"}, {"equals", "x"}}}});
  wrong["form"]["pages"][0]["fields"].push_back(
      {{"id", "born"}, {"type", "date"}, {"label", {{"en", "Born"}, {"dz", "སྐྱེས།"}}},
       {"prefill", {{"registry", "weather"}, {"field", "rain"}}}});
  wrong["workflow"]["transitions"][0]["to"] = "limbo";
  wrong["owner"] = "NOBODY";
  r = Save(wrong, designer_);
  ASSERT_EQ(r.status, 422) << r.body;
  const auto meaning = Problems(json::parse(r.body));
  EXPECT_TRUE(meaning.contains("owner exists")) << r.body;
  EXPECT_TRUE(meaning.contains("form.pages[0].fields[1].show_when.field exists")) << r.body;
  EXPECT_TRUE(meaning.contains("form.pages[0].fields[2].prefill.registry exists")) << r.body;
  EXPECT_TRUE(meaning.contains("workflow.transitions[0].to exists")) << r.body;

  EXPECT_EQ(client_->Get("/api/v1/services/household-extract/versions/1", As(designer_)).status, 404);
  EXPECT_EQ(client_->Send("POST", "/api/v1/services", "{not json", As(designer_)).status, 400);
}

TEST_F(ServicesTest, OnlyTheOwnersDesignersDefineAndDraftsStayTheirs) {
  auto r = Save(Minimal("household-extract"), other_designer_);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(json::parse(r.body)["code"], "services.not_owner");
  r = Save(Minimal("household-extract"), designer_);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body)["status"], "draft");
  // A draft is not in the catalogue, and its definition is the owner's alone.
  EXPECT_EQ(client_->Get("/api/v1/services/household-extract").status, 404);
  EXPECT_EQ(client_->Get("/api/v1/services/household-extract/versions/1").status, 404);
  EXPECT_EQ(client_->Get("/api/v1/services/household-extract/versions/1", As(other_designer_)).status, 404);
  EXPECT_EQ(client_->Get("/api/v1/services/household-extract/versions/1", As(designer_)).status, 200);
  EXPECT_EQ(Publish("birth-registration", 1).status, 409) << "a published version is never published again";
  EXPECT_EQ(client_->Send("POST", "/api/v1/services/security-clearance/retire", "", As(designer_)).status, 403);
}

TEST_F(ServicesTest, TheOnceOnlyLintBlocksUntilJustifiedAndTheMinistryReviews) {
  json d = Minimal("household-extract");
  d["form"]["pages"][0]["fields"].push_back(
      {{"id", "date_of_birth"}, {"type", "date"}, {"label", {{"en", "Your date of birth"}, {"dz", "སྐྱེས་ཚེས།"}}}});
  d["form"]["pages"][0]["fields"].push_back(
      {{"id", "household"}, {"type", "text"}, {"label", {{"en", "Household number"}, {"dz", "གུང་ཨང་།"}}}});
  auto saved = Save(d, designer_);
  ASSERT_EQ(saved.status, 201) << saved.body;
  auto r = Publish("household-extract", 1);
  ASSERT_EQ(r.status, 422) << r.body;
  const json blocked = json::parse(r.body);
  EXPECT_EQ(blocked["code"], "services.lint_blocked");
  EXPECT_TRUE(Problems(blocked).contains("form.pages[0].fields[1] once_only")) << r.body;
  EXPECT_TRUE(Problems(blocked).contains("form.pages[0].fields[2] once_only")) << r.body;
  EXPECT_NE(blocked["fields"][0]["message"].get<std::string>().find("population.date_of_birth"), std::string::npos);
  EXPECT_EQ(client_->Get("/api/v1/services/household-extract").status, 404) << "nothing was published";

  // The lint says the same before saving.
  const json lint = json::parse(client_->Send("POST", "/api/v1/services/lint", d.dump(), As(designer_)).body);
  EXPECT_FALSE(lint["publishable"].get<bool>());
  EXPECT_EQ(lint["findings"][0]["registry_field"], "population.date_of_birth");

  // Pre-filling one from the register and justifying the other lets it through.
  d["form"]["pages"][0]["fields"][1]["prefill"] = {{"registry", "population"}, {"field", "date_of_birth"}};
  d["justifications"] = json::array({{{"field", "household"},
                                      {"registry_field", "population.household_number"},
                                      {"reason", "The extract may be for a household the applicant is not part of."}}});
  ASSERT_EQ(Save(d, designer_).status, 201);
  r = Publish("household-extract", 1);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(client_->Get("/api/v1/services/household-extract").body)["version"], 1);

  // The ministry sees the justification and reviews it.
  const json pending = json::parse(client_->Get("/api/v1/service-justifications?review=pending", As(reviewer_)).body);
  json mine;
  for (const auto& j : pending["items"]) {
    if (j["service"] == "household-extract") mine = j;
  }
  ASSERT_FALSE(mine.is_null()) << pending.dump();
  EXPECT_EQ(mine["registry_field"], "population.household_number");
  EXPECT_EQ(client_->Get("/api/v1/service-justifications", As(designer_)).status, 403);
  audit::Actor reviewer;
  reviewer.id = "tshering.yangzom";
  auto bad = server_.app().Services().Review(mine["id"], "questioned", "", reviewer);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().fields.at(0).field, "note");
  auto reviewed = server_.app().Services().Review(mine["id"], "accepted", "A household extract is often for a parent.", reviewer);
  ASSERT_TRUE(reviewed.ok());
  EXPECT_EQ(reviewed->review, "accepted");
}

TEST_F(ServicesTest, TheLintFindsUnreachablePagesLaterAnswersAndMissingDzongkha) {
  json d = Minimal("household-extract");
  json& pages = d["form"]["pages"];
  // A page shown for an answer the choice cannot give.
  pages.push_back({{"id", "never"}, {"title", {{"en", "Never"}, {"dz", "ནམ་ཡང་།"}}},
                   {"show_when", {{"field", "use"}, {"equals", "horoscope"}}},
                   {"fields", json::array({{{"id", "a"}, {"type", "yes_no"}, {"label", {{"en", "A"}, {"dz", "ཀ"}}}}})}});
  // A page that depends on an answer asked after it.
  pages.push_back({{"id", "early"}, {"title", {{"en", "Early"}, {"dz", "ཧེ་མ།"}}},
                   {"show_when", {{"field", "late"}, {"equals", "yes"}}},
                   {"fields", json::array({{{"id", "b"}, {"type", "yes_no"}, {"label", {{"en", "B"}, {"dz", "ཁ"}}}}})}});
  pages.push_back({{"id", "last"}, {"title", {{"en", "Last"}}},
                   {"fields", json::array({{{"id", "late"}, {"type", "yes_no"}, {"label", {{"en", "Late"}, {"dz", "ཕྱི།"}}}}})}});
  ASSERT_EQ(Save(d, designer_).status, 201);
  auto r = Publish("household-extract", 1);
  ASSERT_EQ(r.status, 422) << r.body;
  const auto problems = Problems(json::parse(r.body));
  EXPECT_TRUE(problems.contains("form.pages[1] unreachable_page")) << r.body;
  EXPECT_TRUE(problems.contains("form.pages[2].show_when later_answer")) << r.body;
  EXPECT_TRUE(problems.contains("form.pages[3].title missing_dzongkha")) << r.body;
}

TEST_F(ServicesTest, APublishedVersionNeverChangesAndTheNextIsANewVersion) {
  const json v1 = json::parse(client_->Get("/api/v1/services/security-clearance/versions/1").body);
  ASSERT_EQ(v1["status"], "published");
  // RBP's designer changes the fee: a new draft, version 2; version 1 stays.
  json next = v1["definition"];
  next["sla_working_days"] = 4;
  auto saved = Save(next, other_designer_);
  ASSERT_EQ(saved.status, 201) << saved.body;
  EXPECT_EQ(json::parse(saved.body)["version"], 2);
  EXPECT_EQ(json::parse(client_->Get("/api/v1/services/security-clearance").body)["version"], 1)
      << "citizens see the published version until the draft is published";
  auto published = client_->Send("POST", "/api/v1/services/security-clearance/versions/2/publish", "", As(other_designer_));
  ASSERT_EQ(published.status, 200) << published.body;
  EXPECT_EQ(json::parse(client_->Get("/api/v1/services/security-clearance").body)["definition"]["sla_working_days"], 4);
  const json old = json::parse(client_->Get("/api/v1/services/security-clearance/versions/1").body);
  EXPECT_EQ(old["status"], "superseded");
  EXPECT_EQ(old["definition"], v1["definition"]) << "version 1 is as it was published";

  // Retired: out of the catalogue.
  ASSERT_EQ(client_->Send("POST", "/api/v1/services/security-clearance/retire", "", As(other_designer_)).status, 200);
  EXPECT_EQ(client_->Get("/api/v1/services/security-clearance").status, 404);
  EXPECT_EQ(Save(next, other_designer_).status, 409) << "a retired service takes no new draft";
}

TEST_F(ServicesTest, DefinitionsGoInAndOutAsJsonFiles) {
  // What `dzong services export` writes, `dzong services import` takes back.
  auto exported = server_.app().Services().GetVersion("land-transfer", 1);
  ASSERT_TRUE(exported.ok());
  json changed = exported->definition;
  changed["sla_working_days"] = 12;
  audit::Actor nlcs;
  nlcs.id = "platform-operator";
  nlcs.organisation = "NLCS";
  auto draft = server_.app().Services().SaveDraft(changed, nlcs);
  ASSERT_TRUE(draft.ok()) << draft.error().message;
  EXPECT_EQ(draft->version, 2);
  ASSERT_TRUE(server_.app().Services().Publish("land-transfer", 2, nlcs).ok());
  EXPECT_EQ(server_.app().Services().GetPublished("land-transfer")->definition["sla_working_days"], 12);
}

}  // namespace
}  // namespace dzong::testing
