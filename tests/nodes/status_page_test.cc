// The hub's fleet status page: FleetViewFromHubStatus derives one row per store from the hub's
// status, FleetStatusPage renders it escaped — and a real browser agrees: the page is served from
// an HttpEndpoint on loopback and loaded by headless Chromium (a real process, --dump-dom), whose
// DOM must show every store row and the summary counts, with a store id carrying <script> shown
// as text and run as nothing. Skipped only when no chromium binary is installed.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "nodes/http_endpoint.h"
#include "nodes/status_page.h"
#include "tests/testing/temp_dir.h"

namespace nemesyst::nodes {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A store id that is also a script: if it reached the DOM as markup, Chromium would run it and
// the dump would show the attribute it sets.
const char* kScriptId = "store-<script>document.body.setAttribute('data-pwned','1')</script>";

FleetView ThreeStores() {
  FleetView fleet;
  fleet.hub_id = "hub-1";
  fleet.epoch = 7;
  fleet.generated_us = 1767571200000000;  // 2026-01-05T00:00:00Z
  StoreRow a;
  a.id = "store-0001";
  a.connected = true;
  a.lag_changes = 3;
  a.lag_seconds = 0.4;
  a.model = "lstm@4";
  a.serving_reference = "lstm:production";
  a.devices = 12;
  a.readiness = StoreReadiness(a);
  StoreRow b;
  b.id = "store-0002";
  b.connected = false;
  b.lag_changes = 120;
  b.lag_seconds = 95;
  b.last_error = "peer silent for 3000 ms & gone";
  b.readiness = StoreReadiness(b);
  StoreRow c;
  c.id = kScriptId;
  c.connected = true;
  c.model = "lstm@4";
  c.serving_reference = "lstm:production";
  c.devices = 3;
  c.readiness = StoreReadiness(c);
  fleet.stores = {a, b, c};
  return fleet;
}

TEST(StatusPageTest, Readiness) {
  StoreRow row;
  EXPECT_EQ(StoreReadiness(row), "disconnected");
  row.connected = true;
  EXPECT_EQ(StoreReadiness(row), "no model reported");
  row.model = "lstm@1";
  EXPECT_EQ(StoreReadiness(row), "ready");
  row.lag_seconds = 60;
  EXPECT_EQ(StoreReadiness(row), "ready");
  row.lag_seconds = 60.5;
  EXPECT_EQ(StoreReadiness(row), "lagging");
  row.connected = false;
  EXPECT_EQ(StoreReadiness(row), "disconnected");
}

TEST(StatusPageTest, FleetViewFromHubStatusTakesTheDataChannel) {
  NodeStatus hub;
  hub.node_id = "hub-1";
  hub.role = NodeRole::kHub;
  hub.epoch = 4;
  auto peer = [](std::string id, std::string channel, bool in_session, double lag_s) {
    PeerStatus p;
    p.peer = std::move(id);
    p.channel = std::move(channel);
    p.direction = p.channel == "data" ? "follower" : "leader";
    p.in_session = in_session;
    p.lag_changes = static_cast<uint64_t>(lag_s * 10);
    p.lag_seconds = lag_s;
    return p;
  };
  hub.peers = {peer("store-b", "data", true, 2), peer("store-b", "registry", true, 0),
               peer("store-a", "data", false, 0), peer("store-c", "data", true, 61),
               peer("store-a", "registry", false, 0)};
  hub.peers[2].last_error = "gone";
  const int64_t before = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const FleetView fleet = FleetViewFromHubStatus(hub);
  EXPECT_EQ(fleet.hub_id, "hub-1");
  EXPECT_EQ(fleet.epoch, 4u);
  EXPECT_GE(fleet.generated_us, before);
  ASSERT_EQ(fleet.stores.size(), 3u);  // one per store, registry channels not counted
  EXPECT_EQ(fleet.stores[0].id, "store-a");
  EXPECT_FALSE(fleet.stores[0].connected);
  EXPECT_EQ(fleet.stores[0].readiness, "disconnected");
  EXPECT_EQ(fleet.stores[0].last_error, "gone");
  EXPECT_EQ(fleet.stores[1].id, "store-b");
  EXPECT_EQ(fleet.stores[1].lag_changes, 20u);
  EXPECT_EQ(fleet.stores[1].readiness, "no model reported");  // the hub does not know
  EXPECT_EQ(fleet.stores[1].model, "");
  EXPECT_EQ(fleet.stores[2].id, "store-c");
  EXPECT_EQ(fleet.stores[2].readiness, "lagging");
}

TEST(StatusPageTest, PageIsEscapedAndSelfContained) {
  const std::string page = FleetStatusPage(ThreeStores());
  EXPECT_TRUE(page.starts_with("<!DOCTYPE html>"));
  EXPECT_THAT(page, HasSubstr(R"(<meta http-equiv="refresh" content="5">)"));
  EXPECT_THAT(page, HasSubstr(R"(<meta charset="utf-8">)"));
  EXPECT_THAT(page, Not(HasSubstr("<script")));
  EXPECT_THAT(page, HasSubstr("store-&lt;script&gt;document.body.setAttribute(&#39;data-pwned&#39;,"
                              "&#39;1&#39;)&lt;/script&gt;"));
  EXPECT_THAT(page, HasSubstr("peer silent for 3000 ms &amp; gone"));
  EXPECT_THAT(page, HasSubstr(R"(data-stores="3" data-connected="2" data-ready="2")"));
  EXPECT_THAT(page, HasSubstr("3 stores, 2 connected, 2 ready"));
  EXPECT_THAT(page, HasSubstr("2026-01-05T00:00:00Z"));
  // Nothing fetched from elsewhere: no links, sources or imports.
  EXPECT_THAT(page, Not(HasSubstr("http://")));
  EXPECT_THAT(page, Not(HasSubstr("https://")));
  EXPECT_THAT(page, Not(HasSubstr("src=")));
  EXPECT_THAT(page, Not(HasSubstr("<link")));
  EXPECT_THAT(page, Not(HasSubstr("@import")));
  EXPECT_EQ(HtmlEscape(R"(<a href="x">'&'</a>)"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");

  FleetView empty;
  empty.hub_id = "hub-1";
  const std::string none = FleetStatusPage(empty);
  EXPECT_THAT(none, HasSubstr("0 stores, 0 connected, 0 ready"));
  EXPECT_THAT(none, HasSubstr("no store has connected yet"));
}

// ---- Headless Chromium ----------------------------------------------------------------------

std::string FindChromium() {
  if (const char* path = std::getenv("PATH")) {
    std::string dirs = path;
    for (size_t start = 0; start <= dirs.size();) {
      size_t end = dirs.find(':', start);
      if (end == std::string::npos) end = dirs.size();
      const std::string candidate = dirs.substr(start, end - start) + "/chromium";
      if (end > start && access(candidate.c_str(), X_OK) == 0) return candidate;
      start = end + 1;
    }
  }
  return access("/usr/bin/chromium", X_OK) == 0 ? "/usr/bin/chromium" : "";
}

struct BrowserRun {
  int exit_code = -1;  // -1: killed by a signal (or the timeout)
  bool timed_out = false;
  std::string out, err;
  double seconds = 0;
};

// Runs argv with stdout and stderr to files under `dir` (no pipes to drain), in a process group of
// its own so that the timeout kills Chromium's helper processes with it — and so does the end of
// a normal run, for any helper left behind.
BrowserRun RunBounded(const std::vector<std::string>& argv, const testing::TempDir& dir,
                      std::chrono::seconds timeout) {
  BrowserRun run;
  const std::string out_path = dir.Sub("browser.out"), err_path = dir.Sub("browser.err");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {  // only async-signal-safe calls until execv
    setpgid(0, 0);
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int in = open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || in < 0) _exit(126);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  if (pid < 0) return run;
  setpgid(pid, pid);  // also here: whichever runs first, the group exists before a kill
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() - start > timeout) {
      run.timed_out = true;
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(-pid, SIGKILL);  // helpers still in the group (ESRCH when there are none)
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = testing::ReadFile(out_path);
  run.err = testing::ReadFile(err_path);
  return run;
}

// The DOM text without attribute values, where a serialiser may leave '<' unescaped: what is
// left holds a '<' only where an element starts.
std::string WithoutAttributeValues(const std::string& dom) {
  return std::regex_replace(dom, std::regex(R"re(="[^"]*")re"), "=\"\"");
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(StatusPageTest, HeadlessChromiumShowsEveryStoreAndRunsNoScript) {
  const std::string chromium = FindChromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "no chromium binary (on PATH or /usr/bin/chromium): install the Debian "
                    "package chromium (tools/setup.sh) to run this test";
  }
  const FleetView fleet = ThreeStores();
  const HttpEndpoint::TextFn metrics = [] { return std::string("nemesyst_up 1\n"); };
  const HttpEndpoint::TextFn page = [fleet] { return FleetStatusPage(fleet); };
  auto endpoint = HttpEndpoint::Start("127.0.0.1:0", metrics, page, /*logger=*/nullptr);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status().ToString();
  const std::string url = "http://" + (*endpoint)->address() + "/";

  testing::TempDir dir;
  const BrowserRun run =
      RunBounded({chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--no-default-browser-check", "--disable-extensions",
                  "--disable-background-networking", "--disable-sync", "--no-proxy-server",
                  "--user-data-dir=" + dir.Sub("profile"), "--dump-dom", url},
                 dir, std::chrono::seconds(60));
  ASSERT_FALSE(run.timed_out) << "chromium did not finish within 60 s; stderr:\n" << run.err;
  ASSERT_EQ(run.exit_code, 0) << "stderr:\n" << run.err;
  const std::string& dom = run.out;
  ASSERT_THAT(dom, HasSubstr("<table id=\"stores\">")) << "not our page; stderr:\n" << run.err;

  // One row per store, in order, each with its readiness.
  EXPECT_THAT(dom, HasSubstr(R"(<tr data-store="store-0001" data-readiness="ready")"));
  EXPECT_THAT(dom, HasSubstr(R"(<tr data-store="store-0002" data-readiness="disconnected")"));
  EXPECT_EQ(Count(dom, "<tr data-store="), 3u) << dom;
  EXPECT_LT(dom.find("data-store=\"store-0001\""), dom.find("data-store=\"store-0002\""));
  // The summary, as attributes and as the text a person reads.
  EXPECT_THAT(dom, HasSubstr(R"(data-stores="3" data-connected="2" data-ready="2")"));
  EXPECT_THAT(dom, HasSubstr("3 stores, 2 connected, 2 ready"));
  EXPECT_THAT(dom, HasSubstr("peer silent for 3000 ms &amp; gone"));

  // The <script> id: shown as text in its cell, never an element, never run.
  EXPECT_THAT(dom, HasSubstr("<td class=\"id\">store-&lt;script&gt;document.body.setAttribute("
                             "'data-pwned','1')&lt;/script&gt;</td>"));
  const std::string markup = WithoutAttributeValues(dom);
  EXPECT_THAT(markup, Not(HasSubstr("<script"))) << dom;
  EXPECT_THAT(dom, Not(HasSubstr("data-pwned=")));
  EXPECT_THAT(markup, Not(HasSubstr("<link")));
  RecordProperty("chromium_seconds", std::to_string(run.seconds));
}

}  // namespace
}  // namespace nemesyst::nodes
