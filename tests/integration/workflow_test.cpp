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
#include "support/journeys.h"
#include "support/test_server.h"

namespace dzong::testing {
namespace {

using nlohmann::json;

constexpr const char* kMother = kDemoCitizen;
constexpr const char* kPassword = kDemoPassword;
const std::string& kPdf = kTinyPdf;

class WorkflowTest : public ::testing::Test, public JourneySteps {
 protected:
  TestServer& server() override { return server_; }

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
  const std::string reference = ApplyForBirth(*mother, father);
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

  // Entering "registered" issued the certificate, asked for the register update, and told the mother.
  const std::string id = Text("SELECT CAST(id AS TEXT) FROM applications WHERE reference = '" + reference + "'");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM workflow_tasks WHERE kind = 'issue_certificate' AND status = 'done' AND "
                  "organisation = 'DCRC' AND application_id = " + id),
            1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM certificates WHERE holder = '" + std::string(kMother) +
                  "' AND issuer = 'DCRC' AND application_id = " + id),
            1);
  EXPECT_EQ(Notices(kMother, "certificate.issued"), 1);
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

  // The population register's steward finds the update to make, and closes it.
  Browser steward(server_.port());
  steward.Get("/sign-in");
  ASSERT_EQ(steward.Post("/sign-in", {{"username", "dechen.wangmo"}, {"password", "Registry-Steward-2026"}}).Header("location"),
            "/account/totp");
  const std::string secret = Browser::Between(steward.Get("/account/totp").body, "id=\"totp-secret\">", "<");
  const auto step = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count() / 30;
  ASSERT_EQ(steward.Post("/account/totp", {{"secret", secret}, {"code", identity::TotpCode(*Base32Decode(secret), step)}})
                .status,
            303);
  auto list = steward.Get("/steward/tasks");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find(reference), std::string::npos);
  const std::string task = Text("SELECT CAST(id AS TEXT) FROM workflow_tasks WHERE kind = 'update_registry'");
  auto page = steward.Get("/steward/tasks/" + task);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("JDWNR Hospital"), std::string::npos);
  auto declined = steward.Post("/steward/tasks/" + task, {{"outcome", "declined"}, {"note", " "}});
  EXPECT_EQ(declined.status, 422);
  EXPECT_NE(declined.body.find("href=\"#note\""), std::string::npos);
  EXPECT_EQ(Text("SELECT status FROM workflow_tasks WHERE id = " + task), "open");
  auto done = steward.Post("/steward/tasks/" + task, {{"outcome", "done"}, {"note", "Pema added to household"}});
  EXPECT_EQ(done.status, 303) << done.body;
  EXPECT_EQ(Text("SELECT status FROM workflow_tasks WHERE id = " + task), "done");
  EXPECT_EQ(Application(mother_token, reference)["history"].back()["detail"]["outcome"], "done");
  EXPECT_EQ(steward.Post("/steward/tasks/" + task, {{"outcome", "done"}, {"note", "again"}}).status, 409);
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

TEST_F(WorkflowTest, AnApplicationThroughTheApiIsMadeOnceWhateverTheRetries) {
  const std::string token = Token(kMother, "account.self");
  const auto apply = [&](const json& body, const std::string& key) {
    HttpClient client(server_.port());
    std::vector<std::pair<std::string, std::string>> headers = {{"Authorization", "Bearer " + token},
                                                                {"Content-Type", "application/json"}};
    if (!key.empty()) headers.emplace_back("Idempotency-Key", key);
    return client.Send("POST", "/api/v1/services/security-clearance/applications", body.dump(), headers);
  };
  const json good = {{"consent", true}, {"answers", {{"clearance_type", "general"}}}};
  // Bad input: named by field and rule, and nothing is made.
  auto r = apply({{"consent", true}, {"answers", {{"clearance_type", "for fun"}}}}, "retry-key-0001");
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(json::parse(r.body)["fields"][0]["field"], "answers.clearance_type");
  r = apply({{"consent", true}, {"answers", {{"clearance_type", "general"}, {"shoe_size", 42}}}}, "retry-key-0001");
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(json::parse(r.body)["fields"][0]["field"], "answers.shoe_size");
  EXPECT_EQ(json::parse(r.body)["fields"][0]["rule"], "unknown");
  r = apply(good, "");
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(json::parse(r.body)["fields"][0]["field"], "Idempotency-Key");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM applications"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM form_drafts"), 0);
  // Made once, however often it is sent.
  r = apply(good, "retry-key-0001");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string reference = json::parse(r.body)["reference"];
  EXPECT_EQ(json::parse(r.body)["channel"], "api");
  EXPECT_EQ(r.Header("location"), "/api/v1/applications/" + reference);
  for (int i = 0; i < 3; ++i) {
    auto again = apply(good, "retry-key-0001");
    ASSERT_EQ(again.status, 201) << again.body;
    EXPECT_EQ(json::parse(again.body)["reference"], reference);
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM applications"), 1);
  EXPECT_EQ(Notices(kMother, "application.submitted"), 1);
  // The key with another request is refused.
  r = apply({{"consent", true}, {"answers", {{"clearance_type", "election"}}}}, "retry-key-0001");
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(json::parse(r.body)["fields"][0]["rule"], "reused");
  // The application is on its way like any other.
  json a = Application(token, reference);
  EXPECT_EQ(a["state"], "submitted");
  EXPECT_EQ(a["answers"]["clearance_type"], "general");
  EXPECT_FALSE(a["answers"]["given_name"].get<std::string>().empty()) << "filled in from the register";
}

}  // namespace
}  // namespace dzong::testing
