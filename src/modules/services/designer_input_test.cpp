// What the designer types, read as a definition holds it: amounts in Nu. as
// chhertum, addresses of fields, identifiers and conditions.
#include <gtest/gtest.h>

#include "modules/services/designer.h"

namespace dzong::services::design {
namespace {

using nlohmann::json;

TEST(DesignerInputTest, AmountsInNgultrumBecomeChhertumWithAtMostTwoDecimals) {
  EXPECT_EQ(ParseMoney("150"), 15000);
  EXPECT_EQ(ParseMoney("12.5"), 1250);
  EXPECT_EQ(ParseMoney("12.50"), 1250);
  EXPECT_EQ(ParseMoney("0.05"), 5);
  EXPECT_EQ(ParseMoney("0"), 0);
  for (const char* bad : {"", "12.345", "1,000", "-5", "12.", ".5", "Nu. 5", "1e3", "9999999999"}) {
    EXPECT_FALSE(ParseMoney(bad).has_value()) << bad;
  }
  EXPECT_EQ(Money(15000), "150");
  EXPECT_EQ(Money(1250), "12.50");
  EXPECT_EQ(Money(5), "0.05");
}

TEST(DesignerInputTest, FieldAddressesFollowGroupsAndEndInNew) {
  auto top = ParseFieldAddress("2");
  ASSERT_TRUE(top);
  EXPECT_EQ(top->path, (std::vector<std::size_t>{2}));
  EXPECT_FALSE(top->is_new);
  auto nested = ParseFieldAddress("2.0.new");
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->path, (std::vector<std::size_t>{2, 0}));
  EXPECT_TRUE(nested->is_new);
  EXPECT_TRUE(ParseFieldAddress("new")->is_new);
  for (const char* bad : {"", "x", "new.1", "1..2", "-1", "1.new.2"}) EXPECT_FALSE(ParseFieldAddress(bad)) << bad;
}

TEST(DesignerInputTest, IdentifiersAndConditionsTakeTheAnswersTypes) {
  EXPECT_TRUE(IsId("date_of_birth"));
  EXPECT_FALSE(IsId("Date"));
  EXPECT_FALSE(IsId("1st"));
  EXPECT_FALSE(IsId("with-hyphen"));
  const json d = {{"form",
                   {{"pages", json::array({{{"id", "p"},
                                            {"fields", json::array({{{"id", "married"}, {"type", "yes_no"}},
                                                                    {{"id", "children"}, {"type", "number"}},
                                                                    {{"id", "reason"}, {"type", "choice"}}})}}})}}}};
  EXPECT_EQ(DesignerPages::Condition(d, "married", "yes"), (json{{"field", "married"}, {"equals", true}}));
  EXPECT_EQ(DesignerPages::Condition(d, "children", "2"), (json{{"field", "children"}, {"equals", 2}}));
  EXPECT_EQ(DesignerPages::Condition(d, "reason", "home, other"),
            (json{{"field", "reason"}, {"in", json::array({"home", "other"})}}));
  EXPECT_EQ(DesignerPages::ConditionValues(json{{"field", "reason"}, {"in", json::array({"home", "other"})}}),
            "home, other");
  EXPECT_EQ(DesignerPages::ConditionValues(json{{"field", "married"}, {"equals", false}}), "no");
}

}  // namespace
}  // namespace dzong::services::design
