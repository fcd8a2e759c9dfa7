// The certificate routes: public verification (page and JSON), the DID
// document and the status lists; the holder's documents; the issuing
// officers' list and revocation; the JSON API.
#include <fmt/format.h>

#include "http/errors.h"
#include "http/json_input.h"
#include "http/router.h"
#include "modules/certificates/certificates.h"
#include "modules/certificates/internal.h"
#include "web/web.h"

namespace dzong::certificates {
namespace {

using http::Request;
using http::Response;
using nlohmann::json;

bool WantsHtml(const Request& r) {
  const std::string_view accept = r.HeaderValue("Accept");
  return accept.find("text/html") != std::string_view::npos;
}

Response JsonOf(int status, const json& body, const std::string& type = "application/json") {
  Response out = http::JsonResponse(status, body);
  out.content_type = type;
  return out;
}

class Routes {
 public:
  Routes(CertificateService& certificates, web::Web& web) : certificates_(certificates), web_(web) {}

  CertificateService::Labels LabelsFor() {
    english_.headers = {{"Cookie", std::string(web::kLanguageCookie) + "=en"}};
    dzongkha_.headers = {{"Cookie", std::string(web::kLanguageCookie) + "=dz"}};
    return [this](const std::string& key, bool dz) { return web_.Text(dz ? dzongkha_ : english_, key); };
  }

  /// The certificate's record for a page, in the request's language.
  json Summary(const Request& r, const Certificate& c, bool everything) {
    const bool dz = web_.Language(r) == "dz";
    json fields = json::array();
    auto shown = certificates_.FieldsOf(c);
    if (shown.ok()) {
      for (const Field& f : *shown) {
        if (!everything && !f.is_public) continue;
        fields.push_back({{"label", dz && !f.label_dz.empty() ? f.label_dz : f.label_en}, {"value", f.value}});
      }
    }
    const std::string status = c.StatusAt(FormatUtc(std::chrono::system_clock::now()));
    const CertificateService::Names names = certificates_.NamesOf(c);
    return json{{"id", c.id},
                {"issuer", c.issuer},
                {"issuer_name", dz && !names.issuer_dz.empty() ? names.issuer_dz : names.issuer_en},
                {"title", dz && !names.title_dz.empty() ? names.title_dz : names.title_en},
                {"issued", web::BhutanTime(c.issued_at).substr(0, 10)},
                {"expires", c.expires_at ? web::BhutanTime(*c.expires_at).substr(0, 10) : web_.Text(r, "cert_no_end")},
                {"application", c.application_reference},
                {"status", web_.Text(r, "cert_status_" + status)},
                {"status_code", status},
                {"revoked", status == "revoked"},
                {"reason", c.revocation_reason.value_or("")},
                {"revoked_on", c.revoked_at ? web::BhutanTime(*c.revoked_at) : ""},
                {"kid", c.signature.kid},
                {"fields", fields}};
  }

  json VerdictJson(const CertificateService::Check& check) {
    json out = {{"verdict", VerdictName(check.verdict)}};
    if (!check.certificate || check.verdict == Verdict::kNotFound) return out;
    const Certificate& c = *check.certificate;
    out["id"] = c.id;
    const CertificateService::Names names = certificates_.NamesOf(c);
    out["issuer"] = {{"code", c.issuer}, {"name_en", names.issuer_en}, {"name_dz", names.issuer_dz}};
    out["title"] = {{"en", names.title_en}, {"dz", names.title_dz}};
    out["issued_at"] = c.issued_at;
    out["expires_at"] = c.expires_at ? json(*c.expires_at) : json(nullptr);
    out["kid"] = c.signature.kid;
    if (check.verdict == Verdict::kRevoked) {
      out["revoked_at"] = c.revoked_at.value_or("");
      out["revocation_reason"] = c.revocation_reason.value_or("");
    }
    if (check.verdict == Verdict::kForged) return out;
    json fields = json::object();
    if (auto shown = certificates_.FieldsOf(c); shown.ok()) {
      for (const Field& f : *shown) {
        if (f.is_public) fields[f.id] = {{"label_en", f.label_en}, {"label_dz", f.label_dz}, {"value", f.value}};
      }
    }
    out["public_fields"] = std::move(fields);
    return out;
  }

  Response VerdictPage(const Request& r, const CertificateService::Check& check, const std::string& asked) {
    json context = {{"asked", asked},
                    {"answered", true},
                    {"verdict", VerdictName(check.verdict)},
                    {"heading", web_.Text(r, std::string("cert_verdict_") + std::string(VerdictName(check.verdict)))},
                    {"explain", web_.Text(r, std::string("cert_explain_") + std::string(VerdictName(check.verdict)))},
                    {"good", check.verdict == Verdict::kValid}};
    if (check.certificate && check.verdict != Verdict::kNotFound && check.verdict != Verdict::kForged) {
      context["certificate"] = Summary(r, *check.certificate, false);
    }
    return web_.Page(r, "cert_verify", "cert_verify_title", context, check.verdict == Verdict::kNotFound ? 404 : 200);
  }

  Response VerifyForm(const Request& r) {
    const std::optional<std::string> asked = r.QueryParam("q");
    std::string trimmed = asked.value_or("");
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) trimmed.pop_back();
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) trimmed.erase(0, 1);
    if (!asked) {
      return web_.Page(r, "cert_verify", "cert_verify_title", json{{"asked", ""}});
    }
    if (trimmed.empty()) {
      return web_.ShowProblems(r, "cert_verify", "cert_verify_title", json{{"asked", ""}},
                               {{"q", "required", web_.Text(r, "cert_verify_required")}});
    }
    if (trimmed.find(kCompactPrefix) != std::string::npos) {
      auto check = certificates_.VerifyPayload(trimmed);
      if (!check.ok()) {
        return web_.ShowProblems(r, "cert_verify", "cert_verify_title", json{{"asked", trimmed}},
                                 {{"q", "format", web_.Text(r, "cert_verify_malformed")}});
      }
      return Recorded(VerdictPage(r, *check, trimmed), *check);
    }
    if (trimmed.size() > 80 || trimmed.find('/') != std::string::npos) {
      return web_.ShowProblems(r, "cert_verify", "cert_verify_title", json{{"asked", trimmed}},
                               {{"q", "format", web_.Text(r, "cert_verify_malformed")}});
    }
    return web::Web::Redirect("/verify/" + http::PercentEncode(trimmed));
  }

  /// A check that showed a holder's public fields is an access to their
  /// data: it is recorded with them as subject, so they see it in their
  /// data tracker.
  static Response Recorded(Response out, const CertificateService::Check& check) {
    if (check.certificate && check.verdict != Verdict::kNotFound) out.audit_subjects.push_back(check.certificate->holder);
    return out;
  }

  Response VerifyOne(const Request& r, const std::string& id) {
    auto check = certificates_.Verify(id);
    if (!check.ok()) return http::ErrorResponse(check.error(), r.request_id);
    if (WantsHtml(r)) return Recorded(VerdictPage(r, *check, id), *check);
    Response out = JsonOf(check->verdict == Verdict::kNotFound ? 404 : 200, VerdictJson(*check));
    out.SetHeader("Cache-Control", "no-store");
    return Recorded(std::move(out), *check);
  }

  // --- the holder ----------------------------------------------------------

  Result<Certificate> Own(const Request& r, const std::string& id) {
    auto c = certificates_.Get(id);
    if (!c.ok() || c->holder != r.principal.id) {
      return Error(errc::kNotFound, fmt::format("you have no certificate {}", id));
    }
    return c;
  }

  Response Documents(const Request& r) {
    auto list = certificates_.ForHolder(r.principal.id);
    if (!list.ok()) return web_.ErrorPage(r, list.error(), 500);
    json items = json::array();
    for (const Certificate& c : *list) items.push_back(Summary(r, c, false));
    Response out = web_.Page(r, "my_documents", "my_documents_title", json{{"documents", items}, {"none", items.empty()}});
    out.audit_subjects.push_back(r.principal.id);
    return out;
  }

  Response Document(const Request& r, const std::string& id) {
    auto c = Own(r, id);
    if (!c.ok()) return web_.ErrorPage(r, c.error(), 404);
    Response out = web_.Page(r, "my_document", "my_document_title", Summary(r, *c, true));
    out.audit_subjects.push_back(c->holder);
    return out;
  }

  Response PdfOf(const Request& r, const Certificate& c) {
    auto pdf = certificates_.Pdf(c, LabelsFor());
    if (!pdf.ok()) return http::ErrorResponse(pdf.error(), r.request_id);
    Response out;
    out.content_type = "application/pdf";
    out.body = std::move(*pdf);
    out.SetHeader("Content-Disposition", fmt::format("inline; filename=\"{}.pdf\"", c.id));
    out.audit_subjects.push_back(c.holder);
    return out;
  }

  Response CredentialOf(const Request& r, const Certificate& c) {
    auto vc = certificates_.Credential(c);
    if (!vc.ok()) return http::ErrorResponse(vc.error(), r.request_id);
    Response out = JsonOf(200, *vc, "application/vc+ld+json");
    out.SetHeader("Content-Disposition", fmt::format("attachment; filename=\"{}.vc.json\"", c.id));
    out.audit_subjects.push_back(c.holder);
    return out;
  }

  // --- officers of the issuing organisation ----------------------------------

  Result<Certificate> Issued(const Request& r, const std::string& id) {
    auto c = certificates_.Get(id);
    if (!c.ok() || !r.principal.organisation || *r.principal.organisation != c->issuer) {
      return Error(errc::kNotFound, fmt::format("your organisation issued no certificate {}", id));
    }
    return c;
  }

  Response IssuedList(const Request& r) {
    auto list = certificates_.IssuedBy(r.principal.organisation.value_or(""));
    if (!list.ok()) return web_.ErrorPage(r, list.error(), 500);
    json items = json::array();
    for (const Certificate& c : *list) items.push_back(Summary(r, c, false));
    return web_.Page(r, "work_certificates", "work_certificates_title",
                     json{{"certificates", items}, {"none", items.empty()}});
  }

  Response IssuedOne(const Request& r, const std::string& id, const json& extra = json::object(),
                     const std::vector<FieldError>& problems = {}) {
    auto c = Issued(r, id);
    if (!c.ok()) return web_.ErrorPage(r, c.error(), 404);
    json context = Summary(r, *c, true);
    context["holder"] = c->holder;
    context.update(extra);
    Response out = problems.empty() ? web_.Page(r, "work_certificate", "work_certificate_title", context)
                                    : web_.ShowProblems(r, "work_certificate", "work_certificate_title", context,
                                                        problems);
    out.audit_subjects.push_back(c->holder);
    return out;
  }

  Response RevokeFromPage(const Request& r, const std::string& id) {
    auto form = web_.ReadForm(r);
    if (!form.ok()) return web_.ErrorPage(r, form.error(), http::StatusFor(form.error().code));
    const std::string reason = form->contains("reason") ? form->at("reason") : "";
    auto done = certificates_.Revoke(id, reason, audit::ActorOf(r));
    if (!done.ok()) {
      if (done.error().fields.empty()) return web_.ErrorPage(r, done.error(), http::StatusFor(done.error().code));
      std::vector<FieldError> problems;
      for (const FieldError& f : done.error().fields) {
        problems.push_back({f.field, f.rule,
                            web_.Text(r, f.rule == "required" ? "cert_reason_required" : "cert_reason_too_long")});
      }
      return IssuedOne(r, id, {{"reason_given", reason}}, problems);
    }
    return web::Web::Redirect("/work/certificates/" + http::PercentEncode(id));
  }

  Response RevokeFromApi(const Request& r, const std::string& id) {
    auto body = http::ParseJsonObject(r);
    if (!body.ok()) return http::ErrorResponse(body.error(), r.request_id);
    const std::string reason = body->contains("reason") && (*body)["reason"].is_string() ? (*body)["reason"].get<std::string>()
                                                                                          : "";
    auto done = certificates_.Revoke(id, reason, audit::ActorOf(r));
    if (!done.ok()) return http::ErrorResponse(done.error(), r.request_id);
    Response out = JsonOf(200, {{"id", done->id},
                                {"status", done->status},
                                {"revoked_at", done->revoked_at.value_or("")},
                                {"revocation_reason", done->revocation_reason.value_or("")}});
    out.audit_subjects.push_back(done->holder);
    return out;
  }

  CertificateService& certificates_;
  web::Web& web_;
  http::Request english_, dzongkha_;
};

}  // namespace

Status AddRoutes(http::Router& router, CertificateService& certificates, web::Web& web) {
  auto routes = std::make_shared<Routes>(certificates, web);
  using P = http::PathParams;
  // Anyone, signed in or not.
  DZONG_TRY(router.Add({"GET", "/verify", http::kPublic, "certificates.verify",
                        [routes](const Request& r, const P&) { return routes->VerifyForm(r); },
                        "check a certificate by its number or its scanned code"}));
  DZONG_TRY(router.Add({"GET", "/verify/{id}", http::kPublic, "certificates.verify",
                        [routes](const Request& r, const P& p) { return routes->VerifyOne(r, p.at("id")); },
                        "a certificate's status and public fields: a page, or JSON"}));
  DZONG_TRY(router.Add({"GET", "/.well-known/did.json", http::kPublic, http::kNoAuditEvent,
                        [&certificates](const Request& r, const P&) {
                          auto doc = certificates.DidDocument();
                          if (!doc.ok()) return http::ErrorResponse(doc.error(), r.request_id);
                          Response out = JsonOf(200, *doc, "application/did+json");
                          out.SetHeader("Cache-Control", "public, max-age=300");
                          return out;
                        },
                        "the platform's DID document (did:web): its keys as Multikeys"}));
  DZONG_TRY(router.Add({"GET", "/status/{list}", http::kPublic, http::kNoAuditEvent,
                        [&certificates](const Request& r, const P& p) {
                          std::int64_t n = 0;
                          try {
                            n = std::stoll(p.at("list"));
                          } catch (const std::exception&) {
                          }
                          auto list = certificates.StatusList(n);
                          if (!list.ok()) return http::ErrorResponse(list.error(), r.request_id);
                          Response out = JsonOf(200, *list, "application/vc+ld+json");
                          out.SetHeader("Cache-Control", "public, max-age=60");
                          return out;
                        },
                        "a signed W3C Bitstring Status List of revoked certificates"}));
  DZONG_TRY(router.Add({"GET", "/api/v1/certificates/{id}/status", http::kPublic, http::kNoAuditEvent,
                        [&certificates](const Request& r, const P& p) {
                          auto c = certificates.Get(p.at("id"));
                          if (!c.ok()) return http::ErrorResponse(c.error(), r.request_id);
                          return JsonOf(200, {{"id", c->id},
                                              {"status", c->StatusAt(FormatUtc(std::chrono::system_clock::now()))},
                                              {"revoked_at", c->revoked_at ? json(*c->revoked_at) : json(nullptr)},
                                              {"expires_at", c->expires_at ? json(*c->expires_at) : json(nullptr)},
                                              {"status_list", fmt::format("{}/status/{}", certificates.settings().site_url,
                                                                          c->status_list)},
                                              {"status_index", c->status_index}});
                        },
                        "a certificate's revocation status"}));
  // The holder.
  DZONG_TRY(router.Add({"GET", "/my/documents", "consent.self", "certificates.list_own",
                        [routes](const Request& r, const P&) { return routes->Documents(r); },
                        "my certificates"}));
  DZONG_TRY(router.Add({"GET", "/my/documents/{id}", "consent.self", "certificates.read_own",
                        [routes](const Request& r, const P& p) { return routes->Document(r, p.at("id")); },
                        "one of my certificates"}));
  DZONG_TRY(router.Add({"GET", "/my/documents/{id}/pdf", "consent.self", "certificates.download",
                        [routes](const Request& r, const P& p) {
                          auto c = routes->Own(r, p.at("id"));
                          if (!c.ok()) return http::ErrorResponse(c.error(), r.request_id);
                          return routes->PdfOf(r, *c);
                        },
                        "my certificate as a PDF"}));
  DZONG_TRY(router.Add({"GET", "/my/documents/{id}/credential", "consent.self", "certificates.export_credential",
                        [routes](const Request& r, const P& p) {
                          auto c = routes->Own(r, p.at("id"));
                          if (!c.ok()) return http::ErrorResponse(c.error(), r.request_id);
                          return routes->CredentialOf(r, *c);
                        },
                        "my certificate as a W3C Verifiable Credential"}));
  // Officers of the issuing organisation.
  DZONG_TRY(router.Add({"GET", "/work/certificates", "certificates.revoke", "certificates.list_issued",
                        [routes](const Request& r, const P&) { return routes->IssuedList(r); },
                        "the certificates my organisation issued"}));
  DZONG_TRY(router.Add({"GET", "/work/certificates/{id}", "certificates.revoke", "certificates.read_issued",
                        [routes](const Request& r, const P& p) { return routes->IssuedOne(r, p.at("id")); },
                        "one certificate my organisation issued, to revoke"}));
  DZONG_TRY(router.Add({"POST", "/work/certificates/{id}/revoke", "certificates.revoke", "certificates.revoke",
                        [routes](const Request& r, const P& p) { return routes->RevokeFromPage(r, p.at("id")); },
                        "revoke a certificate, with a reason"}));
  DZONG_TRY(router.Add({"POST", "/api/v1/certificates/{id}/revoke", "certificates.revoke", "certificates.revoke",
                        [routes](const Request& r, const P& p) { return routes->RevokeFromApi(r, p.at("id")); },
                        "revoke a certificate, with a reason"}));
  return {};
}

}  // namespace dzong::certificates
