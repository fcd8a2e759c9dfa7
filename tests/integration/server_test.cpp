// The HTTP server as a client meets it: health, readiness, metrics, request
// ids, keep-alive, limits, malformed requests and graceful shutdown.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_server.h"

namespace dzong::testing {
namespace {

using nlohmann::json;

void ExpectErrorBody(const HttpResponse& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  const json body = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << r.body;
  EXPECT_EQ(body.value("code", ""), code) << r.body;
  EXPECT_TRUE(body.contains("message") && body["message"].is_string());
  EXPECT_TRUE(body.contains("fields") && body["fields"].is_array());
  EXPECT_EQ(body.value("request_id", ""), r.Header("x-request-id"));
  EXPECT_FALSE(r.Header("x-request-id").empty());
}

TEST(ServerTest, HealthAndReadiness) {
  TestServer server;
  auto client = server.Client();
  auto health = client->Get("/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(json::parse(health.body)["status"], "ok");
  auto ready = client->Get("/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(json::parse(ready.body)["database"], "ok");
}

TEST(ServerTest, EveryResponseCarriesARequestId) {
  TestServer server;
  auto client = server.Client();
  auto a = client->Get("/healthz");
  auto b = client->Get("/healthz");
  EXPECT_FALSE(a.Header("x-request-id").empty());
  EXPECT_NE(a.Header("x-request-id"), b.Header("x-request-id"));
  auto mine = client->Get("/healthz", {{"X-Request-Id", "gateway-42.a_b"}});
  EXPECT_EQ(mine.Header("x-request-id"), "gateway-42.a_b");
  // An id that could break logs is replaced, not echoed.
  auto bad = client->Get("/healthz", {{"X-Request-Id", "a\"b{c}"}});
  EXPECT_NE(bad.Header("x-request-id"), "a\"b{c}");
  EXPECT_FALSE(bad.Header("x-request-id").empty());
}

TEST(ServerTest, KeepsTheConnectionAlive) {
  TestServer server;
  auto client = server.Client();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(client->Get("/healthz").status, 200);
  EXPECT_EQ(client->connects(), 1);
}

TEST(ServerTest, MetricsCountRequestsByRouteAndStatus) {
  TestServer server;
  auto client = server.Client();
  client->Get("/api/v1/organisations/DCRC");
  client->Get("/api/v1/organisations/NOPE");
  client->Get("/nowhere");
  auto metrics = client->Get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.Header("content-type").find("text/plain"), std::string::npos);
  const std::string& m = metrics.body;
  EXPECT_NE(m.find(R"(dzong_http_requests_total{route="GET /api/v1/organisations/{code}",status="200"} 1)"),
            std::string::npos) << m;
  EXPECT_NE(m.find(R"(dzong_http_requests_total{route="GET /api/v1/organisations/{code}",status="404"} 1)"),
            std::string::npos);
  EXPECT_NE(m.find(R"(dzong_http_requests_total{route="unmatched",status="404"} 1)"), std::string::npos);
  EXPECT_NE(m.find(R"(dzong_http_request_duration_seconds_count{route="GET /api/v1/organisations/{code}"} 2)"),
            std::string::npos);
  EXPECT_NE(m.find("dzong_db_pool_connections "), std::string::npos);
  EXPECT_NE(m.find("dzong_db_pool_in_use "), std::string::npos);
}

TEST(ServerTest, UnknownRouteIs404WithTheErrorBody) {
  TestServer server;
  auto r = server.Client()->Get("/api/v1/nothing-here");
  ExpectErrorBody(r, 404, "request.unknown_route");
}

TEST(ServerTest, WrongMethodIs405WithAllow) {
  TestServer server;
  auto r = server.Client()->Send("DELETE", "/api/v1/organisations/DCRC", "");
  ExpectErrorBody(r, 405, "request.method_not_allowed");
  EXPECT_EQ(r.Header("allow"), "GET, PATCH");
}

TEST(ServerTest, OversizedBodyIs413AndWritesNothing) {
  TestServer server([](Config& c) { c.server.body_limit = 64 * 1024; });
  auto client = server.Client();
  const std::string huge = R"({"code":"BIG","name_en":")" + std::string(100 * 1024, 'a') + R"(","kind":"agency"})";
  auto r = client->Send("POST", "/api/v1/organisations", huge, Operator());
  ExpectErrorBody(r, 413, "request.body_too_large");
  EXPECT_EQ(server.Client()->Get("/api/v1/organisations/BIG").status, 404);
}

TEST(ServerTest, AnnouncedOversizedBodyIsRefusedBeforeItIsSent) {
  TestServer server([](Config& c) { c.server.body_limit = 64 * 1024; });
  auto client = server.Client();
  auto r = client->Raw(
      "POST /api/v1/organisations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 10000000\r\n\r\n");
  ExpectErrorBody(r, 413, "request.body_too_large");
}

TEST(ServerTest, OversizedHeadersAre431) {
  TestServer server([](Config& c) { c.server.header_limit = 4096; });
  auto r = server.Client()->Get("/healthz", {{"X-Padding", std::string(8000, 'p')}});
  ExpectErrorBody(r, 431, "request.headers_too_large");
}

TEST(ServerTest, MalformedHttpIs400) {
  TestServer server;
  auto r = server.Client()->Raw("THIS IS NOT HTTP\r\n\r\n");
  ExpectErrorBody(r, 400, "request.malformed_http");
}

TEST(ServerTest, IdleConnectionsAreClosedAfterTheIdleTimeout) {
  TestServer server([](Config& c) { c.server.idle_timeout = std::chrono::milliseconds(300); });
  auto client = server.Client();
  ASSERT_EQ(client->Get("/healthz").status, 200);
  EXPECT_TRUE(client->ClosedByServer(3000));
}

TEST(ServerTest, ShutdownFinishesTheRequestInFlightAndRefusesNewConnections) {
  TestServer server;
  auto idle = server.Client();
  ASSERT_EQ(idle->Get("/healthz").status, 200);
  auto busy = server.Client();
  // Half a request is in flight when shutdown begins.
  busy->Write("GET /api/v1/organisations/DCRC HTTP/1.1\r\nHost: x\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::thread stopper([&] { server.Stop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  busy->Write("\r\n");
  auto answered = busy->ReadResponse();
  EXPECT_EQ(answered.status, 200);
  EXPECT_EQ(answered.Header("connection"), "close");
  EXPECT_TRUE(idle->ClosedByServer(2000));
  stopper.join();
  HttpClient late(server.port());
  EXPECT_THROW(late.Get("/healthz"), std::runtime_error);
}

TEST(ServerTest, ServesItsApiDescription) {
  TestServer server;
  auto r = server.Client()->Get("/api/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  const json doc = json::parse(r.body);
  EXPECT_EQ(doc["openapi"], "3.1.0");
  EXPECT_TRUE(doc["paths"].contains("/api/v1/organisations/{code}"));
}

}  // namespace
}  // namespace dzong::testing
