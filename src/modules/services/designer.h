#pragma once
// The service designer's pages (internal to the module): the pages of
// DesignerPages live in designer_pages.cpp (the service, its overview,
// publication, import, export and the ministry's review), designer_form.cpp
// (the form's pages and fields) and designer_flow.cpp (documents, fee rules,
// workflow, certificate, justifications), and share what is declared here.
// Every edit reads the latest version's definition, changes one part and
// saves it with ServiceCatalogue::SaveDraft, whose rules decide.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "http/message.h"
#include "modules/services/services.h"
#include "web/web.h"

namespace dzong::organisations {
class OrganisationService;
}

namespace dzong::services::design {

/// One control of an editing form, as the design_control partial renders
/// it. Every key is always present, so that a Mustache section never finds
/// a key of an enclosing context instead.
struct Control {
  enum class Kind { kText, kTextarea, kSelect, kCheckbox, kCheckboxes, kRadios, kHeading };
  struct Option {
    std::string value;
    std::string label;
    bool chosen = false;
    std::string group;  ///< select: the optgroup it belongs to, in order
  };
  Kind kind = Kind::kText;
  std::string name;
  std::string label;
  std::string hint;
  std::string value;
  bool checked = false;
  std::string width;  ///< govuk-input--width-N
  bool dzongkha = false;
  int rows = 3;
  std::vector<Option> options;
};

/// The editing page a handler renders: its heading, where it posts, its
/// controls, and where "back" goes.
struct EditPage {
  std::string heading;
  std::string caption;
  std::string action;
  std::string back;
  std::string submit;
  std::vector<Control> controls;
  /// Lists shown under the form (the design_rows partial): each an object
  /// with rows_heading, rows_id, rows_empty, rows, rows_add, rows_add_label.
  nlohmann::json lists = nlohmann::json::array();
};

/// One list of design_rows: its rows are {label, detail, edit, arrange,
/// first, last}.
nlohmann::json RowList(const std::string& heading, const std::string& id, nlohmann::json rows,
                       const std::string& add, const std::string& add_label);

/// A form's value, or "" when absent.
std::string FormText(const web::Form& form, const std::string& name);
/// Text of a definition's {"en": …, "dz": …} object in one language.
std::string In(const nlohmann::json& text, const char* language);
/// {"en": en, "dz": dz}, without an empty Dzongkha.
nlohmann::json Bilingual(const std::string& en, const std::string& dz);
/// Sets a yes/no member: true when on; when off, false if the definition
/// said so before, else absent (as the definition had it).
void SetFlag(nlohmann::json& object, const char* key, bool on);
/// A whole, non-negative number, or nothing.
std::optional<std::int64_t> WholeNumber(const std::string& text);
/// A definition id: a lower-case letter, then lower-case letters, digits and _.
bool IsId(const std::string& text);
/// Applies a list's arrange button to its item `i`: "up" and "down" swap it
/// with its neighbour, "remove" erases it. False (and nothing changed) when
/// `array` is no array, `i` is past its end, or the action cannot apply.
bool MoveOrRemove(nlohmann::json& array, std::size_t i, const std::string& action);

/// An amount in Nu. ("150", "12.50") in chhertum; nothing for more than
/// two decimals or anything but digits.
std::optional<std::int64_t> ParseMoney(const std::string& text);
/// Chhertum as Nu.: "150", "12.50".
std::string Money(std::int64_t chhertum);
/// The values of a form as a JSON object of strings (without the CSRF token).
nlohmann::json FormValues(const web::Form& form);

/// A path of indexes into the form ("2" a page's third field, "2.0" the
/// first field of that group), with "new" last to add one.
struct FieldAddress {
  std::vector<std::size_t> path;
  bool is_new = false;
};
std::optional<FieldAddress> ParseFieldAddress(const std::string& text);

/// What saving or arranging a field starts from: the form sent, the latest
/// version, the definition to change (a copy of the latest one), and the
/// list in it that holds the field (or takes a new one).
struct FieldTarget {
  web::Form form;
  Version latest;
  nlohmann::json definition;
  std::size_t page = 0;
  FieldAddress address;
  std::string path;                  ///< the list's path under the page: "fields[2]." in a group, else ""
  nlohmann::json* fields = nullptr;  ///< into `definition`

  FieldTarget() = default;
  FieldTarget(const FieldTarget&) = delete;  // `fields` would point into the other's definition
  FieldTarget& operator=(const FieldTarget&) = delete;
};

class DesignerPages {
 public:
  DesignerPages(ServiceCatalogue& catalogue, registries::RegistryService& registries,
                organisations::OrganisationService& organisations, web::Web& web)
      : catalogue_(catalogue), registries_(registries), organisations_(organisations), web_(web) {}

  // designer_pages.cpp
  http::Response List(const http::Request& r);
  http::Response NewForm(const http::Request& r);
  http::Response Create(const http::Request& r);
  http::Response Overview(const http::Request& r, const std::string& code);
  http::Response Publish(const http::Request& r, const std::string& code);
  http::Response RetireForm(const http::Request& r, const std::string& code);
  http::Response Retire(const http::Request& r, const std::string& code);
  http::Response Export(const http::Request& r, const std::string& code);
  http::Response Import(const http::Request& r, const std::string& code);
  http::Response DetailsForm(const http::Request& r, const std::string& code);
  http::Response SaveDetails(const http::Request& r, const std::string& code);
  http::Response Preview(const http::Request& r, const std::string& code);
  http::Response Justifications(const http::Request& r);
  http::Response ReviewJustification(const http::Request& r, const std::string& id);

  // designer_form.cpp
  http::Response PageForm(const http::Request& r, const std::string& code, const std::string& page);
  http::Response SavePage(const http::Request& r, const std::string& code, const std::string& page);
  http::Response ArrangePage(const http::Request& r, const std::string& code, const std::string& page);
  http::Response FieldForm(const http::Request& r, const std::string& code, const std::string& page,
                           const std::string& field);
  http::Response SaveField(const http::Request& r, const std::string& code, const std::string& page,
                           const std::string& field);
  http::Response ArrangeField(const http::Request& r, const std::string& code, const std::string& page,
                              const std::string& field);
  /// Reads the form and finds, in the latest definition, the list holding
  /// the field `page`/`field` address ("new" last only when `may_be_new`).
  /// Fills `target` and gives nothing; else the page to answer with (the
  /// form's error, the catalogue's failure, or 404).
  std::optional<http::Response> FindField(const http::Request& r, const std::string& code, const std::string& page,
                                          const std::string& field, bool may_be_new, FieldTarget& target);

  // designer_flow.cpp: one editor per list of the definition, by `part`:
  // documents, fee-rules, states, transitions, justifications.
  http::Response ItemForm(const http::Request& r, const std::string& code, const std::string& part,
                          const std::string& index);
  http::Response SaveItem(const http::Request& r, const std::string& code, const std::string& part,
                          const std::string& index);
  http::Response ArrangeItem(const http::Request& r, const std::string& code, const std::string& part,
                             const std::string& index);
  http::Response CertificateForm(const http::Request& r, const std::string& code);
  http::Response SaveCertificate(const http::Request& r, const std::string& code);

  EditPage DetailsPage(const http::Request& r, const nlohmann::json& values, const std::string& code);
  std::vector<FieldError> ApplyDetails(const http::Request& r, const nlohmann::json& values, const EditPage& page,
                                       nlohmann::json& definition);
  /// A new service's first draft: one page asking what the applicant needs
  /// it for, and submitted → approved or rejected by an officer.
  nlohmann::json StartingDefinition(const std::string& code, const std::string& owner) const;
  /// The overview page's context; `import_text` refills the import form.
  nlohmann::json OverviewContext(const http::Request& r, const Version& latest, const std::string& import_text);

  EditPage FormPage(const http::Request& r, const Version& latest, const std::string& page_param,
                    const nlohmann::json& values);
  EditPage FieldPage(const http::Request& r, const Version& latest, const std::string& page_param,
                     const std::string& field_param, const FieldAddress& address, const nlohmann::json* field,
                     const nlohmann::json& values);
  static nlohmann::json FieldValues(const nlohmann::json& field);
  std::vector<FieldError> ApplyField(const http::Request& r, const nlohmann::json& definition,
                                     const nlohmann::json& values, const EditPage& edit, nlohmann::json& field);
  static nlohmann::json ItemValues(const nlohmann::json& definition, const std::string& part,
                                   const nlohmann::json& item);
  EditPage ItemPage(const http::Request& r, const Version& latest, const std::string& part, const std::string& index,
                    const nlohmann::json& values);
  std::vector<FieldError> ApplyItem(const http::Request& r, nlohmann::json& definition, const std::string& part,
                                    const nlohmann::json& values, const EditPage& edit, nlohmann::json& item);
  EditPage CertificatePage(const http::Request& r, const Version& latest, const nlohmann::json& values,
                           std::size_t rows);
  /// Saves a definition whose list was rearranged; on a problem shows the
  /// overview with it, linked to `list`.
  http::Response Rearranged(const http::Request& r, const Version& latest, const nlohmann::json& definition,
                            const std::string& next, const std::string& list);
  /// The form's fields as options (none first), but `except`; only `type` when set.
  std::vector<Control::Option> FieldOptions(const http::Request& r, const nlohmann::json& definition,
                                            const std::string& chosen, const std::string& except,
                                            const std::string& type);
  nlohmann::json JustificationsContext(const http::Request& r, const std::string& filter);

  // Shared by the files.
  bool Dz(const http::Request& r) const { return web_.Language(r) == "dz"; }
  std::string T(const http::Request& r, const std::string& key) const { return web_.Text(r, key); }
  /// A catalogue string in English or Dzongkha, whatever the request's language.
  std::string TextIn(const std::string& key, const char* language) const;
  /// The latest version of a service the person's organisation owns (the
  /// draft, or the published version a new draft will follow). Errors:
  /// services.not_found for any other organisation's service.
  Result<Version> Latest(const http::Request& r, const std::string& code);
  /// The form's answer to a problem reading it (CSRF, media type).
  http::Response FormError(const http::Request& r, const Error& e);
  /// The page for a failure of the catalogue that is not the person's input.
  http::Response Failure(const http::Request& r, const Error& e);
  /// Saves `definition` as the draft. On success redirects to `next`; on
  /// request.invalid re-renders `page` with each problem at its control
  /// (paths under `prefix` name a control by the rest of the path).
  http::Response SaveAndGo(const http::Request& r, const nlohmann::json& definition, const std::string& next,
                           EditPage page, const std::string& prefix);
  /// The catalogue's problems with a definition as problems of the page's
  /// controls: a path under `prefix` names its control.
  std::vector<FieldError> Explain(const http::Request& r, const std::vector<FieldError>& errors,
                                  const EditPage& page, const std::string& prefix) const;
  /// Renders an editing page (200, or 422 with `problems`).
  http::Response ShowEdit(const http::Request& r, EditPage page, const std::vector<FieldError>& problems = {});
  /// A problem with a control, in the request's language.
  FieldError Problem(const http::Request& r, const std::string& name, const std::string& rule,
                     const std::string& label, std::size_t min = 0, std::size_t max = 0) const;
  /// Label of a control of `page` by name, or the name itself.
  static std::string LabelOf(const EditPage& page, const std::string& name);
  /// Options of every registry field, grouped by registry, as "registry.field".
  std::vector<Control::Option> RegistryFieldOptions(const http::Request& r, const std::string& chosen);
  /// Every field of the form (nested too), in order: id and type.
  static std::vector<std::pair<std::string, std::string>> FormFields(const nlohmann::json& definition);
  /// A condition {"field", "equals"|"in"} from a field id and values typed
  /// one per comma; the values take the type the field's answers have.
  static nlohmann::json Condition(const nlohmann::json& definition, const std::string& field,
                                  const std::string& values);
  /// The values of a condition, as the designer types them.
  static std::string ConditionValues(const nlohmann::json& condition);
  std::string OverviewPath(const std::string& code) const { return "/design/" + code; }

  ServiceCatalogue& catalogue_;
  registries::RegistryService& registries_;
  organisations::OrganisationService& organisations_;
  web::Web& web_;
};

/// Control builders.
Control Text(std::string name, std::string label, std::string value, std::string hint = {},
             std::string width = {});
Control DzText(std::string name, std::string label, std::string value, std::string hint = {});
Control Area(std::string name, std::string label, std::string value, bool dzongkha = false, int rows = 4,
             std::string hint = {});
Control Check(std::string name, std::string label, bool checked, std::string hint = {});
Control Select(std::string name, std::string label, std::vector<Control::Option> options, std::string hint = {});
Control Radios(std::string name, std::string label, std::vector<Control::Option> options, std::string hint = {});
Control Checks(std::string name, std::string label, std::vector<Control::Option> options, std::string hint = {});
Control Heading(std::string text);

}  // namespace dzong::services::design
