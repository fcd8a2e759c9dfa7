#include "modules/forms/form.h"

#include <gtest/gtest.h>

#include "base/clock.h"

namespace dzong::forms {
namespace {

using nlohmann::json;
using Inputs = std::map<std::string, std::string, std::less<>>;

const json kDefinition = json::parse(R"({
  "code": "test-service", "owner": "DCRC",
  "documents": [{"type": "proof", "title": {"en": "Proof"}, "formats": ["application/pdf", "image/png"], "max_bytes": 2048}],
  "form": {"pages": [
    {"id": "start", "title": {"en": "Start"}, "fields": [
      {"id": "kind", "type": "choice", "label": {"en": "Kind"}, "required": true,
       "options": [{"value": "home", "label": {"en": "Home"}}, {"value": "hospital", "label": {"en": "Hospital"}}]},
      {"id": "hospital", "type": "text", "label": {"en": "Hospital name"}, "required": true, "max_length": 10,
       "show_when": {"field": "kind", "equals": "hospital"}}]},
    {"id": "home_page", "title": {"en": "Home"}, "show_when": {"field": "kind", "in": ["home"]}, "fields": [
      {"id": "where", "type": "address", "label": {"en": "Where"}, "required": true}]},
    {"id": "details", "title": {"en": "Details"}, "fields": [
      {"id": "born", "type": "date", "label": {"en": "Born"}, "required": true, "min_date": "today-1y", "max_date": "today"},
      {"id": "count", "type": "number", "label": {"en": "Count"}, "min": 1, "max": 10},
      {"id": "father", "type": "cid", "label": {"en": "Father"}},
      {"id": "agree", "type": "yes_no", "label": {"en": "Agree"}, "required": true},
      {"id": "code", "type": "text", "label": {"en": "Code"}, "pattern": "^[A-Z]{3}$",
       "pattern_message": {"en": "Three capitals", "dz": "ཡིག་འབྲུ་ ༣"}},
      {"id": "proof", "type": "file", "label": {"en": "Proof"}, "document": "proof"},
      {"id": "children", "type": "group", "label": {"en": "Children"}, "min_items": 1, "max_items": 3,
       "fields": [{"id": "name", "type": "text", "label": {"en": "Name"}, "required": true}]}]}
  ]}})");

std::chrono::sys_days Today() { return *ParseDate("2026-11-29"); }

PageInput Read(const std::string& page, const Inputs& inputs, const json& before = json::object(),
               const std::map<std::string, FileInput>& files = {}) {
  return ReadPage(kDefinition, *FindPage(kDefinition, page), before, json::object(), inputs, files, Today());
}

std::vector<std::string> Rules(const PageInput& in) {
  std::vector<std::string> out;
  for (const auto& p : in.problems) out.push_back(p.id + ":" + p.rule);
  return out;
}

TEST(FormTest, ConditionsShowPagesAndFieldsByEarlierAnswers) {
  EXPECT_TRUE(Holds({{"field", "kind"}, {"equals", "home"}}, {{"kind", "home"}}));
  EXPECT_FALSE(Holds({{"field", "kind"}, {"equals", "home"}}, json::object()));
  EXPECT_TRUE(Holds({{"field", "agree"}, {"equals", true}}, {{"agree", "yes"}}));
  EXPECT_TRUE(Holds({{"field", "n"}, {"in", {1, 2}}}, {{"n", 2}}));
  auto pages = VisiblePages(kDefinition, {{"kind", "hospital"}});
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_EQ((*pages[1])["id"], "details");
  EXPECT_EQ(VisiblePages(kDefinition, {{"kind", "home"}}).size(), 3u);
  // A hidden field's answer is dropped, and so is a hidden page's.
  const json pruned = Prune(kDefinition, {{"kind", "home"}, {"hospital", "JDWNRH"}, {"where", "x"}});
  EXPECT_FALSE(pruned.contains("hospital"));
  EXPECT_TRUE(pruned.contains("where"));
  EXPECT_FALSE(Prune(kDefinition, {{"kind", "hospital"}, {"where", "x"}}).contains("where"));
}

TEST(FormTest, AFieldShownByAnAnswerOnTheSamePageIsCheckedThen) {
  auto in = Read("start", {{"kind", "hospital"}});
  EXPECT_EQ(Rules(in), std::vector<std::string>{"hospital:required"});
  in = Read("start", {{"kind", "home"}, {"hospital", "ignored"}});
  EXPECT_TRUE(in.problems.empty());
  EXPECT_EQ(in.answers, json({{"kind", "home"}}));
  in = Read("start", {{"kind", "palace"}});
  EXPECT_EQ(Rules(in), std::vector<std::string>{"kind:one_of"});
  in = Read("start", {{"kind", "hospital"}, {"hospital", "far too long a name"}});
  EXPECT_EQ(Rules(in), std::vector<std::string>{"hospital:max_length"});
  EXPECT_EQ(in.problems[0].values.at("max"), "10");
}

TEST(FormTest, EachTypeIsCheckedByItsRules) {
  Inputs good = {{"born-day", "1"}, {"born-month", "6"}, {"born-year", "2026"}, {"count", "3"},
                 {"father", "114 1001 2345"}, {"agree", "yes"}, {"code", "ABC"}, {"children-0-name", "Pema"}};
  auto in = Read("details", good);
  EXPECT_TRUE(in.problems.empty()) << testing::PrintToString(Rules(in));
  EXPECT_EQ(in.answers["born"], "2026-06-01");
  EXPECT_EQ(in.answers["count"], 3);
  EXPECT_EQ(in.answers["father"], "11410012345");
  EXPECT_EQ(in.answers["children"], json::array({{{"name", "Pema"}}}));

  Inputs bad = good;
  bad["born-day"] = "31";
  bad["born-month"] = "2";
  bad["count"] = "11";
  bad["father"] = "1141001234";
  bad["agree"] = "";
  bad["code"] = "abc";
  bad["children-0-name"] = "";
  in = Read("details", bad);
  EXPECT_EQ(Rules(in), (std::vector<std::string>{"born-day:date", "count:max", "father:cid", "agree:required_choice",
                                                  "code:pattern", "children-0-name:min_items"}));
  EXPECT_EQ(in.problems[4].values.at("message_dz"), "ཡིག་འབྲུ་ ༣");
  bad = good;
  bad["born-year"] = "2024";
  bad["count"] = "two";
  in = Read("details", bad);
  EXPECT_EQ(Rules(in), (std::vector<std::string>{"born-day:min_date", "count:number"}));
  EXPECT_EQ(in.problems[0].values.at("date"), "2025-11-29");
  bad = good;
  bad["born-year"] = "2027";
  in = Read("details", bad);
  EXPECT_EQ(Rules(in), std::vector<std::string>{"born-day:max_date"});
  // Items: the count posted; a wholly empty item is no item; at most max_items.
  Inputs items = good;
  items["children-count"] = "3";
  items["children-2-name"] = "Karma";
  in = Read("details", items);
  EXPECT_EQ(in.answers["children"].size(), 2u);
}

TEST(FormTest, AddressesAreDzongkhagsAndTheirOwnGewogs) {
  EXPECT_EQ(Places::Bhutan().dzongkhags.size(), 20u);
  std::size_t gewogs = 0;
  for (const auto& d : Places::Bhutan().dzongkhags) gewogs += d.gewogs.size();
  EXPECT_EQ(gewogs, 205u);
  auto in = Read("home_page", {{"where-dzongkhag", "Thimphu"}, {"where-gewog", "Chang"}, {"where-village", "Motithang"}},
                 {{"kind", "home"}});
  EXPECT_TRUE(in.problems.empty()) << testing::PrintToString(Rules(in));
  EXPECT_EQ(in.answers["where"], json({{"dzongkhag", "Thimphu"}, {"gewog", "Chang"}, {"village", "Motithang"}}));
  in = Read("home_page", {{"where-dzongkhag", "Paro"}, {"where-gewog", "Chang"}, {"where-village", "x"}}, {{"kind", "home"}});
  EXPECT_EQ(Rules(in), std::vector<std::string>{"where-gewog:gewog"});
  in = Read("home_page", {{"where-dzongkhag", "Atlantis"}}, {{"kind", "home"}});
  EXPECT_EQ(Rules(in), std::vector<std::string>{"where-dzongkhag:dzongkhag"});
  in = Read("home_page", {}, {{"kind", "home"}});
  EXPECT_EQ(Rules(in), std::vector<std::string>{"where-dzongkhag:required_address"});
}

TEST(FormTest, FilesAreCheckedByTheirBytesAndSize) {
  const Inputs rest = {{"born-day", "1"}, {"born-month", "6"}, {"born-year", "2026"}, {"agree", "no"},
                       {"children-0-name", "Pema"}};
  // A PDF named .png is a PDF.
  auto in = Read("details", rest, json::object(), {{"proof", {"scan.png", "%PDF-1.7 small"}}});
  ASSERT_TRUE(in.problems.empty()) << testing::PrintToString(Rules(in));
  EXPECT_EQ(in.answers["proof"]["media_type"], "application/pdf");
  EXPECT_EQ(in.answers["proof"]["name"], "scan.png");
  ASSERT_EQ(in.files.size(), 1u);
  EXPECT_EQ(in.files[0].sha256.size(), 64u);
  // HTML named .pdf is refused, and so is a JPEG where only PDF and PNG are taken.
  in = Read("details", rest, json::object(), {{"proof", {"form.pdf", "<html><script>alert(1)</script>"}}});
  EXPECT_EQ(Rules(in), std::vector<std::string>{"proof:file_type"});
  EXPECT_TRUE(in.files.empty());
  in = Read("details", rest, json::object(), {{"proof", {"photo.jpg", "\xFF\xD8\xFF\xE0 jpeg"}}});
  EXPECT_EQ(Rules(in), std::vector<std::string>{"proof:file_type"});
  in = Read("details", rest, json::object(), {{"proof", {"big.pdf", "%PDF-" + std::string(3000, 'x')}}});
  EXPECT_EQ(Rules(in), std::vector<std::string>{"proof:file_too_large"});
  EXPECT_EQ(in.problems[0].values.at("limit"), "2 KB");
  // No new file keeps the one given before.
  in = Read("details", rest, {{"proof", {{"sha256", "ab"}}}});
  EXPECT_EQ(in.answers["proof"]["sha256"], "ab");
  EXPECT_EQ(SniffMediaType(std::string("\x89PNG\r\n\x1a\n", 8)), "image/png");
  EXPECT_EQ(SniffMediaType("GIF89a"), "");
}

TEST(FormTest, RelativeDatesCountFromBhutansToday) {
  const auto today = Today();
  EXPECT_EQ(FormatDay(*ResolveDate("today", today)), "2026-11-29");
  EXPECT_EQ(FormatDay(*ResolveDate("today-1y", today)), "2025-11-29");
  EXPECT_EQ(FormatDay(*ResolveDate("today+30d", today)), "2026-12-29");
  EXPECT_EQ(FormatDay(*ResolveDate("today-3m", *ParseDate("2026-05-31"))), "2026-02-28");
  EXPECT_EQ(FormatDay(*ResolveDate("2026-01-01", today)), "2026-01-01");
  EXPECT_FALSE(ResolveDate("today-1w", today));
  // 20:00 UTC is already the next day in Thimphu.
  const auto evening = std::chrono::sys_days(today) + std::chrono::hours(20);
  EXPECT_EQ(FormatDay(BhutanToday(evening)), "2026-11-30");
}


TEST(FormTest, TheFeeIsTheFirstRuleThatHoldsElseTheAmount) {
  const json definition = json::parse(R"({"fee": {"amount_chhertum": 310000, "rules": [
    {"when": {"field": "activity", "equals": "retail"}, "amount_chhertum": 510000},
    {"when": {"field": "activity", "in": ["retail", "wholesale"]}, "amount_chhertum": 1010000}]}})");
  EXPECT_EQ(FeeFor(definition, json{{"activity", "retail"}}), 510000);
  EXPECT_EQ(FeeFor(definition, json{{"activity", "wholesale"}}), 1010000);
  EXPECT_EQ(FeeFor(definition, json{{"activity", "services"}}), 310000);
  EXPECT_EQ(FeeFor(json::object(), json::object()), 0);
}

}  // namespace
}  // namespace dzong::forms
