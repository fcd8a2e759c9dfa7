// Notifications on the engine under test: notices written in the event's
// transaction (and gone with it when it rolls back), delivered by real SMTP
// to a local sink and by HTTP to a local SMS stub, tried again with backoff,
// failed for good after the last attempt or at once without contact
// details, shown to the organisation's officers with a button to try again;
// contact details refused by field and rule; the inbox in both languages.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/crypto.h"
#include "main/app.h"
#include "modules/forms/forms.h"
#include "modules/identity/identity.h"
#include "modules/notify/notify.h"
#include "modules/notify/service.h"
#include "modules/services/services.h"
#include "support/browser.h"
#include "support/official_sign_in.h"
#include "support/http_stub.h"
#include "support/smtp_sink.h"
#include "support/test_server.h"

namespace dzong::testing {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr char kCitizen[] = "11410012345";
constexpr char kCitizenPassword[] = "Tashi-Delek-2026";
constexpr char kSmsToken[] = "sms-test-token-0123456789";

/// HTML as Mustache escaped it, back to text.
std::string Unescape(std::string text) {
  const std::pair<const char*, const char*> entities[] = {{"&#x2F;", "/"}, {"&#x3D;", "="}, {"&#x60;", "`"},
                                                          {"&#39;", "'"},  {"&quot;", "\""}, {"&lt;", "<"},
                                                          {"&gt;", ">"},   {"&amp;", "&"}};
  for (const auto& [entity, plain] : entities) {
    for (auto at = text.find(entity); at != std::string::npos; at = text.find(entity, at + 1)) {
      text.replace(at, std::string(entity).size(), plain);
    }
  }
  return text;
}

/// A small service of DCRC's whose applications the tests make.
json NoteDefinition() {
  const auto text = [](const std::string& en, const std::string& dz) { return json{{"en", en}, {"dz", dz}}; };
  return json{
      {"code", "notify-test-note"},
      {"owner", "DCRC"},
      {"title", text("Test note", "བརྟག་དཔྱད་ཀྱི་དྲན་ཐོ།")},
      {"summary", text("A note for the tests", "བརྟག་དཔྱད་ཀྱི་དོན་ལུ་དྲན་ཐོ།")},
      {"category", "other"},
      {"life_events", {"birth"}},
      {"eligibility", text("Anyone", "ག་ར་")},
      {"fee", {{"amount_chhertum", 10000}}},
      {"sla_working_days", 5},
      {"documents", json::array()},
      {"form",
       {{"pages",
         {{{"id", "note_page"},
           {"title", text("Note", "དྲན་ཐོ།")},
           {"fields",
            {{{"id", "note"}, {"type", "text"}, {"label", text("Note", "དྲན་ཐོ།")}, {"required", true},
              {"max_length", 100}}}}}}}}},
      {"workflow",
       {{"initial", "submitted"},
        {"states",
         {{{"id", "submitted"}, {"title", text("Submitted", "ཕུལ་ཡོདཔ།")}},
          {{"id", "approved"}, {"title", text("Approved", "ཆ་འཇོག་གྲུབ་ཡོདཔ།")}, {"final", true}, {"outcome", "approved"}}}},
        {"transitions",
         {{{"id", "approve"}, {"from", "submitted"}, {"to", "approved"}, {"label", text("Approve", "ཆ་འཇོག")},
           {"by", {{"role", "officer"}}}}}}}}};
}

class NotifyTest : public ::testing::Test {
 protected:
  NotifyTest()
      : server_([this](Config& c) {
          c.notify.smtp_host = "127.0.0.1";
          c.notify.smtp_port = sink_.port();
          c.notify.mail_from = "noreply@dzong.example.com";
          c.notify.sms_url = sms_.Url("/sms");
          c.notify.sms_token = kSmsToken;
          c.notify.site_url = "https://dzong.example.com";
          c.notify.poll_seconds = 0;  // the tests run each round themselves, at the times they choose
          c.notify.timeout_seconds = 5;
        }) {}

  notify::NotifyService& Notify() { return server_.app().Notifications(); }

  notify::SendReport Send(std::chrono::system_clock::time_point at) {
    auto report = Notify().SendDue(at);
    EXPECT_TRUE(report.ok()) << report.error().message;
    return report.ok() ? *report : notify::SendReport{};
  }

  Status Enqueue(const notify::Notice& notice) {
    return server_.app().Database().Write(
        [&](db::Connection& c) { return notify::Enqueue(c, notice, FormatUtc(std::chrono::system_clock::now())); });
  }

  /// The rows of a query whose columns are all text (or NULL, as null).
  json Row(const std::string& sql) {
    return server_.app()
        .Database()
        .ReadValue<json>([&](db::Connection& c) -> Result<json> {
          DZONG_ASSIGN_OR_RETURN(auto rows, c.Query(sql));
          json out = json::array();
          for (const auto& r : rows) {
            json row = json::array();
            for (std::size_t i = 0; i < r.size(); ++i) {
              row.push_back(r.IsNull(i) ? json(nullptr) : json(r.Text(i)));
            }
            out.push_back(row);
          }
          return out;
        })
        .value();
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

  /// The latest notice: id, status, attempts, next_attempt_at, last_error, channel, recipient.
  json Latest() {
    return Row("SELECT CAST(id AS TEXT), status, CAST(attempts AS TEXT), next_attempt_at, last_error, channel, "
               "recipient FROM notification_outbox ORDER BY id DESC LIMIT 1")
        .at(0);
  }

  std::unique_ptr<Browser> SignInCitizen() {
    auto b = std::make_unique<Browser>(server_.port());
    b->Get("/sign-in");
    auto r = b->Post("/sign-in", {{"username", kCitizen}, {"password", kCitizenPassword}});
    EXPECT_EQ(r.status, 303) << r.body;
    return b;
  }

  std::unique_ptr<Browser> SignInOfficer() {
    return SignInOfficialFirstTime(server_.port(), "pema.wangmo", "Census-Officer-2026");
  }

  /// A real application of DCRC's, submitted through the form runner.
  std::string SubmitApplication() {
    audit::Actor designer;
    designer.id = "dcrc.designer";
    designer.organisation = "DCRC";
    designer.role = "service_designer";
    auto draft = server_.app().Services().SaveDraft(NoteDefinition(), designer);
    EXPECT_TRUE(draft.ok()) << draft.error().message << " "
                            << (draft.error().fields.empty() ? "" : draft.error().fields[0].message);
    if (!draft.ok()) return {};
    auto published = server_.app().Services().Publish("notify-test-note", draft->version, designer);
    EXPECT_TRUE(published.ok()) << published.error().message << " "
                                << (published.error().fields.empty() ? "" : published.error().fields[0].message);
    audit::Actor citizen;
    citizen.id = kCitizen;
    citizen.role = "citizen";
    auto started = server_.app().Forms().Start("notify-test-note", kCitizen, false, citizen);
    EXPECT_TRUE(started.ok()) << started.error().message;
    if (!started.ok()) return {};
    auto saved = server_.app().Forms().SavePage(started->id, std::string(kCitizen), "note_page", {{"note", "For the tests"}}, {}, {},
                                                citizen);
    EXPECT_TRUE(saved.ok()) << saved.error().message;
    auto submitted = server_.app().Forms().Submit(started->id, std::string(kCitizen), citizen);
    EXPECT_TRUE(submitted.ok()) << submitted.error().message;
    if (!submitted.ok()) return {};
    EXPECT_EQ(submitted->owner, "DCRC");
    // The applicant is told it was received; the tests start from there.
    EXPECT_EQ(Send(std::chrono::system_clock::now()).failed, 0);
    EXPECT_EQ(Row("SELECT template FROM notification_outbox WHERE application = '" + submitted->reference + "'"),
              json::array({json::array({"application.submitted"})}));
    sink_.Clear();
    sms_.Clear();
    return submitted->reference;
  }

  SmtpSink sink_;
  HttpStub sms_;
  TestServer server_;
};

TEST_F(NotifyTest, APasswordResetIsMailedAndTextedInTheAccountsLanguage) {
  // Sonam gives her contact details and chooses Dzongkha for her messages.
  {
    auto b = SignInCitizen();
    ASSERT_EQ(b->Get("/account/contact").status, 200);
    auto saved = b->Post("/account/contact", {{"email", "sonam@example.bt"}, {"mobile", "17 12 34 56"}, {"language", "dz"}});
    ASSERT_EQ(saved.status, 303) << saved.body;
    EXPECT_EQ(saved.Header("location"), "/account/contact?saved=1");
  }
  // A real event: someone asks for her password to be reset.
  Browser anonymous(server_.port());
  anonymous.Get("/forgotten-password");
  ASSERT_EQ(anonymous.Post("/forgotten-password", {{"username", kCitizen}}).status, 200);
  EXPECT_EQ(Latest()[1], "pending");

  const auto report = Send(std::chrono::system_clock::now());
  EXPECT_EQ(report.notices, 1);
  EXPECT_EQ(report.sent, 2);  // the email and the SMS
  EXPECT_EQ(Latest()[1], "sent");

  const auto mail = sink_.Messages();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].mail_from, "noreply@dzong.example.com");
  EXPECT_EQ(mail[0].rcpt_to, std::vector<std::string>{"sonam@example.bt"});
  EXPECT_EQ(mail[0].helo, "dzong.example.com");
  EXPECT_EQ(mail[0].Header("From"), "Dzong <noreply@dzong.example.com>");
  EXPECT_EQ(mail[0].Header("To"), "<sonam@example.bt>");
  EXPECT_EQ(mail[0].Subject(), "ཁྱོད་ཀྱི་རྫོང་གི་གསང་ཚིག་ སླར་སྒྲིག་འབད།");
  EXPECT_TRUE(mail[0].Header("Subject").starts_with("=?UTF-8?B?"));
  EXPECT_EQ(mail[0].Header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_FALSE(mail[0].Header("Date").empty());
  EXPECT_TRUE(mail[0].Header("Message-ID").ends_with("@dzong.example.com>"));
  const std::string body = mail[0].Body();
  EXPECT_NE(body.find("ཀུ་ཟུ་ཟང་པོ་ལ Sonam Choden།"), std::string::npos) << body;
  EXPECT_NE(body.find("སྐར་མ་ ༣༠"), std::string::npos) << body;
  const auto link_at = body.find("https://dzong.example.com/reset-password?token=");
  ASSERT_NE(link_at, std::string::npos) << body;
  // The link in the mail really resets the password.
  const std::string token = body.substr(link_at + 47, 64);
  Browser person(server_.port());
  person.Get("/reset-password?token=" + token);
  EXPECT_EQ(person.Post("/reset-password", {{"token", token}, {"password", "A-New-Password-2026"}}).status, 303);

  const auto texts = sms_.Requests();
  ASSERT_EQ(texts.size(), 1u);
  EXPECT_EQ(texts[0].method, "POST");
  EXPECT_EQ(texts[0].target, "/sms");
  EXPECT_EQ(texts[0].Header("authorization"), std::string("Bearer ") + kSmsToken);
  EXPECT_EQ(texts[0].Header("content-type"), "application/json");
  const json sms = json::parse(texts[0].body);
  EXPECT_EQ(sms["to"], "+97517123456");
  EXPECT_NE(sms["text"].get<std::string>().find("https://dzong.example.com/reset-password?token="), std::string::npos);
  EXPECT_NE(sms["text"].get<std::string>().find("གསང་ཚིག"), std::string::npos);
  // Nothing is sent twice.
  EXPECT_EQ(Send(std::chrono::system_clock::now() + hours(1)).notices, 0);
  EXPECT_EQ(sink_.Messages().size(), 1u);
}

TEST_F(NotifyTest, ANoticeExistsExactlyWhenItsTransactionCommits) {
  const std::int64_t before = Count("SELECT COUNT(*) FROM notification_outbox");
  notify::Notice notice{"account", kCitizen, "application.submitted",
                        json{{"reference", "DCRC-2026-000042"}, {"service_en", "Birth registration"},
                             {"service_dz", "སྐྱེས་ཐོ།"}, {"path", "/my/applications/DCRC-2026-000042"}},
                        "", "DCRC-2026-000042"};
  // The event fails after writing its notice: both are gone.
  Status failed = server_.app().Database().Write([&](db::Connection& c) -> Status {
    DZONG_TRY(notify::Enqueue(c, notice, FormatUtc(std::chrono::system_clock::now())));
    return Error("test.event_failed", "the event that caused the notice did not happen");
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM notification_outbox"), before);
  // The same event that commits leaves its notice, pending, for the account.
  ASSERT_TRUE(Enqueue(notice).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM notification_outbox"), before + 1);
  const json latest = Latest();
  EXPECT_EQ(latest[1], "pending");
  EXPECT_EQ(latest[5], "account");
  EXPECT_EQ(latest[6], kCitizen);
  EXPECT_EQ(Row("SELECT application, language FROM notification_outbox ORDER BY id DESC LIMIT 1")[0],
            json({"DCRC-2026-000042", nullptr}));

  // Mistakes in a caller's notice are refused, naming what is wrong.
  notify::Notice typo = notice;
  typo.template_id = "application.submited";
  Status unknown = Enqueue(typo);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, notify::errc::kUnknownTemplate);
  EXPECT_NE(unknown.error().message.find("application.submited"), std::string::npos);
  notify::Notice missing = notice;
  missing.params.erase("reference");
  Status incomplete = Enqueue(missing);
  ASSERT_FALSE(incomplete.ok());
  ASSERT_EQ(incomplete.error().fields.size(), 1u);
  EXPECT_EQ(incomplete.error().fields[0].field, "params.reference");
  EXPECT_EQ(incomplete.error().fields[0].rule, "required");
  notify::Notice nobody = notice;
  nobody.to = "no.such.person";
  EXPECT_EQ(Enqueue(nobody).error().fields.at(0).rule, "exists");
  notify::Notice bad_mobile{"sms", "12345678", "assisted.consent_code",
                            json{{"code", "123456"}, {"operator", "Dorji"}, {"centre", "Bajo"}}, "en", ""};
  EXPECT_EQ(Enqueue(bad_mobile).error().fields.at(0).rule, "mobile");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM notification_outbox"), before + 1);
}

TEST_F(NotifyTest, ABusyMailServerIsTriedAgainAfterTheBackoff) {
  sink_.AnswerRcptWith({451});
  ASSERT_TRUE(Enqueue({"email", "tshering@example.bt", "application.submitted",
                       json{{"reference", "DCRC-2026-000007"}, {"service", "Census transfer"}}, "en", ""})
                  .ok());
  const auto t0 = std::chrono::system_clock::now();
  auto first = Send(t0);
  EXPECT_EQ(first.retry, 1);
  json latest = Latest();
  EXPECT_EQ(latest[1], "pending");
  EXPECT_EQ(latest[2], "1");
  EXPECT_EQ(latest[3], FormatUtc(t0 + minutes(1)));
  EXPECT_NE(latest[4].get<std::string>().find("451"), std::string::npos) << latest[4];
  EXPECT_TRUE(sink_.Messages().empty());

  // Not before its time.
  EXPECT_EQ(Send(t0 + seconds(30)).notices, 0);
  EXPECT_EQ(sink_.Connections(), 1);

  auto second = Send(t0 + seconds(61));
  EXPECT_EQ(second.sent, 1);
  EXPECT_EQ(Latest()[1], "sent");
  const auto mail = sink_.Messages();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].Subject(), "We have received your application DCRC-2026-000007");
  EXPECT_NE(mail[0].Body().find("We have received your application for Census transfer."), std::string::npos);
}

TEST_F(NotifyTest, AfterTheLastAttemptTheFailureIsShownToTheOfficersWhoCanTryAgain) {
  const std::string reference = SubmitApplication();
  ASSERT_FALSE(reference.empty());
  ASSERT_TRUE(Enqueue({"email", "dorji@example.bt", "application.approved",
                       json{{"reference", reference}, {"service", "Test note"}}, "en", reference})
                  .ok());
  sink_.AnswerRcptWith({451, 451, 451, 451, 451, 451});
  auto at = std::chrono::system_clock::now();
  const std::vector<std::chrono::seconds> waits = {minutes(1), minutes(5), minutes(30), hours(2), hours(12)};
  for (std::size_t i = 0; i < 6; ++i) {
    SCOPED_TRACE("attempt " + std::to_string(i + 1));
    const auto report = Send(at);
    EXPECT_EQ(report.notices, 1);
    if (i < waits.size()) {
      EXPECT_EQ(report.retry, 1);
      EXPECT_EQ(Latest()[3], FormatUtc(at + waits[i]));
      EXPECT_EQ(Send(at + waits[i] - seconds(1)).notices, 0);  // not a moment early
      at += waits[i];
    } else {
      EXPECT_EQ(report.failed, 1);
    }
  }
  json latest = Latest();
  EXPECT_EQ(latest[1], "failed");
  EXPECT_EQ(latest[2], "6");
  const std::string reason = latest[4];
  EXPECT_NE(reason.find("gave up after 6 attempts"), std::string::npos) << reason;
  EXPECT_NE(reason.find("451"), std::string::npos) << reason;
  EXPECT_TRUE(sink_.Messages().empty());
  EXPECT_EQ(Send(at + hours(48)).notices, 0);  // failed for good: not taken up again

  // The DCRC officer sees it, with the reason.
  auto officer = SignInOfficer();
  auto page = officer->Get("/notifications/failed");
  ASSERT_EQ(page.status, 200) << page.body;
  const std::string text = Unescape(page.body);
  EXPECT_NE(text.find(reference), std::string::npos);
  EXPECT_NE(text.find("gave up after 6 attempts"), std::string::npos);
  EXPECT_NE(text.find("dorji@example.bt"), std::string::npos);
  // A citizen may not look.
  auto citizen = SignInCitizen();
  EXPECT_EQ(citizen->Get("/notifications/failed").status, 403);

  // Try again: pending, due now, and this time the server takes it.
  const std::string id = latest[0];
  auto retried = officer->Post("/notifications/failed/" + id + "/retry", {});
  ASSERT_EQ(retried.status, 303) << retried.body;
  EXPECT_EQ(retried.Header("location"), "/notifications/failed?retried=1");
  EXPECT_EQ(Latest()[1], "pending");
  EXPECT_EQ(officer->Get("/notifications/failed").body.find(reference), std::string::npos);
  EXPECT_EQ(Send(std::chrono::system_clock::now()).sent, 1);
  EXPECT_EQ(Latest()[1], "sent");
  ASSERT_EQ(sink_.Messages().size(), 1u);
  EXPECT_EQ(sink_.Messages()[0].Subject(), "Your application " + reference + " has been approved");
  // A notice that has not failed, or is not the organisation's, is not tried again.
  officer->Get("/notifications/failed");
  EXPECT_EQ(officer->Post("/notifications/failed/" + id + "/retry", {}).Header("location"), "/notifications/failed");
  EXPECT_EQ(officer->Post("/notifications/failed/999999/retry", {}).status, 404);
}

TEST_F(NotifyTest, SomeoneWithoutContactDetailsIsAPermanentFailureAtOnce) {
  // karma.dorji, DCRC's administrator, has given no email or mobile number.
  const std::string reference = SubmitApplication();
  ASSERT_TRUE(Enqueue({"account", "karma.dorji", "application.information_requested",
                       json{{"reference", reference}, {"service", "Test note"}, {"comment", "Which village?"}}, "",
                       reference})
                  .ok());
  const auto report = Send(std::chrono::system_clock::now());
  EXPECT_EQ(report.failed, 1);
  const json latest = Latest();
  EXPECT_EQ(latest[1], "failed");
  EXPECT_EQ(latest[2], "0");
  EXPECT_EQ(latest[4], "no email or mobile number on record");
  EXPECT_TRUE(sink_.Messages().empty());
  EXPECT_TRUE(sms_.Requests().empty());
  auto officer = SignInOfficer();
  const std::string page = Unescape(officer->Get("/notifications/failed").body);
  EXPECT_NE(page.find("no email or mobile number on record"), std::string::npos);
}

TEST_F(NotifyTest, AnSmsIsPostedToTheGatewayAndAnOrganisationsOfficersAreReached) {
  ASSERT_TRUE(Enqueue({"sms", "+975 77 12 34 56", "assisted.consent_code",
                       json{{"code", "482913"}, {"operator", "Dorji Wangmo"}, {"centre", "Bajo Community Centre"}},
                       "dz", ""})
                  .ok());
  EXPECT_EQ(Latest()[6], "+97577123456");
  EXPECT_EQ(Send(std::chrono::system_clock::now()).sent, 1);
  auto requests = sms_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  const json sms = json::parse(requests[0].body);
  EXPECT_EQ(sms["to"], "+97577123456");
  const std::string text = sms["text"];
  EXPECT_NE(text.find("482913"), std::string::npos);
  EXPECT_NE(text.find("Bajo Community Centre གི་ Dorji Wangmo གིས་"), std::string::npos) << text;

  // A gateway that refuses is a permanent failure; one that is down, a retry.
  sms_.AnswerWith(400);
  ASSERT_TRUE(Enqueue({"sms", "17123456", "assisted.consent_code",
                       json{{"code", "111111"}, {"operator", "Dorji"}, {"centre", "Bajo"}}, "en", ""})
                  .ok());
  Send(std::chrono::system_clock::now());
  EXPECT_EQ(Latest()[1], "failed");
  EXPECT_NE(Latest()[4].get<std::string>().find("400"), std::string::npos);
  sms_.AnswerWith(503);
  ASSERT_TRUE(Enqueue({"sms", "17123457", "assisted.consent_code",
                       json{{"code", "222222"}, {"operator", "Dorji"}, {"centre", "Bajo"}}, "en", ""})
                  .ok());
  Send(std::chrono::system_clock::now());
  EXPECT_EQ(Latest()[1], "pending");
  EXPECT_EQ(Latest()[2], "1");
  sms_.AnswerWith(200);

  // DCRC's officers: Pema Wangmo has demo contact details, by email and SMS.
  const std::string reference = SubmitApplication();
  ASSERT_TRUE(Enqueue({"organisation", "DCRC", "application.new",
                       json{{"reference", reference}, {"service", "Test note"}, {"due_on", "2026-12-07"},
                            {"path", "/work/applications/" + reference}},
                       "", reference})
                  .ok());
  const std::size_t before = sms_.Requests().size();
  Send(std::chrono::system_clock::now());
  EXPECT_EQ(Latest()[1], "sent");
  const auto mail = sink_.Messages();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].rcpt_to, std::vector<std::string>{"pema.wangmo@example.com"});
  EXPECT_EQ(mail[0].Subject(), "New application " + reference + ": Test note");
  EXPECT_NE(mail[0].Body().find("https://dzong.example.com/work/applications/" + reference), std::string::npos);
  ASSERT_EQ(sms_.Requests().size(), before + 1);
  EXPECT_EQ(json::parse(sms_.Requests().back().body)["to"], "+97577000002");
}

TEST_F(NotifyTest, BadContactDetailsAreRefusedByFieldAndRuleAndChangeNothing) {
  auto b = SignInCitizen();
  auto form = b->Get("/account/contact");
  ASSERT_EQ(form.status, 200);
  EXPECT_NE(form.body.find("value=\"sonam.choden@example.com\""), std::string::npos);  // the demo seed's
  auto bad = b->Post("/account/contact", {{"email", "sonam@example"}, {"mobile", "12345678"}, {"language", "en"}});
  EXPECT_EQ(bad.status, 422);
  const std::string page = Unescape(bad.body);
  EXPECT_NE(page.find("href=\"#email\""), std::string::npos);
  EXPECT_NE(page.find("href=\"#mobile\""), std::string::npos);
  EXPECT_NE(page.find("Enter an email address in the right form, such as name@example.bt"), std::string::npos);
  EXPECT_NE(page.find("Enter a Bhutanese mobile number: 17 or 77 and six more digits"), std::string::npos);
  EXPECT_NE(page.find("value=\"sonam@example\""), std::string::npos);  // what was typed, to correct
  auto kept = Notify().GetContact(kCitizen);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->email, "sonam.choden@example.com");
  EXPECT_EQ(kept->mobile, "+97517000001");
  // In Dzongkha, the same rules in Dzongkha.
  b->Get("/language?lang=dz&return=/account/contact");
  b->Get("/account/contact");
  auto bad_dz = b->Post("/account/contact", {{"email", "sonam@@example.bt"}, {"mobile", ""}, {"language", "en"}});
  EXPECT_EQ(bad_dz.status, 422);
  EXPECT_NE(bad_dz.body.find("གློག་འཕྲིན་ཁ་བྱང་ རྣམ་པ་འཕྲོད་བའི་ཐོག་ལས་ བཙུགས་"), std::string::npos);
  auto odd_language = b->Post("/account/contact", {{"email", ""}, {"mobile", ""}, {"language", "fr"}});
  EXPECT_EQ(odd_language.status, 422);
  EXPECT_NE(odd_language.body.find("href=\"#language\""), std::string::npos);
  EXPECT_EQ(Notify().GetContact(kCitizen)->email, "sonam.choden@example.com");
  // Good details are kept, the number as +975 and eight digits; empty removes.
  auto good = b->Post("/account/contact", {{"email", " sonam@example.bt "}, {"mobile", "77-123-456"}, {"language", "dz"}});
  EXPECT_EQ(good.status, 303) << good.body;
  auto now = Notify().GetContact(kCitizen);
  EXPECT_EQ(now->email, "sonam@example.bt");
  EXPECT_EQ(now->mobile, "+97577123456");
  EXPECT_EQ(now->language, "dz");
  // The change is audited, with Sonam as the person it is about.
  EXPECT_GE(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'notify.contact_update' AND subject = '" +
                  std::string(kCitizen) + "'"),
            1);
  ASSERT_EQ(b->Post("/account/contact", {{"email", ""}, {"mobile", ""}, {"language", "en"}}).status, 303);
  EXPECT_TRUE(Notify().GetContact(kCitizen)->email.empty());
}

TEST_F(NotifyTest, TheInboxShowsTheNoticesToTheAccountInThePagesLanguage) {
  ASSERT_TRUE(Enqueue({"account", kCitizen, "application.information_requested",
                       json{{"reference", "DCRC-2026-000099"},
                            {"service_en", "Birth registration"},
                            {"service_dz", "སྐྱེས་ཐོ་ཐོ་བཀོད།"},
                            {"comment", "Please add the father's <CID>"},
                            {"path", "/my/applications/DCRC-2026-000099"}},
                       "", "DCRC-2026-000099"})
                  .ok());
  Browser anonymous(server_.port());
  anonymous.Get("/forgotten-password");
  anonymous.Post("/forgotten-password", {{"username", kCitizen}});

  auto b = SignInCitizen();
  auto en = b->Get("/my/notifications");
  ASSERT_EQ(en.status, 200);
  const std::string page = Unescape(en.body);
  EXPECT_NE(page.find("We need more information for application DCRC-2026-000099"), std::string::npos);
  EXPECT_NE(page.find("Please add the father's <CID>"), std::string::npos);  // shown as text
  EXPECT_EQ(en.body.find("<CID>"), std::string::npos);                        // never as markup
  EXPECT_NE(page.find("href=\"/my/applications/DCRC-2026-000099\""), std::string::npos);
  // The reset request is there, without its link: that is for the mail alone.
  EXPECT_NE(page.find("Reset your Dzong password"), std::string::npos);
  EXPECT_NE(page.find("Someone asked to reset the password of your account"), std::string::npos);
  EXPECT_EQ(page.find("reset-password"), std::string::npos);
  b->Get("/language?lang=dz&return=/my/notifications");
  auto dz = b->Get("/my/notifications");
  EXPECT_NE(dz.body.find("ཞུ་ཡིག་ DCRC-2026-000099 གི་དོན་ལུ་ བརྡ་དོན་ཁ་སྐོང་དགོ"), std::string::npos);
  EXPECT_NE(dz.body.find("སྐྱེས་ཐོ་ཐོ་བཀོད།"), std::string::npos);
  // Someone else's inbox does not show it.
  auto officer = SignInOfficer();
  EXPECT_EQ(officer->Get("/my/notifications").body.find("DCRC-2026-000099"), std::string::npos);
  // The account page leads to both pages.
  const std::string account = Unescape(b->Get("/account").body);
  EXPECT_NE(account.find("href=\"/my/notifications\""), std::string::npos);
  EXPECT_NE(account.find("href=\"/account/contact\""), std::string::npos);
}

TEST(NotifySenderThreadTest, TheServersSenderDeliversOnItsOwnAndStopsWithTheServer) {
  SmtpSink sink;
  auto server = std::make_unique<TestServer>([&](Config& c) {
    c.notify.smtp_host = "127.0.0.1";
    c.notify.smtp_port = sink.port();
    c.notify.mail_from = "noreply@dzong.example.com";
    c.notify.poll_seconds = 1;
    c.notify.timeout_seconds = 5;
  });
  ASSERT_TRUE(server->app()
                  .Database()
                  .Write([&](db::Connection& c) {
                    return notify::Enqueue(c,
                                           {"email", "yangchen@example.bt", "payment.received",
                                            json{{"reference", "DCRC-2026-000003"}, {"amount", "Nu. 5,100.00"},
                                                 {"receipt_path", "/my/payments/1/receipt.pdf"}},
                                            "en", "DCRC-2026-000003"},
                                           FormatUtc(std::chrono::system_clock::now()));
                  })
                  .ok());
  for (int i = 0; i < 100 && sink.Messages().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto mail = sink.Messages();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].Subject(), "Payment received: Nu. 5,100.00 for DCRC-2026-000003");
  EXPECT_NE(mail[0].Body().find("/my/payments/1/receipt.pdf"), std::string::npos);
  const auto stopping = std::chrono::steady_clock::now();
  server.reset();  // what SIGTERM leads to: the server stops, then the sender
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, std::chrono::seconds(5));
}

}  // namespace
}  // namespace dzong::testing
