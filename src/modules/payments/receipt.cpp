// A payment's receipt: one A4 page in English and Dzongkha.
#include <fmt/format.h>

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

  render::Block footer;
  footer.paragraphs.push_back({labels("pay_receipt_footer", false), 9, false, 24});
  footer.paragraphs.push_back({labels("pay_receipt_footer", true), 9, false, 4});
  doc.blocks.push_back(std::move(footer));
  return render::Pdf(doc);
}

}  // namespace dzong::payments
