// SMS through an HTTP gateway: the platform POSTs {"to", "text"} as JSON
// with a bearer token, and the gateway (an operator's, or a relay in front
// of a telecom's API) sends the message.
#include <charconv>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "modules/notify/net.h"
#include "modules/notify/transport.h"

namespace dzong::notify {
namespace {

struct Url {
  std::string host;
  std::string port = "80";
  std::string path = "/";
};

std::optional<Url> ParseUrl(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return std::nullopt;
  std::string rest = url.substr(kScheme.size());
  Url out;
  const auto slash = rest.find('/');
  if (slash != std::string::npos) {
    out.path = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  const auto colon = rest.rfind(':');
  if (colon != std::string::npos && rest.back() != ']') {
    out.port = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  if (rest.size() > 2 && rest.front() == '[' && rest.back() == ']') rest = rest.substr(1, rest.size() - 2);
  if (rest.empty()) return std::nullopt;
  out.host = rest;
  return out;
}

}  // namespace

Attempt SendSms(const SmsGateway& gateway, const std::string& to, const std::string& text) {
  const auto url = ParseUrl(gateway.url);
  if (!url) return {Attempt::kRetry, "notify.sms_url is not an http:// address"};
  TcpStream s;
  if (Status c = s.Connect(url->host, url->port, gateway.timeout); !c.ok()) {
    return {Attempt::kRetry, fmt::format("the SMS gateway is unreachable: {}", c.error().message)};
  }
  const std::string body = nlohmann::json{{"to", to}, {"text", text}}.dump();
  std::string request = fmt::format(
      "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\nAccept: application/json\r\n"
      "Content-Length: {}\r\nConnection: close\r\n",
      url->path, url->host, url->port, body.size());
  if (!gateway.token.empty()) request += "Authorization: Bearer " + gateway.token + "\r\n";
  request += "\r\n" + body;
  if (Status sent = s.Send(request); !sent.ok()) {
    return {Attempt::kRetry, fmt::format("sending to the SMS gateway: {}", sent.error().message)};
  }
  auto answer = s.ReadAll(64 * 1024);
  if (!answer.ok()) return {Attempt::kRetry, fmt::format("waiting for the SMS gateway: {}", answer.error().message)};
  int status = 0;
  if (!answer->starts_with("HTTP/1.") || answer->size() < 12 ||
      std::from_chars(answer->data() + 9, answer->data() + 12, status).ec != std::errc()) {
    return {Attempt::kRetry, "the SMS gateway did not answer in HTTP"};
  }
  const auto head_end = answer->find("\r\n\r\n");
  const std::string said = head_end == std::string::npos ? std::string() : answer->substr(head_end + 4, 200);
  const std::string detail = fmt::format("the SMS gateway answered {}{}{}", status, said.empty() ? "" : ": ", said);
  if (status >= 200 && status < 300) return {Attempt::kSent, detail};
  if (status == 408 || status == 429 || status >= 500) return {Attempt::kRetry, detail};
  return {Attempt::kPermanent, detail};
}

}  // namespace dzong::notify
