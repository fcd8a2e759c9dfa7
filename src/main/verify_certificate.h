#pragma once
// `dzong verify`: checks a certificate offline, from its PDF or the text of
// its QR code, against a saved copy of the platform's published keys and,
// when given, a saved status list. Needs no database and no settings.

#include <string>

namespace dzong {

struct VerifyCertificateOptions {
  std::string input;        ///< a PDF file, a file holding the payload, or the payload itself
  std::string keys_file;    ///< a saved /.well-known/dzong-keys.json
  std::string status_file;  ///< a saved /status/{n}; empty: revocation is not checked
  std::string at;           ///< the time to check expiry at (UTC); empty: now
};

/// Prints the verdict and the certificate's claims. Exit status: 0 valid;
/// 1 revoked, expired, forged or signed with an unknown key; 2 when the
/// input, keys or status list cannot be read.
int VerifyCertificateCommand(const VerifyCertificateOptions& options);

}  // namespace dzong
