// The notify module's pieces that need no server: the templates as data,
// contact details as people type them, and mail as it goes on the wire.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "base/crypto.h"
#include "modules/notify/contact.h"
#include "modules/notify/notify.h"
#include "modules/notify/templates.h"
#include "modules/notify/transport.h"

namespace dzong::notify {
namespace {

using nlohmann::json;

bool HasTibetan(const std::string& text) {
  // U+0F00..U+0FFF is E0 BC 80 .. E0 BF BF in UTF-8.
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (static_cast<unsigned char>(text[i]) == 0xE0 && (static_cast<unsigned char>(text[i + 1]) & 0xFC) == 0xBC) {
      return true;
    }
  }
  return false;
}

TEST(NotifyTemplatesTest, EveryTemplateReadsAndNamesOnlyItsPlaceholders) {
  auto all = AllTemplates();
  ASSERT_TRUE(all.ok()) << all.error().message;
  const std::vector<std::string> required = {
      "application.submitted",  "application.submitted_for_you", "application.action_needed",
      "application.new",        "application.information_requested", "application.approved",
      "application.rejected",   "application.withdrawn",         "certificate.issued",
      "application.sla_breach", "payment.received",              "payment.refunded",
      "assisted.consent_code",  "identity.password_reset"};
  const auto ids = TemplateIds();
  for (const auto& id : required) EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << id;
  for (const Template& t : **all) {
    SCOPED_TRACE(t.id);
    std::vector<std::string> known = t.params;
    known.insert(known.end(), t.optional.begin(), t.optional.end());
    for (const std::string& p : std::vector<std::string>(known)) {
      if (p == "path") known.push_back("url");
      if (p.ends_with("_path")) known.push_back(p.substr(0, p.size() - 5) + "_url");
    }
    for (const char* lang : {"en", "dz"}) {
      const Text& text = t.text.at(lang);
      EXPECT_FALSE(text.subject.empty()) << lang;
      EXPECT_FALSE(text.body.empty()) << lang;
      EXPECT_FALSE(text.sms.empty()) << lang;
      if (std::string(lang) == "dz") {
        EXPECT_TRUE(HasTibetan(text.subject) && HasTibetan(text.body) && HasTibetan(text.sms));
      }
      for (const std::string* part : {&text.subject, &text.body, &text.sms, &text.inbox}) {
        for (const std::string& name : Placeholders(*part)) {
          EXPECT_NE(std::find(known.begin(), known.end(), name), known.end())
              << lang << " names {{" << name << "}}, which the template does not declare";
        }
      }
    }
  }
}

TEST(NotifyTemplatesTest, RendersTheLanguagesTextWithoutEscaping) {
  const Template* t = FindTemplate("application.rejected");
  ASSERT_NE(t, nullptr);
  const json params = {{"reference", "DCRC-2026-000001"},
                       {"service_en", "Birth registration"},
                       {"service_dz", "སྐྱེས་ཐོ་ཐོ་བཀོད།"},
                       {"comment", "The father's CID & name <do not match>"},
                       {"path", "/my/applications/DCRC-2026-000001"}};
  const Text en = Render(*t, "en", params, "https://dzong.example.com");
  EXPECT_EQ(en.subject, "Your application DCRC-2026-000001 has not been approved");
  EXPECT_NE(en.body.find("Birth registration"), std::string::npos);
  EXPECT_NE(en.body.find("The father's CID & name <do not match>"), std::string::npos);
  EXPECT_NE(en.body.find("https://dzong.example.com/my/applications/DCRC-2026-000001"), std::string::npos);
  const Text dz = Render(*t, "dz", params, "https://dzong.example.com");
  EXPECT_NE(dz.body.find("སྐྱེས་ཐོ་ཐོ་བཀོད།"), std::string::npos);
  EXPECT_EQ(dz.body.find("Birth registration"), std::string::npos);
  EXPECT_TRUE(HasTibetan(dz.subject));
}

TEST(NotifyTemplatesTest, SectionsShowOnlyWhatIsGiven) {
  const Template* t = FindTemplate("application.approved");
  ASSERT_NE(t, nullptr);
  const Text without = Render(*t, "en", {{"reference", "R-1"}, {"service", "A service"}}, "http://x", false);
  EXPECT_EQ(without.body.find("The officer wrote"), std::string::npos);
  EXPECT_EQ(without.body.find("See it here"), std::string::npos);
  EXPECT_EQ(without.body.find("\n\n\n"), std::string::npos);
  const Text with = Render(*t, "en", {{"reference", "R-1"}, {"service", "A service"}, {"comment", "Well done"}},
                           "http://x", false);
  EXPECT_NE(with.body.find("The officer wrote: Well done"), std::string::npos);
}

TEST(NotifyContactTest, EmailAddresses) {
  for (const char* good : {"sonam@example.bt", "pema.wangmo+dcrc@mail.gov.bt", "a_b-c@sub-domain.example.com",
                           "x@xn--o3cw4h.xn--o3cw4h"}) {
    EXPECT_TRUE(IsEmailAddress(good)) << good;
  }
  for (const char* bad : {"", "sonam", "sonam@", "@example.bt", "sonam@example", "so nam@example.bt",
                          "sonam@@example.bt", ".sonam@example.bt", "son..am@example.bt", "sonam@-example.bt",
                          "sonam@example.b", "sonam@example.123", "sonam@exa_mple.bt", "sonam@example.bt\r\nBcc: x@y.bt",
                          "<sonam@example.bt>"}) {
    EXPECT_FALSE(IsEmailAddress(bad)) << bad;
  }
  EXPECT_FALSE(IsEmailAddress(std::string(65, 'a') + "@example.bt"));
}

TEST(NotifyContactTest, BhutaneseMobileNumbers) {
  EXPECT_EQ(NormaliseMobile("17123456"), "+97517123456");
  EXPECT_EQ(NormaliseMobile("+97577123456"), "+97577123456");
  EXPECT_EQ(NormaliseMobile(" +975 17 12 34 56 "), "+97517123456");
  EXPECT_EQ(NormaliseMobile("77-123-456"), "+97577123456");
  for (const char* bad : {"", "1712345", "171234567", "16123456", "+97516123456", "+9751712345", "97517123456",
                          "17 12 34 5x", "17  123456", "-17123456", "+975--17123456", "+1 17123456"}) {
    EXPECT_FALSE(NormaliseMobile(bad).has_value()) << bad;
  }
}

TEST(NotifySmtpTest, DotStuffingDoublesALeadingDotOnEveryLine) {
  EXPECT_EQ(DotStuff(".start\r\nmiddle\r\n.\r\n..two\r\n"), "..start\r\nmiddle\r\n..\r\n...two\r\n");
  EXPECT_EQ(DotStuff("a\nb"), "a\r\nb");
}

TEST(NotifySmtpTest, SubjectIsEncodedInWordsOfAtMost75Characters) {
  EXPECT_EQ(EncodeHeaderText("Plain subject"), "Plain subject");
  const std::string dz = "ཁྱོད་ཀྱི་ཞུ་ཡིག་ DCRC-2026-000001 ཐོབ་ཡི། ཁྱོད་ཀྱི་གཞི་བསྟུན་ཨང་ ཨིན།";
  const std::string encoded = EncodeHeaderText(dz);
  std::string decoded;
  std::size_t start = 0;
  while (start < encoded.size()) {
    std::size_t end = encoded.find("\r\n ", start);
    if (end == std::string::npos) end = encoded.size();
    const std::string word = encoded.substr(start, end - start);
    EXPECT_LE(word.size(), 75u);
    ASSERT_TRUE(word.starts_with("=?UTF-8?B?") && word.ends_with("?=")) << word;
    const auto bytes = Base64Decode(word.substr(10, word.size() - 12));
    ASSERT_TRUE(bytes.has_value());
    decoded += *bytes;
    start = end + 3;
  }
  EXPECT_EQ(decoded, dz);
}

TEST(NotifySmtpTest, TheMessageCarriesItsHeadersAndABase64Body) {
  MailServer server;
  server.from = "noreply@dzong.example.com";
  const Mail mail{"sonam@example.bt", "Hello", "Line one\n.Line two"};
  const auto at = std::chrono::sys_days{std::chrono::year{2026} / 11 / 30} + std::chrono::hours(2);
  const std::string text = FormatMail(server, mail, at, "abc@dzong.example.com");
  EXPECT_NE(text.find("From: Dzong <noreply@dzong.example.com>\r\n"), std::string::npos);
  EXPECT_NE(text.find("To: <sonam@example.bt>\r\n"), std::string::npos);
  EXPECT_NE(text.find("Date: Mon, 30 Nov 2026 02:00:00 +0000\r\n"), std::string::npos);
  EXPECT_NE(text.find("Message-ID: <abc@dzong.example.com>\r\n"), std::string::npos);
  EXPECT_NE(text.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(text.find("Content-Transfer-Encoding: base64\r\n"), std::string::npos);
  const std::string body = text.substr(text.find("\r\n\r\n") + 4);
  std::string joined;
  for (char c : body) {
    if (c != '\r' && c != '\n') joined += c;
  }
  EXPECT_EQ(Base64Decode(joined), "Line one\r\n.Line two");
}

}  // namespace
}  // namespace dzong::notify
