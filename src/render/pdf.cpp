#include "render/pdf.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <memory>
#include <mutex>

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
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "Dzong");
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 0, 0, 0);
  {
    Writer writer(cr);
    for (const Block& block : document.blocks) {
      if (block.rows.empty()) {
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
  return out;
}

}  // namespace dzong::render
