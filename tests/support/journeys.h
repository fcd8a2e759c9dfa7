#pragma once
// The steps of the seeded journeys, as their people take them over HTTP:
// a citizen signs in, starts a service, fills its pages, uploads a file and
// submits; officers take transitions through the API. Shared by the
// workflow and certificate tests; a fixture mixes it in and names its server.

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "main/app.h"
#include "modules/forms/form.h"
#include "modules/identity/identity.h"
#include "modules/workflow/workflow.h"
#include "support/browser.h"
#include "support/test_server.h"

namespace dzong::testing {

/// The demo citizen of the seeded population, and her password.
inline constexpr char kDemoCitizen[] = "11410012345";
inline constexpr char kDemoPassword[] = "Tashi-Delek-2026";
/// The smallest PDF a form accepts as an uploaded document.
inline const std::string kTinyPdf = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// What a command printed on its standard output.
inline std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  std::array<char, 4096> buffer{};
  while (std::size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  pclose(pipe);
  return out;
}

class JourneySteps {
 public:
  virtual ~JourneySteps() = default;

 protected:
  using json = nlohmann::json;
  virtual TestServer& server() = 0;

  std::unique_ptr<Browser> SignIn(const std::string& username, const std::string& password) {
    auto b = std::make_unique<Browser>(server().port());
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
    HttpClient client(server().port());
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

  /// The mother (signed in) registers her daughter Pema's birth, ten days
  /// ago at JDWNR Hospital, naming `father`; returns the application's reference.
  std::string ApplyForBirth(Browser& mother, const std::string& father) {
    const std::string draft = Start(mother, "birth-registration");
    EXPECT_EQ(mother.Post(draft + "/pages/about_you", {}).status, 303);
    EXPECT_EQ(mother.Post(draft + "/pages/father", {{"father_cid", father}}).status, 303);
    EXPECT_EQ(mother.Post(draft + "/pages/father_name", {}).status, 303);
    const auto born = std::chrono::year_month_day(forms::BhutanToday(std::chrono::system_clock::now()) - std::chrono::days(10));
    auto child = mother.Post(draft + "/pages/child", {{"child_given_name", "Pema"},
                                                        {"child_sex", "female"},
                                                        {"child_date_of_birth-day", std::to_string(unsigned(born.day()))},
                                                        {"child_date_of_birth-month", std::to_string(unsigned(born.month()))},
                                                        {"child_date_of_birth-year", std::to_string(int(born.year()))},
                                                        {"place_of_birth", "hospital"},
                                                        {"hospital_name", "JDWNR Hospital"}});
    EXPECT_EQ(child.status, 303) << child.body;
    mother.Get(draft + "/pages/documents");
    EXPECT_EQ(PostFile(mother, draft + "/pages/documents", "birth_notification", kTinyPdf).status, 303);
    return Submit(mother, draft);
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
                            kDemoCitizen, sex));
  }

  /// A bearer token for an account, with these permissions.
  std::string Token(const std::string& username, const std::string& scopes) {
    const std::int64_t id = Count("SELECT id FROM accounts WHERE username = '" + username + "'");
    auto token = server().app().Identity().CreateToken(id, "test", scopes, std::chrono::hours(1));
    EXPECT_TRUE(token.ok()) << token.error().message;
    return token.ok() ? *token : "";
  }

  void NewAccount(const json& account, const std::string& role = "") {
    auto client = server().Client();
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
    HttpClient client(server().port());
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
    return server().app()
        .Database()
        .ReadValue<std::int64_t>([&](db::Connection& c) -> Result<std::int64_t> {
          DZONG_ASSIGN_OR_RETURN(auto rows, c.Query(sql));
          return rows.empty() ? 0 : rows.at(0).Int(0);
        })
        .value();
  }

  std::string Text(const std::string& sql) {
    return server().app()
        .Database()
        .ReadValue<std::string>([&](db::Connection& c) -> Result<std::string> {
          DZONG_ASSIGN_OR_RETURN(auto rows, c.Query(sql));
          if (rows.empty() || rows.at(0).IsNull(0)) return std::string();
          return rows.at(0).Text(0);
        })
        .value();
  }

  void Execute(const std::string& sql) {
    ASSERT_TRUE(server().app()
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

};

}  // namespace dzong::testing
