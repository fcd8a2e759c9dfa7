// The service designer's pages on the engine under test: a DCRC designer
// creates a service, adds a page and questions, meets the once-only lint,
// justifies the question and publishes; invalid input is refused by field
// and rule and changes nothing; another organisation's designer and a
// citizen cannot reach the service; the ministry reviews the justification.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "main/app.h"
#include "modules/identity/identity.h"
#include "modules/services/services.h"
#include "support/browser.h"
#include "support/test_server.h"

namespace dzong::testing {
namespace {

using nlohmann::json;

constexpr char kCode[] = "police-clearance-copy";

std::string CodeFor(const std::string& secret_base32) {
  const auto secret = Base32Decode(secret_base32);
  const auto step = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count() / 30;
  return identity::TotpCode(*secret, step);
}

/// HTML as Mustache escaped it, back to text.
std::string Unescape(std::string text) {
  const std::pair<const char*, const char*> entities[] = {{"&lt;", "<"},   {"&gt;", ">"},   {"&quot;", "\""},
                                                          {"&#39;", "'"},  {"&#x2F;", "/"}, {"&#x60;", "`"},
                                                          {"&#x3D;", "="}, {"&amp;", "&"}};
  for (const auto& [entity, plain] : entities) {
    for (auto at = text.find(entity); at != std::string::npos; at = text.find(entity, at + 1)) {
      text.replace(at, std::string(entity).size(), plain);
    }
  }
  return text;
}

std::string Attribute(const std::string& tag, const std::string& name) {
  const std::string key = " " + name + "=\"";
  const auto at = tag.find(key);
  if (at == std::string::npos) return {};
  const auto from = at + key.size();
  return Unescape(tag.substr(from, tag.find('"', from) - from));
}

/// What a browser would send for the form that holds the "save" button,
/// as the page shows it: text and hidden inputs, ticked boxes and radios,
/// text areas, and each select's chosen option (else its first).
std::map<std::string, std::string> FormAsShown(const std::string& page) {
  const auto save = page.find("id=\"save\"");
  const auto start = page.rfind("<form ", save);
  const std::string form = page.substr(start, page.find("</form>", save) - start);
  std::map<std::string, std::string> fields;
  for (auto at = form.find("<input "); at != std::string::npos; at = form.find("<input ", at + 1)) {
    const std::string tag = form.substr(at, form.find('>', at) - at);
    const std::string type = Attribute(tag, "type");
    if ((type == "checkbox" || type == "radio") && tag.find(" checked") == std::string::npos) continue;
    fields[Attribute(tag, "name")] = Attribute(tag, "value");
  }
  for (auto at = form.find("<textarea "); at != std::string::npos; at = form.find("<textarea ", at + 1)) {
    const auto open_end = form.find('>', at);
    const std::string tag = form.substr(at, open_end - at);
    fields[Attribute(tag, "name")] = Unescape(form.substr(open_end + 1, form.find("</textarea>", at) - open_end - 1));
  }
  for (auto at = form.find("<select "); at != std::string::npos; at = form.find("<select ", at + 1)) {
    const std::string tag = form.substr(at, form.find('>', at) - at);
    const auto end = form.find("</select>", at);
    std::string chosen;
    bool first = true;
    for (auto o = form.find("<option ", at); o != std::string::npos && o < end; o = form.find("<option ", o + 1)) {
      const std::string option = form.substr(o, form.find('>', o) - o);
      if (first || option.find(" selected") != std::string::npos) chosen = Attribute(option, "value");
      if (option.find(" selected") != std::string::npos) break;
      first = false;
    }
    fields[Attribute(tag, "name")] = chosen;
  }
  return fields;
}

class DesignerTest : public ::testing::Test {
 protected:
  /// Signs an official in for the first time: password, then the authenticator.
  static void SignInOfficial(Browser& b, const std::string& user, const std::string& password) {
    b.Get("/sign-in");
    auto first = b.Post("/sign-in", {{"username", user}, {"password", password}});
    ASSERT_EQ(first.Header("location"), "/account/totp") << first.status << first.body;
    const std::string secret = Browser::Between(b.Get("/account/totp").body, "id=\"totp-secret\">", "<");
    ASSERT_EQ(b.Post("/account/totp", {{"secret", secret}, {"code", CodeFor(secret)}}).status, 303);
  }

  /// A new official of `organisation` with `role`, made by the platform operator.
  void NewOfficial(const std::string& username, const std::string& organisation, const std::string& role) {
    auto client = server_.Client();
    auto created = client->Send("POST", "/api/v1/accounts",
                                json{{"kind", "official"},
                                     {"username", username},
                                     {"display_name", "Designer"},
                                     {"organisation", organisation},
                                     {"password", "Other-Designer-2026"}}
                                    .dump(),
                                Operator());
    ASSERT_EQ(created.status, 201) << created.body;
    const std::int64_t id = json::parse(created.body)["id"];
    ASSERT_EQ(client->Send("POST", "/api/v1/accounts/" + std::to_string(id) + "/grants", json{{"role", role}}.dump(),
                           Operator())
                  .status,
              201);
  }

  services::ServiceCatalogue& Catalogue() { return server_.app().Services(); }

  std::size_t VersionCount(const std::string& code) {
    auto versions = Catalogue().Versions(code);
    return versions.ok() ? versions->size() : 0;
  }

  /// The service's details as the new-service form takes them.
  static std::map<std::string, std::string> Details() {
    return {{"code", kCode},
            {"title_en", "Copy of a police clearance"},
            {"title_dz", "ཉེས་མེད་ལག་ཁྱེར་གྱི་འདྲ་བཤུས"},
            {"summary_en", "Get a certified copy of your security clearance certificate."},
            {"summary_dz", "ཁྱོད་ཀྱི་ཉེན་སྲུང་ལག་ཁྱེར་གྱི་འདྲ་བཤུས་ལེན།"},
            {"eligibility_en", "Citizens who hold a security clearance certificate."},
            {"eligibility_dz", "ཉེན་སྲུང་ལག་ཁྱེར་ཡོད་པའི་མི་སེར།"},
            {"category", "police-and-justice"},
            {"life_events.travel", "1"},
            {"life_events.employment", "1"},
            {"fee", "50.50"},
            {"sla", "5"}};
  }

  TestServer server_;
};

TEST_F(DesignerTest, ADesignerBuildsJustifiesAndPublishesAServiceThroughThePages) {
  Browser b(server_.port());
  SignInOfficial(b, "tashi.penjor", "Service-Designer-2026");
  ASSERT_EQ(b.Get("/design").status, 200);
  ASSERT_EQ(b.Get("/design/new").status, 200);
  auto created = b.Post("/design/new", Details());
  ASSERT_EQ(created.status, 303) << created.body;
  EXPECT_EQ(created.Header("location"), std::string("/design/") + kCode);
  auto service = Catalogue().Get(kCode);
  ASSERT_TRUE(service.ok());
  EXPECT_EQ(service->owner, "DCRC");
  EXPECT_EQ(service->status, "draft");
  EXPECT_EQ(service->definition["fee"]["amount_chhertum"], 5050);
  EXPECT_EQ(service->definition["sla_working_days"], 5);
  EXPECT_EQ(service->definition["life_events"], json::array({"travel", "employment"}));

  // A page whose first question asks for the date of birth, as text.
  const std::string base = std::string("/design/") + kCode;
  ASSERT_EQ(b.Get(base + "/pages/new").status, 200);
  auto page = b.Post(base + "/pages/new", {{"id", "about_you"},
                                           {"title_en", "About you"},
                                           {"title_dz", "ཁྱོད་ཀྱི་སྐོར།"},
                                           {"first_id", "date_of_birth"},
                                           {"first_type", "text"},
                                           {"first_label_en", "Date of birth"},
                                           {"first_label_dz", "སྐྱེས་ཚེས།"}});
  ASSERT_EQ(page.status, 303) << page.body;
  EXPECT_EQ(page.Header("location"), base + "/pages/1");
  ASSERT_EQ(b.Get(base + "/pages/1").status, 200);
  auto field = b.Post(base + "/pages/1/fields/new", {{"id", "copies"},
                                                     {"type", "choice"},
                                                     {"label_en", "How many copies?"},
                                                     {"label_dz", "འདྲ་བཤུས་ག་དེམ་ཅིག"},
                                                     {"required", "1"},
                                                     {"options", "one | One | གཅིག\ntwo | Two | གཉིས\n"}});
  ASSERT_EQ(field.status, 303) << field.body;
  // A question pre-filled from the register: its given name.
  auto prefilled = b.Post(base + "/pages/1/fields/new", {{"id", "given_name"},
                                                         {"type", "text"},
                                                         {"label_en", "Your name"},
                                                         {"label_dz", "ཁྱོད་ཀྱི་མིང་།"},
                                                         {"prefill", "population.given_name"}});
  ASSERT_EQ(prefilled.status, 303) << prefilled.body;
  auto latest = Catalogue().Versions(kCode);
  ASSERT_TRUE(latest.ok());
  const json& pages = latest->front().definition["form"]["pages"];
  ASSERT_EQ(pages.size(), 2U);
  EXPECT_EQ(pages[1]["fields"].size(), 3U);
  EXPECT_EQ(pages[1]["fields"][1]["options"][1]["label"]["dz"], "གཉིས");
  EXPECT_EQ(pages[1]["fields"][2]["prefill"], (json{{"registry", "population"}, {"field", "given_name"}}));

  // The lint names the question and the register's field, and blocks publication.
  auto overview = b.Get(base);
  ASSERT_EQ(overview.status, 200);
  EXPECT_NE(overview.body.find("population.date_of_birth"), std::string::npos);
  // (Mustache writes "/" as "&#x2F;" in attributes.)
  EXPECT_NE(overview.body.find("justifications&#x2F;new?field=date_of_birth&amp;registry_field=population.date_of_birth"),
            std::string::npos);
  auto blocked = b.Post(base + "/publish", {});
  EXPECT_EQ(blocked.status, 422);
  EXPECT_NE(blocked.body.find("once_only"), std::string::npos);
  EXPECT_NE(blocked.body.find("date_of_birth"), std::string::npos);
  EXPECT_EQ(Catalogue().Get(kCode)->status, "draft");

  // The only way past: a recorded justification.
  ASSERT_EQ(b.Get(base + "/justifications/new?field=date_of_birth&registry_field=population.date_of_birth").status,
            200);
  auto justified = b.Post(base + "/justifications/new",
                          {{"field", "date_of_birth"},
                           {"registry_field", "population.date_of_birth"},
                           {"reason", "The copy shows the date of birth as the applicant states it on the form."}});
  ASSERT_EQ(justified.status, 303) << justified.body;
  auto published = b.Post(base + "/publish", {});
  ASSERT_EQ(published.status, 303) << published.body;
  service = Catalogue().Get(kCode);
  EXPECT_EQ(service->status, "published");
  EXPECT_EQ(service->published_version, 1);
  EXPECT_NE(b.Get(base).body.find("Published"), std::string::npos);
  ASSERT_EQ(b.Get(base + "/preview").status, 200);
  auto exported = b.Get(base + "/definition.json");
  ASSERT_EQ(exported.status, 200);
  EXPECT_NE(exported.Header("content-disposition").find("attachment"), std::string::npos);
  EXPECT_EQ(json::parse(exported.body)["code"], kCode);

  // A change after publication makes a new draft; the published version stays.
  auto details = Details();
  details.erase("code");
  details["sla"] = "7";
  ASSERT_EQ(b.Post(base + "/details", details).status, 303);
  EXPECT_EQ(VersionCount(kCode), 2U);
  EXPECT_EQ(Catalogue().GetVersion(kCode, 1)->definition["sla_working_days"], 5);

  // The ministry sees the justification and accepts it.
  auto all_pending = Catalogue().Justifications("pending");
  ASSERT_TRUE(all_pending.ok());
  std::vector<services::Justification> pending;
  for (const auto& j : *all_pending) {
    if (j.service == kCode) pending.push_back(j);
  }
  ASSERT_EQ(pending.size(), 1U);
  EXPECT_EQ(pending.front().field, "date_of_birth");
  Browser ministry(server_.port());
  SignInOfficial(ministry, "tshering.yangzom", "Platform-Admin-2026");
  auto list = ministry.Get("/review/justifications?review=pending");
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("The copy shows the date of birth"), std::string::npos);
  const std::string review = "/review/justifications/" + std::to_string(pending.front().id);
  auto no_decision = ministry.Post(review, {{"note", ""}});
  EXPECT_EQ(no_decision.status, 422);
  auto accepted = ministry.Post(review, {{"decision", "accepted"}, {"note", "The copy must match the original."}});
  ASSERT_EQ(accepted.status, 303) << accepted.body;
  const auto accepted_now = Catalogue().Justifications("accepted");
  ASSERT_TRUE(accepted_now.ok());
  EXPECT_TRUE(std::any_of(accepted_now->begin(), accepted_now->end(),
                          [&](const services::Justification& j) { return j.id == pending.front().id; }));
}

TEST_F(DesignerTest, InvalidInputIsRefusedByFieldAndRuleAndChangesNothing) {
  Browser b(server_.port());
  SignInOfficial(b, "tashi.penjor", "Service-Designer-2026");
  b.Get("/design/new");
  auto details = Details();
  details["code"] = "Bad Code";
  details["fee"] = "12.345";
  details["sla"] = "0";
  details.erase("life_events.travel");
  details.erase("life_events.employment");
  auto refused = b.Post("/design/new", details);
  ASSERT_EQ(refused.status, 422);
  EXPECT_NE(refused.body.find("href=\"#code\""), std::string::npos);
  EXPECT_NE(refused.body.find("lower-case letters, digits and hyphens"), std::string::npos);
  EXPECT_NE(refused.body.find("href=\"#fee\""), std::string::npos);
  EXPECT_NE(refused.body.find("at most 2 decimals"), std::string::npos);
  EXPECT_NE(refused.body.find("href=\"#sla\""), std::string::npos);
  EXPECT_NE(refused.body.find("href=\"#life_events\""), std::string::npos);
  EXPECT_NE(refused.body.find("value=\"12.345\""), std::string::npos) << "what was typed is kept";
  EXPECT_FALSE(Catalogue().Get("bad-code").ok());

  ASSERT_EQ(b.Post("/design/new", Details()).status, 303);
  const std::string base = std::string("/design/") + kCode;
  const json before = Catalogue().Versions(kCode)->front().definition;
  b.Get(base + "/pages/0/fields/new");
  auto bad_field = b.Post(base + "/pages/0/fields/new", {{"id", "Bad Id"},
                                                         {"type", "number"},
                                                         {"label_en", ""},
                                                         {"min", "ten"},
                                                         {"min_date", "yesterday"},
                                                         {"options", "ok | Fine\nNOT VALID"}});
  ASSERT_EQ(bad_field.status, 422);
  for (const char* anchor : {"#id", "#label_en", "#min", "#min_date", "#options"}) {
    EXPECT_NE(bad_field.body.find(std::string("href=\"") + anchor + "\""), std::string::npos) << anchor;
  }
  EXPECT_NE(bad_field.body.find("Line 2 of Options"), std::string::npos);
  b.Get(base + "/documents/new");
  auto bad_document = b.Post(base + "/documents/new", {{"type", "photo"}, {"title_en", "Photo"}, {"max_mb", "50"}});
  ASSERT_EQ(bad_document.status, 422);
  EXPECT_NE(bad_document.body.find("href=\"#formats\""), std::string::npos);
  EXPECT_NE(bad_document.body.find("href=\"#max_mb\""), std::string::npos);
  // A transition to a state that does not exist: the catalogue's own rules refuse it.
  b.Get(base + "/transitions/new");
  auto bad_transition = b.Post(base + "/transitions/new", {{"id", "skip"},
                                                           {"from", "submitted"},
                                                           {"to", "nowhere"},
                                                           {"label_en", "Skip"},
                                                           {"label_dz", "མཆོང"},
                                                           {"by", "role"},
                                                           {"role", "officer"}});
  EXPECT_EQ(bad_transition.status, 422);
  b.Get(base);
  auto bad_import = b.Post(base + "/import", {{"definition", "{\"code\": \"" + std::string(kCode) + "\"}"}});
  EXPECT_EQ(bad_import.status, 422);
  EXPECT_NE(bad_import.body.find("href=\"#definition\""), std::string::npos);
  EXPECT_EQ(VersionCount(kCode), 1U);
  EXPECT_EQ(Catalogue().Versions(kCode)->front().definition, before);
  EXPECT_EQ(b.Post(base + "/justifications/new", {{"csrf_token", "forged"}, {"field", "purpose"}}).status, 422);
}

TEST_F(DesignerTest, OnlyTheOwnersDesignersReachAServiceAndCitizensNoDesignPage) {
  Browser b(server_.port());
  SignInOfficial(b, "tashi.penjor", "Service-Designer-2026");
  b.Get("/design/new");
  ASSERT_EQ(b.Post("/design/new", Details()).status, 303);
  const std::string base = std::string("/design/") + kCode;

  NewOfficial("karma.rbp", "RBP", "service_designer");
  Browser other(server_.port());
  SignInOfficial(other, "karma.rbp", "Other-Designer-2026");
  ASSERT_EQ(other.Get("/design").status, 200);
  EXPECT_EQ(other.Get("/design").body.find(kCode), std::string::npos);
  EXPECT_EQ(other.Get(base).status, 404);
  EXPECT_EQ(other.Get(base + "/pages/0").status, 404);
  EXPECT_EQ(other.Get(base + "/definition.json").status, 404);
  auto details = Details();
  details.erase("code");
  details["title_en"] = "Taken over";
  EXPECT_EQ(other.Post(base + "/details", details).status, 404);
  EXPECT_EQ(other.Post(base + "/publish", {}).status, 404);
  EXPECT_EQ(other.Post(base + "/retire", {}).status, 404);
  EXPECT_EQ(VersionCount(kCode), 1U);
  EXPECT_EQ(Catalogue().Get(kCode)->definition["title"]["en"], "Copy of a police clearance");

  Browser citizen(server_.port());
  citizen.Get("/sign-in");
  ASSERT_EQ(citizen.Post("/sign-in", {{"username", "11410012345"}, {"password", "Tashi-Delek-2026"}}).status, 303);
  EXPECT_EQ(citizen.Get("/design").status, 403);
  EXPECT_EQ(citizen.Get(base).status, 403);
  EXPECT_EQ(citizen.Get("/review/justifications").status, 403);
  EXPECT_EQ(b.Get("/review/justifications").status, 403);

  // The owner retires it, after a confirmation page.
  ASSERT_EQ(b.Get(base + "/retire").status, 200);
  ASSERT_EQ(b.Post(base + "/retire", {}).status, 303);
  EXPECT_EQ(Catalogue().Get(kCode)->status, "retired");
}

TEST_F(DesignerTest, EveryEditorSavedAsShownKeepsEachSeededServiceAsItIs) {
  // A designer can build each seeded service without writing JSON when
  // every part of it can be shown by an editor and saved back unchanged.
  auto catalogue = Catalogue().Catalogue({});
  ASSERT_TRUE(catalogue.ok());
  ASSERT_GE(catalogue->size(), 5U);
  std::map<std::string, std::unique_ptr<Browser>> designers;
  for (const services::Service& service : *catalogue) {
    SCOPED_TRACE(service.code);
    if (!designers.contains(service.owner)) {
      std::string username = "designer." + service.owner;
      std::transform(username.begin(), username.end(), username.begin(), ::tolower);
      NewOfficial(username, service.owner, "service_designer");
      designers[service.owner] = std::make_unique<Browser>(server_.port());
      SignInOfficial(*designers[service.owner], username, "Other-Designer-2026");
    }
    Browser& b = *designers[service.owner];
    const json original = service.definition;
    const std::string base = "/design/" + service.code;
    std::vector<std::string> editors = {base + "/details", base + "/certificate"};
    const json& pages = original["form"]["pages"];
    for (std::size_t p = 0; p < pages.size(); ++p) {
      editors.push_back(base + "/pages/" + std::to_string(p));
      for (std::size_t f = 0; f < pages[p]["fields"].size(); ++f) {
        editors.push_back(base + "/pages/" + std::to_string(p) + "/fields/" + std::to_string(f));
      }
    }
    const auto items = [&](const std::string& part, const json& list) {
      for (std::size_t i = 0; list.is_array() && i < list.size(); ++i) editors.push_back(base + "/" + part + "/" + std::to_string(i));
    };
    items("documents", original.value("documents", json::array()));
    items("fee-rules", original["fee"].value("rules", json::array()));
    items("states", original["workflow"]["states"]);
    items("transitions", original["workflow"]["transitions"]);
    items("justifications", original.value("justifications", json::array()));
    for (const std::string& editor : editors) {
      auto shown = b.Get(editor);
      ASSERT_EQ(shown.status, 200) << editor;
      auto saved = b.Post(editor, FormAsShown(shown.body));
      ASSERT_EQ(saved.status, 303) << editor << "\n" << Browser::Between(saved.body, "govuk-error-summary__list\">", "</ul>");
    }
    auto versions = Catalogue().Versions(service.code);
    ASSERT_TRUE(versions.ok());
    EXPECT_EQ(versions->size(), 2U) << "one new draft after the published version";
    EXPECT_EQ(versions->front().definition, original) << json::diff(original, versions->front().definition).dump(2);
  }
}

}  // namespace
}  // namespace dzong::testing
