// The workflow engine over HTTP, as its people use it: the mother applies
// for a birth registration, the father confirms from his own account, a
// DCRC officer approves and the certificate and register update are asked
// for; a security clearance decided by the police; a request for more
// information that stops the SLA clock; escalation of late applications;
// two officers deciding at once; bad decisions refused without a change.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "main/app.h"
#include "modules/forms/form.h"
#include "modules/identity/identity.h"
#include "modules/registries/registries.h"
#include "modules/services/services.h"
#include "modules/workflow/workflow.h"
#include "support/browser.h"
#include "support/test_server.h"

namespace dzong::testing {
namespace {

using nlohmann::json;

constexpr char kMother[] = "11410012345";
constexpr char kPassword[] = "Tashi-Delek-2026";
const std::string kPdf = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

class WorkflowTest : public ::testing::Test {
 protected:
  WorkflowTest()
      : data_dir_(std::filesystem::temp_directory_path() / ("dzong-workflow-" + RandomHex(6))),
        server_([&](Config& c) { c.data_dir = data_dir_.string(); }) {}
  ~WorkflowTest() override {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }

  void SetUp() override {
    audit::Actor seeder;
    seeder.id = "seed";
    ASSERT_TRUE(server_.app().Registries().SeedPopulation(30, 5, true, seeder).ok());
  }

  std::unique_ptr<Browser> SignIn(const std::string& username, const std::string& password) {
    auto b = std::make_unique<Browser>(server_.port());
    b->Get("/sign-in");
    auto r = b->Post("/sign-in", {{"username", username}, {"password", password}});
    EXPECT_EQ(r.status, 303) << r.body;
    return b;
  }

  /// Starts a draft with consent and returns its path, /my/drafts/<id>.
  std::string Start(Browser& b, const std::string& code) {
    EXPECT_EQ(b.Get("/services/" + code + "/apply").status, 200);
    auto r = b.Post("/services/" + code + "/apply", {{"consent", "yes"}});
    EXPECT_EQ(r.status, 303) << r.body;
    const std::string location = r.Header("location");
    const auto cut = location.find("/pages/");
    return location.substr(0, cut == std::string::npos ? location.find("/check") : cut);
  }

  HttpResponse PostFile(Browser& b, const std::string& target, const std::string& field, const std::string& bytes,
                        const std::map<std::string, std::string>& fields = {}) {
    const std::string boundary = "----dzongtest" + RandomHex(8);
    std::string body;
    for (const auto& [name, value] : fields) {
      body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
    }
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + b.csrf() +
                       "\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field +
                       "\"; filename=\"notification.pdf\"\r\nContent-Type: application/pdf\r\n\r\n" + bytes + "\r\n--" +
                       boundary + "--\r\n";
    HttpClient client(server_.port());
    return client.Send("POST", target, body,
                       {{"Cookie", "dzong_session=" + b.Cookie("dzong_session") + "; dzong_csrf=" + b.Cookie("dzong_csrf")},
                        {"Content-Type", "multipart/form-data; boundary=" + boundary},
                        {"Accept", "text/html"}});
  }

  /// Checks the answers and submits; returns the application's reference.
  std::string Submit(Browser& b, const std::string& draft) {
    EXPECT_EQ(b.Get(draft + "/check").status, 200);
    auto r = b.Post(draft + "/submit", {});
    EXPECT_EQ(r.status, 303) << r.body;
    const std::string id = draft.substr(draft.rfind('/') + 1);
    return Text("SELECT reference FROM applications WHERE draft_id = " + id);
  }

  /// The demo citizen applies for a security clearance, everything from the register.
  std::string ApplyForClearance(Browser& b) {
    const std::string draft = Start(b, "security-clearance");
    EXPECT_EQ(b.Post(draft + "/pages/your_details", {}).status, 303);
    EXPECT_EQ(b.Post(draft + "/pages/purpose", {{"clearance_type", "general"}}).status, 303);
    return Submit(b, draft);
  }

  /// A person of the register other than the demo citizen, of `sex`.
  std::string Person(const std::string& sex) {
    return Text(fmt::format("SELECT record_key FROM registry_records WHERE registry = 'population' AND valid_to IS NULL "
                            "AND record_key <> '{}' AND data LIKE '%\"sex\":\"{}\"%' ORDER BY record_key LIMIT 1",
                            kMother, sex));
  }

  /// A bearer token for an account, with these permissions.
  std::string Token(const std::string& username, const std::string& scopes) {
    const std::int64_t id = Count("SELECT id FROM accounts WHERE username = '" + username + "'");
    auto token = server_.app().Identity().CreateToken(id, "test", scopes, std::chrono::hours(1));
    EXPECT_TRUE(token.ok()) << token.error().message;
    return token.ok() ? *token : "";
  }

  void NewAccount(const json& account, const std::string& role = "") {
    auto client = server_.Client();
    auto created = client->Send("POST", "/api/v1/accounts", account.dump(), Operator());
    ASSERT_EQ(created.status, 201) << created.body;
    if (role.empty()) return;
    const std::int64_t id = json::parse(created.body)["id"];
    ASSERT_EQ(client->Send("POST", fmt::format("/api/v1/accounts/{}/grants", id), json{{"role", role}}.dump(), Operator())
                  .status,
              201);
  }

  std::string Officer(const std::string& username, const std::string& organisation) {
    NewAccount({{"kind", "official"},
                {"username", username},
                {"display_name", "Officer " + username},
                {"organisation", organisation},
                {"password", "Officer-Password-2026"}},
               "officer");
    return Token(username, "account.self applications.work");
  }

  HttpResponse Call(const std::string& token, const std::string& method, const std::string& target,
                    const json& body = nullptr) {
    HttpClient client(server_.port());
    return client.Send(method, target, body.is_null() ? "" : body.dump(),
                       {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
  }

  json Application(const std::string& token, const std::string& reference) {
    auto r = Call(token, "GET", "/api/v1/applications/" + reference);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json::parse(r.body) : json::object();
  }

  HttpResponse Take(const std::string& token, const std::string& reference, const std::string& transition,
                    std::int64_t version, const std::string& comment = "") {
    json body = {{"action", "transition"}, {"transition", transition}, {"version", version}};
    if (!comment.empty()) body["comment"] = comment;
    return Call(token, "POST", "/api/v1/applications/" + reference + "/actions", body);
  }

  std::int64_t Count(const std::string& sql) {
    return server_.app()
        .Database()
        .ReadValue<std::int64_t>([&](db::Connection& c) -> Result<std::int64_t> {
          DZONG_ASSIGN_OR_RETURN(auto rows, c.Query(sql));
          return rows.empty() ? 0 : rows.at(0).Int(0);
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

  void Execute(const std::string& sql) {
    ASSERT_TRUE(server_.app()
                    .Database()
                    .Write([&](db::Connection& c) -> Status {
                      DZONG_TRY(c.Execute(sql));
                      return {};
                    })
                    .ok());
  }

  std::int64_t Notices(const std::string& recipient, const std::string& template_id) {
    return Count(fmt::format("SELECT COUNT(*) FROM notification_outbox WHERE recipient = '{}' AND template = '{}'",
                             recipient, template_id));
  }

  std::string Day(std::chrono::sys_days day) { return forms::FormatDay(day); }
  std::chrono::sys_days Today() { return forms::BhutanToday(std::chrono::system_clock::now()); }

  std::filesystem::path data_dir_;
  TestServer server_;
};

TEST_F(WorkflowTest, ABirthIsRegisteredWhenTheFatherConfirmsAndDcrcApproves) {
  const std::string father = Person("male");
  ASSERT_FALSE(father.empty());
  NewAccount({{"kind", "citizen"}, {"username", father}, {"display_name", "The father"}, {"password", "Father-Password-2026"}},
             "citizen");
  auto mother = SignIn(kMother, kPassword);
  const std::string draft = Start(*mother, "birth-registration");
  ASSERT_EQ(mother->Post(draft + "/pages/about_you", {}).status, 303);
  ASSERT_EQ(mother->Post(draft + "/pages/father", {{"father_cid", father}}).status, 303);
  ASSERT_EQ(mother->Post(draft + "/pages/father_name", {}).status, 303);
  const auto born = std::chrono::year_month_day(Today() - std::chrono::days(10));
  auto child = mother->Post(draft + "/pages/child", {{"child_given_name", "Pema"},
                                                      {"child_sex", "female"},
                                                      {"child_date_of_birth-day", std::to_string(unsigned(born.day()))},
                                                      {"child_date_of_birth-month", std::to_string(unsigned(born.month()))},
                                                      {"child_date_of_birth-year", std::to_string(int(born.year()))},
                                                      {"place_of_birth", "hospital"},
                                                      {"hospital_name", "JDWNR Hospital"}});
  ASSERT_EQ(child.status, 303) << child.body;
  mother->Get(draft + "/pages/documents");
  ASSERT_EQ(PostFile(*mother, draft + "/pages/documents", "birth_notification", kPdf).status, 303);
  const std::string reference = Submit(*mother, draft);
  ASSERT_TRUE(reference.starts_with("DCRC-")) << reference;

  // Submitted: the clock runs from today, the father is asked, the mother told.
  const std::string mother_token = Token(kMother, "account.self");
  json a = Application(mother_token, reference);
  EXPECT_EQ(a["state"], "awaiting_father");
  EXPECT_EQ(a["channel"], "web");
  EXPECT_EQ(a["due_on"], Day(server_.app().Workflow().calendar().AddWorkingDays(Today(), 3)));
  EXPECT_EQ(Notices(kMother, "application.submitted"), 1);
  EXPECT_EQ(Notices(father, "application.action_needed"), 1);
  // The mother cannot confirm for the father, nor decide for DCRC.
  EXPECT_EQ(a["actions"].size(), 1u) << a["actions"].dump();
  EXPECT_EQ(a["actions"][0]["transition"], "withdraw");
  auto refused = Take(mother_token, reference, "father_confirms", a["version"]);
  EXPECT_EQ(refused.status, 403) << refused.body;

  // The father sees it waiting for him and confirms.
  const std::string father_token = Token(father, "account.self");
  json seen = Application(father_token, reference);
  ASSERT_EQ(seen["actions"].size(), 2u);
  auto confirmed = Take(father_token, reference, "father_confirms", seen["version"]);
  ASSERT_EQ(confirmed.status, 200) << confirmed.body;
  EXPECT_EQ(json::parse(confirmed.body)["state"], "with_dcrc");
  EXPECT_EQ(Notices("DCRC", "application.new"), 1);

  // A DCRC officer finds it in the queue and approves it.
  const std::string officer = Token("pema.wangmo", "account.self applications.work");
  auto queue = Call(officer, "GET", "/api/v1/applications?state=with_dcrc");
  ASSERT_EQ(queue.status, 200) << queue.body;
  ASSERT_EQ(json::parse(queue.body)["total"], 1);
  EXPECT_EQ(json::parse(queue.body)["items"][0]["reference"], reference);
  json before = Application(officer, reference);
  ASSERT_EQ(before["actions"].size(), 2u);
  auto approved = Take(officer, reference, "approve", before["version"], "Hospital notification checked");
  ASSERT_EQ(approved.status, 200) << approved.body;
  json after = json::parse(approved.body);
  EXPECT_EQ(after["state"], "registered");
  EXPECT_EQ(after["outcome"], "approved");
  EXPECT_FALSE(after["closed_at"].is_null());

  // Entering "registered" asked for the certificate and the register update, and told the mother.
  const std::string id = Text("SELECT CAST(id AS TEXT) FROM applications WHERE reference = '" + reference + "'");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM workflow_tasks WHERE kind = 'issue_certificate' AND status = 'open' AND "
                  "organisation = 'DCRC' AND application_id = " + id),
            1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM workflow_tasks WHERE kind = 'update_registry' AND registry = 'population' AND "
                  "organisation = 'DCRC' AND application_id = " + id),
            1);
  EXPECT_EQ(Notices(kMother, "application.approved"), 1);
  // Every step is an event with who and when, and an audit record about the mother for this application.
  json history = Application(mother_token, reference)["history"];
  std::vector<std::string> kinds;
  for (const auto& e : history) kinds.push_back(e["kind"].get<std::string>() + ":" + e["to"].get<std::string>());
  EXPECT_EQ(kinds, (std::vector<std::string>{"submitted:awaiting_father", "transition:with_dcrc", "transition:registered",
                                             "action:registered", "action:registered"}));
  EXPECT_EQ(history[1]["actor"], father);
  EXPECT_EQ(history[2]["actor"], "pema.wangmo");
  EXPECT_EQ(history[2]["comment"], "Hospital notification checked");
  EXPECT_EQ(Count(fmt::format("SELECT COUNT(*) FROM audit_events WHERE action = 'workflow.transition' AND subject = "
                              "'{}' AND purpose = '{}'",
                              kMother, reference)),
            2);
  // Closed: nothing more can be done.
  EXPECT_EQ(Take(officer, reference, "reject", after["version"], "late").status, 409);
}

TEST_F(WorkflowTest, APoliceOfficerClearsASecurityClearanceAndOtherAgenciesSeeNothing) {
  auto citizen = SignIn(kMother, kPassword);
  const std::string reference = ApplyForClearance(*citizen);
  ASSERT_TRUE(reference.starts_with("RBP-")) << reference;
  EXPECT_EQ(Notices("RBP", "application.new"), 1);
  // A DCRC officer neither finds nor opens it.
  const std::string dcrc = Token("pema.wangmo", "account.self applications.work");
  EXPECT_EQ(json::parse(Call(dcrc, "GET", "/api/v1/applications").body)["total"], 0);
  EXPECT_EQ(Call(dcrc, "GET", "/api/v1/applications/" + reference).status, 404);
  const std::string police = Officer("sonam.tobgay.test", "RBP");
  auto claimed = Call(police, "POST", "/api/v1/applications/" + reference + "/actions",
                      {{"action", "assign"}, {"assignee", "sonam.tobgay.test"}, {"version", 1}});
  ASSERT_EQ(claimed.status, 200) << claimed.body;
  EXPECT_EQ(json::parse(Call(police, "GET", "/api/v1/applications?assignee=me").body)["total"], 1);
  json a = Application(police, reference);
  auto cleared = Take(police, reference, "approve", a["version"]);
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_EQ(json::parse(cleared.body)["state"], "cleared");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM workflow_tasks WHERE kind = 'issue_certificate' AND organisation = 'RBP'"), 1);
  EXPECT_EQ(Notices(kMother, "application.approved"), 1);
  // The citizen sees the outcome.
  EXPECT_EQ(Application(Token(kMother, "account.self"), reference)["outcome"], "approved");
}

TEST_F(WorkflowTest, ARequestForInformationStopsTheClockUntilTheApplicantAnswers) {
  auto citizen = SignIn(kMother, kPassword);
  const std::string reference = ApplyForClearance(*citizen);
  const std::string police = Officer("rbp.officer", "RBP");
  const std::string applicant = Token(kMother, "account.self");
  json a = Application(police, reference);
  const std::string due = a["due_on"];
  // The question must be given.
  auto empty = Call(police, "POST", "/api/v1/applications/" + reference + "/actions",
                    {{"action", "request_information"}, {"question", "  "}, {"version", a["version"]}});
  ASSERT_EQ(empty.status, 422) << empty.body;
  EXPECT_EQ(json::parse(empty.body)["fields"][0]["field"], "question");
  EXPECT_EQ(json::parse(empty.body)["fields"][0]["rule"], "required");
  auto asked = Call(police, "POST", "/api/v1/applications/" + reference + "/actions",
                    {{"action", "request_information"},
                     {"question", "Which employer asked for the clearance?"},
                     {"version", a["version"]}});
  ASSERT_EQ(asked.status, 200) << asked.body;
  EXPECT_EQ(json::parse(asked.body)["sla"], "paused");
  EXPECT_EQ(Notices(kMother, "application.information_requested"), 1);
  // Paused for five working days: the request was asked a week ago.
  const auto asked_on = server_.app().Workflow().calendar().AddWorkingDays(Today() - std::chrono::days(14), 0);
  Execute(fmt::format("UPDATE applications SET paused_since = '{}' WHERE reference = '{}'", Day(asked_on), reference));
  const int paused = server_.app().Workflow().calendar().WorkingDaysBetween(asked_on, Today());
  ASSERT_GT(paused, 5);
  // Someone else cannot answer; the applicant's empty answer is refused.
  EXPECT_EQ(Call(police, "POST", "/api/v1/applications/" + reference + "/actions",
                 {{"action", "answer"}, {"answer", "The bank"}})
                .status,
            403);
  auto blank = Call(applicant, "POST", "/api/v1/applications/" + reference + "/actions",
                    {{"action", "answer"}, {"answer", ""}});
  EXPECT_EQ(blank.status, 422) << blank.body;
  auto answered = Call(applicant, "POST", "/api/v1/applications/" + reference + "/actions",
                       {{"action", "answer"}, {"answer", "Bank of Bhutan, for a job as teller"}});
  ASSERT_EQ(answered.status, 200) << answered.body;
  json after = json::parse(answered.body);
  EXPECT_TRUE(after["paused_since"].is_null());
  const auto due_day = *ParseDate(due);
  EXPECT_EQ(after["due_on"], Day(server_.app().Workflow().calendar().AddWorkingDays(due_day, paused)));
  json full = Application(police, reference);
  EXPECT_EQ(full["information_requests"][0]["answer"], "Bank of Bhutan, for a job as teller");
  EXPECT_EQ(full["history"].back()["kind"], "information_provided");
  EXPECT_EQ(full["history"].back()["detail"]["paused_working_days"], paused);
  // Answered: there is nothing more to answer.
  EXPECT_EQ(Call(applicant, "POST", "/api/v1/applications/" + reference + "/actions",
                 {{"action", "answer"}, {"answer", "again"}})
                .status,
            409);
}

TEST_F(WorkflowTest, LateApplicationsAreEscalatedOnceAndOfficersAreTold) {
  auto citizen = SignIn(kMother, kPassword);
  const std::string late = ApplyForClearance(*citizen);
  const std::string soon = ApplyForClearance(*citizen);
  const std::string fine = ApplyForClearance(*citizen);
  Execute(fmt::format("UPDATE applications SET due_on = '{}' WHERE reference = '{}'",
                      Day(Today() - std::chrono::days(3)), late));
  Execute(fmt::format("UPDATE applications SET due_on = '{}' WHERE reference = '{}'", Day(Today()), soon));
  audit::Actor sweeper;
  sweeper.id = "workflow";
  auto changed = server_.app().Workflow().Escalate(sweeper);
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  EXPECT_EQ(*changed, 2);
  EXPECT_EQ(Count("SELECT escalation FROM applications WHERE reference = '" + late + "'"), 2);
  EXPECT_EQ(Count("SELECT escalation FROM applications WHERE reference = '" + soon + "'"), 1);
  EXPECT_EQ(Count("SELECT escalation FROM applications WHERE reference = '" + fine + "'"), 0);
  EXPECT_EQ(Notices("RBP", "application.sla_breach"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM application_events WHERE kind = 'overdue'"), 1);
  // Once each: a second sweep changes nothing.
  EXPECT_EQ(*server_.app().Workflow().Escalate(sweeper), 0);
  EXPECT_EQ(Notices("RBP", "application.sla_breach"), 1);
  // The queue shows them by SLA.
  const std::string police = Officer("rbp.queue", "RBP");
  EXPECT_EQ(json::parse(Call(police, "GET", "/api/v1/applications?sla=overdue").body)["items"][0]["reference"], late);
  EXPECT_EQ(json::parse(Call(police, "GET", "/api/v1/applications?sla=due_soon").body)["items"][0]["reference"], soon);
  EXPECT_EQ(json::parse(Call(police, "GET", "/api/v1/applications?sla=on_time").body)["total"], 1);
  auto bad = Call(police, "GET", "/api/v1/applications?sla=yesterday");
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(json::parse(bad.body)["fields"][0]["field"], "sla");
}

TEST_F(WorkflowTest, TwoOfficersDecidingAtOnceAreOneDecisionAndTheOtherIsTold) {
  auto citizen = SignIn(kMother, kPassword);
  const std::string reference = ApplyForClearance(*citizen);
  const std::string first = Officer("rbp.first", "RBP");
  const std::string second = Officer("rbp.second", "RBP");
  const std::int64_t version = Application(first, reference)["version"];
  std::atomic<int> ok = 0;
  std::atomic<int> told = 0;
  std::vector<std::thread> officers;
  for (int i = 0; i < 8; ++i) {
    officers.emplace_back([&, i] {
      auto r = i % 2 == 0 ? Take(first, reference, "approve", version)
                          : Take(second, reference, "reject", version, "The record shows a conviction");
      if (r.status == 200) ++ok;
      if (r.status == 409 && json::parse(r.body)["code"] == "workflow.someone_else_acted") ++told;
    });
  }
  for (auto& t : officers) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(told.load(), 7);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM application_events WHERE kind = 'transition'"), 1);
  auto stale = Take(second, reference, "reject", version, "again");
  EXPECT_EQ(stale.status, 409);
  EXPECT_NE(json::parse(stale.body)["message"].get<std::string>().find("Someone else acted"), std::string::npos);
}

TEST_F(WorkflowTest, ABadDecisionIsRefusedWithItsFieldAndChangesNothing) {
  auto citizen = SignIn(kMother, kPassword);
  const std::string reference = ApplyForClearance(*citizen);
  const std::string police = Officer("rbp.careful", "RBP");
  json a = Application(police, reference);
  const std::int64_t events = Count("SELECT COUNT(*) FROM application_events");
  const std::int64_t audit = Count("SELECT COUNT(*) FROM audit_events WHERE object_type = 'application'");
  // Rejecting needs a reason.
  auto r = Take(police, reference, "reject", a["version"]);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(json::parse(r.body)["fields"][0]["field"], "comment");
  EXPECT_EQ(json::parse(r.body)["fields"][0]["rule"], "required");
  // No such step; a missing version.
  r = Take(police, reference, "promote", a["version"]);
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(json::parse(r.body)["fields"][0]["field"], "transition");
  r = Call(police, "POST", "/api/v1/applications/" + reference + "/actions", {{"action", "transition"}, {"transition", "approve"}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(json::parse(r.body)["fields"][0]["field"], "version");
  // Someone the workflow does not name cannot even see it.
  const std::string other = Person("female");
  NewAccount({{"kind", "citizen"}, {"username", other}, {"display_name", "Another"}, {"password", "Another-Password-2026"}},
             "citizen");
  EXPECT_EQ(Call(Token(other, "account.self"), "GET", "/api/v1/applications/" + reference).status, 404);
  // Assigning to someone who is no officer of the police.
  r = Call(police, "POST", "/api/v1/applications/" + reference + "/actions",
           {{"action", "assign"}, {"assignee", "pema.wangmo"}, {"version", a["version"]}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(json::parse(r.body)["fields"][0]["field"], "assignee");
  EXPECT_EQ(Application(police, reference)["version"], a["version"]);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM application_events"), events);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE object_type = 'application'"), audit);
}

TEST_F(WorkflowTest, AFeeKeepsTheApplicationWaitingUntilItIsPaid) {
  auto citizen = SignIn(kMother, kPassword);
  const std::string draft = Start(*citizen, "business-licence");
  ASSERT_EQ(citizen->Post(draft + "/pages/about_you", {}).status, 303);
  ASSERT_EQ(citizen->Post(draft + "/pages/business",
                          {{"business_name", "Druk Trading"}, {"activity", "retail"}, {"expected_capital", "50000"}})
                .status,
            303);
  citizen->Get(draft + "/pages/premises");
  auto premises = PostFile(*citizen, draft + "/pages/premises", "premises_lease", kPdf,
                           {{"premises_address-dzongkhag", "Thimphu"},
                            {"premises_address-gewog", "Chang"},
                            {"premises_address-village", "Motithang"}});
  ASSERT_EQ(premises.status, 303) << premises.body;
  const std::string reference = Submit(*citizen, draft);
  ASSERT_FALSE(reference.empty());
  const std::string police = Officer("moice.officer", "MOICE");
  json a = Application(police, reference);
  EXPECT_TRUE(a["awaiting_payment"].get<bool>());
  EXPECT_GT(a["fee_chhertum"].get<std::int64_t>(), 0);
  EXPECT_TRUE(a["due_on"].is_null()) << "the clock starts when the fee is paid";
  EXPECT_TRUE(a["actions"].empty());
  EXPECT_EQ(Take(police, reference, "approve", a["version"]).status, 409);
  EXPECT_EQ(Notices("MOICE", "application.new"), 0);
  // Paid: the clock starts and the officers are told.
  const std::int64_t app_id = Count("SELECT id FROM applications WHERE reference = '" + reference + "'");
  ASSERT_TRUE(server_.app().Database().Write([&](db::Connection& c) {
    return server_.app().Workflow().OnPaid(c, app_id, "PAY-TEST-1");
  }).ok());
  json paid = Application(police, reference);
  EXPECT_FALSE(paid["awaiting_payment"].get<bool>());
  EXPECT_EQ(paid["due_on"], Day(server_.app().Workflow().calendar().AddWorkingDays(Today(), 7)));
  EXPECT_EQ(Notices("MOICE", "application.new"), 1);
  EXPECT_EQ(Take(police, reference, "approve", paid["version"]).status, 200);
}

}  // namespace
}  // namespace dzong::testing
