#pragma once
// Contact details as people type them (internal to the module): an email
// address in the syntax mail servers accept, a Bhutanese mobile number.

#include "modules/notify/notify.h"

#include <optional>
#include <string>
#include <string_view>

namespace dzong::notify {

/// An address local@domain in RFC 5321 syntax, without quoted local parts or
/// address literals: a dot-atom local part of up to 64 characters, a domain
/// of at least two labels of letters, digits and inner hyphens, ending in a
/// top-level domain of letters (or an xn-- one), 254 characters at most.
bool IsEmailAddress(std::string_view text);

/// `text` without spaces, tabs or line breaks at either end.
std::string Trim(std::string_view text);

}  // namespace dzong::notify
