// The form runner on the engine under test, as a citizen uses it in a
// browser: conditions skip pages and drop hidden answers; pre-fill with
// consent shows the registers' answers read-only and records each read,
// without consent (or agreement) asks for them; drafts are saved, resumed
// and expire; uploads are checked by size and content and served back
// safely; an application keeps its version; submitting twice makes one.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "main/app.h"
#include "modules/exchange/exchange.h"
#include "modules/registries/registries.h"
#include "modules/services/services.h"
#include "support/browser.h"
#include "support/test_server.h"

namespace dzong::testing {
namespace {

using nlohmann::json;

constexpr char kCitizen[] = "11410012345";
constexpr char kPassword[] = "Tashi-Delek-2026";
const std::string kPdf = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// A service of the test's own: a page shown only for one answer, a field
/// shown only for another, and a document of at most 4 KB.
json PermitDefinition(const std::string& title = "Test permit") {
  const auto text = [](const std::string& en, const std::string& dz) { return json{{"en", en}, {"dz", dz}}; };
  return json{
      {"code", "test-permit"},
      {"owner", "DCRC"},
      {"title", text(title, "བརྟག་དཔྱད་ཆོག་ཐམ།")},
      {"summary", text("A permit for the tests", "བརྟག་དཔྱད་ཀྱི་དོན་ལུ་ཆོག་ཐམ།")},
      {"category", "other"},
      {"life_events", {"birth"}},
      {"eligibility", text("Anyone", "ག་ར་")},
      {"fee", {{"amount_chhertum", 10000}}},
      {"sla_working_days", 5},
      {"documents",
       {{{"type", "proof"}, {"title", text("Proof", "བདེན་ཁུངས།")}, {"formats", {"application/pdf", "image/png"}},
         {"max_bytes", 4096}, {"required", true}}}},
      {"form",
       {{"pages",
         {{{"id", "kind"},
           {"title", text("Where", "ག་ཏེ།")},
           {"fields",
            {{{"id", "place"},
              {"type", "choice"},
              {"label", text("Place", "ས་གནས།")},
              {"required", true},
              {"options", {{{"value", "home"}, {"label", text("Home", "ཁྱིམ།")}},
                           {{"value", "hospital"}, {"label", text("Hospital", "སྨན་ཁང་།")}}}}},
             {{"id", "hospital_name"},
              {"type", "text"},
              {"label", text("Hospital name", "སྨན་ཁང་གི་མིང་།")},
              {"required", true},
              {"max_length", 40},
              {"show_when", {{"field", "place"}, {"equals", "hospital"}}}}}}},
          {{"id", "home_details"},
           {"title", text("Home", "ཁྱིམ།")},
           {"show_when", {{"field", "place"}, {"equals", "home"}}},
           {"fields",
            {{{"id", "home_address"}, {"type", "address"}, {"label", text("Home address", "ཁྱིམ་གྱི་ཁ་བྱང་།")},
              {"required", true}}}}},
          {{"id", "proof_page"},
           {"title", text("Proof", "བདེན་ཁུངས།")},
           {"fields",
            {{{"id", "proof"}, {"type", "file"}, {"label", text("Proof of place", "ས་གནས་ཀྱི་བདེན་ཁུངས།")},
              {"required", true}, {"document", "proof"}}}}}}}}},
      {"justifications",
       {{{"field", "home_address"},
         {"registry_field", "population.dzongkhag"},
         {"reason", "The place asked is where the applicant lives now, not where their household is registered."}}}},
      {"workflow",
       {{"initial", "submitted"},
        {"states",
         {{{"id", "submitted"}, {"title", text("Submitted", "ཕུལ་ཡོདཔ།")}},
          {{"id", "approved"}, {"title", text("Approved", "ཆོག་ཐམ་བྱིན་ཡོདཔ།")}, {"final", true}, {"outcome", "approved"}}}},
        {"transitions",
         {{{"id", "approve"}, {"from", "submitted"}, {"to", "approved"}, {"label", text("Approve", "ཆོག་ཐམ་བྱིན།")},
           {"by", {{"role", "officer"}}}}}}}}};
}

/// A page's text with the entities Mustache escapes in attributes decoded.
std::string Unescaped(std::string html) {
  for (const auto& [entity, text] : std::vector<std::pair<std::string, std::string>>{
           {"&#x2F;", "/"}, {"&#x3D;", "="}, {"&#x60;", "`"}, {"&#39;", "'"}, {"&quot;", "\""}, {"&amp;", "&"}}) {
    for (auto at = html.find(entity); at != std::string::npos; at = html.find(entity, at + text.size())) {
      html.replace(at, entity.size(), text);
    }
  }
  return html;
}

class FormsTest : public ::testing::Test {
 protected:
  explicit FormsTest(std::chrono::seconds lifetime = std::chrono::hours(24))
      : data_dir_(std::filesystem::temp_directory_path() / ("dzong-forms-" + RandomHex(6))),
        server_([&](Config& c) {
          c.data_dir = data_dir_.string();
          c.forms.draft_lifetime = lifetime;
        }) {}
  ~FormsTest() override {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }

  void SetUp() override {
    audit::Actor seeder;
    seeder.id = "seed";
    ASSERT_TRUE(server_.app().Registries().SeedPopulation(30, 5, true, seeder).ok());
    // These tests make the agreements they need: the demo ones of the
    // seeded services are revoked, so that "no agreement" is the start.
    audit::Actor dcrc;
    dcrc.id = "seed";
    dcrc.organisation = "DCRC";
    auto agreements = server_.app().Exchange().ForOrganisation("DCRC");
    ASSERT_TRUE(agreements.ok());
    for (const auto& a : *agreements) {
      if (a.status == "approved" && a.consumer != "DCRC") {
        ASSERT_TRUE(server_.app().Exchange().Decide(a.id, "revoke", "", dcrc).ok());
      }
    }
  }

  static audit::Actor Designer() {
    audit::Actor a;
    a.id = "dcrc.designer";
    a.organisation = "DCRC";
    a.role = "service_designer";
    return a;
  }

  void Publish(const json& definition) {
    auto draft = server_.app().Services().SaveDraft(definition, Designer());
    ASSERT_TRUE(draft.ok()) << draft.error().message << " " << (draft.error().fields.empty() ? "" : draft.error().fields[0].message);
    auto published = server_.app().Services().Publish(definition.value("code", ""), draft->version, Designer());
    ASSERT_TRUE(published.ok()) << published.error().message << " "
                                << (published.error().fields.empty() ? "" : published.error().fields[0].message);
  }

  std::unique_ptr<Browser> SignIn() {
    auto b = std::make_unique<Browser>(server_.port());
    b->Get("/sign-in");
    auto r = b->Post("/sign-in", {{"username", kCitizen}, {"password", kPassword}});
    EXPECT_EQ(r.status, 303) << r.body;
    return b;
  }

  /// Starts a draft and returns its path, /my/drafts/<id>.
  std::string Start(Browser& b, const std::string& code, const std::string& consent = "") {
    auto page = b.Get("/services/" + code + "/apply");
    EXPECT_EQ(page.status, 200) << page.body;
    std::map<std::string, std::string> fields;
    if (!consent.empty()) fields["consent"] = consent;
    auto r = b.Post("/services/" + code + "/apply", fields);
    EXPECT_EQ(r.status, 303) << r.body;
    const std::string location = r.Header("location");
    return location.substr(0, location.find("/pages/") == std::string::npos ? location.find("/check")
                                                                             : location.find("/pages/"));
  }

  /// A page POST as a browser sends a form with a file.
  HttpResponse PostFiles(Browser& b, const std::string& target, const std::map<std::string, std::string>& fields,
                         const std::map<std::string, std::pair<std::string, std::string>>& files) {
    const std::string boundary = "----dzongtest" + RandomHex(8);
    std::string body;
    std::map<std::string, std::string> all = fields;
    all["csrf_token"] = b.csrf();
    for (const auto& [name, value] : all) {
      body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
    }
    for (const auto& [name, file] : files) {
      // The browser's type says nothing the server believes.
      body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + file.first +
              "\"\r\nContent-Type: image/png\r\n\r\n" + file.second + "\r\n";
    }
    body += "--" + boundary + "--\r\n";
    HttpClient client(server_.port());
    return client.Send("POST", target, body,
                       {{"Cookie", "dzong_session=" + b.Cookie("dzong_session") + "; dzong_csrf=" + b.Cookie("dzong_csrf")},
                        {"Content-Type", "multipart/form-data; boundary=" + boundary},
                        {"Accept", "text/html"}});
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

  std::string Text(const std::string& sql) {
    return server_.app()
        .Database()
        .ReadValue<std::string>([&](db::Connection& c) -> Result<std::string> {
          DZONG_ASSIGN_OR_RETURN(auto rows, c.Query(sql));
          if (rows.empty()) return std::string();
          return rows.at(0).Text(0);
        })
        .value();
  }

  json Answers(const std::string& draft_path) {
    const std::string id = draft_path.substr(draft_path.rfind('/') + 1);
    return json::parse(Text("SELECT answers FROM form_drafts WHERE id = " + id));
  }

  std::size_t StoredFiles() {
    std::size_t n = 0;
    std::error_code ec;
    if (!std::filesystem::exists(data_dir_ / "uploads", ec)) return 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(data_dir_ / "uploads")) n += e.is_regular_file();
    return n;
  }

  std::filesystem::path data_dir_;
  TestServer server_;
};

TEST_F(FormsTest, AHiddenPageIsSkippedAndAHiddenFieldsAnswerDropped) {
  Publish(PermitDefinition());
  auto b = SignIn();
  const std::string draft = Start(*b, "test-permit");
  auto first = b->Get(draft + "/pages/kind");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_NE(first.body.find("name=\"place\""), std::string::npos);
  // Hospital: the hospital's name is asked, the home page is skipped.
  auto r = b->Post(draft + "/pages/kind", {{"place", "hospital"}, {"hospital_name", "JDWNR Hospital"}});
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(r.Header("location"), draft + "/pages/proof_page");
  EXPECT_EQ(b->Get(draft + "/pages/home_details").status, 404);
  EXPECT_EQ(Answers(draft)["hospital_name"], "JDWNR Hospital");
  // Home instead: the hospital's name is dropped and the home page comes next.
  r = b->Post(draft + "/pages/kind", {{"place", "home"}, {"hospital_name", "JDWNR Hospital"}});
  ASSERT_EQ(r.status, 303);
  EXPECT_EQ(r.Header("location"), draft + "/pages/home_details");
  EXPECT_FALSE(Answers(draft).contains("hospital_name"));
  // An address is a dzongkhag, one of its own gewogs, and a village.
  r = b->Post(draft + "/pages/home_details",
              {{"home_address-dzongkhag", "Paro"}, {"home_address-gewog", "Chang"}, {"home_address-village", "Dop"}});
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("href=\"#home_address-gewog\""), std::string::npos);
  r = b->Post(draft + "/pages/home_details",
              {{"home_address-dzongkhag", "Thimphu"}, {"home_address-gewog", "Chang"}, {"home_address-village", "Motithang"}});
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(Answers(draft)["home_address"], json({{"dzongkhag", "Thimphu"}, {"gewog", "Chang"}, {"village", "Motithang"}}));
}

TEST_F(FormsTest, InvalidInputIsShownWithItsFieldAndChangesNothing) {
  Publish(PermitDefinition());
  auto b = SignIn();
  const std::string draft = Start(*b, "test-permit");
  ASSERT_EQ(b->Post(draft + "/pages/kind", {{"place", "hospital"}, {"hospital_name", "JDWNR"}}).status, 303);
  const std::string before = Text("SELECT answers || updated_at FROM form_drafts");
  const std::int64_t saves = Count("SELECT COUNT(*) FROM audit_events WHERE action = 'forms.draft_saved'");
  auto r = b->Post(draft + "/pages/kind", {{"place", "hospital"}, {"hospital_name", std::string(41, 'x')}});
  ASSERT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("govuk-error-summary"), std::string::npos);
  EXPECT_NE(r.body.find("href=\"#hospital_name\""), std::string::npos);
  EXPECT_NE(r.body.find("Hospital name must be 40 characters or fewer"), std::string::npos) << r.body;
  r = b->Post(draft + "/pages/kind", {});
  ASSERT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("Select Place"), std::string::npos);
  EXPECT_EQ(Text("SELECT answers || updated_at FROM form_drafts"), before);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'forms.draft_saved'"), saves);
}

TEST_F(FormsTest, WithConsentTheRegistersAnswersAreShownReadOnlyAndEachReadIsRecorded) {
  auto b = SignIn();
  auto start = b->Get("/services/census-transfer/apply");
  ASSERT_EQ(start.status, 200);
  EXPECT_NE(start.body.find("Use my records from"), std::string::npos) << start.body;
  // The consent question must be answered.
  auto unanswered = b->Post("/services/census-transfer/apply", {});
  EXPECT_EQ(unanswered.status, 422);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM form_drafts"), 0);
  const std::string draft = Start(*b, "census-transfer", "yes");
  auto page = b->Get(draft + "/pages/current_household");
  ASSERT_EQ(page.status, 200) << page.body;
  const std::string household = Text(
      "SELECT data FROM registry_records WHERE registry = 'population' AND record_key = '11410012345' AND valid_to IS NULL");
  const std::string number = json::parse(household)["household_number"];
  EXPECT_NE(page.body.find(number), std::string::npos);
  EXPECT_EQ(page.body.find("name=\"household_number\""), std::string::npos) << "a pre-filled answer is not an input";
  EXPECT_NE(page.body.find("Population register"), std::string::npos);
  EXPECT_NE(page.body.find("This is wrong"), std::string::npos);
  EXPECT_NE(Unescaped(page.body).find("href=\"/my/corrections/new?registry=population&field=household_number\""),
            std::string::npos);
  // Each read names the person and the purpose.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'forms.prefill_read' AND subject = '11410012345' "
                  "AND purpose = 'service:census-transfer'"),
            4);
  // The person sees the reads in their data tracker, by the owner's form service.
  auto tracker = b->Get("/my/data-access");
  ASSERT_EQ(tracker.status, 200);
  EXPECT_NE(Unescaped(tracker.body).find("BT/GOV/DCRC/FORMS"), std::string::npos);
  EXPECT_NE(Unescaped(tracker.body).find("service:census-transfer"), std::string::npos);
  // A POST cannot change a register's answer.
  auto r = b->Post(draft + "/pages/current_household", {{"household_number", "99999999"}});
  ASSERT_EQ(r.status, 303) << r.body;
  auto check_draft = server_.app().Database().ReadValue<std::string>([&](db::Connection& c) -> Result<std::string> {
    DZONG_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT prefilled FROM form_drafts"));
    return rows.at(0).Text(0);
  });
  EXPECT_EQ(json::parse(*check_draft)["household_number"]["value"], number);
  EXPECT_FALSE(Answers(draft).contains("household_number"));
  // The DCRC keeps the register: no agreement, so no consent artefact either.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM consents"), 0);
}

TEST_F(FormsTest, WithoutConsentTheFieldsAreAskedAsInputs) {
  auto b = SignIn();
  const std::string draft = Start(*b, "census-transfer", "no");
  auto page = b->Get(draft + "/pages/current_household");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("name=\"household_number\""), std::string::npos);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'forms.prefill_read'"), 0);
  auto r = b->Post(draft + "/pages/current_household",
                   {{"household_number", "14000123"}, {"dzongkhag", "Thimphu"}, {"gewog", "Chang"}, {"village", "Babesa"}});
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(Answers(draft)["household_number"], "14000123");
}

TEST_F(FormsTest, AnotherAgencyPrefillsOnlyUnderAnAgreementAndRecordsTheConsent) {
  // The police own the security clearance; the DCRC keeps the population register.
  auto b = SignIn();
  auto start = b->Get("/services/security-clearance/apply");
  ASSERT_EQ(start.status, 200);
  EXPECT_EQ(start.body.find("name=\"consent\""), std::string::npos) << "nothing can be pre-filled without an agreement";
  std::string draft = Start(*b, "security-clearance");
  EXPECT_NE(b->Get(draft + "/pages/your_details").body.find("name=\"given_name\""), std::string::npos);

  audit::Actor rbp;
  rbp.id = "rbp.admin";
  rbp.organisation = "RBP";
  exchange::Agreement a;
  a.consumer = "RBP";
  a.subsystem = "BT/GOV/RBP/CLEARANCE";
  a.registry = "population";
  a.fields = {"given_name", "surname", "date_of_birth", "dzongkhag", "gewog", "village", "household_number"};
  a.purpose_code = "service:security-clearance";
  a.purpose_text = "Security clearance certificates";
  a.legal_basis = "consent";
  a.legal_reference = "The applicant's consent";
  a.valid_from = "2020-01-01";
  a.valid_to = "2100-01-01";
  auto asked = server_.app().Exchange().Request(a, rbp);
  ASSERT_TRUE(asked.ok()) << asked.error().message;
  audit::Actor dcrc;
  dcrc.id = "dcrc.admin";
  dcrc.organisation = "DCRC";
  ASSERT_TRUE(server_.app().Exchange().Decide(asked->id, "approve", "", dcrc).ok());

  start = b->Get("/services/security-clearance/apply");
  EXPECT_NE(start.body.find("name=\"consent\""), std::string::npos);
  draft = Start(*b, "security-clearance", "yes");
  auto page = b->Get(draft + "/pages/your_details");
  EXPECT_EQ(page.body.find("name=\"given_name\""), std::string::npos);
  EXPECT_NE(page.body.find("Sonam Choden"), std::string::npos);
  auto consents = server_.app().Exchange().Consents(kCitizen);
  ASSERT_TRUE(consents.ok());
  ASSERT_EQ(consents->size(), 1u);
  EXPECT_EQ((*consents)[0].consumer, "RBP");
  EXPECT_EQ((*consents)[0].purpose_code, "service:security-clearance");
  EXPECT_EQ((*consents)[0].valid_to, Text("SELECT expires_at FROM form_drafts ORDER BY created_at DESC"));
  // Seven fields, of which the register holds six for her (she has no surname).
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'forms.prefill_read' AND subject = '11410012345' "
                  "AND purpose = 'service:security-clearance'"),
            6);
}

TEST_F(FormsTest, DraftsAreSavedAndResumed) {
  Publish(PermitDefinition());
  auto b = SignIn();
  const std::string draft = Start(*b, "test-permit");
  ASSERT_EQ(b->Post(draft + "/pages/kind", {{"place", "hospital"}, {"hospital_name", "JDWNR"}}).status, 303);
  // Another browser, later: the list of drafts resumes where it stopped.
  auto later = SignIn();
  auto list = later->Get("/my/drafts");
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("Test permit"), std::string::npos);
  EXPECT_NE(Unescaped(list.body).find("href=\"" + draft + "/pages/proof_page\""), std::string::npos);
  auto page = later->Get(draft + "/pages/kind");
  EXPECT_NE(page.body.find("value=\"JDWNR\""), std::string::npos);
  EXPECT_NE(page.body.find("value=\"hospital\" checked"), std::string::npos);
}

class ShortDraftsTest : public FormsTest {
 protected:
  ShortDraftsTest() : FormsTest(std::chrono::seconds(1)) {}
};

TEST_F(ShortDraftsTest, AnExpiredDraftCannotBeOpenedAndIsRemoved) {
  Publish(PermitDefinition());
  auto b = SignIn();
  const std::string draft = Start(*b, "test-permit");
  ASSERT_EQ(b->Get(draft + "/pages/kind").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  auto expired = b->Get(draft + "/pages/kind");
  EXPECT_EQ(expired.status, 410);
  EXPECT_NE(expired.body.find("This draft has expired"), std::string::npos);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM form_drafts"), 0);
  EXPECT_EQ(b->Get(draft + "/pages/kind").status, 404);
  // Expired drafts leave the list too.
  const std::string second = Start(*b, "test-permit");
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  auto list = b->Get("/my/drafts");
  EXPECT_NE(list.body.find("You have no drafts"), std::string::npos);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM form_drafts"), 0);
}

TEST_F(FormsTest, UploadsAreLimitedInSizeAndCheckedByContent) {
  Publish(PermitDefinition());
  auto b = SignIn();
  const std::string draft = Start(*b, "test-permit");
  ASSERT_EQ(b->Post(draft + "/pages/kind", {{"place", "hospital"}, {"hospital_name", "JDWNR"}}).status, 303);
  ASSERT_EQ(b->Get(draft + "/pages/proof_page").status, 200);
  // Too large: 422 naming the field and the limit; nothing stored.
  auto r = PostFiles(*b, draft + "/pages/proof_page", {}, {{"proof", {"big.pdf", "%PDF-" + std::string(5000, 'x')}}});
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("Proof of place must be smaller than 4 KB"), std::string::npos) << r.body;
  EXPECT_EQ(Count("SELECT COUNT(*) FROM uploads"), 0);
  EXPECT_EQ(StoredFiles(), 0u);
  // A draft's page may send more than the 1 MiB other requests may: the
  // document's own limit answers, naming the field.
  r = PostFiles(*b, draft + "/pages/proof_page", {}, {{"proof", {"big.pdf", "%PDF-" + std::string(1536 * 1024, 'x')}}});
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("Proof of place must be smaller than 4 KB"), std::string::npos);
  EXPECT_EQ(StoredFiles(), 0u);
  HttpClient other(server_.port());
  EXPECT_EQ(other.Send("POST", "/my/corrections", std::string(1536 * 1024, 'x'),
                       {{"Content-Type", "application/x-www-form-urlencoded"}}).status,
            413);
  // HTML named .pdf is refused.
  r = PostFiles(*b, draft + "/pages/proof_page", {}, {{"proof", {"form.pdf", "<html><script>alert(1)</script></html>"}}});
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("Proof of place must be a PDF, PNG file"), std::string::npos) << r.body;
  EXPECT_EQ(Count("SELECT COUNT(*) FROM uploads"), 0);
  EXPECT_EQ(StoredFiles(), 0u);
  // A PDF named .png is a PDF.
  r = PostFiles(*b, draft + "/pages/proof_page", {}, {{"proof", {"scan.png", kPdf}}});
  ASSERT_EQ(r.status, 303) << r.body;
  const std::string sha = Sha256Hex(kPdf);
  EXPECT_EQ(Answers(draft)["proof"]["media_type"], "application/pdf");
  EXPECT_EQ(Answers(draft)["proof"]["sha256"], sha);
  EXPECT_EQ(Text("SELECT media_type FROM uploads WHERE sha256 = '" + sha + "'"), "application/pdf");
  EXPECT_TRUE(std::filesystem::exists(data_dir_ / "uploads" / sha.substr(0, 2) / sha));
  // Served back as an attachment of the sniffed type, never run.
  auto file = b->Get(draft + "/files/" + sha);
  ASSERT_EQ(file.status, 200);
  EXPECT_EQ(file.body, kPdf);
  EXPECT_EQ(file.Header("content-type"), "application/pdf");
  EXPECT_TRUE(file.Header("content-disposition").starts_with("attachment; filename=\"scan.png\""));
  EXPECT_EQ(file.Header("x-content-type-options"), "nosniff");
  EXPECT_NE(file.Header("content-security-policy").find("sandbox"), std::string::npos);
  EXPECT_EQ(b->Get(draft + "/files/" + std::string(64, 'a')).status, 404);
  // Nobody else gets it.
  HttpClient anonymous(server_.port());
  EXPECT_EQ(anonymous.Get(draft + "/files/" + sha).status, 303);
}

TEST_F(FormsTest, AnApplicationKeepsItsVersionAndIsMadeOnceHoweverOftenItIsSent) {
  Publish(PermitDefinition());
  auto b = SignIn();
  const std::string draft = Start(*b, "test-permit");
  // The service publishes a new version while the draft is open.
  Publish(PermitDefinition("Test permit, second edition"));
  ASSERT_EQ(b->Post(draft + "/pages/kind", {{"place", "hospital"}, {"hospital_name", "JDWNR"}}).status, 303);
  ASSERT_EQ(PostFiles(*b, draft + "/pages/proof_page", {}, {{"proof", {"scan.pdf", kPdf}}}).status, 303);
  auto check = b->Get(draft + "/check");
  ASSERT_EQ(check.status, 200) << check.body;
  EXPECT_NE(check.body.find("govuk-summary-list"), std::string::npos);
  EXPECT_NE(Unescaped(check.body).find("href=\"" + draft + "/pages/kind#place\""), std::string::npos);
  EXPECT_NE(check.body.find("Test permit"), std::string::npos);
  EXPECT_EQ(check.body.find("second edition"), std::string::npos);
  auto sent = b->Post(draft + "/submit", {});
  ASSERT_EQ(sent.status, 303) << sent.body;
  EXPECT_EQ(sent.Header("location"), draft + "/submitted");
  auto again = b->Post(draft + "/submit", {});
  EXPECT_EQ(again.status, 303);
  EXPECT_EQ(again.Header("location"), draft + "/submitted");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM applications"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM form_drafts"), 0);
  EXPECT_EQ(Count("SELECT service_version FROM applications"), 1);
  const std::string reference = Text("SELECT reference FROM applications");
  EXPECT_TRUE(reference.starts_with("DCRC-20")) << reference;
  EXPECT_TRUE(reference.ends_with("-000001")) << reference;
  EXPECT_EQ(Text("SELECT state FROM applications"), "submitted");
  EXPECT_EQ(Text("SELECT channel FROM applications"), "web");
  EXPECT_EQ(Text("SELECT applicant FROM applications"), kCitizen);
  const json answers = json::parse(Text("SELECT answers FROM applications"));
  EXPECT_EQ(answers["hospital_name"], "JDWNR");
  EXPECT_EQ(answers["proof"]["media_type"], "application/pdf");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'forms.application_submitted' AND subject = '" +
                  std::string(kCitizen) + "' AND object_id = '" + reference + "'"),
            1);
  auto confirmation = b->Get(draft + "/submitted");
  ASSERT_EQ(confirmation.status, 200);
  EXPECT_NE(confirmation.body.find(reference), std::string::npos);
  // The file stays the applicant's to read after submission.
  EXPECT_EQ(b->Get(draft + "/files/" + Sha256Hex(kPdf)).status, 200);
  // A new draft is on the new version.
  const std::string next = Start(*b, "test-permit");
  EXPECT_EQ(Count("SELECT version FROM form_drafts"), 2);
  EXPECT_NE(b->Get(next + "/pages/kind").body.find("second edition"), std::string::npos);
}

TEST_F(FormsTest, TheSeededBirthRegistrationIsFilledInAndSent) {
  auto b = SignIn();
  const std::string draft = Start(*b, "birth-registration", "yes");
  auto r = b->Post(draft + "/pages/about_you", {});
  ASSERT_EQ(r.status, 303) << r.body;
  r = b->Post(draft + "/pages/father", {{"father_cid", "11420000001"}});
  ASSERT_EQ(r.status, 303) << r.body;
  r = b->Post(draft + "/pages/father_name", {{"father_given_name", "Dorji"}});
  ASSERT_EQ(r.status, 303) << r.body;
  const auto today = std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
  r = b->Post(draft + "/pages/child", {{"child_given_name", "Karma"},
                                       {"child_sex", "female"},
                                       {"child_date_of_birth-day", "1"},
                                       {"child_date_of_birth-month", std::to_string(static_cast<unsigned>(today.month()))},
                                       {"child_date_of_birth-year", std::to_string(static_cast<int>(today.year()))},
                                       {"place_of_birth", "home"},
                                       {"hospital_name", "not asked"},
                                       {"birth_place_description", "At home in Chang"}});
  ASSERT_EQ(r.status, 303) << r.body;
  ASSERT_EQ(PostFiles(*b, draft + "/pages/documents", {}, {{"birth_notification", {"notification.pdf", kPdf}}}).status, 303);
  ASSERT_EQ(b->Get(draft + "/check").status, 200);
  r = b->Post(draft + "/submit", {});
  ASSERT_EQ(r.status, 303) << r.body;
  const json answers = json::parse(Text("SELECT answers FROM applications"));
  EXPECT_EQ(answers["given_name"], "Sonam Choden");
  EXPECT_FALSE(answers.contains("hospital_name"));
  EXPECT_EQ(Text("SELECT state FROM applications"), "awaiting_father");
  auto sent = b->Get(draft + "/submitted");
  EXPECT_EQ(sent.status, 200) << sent.body;
}

TEST_F(FormsTest, ASecondApplicationIsMadeOnItsOwnDraftAfterTheFirst) {
  auto b = SignIn();
  Publish(PermitDefinition());
  {
    const std::string first = Start(*b, "test-permit");
    ASSERT_EQ(b->Post(first + "/pages/kind", {{"place", "hospital"}, {"hospital_name", "JDWNR"}}).status, 303);
    ASSERT_EQ(PostFiles(*b, first + "/pages/proof_page", {}, {{"proof", {"scan.pdf", kPdf}}}).status, 303);
    ASSERT_EQ(b->Post(first + "/submit", {}).status, 303);
  }
  const std::string draft = Start(*b, "security-clearance");
  auto r = b->Post(draft + "/pages/your_details",
                   {{"given_name", "Sonam Choden"}, {"date_of_birth-day", "12"}, {"date_of_birth-month", "3"},
                    {"date_of_birth-year", "1994"}, {"dzongkhag", "Thimphu"}, {"gewog", "Chang"},
                    {"village", "Chiwog 2, Chang"}, {"household_number", "14900001"}});
  ASSERT_EQ(r.status, 303) << r.body;
  r = b->Post(draft + "/pages/purpose", {{"clearance_type", "general"}});
  ASSERT_EQ(r.status, 303) << r.body;
  ASSERT_EQ(b->Get(draft + "/check").status, 200);
  r = b->Post(draft + "/submit", {});
  ASSERT_EQ(r.status, 303) << r.body;
  auto sent = b->Get(draft + "/submitted");
  EXPECT_EQ(sent.status, 200) << sent.body;
  EXPECT_TRUE(Text("SELECT reference FROM applications WHERE service = 'security-clearance'").starts_with("RBP-"));
}

TEST_F(FormsTest, ConcurrentSubmissionsGetOneApplicationEachAndDistinctReferences) {
  Publish(PermitDefinition());
  auto b = SignIn();
  std::vector<std::string> drafts;
  for (int i = 0; i < 4; ++i) {
    drafts.push_back(Start(*b, "test-permit"));
    ASSERT_EQ(b->Post(drafts.back() + "/pages/kind", {{"place", "hospital"}, {"hospital_name", "JDWNR"}}).status, 303);
    ASSERT_EQ(PostFiles(*b, drafts.back() + "/pages/proof_page", {}, {{"proof", {"scan.pdf", kPdf}}}).status, 303);
  }
  b->Get("/my/drafts");
  const std::string cookie = "dzong_session=" + b->Cookie("dzong_session") + "; dzong_csrf=" + b->Cookie("dzong_csrf");
  const std::string body = "csrf_token=" + b->csrf();
  std::vector<std::thread> threads;
  std::atomic<int> redirected{0};
  // Each draft sent twice at once.
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      HttpClient client(server_.port());
      auto r = client.Send("POST", drafts[i % 4] + "/submit", body,
                           {{"Cookie", cookie}, {"Content-Type", "application/x-www-form-urlencoded"}});
      if (r.status == 303) ++redirected;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(redirected.load(), 8);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM applications"), 4);
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT reference) FROM applications"), 4);
  EXPECT_EQ(Count("SELECT MAX(last_number) FROM application_sequences"), 4);
}

}  // namespace
}  // namespace dzong::testing
