// The workflow's pages on the engine under test, as people use them in a
// browser: the demo citizen applies for security clearance through the
// form runner; the RBP officer works the RBP queue (filters, paging, bulk
// approval, a stale version refused with 409, a refusal that needs a
// comment refused with 422 naming the field) and sees the applicant's
// population record, each view recorded with the application's reference
// as its purpose; the DCRC officer sees none of it; the citizen sees their
// applications, but not someone else's, and withdraws one.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "main/app.h"
#include "modules/identity/identity.h"
#include "modules/registries/registries.h"
#include "support/browser.h"
#include "support/official_sign_in.h"
#include "support/test_server.h"

namespace dzong::testing {
namespace {

using nlohmann::json;

constexpr char kCitizen[] = "11410012345";
constexpr char kCitizenPassword[] = "Tashi-Delek-2026";

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

/// The row version a page's form carries.
std::string RowVersion(const std::string& page) { return Browser::Between(page, "name=\"row_version\" value=\"", "\""); }

class WorkflowPagesTest : public ::testing::Test {
 protected:
  WorkflowPagesTest()
      : data_dir_(std::filesystem::temp_directory_path() / ("dzong-wfpages-" + RandomHex(6))),
        server_([&](Config& c) { c.data_dir = data_dir_.string(); }) {}
  ~WorkflowPagesTest() override {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }

  void SetUp() override {
    audit::Actor seeder;
    seeder.id = "seed";
    ASSERT_TRUE(server_.app().Registries().SeedPopulation(30, 5, true, seeder).ok());
  }

  std::unique_ptr<Browser> Citizen(const std::string& cid = kCitizen, const std::string& password = kCitizenPassword) {
    auto b = std::make_unique<Browser>(server_.port());
    b->Get("/sign-in");
    auto r = b->Post("/sign-in", {{"username", cid}, {"password", password}});
    EXPECT_EQ(r.status, 303) << r.body;
    return b;
  }

  std::unique_ptr<Browser> Official(const std::string& user, const std::string& password) {
    return SignInOfficialFirstTime(server_.port(), user, password);
  }

  std::unique_ptr<Browser> Police() { return Official("sonam.tobgay", "Police-Officer-2026"); }

  /// Applies for security clearance through the form runner; returns the reference.
  std::string ApplyForClearance(Browser& b) {
    b.Get("/services/security-clearance/apply");
    auto r = b.Post("/services/security-clearance/apply", {{"consent", "yes"}});
    EXPECT_EQ(r.status, 303) << r.body;
    std::string location = r.Header("location");
    const std::map<std::string, std::map<std::string, std::string>> answers = {
        {"your_details",
         {{"given_name", "Sonam"}, {"surname", "Choden"}, {"date_of_birth-day", "12"}, {"date_of_birth-month", "3"},
          {"date_of_birth-year", "1994"}, {"dzongkhag", "Thimphu"}, {"gewog", "Chang"}, {"village", "Chang"},
          {"household_number", "14900001"}}},
        {"purpose", {{"clearance_type", "general"}}}};
    for (int step = 0; step < 5 && location.find("/pages/") != std::string::npos; ++step) {
      const std::string page = location.substr(location.rfind('/') + 1);
      b.Get(location);
      r = b.Post(location, answers.contains(page) ? answers.at(page) : std::map<std::string, std::string>{});
      EXPECT_EQ(r.status, 303) << page << ": " << r.body;
      location = r.Header("location");
    }
    EXPECT_TRUE(location.ends_with("/check")) << location;
    const std::string draft = location.substr(0, location.size() - 6);
    b.Get(location);
    r = b.Post(draft + "/submit", {});
    EXPECT_EQ(r.status, 303) << r.body;
    auto sent = b.Get(draft + "/submitted");
    EXPECT_EQ(sent.status, 200) << sent.body;
    return Browser::Between(sent.body, "<strong id=\"reference\">", "<");
  }

  std::int64_t Events(const std::string& where) {
    return server_.app()
        .Database()
        .ReadValue<std::int64_t>([&](db::Connection& c) -> Result<std::int64_t> {
          DZONG_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT COUNT(*) FROM audit_events WHERE " + where));
          return rows.at(0).Int(0);
        })
        .value();
  }

  std::string State(const std::string& reference) {
    return server_.app()
        .Database()
        .ReadValue<std::string>([&](db::Connection& c) -> Result<std::string> {
          const db::Value key[] = {reference};
          DZONG_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT state FROM applications WHERE reference = ?", key));
          return rows.empty() ? std::string() : rows.at(0).Text(0);
        })
        .value();
  }

  std::filesystem::path data_dir_;
  TestServer server_;
};

TEST_F(WorkflowPagesTest, TheCitizenSeesTheirApplicationAndItsHistory) {
  auto citizen = Citizen();
  const std::string reference = ApplyForClearance(*citizen);
  ASSERT_FALSE(reference.empty());
  auto list = citizen->Get("/my/applications");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find(reference), std::string::npos);
  EXPECT_NE(list.body.find("Apply for a security clearance certificate"), std::string::npos) << list.body;
  EXPECT_NE(list.body.find("Submitted"), std::string::npos);
  EXPECT_NE(list.body.find("govuk-tag"), std::string::npos);
  auto page = citizen->Get("/my/applications/" + reference);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("id=\"history\""), std::string::npos);
  EXPECT_NE(page.body.find("id=\"do-withdraw\""), std::string::npos) << "the applicant may withdraw";
  EXPECT_EQ(page.body.find("id=\"do-approve\""), std::string::npos) << "but not decide";
  // The header and the confirmation link here.
  EXPECT_NE(page.body.find("href=\"/my/applications\""), std::string::npos);
  // Withdrawing, on the version seen, goes back to the application.
  auto r = citizen->Post("/my/applications/" + reference + "/actions",
                         {{"transition", "withdraw"}, {"row_version", RowVersion(page.body)}});
  ASSERT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(r.Header("location"), "/my/applications/" + reference);
  EXPECT_EQ(State(reference), "withdrawn");
  page = citizen->Get("/my/applications/" + reference);
  EXPECT_NE(page.body.find("Withdrawn"), std::string::npos);
  EXPECT_EQ(page.body.find("id=\"do-withdraw\""), std::string::npos);
}

TEST_F(WorkflowPagesTest, ACitizenCannotOpenSomeoneElsesApplication) {
  auto citizen = Citizen();
  const std::string reference = ApplyForClearance(*citizen);
  auto client = server_.Client();
  auto created = client->Send("POST", "/api/v1/accounts",
                              json{{"kind", "citizen"},
                                   {"username", "11420000001"},
                                   {"display_name", "Dorji"},
                                   {"password", "Other-Citizen-2026"}}
                                  .dump(),
                              Operator());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::int64_t id = json::parse(created.body)["id"];
  ASSERT_EQ(client->Send("POST", "/api/v1/accounts/" + std::to_string(id) + "/grants", json{{"role", "citizen"}}.dump(),
                         Operator())
                .status,
            201);
  auto other = Citizen("11420000001", "Other-Citizen-2026");
  EXPECT_EQ(other->Get("/my/applications/" + reference).status, 404);
  auto list = other->Get("/my/applications");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(reference), std::string::npos);
  auto r = other->Post("/my/applications/" + reference + "/actions", {{"transition", "withdraw"}, {"row_version", "1"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(State(reference), "submitted");
}

TEST_F(WorkflowPagesTest, AnOfficerSeesOnlyTheirOrganisationsApplications) {
  auto citizen = Citizen();
  const std::string reference = ApplyForClearance(*citizen);
  auto police = Police();
  auto queue = police->Get("/work");
  ASSERT_EQ(queue.status, 200) << queue.body;
  EXPECT_NE(queue.body.find(reference), std::string::npos);
  auto census = Official("pema.wangmo", "Census-Officer-2026");
  queue = census->Get("/work");
  ASSERT_EQ(queue.status, 200) << queue.body;
  EXPECT_EQ(queue.body.find(reference), std::string::npos);
  EXPECT_EQ(census->Get("/work/" + reference).status, 404);
  // A citizen has no queue.
  EXPECT_EQ(citizen->Get("/work").status, 403);
}

TEST_F(WorkflowPagesTest, TheQueueFiltersAndPages) {
  auto citizen = Citizen();
  std::vector<std::string> references;
  for (int i = 0; i < 27; ++i) references.push_back(ApplyForClearance(*citizen));
  auto police = Police();
  auto first = police->Get("/work");
  ASSERT_EQ(first.status, 200);
  EXPECT_NE(first.body.find("Applications found: 27"), std::string::npos) << first.body;
  EXPECT_EQ(Count(first.body, "name=\"pick-"), 25u);
  EXPECT_NE(first.body.find("rel=\"next\""), std::string::npos);
  auto second = police->Get("/work?page=2");
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(Count(second.body, "name=\"pick-"), 2u);
  // By state, service, SLA and assignee.
  EXPECT_EQ(Count(police->Get("/work?state=submitted").body, "name=\"pick-"), 25u);
  EXPECT_EQ(Count(police->Get("/work?sla=overdue").body, "name=\"pick-"), 0u);
  EXPECT_EQ(Count(police->Get("/work?sla=on_time").body, "name=\"pick-"), 25u);
  EXPECT_EQ(Count(police->Get("/work?assignee=me").body, "name=\"pick-"), 0u);
  auto page = police->Get("/work/" + references[0]);
  ASSERT_EQ(page.status, 200) << page.body;
  auto claimed = police->Post("/work/" + references[0] + "/assignee", {{"do", "claim"}, {"row_version", RowVersion(page.body)}});
  ASSERT_EQ(claimed.status, 303) << claimed.body;
  auto mine = police->Get("/work?assignee=me");
  EXPECT_EQ(Count(mine.body, "name=\"pick-"), 1u);
  EXPECT_NE(mine.body.find(references[0]), std::string::npos);
  EXPECT_EQ(Count(police->Get("/work?assignee=none").body, "name=\"pick-"), 25u);
  EXPECT_NE(police->Get("/work?assignee=none&page=2").body.find("name=\"pick-"), std::string::npos);
}

TEST_F(WorkflowPagesTest, BulkApprovalReportsEachApplication) {
  auto citizen = Citizen();
  std::vector<std::string> references;
  for (int i = 0; i < 3; ++i) references.push_back(ApplyForClearance(*citizen));
  auto police = Police();
  auto queue = police->Get("/work");
  ASSERT_EQ(queue.status, 200);
  // The third was changed (claimed) after the queue was read.
  auto page = police->Get("/work/" + references[2]);
  const std::string seen = RowVersion(page.body);
  ASSERT_EQ(police->Post("/work/" + references[2] + "/assignee", {{"do", "claim"}, {"row_version", seen}}).status, 303);
  std::map<std::string, std::string> fields = {{"bulk_transition", "security-clearance:approve"}};
  for (const auto& ref : references) {
    // Each box carries the version the queue showed.
    fields["pick-" + ref] = Browser::Between(queue.body, "name=\"pick-" + ref + "\" type=\"checkbox\" value=\"", "\"");
    ASSERT_FALSE(fields["pick-" + ref].empty());
  }
  police->Get("/work");
  auto r = police->Post("/work/bulk", fields);
  ASSERT_EQ(r.status, 303) << r.body;
  const std::string location = r.Header("location");
  EXPECT_NE(location.find("done="), std::string::npos) << location;
  EXPECT_NE(location.find("stale=" + references[2]), std::string::npos) << location;
  EXPECT_EQ(State(references[0]), "cleared");
  EXPECT_EQ(State(references[1]), "cleared");
  EXPECT_EQ(State(references[2]), "submitted");
  auto report = police->Get(location);
  ASSERT_EQ(report.status, 200);
  EXPECT_NE(report.body.find("id=\"bulk-results\""), std::string::npos);
  EXPECT_NE(report.body.find("someone else acted on it first"), std::string::npos);
  // Nothing selected, or no action chosen: 422 naming what is missing.
  auto empty = police->Post("/work/bulk", {{"bulk_transition", "security-clearance:approve"}});
  EXPECT_EQ(empty.status, 422);
  EXPECT_NE(empty.body.find("href=\"#picks\""), std::string::npos);
  // A refusal needs a comment.
  auto refusal = police->Post("/work/bulk", {{"bulk_transition", "security-clearance:reject"}, {"pick-" + references[2], "2"}});
  EXPECT_EQ(refusal.status, 422);
  EXPECT_NE(refusal.body.find("href=\"#bulk_comment\""), std::string::npos);
  EXPECT_EQ(State(references[2]), "submitted");
  // The citizen sees the decision.
  auto mine = citizen->Get("/my/applications/" + references[0]);
  EXPECT_NE(mine.body.find("Cleared"), std::string::npos);
}

TEST_F(WorkflowPagesTest, AStaleVersionIsRefusedWithWhatChanged) {
  auto citizen = Citizen();
  const std::string reference = ApplyForClearance(*citizen);
  auto police = Police();
  auto page = police->Get("/work/" + reference);
  ASSERT_EQ(page.status, 200);
  const std::string seen = RowVersion(page.body);
  // The applicant withdraws meanwhile.
  auto theirs = citizen->Get("/my/applications/" + reference);
  ASSERT_EQ(citizen->Post("/my/applications/" + reference + "/actions",
                          {{"transition", "withdraw"}, {"row_version", RowVersion(theirs.body)}})
                .status,
            303);
  police->Get("/work/" + reference);
  auto r = police->Post("/work/" + reference + "/actions", {{"transition", "approve"}, {"row_version", seen}});
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("id=\"someone-else-acted\""), std::string::npos);
  EXPECT_NE(r.body.find("Withdrawn"), std::string::npos);
  EXPECT_NE(r.body.find("id=\"what-changed\""), std::string::npos);
  EXPECT_EQ(State(reference), "withdrawn");
}

TEST_F(WorkflowPagesTest, ARefusalWithoutItsRequiredCommentNamesTheField) {
  auto citizen = Citizen();
  const std::string reference = ApplyForClearance(*citizen);
  auto police = Police();
  auto page = police->Get("/work/" + reference);
  ASSERT_EQ(page.status, 200);
  auto r = police->Post("/work/" + reference + "/actions",
                        {{"transition", "reject"}, {"row_version", RowVersion(page.body)}, {"comment", ""}});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("href=\"#comment-reject\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("id=\"comment-reject-error\""), std::string::npos);
  EXPECT_EQ(State(reference), "submitted");
  r = police->Post("/work/" + reference + "/actions",
                   {{"transition", "reject"}, {"row_version", RowVersion(page.body)}, {"comment", "A case is pending"}});
  EXPECT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(State(reference), "refused");
}

TEST_F(WorkflowPagesTest, EachViewOfTheApplicantsRecordIsAuditedWithTheReference) {
  auto citizen = Citizen();
  const std::string reference = ApplyForClearance(*citizen);
  auto police = Police();
  const std::string where = "action = 'workflow.registry_read' AND subject = '" + std::string(kCitizen) +
                            "' AND purpose = '" + reference + "' AND actor = 'sonam.tobgay'";
  EXPECT_EQ(Events(where), 0);
  auto page = police->Get("/work/" + reference);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("id=\"record\""), std::string::npos) << page.body;
  const std::string record = server_.app()
                                 .Database()
                                 .ReadValue<std::string>([&](db::Connection& c) -> Result<std::string> {
                                   DZONG_ASSIGN_OR_RETURN(
                                       auto rows, c.Query("SELECT data FROM registry_records WHERE registry = 'population' "
                                                          "AND record_key = '11410012345' AND valid_to IS NULL"));
                                   return rows.at(0).Text(0);
                                 })
                                 .value();
  const std::string household = json::parse(record)["household_number"];
  EXPECT_NE(page.body.find(household), std::string::npos) << "the agreed household number";
  EXPECT_EQ(Events(where), 1);
  police->Get("/work/" + reference);
  EXPECT_EQ(Events(where), 2);
  // The applicant sees who looked, and why.
  auto tracker = citizen->Get("/my/data-access");
  EXPECT_NE(tracker.body.find(reference), std::string::npos);
  // A file the application does not name is not served.
  EXPECT_EQ(police->Get("/work/" + reference + "/files/" + std::string(64, 'a')).status, 404);
}

}  // namespace
}  // namespace dzong::testing
