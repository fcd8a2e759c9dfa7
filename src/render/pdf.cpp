#include "render/pdf.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <qrencode.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace dzong::render {
namespace {

// A4 in points, and the margins.
constexpr double kWidth = 595.28;
constexpr double kHeight = 841.89;
constexpr double kMargin = 56.7;  // 2 cm
constexpr double kLabelShare = 0.42;  // of the text width, for a table's labels
// Latin in DejaVu Serif; what it lacks (the Tibetan script) in Jomolhari.
constexpr char kFamilies[] = "DejaVu Serif, Jomolhari";

// Fontconfig and Pango's font maps are not safe to use from several threads
// at once in the versions Debian 12 ships; documents are few, so one at a time.
std::mutex render_mutex;

// The QR code's modules as a font: glyph n is a run of n dark modules, a
// filled n-by-1 rectangle standing on the baseline.
cairo_status_t RenderModule(cairo_scaled_font_t*, unsigned long glyph, cairo_t* cr, cairo_text_extents_t* extents) {
  const double run = static_cast<double>(glyph);
  cairo_rectangle(cr, 0, -1, run, 1);
  cairo_fill(cr);
  extents->x_bearing = 0;
  extents->y_bearing = -1;
  extents->width = run;
  extents->height = 1;
  extents->x_advance = run;
  extents->y_advance = 0;
  return CAIRO_STATUS_SUCCESS;
}

/// Made once, under render_mutex, and kept for the process.
cairo_font_face_t* ModuleFont() {
  static cairo_font_face_t* face = [] {
    cairo_font_face_t* f = cairo_user_font_face_create();
    cairo_user_font_face_set_render_glyph_func(f, RenderModule);
    return f;
  }();
  return face;
}

cairo_status_t Append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

struct LayoutDeleter {
  void operator()(PangoLayout* l) const { g_object_unref(l); }
};
using Layout = std::unique_ptr<PangoLayout, LayoutDeleter>;

class Writer {
 public:
  explicit Writer(cairo_t* cr) : cr_(cr) {}

  Layout Make(const std::string& text, double size, bool bold, double width) {
    Layout layout(pango_cairo_create_layout(cr_));
    PangoFontDescription* font = pango_font_description_from_string(kFamilies);
    pango_font_description_set_absolute_size(font, size * PANGO_SCALE);
    pango_font_description_set_weight(font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(layout.get(), font);
    pango_font_description_free(font);
    pango_layout_set_width(layout.get(), static_cast<int>(width * PANGO_SCALE));
    pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
    pango_layout_set_text(layout.get(), text.data(), static_cast<int>(text.size()));
    return layout;
  }

  static double HeightOf(PangoLayout* layout) {
    int w = 0, h = 0;
    pango_layout_get_size(layout, &w, &h);
    return static_cast<double>(h) / PANGO_SCALE;
  }

  /// Room for `height` more points on this page, else a new page.
  void Reserve(double height) {
    if (y_ + height > kHeight - kMargin && y_ > kMargin) {
      cairo_show_page(cr_);
      y_ = kMargin;
    }
  }

  void Draw(PangoLayout* layout, double x) {
    cairo_move_to(cr_, x, y_);
    pango_cairo_show_layout(cr_, layout);
  }

  void AddParagraph(const Paragraph& p) {
    const double width = kWidth - 2 * kMargin;
    Layout layout = Make(p.text, p.size, p.bold, width);
    const double height = HeightOf(layout.get());
    y_ += p.space_before;
    Reserve(height);
    Draw(layout.get(), kMargin);
    y_ += height;
  }

  /// The QR code at the left margin, its caption beside it.
  bool AddQr(const Block& block) {
    QRcode* code = QRcode_encodeString(block.qr.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!code) return false;
    const double width = kWidth - 2 * kMargin;
    const double size = block.qr_size;
    const double gap = 16;
    std::vector<Layout> captions;
    double caption_height = 0;
    for (const Paragraph& p : block.paragraphs) {
      captions.push_back(Make(p.text, p.size, p.bold, width - size - gap));
      caption_height += p.space_before + HeightOf(captions.back().get());
    }
    y_ += 12;
    Reserve(std::max(size, caption_height));
    // Each row's runs of dark modules are glyphs of a font whose glyph n is
    // a filled n-by-1 rectangle: the PDF gets a vector Type 3 font and a
    // line of text per row. Filling a path of thousands of rectangles
    // instead costs cairo several times the whole page's text (measured:
    // 22 ms against 3 ms for a version-23 code).
    const double module = size / code->width;
    std::vector<cairo_glyph_t> glyphs;
    glyphs.reserve(static_cast<std::size_t>(code->width) * code->width / 4);
    for (int row = 0; row < code->width; ++row) {
      const unsigned char* line = code->data + row * code->width;
      for (int col = 0; col < code->width;) {
        if (!(line[col] & 1)) {
          ++col;
          continue;
        }
        int end = col;
        while (end < code->width && (line[end] & 1)) ++end;
        glyphs.push_back({static_cast<unsigned long>(end - col), kMargin + col * module, y_ + (row + 1) * module});
        col = end;
      }
    }
    cairo_save(cr_);
    cairo_set_font_face(cr_, ModuleFont());
    cairo_set_font_size(cr_, module);
    cairo_show_glyphs(cr_, glyphs.data(), static_cast<int>(glyphs.size()));
    cairo_restore(cr_);
    QRcode_free(code);
    double caption_y = y_;
    for (std::size_t i = 0; i < captions.size(); ++i) {
      caption_y += block.paragraphs[i].space_before;
      cairo_move_to(cr_, kMargin + size + gap, caption_y);
      pango_cairo_show_layout(cr_, captions[i].get());
      caption_y += HeightOf(captions[i].get());
    }
    y_ += std::max(size, caption_height);
    return true;
  }

  void Frame() {
    cairo_set_source_rgb(cr_, 0.55, 0.35, 0.05);
    cairo_set_line_width(cr_, 2);
    cairo_rectangle(cr_, kMargin / 2, kMargin / 2, kWidth - kMargin, kHeight - kMargin);
    cairo_stroke(cr_);
    cairo_set_line_width(cr_, 0.6);
    cairo_rectangle(cr_, kMargin / 2 + 4, kMargin / 2 + 4, kWidth - kMargin - 8, kHeight - kMargin - 8);
    cairo_stroke(cr_);
    cairo_set_source_rgb(cr_, 0, 0, 0);
  }

  void AddTable(const std::vector<Row>& rows) {
    const double width = kWidth - 2 * kMargin;
    const double label_width = width * kLabelShare;
    const double gap = 12;
    y_ += 8;
    for (const Row& row : rows) {
      Layout label = Make(row.label, 10, false, label_width - gap);
      Layout value = Make(row.value, 11, true, width - label_width);
      const double height = std::max(HeightOf(label.get()), HeightOf(value.get()));
      Reserve(height + 8);
      cairo_set_source_rgb(cr_, 0.3, 0.3, 0.3);
      Draw(label.get(), kMargin);
      cairo_set_source_rgb(cr_, 0, 0, 0);
      Draw(value.get(), kMargin + label_width);
      y_ += height + 4;
      // A hairline under each row.
      cairo_set_line_width(cr_, 0.4);
      cairo_set_source_rgb(cr_, 0.7, 0.7, 0.7);
      cairo_move_to(cr_, kMargin, y_);
      cairo_line_to(cr_, kWidth - kMargin, y_);
      cairo_stroke(cr_);
      cairo_set_source_rgb(cr_, 0, 0, 0);
      y_ += 4;
    }
  }

 private:
  cairo_t* cr_;
  double y_ = kMargin;
};

/// Adds /Lang to the document catalogue, which cairo does not write, as an
/// incremental update (ISO 32000-1, 7.5.6): a new copy of the catalogue, its
/// cross-reference section and a trailer pointing back at the first.
bool AddLanguage(std::string& pdf, const std::string& language) {
  const auto startxref_at = pdf.rfind("startxref");
  const auto trailer_at = pdf.rfind("trailer");
  if (startxref_at == std::string::npos || trailer_at == std::string::npos) return false;
  const long previous = std::atol(pdf.c_str() + startxref_at + 9);
  const std::string_view trailer(pdf.data() + trailer_at, startxref_at - trailer_at);
  const auto number_after = [&](std::string_view text, std::string_view key) -> long {
    const auto at = text.find(key);
    return at == std::string_view::npos ? -1 : std::atol(text.data() + at + key.size());
  };
  const long size = number_after(trailer, "/Size ");
  const long root = number_after(trailer, "/Root ");
  const long info = number_after(trailer, "/Info ");
  if (size <= 0 || root <= 0) return false;
  const std::string header = std::to_string(root) + " 0 obj";
  const auto object_at = pdf.find("\n" + header);
  if (object_at == std::string::npos) return false;
  const auto open = pdf.find("<<", object_at);
  const auto close = pdf.find("endobj", object_at);
  if (open == std::string::npos || close == std::string::npos) return false;
  const auto last = pdf.rfind(">>", close);
  if (last == std::string::npos || last < open) return false;
  std::string dictionary = pdf.substr(open, last - open);
  if (pdf.back() != '\n') pdf += '\n';
  const std::size_t offset = pdf.size();
  pdf += header + "\n" + dictionary + " /Lang (" + language + ")\n>>\nendobj\n";
  const std::size_t xref = pdf.size();
  char entry[32];
  std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offset);
  pdf += "xref\n" + std::to_string(root) + " 1\n" + entry;
  pdf += "trailer\n<< /Size " + std::to_string(size) + " /Root " + std::to_string(root) + " 0 R";
  if (info > 0) pdf += " /Info " + std::to_string(info) + " 0 R";
  pdf += " /Prev " + std::to_string(previous) + " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return true;
}

}  // namespace

Result<std::string> Pdf(const Document& document) {
  std::lock_guard lock(render_mutex);
  std::string out;
  cairo_surface_t* surface = cairo_pdf_surface_create_for_stream(Append, &out, kWidth, kHeight);
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surface);
    return Error("render.failed", "the PDF surface could not be made");
  }
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, document.title.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR, document.author.c_str());
  if (!document.subject.empty()) {
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_SUBJECT, document.subject.c_str());
  }
  if (!document.keywords.empty()) {
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_KEYWORDS, document.keywords.c_str());
  }
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Dzong");
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 0, 0, 0);
  bool drew_qr = true;
  {
    Writer writer(cr);
    if (document.frame) writer.Frame();
    for (const Block& block : document.blocks) {
      if (!block.qr.empty()) {
        drew_qr = drew_qr && writer.AddQr(block);
      } else if (block.rows.empty()) {
        for (const Paragraph& p : block.paragraphs) writer.AddParagraph(p);
      } else {
        writer.AddTable(block.rows);
      }
    }
  }
  const cairo_status_t drawn = cairo_status(cr);
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  const cairo_status_t finished = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (drawn != CAIRO_STATUS_SUCCESS || finished != CAIRO_STATUS_SUCCESS) {
    return Error("render.failed", std::string("the PDF could not be drawn: ") +
                                      cairo_status_to_string(drawn != CAIRO_STATUS_SUCCESS ? drawn : finished));
  }
  if (!drew_qr) return Error("render.failed", "the QR code could not be made: its text is too long");
  if (!document.language.empty() && !AddLanguage(out, document.language)) {
    return Error("render.failed", "the PDF's language could not be set");
  }
  return out;
}

}  // namespace dzong::render
