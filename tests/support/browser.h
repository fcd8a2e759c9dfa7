#pragma once
// A person with a browser, without the browser: keeps cookies, reads the
// CSRF token from the page it was given, and posts forms as a browser does.

#include <map>
#include <string>

#include "http/message.h"
#include "support/http_client.h"

namespace dzong::testing {

class Browser {
 public:
  explicit Browser(std::uint16_t port) : client_(port) {}

  HttpResponse Get(const std::string& target) {
    auto r = client_.Get(target, {{"Cookie", CookieHeader()}, {"Accept", "text/html"}});
    Remember(r);
    return r;
  }

  /// Posts `fields` with the CSRF token of the last page seen (unless
  /// `fields` sets csrf_token itself).
  HttpResponse Post(const std::string& target, std::map<std::string, std::string> fields) {
    if (!fields.contains("csrf_token") && !csrf_.empty()) fields["csrf_token"] = csrf_;
    std::string body;
    for (const auto& [k, v] : fields) body += (body.empty() ? "" : "&") + http::PercentEncode(k) + "=" + http::PercentEncode(v);
    auto r = client_.Send("POST", target, body,
                          {{"Cookie", CookieHeader()}, {"Content-Type", "application/x-www-form-urlencoded"},
                           {"Accept", "text/html"}});
    Remember(r);
    return r;
  }

  std::string Cookie(const std::string& name) const {
    auto it = cookies_.find(name);
    return it == cookies_.end() ? std::string() : it->second;
  }
  const std::string& csrf() const { return csrf_; }

  /// The text between `before` and the next `after` in the last page.
  static std::string Between(const std::string& page, const std::string& before, const std::string& after) {
    const auto start = page.find(before);
    if (start == std::string::npos) return {};
    const auto from = start + before.size();
    return page.substr(from, page.find(after, from) - from);
  }

 private:
  void Remember(const HttpResponse& r) {
    // The test client keeps one value per header name; the server sets one cookie per response.
    const std::string set = r.Header("set-cookie");
    if (!set.empty()) {
      const auto eq = set.find('=');
      const auto semi = set.find(';');
      const std::string name = set.substr(0, eq);
      const std::string value = set.substr(eq + 1, semi - eq - 1);
      if (value.empty() || set.find("Max-Age=0") != std::string::npos) {
        cookies_.erase(name);
      } else {
        cookies_[name] = value;
      }
    }
    const std::string token = Between(r.body, "name=\"csrf_token\" value=\"", "\"");
    if (!token.empty()) csrf_ = token;
  }

  std::string CookieHeader() const {
    std::string out;
    for (const auto& [k, v] : cookies_) out += (out.empty() ? "" : "; ") + k + "=" + v;
    return out;
  }

  HttpClient client_;
  std::map<std::string, std::string> cookies_;
  std::string csrf_;
};

}  // namespace dzong::testing
