// Search terms. English is matched by word, case-folded. Dzongkha is
// written without spaces between words: syllables are separated by the
// tsheg (U+0F0B, "་"), so a query matches whole syllables, never a part of
// one that happens to share letters.
#include <string>
#include <vector>

#include "modules/services/internal.h"

namespace dzong::services {

std::vector<std::string> SearchTerms(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  const auto flush = [&] {
    if (!word.empty()) out.push_back(std::move(word));
    word.clear();
  };
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (std::isalnum(c)) {
        word += static_cast<char>(std::tolower(c));
      } else {
        flush();
      }
      ++i;
      continue;
    }
    std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (i + n > text.size()) break;
    const std::string_view ch = text.substr(i, n);
    // U+0F0B tsheg, U+0F0C non-breaking tsheg, U+0F0D…U+0F12 shad marks,
    // U+0F14 gter tsheg: all end a syllable.
    const bool separator = n == 3 && static_cast<unsigned char>(ch[0]) == 0xE0 &&
                           static_cast<unsigned char>(ch[1]) == 0xBC &&
                           ((static_cast<unsigned char>(ch[2]) >= 0x8B && static_cast<unsigned char>(ch[2]) <= 0x92) ||
                            static_cast<unsigned char>(ch[2]) == 0x94);
    // A Dzongkha syllable and an English word never run together.
    if (!word.empty() && static_cast<unsigned char>(word.back()) < 0x80) flush();
    if (separator) {
      flush();
    } else {
      word += ch;
    }
    i += n;
  }
  flush();
  return out;
}

}  // namespace dzong::services
