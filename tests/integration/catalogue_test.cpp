// The citizen's catalogue on the server under test: browsing by life event,
// agency and category with counts, search in English and in Dzongkha (on
// whole syllables, split at the tsheg), the service page (fee in Nu., SLA,
// documents, pre-filled details, agency, the way to start), 404 for a
// service that is retired or unknown, forms that work as plain GETs, and
// the page cache that must follow the catalogue, the language and the
// visitor.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "http/message.h"
#include "main/app.h"
#include "modules/services/services.h"
#include "support/browser.h"
#include "support/test_server.h"

namespace dzong::testing {
namespace {

class CatalogueTest : public ::testing::Test {
 protected:
  /// The page, with the '/' the templates escape in attributes (&#x2F;)
  /// put back, so that links read as they are followed.
  HttpResponse Page(const std::string& target, const std::string& lang = "en") {
    auto r = client_->Get(target, {{"Cookie", "dzong_lang=" + lang}, {"Accept", "text/html"}});
    r.body = Unescaped(r.body);
    return r;
  }

  static std::string Unescaped(std::string body) {
    for (auto at = body.find("&#x2F;"); at != std::string::npos; at = body.find("&#x2F;", at + 1)) {
      body.replace(at, 6, "/");
    }
    return body;
  }

  /// The services the page lists, by link.
  static std::vector<std::string> Listed(const std::string& body) {
    std::vector<std::string> codes;
    const std::string results = Browser::Between(body, "<ul class=\"govuk-list\" id=\"results\">", "</ul>");
    const std::string marker = "href=\"/services/";
    for (auto at = results.find(marker); at != std::string::npos; at = results.find(marker, at + 1)) {
      const auto from = at + marker.size();
      codes.push_back(results.substr(from, results.find('"', from) - from));
    }
    std::sort(codes.begin(), codes.end());
    return codes;
  }

  std::vector<std::string> Search(const std::string& query, const std::string& lang = "en") {
    auto r = Page("/services?q=" + http::PercentEncode(query), lang);
    EXPECT_EQ(r.status, 200) << query;
    return Listed(r.body);
  }

  void Retire(const std::string& code) {
    audit::Actor designer;
    designer.id = "tashi.penjor";
    designer.organisation = "DCRC";
    designer.role = "service_designer";
    auto retired = server_.app().Services().Retire(code, designer);
    ASSERT_TRUE(retired.ok()) << retired.error().message;
  }

  TestServer server_;
  std::unique_ptr<HttpClient> client_ = server_.Client();
};

using Codes = std::vector<std::string>;

TEST_F(CatalogueTest, ListsEveryPublishedServiceWithTheWaysToBrowse) {
  auto r = Page("/services");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.Header("content-type").find("text/html"), std::string::npos);
  EXPECT_EQ(Listed(r.body), (Codes{"birth-registration", "business-licence", "census-transfer", "land-transfer",
                                   "security-clearance"}));
  EXPECT_NE(r.body.find("Find a government service"), std::string::npos);
  // Each way to browse, with how many services it leads to.
  EXPECT_NE(r.body.find("<a class=\"govuk-link\" href=\"/services?life_event=birth\">Having a baby</a> (1)"),
            std::string::npos);
  EXPECT_NE(r.body.find("<a class=\"govuk-link\" href=\"/services?life_event=travel\">Travelling abroad</a> (1)"),
            std::string::npos);
  EXPECT_NE(r.body.find("href=\"/services?category=civil-registration\">Civil registration</a> (2)"),
            std::string::npos);
  EXPECT_NE(r.body.find("href=\"/services?agency=DCRC\">"), std::string::npos);
  EXPECT_NE(r.body.find("href=\"/services?agency=RBP\">"), std::string::npos);
  // A life event no service serves is not offered.
  EXPECT_EQ(r.body.find("life_event=retirement"), std::string::npos);
  // Title, summary and agency of each result.
  EXPECT_NE(r.body.find(">Register a birth</a>"), std::string::npos);
  EXPECT_NE(r.body.find("Royal Bhutan Police"), std::string::npos);
}

TEST_F(CatalogueTest, FiltersByLifeEventAgencyAndCategory) {
  auto travel = Page("/services?life_event=travel");
  ASSERT_EQ(travel.status, 200);
  EXPECT_EQ(Listed(travel.body), Codes{"security-clearance"});
  EXPECT_NE(travel.body.find("1 service<"), std::string::npos);
  EXPECT_NE(travel.body.find("<option value=\"travel\" selected>Travelling abroad (1)</option>"), std::string::npos);

  auto dcrc = Page("/services?agency=DCRC");
  EXPECT_EQ(Listed(dcrc.body), (Codes{"birth-registration", "census-transfer"}));
  EXPECT_NE(dcrc.body.find("2 services<"), std::string::npos);

  EXPECT_EQ(Listed(Page("/services?category=land-and-housing").body), Codes{"land-transfer"});
  // Filters combine; each count says what choosing it would show with the others kept.
  auto both = Page("/services?agency=DCRC&life_event=marriage&category=");
  EXPECT_EQ(Listed(both.body), Codes{"census-transfer"});
  EXPECT_NE(both.body.find("<option value=\"civil-registration\">Civil registration (1)</option>"),
            std::string::npos);
  // An empty filter is no filter; a value no service has matches nothing.
  EXPECT_EQ(Listed(Page("/services?life_event=&agency=&category=&q=").body).size(), 5u);
  auto none = Page("/services?category=no-such-category");
  ASSERT_EQ(none.status, 200);
  EXPECT_TRUE(Listed(none.body).empty());
  EXPECT_NE(none.body.find("id=\"no-results\""), std::string::npos);
  EXPECT_NE(none.body.find("No services match your search."), std::string::npos);
}

TEST_F(CatalogueTest, SearchesEnglishWords) {
  EXPECT_EQ(Search("trade licence"), Codes{"business-licence"});
  EXPECT_EQ(Search("  Clearance "), Codes{"security-clearance"});
  EXPECT_EQ(Search("birth"), Codes{"birth-registration"});
  auto none = Page("/services?q=zzyzx");
  EXPECT_EQ(none.status, 200);
  EXPECT_NE(none.body.find("No services match your search."), std::string::npos);
  EXPECT_NE(none.body.find("value=\"zzyzx\""), std::string::npos);  // the query stays in the box
  // Search with filters.
  EXPECT_EQ(Listed(Page("/services?q=transfer&category=land-and-housing").body), Codes{"land-transfer"});
  // What was typed is shown as text, never as markup.
  auto markup = Page("/services?q=" + http::PercentEncode("<b>licence</b>"));
  EXPECT_EQ(markup.body.find("<b>licence</b>"), std::string::npos);
  EXPECT_NE(markup.body.find("&lt;b&gt;licence&lt;/b&gt;"), std::string::npos);
}

TEST_F(CatalogueTest, SearchesDzongkhaBySyllable) {
  // ཆོག is one syllable of ཚོང་ལས་ཆོག་ཐམ། (trade licence) and of
  // ཉེན་སྲུང་བདེ་འཇགས་ཆོག་ཐམ། (security clearance).
  EXPECT_EQ(Search("ཆོག", "dz"), (Codes{"business-licence", "security-clearance"}));
  // The same search from the English page.
  EXPECT_EQ(Search("ཆོག"), (Codes{"business-licence", "security-clearance"}));
  // Two syllables, both needed.
  EXPECT_EQ(Search("ཚོང་ལས་ཆོག་ཐམ", "dz"), Codes{"business-licence"});
  EXPECT_EQ(Search("སྤོ་བཤུད", "dz"), (Codes{"census-transfer", "land-transfer"}));
  // Part of a syllable is not a syllable: ཆོ is not ཆོག, and ཆོགཐམ (the same
  // letters without the tsheg) is not ཆོག་ཐམ.
  EXPECT_TRUE(Search("ཆོ", "dz").empty());
  EXPECT_TRUE(Search("ཆོགཐམ", "dz").empty());
  auto page = Page("/services?q=" + http::PercentEncode("ཆོ"), "dz");
  EXPECT_NE(page.body.find("ཁྱོད་ཀྱི་འཚོལ་ཞིབ་དང་མཐུན་པའི་ཞབས་ཏོག་མེད།"), std::string::npos);
}

TEST_F(CatalogueTest, ShowsTheServicePageInEnglish) {
  auto r = Page("/services/business-licence");
  ASSERT_EQ(r.status, 200);
  const std::string& b = r.body;
  EXPECT_NE(b.find("<title>Apply for a trade licence – Dzong</title>"), std::string::npos);
  EXPECT_NE(b.find("Who can apply"), std::string::npos);
  // The fee in Nu., with the rules that change it.
  EXPECT_NE(b.find("Nu. 5,100 if your answer to “Type of trade” is “Retail”"), std::string::npos);
  EXPECT_NE(b.find("Nu. 10,100 if"), std::string::npos);
  EXPECT_NE(b.find("Nu. 3,100 otherwise"), std::string::npos);
  EXPECT_NE(b.find("7 working days"), std::string::npos);
  // The documents, their formats and size.
  EXPECT_NE(b.find("PDF, JPEG or PNG, up to 5 MB"), std::string::npos);
  // The agency, and the way to start.
  EXPECT_NE(b.find("href=\"/services?agency=MOICE\""), std::string::npos);
  EXPECT_NE(b.find("href=\"/services/business-licence/apply\""), std::string::npos);
  EXPECT_NE(b.find(">Start now<"), std::string::npos);
  EXPECT_NE(b.find("valid for 1 year"), std::string::npos);

  auto birth = Page("/services/birth-registration");
  ASSERT_EQ(birth.status, 200);
  EXPECT_NE(birth.body.find("There is no fee."), std::string::npos);
  EXPECT_NE(birth.body.find("3 working days"), std::string::npos);
  EXPECT_NE(birth.body.find("Department of Civil Registration and Census"), std::string::npos);
  // What the registers fill in, with consent.
  EXPECT_NE(birth.body.find("id=\"service-prefill\""), std::string::npos);
  EXPECT_NE(birth.body.find("from the Population register"), std::string::npos);

  auto clearance = Page("/services/security-clearance");
  EXPECT_NE(clearance.body.find("You do not need to upload any documents."), std::string::npos);
}

TEST_F(CatalogueTest, ShowsTheServicePageInDzongkha) {
  auto r = Page("/services/business-licence", "dz");
  ASSERT_EQ(r.status, 200);
  const std::string& b = r.body;
  EXPECT_NE(b.find("<html lang=\"dz\""), std::string::npos);
  EXPECT_NE(b.find("ཚོང་ལས་ཆོག་ཐམ།"), std::string::npos);
  // Amounts and days in Tibetan digits, as the definitions' Dzongkha writes them.
  EXPECT_NE(b.find("དངུལ་ཀྲམ་ ༥,༡༠༠"), std::string::npos);
  EXPECT_NE(b.find("“སིལ་ཚོང་”"), std::string::npos);  // the option, without its amount
  EXPECT_NE(b.find("ལཱ་གི་ཉིན་གྲངས་ ༧"), std::string::npos);
  EXPECT_NE(b.find("ད་ལྟོ་འགོ་བཙུགས།"), std::string::npos);
  EXPECT_EQ(b.find("Who can apply"), std::string::npos);
  auto list = Page("/services?life_event=birth", "dz");
  EXPECT_NE(list.body.find("སྐྱེས་ཐོ་ཐོ་བཀོད།"), std::string::npos);
}

TEST_F(CatalogueTest, RetiredAndUnknownServicesAreNotFound) {
  auto unknown = Page("/services/no-such-service");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("Page not found"), std::string::npos);
  EXPECT_EQ(Page("/services/" + http::PercentEncode("<script>")).status, 404);

  // Read once (and kept), then retired: the catalogue and the page follow.
  ASSERT_EQ(Page("/services/census-transfer").status, 200);
  ASSERT_EQ(Listed(Page("/services?agency=DCRC").body).size(), 2u);
  Retire("census-transfer");
  EXPECT_EQ(Page("/services/census-transfer").status, 404);
  EXPECT_EQ(Listed(Page("/services?agency=DCRC").body), Codes{"birth-registration"});
  EXPECT_EQ(Listed(Page("/services").body).size(), 4u);
}

TEST_F(CatalogueTest, FormsArePlainGetsThatWorkWithoutJavaScript) {
  auto r = Page("/services");
  const std::string form = Browser::Between(r.body, "<form", "</form>");
  EXPECT_NE(form.find("method=\"get\" action=\"/services\""), std::string::npos);
  EXPECT_EQ(form.find("csrf_token"), std::string::npos);
  for (const char* name : {"name=\"q\"", "name=\"life_event\"", "name=\"agency\"", "name=\"category\""}) {
    EXPECT_NE(form.find(name), std::string::npos) << name;
  }
  EXPECT_NE(form.find("type=\"submit\""), std::string::npos);
  EXPECT_EQ(r.body.find("<script"), std::string::npos);
  // What a browser sends when the form is submitted as it stands.
  auto sent = Page("/services?q=security&life_event=&agency=RBP&category=");
  EXPECT_EQ(Listed(sent.body), Codes{"security-clearance"});
  EXPECT_NE(sent.body.find("<option value=\"RBP\" selected>"), std::string::npos);
  // The home page leads here.
  EXPECT_NE(Page("/").body.find("href=\"/services\""), std::string::npos);
}

TEST_F(CatalogueTest, KeptPagesFollowTheLanguageAndTheVisitor) {
  ASSERT_EQ(Page("/services").status, 200);
  ASSERT_EQ(Page("/services").status, 200);  // now from the cache
  auto dz = Page("/services", "dz");
  EXPECT_NE(dz.body.find("གཞུང་གི་ཞབས་ཏོག་འཚོལ།"), std::string::npos);
  EXPECT_EQ(Page("/services").body.find("གཞུང་གི་ཞབས་ཏོག་འཚོལ།"), std::string::npos);
  // Accept-Language chooses too, when no cookie does.
  auto accept = client_->Get("/services", {{"Accept-Language", "dz, en;q=0.5"}});
  EXPECT_NE(accept.body.find("<html lang=\"dz\""), std::string::npos);

  // A signed-in citizen gets their own page, never the one kept for others.
  Browser citizen(server_.port());
  citizen.Get("/sign-in");
  auto signed_in = citizen.Post("/sign-in", {{"username", "11410012345"}, {"password", "Tashi-Delek-2026"}});
  ASSERT_EQ(signed_in.status, 303);
  auto mine = citizen.Get("/services");
  mine.body = Unescaped(mine.body);
  ASSERT_EQ(mine.status, 200);
  EXPECT_NE(mine.body.find("Sonam Choden"), std::string::npos);
  EXPECT_NE(mine.body.find("action=\"/sign-out\""), std::string::npos);
  // …and the next visitor does not get theirs.
  auto after = Page("/services");
  EXPECT_EQ(after.body.find("Sonam Choden"), std::string::npos);
  EXPECT_EQ(after.Header("set-cookie"), "");
}

}  // namespace
}  // namespace dzong::testing
