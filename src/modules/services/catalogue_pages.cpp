// The citizen's catalogue: browse the published services by life event,
// agency and category, search them in English and Dzongkha, and read a
// service's page (what you need, the fee, the time it takes, how to apply,
// the agency) before starting an application.
//
// Anyone may read these pages without signing in, and most who read them
// have not. The page an anonymous visitor gets depends only on the
// language, the path and the query, and on the published catalogue, so it
// is rendered once and kept until the catalogue changes.
#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <shared_mutex>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/router.h"
#include "modules/organisations/organisations.h"
#include "modules/registries/registries.h"
#include "modules/services/services.h"
#include "web/web.h"

namespace dzong::services {
namespace {

using nlohmann::json;
using http::Request;
using http::Response;

// The schema's categories and life events, in the order the pages list them.
constexpr std::array<std::string_view, 11> kCategories = {
    "civil-registration", "identity-and-travel", "police-and-justice", "business-and-trade",
    "land-and-housing",   "transport",           "health",             "education",
    "tax",                "utilities",           "other"};
constexpr std::array<std::string_view, 11> kLifeEvents = {
    "birth",  "death",      "marriage",  "moving-home", "starting-a-business", "land-and-property",
    "travel", "employment", "education", "health",      "retirement"};

/// A search longer than this is cut (at a character boundary): no title is
/// that long, and the page repeats the query back.
constexpr std::size_t kMaxQueryBytes = 200;

/// The catalogue key of a value: "life_event_" + "moving-home" → "life_event_moving_home".
std::string LabelKey(std::string_view prefix, std::string_view value) {
  std::string key(prefix);
  for (char c : value) key += c == '-' ? '_' : c;
  return key;
}

std::string Replace(std::string text, std::string_view name, const std::string& value) {
  for (auto at = text.find(name); at != std::string::npos; at = text.find(name, at + value.size())) {
    text.replace(at, name.size(), value);
  }
  return text;
}

/// 510000 → "5,100"; 510050 → "5,100.50".
std::string Ngultrum(std::int64_t chhertum) {
  const std::string whole = std::to_string(chhertum / 100);
  std::string grouped;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) grouped += ',';
    grouped += whole[i];
  }
  if (chhertum % 100 != 0) grouped += fmt::format(".{:02d}", chhertum % 100);
  return grouped;
}

std::string Trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

/// Numbers as the page's language writes them: Tibetan digits (༠–༩) in
/// Dzongkha, as the definitions' own Dzongkha text does.
std::string Digits(std::string text, const std::string& language) {
  if (language != "dz") return text;
  std::string out;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      // U+0F20 + d, in UTF-8: E0 BC A0+d.
      out += "\xE0\xBC";
      out += static_cast<char>(0xA0 + (c - '0'));
    } else {
      out += c;
    }
  }
  return out;
}

/// An option's label without the amount it may already state ("Retail:
/// Nu 5,100" → "Retail"), so that a fee rule does not say it twice.
std::string WithoutAmount(const std::string& label, const std::string& figure) {
  const auto at = label.find(figure);
  if (figure.empty() || at == std::string::npos) return label;
  std::size_t cut = std::string::npos;
  for (const std::string_view separator : {std::string_view(":"), std::string_view("("), std::string_view("\u0F0D")}) {
    const auto found = label.rfind(separator, at);
    if (found != std::string::npos && (cut == std::string::npos || found > cut)) cut = found;
  }
  if (cut == std::string::npos) return label;
  return Trimmed(label.substr(0, cut));
}

/// 5242880 → "5 MB"; 1572864 → "1.5 MB"; 512000 → "500 KB".
std::string Size(std::int64_t bytes) {
  constexpr std::int64_t kMb = 1024 * 1024;
  if (bytes >= kMb) {
    if (bytes % kMb == 0) return fmt::format("{} MB", bytes / kMb);
    return fmt::format("{:.1f} MB", static_cast<double>(bytes) / static_cast<double>(kMb));
  }
  return fmt::format("{} KB", (bytes + 1023) / 1024);
}

std::string FormatName(const std::string& media_type) {
  if (media_type == "application/pdf") return "PDF";
  if (media_type == "image/jpeg") return "JPEG";
  if (media_type == "image/png") return "PNG";
  return media_type;
}

/// "a", "a or b", "a, b or c".
std::string JoinOr(const std::vector<std::string>& items, const std::string& word_or) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " " + word_or + " " : ", ";
    out += items[i];
  }
  return out;
}

const std::string& StringAt(const json& object, const char* name) {
  static const std::string kEmpty;
  if (!object.is_object() || !object.contains(name)) return kEmpty;
  const json& value = object.at(name);
  return value.is_string() ? value.get_ref<const std::string&>() : kEmpty;
}

const json& At(const json& object, const char* name) {
  static const json kNull;
  if (!object.is_object() || !object.contains(name)) return kNull;
  return object.at(name);
}

/// A definition's text in the page's language, and the lang attribute it
/// needs when the Dzongkha page shows it in English (false: none).
struct Localised {
  std::string text;
  json lang = false;
};

Localised InLanguage(const json& text, const std::string& language) {
  Localised out;
  if (!text.is_object()) return out;
  out.text = TextIn(text, language);
  if (language == "dz" && StringAt(text, "dz").empty() && !out.text.empty()) out.lang = "en";
  return out;
}

/// Text as paragraphs: split at blank lines (and single line breaks).
json Paragraphs(const Localised& text) {
  json paragraphs = json::array();
  std::string_view rest = text.text;
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\r')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    if (!line.empty()) paragraphs.push_back(std::string(line));
  }
  return {{"paragraphs", std::move(paragraphs)}, {"lang", text.lang}};
}

/// Every field of the form, groups' fields included, in form order.
void CollectFields(const json& fields, std::vector<const json*>& out) {
  if (!fields.is_array()) return;
  for (const json& field : fields) {
    out.push_back(&field);
    CollectFields(At(field, "fields"), out);
  }
}

std::vector<const json*> FormFields(const json& definition) {
  std::vector<const json*> out;
  const json& pages = At(At(definition, "form"), "pages");
  if (!pages.is_array()) return out;
  for (const json& page : pages) CollectFields(At(page, "fields"), out);
  return out;
}

/// A query value cut to `max` bytes without splitting a UTF-8 character.
std::string Bounded(std::string text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return text;
}

bool Has(const json& list, const std::string& value) {
  if (!list.is_array()) return false;
  return std::any_of(list.begin(), list.end(), [&](const json& v) { return v.is_string() && v == value; });
}

/// Rendered pages for visitors who have not signed in, by language and
/// target. An entry serves while the catalogue is at the generation it was
/// rendered from, and for at most kLifetime (organisation names can change
/// without the catalogue changing). Bounded: when full, it starts again
/// empty, so a stream of distinct searches costs renders, not memory.
class PageCache {
 public:
  static constexpr std::size_t kCapacity = 512;
  static constexpr std::size_t kMaxKeyBytes = 512;
  static constexpr std::chrono::seconds kLifetime{60};

  std::shared_ptr<const Response> Find(const std::string& key, std::uint64_t generation,
                                       std::chrono::steady_clock::time_point now) const {
    std::shared_lock lock(mutex_);
    const auto found = entries_.find(key);
    if (found == entries_.end() || found->second.generation != generation ||
        now - found->second.made > kLifetime) {
      return nullptr;
    }
    return found->second.response;
  }

  void Put(const std::string& key, std::uint64_t generation, std::chrono::steady_clock::time_point now,
           std::shared_ptr<const Response> response) {
    if (key.size() > kMaxKeyBytes) return;
    std::unique_lock lock(mutex_);
    if (entries_.size() >= kCapacity && !entries_.contains(key)) entries_.clear();
    entries_[key] = Entry{generation, now, std::move(response)};
  }

 private:
  struct Entry {
    std::uint64_t generation = 0;
    std::chrono::steady_clock::time_point made;
    std::shared_ptr<const Response> response;
  };
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

class CataloguePages {
 public:
  CataloguePages(ServiceCatalogue& catalogue, registries::RegistryService& registries,
                 organisations::OrganisationService& organisations, web::Web& web)
      : catalogue_(catalogue), registries_(registries), organisations_(organisations), web_(web) {}

  /// The page from the cache for a visitor who has not signed in; else
  /// rendered (and kept, when it is a 200 for such a visitor and `render`
  /// did not say otherwise through its `keep` argument).
  template <typename Render>
  Response Cached(const Request& r, Render render) {
    const http::Principal& who = r.principal;
    bool keep = true;
    if (who.authenticated || who.account_id != 0 || !who.session_hash.empty()) return render(keep);
    const std::uint64_t generation = catalogue_.Generation();
    const auto now = std::chrono::steady_clock::now();
    std::string key = web_.Language(r);
    key += ' ';
    key += r.target;
    if (auto hit = cache_.Find(key, generation, now)) return *hit;
    Response page = render(keep);
    if (page.status != 200 || !keep) return page;
    // The layout gives a new visitor a CSRF cookie of their own; nothing on
    // these pages posts a form, and one visitor's cookie must not be sent to
    // the next.
    std::erase_if(page.headers, [](const http::Header& h) { return h.name == "Set-Cookie"; });
    cache_.Put(key, generation, now, std::make_shared<const Response>(page));
    return page;
  }

  Response Browse(const Request& r, bool& keep) {
    const std::string lang = web_.Language(r);
    CatalogueQuery query;
    query.text = Bounded(Trimmed(r.QueryParam("q").value_or("")), kMaxQueryBytes);
    query.life_event = r.QueryParam("life_event").value_or("");
    query.owner = r.QueryParam("agency").value_or("");
    query.category = r.QueryParam("category").value_or("");

    // What the words match, then the filters in memory: the counts beside
    // each filter say how many services choosing it would show.
    CatalogueQuery words;
    words.text = query.text;
    auto matching = catalogue_.Catalogue(words);
    if (!matching.ok()) return web_.ErrorPage(r, matching.error(), 500);
    // An empty catalogue is also what a failed read of it looks like: that
    // page is not kept, so the next visitor's request reads it again.
    if (query.text.empty() && matching->empty()) keep = false;
    const std::vector<Service>* results = &*matching;
    std::vector<Service> filtered;
    if (!query.life_event.empty() || !query.owner.empty() || !query.category.empty()) {
      auto chosen = catalogue_.Catalogue(query);
      if (!chosen.ok()) return web_.ErrorPage(r, chosen.error(), 500);
      filtered = std::move(chosen).value();
      results = &filtered;
    }

    const auto keeps = [&](const Service& s, std::string_view except) {
      const json& d = s.definition;
      return (except == "life_event" || query.life_event.empty() || Has(At(d, "life_events"), query.life_event)) &&
             (except == "agency" || query.owner.empty() || s.owner == query.owner) &&
             (except == "category" || query.category.empty() || StringAt(d, "category") == query.category);
    };
    std::map<std::string, int, std::less<>> by_life_event, by_category, by_agency;
    for (const Service& s : *matching) {
      if (keeps(s, "life_event")) {
        const json& events = At(s.definition, "life_events");
        if (events.is_array()) {
          for (const json& e : events) {
            if (e.is_string()) ++by_life_event[e.get<std::string>()];
          }
        }
      }
      if (keeps(s, "category")) ++by_category[StringAt(s.definition, "category")];
      if (keeps(s, "agency")) ++by_agency[s.owner];
    }

    const auto facet = [&](std::string_view name, std::string_view prefix, const auto& values,
                           const std::map<std::string, int, std::less<>>& counts, const std::string& chosen) {
      json options = json::array();
      for (const auto& value : values) {
        const std::string v(value);
        const auto count = counts.find(v);
        const int n = count == counts.end() ? 0 : count->second;
        if (n == 0 && v != chosen) continue;
        options.push_back({{"value", v},
                           {"label", web_.Text(r, LabelKey(prefix, v))},
                           {"count", Digits(std::to_string(n), lang)},
                           {"selected", v == chosen},
                           {"href", fmt::format("/services?{}={}", name, v)}});
      }
      return options;
    };
    json life_events = facet("life_event", "life_event_", kLifeEvents, by_life_event, query.life_event);
    json categories = facet("category", "category_", kCategories, by_category, query.category);

    std::map<std::string, Localised> names;  // the agencies of the catalogue's services, by code
    for (const Service& s : *matching) {
      if (!names.contains(s.owner)) names.emplace(s.owner, Agency(lang, s.owner));
    }
    std::vector<std::pair<std::string, std::string>> agencies;  // name, code
    for (const auto& [code, n] : by_agency) agencies.emplace_back(names[code].text, code);
    if (!query.owner.empty() && !by_agency.contains(query.owner)) {
      names.emplace(query.owner, Agency(lang, query.owner));
      agencies.emplace_back(names[query.owner].text, query.owner);
    }
    std::sort(agencies.begin(), agencies.end());
    json agency_options = json::array();
    for (const auto& [name, code] : agencies) {
      const auto count = by_agency.find(code);
      agency_options.push_back({{"value", code},
                                {"label", name},
                                {"lang", names[code].lang},
                                {"count", Digits(std::to_string(count == by_agency.end() ? 0 : count->second), lang)},
                                {"selected", code == query.owner},
                                {"href", "/services?agency=" + http::PercentEncode(code)}});
    }

    json list = json::array();
    for (const Service& s : *results) {
      const Localised title = InLanguage(At(s.definition, "title"), lang);
      const Localised summary = InLanguage(At(s.definition, "summary"), lang);
      list.push_back({{"href", "/services/" + s.code},
                      {"title", title.text},
                      {"title_lang", title.lang},
                      {"summary", summary.text},
                      {"summary_lang", summary.lang},
                      {"agency", names[s.owner].text},
                      {"agency_lang", names[s.owner].lang}});
    }
    const bool browsing = query.text.empty() && query.life_event.empty() && query.owner.empty() &&
                          query.category.empty();
    const std::size_t n = list.size();
    const std::string count = n == 1 ? web_.Text(r, "services_count_one")
                                     : Replace(web_.Text(r, "services_count"), "{n}", Digits(std::to_string(n), lang));
    json context = {{"q", query.text},
                    {"browsing", browsing},
                    {"life_events", std::move(life_events)},
                    {"categories", std::move(categories)},
                    {"agencies", std::move(agency_options)},
                    {"results", std::move(list)},
                    {"none", n == 0},
                    {"result_count", count}};
    return web_.Page(r, "catalogue", "services_title", std::move(context));
  }

  Response Show(const Request& r, const std::string& code) {
    auto found = catalogue_.GetPublished(code);
    if (!found.ok()) return web_.ErrorPage(r, found.error(), found.error().code == errc::kNotFound ? 404 : 500);
    const Service& service = *found;
    const json& d = service.definition;
    const std::string lang = web_.Language(r);
    const std::vector<const json*> fields = FormFields(d);

    const Localised title = InLanguage(At(d, "title"), lang);
    const Localised summary = InLanguage(At(d, "summary"), lang);
    const Localised agency = Agency(lang, service.owner);
    json context = {{"service_title", title.text},
                    {"title_lang", title.lang},
                    {"summary", summary.text},
                    {"summary_lang", summary.lang},
                    {"agency", agency.text},
                    {"agency_lang", agency.lang},
                    {"agency_href", "/services?agency=" + http::PercentEncode(service.owner)},
                    {"apply_href", "/services/" + service.code + "/apply"},
                    {"eligibility", Paragraphs(InLanguage(At(d, "eligibility"), lang))}};
    if (At(d, "description").is_object()) context["description"] = Paragraphs(InLanguage(At(d, "description"), lang));
    context["how_to_apply"] = At(d, "how_to_apply").is_object()
                                  ? Paragraphs(InLanguage(At(d, "how_to_apply"), lang))
                                  : Paragraphs({web_.Text(r, "service_how_to_apply_default"), false});

    const std::string& category = StringAt(d, "category");
    context["category"] = web_.Text(r, LabelKey("category_", category));
    context["category_href"] = "/services?category=" + category;
    json life_events = json::array();
    const json& events = At(d, "life_events");
    if (events.is_array()) {
      for (const json& e : events) {
        if (!e.is_string()) continue;
        const std::string event = e.get<std::string>();
        life_events.push_back(
            {{"label", web_.Text(r, LabelKey("life_event_", event))}, {"href", "/services?life_event=" + event}});
      }
    }
    context["life_events"] = std::move(life_events);

    // What you need: the documents to upload, and what the registers fill in.
    json documents = json::array();
    const json& listed = At(d, "documents");
    if (listed.is_array()) {
      for (const json& doc : listed) {
        std::vector<std::string> formats;
        const json& types = At(doc, "formats");
        if (types.is_array()) {
          for (const json& t : types) {
            if (t.is_string()) formats.push_back(FormatName(t.get<std::string>()));
          }
        }
        const json& max = At(doc, "max_bytes");
        const Localised doc_title = InLanguage(At(doc, "title"), lang);
        documents.push_back(
            {{"title", doc_title.text},
             {"title_lang", doc_title.lang},
             {"required", !At(doc, "required").is_boolean() || At(doc, "required").get<bool>()},
             {"formats", JoinOr(formats, web_.Text(r, "service_or"))},
             {"size", Replace(web_.Text(r, "service_up_to"), "{size}",
                              Size(max.is_number_integer() ? max.get<std::int64_t>() : 0))}});
      }
    }
    context["has_documents"] = !documents.empty();
    context["documents"] = std::move(documents);
    json prefill = json::array();
    for (const json* field : fields) {
      const json& source = At(*field, "prefill");
      if (!source.is_object()) continue;
      const Localised label = InLanguage(At(*field, "label"), lang);
      prefill.push_back({{"label", label.text},
                         {"label_lang", label.lang},
                         {"source", RegisterSource(r, lang, StringAt(source, "registry"))}});
    }
    context["has_prefill"] = !prefill.empty();
    context["prefill"] = std::move(prefill);

    // The fee, and how answers change it.
    const json& fee = At(d, "fee");
    const json& base = At(fee, "amount_chhertum");
    const std::int64_t amount = base.is_number_integer() ? base.get<std::int64_t>() : 0;
    const std::string currency = web_.Text(r, "service_currency");
    const auto nu = [&](std::int64_t chhertum) {
      return Replace(currency, "{amount}", Digits(Ngultrum(chhertum), lang));
    };
    json rules = json::array();
    const json& fee_rules = At(fee, "rules");
    if (fee_rules.is_array()) {
      for (const json& rule : fee_rules) {
        const json& when = At(rule, "when");
        const json& value = At(rule, "amount_chhertum");
        if (!value.is_number_integer()) continue;
        std::string text = Replace(web_.Text(r, "service_fee_rule"), "{amount}", nu(value.get<std::int64_t>()));
        text = Replace(std::move(text), "{field}", FieldLabel(fields, StringAt(when, "field"), lang));
        const std::string figure = Digits(Ngultrum(value.get<std::int64_t>()), lang);
        rules.push_back(Replace(std::move(text), "{answer}", AnswerText(r, fields, when, lang, figure)));
      }
    }
    if (rules.empty()) {
      context["fee"] = amount == 0 ? web_.Text(r, "service_fee_free") : nu(amount);
    } else {
      context["fee"] = web_.Text(r, "service_fee_by_answers");
      rules.push_back(Replace(web_.Text(r, "service_fee_otherwise"), "{amount}",
                              amount == 0 ? web_.Text(r, "service_fee_free") : nu(amount)));
    }
    context["has_fee_rules"] = !rules.empty();
    context["fee_rules"] = std::move(rules);

    const json& sla = At(d, "sla_working_days");
    const std::int64_t days = sla.is_number_integer() ? sla.get<std::int64_t>() : 0;
    context["sla"] = days == 1 ? web_.Text(r, "service_sla_one")
                               : Replace(web_.Text(r, "service_sla"), "{n}", Digits(std::to_string(days), lang));

    const json& certificate = At(d, "certificate");
    if (certificate.is_object()) {
      const Localised cert_title = InLanguage(At(certificate, "title"), lang);
      json cert = {{"title", cert_title.text}, {"title_lang", cert_title.lang}, {"valid", false}};
      const json& valid = At(certificate, "valid_days");
      if (valid.is_number_integer()) {
        const std::int64_t v = valid.get<std::int64_t>();
        if (v % 365 == 0) {
          cert["valid"] = v == 365 ? web_.Text(r, "service_valid_years_one")
                                   : Replace(web_.Text(r, "service_valid_years"), "{n}", Digits(std::to_string(v / 365), lang));
        } else {
          cert["valid"] = Replace(web_.Text(r, "service_valid_days"), "{n}", Digits(std::to_string(v), lang));
        }
      }
      context["certificate"] = std::move(cert);
    }
    // The window's title is the service's own (a title that is no catalogue key is shown as it is).
    return web_.Page(r, "catalogue_service", title.text, std::move(context));
  }

 private:
  /// The organisation's name in the page's language (marked as English
  /// when the Dzongkha page has no Dzongkha name for it).
  Localised Agency(const std::string& lang, const std::string& code) {
    auto o = organisations_.Get(code);
    if (!o.ok()) return {code, false};
    if (lang != "dz") return {o->name_en, false};
    if (o->name_dz && !o->name_dz->empty()) return {*o->name_dz, false};
    return {o->name_en, "en"};
  }

  /// "from the Population register (Department of Civil Registration and Census)".
  std::string RegisterSource(const Request& r, const std::string& lang, const std::string& code) {
    auto registry = registries_.Get(code);
    std::string title = code;
    std::string custodian;
    if (registry.ok()) {
      title = lang == "dz" && !registry->title_dz.empty() ? registry->title_dz : registry->title_en;
      custodian = Agency(lang, registry->custodian).text;
    }
    std::string text = Replace(web_.Text(r, "service_prefill_from"), "{registry}", title);
    return Replace(std::move(text), "{custodian}", custodian);
  }

  static std::string FieldLabel(const std::vector<const json*>& fields, const std::string& id,
                                const std::string& lang) {
    for (const json* f : fields) {
      if (StringAt(*f, "id") == id) return TextIn(At(*f, "label"), lang);
    }
    return id;
  }

  /// The answer a fee rule asks for, as the form shows it: an option's
  /// label, yes or no, or the value itself.
  std::string AnswerText(const Request& r, const std::vector<const json*>& fields, const json& when,
                         const std::string& lang, const std::string& figure) {
    const json* field = nullptr;
    for (const json* f : fields) {
      if (StringAt(*f, "id") == StringAt(when, "field")) field = f;
    }
    const auto one = [&](const json& value) -> std::string {
      if (value.is_boolean()) return web_.Text(r, value.get<bool>() ? "service_answer_yes" : "service_answer_no");
      if (field != nullptr && value.is_string()) {
        const json& options = At(*field, "options");
        if (options.is_array()) {
          for (const json& o : options) {
            if (At(o, "value") == value) return WithoutAmount(TextIn(At(o, "label"), lang), figure);
          }
        }
        if (StringAt(*field, "type") == "yes_no") {
          if (value == "yes") return web_.Text(r, "service_answer_yes");
          if (value == "no") return web_.Text(r, "service_answer_no");
        }
      }
      return value.is_string() ? value.get<std::string>() : value.dump();
    };
    if (when.is_object() && when.contains("equals")) return one(when.at("equals"));
    std::vector<std::string> answers;
    const json& in = At(when, "in");
    if (in.is_array()) {
      for (const json& v : in) answers.push_back(one(v));
    }
    return JoinOr(answers, web_.Text(r, "service_or"));
  }

  ServiceCatalogue& catalogue_;
  registries::RegistryService& registries_;
  organisations::OrganisationService& organisations_;
  web::Web& web_;
  PageCache cache_;
};

}  // namespace

Status AddCataloguePages(http::Router& router, ServiceCatalogue& catalogue, registries::RegistryService& registries,
                         organisations::OrganisationService& organisations, web::Web& web) {
  auto pages = std::make_shared<CataloguePages>(catalogue, registries, organisations, web);
  DZONG_TRY(router.Add({"GET", "/services", http::kPublic, http::kNoAuditEvent,
                        [pages](const Request& r, const http::PathParams&) {
                          return pages->Cached(r, [&](bool& keep) { return pages->Browse(r, keep); });
                        },
                        "the catalogue of services: browse by life event, agency and category, and search"}));
  DZONG_TRY(router.Add({"GET", "/services/{code}", http::kPublic, http::kNoAuditEvent,
                        [pages](const Request& r, const http::PathParams& p) {
                          const std::string& code = p.at("code");
                          return pages->Cached(r, [&](bool&) { return pages->Show(r, code); });
                        },
                        "a service: who can apply, what you need, the fee, the time it takes, how to apply"}));
  return {};
}

}  // namespace dzong::services
