// A certificate as a bilingual A4 PDF: the issuing agency, the template's
// title and fields in Dzongkha and English, and a QR code that carries the
// verification link with the signed payload.
#include <fmt/format.h>

#include "modules/certificates/certificates.h"
#include "modules/services/services.h"
#include "render/pdf.h"
#include "web/web.h"

namespace dzong::certificates {

using nlohmann::json;

namespace {

/// "Name\nམིང་།" — a label in both languages, English first as on the forms.
std::string Both(const std::string& en, const std::string& dz) { return dz.empty() ? en : en + "\n" + dz; }

/// The day of a stored UTC time in Bhutan, "2026-11-30" (as dates of birth are written).
std::string Day(const std::string& utc) {
  const std::string d = web::BhutanTime(utc);  // "30-11-2026 15:46"
  return d.size() < 10 ? d : d.substr(6, 4) + "-" + d.substr(3, 2) + "-" + d.substr(0, 2);
}

}  // namespace

render::Document Layout(const Certificate& certificate, const json& tmpl, const std::string& agency_en,
                        const std::string& agency_dz, const std::vector<Field>& fields, const std::string& site_url,
                        const Labels& labels) {
  const json title = tmpl.value("title", json::object());
  const auto label = [&](const std::string& key) { return Both(labels(key, false), labels(key, true)); };

  render::Document doc;
  doc.title = fmt::format("{} {}", title.value("en", certificate.template_id), certificate.id);
  doc.author = agency_en;
  doc.subject = fmt::format("{} – {}", title.value("en", ""), title.value("dz", ""));
  doc.keywords = CompactPayload(certificate);
  doc.language = "dz-BT";
  doc.frame = true;

  render::Block heading;
  if (!agency_dz.empty()) heading.paragraphs.push_back({agency_dz, 15, true, 0});
  heading.paragraphs.push_back({agency_en, 14, true, 2});
  if (title.contains("dz")) heading.paragraphs.push_back({title.value("dz", ""), 24, true, 22});
  heading.paragraphs.push_back({title.value("en", certificate.template_id), 21, true, 4});
  if (tmpl.contains("statement")) {
    heading.paragraphs.push_back({tmpl["statement"].value("dz", ""), 11, false, 14});
    heading.paragraphs.push_back({tmpl["statement"].value("en", ""), 11, false, 4});
  }
  doc.blocks.push_back(std::move(heading));

  for (const char* block : {"main", "details"}) {
    render::Block table;
    for (const Field& f : fields) {
      if (f.block == block && !f.value.empty()) table.rows.push_back({Both(f.label_en, f.label_dz), f.value});
    }
    if (!table.rows.empty()) doc.blocks.push_back(std::move(table));
  }

  // The QR code, with what identifies the certificate beside it.
  render::Block qr;
  qr.qr = site_url + "/verify/" + certificate.id + "#" + CompactPayload(certificate);
  qr.qr_size = 150;
  const std::string valid_until =
      certificate.expires_at ? Day(*certificate.expires_at)
                             : labels("cert_no_end", false) + " / " + labels("cert_no_end", true);
  qr.paragraphs.push_back({label("cert_number") + "\n" + certificate.id, 10, true, 0});
  qr.paragraphs.push_back({fmt::format("{} / {}: {}   {} / {}: {}", labels("cert_issued", false),
                                       labels("cert_issued", true), Day(certificate.issued_at),
                                       labels("cert_application", false), labels("cert_application", true),
                                       certificate.application_reference),
                           9, false, 6});
  qr.paragraphs.push_back({fmt::format("{} / {}: {}", labels("cert_valid_until", false), labels("cert_valid_until", true),
                                       valid_until),
                           9, false, 2});
  qr.paragraphs.push_back({labels("cert_scan", true), 9, false, 8});
  qr.paragraphs.push_back({labels("cert_scan", false), 9, false, 2});
  qr.paragraphs.push_back({site_url + "/verify", 9, true, 4});
  qr.paragraphs.push_back({fmt::format("{} {} · Ed25519", labels("cert_signed_with", false), certificate.signature.kid),
                           7, false, 6});
  doc.blocks.push_back(std::move(qr));
  return doc;
}

Result<std::string> CertificateService::Pdf(const Certificate& certificate, const Labels& labels) {
  DZONG_ASSIGN_OR_RETURN(services::Version version,
                         services_.GetVersion(certificate.service, certificate.service_version));
  DZONG_ASSIGN_OR_RETURN(std::vector<Field> fields, FieldsOf(certificate));
  const Names names = NamesOf(certificate);
  return render::Pdf(Layout(certificate, version.definition.value("certificate", json::object()), names.issuer_en,
                            names.issuer_dz, fields, settings_.site_url, labels));
}

}  // namespace dzong::certificates
