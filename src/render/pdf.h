#pragma once
// Printable documents (receipts now, certificates later) as PDF, laid out
// with Pango and drawn with Cairo, so that Dzongkha shapes correctly: text
// is set in a Latin serif (DejaVu Serif) with Jomolhari for the Tibetan
// script, from Debian's fonts-dejavu-core and fonts-dzongkha.

#include <string>
#include <vector>

#include "base/result.h"

namespace dzong::render {

/// One block of text, laid out across the page's width.
struct Paragraph {
  std::string text;         ///< UTF-8, plain (not markup)
  double size = 11;         ///< points
  bool bold = false;
  double space_before = 4;  ///< points above it
};

/// A row of a two-column table: a label (often "English / Dzongkha") and a value.
struct Row {
  std::string label;
  std::string value;
};

/// A document is a sequence of blocks: paragraphs, tables, and QR codes
/// with their caption beside them, in order.
struct Block {
  std::vector<Paragraph> paragraphs;  ///< when rows is empty; beside the QR code when there is one
  std::vector<Row> rows;
  std::string qr;         ///< text of a QR code (drawn as vectors, error correction M)
  double qr_size = 110;   ///< points
};

struct Document {
  std::string title;     ///< PDF metadata
  std::string author;    ///< PDF metadata
  std::string subject;
  std::string keywords;  ///< PDF metadata (a certificate's signed payload)
  std::string language;  ///< the catalogue's /Lang, BCP 47 ("dz-BT"); empty: none
  bool frame = false;    ///< a double rule around each page (certificates)
  std::vector<Block> blocks;
};

/// The document on A4 pages (a new page when one is full).
/// Errors: render.failed.
Result<std::string> Pdf(const Document& document);

}  // namespace dzong::render
