#include <gtest/gtest.h>

#include "modules/organisations/organisations.h"

namespace dzong::organisations {
namespace {

TEST(OrganisationValidationTest, Codes) {
  for (const char* ok : {"DCRC", "DZ-THIMPHU", "MOH", "EGOV-COMMITTEE", "A1"}) EXPECT_TRUE(ValidateCode(ok).empty()) << ok;
  for (const char* bad : {"", "D", "dcrc", "1ABC", "DC RC", "DCRC/X", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"}) {
    auto errors = ValidateCode(bad);
    ASSERT_EQ(errors.size(), 1U) << bad;
    EXPECT_EQ(errors[0].field, "code");
    EXPECT_EQ(errors[0].rule, "pattern");
  }
}

TEST(OrganisationValidationTest, DzongkhaMustBeTibetanScript) {
  EXPECT_TRUE(ValidateDzongkha("name_dz", "ཐིམ་ཕུག་རྫོང་ཁག").empty());
  EXPECT_TRUE(ValidateDzongkha("name_dz", "རྒྱལ་གཞུང་ (2022)").empty());
  EXPECT_EQ(ValidateDzongkha("name_dz", "Thimphu").at(0).rule, "script");
  EXPECT_EQ(ValidateDzongkha("name_dz", "ཐིམ་ཕུག Thimphu").at(0).rule, "script");
  EXPECT_EQ(ValidateDzongkha("name_dz", "123").at(0).rule, "script");
  EXPECT_EQ(ValidateDzongkha("name_dz", "थिम्पू").at(0).rule, "script");  // Devanagari is not Dzongkha
}

TEST(OrganisationValidationTest, ShippedSeedIsWellFormed) {
  auto seed = DefaultSeed();
  ASSERT_TRUE(seed.ok()) << seed.error().message;
  EXPECT_EQ(seed->size(), 50U);
  int dzongkhags = 0;
  for (const auto& o : *seed) {
    EXPECT_TRUE(ValidateCode(o.code).empty()) << o.code;
    if (o.name_dz) {
      EXPECT_TRUE(ValidateDzongkha("name_dz", *o.name_dz).empty()) << o.code;
    }
    if (o.kind == "dzongkhag_administration") ++dzongkhags;
  }
  EXPECT_EQ(dzongkhags, 20);
}

}  // namespace
}  // namespace dzong::organisations
