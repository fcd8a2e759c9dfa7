#pragma once
// What the workflow's pages share (internal to the module): the services
// they are built on, states, SLA tags and history in the page's language,
// the answers as the check-answers page shows them, attachments served
// safely, and the page status of each workflow error.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/message.h"
#include "modules/workflow/workflow.h"
#include "web/web.h"

namespace dzong::workflow::pages {

struct Parts {
  WorkflowService& workflow;
  forms::FormService& forms;
  registries::RegistryService& registries;
  web::Web& web;
};

/// A definition's text ({en, dz}) in the page's language.
std::string TextOf(const web::Web& web, const http::Request& r, const nlohmann::json& text);
/// The title of `state` in the definition, in the page's language (its id when it has none).
std::string StateTitle(const web::Web& web, const http::Request& r, const nlohmann::json& definition,
                       const std::string& state);
/// "29-11-2026" for a stored "2026-11-29" (or a UTC time, in Bhutan's day).
std::string DayOf(const std::string& date_or_time);
/// {text, colour} of the SLA tag: green on time, yellow due soon, red overdue, blue paused.
nlohmann::json SlaTag(const web::Web& web, const http::Request& r, Sla sla);
/// A row of a list of applications: reference, service, state, dates, SLA.
nlohmann::json CaseRow(const Parts& p, const http::Request& r, const Case& c, const nlohmann::json& definition,
                       const std::string& href);
/// The history, oldest first, with times in Bhutan Time. `officer` shows the
/// people who acted by name; the applicant sees their organisation.
nlohmann::json HistoryRows(const Parts& p, const http::Request& r, const Case& c, const nlohmann::json& definition,
                           const std::vector<CaseEvent>& events, bool officer);
/// The answers by page, as the check-answers page shows them; files link
/// under `files_base` + "/files/<sha256>".
nlohmann::json AnswerSections(const Parts& p, const http::Request& r, const Case& c, const nlohmann::json& definition,
                              const std::string& files_base);
/// True when the answers name a file with this hash.
bool NamesFile(const nlohmann::json& answers, const std::string& sha256);
/// A file of the application, as an attachment that no browser runs.
http::Response ServeFile(const Parts& p, const http::Request& r, const Case& c, const std::string& sha256);
/// A posted row version: a positive whole number.
std::optional<std::int64_t> ParseWhole(const std::string& text);
/// The page status of a workflow error.
int StatusOf(const Error& e);
/// The sentence a person reads for a workflow error.
std::string Sentence(const web::Web& web, const http::Request& r, const Error& e);
/// `text` with each "{name}" replaced by its value.
std::string Fill(std::string text, const std::vector<std::pair<std::string, std::string>>& values);
/// The field named by `form`, or empty.
std::string Field(const web::Form& form, const std::string& name);

Status AddCitizenPages(http::Router& router, const Parts& parts);
Status AddWorkPages(http::Router& router, const Parts& parts);

}  // namespace dzong::workflow::pages
