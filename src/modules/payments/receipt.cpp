// A payment's receipt: one A4 page in English and Dzongkha.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/clock.h"

#include "modules/organisations/organisations.h"
#include "modules/payments/payments.h"
#include "render/pdf.h"
#include "web/web.h"

namespace dzong::payments {

Result<std::string> PaymentService::ReceiptPdf(const Payment& payment, const Labels& labels) {
  if (payment.status != kSucceeded && payment.status != kRefunded) {
    return Error(errc::kNotPaid, "A receipt is given for a payment made; this one is " + payment.status);
  }
  std::string agency_en = payment.owner;
  std::string agency_dz;
  if (auto o = organisations_.Get(payment.owner); o.ok()) {
    agency_en = o->name_en;
    agency_dz = o->name_dz.value_or("");
  }
  const auto both = [&](const std::string& key) { return labels(key, false) + "\n" + labels(key, true); };
  render::Document doc;
  doc.title = fmt::format("{} {} – {}", labels("pay_receipt_title", false), payment.reference, agency_en);
  doc.author = agency_en;
  doc.subject = fmt::format("{} {}", labels("pay_receipt_application", false), payment.application_reference);

  render::Block heading;
  heading.paragraphs.push_back({agency_en, 17, true, 0});
  if (!agency_dz.empty()) heading.paragraphs.push_back({agency_dz, 17, true, 4});
  heading.paragraphs.push_back({labels("pay_receipt_title", false) + " · " + labels("pay_receipt_title", true), 14,
                                false, 14});
  doc.blocks.push_back(std::move(heading));

  render::Block table;
  table.rows.push_back({both("pay_receipt_number"), payment.reference});
  table.rows.push_back({both("pay_receipt_application"), payment.application_reference});
  table.rows.push_back({both("pay_receipt_amount"), FormatNu(payment.amount)});
  table.rows.push_back({both("pay_receipt_date"), web::BhutanTime(payment.settled_at.value_or(payment.updated_at)) +
                                                      " BTT"});
  table.rows.push_back({both("pay_receipt_payer"), payment.payer});
  table.rows.push_back({both("pay_receipt_transaction"),
                        payment.gateway + " · " + payment.gateway_transaction.value_or("")});
  if (payment.status == kRefunded) {
    table.rows.push_back({both("pay_receipt_refunded"),
                          web::BhutanTime(payment.refunded_at.value_or(payment.updated_at)) + " BTT\n" +
                              payment.refund_reason.value_or("")});
  }
  doc.blocks.push_back(std::move(table));

  if (receipt_signer_) {
    // Signed as certificates are: `dzong verify` checks a receipt offline.
    nlohmann::json claims = {{"v", 1},
                             {"id", payment.reference},
                             {"iss", payment.owner},
                             {"typ", "payment-receipt"},
                             {"app", payment.application_reference},
                             {"sub", payment.payer},
                             {"iat", FormatUtc(clock_.Now())},
                             {"f",
                              {{"amount", FormatNu(payment.amount)},
                               {"status", payment.status},
                               {"paid_at", payment.settled_at.value_or(payment.updated_at)},
                               {"transaction", payment.gateway + " " + payment.gateway_transaction.value_or("")}}}};
    if (payment.refunded_at) claims["f"]["refunded_at"] = *payment.refunded_at;
    DZONG_ASSIGN_OR_RETURN(std::string compact, receipt_signer_(claims));
    doc.keywords = compact;
    render::Block qr;
    qr.qr = compact;
    qr.qr_size = 150;
    qr.paragraphs.push_back({labels("pay_receipt_signed", true), 9, false, 0});
    qr.paragraphs.push_back({labels("pay_receipt_signed", false), 9, false, 4});
    doc.blocks.push_back(std::move(qr));
  }
  doc.language = "dz-BT";

  render::Block footer;
  footer.paragraphs.push_back({labels("pay_receipt_footer", false), 9, false, 24});
  footer.paragraphs.push_back({labels("pay_receipt_footer", true), 9, false, 4});
  doc.blocks.push_back(std::move(footer));
  return render::Pdf(doc);
}

}  // namespace dzong::payments
