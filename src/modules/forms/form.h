#pragma once
// The form of a service version as the runner walks it (internal to the
// module): which pages and fields show for the answers given so far, and
// what a page's submitted inputs mean, checked by the definition's rules.
// Pure functions over the definition's JSON, so they are tested alone.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dzong::forms {

/// The dzongkhags and their gewogs, as addresses are checked against them.
struct Places {
  struct Gewog {
    std::string en, dz;
  };
  struct Dzongkhag {
    std::string code, en, dz;
    std::vector<Gewog> gewogs;
  };
  std::vector<Dzongkhag> dzongkhags;
  const Dzongkhag* Find(const std::string& en) const;
  /// The 20 dzongkhags and 205 gewogs of the registries' reference files.
  static const Places& Bhutan();
};

/// A problem with one input: the HTML id it is linked to, the field's
/// label (both languages), the rule, and the numbers or dates the rule
/// names ({min}, {max}, {limit}, {date}).
struct Problem {
  std::string id;
  nlohmann::json label;
  std::string rule;
  std::map<std::string, std::string> values;
};

/// A file sent for a file field, before it is stored.
struct FileInput {
  std::string filename;
  std::string body;
};

/// A file that passed its checks: its answer is {sha256, name, media_type, size}.
struct AcceptedFile {
  std::string sha256;
  std::string media_type;
  std::string filename;
  std::string body;
};

/// The answer compared with a condition's value: booleans as "yes"/"no",
/// numbers as written, strings as they are.
std::string Canonical(const nlohmann::json& value);
/// A condition {field, equals | in} on the answers.
bool Holds(const nlohmann::json& condition, const nlohmann::json& answers);
/// A page or field shows when it has no show_when, or its condition holds.
bool Shows(const nlohmann::json& item, const nlohmann::json& answers);
/// The fee for these answers, in chhertum: the first fee rule whose
/// condition holds, else the definition's amount (0 when it has no fee).
std::int64_t FeeFor(const nlohmann::json& definition, const nlohmann::json& answers);

/// The pages that show for these answers, in order.
std::vector<const nlohmann::json*> VisiblePages(const nlohmann::json& definition, const nlohmann::json& answers);
const nlohmann::json* FindPage(const nlohmann::json& definition, const std::string& id);
/// The answers of fields that still show: walking the form in order, an
/// answer is kept only when its page and field show for the answers kept
/// before it (so a hidden field's answer is dropped, and so is anything
/// that hung on it).
nlohmann::json Prune(const nlohmann::json& definition, const nlohmann::json& answers);

/// The PDF, JPEG or PNG type of these bytes by their first bytes; empty
/// when they are none of these. The name and the browser's type are never asked.
std::string SniffMediaType(std::string_view bytes);

/// Bhutan's calendar day now (UTC+6).
std::chrono::sys_days BhutanToday(std::chrono::system_clock::time_point now);
/// "today", "today-1y", "today+30d", "2026-01-01" as a day; nullopt when malformed.
std::optional<std::chrono::sys_days> ResolveDate(const std::string& text, std::chrono::sys_days today);
std::string FormatDay(std::chrono::sys_days day);

/// What a page's inputs mean.
struct PageInput {
  nlohmann::json answers = nlohmann::json::object();  ///< the page's answers, field id → value
  std::vector<Problem> problems;
  std::vector<AcceptedFile> files;  ///< new files to store when the page is saved
};

/// Reads one page's inputs. `before` holds the answers of the other
/// pages, so conditions see them; `prefilled` fields are not read (their
/// answers come from the registers). `inputs` are the posted fields;
/// `files` the posted files by field id. `documents` the definition's
/// documents for size and type limits.
PageInput ReadPage(const nlohmann::json& definition, const nlohmann::json& page, const nlohmann::json& before,
                   const nlohmann::json& prefilled, const std::map<std::string, std::string, std::less<>>& inputs,
                   const std::map<std::string, FileInput>& files, std::chrono::sys_days today);

/// The inputs a page's form shows for saved answers (the reverse of
/// ReadPage): a date as its day, month and year, an address as its parts,
/// a group's items numbered. File fields have none.
std::map<std::string, std::string, std::less<>> InputsFrom(const nlohmann::json& page, const nlohmann::json& answers);

/// The document a file field names, or null.
const nlohmann::json* DocumentOf(const nlohmann::json& definition, const nlohmann::json& field);

/// How many items of a group the page shows: what was posted in
/// `<id>-count`, else the answers', else its minimum (at least one).
int GroupItems(const nlohmann::json& field, const std::map<std::string, std::string, std::less<>>& inputs,
               const nlohmann::json& answers);

}  // namespace dzong::forms
