// A node's /metrics: PrometheusText renders NodeStatus in the exposition format 0.0.4 (exact
// lines, label escaping, histograms in seconds, families well formed), and HttpEndpoint serves it
// on loopback — checked with httplib's client as a scraper would: content type, 404s, refused
// methods, callbacks that throw, bad addresses and busy ports as errors, Stop.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

// Debian's cpp-httplib is compiled with -DCPPHTTPLIB_*_SUPPORT flags that change its class
// layouts: the suite links PkgConfig::HTTPLIB (tests/CMakeLists.txt), which carries them.
#include <httplib.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "nemesyst/node.h"
#include "nodes/http_endpoint.h"
#include "nodes/metrics.h"
#include "tests/testing/endpoint.h"

namespace nemesyst::nodes {
namespace {

using nemesyst::testing::PortOf;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool HasLine(const std::string& text, const std::string& line) {
  for (const std::string& l : Lines(text)) {
    if (l == line) return true;
  }
  return false;
}

#define EXPECT_LINE(text, line) EXPECT_TRUE(HasLine(text, line)) << "missing: " << (line)

LatencyHistogram Histogram(std::vector<double> bounds_us, std::vector<uint64_t> counts,
                           uint64_t count, double sum_us) {
  LatencyHistogram h;
  h.bounds_us = std::move(bounds_us);
  h.counts = std::move(counts);
  h.count = count;
  h.sum_us = sum_us;
  return h;
}

// A store node with a registry channel from the hub, a data channel to it, and a served model.
NodeStatus StoreStatus() {
  NodeStatus s;
  s.node_id = "store-0042";
  s.role = NodeRole::kStore;
  s.last_position = 1234;
  s.first_position = 17;
  s.epoch = 3;
  s.connected = true;
  s.appended_records = 987654321;
  s.malformed_messages = 2;

  PeerStatus registry;
  registry.peer = "hub";
  registry.channel = "registry";
  registry.direction = "follower";
  registry.in_session = true;
  registry.applied = 40;
  registry.durable = 39;
  registry.leader_last = 41;
  registry.lag_changes = 1;
  registry.lag_seconds = 0.25;
  registry.duplicates = 5;
  registry.gaps = 6;
  registry.checksum_failures = 7;
  registry.resyncs = 8;
  registry.stale_epochs = 9;
  s.peers.push_back(registry);

  PeerStatus data;
  data.peer = "hub";
  data.channel = "data";
  data.direction = "leader";
  data.in_session = false;
  data.bootstrapping = true;
  data.applied = 1200;
  data.durable = 1199;
  data.leader_last = 1234;
  data.lag_changes = 34;
  data.lag_bytes = 123456;
  data.lag_seconds = 1.5;
  data.bootstraps = 2;
  s.peers.push_back(data);

  ServingStatus& v = s.serving;
  v.reference = "lstm:production";
  v.model = "lstm@4";
  v.devices = 12;
  v.readings = 1000;
  v.predictions = 990;
  v.requests = 50;
  v.request_errors = 3;
  v.pushes = 20;
  v.push_errors = 1;
  v.swaps = 2;
  v.last_build_ms = 250;
  v.last_swap_pause_us = 1500;
  v.request_latency = Histogram({10, 100, 1000, 10000}, {1, 4, 9, 10}, 10, 25000);
  v.publish_latency = Histogram({10, 20, 50}, {0, 2, 2}, 3, 120.5);
  return s;
}

TEST(PrometheusTextTest, NodeLines) {
  const std::string text = PrometheusText(StoreStatus());
  EXPECT_LINE(text, "# HELP nemesyst_node_info The node: its id and role.");
  EXPECT_LINE(text, "# TYPE nemesyst_node_info gauge");
  EXPECT_LINE(text, R"(nemesyst_node_info{node="store-0042",role="store"} 1)");
  EXPECT_LINE(text, "nemesyst_journal_last_position 1234");
  EXPECT_LINE(text, "nemesyst_journal_first_position 17");
  EXPECT_LINE(text, "nemesyst_epoch 3");
  EXPECT_LINE(text, "nemesyst_connected 1");
  EXPECT_LINE(text, "# TYPE nemesyst_appended_records_total counter");
  EXPECT_LINE(text, "nemesyst_appended_records_total 987654321");
  EXPECT_LINE(text, "# TYPE nemesyst_malformed_messages_total counter");
  EXPECT_LINE(text, "nemesyst_malformed_messages_total 2");
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');  // the last line ends too
}

TEST(PrometheusTextTest, PeerLines) {
  const std::string text = PrometheusText(StoreStatus());
  const std::string reg =
      R"({peer="hub",channel="registry",direction="follower",transport="zeromq"})";
  const std::string data = R"({peer="hub",channel="data",direction="leader",transport="zeromq"})";
  EXPECT_LINE(text, "nemesyst_replication_applied_position" + reg + " 40");
  EXPECT_LINE(text, "nemesyst_replication_durable_position" + reg + " 39");
  EXPECT_LINE(text, "nemesyst_replication_leader_last_position" + reg + " 41");
  EXPECT_LINE(text, "nemesyst_replication_lag_changes" + reg + " 1");
  EXPECT_LINE(text, "nemesyst_replication_lag_seconds" + reg + " 0.25");
  EXPECT_LINE(text, "nemesyst_replication_in_session" + reg + " 1");
  EXPECT_LINE(text, "nemesyst_replication_bootstrapping" + reg + " 0");
  EXPECT_LINE(text, "nemesyst_replication_duplicates_total" + reg + " 5");
  EXPECT_LINE(text, "nemesyst_replication_gaps_total" + reg + " 6");
  EXPECT_LINE(text, "nemesyst_replication_checksum_failures_total" + reg + " 7");
  EXPECT_LINE(text, "nemesyst_replication_resyncs_total" + reg + " 8");
  EXPECT_LINE(text, "nemesyst_replication_stale_epochs_total" + reg + " 9");
  EXPECT_LINE(text, "nemesyst_replication_applied_position" + data + " 1200");
  EXPECT_LINE(text, "nemesyst_replication_lag_changes" + data + " 34");
  EXPECT_LINE(text, "nemesyst_replication_lag_bytes" + data + " 123456");
  EXPECT_LINE(text, "nemesyst_replication_lag_seconds" + data + " 1.5");
  EXPECT_LINE(text, "nemesyst_replication_in_session" + data + " 0");
  EXPECT_LINE(text, "nemesyst_replication_bootstrapping" + data + " 1");
  EXPECT_LINE(text, "# TYPE nemesyst_replication_bootstraps_total counter");
  EXPECT_LINE(text, "nemesyst_replication_bootstraps_total" + data + " 2");
}

TEST(PrometheusTextTest, ServingLines) {
  const std::string text = PrometheusText(StoreStatus());
  const std::string m;
  EXPECT_LINE(text, "# TYPE nemesyst_serving_info gauge");
  EXPECT_LINE(text, R"(nemesyst_serving_info{reference="lstm:production",model="lstm@4"} 1)");
  EXPECT_LINE(text, "nemesyst_serving_devices" + m + " 12");
  EXPECT_LINE(text, "nemesyst_serving_readings_total" + m + " 1000");
  EXPECT_LINE(text, "nemesyst_serving_predictions_total" + m + " 990");
  EXPECT_LINE(text, "nemesyst_serving_requests_total" + m + " 50");
  EXPECT_LINE(text, "nemesyst_serving_request_errors_total" + m + " 3");
  EXPECT_LINE(text, "nemesyst_serving_pushes_total" + m + " 20");
  EXPECT_LINE(text, "nemesyst_serving_push_errors_total" + m + " 1");
  EXPECT_LINE(text, "nemesyst_serving_swaps_total" + m + " 2");
  EXPECT_LINE(text, "nemesyst_serving_last_build_seconds" + m + " 0.25");
  EXPECT_LINE(text, "nemesyst_serving_last_swap_pause_seconds" + m + " 0.0015");
}

TEST(PrometheusTextTest, HistogramsInSecondsCumulativeWithInfEqualToCount) {
  const std::string text = PrometheusText(StoreStatus());
  EXPECT_LINE(text, "# TYPE nemesyst_serving_request_seconds histogram");
  const std::string b = "nemesyst_serving_request_seconds_bucket";
  EXPECT_LINE(text, b + R"({le="0.00001"} 1)");
  EXPECT_LINE(text, b + R"({le="0.0001"} 4)");
  EXPECT_LINE(text, b + R"({le="0.001"} 9)");
  EXPECT_LINE(text, b + R"({le="0.01"} 10)");
  EXPECT_LINE(text, b + R"({le="+Inf"} 10)");
  EXPECT_LINE(text, R"(nemesyst_serving_request_seconds_sum 0.025)");
  EXPECT_LINE(text, R"(nemesyst_serving_request_seconds_count 10)");

  EXPECT_LINE(text, "# TYPE nemesyst_serving_publish_seconds histogram");
  const std::string p = "nemesyst_serving_publish_seconds_bucket";
  EXPECT_LINE(text, p + R"({le="0.00001"} 0)");
  EXPECT_LINE(text, p + R"({le="0.00002"} 2)");
  EXPECT_LINE(text, p + R"({le="0.00005"} 2)");
  EXPECT_LINE(text, p + R"({le="+Inf"} 3)");
  EXPECT_LINE(text, R"(nemesyst_serving_publish_seconds_sum 0.0001205)");
  EXPECT_LINE(text, R"(nemesyst_serving_publish_seconds_count 3)");

  // The buckets come in increasing `le`, their counts never decrease, +Inf last.
  std::vector<std::pair<double, uint64_t>> buckets;
  const std::regex bucket_line(
      R"re(nemesyst_serving_request_seconds_bucket\{le="([^"]+)"\} (\d+))re");
  for (const std::string& line : Lines(text)) {
    std::smatch m;
    if (!std::regex_match(line, m, bucket_line)) continue;
    const double le = m[1] == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(m[1]);
    buckets.emplace_back(le, std::stoull(m[2]));
  }
  ASSERT_EQ(buckets.size(), 5u);
  for (size_t i = 1; i < buckets.size(); ++i) {
    EXPECT_LT(buckets[i - 1].first, buckets[i].first);
    EXPECT_LE(buckets[i - 1].second, buckets[i].second);
  }
  EXPECT_TRUE(std::isinf(buckets.back().first));
}

TEST(PrometheusTextTest, TheNodesRealHistogramBoundsPrintAsPlainDecimals) {
  // LatencyRecorder's bounds, 10 µs .. 10 s in 1-2-5 steps.
  const std::vector<double> bounds = {10,     20,      50,      100,     200,     500,    1000,
                                      2000,   5000,    10000,   20000,   50000,   100000, 200000,
                                      500000, 1000000, 2000000, 5000000, 10000000};
  NodeStatus s = StoreStatus();
  s.serving.request_latency = Histogram(bounds, std::vector<uint64_t>(bounds.size(), 0), 0, 0);
  const std::string text = PrometheusText(s);
  const std::vector<std::string> expected = {"0.00001", "0.00002", "0.00005", "0.0001", "0.0002",
                                             "0.0005",  "0.001",   "0.002",   "0.005",  "0.01",
                                             "0.02",    "0.05",    "0.1",     "0.2",    "0.5",
                                             "1",       "2",       "5",       "10",     "+Inf"};
  for (const std::string& le : expected) {
    EXPECT_LINE(text, R"(nemesyst_serving_request_seconds_bucket{le=")" + le + R"("} 0)");
  }
}

TEST(PrometheusTextTest, LabelValuesAreEscaped) {
  NodeStatus s = StoreStatus();
  s.node_id = "node \"quoted\"";
  s.peers[0].peer = "we\"ird\\peer\nid";
  s.peers.resize(1);
  const std::string text = PrometheusText(s);
  EXPECT_LINE(text, R"(nemesyst_node_info{node="node \"quoted\"",role="store"} 1)");
  EXPECT_LINE(
      text,
      R"(nemesyst_replication_applied_position{peer="we\"ird\\peer\nid",channel="registry",direction="follower",transport="zeromq"} 40)");
  // No raw newline inside a sample: every line is a comment or one whole sample.
  for (const std::string& line : Lines(text)) {
    EXPECT_TRUE(line.rfind("#", 0) == 0 || line.rfind("nemesyst_", 0) == 0) << line;
  }
}

TEST(PrometheusTextTest, InvalidUtf8InALabelIsReplaced) {
  EXPECT_EQ(EscapeLabelValue("caf\xC3\xA9"), "caf\xC3\xA9");            // valid: kept
  EXPECT_EQ(EscapeLabelValue("a\xFFz"), "a\xEF\xBF\xBDz");              // a stray byte
  EXPECT_EQ(EscapeLabelValue("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(EscapeLabelValue("\xED\xA0\x80"),                           // a surrogate
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(EscapeLabelValue("x\xE2\x82"), "x\xEF\xBF\xBD\xEF\xBF\xBD");  // cut short
}

TEST(PrometheusTextTest, NumbersExactAndNonFinite) {
  NodeStatus s = StoreStatus();
  s.appended_records = std::numeric_limits<uint64_t>::max();
  s.peers[0].lag_seconds = 0.1;
  s.peers[1].lag_seconds = std::nan("");
  s.serving.last_build_ms = std::numeric_limits<double>::infinity();
  s.serving.last_swap_pause_us = -std::numeric_limits<double>::infinity();
  const std::string text = PrometheusText(s);
  EXPECT_LINE(text, "nemesyst_appended_records_total 18446744073709551615");
  EXPECT_LINE(
      text,
      R"(nemesyst_replication_lag_seconds{peer="hub",channel="registry",direction="follower",transport="zeromq"} 0.1)");
  EXPECT_LINE(
      text,
      R"(nemesyst_replication_lag_seconds{peer="hub",channel="data",direction="leader",transport="zeromq"} NaN)");
  EXPECT_LINE(text, R"(nemesyst_serving_last_build_seconds +Inf)");
  EXPECT_LINE(text, R"(nemesyst_serving_last_swap_pause_seconds -Inf)");
  // A double that needs all 17 digits reads back exactly.
  s.peers[0].lag_seconds = 0.1 + 0.2;
  const std::string again = PrometheusText(s);
  const std::regex lag(
      R"re(nemesyst_replication_lag_seconds\{peer="hub",channel="registry",direction="follower",transport="zeromq"\} (\S+))re");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(again, m, lag));
  EXPECT_EQ(std::stod(m[1]), 0.1 + 0.2) << m[1];
}

TEST(PrometheusTextTest, NoServingBlockWithoutAReference) {
  NodeStatus s = StoreStatus();
  s.serving.reference.clear();
  const std::string text = PrometheusText(s);
  EXPECT_THAT(text, Not(HasSubstr("nemesyst_serving_")));
  EXPECT_THAT(text, HasSubstr("nemesyst_replication_"));

  NodeStatus hub;  // a hub with no peers yet: the node block only
  hub.node_id = "hub-1";
  hub.role = NodeRole::kHub;
  const std::string hub_text = PrometheusText(hub);
  EXPECT_LINE(hub_text, R"(nemesyst_node_info{node="hub-1",role="hub"} 1)");
  EXPECT_THAT(hub_text, Not(HasSubstr("nemesyst_replication_")));
  EXPECT_THAT(hub_text, Not(HasSubstr("nemesyst_serving_")));
}

// What a Prometheus parser insists on: each family's HELP and TYPE once, before its samples, its
// samples together; names and labels well formed; counters named _total; histograms' samples
// _bucket/_sum/_count of their family.
TEST(PrometheusTextTest, WellFormedExposition) {
  NodeStatus s = StoreStatus();
  s.peers[1].peer = "store \"x\"";
  const std::string text = PrometheusText(s);
  const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*)");
  const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  const std::regex sample(
      R"re(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? (\S+))re");
  std::set<std::string> seen;
  std::string family, family_type;
  bool help_seen = false;
  int samples = 0;
  for (const std::string& line : Lines(text)) {
    std::smatch m;
    if (std::regex_match(line, m, help)) {
      family = m[1];
      EXPECT_TRUE(seen.insert(family).second) << "family twice: " << family;
      help_seen = true;
      family_type.clear();
    } else if (std::regex_match(line, m, type)) {
      EXPECT_TRUE(help_seen && m[1] == family) << line;
      family_type = m[2];
      if (family_type == "counter") {
        EXPECT_TRUE(family.ends_with("_total")) << family;
      }
      help_seen = false;
    } else {
      ASSERT_TRUE(std::regex_match(line, m, sample)) << "not a sample: " << line;
      ASSERT_FALSE(family_type.empty()) << "sample before its TYPE: " << line;
      const std::string name = m[1];
      if (family_type == "histogram") {
        EXPECT_TRUE(name == family + "_bucket" || name == family + "_sum" ||
                    name == family + "_count")
            << line;
      } else {
        EXPECT_EQ(name, family) << "a sample outside its family: " << line;
      }
      const std::string value = m[m.size() - 1];
      EXPECT_TRUE(value == "NaN" || value == "+Inf" || value == "-Inf" ||
                  std::regex_match(value, std::regex(R"(-?[0-9.]+(e[-+]?[0-9]+)?)")))
          << line;
      ++samples;
    }
  }
  EXPECT_GT(samples, 50);
}

// ---- HttpEndpoint --------------------------------------------------------------------------

HttpEndpoint::TextFn Text(std::string text) {
  return [text] { return text; };
}

std::unique_ptr<httplib::Client> ClientFor(const HttpEndpoint& endpoint) {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", PortOf(endpoint.address()));
  client->set_connection_timeout(5, 0);
  client->set_read_timeout(10, 0);
  return client;
}

std::unique_ptr<HttpEndpoint> StartOrDie(HttpEndpoint::TextFn metrics, HttpEndpoint::TextFn page) {
  auto endpoint =
      HttpEndpoint::Start("127.0.0.1:0", std::move(metrics), std::move(page), /*logger=*/nullptr);
  if (!endpoint.ok()) ADD_FAILURE() << endpoint.status().ToString();
  return endpoint.ok() ? std::move(endpoint).value() : nullptr;
}

TEST(HttpEndpointTest, ServesMetricsWithThePrometheusContentType) {
  std::atomic<int> calls = 0;
  auto endpoint = StartOrDie(
      [&] {
        ++calls;
        return PrometheusText(StoreStatus());
      },
      nullptr);
  ASSERT_NE(endpoint, nullptr);
  EXPECT_TRUE(endpoint->address().starts_with("127.0.0.1:"));
  EXPECT_GT(PortOf(endpoint->address()), 0);

  auto client = ClientFor(*endpoint);
  auto res = client->Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, PrometheusText(StoreStatus()));
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(calls.load(), 1);

  // HEAD: the headers of a GET, no body.
  auto head = client->Head("/metrics");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  EXPECT_EQ(head->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");

  // A query string does not change the route.
  auto query = client->Get("/metrics?name[]=nemesyst_epoch");
  ASSERT_TRUE(query);
  EXPECT_EQ(query->status, 200);
}

TEST(HttpEndpointTest, RootIsNotFoundWithoutAPage) {
  auto endpoint = StartOrDie(Text("m 1\n"), nullptr);
  ASSERT_NE(endpoint, nullptr);
  auto client = ClientFor(*endpoint);
  auto root = client->Get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 404);
  EXPECT_THAT(root->body, HasSubstr("not found"));
  for (const char* path : {"/nope", "/metrics/", "/metricsx", "/../metrics", "/index.html"}) {
    auto res = client->Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
    EXPECT_FALSE(res->body.empty()) << path;
  }
}

TEST(HttpEndpointTest, ServesThePageAtTheRootWhenGiven) {
  auto endpoint = StartOrDie(Text("m 1\n"), Text("<!DOCTYPE html><p>hi</p>"));
  ASSERT_NE(endpoint, nullptr);
  auto client = ClientFor(*endpoint);
  auto res = client->Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "<!DOCTYPE html><p>hi</p>");
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");
  auto metrics = client->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->body, "m 1\n");
}

TEST(HttpEndpointTest, OnlyGetAndHead) {
  std::atomic<int> calls = 0;
  auto endpoint = StartOrDie(
      [&] {
        ++calls;
        return "m 1\n";
      },
      nullptr);
  ASSERT_NE(endpoint, nullptr);
  auto client = ClientFor(*endpoint);
  auto post = client->Post("/metrics", "x=1", "application/x-www-form-urlencoded");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD");
  EXPECT_THAT(post->body, HasSubstr("method not allowed"));
  auto put = client->Put("/metrics", "x", "text/plain");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 405);
  auto del = client->Delete("/metrics");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 405);
  EXPECT_EQ(calls.load(), 0);
  // A big body is refused without the server reading (or keeping) it.
  auto big = client->Post("/metrics", std::string(1 << 20, 'x'), "text/plain");
  if (big) {
    EXPECT_GE(big->status, 400);  // or the connection closed while the client was still sending
  }
  EXPECT_EQ(calls.load(), 0);
  // And the server still answers.
  auto get = client->Get("/metrics");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
}

TEST(HttpEndpointTest, ACallbackThatThrowsIsA500AndTheServerGoesOn) {
  std::atomic<bool> fail = true;
  auto endpoint = StartOrDie(
      [&]() -> std::string {
        if (fail) throw std::runtime_error("status unavailable");
        return "m 1\n";
      },
      nullptr);
  ASSERT_NE(endpoint, nullptr);
  auto client = ClientFor(*endpoint);
  auto res = client->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_THAT(res->body, Not(HasSubstr("status unavailable")));  // not shown to clients
  fail = false;
  auto ok = client->Get("/metrics");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST(HttpEndpointTest, ConcurrentScrapes) {
  std::atomic<int> calls = 0;
  auto endpoint = StartOrDie(
      [&] {
        ++calls;
        return PrometheusText(StoreStatus());
      },
      nullptr);
  ASSERT_NE(endpoint, nullptr);
  const std::string expected = PrometheusText(StoreStatus());
  std::atomic<int> good = 0;
  std::vector<std::thread> scrapers;
  for (int t = 0; t < 6; ++t) {
    scrapers.emplace_back([&] {
      auto client = ClientFor(*endpoint);
      for (int i = 0; i < 20; ++i) {
        auto res = client->Get("/metrics");
        if (res && res->status == 200 && res->body == expected) ++good;
      }
    });
  }
  for (std::thread& t : scrapers) t.join();
  EXPECT_EQ(good.load(), 120);
  EXPECT_EQ(calls.load(), 120);
}

TEST(HttpEndpointTest, BadAddressesAreErrorsNamingThem) {
  const std::vector<std::string> bad = {
      "127.0.0.1",               // no port
      "127.0.0.1:",              // an empty port
      "127.0.0.1:http",          // not a number
      "127.0.0.1:-1",            // nor this
      "127.0.0.1:70000",         // past 65535
      "127.0.0.1:123456",        // too long
      ":7756",                   // no host
      "",                        // nothing
      "::1:7756",                // IPv6 without brackets
      "[::1]7756",               // no ':' after the brackets
      "[::1",                    // no closing bracket
      "no-such-host.invalid:0",  // does not resolve
  };
  for (const std::string& address : bad) {
    auto endpoint = HttpEndpoint::Start(address, Text(""), nullptr, nullptr);
    ASSERT_FALSE(endpoint.ok()) << address;
    EXPECT_EQ(endpoint.status().code(), StatusCode::kInvalidArgument) << address;
    EXPECT_THAT(endpoint.status().message(), HasSubstr("'" + address + "'"));
  }
  auto no_metrics = HttpEndpoint::Start("127.0.0.1:0", nullptr, nullptr, nullptr);
  EXPECT_FALSE(no_metrics.ok());
  // Not an address of this machine: bind fails, an IOError saying so.
  auto foreign = HttpEndpoint::Start("192.0.2.1:0", Text(""), nullptr, nullptr);
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.status().code(), StatusCode::kIOError);
  EXPECT_THAT(foreign.status().message(), HasSubstr("'192.0.2.1:0'"));
}

TEST(HttpEndpointTest, Ipv6InBrackets) {
  auto endpoint = HttpEndpoint::Start("[::1]:0", Text("m 1\n"), nullptr, nullptr);
  if (!endpoint.ok()) {  // a machine (or container) without IPv6 loopback: a clear error
    EXPECT_EQ(endpoint.status().code(), StatusCode::kIOError) << endpoint.status().ToString();
    GTEST_SKIP() << "no IPv6 loopback here: " << endpoint.status().ToString();
  }
  const std::string address = (*endpoint)->address();
  EXPECT_TRUE(address.starts_with("[::1]:")) << address;
  httplib::Client client("::1", PortOf(address));
  client.set_connection_timeout(5, 0);
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->body, "m 1\n");
}

TEST(HttpEndpointTest, ABusyPortIsAnError) {
  auto first = StartOrDie(Text("first\n"), nullptr);
  ASSERT_NE(first, nullptr);
  // Another endpoint on the same port: refused, not sharing it (httplib's default SO_REUSEPORT
  // would let it).
  auto second = HttpEndpoint::Start(first->address(), Text("second\n"), nullptr, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIOError);
  EXPECT_THAT(second.status().message(), HasSubstr("'" + first->address() + "'"));
  EXPECT_THAT(second.status().message(), HasSubstr("in use"));
  auto client = ClientFor(*first);
  auto res = client->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "first\n");

  // A port some other program listens on.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string taken = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto third = HttpEndpoint::Start(taken, Text(""), nullptr, nullptr);
  close(fd);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), StatusCode::kIOError);
  EXPECT_THAT(third.status().message(), HasSubstr("'" + taken + "'"));
}

TEST(HttpEndpointTest, StopIsIdempotentAndClosesThePort) {
  auto endpoint = StartOrDie(Text("m 1\n"), nullptr);
  ASSERT_NE(endpoint, nullptr);
  const std::string address = endpoint->address();
  endpoint->Stop();
  endpoint->Stop();
  httplib::Client client("127.0.0.1", PortOf(address));
  client.set_connection_timeout(2, 0);
  EXPECT_FALSE(client.Get("/metrics"));
  // The port is free again: a new endpoint can have it (SO_REUSEADDR, despite TIME_WAIT).
  auto again = HttpEndpoint::Start(address, Text("m 2\n"), nullptr, nullptr);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto res = ClientFor(**again)->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "m 2\n");
  endpoint.reset();  // the destructor after Stop: nothing left to do
}

TEST(HttpEndpointTest, StopRightAfterStartAndFromTwoThreads) {
  for (int i = 0; i < 20; ++i) {
    auto endpoint = StartOrDie(Text("m 1\n"), nullptr);
    ASSERT_NE(endpoint, nullptr);
    std::thread other([&] { endpoint->Stop(); });
    endpoint->Stop();
    other.join();
  }
  auto endpoint = StartOrDie(Text("m 1\n"), nullptr);
  ASSERT_NE(endpoint, nullptr);
  endpoint.reset();  // the destructor stops it
}

TEST(HttpEndpointTest, StopWithAnIdleClientConnectedIsQuick) {
  auto endpoint = StartOrDie(Text("m 1\n"), nullptr);
  ASSERT_NE(endpoint, nullptr);
  // A client that connects and sends nothing holds a worker for kIdleSeconds at most.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(PortOf(endpoint->address())));
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  // Time for the accept loop to take it and hand it to a worker (Stop before that would simply
  // drop it from the backlog, testing nothing).
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto start = std::chrono::steady_clock::now();
  endpoint->Stop();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  close(fd);
  EXPECT_LT(seconds, HttpEndpoint::kIdleSeconds + 1.5);
}

}  // namespace
}  // namespace nemesyst::nodes
