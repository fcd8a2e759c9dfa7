// Uploaded files, kept by their SHA-256 under <data_dir>/uploads: written
// to a temporary file, synced, renamed and the directory synced, so a file
// an answer names survives a crash; served only when the bytes still match.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "base/crypto.h"
#include "http/message.h"
#include "modules/forms/forms.h"

namespace dzong::forms {
namespace {

Status SyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Error(dzong::errc::kInternal, fmt::format("cannot open {}", dir.string()));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Error(dzong::errc::kInternal, fmt::format("cannot sync {}", dir.string()));
  return {};
}

}  // namespace

Status FormService::StoreBytes(const std::string& sha256, const std::string& bytes) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(data_dir_) / "uploads" / sha256.substr(0, 2);
  const fs::path final_path = dir / sha256;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error(dzong::errc::kInternal, fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  if (fs::exists(final_path, ec)) return {};  // the same bytes are already kept
  const fs::path temporary = dir / (sha256 + "." + RandomHex(8) + ".part");
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error(dzong::errc::kInternal, fmt::format("cannot create {}", temporary.string()));
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) {
      ::close(fd);
      fs::remove(temporary, ec);
      return Error(dzong::errc::kInternal, fmt::format("cannot write {}", temporary.string()));
    }
    written += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) {
    fs::remove(temporary, ec);
    return Error(dzong::errc::kInternal, fmt::format("cannot sync {}", temporary.string()));
  }
  fs::rename(temporary, final_path, ec);
  if (ec) return Error(dzong::errc::kInternal, fmt::format("cannot rename {}: {}", temporary.string(), ec.message()));
  return SyncDirectory(dir);
}

Result<std::pair<StoredFile, std::string>> FormService::ReadFile(const std::string& sha256, const std::string& applicant) {
  return ReadStored(sha256, applicant);
}

Result<std::pair<StoredFile, std::string>> FormService::ReadAttachment(const std::string& sha256) {
  return ReadStored(sha256, std::nullopt);
}

Result<std::pair<StoredFile, std::string>> FormService::ReadStored(const std::string& sha256,
                                                                   const std::optional<std::string>& uploader) {
  const bool hex = sha256.size() == 64 && std::all_of(sha256.begin(), sha256.end(), [](char ch) {
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
  });
  if (!hex) return Error(errc::kFileNotFound, "there is no such file");
  DZONG_ASSIGN_OR_RETURN(db::Rows rows, db_.ReadValue<db::Rows>([&](db::Connection& c) -> Result<db::Rows> {
                           if (uploader) {
                             const db::Value key[] = {sha256, *uploader};
                             return c.Query("SELECT sha256, size, media_type, original_name, uploaded_by, uploaded_at "
                                            "FROM uploads WHERE sha256 = ? AND uploaded_by = ?",
                                            key);
                           }
                           // The same bytes may have been uploaded by several people: the first row names them.
                           const db::Value key[] = {sha256};
                           return c.Query("SELECT sha256, size, media_type, original_name, uploaded_by, uploaded_at "
                                          "FROM uploads WHERE sha256 = ? ORDER BY uploaded_at LIMIT 1",
                                          key);
                         }));
  if (rows.empty()) return Error(errc::kFileNotFound, uploader ? "you uploaded no such file" : "there is no such file");
  StoredFile f{rows[0].Text(0), rows[0].Int(1), rows[0].Text(2), rows[0].Text(3), rows[0].Text(4), rows[0].Text(5)};
  const auto path = std::filesystem::path(data_dir_) / "uploads" / sha256.substr(0, 2) / sha256;
  std::string bytes;
  {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error(errc::kFileNotFound, "the file's bytes are missing");
    char buffer[65536];
    ssize_t n = 0;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0) bytes.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
  }
  // Content-addressed: bytes that do not hash to their name are not served.
  if (Sha256Hex(bytes) != sha256) return Error(dzong::errc::kInternal, "a stored file does not match its hash");
  return std::make_pair(std::move(f), std::move(bytes));
}

http::Response FileDownload(const StoredFile& file, std::string bytes) {
  http::Response res;
  res.status = 200;
  res.content_type = file.media_type;
  res.body = std::move(bytes);
  std::string name;
  for (char ch : file.original_name) {
    const auto u = static_cast<unsigned char>(ch);
    if (u >= 0x20 && u < 0x7f && ch != '"' && ch != '\\' && ch != ';') name.push_back(ch);
  }
  if (name.empty()) name = file.sha256;
  res.SetHeader("Content-Disposition", fmt::format("attachment; filename=\"{}\"; filename*=UTF-8''{}", name,
                                                   http::PercentEncode(file.original_name)));
  res.SetHeader("X-Content-Type-Options", "nosniff");
  res.SetHeader("Content-Security-Policy", "sandbox; default-src 'none'");
  res.SetHeader("Cache-Control", "private, no-store");
  return res;
}

}  // namespace dzong::forms
