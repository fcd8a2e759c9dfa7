// Paying an application's fee through the built-in simulated gateway, over
// HTTP as a citizen's browser does: each outcome (paid, declined,
// cancelled, pending then settled by a status query or by a later
// callback), repeated and forged callbacks, the workflow's OnPaid hook,
// refunds and their rules, the reconciliation CSV and the receipt PDF.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "main/app.h"
#include "modules/forms/forms.h"
#include "modules/identity/identity.h"
#include "modules/payments/payments.h"
#include "support/browser.h"
#include "support/official_sign_in.h"
#include "base/signing.h"
#include "modules/certificates/certificates.h"
#include "support/journeys.h"
#include "support/test_server.h"

namespace dzong::testing {
namespace {

constexpr char kOfficialPassword[] = "Payments-Test-Password-2026";

using nlohmann::json;

constexpr char kCitizen[] = "11410012345";
constexpr char kPassword[] = "Tashi-Delek-2026";
const std::string kPdf = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// Bhutan's calendar day now, "2026-11-30".
std::string BhutanToday() {
  return FormatUtc(std::chrono::system_clock::now() + std::chrono::hours(6)).substr(0, 10);
}

class PaymentsTest : public ::testing::Test {
 protected:
  explicit PaymentsTest(bool callbacks = true)
      : data_dir_(std::filesystem::temp_directory_path() / ("dzong-payments-" + RandomHex(6))),
        server_([&](Config& c) {
          c.data_dir = data_dir_.string();
          c.payments.sim_callbacks = callbacks;
        }) {}
  ~PaymentsTest() override {
    server_.Stop();
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }

  void SetUp() override {
    server_.app().Payments().SetOnPaid([this](db::Connection& c, std::int64_t application, const std::string& reference) -> Status {
      // Inside the transaction that records the success: the fee is settled there.
      auto settled = server_.app().Payments().Settled(c, application);
      std::lock_guard lock(mutex_);
      paid_.push_back({application, reference});
      settled_in_hook_ = settled.ok() && *settled;
      return {};
    });
  }

  std::vector<std::pair<std::int64_t, std::string>> Paid() {
    std::lock_guard lock(mutex_);
    return paid_;
  }

  static audit::Actor Applicant() {
    audit::Actor a;
    a.id = kCitizen;
    a.role = "citizen";
    return a;
  }

  /// A submitted business-licence application of the demo citizen, made
  /// through the form runner's service, page by page.
  forms::Application Apply(const std::string& activity = "retail") {
    forms::FormService& f = server_.app().Forms();
    auto draft = f.Start("business-licence", kCitizen, false, Applicant());
    EXPECT_TRUE(draft.ok()) << draft.error().message;
    EXPECT_TRUE(f.SavePage(draft->id, std::string(kCitizen), "about_you", {{"given_name", "Tashi"}, {"surname", "Dorji"}}, {}, {},
                           Applicant())
                    .ok());
    EXPECT_TRUE(f.SavePage(draft->id, std::string(kCitizen), "business",
                           {{"business_name", "Tashi General Store"}, {"activity", activity}, {"expected_capital", 50000}},
                           {}, {}, Applicant())
                    .ok());
    const std::string sha = Sha256Hex(kPdf);
    const json premises = {
        {"premises_address", {{"dzongkhag", "Thimphu"}, {"gewog", "Chang"}, {"village", "Motithang"}}},
        {"premises_lease",
         {{"sha256", sha}, {"name", "lease.pdf"}, {"media_type", "application/pdf"}, {"size", kPdf.size()}}}};
    forms::StoredFile file{sha, static_cast<std::int64_t>(kPdf.size()), "application/pdf", "lease.pdf", kCitizen, ""};
    auto saved = f.SavePage(draft->id, std::string(kCitizen), "premises", premises, {file}, {kPdf}, Applicant());
    EXPECT_TRUE(saved.ok()) << saved.error().message;
    auto application = f.Submit(draft->id, std::string(kCitizen), Applicant());
    EXPECT_TRUE(application.ok()) << application.error().message;
    return *application;
  }

  std::unique_ptr<Browser> SignIn() {
    auto b = std::make_unique<Browser>(server_.port());
    b->Get("/sign-in");
    auto r = b->Post("/sign-in", {{"username", kCitizen}, {"password", kPassword}});
    EXPECT_EQ(r.status, 303) << r.body;
    return b;
  }

  /// Starts paying and returns the gateway page's path.
  std::string StartPaying(Browser& b, const std::string& application) {
    auto page = b.Get("/my/applications/" + application + "/pay");
    EXPECT_EQ(page.status, 200) << page.body;
    auto r = b.Post("/my/applications/" + application + "/pay", {});
    EXPECT_EQ(r.status, 303) << r.body;
    const std::string gateway = r.Header("location");
    EXPECT_TRUE(gateway.starts_with("/payment-gateway/sim/")) << gateway;
    return gateway;
  }

  /// Chooses at the gateway; returns where it sends the browser back.
  std::string Choose(Browser& b, const std::string& gateway, const std::string& choice) {
    auto page = b.Get(gateway);
    EXPECT_EQ(page.status, 200) << page.body;
    auto r = b.Post(gateway, {{"choice", choice}});
    EXPECT_EQ(r.status, 303) << r.body;
    return r.Header("location");
  }

  payments::Payment Latest(std::int64_t application) {
    auto id = server_.app().Database().ReadValue<std::string>([&](db::Connection& c) -> Result<std::string> {
      const db::Value key[] = {application};
      DZONG_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT reference FROM payments WHERE application_id = ? ORDER BY id DESC", key));
      if (rows.empty()) return Error("test", "no payment");
      return rows.front().Text(0);
    });
    EXPECT_TRUE(id.ok());
    auto p = server_.app().Payments().Get(id.ok() ? *id : "");
    EXPECT_TRUE(p.ok());
    return p.ok() ? *p : payments::Payment{};
  }

  bool Settled(std::int64_t application) {
    auto settled = server_.app().Database().ReadValue<bool>(
        [&](db::Connection& c) { return server_.app().Payments().Settled(c, application); });
    EXPECT_TRUE(settled.ok());
    return settled.ok() && *settled;
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

  /// Waits for the gateway's callback to change the payment's status.
  payments::Payment WaitFor(const std::string& reference, const std::string& status) {
    for (int i = 0; i < 100; ++i) {
      auto p = server_.app().Payments().Get(reference);
      if (p.ok() && p->status == status) return *p;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return server_.app().Payments().Get(reference).value();
  }

  HttpResponse Callback(const std::string& body, const std::string& signature) {
    std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "application/json"}};
    if (!signature.empty()) headers.push_back({"X-Payment-Signature", signature});
    return server_.Client()->Send("POST", "/api/v1/payment-callbacks/sim", body, headers);
  }

  /// The signed callback the gateway would send for this payment now.
  std::string CallbackBody(const payments::Payment& p, const std::string& status) {
    return json{{"amount", p.amount}, {"reference", p.reference}, {"status", status},
                {"transaction", p.gateway_transaction.value_or("")}}
        .dump();
  }
  std::string Sign(const std::string& body) {
    return HmacSha256Hex(server_.app().Settings().payments.sim_secret, body);
  }

  /// A bearer token of a new official of `organisation` holding `role`.
  std::string Official(const std::string& organisation, const std::string& role) {
    identity::IdentityService& identity = server_.app().Identity();
    auto accounts = identity.ListAccounts(std::nullopt);
    std::int64_t admin_id = 0;
    for (const auto& a : *accounts) {
      if (a.username == "tshering.yangzom") admin_id = a.id;
    }
    auto admin = identity.LoadCaller(admin_id);
    identity::NewAccount input;
    input.kind = identity::AccountKind::kOfficial;
    input.username = fmt::format("pay.{}.{}", role, RandomHex(3));
    last_official_ = input.username;
    input.display_name = "Holder of " + role;
    input.organisation = organisation;
    input.password = kOfficialPassword;
    auto account = identity.CreateAccount(input, "test");
    EXPECT_TRUE(account.ok()) << account.error().message;
    auto grant = identity.GrantRole(*admin, account->id, role);
    EXPECT_TRUE(grant.ok()) << grant.error().message;
    auto caller = identity.LoadCaller(account->id);
    std::string scopes;
    for (const auto& p : caller->permissions) scopes += p + " ";
    auto token = identity.CreateToken(account->id, "payments-test", scopes, std::chrono::hours(1));
    EXPECT_TRUE(token.ok());
    return "Bearer " + *token;
  }
  /// The username Official made last (its password: kOfficialPassword).
  std::string last_official_;

  std::filesystem::path data_dir_;
  TestServer server_;
  std::mutex mutex_;
  std::vector<std::pair<std::int64_t, std::string>> paid_;
  bool settled_in_hook_ = false;
};

/// The same, with a gateway that sends no callbacks of its own: outcomes
/// arrive by status query, or by the callbacks the test sends.
class PaymentsByQueryTest : public PaymentsTest {
 protected:
  PaymentsByQueryTest() : PaymentsTest(false) {}
};

TEST_F(PaymentsTest, CitizenPaysAndTheWorkflowHearsOnce) {
  const auto application = Apply("retail");
  EXPECT_FALSE(Settled(application.id));
  auto b = SignIn();
  auto owed = b->Get("/my/applications/" + application.reference + "/pay");
  ASSERT_EQ(owed.status, 200);
  EXPECT_NE(owed.body.find("Nu. 5,100.00"), std::string::npos);

  const std::string gateway = StartPaying(*b, application.reference);
  auto page = b->Get(gateway);
  EXPECT_NE(page.body.find("Nu. 5,100.00"), std::string::npos);
  EXPECT_NE(page.body.find("Ministry"), std::string::npos) << "the merchant is the agency";
  const std::string back = Choose(*b, gateway, "pay");
  EXPECT_TRUE(back.starts_with("/my/payments/PAY-MOICE-")) << back;

  auto returned = b->Get(back);
  ASSERT_EQ(returned.status, 200);
  EXPECT_NE(returned.body.find("Payment received"), std::string::npos);
  EXPECT_NE(returned.body.find("receipt.pdf"), std::string::npos);
  const auto p = Latest(application.id);
  EXPECT_EQ(p.status, "succeeded");
  EXPECT_EQ(p.amount, 510000);
  EXPECT_TRUE(Settled(application.id));

  // The gateway's own callback follows the browser; it changes nothing.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(Paid().size(), 1U);
  EXPECT_EQ(Paid()[0].first, application.id);
  EXPECT_EQ(Paid()[0].second, p.reference);
  EXPECT_TRUE(settled_in_hook_);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_events WHERE to_status = 'succeeded'"), 1);
  EXPECT_GE(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'payments.status_changed'"), 2);

  // Paid: the page says so, and no second payment starts.
  owed = b->Get("/my/applications/" + application.reference + "/pay");
  EXPECT_NE(owed.body.find("id=\"settled\""), std::string::npos);
  auto again = b->Post("/my/applications/" + application.reference + "/pay", {});
  EXPECT_EQ(again.status, 303);
  EXPECT_EQ(again.Header("location"), "/my/applications/" + application.reference + "/pay");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payments"), 1);
}

TEST_F(PaymentsTest, DeclinedAndCancelledPaymentsLeaveTheFeeOwed) {
  const auto application = Apply("micro");
  auto b = SignIn();
  const std::string back = Choose(*b, StartPaying(*b, application.reference), "decline");
  auto declined = b->Get(back);
  EXPECT_NE(declined.body.find("Your payment was declined"), std::string::npos);
  EXPECT_EQ(Latest(application.id).status, "failed");
  EXPECT_EQ(Latest(application.id).amount, 310000);

  const std::string back2 = Choose(*b, StartPaying(*b, application.reference), "cancel");
  auto cancelled = b->Get(back2);
  EXPECT_NE(cancelled.body.find("Your payment was cancelled"), std::string::npos);
  EXPECT_EQ(Latest(application.id).status, "cancelled");
  EXPECT_FALSE(Settled(application.id));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(Paid().empty());
  // No receipt for money not taken.
  EXPECT_EQ(b->Get(back2 + "/receipt.pdf").status, 409);
}

TEST_F(PaymentsTest, PendingPaymentSettledByTheGatewaysLaterCallback) {
  const auto application = Apply("wholesale");
  auto b = SignIn();
  const std::string gateway = StartPaying(*b, application.reference);
  const std::string back = Choose(*b, gateway, "pending");
  auto pending = b->Get(back);
  EXPECT_NE(pending.body.find("Your payment is pending"), std::string::npos);
  const auto p = WaitFor(Latest(application.id).reference, "pending");
  EXPECT_EQ(p.status, "pending");
  EXPECT_FALSE(Settled(application.id));

  // Later the bank settles it; only the gateway's callback tells the platform.
  auto page = b->Get(gateway);
  EXPECT_NE(page.body.find("id=\"sim-pending\""), std::string::npos);
  b->Post(gateway, {{"choice", "pay"}});
  const auto settled = WaitFor(p.reference, "succeeded");
  EXPECT_EQ(settled.status, "succeeded");
  EXPECT_EQ(settled.amount, 1010000);
  EXPECT_EQ(Paid().size(), 1U);
  auto history = server_.app().Payments().History(settled.id);
  ASSERT_TRUE(history.ok());
  ASSERT_FALSE(history->empty());
  EXPECT_EQ(history->back().source, "callback");
  EXPECT_EQ(history->back().actor, "gateway:sim");
}

TEST_F(PaymentsByQueryTest, PendingPaymentSettledByStatusQuery) {
  const auto application = Apply("retail");
  auto b = SignIn();
  const std::string gateway = StartPaying(*b, application.reference);
  const std::string back = Choose(*b, gateway, "pending");
  auto pending = b->Get(back);
  EXPECT_NE(pending.body.find("Your payment is pending"), std::string::npos);
  EXPECT_EQ(Latest(application.id).status, "pending");

  b->Get(gateway);
  b->Post(gateway, {{"choice", "pay"}});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Latest(application.id).status, "pending") << "no callback: the platform has not heard yet";
  b->Get(back);
  auto checked = b->Post(back + "/check", {});
  EXPECT_EQ(checked.status, 303);
  EXPECT_EQ(Latest(application.id).status, "succeeded");
  EXPECT_EQ(Paid().size(), 1U);
  auto history = server_.app().Payments().History(Latest(application.id).id);
  EXPECT_EQ(history->back().source, "status_query");
}

TEST_F(PaymentsByQueryTest, RepeatedCallbackChangesNothing) {
  const auto application = Apply("retail");
  auto b = SignIn();
  Choose(*b, StartPaying(*b, application.reference), "pay");
  const auto p = Latest(application.id);
  ASSERT_EQ(p.status, "initiated");
  const std::string body = CallbackBody(p, "succeeded");
  auto first = Callback(body, Sign(body));
  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(json::parse(first.body)["status"], "succeeded");
  auto second = Callback(body, Sign(body));
  EXPECT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(json::parse(second.body)["status"], "succeeded");
  EXPECT_EQ(Paid().size(), 1U);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_events WHERE to_status = 'succeeded'"), 1);
  // A late "failed" for a payment already made changes nothing either.
  const std::string late = CallbackBody(p, "failed");
  EXPECT_EQ(Callback(late, Sign(late)).status, 200);
  EXPECT_EQ(Latest(application.id).status, "succeeded");
}

TEST_F(PaymentsByQueryTest, ForgedCallbackIsRefusedAndChangesNothing) {
  const auto application = Apply("retail");
  auto b = SignIn();
  StartPaying(*b, application.reference);
  const auto p = Latest(application.id);
  const auto events = Count("SELECT COUNT(*) FROM payment_events");
  const std::string body = CallbackBody(p, "succeeded");

  auto unsigned_call = Callback(body, "");
  EXPECT_EQ(unsigned_call.status, 403);
  EXPECT_EQ(json::parse(unsigned_call.body)["code"], "payments.bad_signature");
  auto forged = Callback(body, HmacSha256Hex("not the gateway's secret", body));
  EXPECT_EQ(forged.status, 403);
  // A body changed after signing: the signature no longer holds.
  const std::string tampered = json{{"amount", 1}, {"reference", p.reference}, {"status", "succeeded"},
                                    {"transaction", p.gateway_transaction.value_or("")}}
                                   .dump();
  EXPECT_EQ(Callback(tampered, Sign(body)).status, 403);

  EXPECT_EQ(Latest(application.id).status, "initiated");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM payment_events"), events);
  EXPECT_TRUE(Paid().empty());
  EXPECT_FALSE(Settled(application.id));
}

TEST_F(PaymentsTest, RefundByTheAgencysAdministrator) {
  const auto application = Apply("retail");
  auto b = SignIn();
  b->Get(Choose(*b, StartPaying(*b, application.reference), "pay"));
  const auto p = Latest(application.id);
  ASSERT_EQ(p.status, "succeeded");
  auto client = server_.Client();
  const std::string target = "/api/v1/payments/" + p.reference + "/refund";
  const std::string admin = Official("MOICE", "agency_administrator");
  const std::string admin_user = last_official_;

  auto no_reason = client->Send("POST", target, "{}", {{"Authorization", admin}, {"Content-Type", "application/json"}});
  EXPECT_EQ(no_reason.status, 422) << no_reason.body;
  EXPECT_EQ(json::parse(no_reason.body)["fields"][0]["field"], "reason");
  auto blank = client->Send("POST", target, R"({"reason":"   "})", {{"Authorization", admin}, {"Content-Type", "application/json"}});
  EXPECT_EQ(blank.status, 422) << blank.body;

  const std::string officer = Official("MOICE", "officer");
  auto not_allowed = client->Send("POST", target, R"({"reason":"duplicate"})",
                                  {{"Authorization", officer}, {"Content-Type", "application/json"}});
  EXPECT_EQ(not_allowed.status, 403);
  const std::string elsewhere = Official("DCRC", "agency_administrator");
  auto other_agency = client->Send("POST", target, R"({"reason":"duplicate"})",
                                   {{"Authorization", elsewhere}, {"Content-Type", "application/json"}});
  EXPECT_EQ(other_agency.status, 403);
  EXPECT_EQ(json::parse(other_agency.body)["code"], "payments.forbidden");
  EXPECT_EQ(Latest(application.id).status, "succeeded");

  // The page's form: no reason is shown as a problem with the field.
  auto browser = SignInOfficialFirstTime(server_.port(), admin_user, kOfficialPassword);
  ASSERT_EQ(browser->Get("/payments").status, 200);
  auto page = browser->Post("/payments/" + p.reference + "/refund", {{"reason", " "}});
  EXPECT_EQ(page.status, 422) << page.body;
  EXPECT_NE(page.body.find("href=\"#reason-" + p.reference + "\""), std::string::npos) << page.body;
  EXPECT_EQ(Latest(application.id).status, "succeeded");

  auto refunded = client->Send("POST", target, R"({"reason":"The applicant paid twice"})",
                               {{"Authorization", admin}, {"Content-Type", "application/json"}});
  EXPECT_EQ(refunded.status, 200) << refunded.body;
  EXPECT_EQ(json::parse(refunded.body)["status"], "refunded");
  EXPECT_FALSE(Settled(application.id));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'payments.status_changed' AND detail LIKE "
                  "'%The applicant paid twice%'"),
            1);
  auto twice = client->Send("POST", target, R"({"reason":"again"})",
                            {{"Authorization", admin}, {"Content-Type", "application/json"}});
  EXPECT_EQ(twice.status, 409);
}

TEST_F(PaymentsTest, ReconciliationCsvOfTheDay) {
  const auto paid = Apply("retail");
  const auto declined = Apply("micro");
  auto b = SignIn();
  b->Get(Choose(*b, StartPaying(*b, paid.reference), "pay"));
  b->Get(Choose(*b, StartPaying(*b, declined.reference), "decline"));
  const auto p1 = Latest(paid.id);
  const auto p2 = Latest(declined.id);
  auto client = server_.Client();
  const std::string officer = Official("MOICE", "officer");
  auto csv = client->Get("/payments/reconciliation.csv?date=" + BhutanToday(), {{"Authorization", officer}});
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_TRUE(csv.Header("content-type").starts_with("text/csv"));
  EXPECT_TRUE(csv.body.starts_with("payment_reference,application_reference,payer,amount_chhertum,amount,status,"));
  EXPECT_NE(csv.body.find(p1.reference + "," + paid.reference + "," + kCitizen + ",510000,\"Nu. 5,100.00\",succeeded,sim,"),
            std::string::npos)
      << csv.body;
  EXPECT_NE(csv.body.find(p2.reference + "," + declined.reference + "," + kCitizen + ",310000,\"Nu. 3,100.00\",failed,sim,"),
            std::string::npos)
      << csv.body;
  // Another day, another organisation: nothing.
  auto yesterday = client->Get("/payments/reconciliation.csv?date=2020-01-01", {{"Authorization", officer}});
  EXPECT_EQ(std::count(yesterday.body.begin(), yesterday.body.end(), '\n'), 1);
  auto dcrc = client->Get("/payments/reconciliation.csv?date=" + BhutanToday(),
                          {{"Authorization", Official("DCRC", "officer")}});
  EXPECT_EQ(dcrc.body.find(p1.reference), std::string::npos);
  auto bad = client->Get("/payments/reconciliation.csv?date=30-11-2026", {{"Authorization", officer}});
  EXPECT_EQ(bad.status, 422);
  // The day's page lists them too.
  auto page = client->Get("/payments?date=" + BhutanToday(), {{"Authorization", officer}, {"Accept", "text/html"}});
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find(p1.reference), std::string::npos);
  // The JSON API.
  auto api = client->Get("/api/v1/payments/" + p1.reference, {{"Authorization", officer}});
  EXPECT_EQ(api.status, 200);
  EXPECT_EQ(json::parse(api.body)["amount_chhertum"], 510000);
  auto other = client->Get("/api/v1/payments/" + p1.reference, {{"Authorization", Official("DCRC", "officer")}});
  EXPECT_EQ(other.status, 404);
}

TEST_F(PaymentsTest, ReceiptPdfInEnglishAndDzongkha) {
  const auto application = Apply("retail");
  auto b = SignIn();
  b->Get(Choose(*b, StartPaying(*b, application.reference), "pay"));
  const auto p = Latest(application.id);
  auto pdf = b->Get("/my/payments/" + p.reference + "/receipt.pdf");
  ASSERT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.Header("content-type"), "application/pdf");
  ASSERT_TRUE(pdf.body.starts_with("%PDF-"));
  const auto file = data_dir_ / "receipt.pdf";
  std::filesystem::create_directories(data_dir_);
  std::ofstream(file, std::ios::binary) << pdf.body;
  const std::string text = RunCommand("pdftotext -enc UTF-8 " + file.string() + " -");
  // Text extraction may break a Dzongkha word where its glyph clusters
  // meet; the words are compared without spaces.
  std::string joined = text;
  std::erase(joined, ' ');
  for (const std::string& expected :
       {std::string("Payment receipt"), p.reference, application.reference, std::string("Nu. 5,100.00"),
        std::string(kCitizen), std::string("Amount paid"), std::string("Ministry"), std::string("འབྱོར་ལེན"),
        std::string("དངུལ་འབོར")}) {
    std::string word = expected;
    std::erase(word, ' ');
    EXPECT_NE(joined.find(word), std::string::npos) << expected << " missing from:\n" << text;
  }
  const std::string info = RunCommand("pdfinfo " + file.string());
  EXPECT_NE(info.find(" Payment receipt " + p.reference), std::string::npos) << info;
  EXPECT_NE(info.find(" Ministry of Industry, Commerce and Employment\n"), std::string::npos) << info;
  EXPECT_NE(info.find("A4"), std::string::npos) << info;

  // Signed as certificates are: checked offline against the published keys, and its QR code carries the same.
  auto client = server_.Client();
  auto payload = certificates::PayloadFromPdf(pdf.body);
  ASSERT_TRUE(payload.ok()) << payload.error().message;
  auto keys = KeysFromJwks(client->Get("/.well-known/dzong-keys.json").body);
  ASSERT_TRUE(keys.ok());
  auto check = certificates::VerifyOffline(*payload, *keys, FormatUtc(std::chrono::system_clock::now()));
  ASSERT_TRUE(check.ok()) << check.error().message;
  EXPECT_EQ(check->verdict, certificates::Verdict::kValid) << check->detail;
  EXPECT_EQ(check->payload["id"], p.reference);
  EXPECT_EQ(check->payload["f"]["amount"], "Nu. 5,100.00");
  RunCommand("pdftoppm -png -r 200 -f 1 -l 1 -singlefile " + file.string() + " " + (data_dir_ / "receipt").string());
  std::string scanned = RunCommand("zbarimg --raw -q " + (data_dir_ / "receipt.png").string());
  while (!scanned.empty() && scanned.back() == '\n') scanned.pop_back();
  EXPECT_EQ(scanned, *payload);

  // The agency's officials may read it; nobody else.
  EXPECT_EQ(client->Get("/my/payments/" + p.reference + "/receipt.pdf",
                        {{"Authorization", Official("MOICE", "officer")}, {"Accept", "text/html"}})
                .status,
            200);
  EXPECT_EQ(client->Get("/my/payments/" + p.reference + "/receipt.pdf",
                        {{"Authorization", Official("DCRC", "officer")}, {"Accept", "text/html"}})
                .status,
            404);
}

}  // namespace
}  // namespace dzong::testing
