// Reading a template's tags: which partials it includes and which names it
// shows, so that a page is rendered with only those.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "web/renderer.h"

namespace dzong::web {
namespace {

using nlohmann::json;
using Names = std::set<std::string, std::less<>>;

TEST(RendererTest, ScanFindsPartialsAndNamesOfEveryKindOfTag) {
  const TemplateTags tags = ScanTemplate(
      "<h1>{{t.title}}</h1>{{! a comment naming {{t.not_this}} }}\n"
      "{{#items}}{{> row }}{{/items}}{{^items}}{{t.empty}}{{/items}}\n"
      "{{{html}}} {{&raw}} {{ spaced.name }}\n{{>error_summary}}");
  EXPECT_EQ(tags.partials, (Names{"error_summary", "row"}));
  EXPECT_EQ(tags.names, (Names{"html", "items", "raw", "spaced.name", "t.empty", "t.title"}));
  EXPECT_FALSE(tags.changes_delimiters);
}

TEST(RendererTest, ScanStopsAtOtherDelimitersAndSaysSo) {
  const TemplateTags tags = ScanTemplate("{{a}}{{=<% %>=}}<%b%>{{c}}");
  EXPECT_TRUE(tags.changes_delimiters);
  EXPECT_EQ(tags.names, (Names{"a"}));
}

TEST(RendererTest, ScanIgnoresAnUnclosedTag) {
  const TemplateTags tags = ScanTemplate("{{a}} {{b");
  EXPECT_EQ(tags.names, (Names{"a"}));
}

TEST(RendererTest, PartialsRenderInTheContextOfTheirTag) {
  const json context = {{"name", "<Tashi>"}, {"items", json::array({{{"n", 1}}, {{"n", 2}}})}};
  EXPECT_EQ(Render("<p>{{> greeting}}</p>{{#items}}{{> item}}{{/items}}", context,
                   {{"greeting", "Kuzuzangpo {{name}}"}, {"item", "[{{n}}]"}}),
            "<p>Kuzuzangpo &lt;Tashi&gt;</p>[1][2]");
  EXPECT_EQ(Render("a{{> missing}}b", json::object(), {}), "ab");
}

}  // namespace
}  // namespace dzong::web
