// Assisted digital on the engine under test, over HTTP: a community-centre
// operator finds a citizen by CID, records their consent on paper (with a
// scan) or by a one-time SMS code, fills the form with the form runner's
// pages and sends it with channel community centre; the citizen is told in
// the same transaction and sees the application and who sent it; another
// operator sees and opens none of it; bad input is refused by field and
// rule and changes nothing; every step is in the audit log.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "main/app.h"
#include "modules/forms/forms.h"
#include "modules/identity/identity.h"
#include "modules/registries/registries.h"
#include "support/browser.h"
#include "support/official_sign_in.h"
#include "support/test_server.h"

namespace dzong::testing {
namespace {

using nlohmann::json;

constexpr char kCitizen[] = "11410012345";  // Sonam Choden, who has an account
constexpr char kOperator[] = "deki.choden";
constexpr char kOperatorPassword[] = "Community-Centre-2026";
const std::string kPdf = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

class AssistedTest : public ::testing::Test {
 protected:
  AssistedTest()
      : data_dir_(std::filesystem::temp_directory_path() / ("dzong-assisted-" + RandomHex(6))),
        server_([&](Config& c) { c.data_dir = data_dir_.string(); }) {}
  ~AssistedTest() override {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }

  void SetUp() override {
    audit::Actor seeder;
    seeder.id = "seed";
    ASSERT_TRUE(server_.app().Registries().SeedPopulation(30, 5, true, seeder).ok());
  }

  /// Signs an official in for the first time: password, then the authenticator.
  std::unique_ptr<Browser> SignInOfficial(const std::string& user, const std::string& password) {
    return SignInOfficialFirstTime(server_.port(), user, password);
  }

  std::unique_ptr<Browser> SignInCitizen() {
    auto b = std::make_unique<Browser>(server_.port());
    b->Get("/sign-in");
    EXPECT_EQ(b->Post("/sign-in", {{"username", kCitizen}, {"password", "Tashi-Delek-2026"}}).status, 303);
    return b;
  }

  /// A second operator, at the Paro Dzongkhag Administration.
  std::unique_ptr<Browser> OtherOperator() {
    auto client = server_.Client();
    auto created = client->Send("POST", "/api/v1/accounts",
                                json{{"kind", "official"},
                                     {"username", "tshering.wangdi"},
                                     {"display_name", "Tshering Wangdi"},
                                     {"organisation", "DZ-PARO"},
                                     {"password", "Other-Operator-2026"}}
                                    .dump(),
                                Operator());
    EXPECT_EQ(created.status, 201) << created.body;
    const std::int64_t id = json::parse(created.body)["id"];
    EXPECT_EQ(client->Send("POST", "/api/v1/accounts/" + std::to_string(id) + "/grants",
                           json{{"role", "community_centre_operator"}}.dump(), Operator())
                  .status,
              201);
    return SignInOfficial("tshering.wangdi", "Other-Operator-2026");
  }

  /// A multipart POST as a browser sends a form with a file.
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
      body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + file.first +
              "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + file.second + "\r\n";
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
          if (rows.empty() || rows.at(0).IsNull(0)) return std::string();
          return rows.at(0).Text(0);
        })
        .value();
  }

  /// A person of the seeded register other than the demo citizen (no account).
  std::string OtherPerson() {
    return Text("SELECT record_key FROM registry_records WHERE registry = 'population' AND record_key <> '11410012345' "
                "ORDER BY record_key LIMIT 1");
  }

  /// Finds the citizen and opens the consent page for `service`.
  void Choose(Browser& b, const std::string& cid, const std::string& service) {
    ASSERT_EQ(b.Get("/assist").status, 200);
    auto found = b.Post("/assist", {{"cid", cid}});
    ASSERT_EQ(found.status, 303) << found.body;
    ASSERT_EQ(found.Header("location"), "/assist/citizens/" + cid);
    ASSERT_EQ(b.Get("/assist/citizens/" + cid).status, 200);
    ASSERT_EQ(b.Get("/assist/citizens/" + cid + "/services/" + service).status, 200);
  }

  /// The draft path (/assist/drafts/<id>) from a redirect into it.
  static std::string DraftOf(const HttpResponse& r) {
    const std::string location = r.Header("location");
    const auto pages = location.find("/pages/");
    return location.substr(0, pages == std::string::npos ? location.find("/check") : pages);
  }

  std::int64_t Audited(const std::string& action, const std::string& subject) {
    return Count(fmt::format("SELECT COUNT(*) FROM audit_events WHERE action = '{}' AND subject = '{}'", action, subject));
  }

  std::filesystem::path data_dir_;
  TestServer server_;
};

TEST_F(AssistedTest, AnOperatorAppliesForACitizenWithConsentOnPaper) {
  auto b = SignInOfficial(kOperator, kOperatorPassword);
  Choose(*b, kCitizen, "security-clearance");
  auto citizen = b->Get("/assist/citizens/" + std::string(kCitizen));
  EXPECT_NE(citizen.body.find("Sonam Choden"), std::string::npos);
  EXPECT_NE(citizen.body.find("Yes: they can also follow"), std::string::npos);

  auto started = PostFiles(*b, "/assist/citizens/" + std::string(kCitizen) + "/services/security-clearance",
                           {{"method", "paper"}}, {{"scan", {"consent.pdf", kPdf}}});
  ASSERT_EQ(started.status, 303) << started.body;
  const std::string draft = DraftOf(started);
  ASSERT_TRUE(draft.starts_with("/assist/drafts/")) << draft;
  const std::string draft_id = draft.substr(draft.rfind('/') + 1);
  EXPECT_EQ(Text("SELECT assisted_by FROM form_drafts WHERE id = " + draft_id), kOperator);
  EXPECT_EQ(Text("SELECT applicant FROM form_drafts WHERE id = " + draft_id), kCitizen);
  EXPECT_EQ(Text("SELECT consent_method FROM form_drafts WHERE id = " + draft_id), "paper");
  EXPECT_EQ(Text("SELECT consent_evidence FROM form_drafts WHERE id = " + draft_id), Sha256Hex(kPdf));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM uploads WHERE uploaded_by = 'deki.choden' AND sha256 = '" + Sha256Hex(kPdf) + "'"),
            1);

  // The form runner's pages, pre-filled from the register under the consent.
  auto details = b->Get(draft + "/pages/your_details");
  ASSERT_EQ(details.status, 200) << details.body;
  EXPECT_NE(details.body.find("Sonam"), std::string::npos);
  ASSERT_EQ(b->Post(draft + "/pages/your_details", {}).status, 303);
  ASSERT_EQ(b->Post(draft + "/pages/purpose", {{"clearance_type", "general"}}).status, 303);
  ASSERT_EQ(b->Get(draft + "/check").status, 200);
  auto sent = b->Post(draft + "/submit", {});
  ASSERT_EQ(sent.status, 303) << sent.body;
  EXPECT_EQ(sent.Header("location"), draft + "/submitted");
  auto confirmation = b->Get(draft + "/submitted");
  ASSERT_EQ(confirmation.status, 200);
  const std::string reference = Browser::Between(confirmation.body, "id=\"reference\">", "<");
  ASSERT_TRUE(reference.starts_with("RBP-")) << reference;

  const std::string where = " FROM applications WHERE reference = '" + reference + "'";
  EXPECT_EQ(Text("SELECT channel" + where), "community_centre");
  EXPECT_EQ(Text("SELECT submitted_by" + where), kOperator);
  EXPECT_EQ(Text("SELECT submitted_centre" + where), "DZ-THIMPHU");
  EXPECT_EQ(Text("SELECT applicant" + where), kCitizen);
  EXPECT_EQ(json::parse(Text("SELECT answers" + where))["given_name"], "Sonam Choden");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM form_drafts WHERE id = " + draft_id), 0);

  // The citizen's notice, written with the application (the same time).
  const std::string notice = " FROM notification_outbox WHERE template = 'application.submitted_for_you'";
  EXPECT_EQ(Count("SELECT COUNT(*)" + notice), 1);
  EXPECT_EQ(Text("SELECT channel" + notice), "account");
  EXPECT_EQ(Text("SELECT recipient" + notice), kCitizen);
  EXPECT_EQ(Text("SELECT created_at" + notice), Text("SELECT submitted_at" + where));
  const json payload = json::parse(Text("SELECT payload" + notice));
  EXPECT_EQ(payload, (json{{"reference", reference},
                           {"service_en", "Apply for a security clearance certificate"},
                           {"service_dz", "ཉེན་སྲུང་བདེ་འཇགས་ཆོག་ཐམ།"},
                           {"operator", kOperator},
                           {"centre", "DZ-THIMPHU"},
                           {"path", "/my/applications/" + reference}}));
  // It is the citizen's only notice of it: not also "we have received your application".
  EXPECT_EQ(Count("SELECT COUNT(*) FROM notification_outbox WHERE application = '" + reference +
                  "' AND recipient = '" + kCitizen + "'"),
            1);

  // The citizen sees the application, and who sent it.
  auto theirs = server_.app().Forms().ApplicationsOf(kCitizen);
  ASSERT_TRUE(theirs.ok());
  ASSERT_EQ(theirs->size(), 1U);
  EXPECT_EQ(theirs->front().reference, reference);
  EXPECT_EQ(theirs->front().channel, "community_centre");
  EXPECT_EQ(theirs->front().submitted_by, std::optional<std::string>(kOperator));
  EXPECT_EQ(theirs->front().submitted_centre, std::optional<std::string>("DZ-THIMPHU"));
  auto own = SignInCitizen();
  EXPECT_EQ(own->Get(draft.substr(0, 0) + "/my/drafts/" + draft_id + "/submitted").status, 200);

  // The operator's list; another operator sees and opens none of it.
  auto list = b->Get("/assist/applications");
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find(reference), std::string::npos);
  auto other = OtherOperator();
  auto their_list = other->Get("/assist/applications");
  ASSERT_EQ(their_list.status, 200);
  EXPECT_EQ(their_list.body.find(reference), std::string::npos);
  EXPECT_EQ(other->Get(draft + "/submitted").status, 404);
  EXPECT_EQ(other->Get(draft + "/files/" + Sha256Hex(kPdf)).status, 404);
  auto mine = server_.app().Forms().SubmittedByOperator("tshering.wangdi");
  ASSERT_TRUE(mine.ok());
  EXPECT_TRUE(mine->empty());

  // Every step, with the citizen as its subject.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'assist.citizen_search' AND subject = '11410012345' "
                  "AND purpose = 'assisted' AND actor = 'deki.choden'"),
            1);
  EXPECT_GE(Audited("assist.citizen_read", kCitizen), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'assist.consent_recorded' AND subject = "
                  "'11410012345' AND purpose = 'assisted:service:security-clearance' AND detail LIKE '%\"paper\"%'"),
            1);
  EXPECT_EQ(Audited("forms.draft_started", kCitizen), 1);
  EXPECT_GE(Audited("forms.prefill_read", kCitizen), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'forms.application_submitted' AND subject = "
                  "'11410012345' AND actor = 'deki.choden' AND detail LIKE '%community_centre%'"),
            1);
  EXPECT_GE(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'forms.draft_read' AND subject = '11410012345'"), 1);
}

TEST_F(AssistedTest, ConsentByAnSmsCodeCountsWrongAttemptsAndRecordsNothingUntilTheRightCode) {
  auto b = SignInOfficial(kOperator, kOperatorPassword);
  const std::string person = OtherPerson();
  ASSERT_EQ(person.size(), 11U);
  Choose(*b, person, "census-transfer");
  auto citizen = b->Get("/assist/citizens/" + person);
  EXPECT_NE(citizen.body.find("No: they will be told"), std::string::npos);
  const std::string consent = "/assist/citizens/" + person + "/services/census-transfer";

  // A mobile number that is not one: 422 naming the field, nothing sent.
  auto bad = PostFiles(*b, consent, {{"method", "sms"}, {"mobile", "12345"}}, {});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("href=\"#mobile\""), std::string::npos);
  EXPECT_NE(bad.body.find("8 digits starting 17 or 77"), std::string::npos);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM notification_outbox WHERE channel = 'sms'"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM assisted_consent_codes"), 0);

  auto sent = PostFiles(*b, consent, {{"method", "sms"}, {"mobile", "+975 17 12 34 56"}}, {});
  ASSERT_EQ(sent.status, 303) << sent.body;
  const std::string code_page = sent.Header("location");
  ASSERT_TRUE(code_page.starts_with("/assist/codes/")) << code_page;
  const std::string code_id = code_page.substr(code_page.rfind('/') + 1);
  const std::string sms = " FROM notification_outbox WHERE channel = 'sms' AND template = 'assisted.consent_code'";
  ASSERT_EQ(Count("SELECT COUNT(*)" + sms), 1);
  EXPECT_EQ(Text("SELECT recipient" + sms), "+97517123456");
  const json payload = json::parse(Text("SELECT payload" + sms));
  const std::string code = payload.value("code", "");
  ASSERT_EQ(code.size(), 6U);
  EXPECT_EQ(payload["operator"], kOperator);
  EXPECT_EQ(payload["centre"], "DZ-THIMPHU");
  // Only its hash is kept.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM assisted_consent_codes WHERE code_hash = '" + code + "' OR salt = '" + code + "'"),
            0);
  EXPECT_EQ(Audited("assist.consent_code_sent", person), 1);

  auto page = b->Get(code_page);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("+975 17"), std::string::npos);
  const std::string wrong = fmt::format("{:06}", (std::stoi(code) + 1) % 1000000);
  auto refused = b->Post(code_page, {{"code", wrong}});
  EXPECT_EQ(refused.status, 422);
  EXPECT_NE(refused.body.find("href=\"#code\""), std::string::npos);
  EXPECT_NE(refused.body.find("4 attempts left"), std::string::npos);
  EXPECT_EQ(Count("SELECT attempts FROM assisted_consent_codes WHERE id = " + code_id), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM form_drafts"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM assisted_consent_codes WHERE used_at IS NOT NULL"), 0);
  auto malformed = b->Post(code_page, {{"code", "12ab"}});
  EXPECT_EQ(malformed.status, 422);
  EXPECT_NE(malformed.body.find("href=\"#code\""), std::string::npos);
  EXPECT_EQ(Count("SELECT attempts FROM assisted_consent_codes WHERE id = " + code_id), 1);

  auto right = b->Post(code_page, {{"code", code}});
  ASSERT_EQ(right.status, 303) << right.body;
  const std::string draft = DraftOf(right);
  ASSERT_TRUE(draft.starts_with("/assist/drafts/")) << draft;
  const std::string draft_id = draft.substr(draft.rfind('/') + 1);
  EXPECT_EQ(Text("SELECT consent_method FROM form_drafts WHERE id = " + draft_id), "sms");
  EXPECT_EQ(Text("SELECT consent_evidence FROM form_drafts WHERE id = " + draft_id),
            "code " + code_id + " to +97517123456");
  EXPECT_EQ(Text("SELECT applicant FROM form_drafts WHERE id = " + draft_id), person);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM assisted_consent_codes WHERE used_at IS NOT NULL"), 1);
  EXPECT_EQ(Audited("assist.consent_code_checked", person), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'assist.consent_recorded' AND subject = '" + person +
                  "' AND detail LIKE '%\"sms\"%'"),
            1);
  // A code starts one draft only.
  EXPECT_EQ(b->Post(code_page, {{"code", code}}).status, 410);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM form_drafts"), 1);

  // The citizen's own pages never show an operator's unfinished draft.
  auto drafts = server_.app().Forms().Drafts(person);
  ASSERT_TRUE(drafts.ok());
  EXPECT_TRUE(drafts->empty());
  auto for_them = server_.app().Forms().Get(std::stoll(draft_id), forms::Holder(person));
  EXPECT_FALSE(for_them.ok());
  // Nor does another operator reach it.
  auto other = OtherOperator();
  auto next = b->Get(right.Header("location"));
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(other->Get(right.Header("location")).status, 404);
  EXPECT_EQ(other->Get(draft + "/check").status, 404);
  EXPECT_EQ(other->Get("/assist/codes/" + code_id).status, 404);
}

TEST_F(AssistedTest, FiveWrongCodesUseUpTheCode) {
  auto b = SignInOfficial(kOperator, kOperatorPassword);
  Choose(*b, kCitizen, "security-clearance");
  auto sent = PostFiles(*b, "/assist/citizens/" + std::string(kCitizen) + "/services/security-clearance",
                        {{"method", "sms"}, {"mobile", "77123456"}}, {});
  ASSERT_EQ(sent.status, 303) << sent.body;
  const std::string code_page = sent.Header("location");
  b->Get(code_page);
  const std::string code = json::parse(Text("SELECT payload FROM notification_outbox WHERE channel = 'sms'")).value("code", "");
  const std::string wrong = fmt::format("{:06}", (std::stoi(code) + 7) % 1000000);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(b->Post(code_page, {{"code", wrong}}).status, 422);
  auto last = b->Post(code_page, {{"code", code}});
  EXPECT_EQ(last.status, 422);
  EXPECT_NE(last.body.find("too many times"), std::string::npos);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM form_drafts"), 0);
}

TEST_F(AssistedTest, BadInputIsRefusedByFieldAndRuleAndChangesNothing) {
  auto b = SignInOfficial(kOperator, kOperatorPassword);
  ASSERT_EQ(b->Get("/assist").status, 200);
  const std::int64_t events = Count("SELECT COUNT(*) FROM audit_events WHERE action LIKE 'assist.%' AND subject IS NOT NULL");
  auto shape = b->Post("/assist", {{"cid", "1141001234"}});
  EXPECT_EQ(shape.status, 422);
  EXPECT_NE(shape.body.find("href=\"#cid\""), std::string::npos);
  EXPECT_NE(shape.body.find("11 digits"), std::string::npos);
  auto unknown = b->Post("/assist", {{"cid", "99999999999"}});
  EXPECT_EQ(unknown.status, 422);
  EXPECT_NE(unknown.body.find("href=\"#cid\""), std::string::npos);
  EXPECT_NE(unknown.body.find("no one with this Citizenship ID"), std::string::npos);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action LIKE 'assist.%' AND subject IS NOT NULL"), events);
  EXPECT_EQ(b->Get("/assist/citizens/99999999999").status, 404);

  Choose(*b, kCitizen, "security-clearance");
  const std::string consent = "/assist/citizens/" + std::string(kCitizen) + "/services/security-clearance";
  auto no_method = PostFiles(*b, consent, {}, {});
  EXPECT_EQ(no_method.status, 422);
  EXPECT_NE(no_method.body.find("href=\"#method\""), std::string::npos);
  auto no_scan = PostFiles(*b, consent, {{"method", "paper"}}, {});
  EXPECT_EQ(no_scan.status, 422);
  EXPECT_NE(no_scan.body.find("href=\"#scan\""), std::string::npos);
  auto not_a_scan = PostFiles(*b, consent, {{"method", "paper"}}, {{"scan", {"consent.pdf", "<html>not a scan</html>"}}});
  EXPECT_EQ(not_a_scan.status, 422);
  EXPECT_NE(not_a_scan.body.find("PDF, JPEG or PNG"), std::string::npos);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM form_drafts"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM uploads"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'assist.consent_recorded'"), 0);

  // Consent refused: a draft with nothing pre-filled.
  auto refused = PostFiles(*b, consent, {{"method", "refused"}}, {});
  ASSERT_EQ(refused.status, 303) << refused.body;
  const std::string draft_id = DraftOf(refused).substr(DraftOf(refused).rfind('/') + 1);
  EXPECT_EQ(Text("SELECT consent_method FROM form_drafts WHERE id = " + draft_id), "refused");
  EXPECT_EQ(Text("SELECT prefilled FROM form_drafts WHERE id = " + draft_id), "{}");
  EXPECT_EQ(Audited("forms.prefill_read", kCitizen), 0);

  // The citizen cannot reach the operator's pages, nor the draft.
  auto citizen = SignInCitizen();
  EXPECT_EQ(citizen->Get("/assist").status, 403);
  EXPECT_EQ(citizen->Get("/my/drafts/" + draft_id + "/pages/your_details").status, 404);
  auto my_drafts = citizen->Get("/my/drafts");
  EXPECT_EQ(my_drafts.body.find("/my/drafts/" + draft_id), std::string::npos);
}

}  // namespace
}  // namespace dzong::testing
