// Tests of the ZMTP chaos proxy (tests/testing/zmtp_proxy.h) with real ZeroMQ sockets: a DEALER
// connects through the proxy to a ROUTER, both on loopback ports chosen at run time. Every wait is
// bounded, so a broken proxy fails the test instead of hanging it.
#include "tests/testing/zmtp_proxy.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

namespace nemesyst::testing {
namespace {

using namespace std::chrono_literals;
using Frames = std::vector<std::string>;
using Clock = std::chrono::steady_clock;

void PrintLog(const std::string& line) { std::fprintf(stderr, "[zmtp_proxy] %s\n", line.c_str()); }

bool Send(zmq::socket_t& socket, const Frames& frames) {
  std::vector<zmq::const_buffer> buffers;
  for (const std::string& f : frames) buffers.push_back(zmq::buffer(f));
  return zmq::send_multipart(socket, buffers).has_value();
}

// One whole message within `timeout_ms`, or nullopt.
std::optional<Frames> Recv(zmq::socket_t& socket, int timeout_ms) {
  socket.set(zmq::sockopt::rcvtimeo, timeout_ms);
  std::vector<zmq::message_t> parts;
  if (!zmq::recv_multipart(socket, std::back_inserter(parts))) return std::nullopt;
  Frames frames;
  for (const zmq::message_t& p : parts) frames.push_back(p.to_string());
  return frames;
}

std::string Payload(int i, size_t size) {
  std::string s(size, '\0');
  for (size_t k = 0; k < size; ++k) s[k] = static_cast<char>((i * 131 + k * 7) & 0xFF);
  return s;
}

// How many bits differ between a received message and the one sent, frames [from, end); -1 when
// the frame count or a frame's size differs.
int DifferingBits(const Frames& got, const Frames& sent, size_t from = 0) {
  if (got.size() != sent.size()) return -1;
  int bits = 0;
  for (size_t f = from; f < sent.size(); ++f) {
    if (got[f].size() != sent[f].size()) return -1;
    for (size_t k = 0; k < sent[f].size(); ++k) {
      bits += std::popcount(static_cast<unsigned>(static_cast<uint8_t>(got[f][k] ^ sent[f][k])));
    }
  }
  return bits;
}

int64_t MillisSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds timeout = 3s) {
  const auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// ROUTER (upstream) <- proxy <- DEALER (client). Faults are set before the DEALER connects, so
// the first connection pair sees them from its first message.
struct Rig {
  explicit Rig(uint64_t seed, ZmtpFaults to_upstream = {}, ZmtpFaults to_client = {},
               int heartbeat_ms = 0) {
    for (zmq::socket_t* s : {&router, &dealer}) {
      s->set(zmq::sockopt::linger, 0);
      s->set(zmq::sockopt::sndhwm, 0);  // unbounded queues: sending never blocks in a test
      s->set(zmq::sockopt::rcvhwm, 0);
    }
    router.bind("tcp://127.0.0.1:*");
    const std::string bound = router.get(zmq::sockopt::last_endpoint);
    const int port = std::stoi(bound.substr(bound.rfind(':') + 1));
    proxy = std::make_unique<ZmtpChaosProxy>(port, seed, &PrintLog);
    EXPECT_GT(proxy->port(), 0);
    proxy->SetFaults(to_upstream, to_client);
    dealer.set(zmq::sockopt::reconnect_ivl, 50);
    if (heartbeat_ms > 0) {
      dealer.set(zmq::sockopt::heartbeat_ivl, heartbeat_ms);
      dealer.set(zmq::sockopt::heartbeat_timeout, 5 * heartbeat_ms);
    }
    dealer.connect(proxy->endpoint());
  }
  // A message at the ROUTER without its routing id (remembered for SendDown).
  std::optional<Frames> RecvUp(int timeout_ms) {
    std::optional<Frames> m = Recv(router, timeout_ms);
    if (!m || m->empty()) return std::nullopt;
    id = m->front();
    m->erase(m->begin());
    return m;
  }
  bool SendDown(Frames frames) {
    frames.insert(frames.begin(), id);
    return Send(router, frames);
  }
  // One message up, so the connection exists and the ROUTER knows the DEALER's id.
  void Handshake() {
    ASSERT_TRUE(Send(dealer, {"hello"}));
    const std::optional<Frames> m = RecvUp(3000);
    ASSERT_TRUE(m.has_value());
    ASSERT_EQ(*m, Frames{"hello"});
  }
  ZmtpChaosProxy::Counters counters() const { return proxy->counters(); }

  zmq::context_t ctx;
  zmq::socket_t router{ctx, zmq::socket_type::router};
  zmq::socket_t dealer{ctx, zmq::socket_type::dealer};
  std::unique_ptr<ZmtpChaosProxy> proxy;  // destroyed before the sockets
  std::string id;
};

TEST(ZmtpChaosProxyTest, NoFaultsDeliversMultipartIntactAndInOrderBothWays) {
  Rig rig(1);
  constexpr int kN = 1000;
  auto make = [](int i) {
    // Empty frames, 1-byte sizes and 8-byte (LONG, > 255) sizes, 2 or 3 frames per message.
    const size_t size = i % 50 == 0 ? 70000 : (i % 7 == 0 ? 0 : static_cast<size_t>(i % 300));
    Frames f{"m" + std::to_string(i), Payload(i, size)};
    if (i % 3 == 0) f.push_back("tail");
    return f;
  };
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(Send(rig.dealer, make(i)));
  for (int i = 0; i < kN; ++i) {
    const std::optional<Frames> m = rig.RecvUp(5000);
    ASSERT_TRUE(m.has_value()) << "message " << i;
    ASSERT_EQ(*m, make(i)) << "message " << i;
  }
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(rig.SendDown(make(i)));
  for (int i = 0; i < kN; ++i) {
    const std::optional<Frames> m = Recv(rig.dealer, 5000);
    ASSERT_TRUE(m.has_value()) << "message " << i;
    ASSERT_EQ(*m, make(i)) << "message " << i;
  }
  ASSERT_TRUE(WaitFor([&] { return rig.counters().to_client.forwarded == kN; }));
  const auto c = rig.counters();
  EXPECT_EQ(c.to_upstream.forwarded, uint64_t{kN});
  EXPECT_EQ(c.to_upstream.dropped + c.to_upstream.duplicated + c.to_upstream.flipped, 0u);
  EXPECT_GE(c.to_upstream.commands, 1u);  // READY
  EXPECT_GE(c.to_client.commands, 1u);
  EXPECT_EQ(c.connections_accepted, 1u);
  EXPECT_EQ(c.parse_errors, 0u);
}

TEST(ZmtpChaosProxyTest, DropAllKeepsConnectionAliveThroughHeartbeats) {
  // Drop everything both ways: if PING/PONG were dropped too, the DEALER's 500 ms heartbeat
  // timeout would kill the connection and it would reconnect (a second accepted connection).
  Rig rig(2, {.drop = 1.0}, {.drop = 1.0}, /*heartbeat_ms=*/100);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Send(rig.dealer, {"lost" + std::to_string(i)}));
  EXPECT_FALSE(rig.RecvUp(1000).has_value());
  EXPECT_TRUE(WaitFor([&] { return rig.counters().to_upstream.dropped == 20; }));
  const auto c = rig.counters();
  EXPECT_EQ(c.to_upstream.dropped, 20u);
  EXPECT_EQ(c.to_upstream.forwarded, 0u);
  EXPECT_GE(c.to_upstream.commands, 4u);  // READY + PINGs
  EXPECT_GE(c.to_client.commands, 4u);    // READY + PONGs
  EXPECT_EQ(c.connections_accepted, 1u);

  rig.proxy->SetFaults({}, {});
  ASSERT_TRUE(Send(rig.dealer, {"alive"}));
  const std::optional<Frames> m = rig.RecvUp(3000);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(*m, Frames{"alive"});
  EXPECT_EQ(rig.counters().connections_accepted, 1u);  // the same connection
}

TEST(ZmtpChaosProxyTest, DuplicateDeliversAdjacentCopies) {
  Rig rig(3, {.duplicate = 0.3});
  constexpr int kN = 200;
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(Send(rig.dealer, {std::to_string(i)}));
  ASSERT_TRUE(WaitFor([&] { return rig.counters().to_upstream.forwarded == kN; }));
  const uint64_t dups = rig.counters().to_upstream.duplicated;
  EXPECT_GT(dups, 0u);
  std::vector<int> got;
  for (uint64_t k = 0; k < kN + dups; ++k) {
    const std::optional<Frames> m = rig.RecvUp(3000);
    ASSERT_TRUE(m.has_value()) << k;
    got.push_back(std::stoi(m->at(0)));
  }
  EXPECT_FALSE(rig.RecvUp(100).has_value());
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));  // copies are back to back
  std::map<int, int> count;
  for (int i : got) ++count[i];
  EXPECT_EQ(count.size(), size_t{kN});
  for (const auto& [i, n] : count) EXPECT_TRUE(n == 1 || n == 2) << i << " arrived " << n;
}

TEST(ZmtpChaosProxyTest, ReorderSwapsNeighboursAndLosesNothing) {
  Rig rig(4, {.reorder = 0.3});
  constexpr int kN = 200;
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(Send(rig.dealer, {std::to_string(i)}));
  std::vector<int> got;
  for (int k = 0; k < kN; ++k) {
    const std::optional<Frames> m = rig.RecvUp(3000);
    ASSERT_TRUE(m.has_value()) << k;
    got.push_back(std::stoi(m->at(0)));
  }
  EXPECT_FALSE(rig.RecvUp(100).has_value());
  std::vector<int> sorted = got, expected(kN);
  std::sort(sorted.begin(), sorted.end());
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(sorted, expected);  // same multiset
  EXPECT_NE(got, expected);     // different order
  // A held message goes out right after the next one: it moves by one place at most.
  for (int k = 0; k < kN; ++k) EXPECT_LE(std::abs(got[k] - k), 1) << k;
  EXPECT_TRUE(WaitFor([&] { return rig.counters().to_upstream.reordered > 0; }));
}

TEST(ZmtpChaosProxyTest, FlipChangesOneBitOfSomeBodies) {
  Rig rig(5, {}, {.flip = 0.5});
  ASSERT_NO_FATAL_FAILURE(rig.Handshake());
  constexpr int kN = 200;
  auto make = [](int i) { return Frames{"", Payload(i, 64), Payload(i + 1, 16)}; };
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(rig.SendDown(make(i)));
  int differing = 0;
  for (int i = 0; i < kN; ++i) {
    const std::optional<Frames> m = Recv(rig.dealer, 3000);
    ASSERT_TRUE(m.has_value()) << i;
    const int bits = DifferingBits(*m, make(i));
    ASSERT_GE(bits, 0) << i;
    EXPECT_LE(bits, 1) << i;
    differing += bits;
  }
  EXPECT_GT(differing, 0);
  EXPECT_LT(differing, kN);
  // counters() is published after the write, so it may trail the receiver briefly.
  EXPECT_TRUE(WaitFor([&] { return rig.counters().to_client.flipped == uint64_t(differing); }));
}

TEST(ZmtpChaosProxyTest, PayloadOnlyFlipsNeverTouchTheFirstFrame) {
  Rig rig(8, {}, {.flip = 1.0, .flip_payload_only = true});
  ASSERT_NO_FATAL_FAILURE(rig.Handshake());
  constexpr int kN = 100;
  auto make = [](int i) { return Frames{Payload(i, 24), Payload(i + 1, 64), Payload(i + 2, 8)}; };
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(rig.SendDown(make(i)));
  ASSERT_TRUE(rig.SendDown({"header only"}));
  for (int i = 0; i < kN; ++i) {
    const std::optional<Frames> m = Recv(rig.dealer, 3000);
    ASSERT_TRUE(m.has_value()) << i;
    const Frames sent = make(i);
    ASSERT_FALSE(m->empty()) << i;
    EXPECT_EQ(m->front(), sent.front()) << i;
    EXPECT_EQ(DifferingBits(*m, sent, 1), 1) << i;
  }
  const std::optional<Frames> single = Recv(rig.dealer, 3000);
  ASSERT_TRUE(single.has_value());
  EXPECT_EQ(*single, Frames{"header only"}) << "a message without payloads is left alone";
  EXPECT_TRUE(WaitFor([&] { return rig.counters().to_client.flipped == uint64_t(kN); }));
}

TEST(ZmtpChaosProxyTest, BlackholeHoldsEverythingAndLosesNothing) {
  Rig rig(6);
  ASSERT_NO_FATAL_FAILURE(rig.Handshake());
  rig.proxy->SetBlackhole(true);
  const auto before = rig.counters();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(Send(rig.dealer, {"up" + std::to_string(i)}));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(rig.SendDown({"down" + std::to_string(i)}));
  EXPECT_FALSE(rig.RecvUp(300).has_value());
  EXPECT_FALSE(Recv(rig.dealer, 1).has_value());
  EXPECT_EQ(rig.counters().to_upstream.forwarded, before.to_upstream.forwarded);

  rig.proxy->SetBlackhole(false);
  for (int i = 0; i < 100; ++i) {
    const std::optional<Frames> m = rig.RecvUp(3000);
    ASSERT_TRUE(m.has_value()) << i;
    EXPECT_EQ(*m, Frames{"up" + std::to_string(i)});
  }
  for (int i = 0; i < 10; ++i) {
    const std::optional<Frames> m = Recv(rig.dealer, 3000);
    ASSERT_TRUE(m.has_value()) << i;
    EXPECT_EQ(*m, Frames{"down" + std::to_string(i)});
  }
  EXPECT_EQ(rig.counters().connections_accepted, 1u);
}

TEST(ZmtpChaosProxyTest, PartitionClosesAndTheDealerReconnectsAfterwards) {
  Rig rig(7);
  ASSERT_NO_FATAL_FAILURE(rig.Handshake());
  const auto start = Clock::now();
  rig.proxy->Partition(400ms);
  EXPECT_EQ(rig.counters().connections_open, 0u);  // closed before Partition() returned
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Send(rig.dealer, {"during" + std::to_string(i)}));
  ASSERT_TRUE(WaitFor([&] { return rig.counters().connections_accepted >= 2; }));
  EXPECT_GE(MillisSince(start), 400);                 // not reconnected during the partition
  EXPECT_GE(rig.counters().connections_refused, 1u);  // the DEALER retried every 50 ms

  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Send(rig.dealer, {"after" + std::to_string(i)}));
  // "during" messages may be lost or arrive late; every "after" one arrives, in order.
  std::vector<std::string> after;
  for (int k = 0; k < 20 && after.size() < 5; ++k) {
    const std::optional<Frames> m = rig.RecvUp(3000);
    ASSERT_TRUE(m.has_value());
    if (m->at(0).starts_with("after")) after.push_back(m->at(0));
  }
  EXPECT_EQ(after, (std::vector<std::string>{"after0", "after1", "after2", "after3", "after4"}));
}

TEST(ZmtpChaosProxyTest, PartitionOnLastsUntilOff) {
  Rig rig(8);
  ASSERT_NO_FATAL_FAILURE(rig.Handshake());
  rig.proxy->PartitionOn();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(rig.counters().connections_accepted, 1u);
  EXPECT_GE(rig.counters().connections_refused, 1u);
  rig.proxy->PartitionOff();
  ASSERT_TRUE(WaitFor([&] { return rig.counters().connections_accepted >= 2; }));
  ASSERT_TRUE(Send(rig.dealer, {"back"}));
  const std::optional<Frames> m = rig.RecvUp(3000);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(*m, Frames{"back"});
}

// Messages that got through with drop = 0.5, by index.
std::vector<int> DropPattern(uint64_t seed) {
  Rig rig(seed, {.drop = 0.5});
  constexpr uint64_t kN = 200;
  for (uint64_t i = 0; i < kN; ++i) EXPECT_TRUE(Send(rig.dealer, {std::to_string(i)}));
  EXPECT_TRUE(WaitFor([&] {
    const auto c = rig.counters();
    return c.to_upstream.forwarded + c.to_upstream.dropped == kN;
  }));
  std::vector<int> got;
  const uint64_t forwarded = rig.counters().to_upstream.forwarded;
  for (uint64_t k = 0; k < forwarded; ++k) {
    const std::optional<Frames> m = rig.RecvUp(3000);
    if (!m) break;
    got.push_back(std::stoi(m->at(0)));
  }
  EXPECT_FALSE(rig.RecvUp(50).has_value());
  return got;
}

TEST(ZmtpChaosProxyTest, SameSeedGivesSameDropPattern) {
  const std::vector<int> a = DropPattern(42), b = DropPattern(42), c = DropPattern(43);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_GT(a.size(), 50u);
  EXPECT_LT(a.size(), 150u);
}

TEST(ZmtpChaosProxyTest, DelayHoldsMessagesAndKeepsOrder) {
  Rig rig(9, {.delay_ms = 100, .delay_jitter_ms = 50});
  const auto start = Clock::now();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(Send(rig.dealer, {std::to_string(i)}));
  for (int i = 0; i < 50; ++i) {
    const std::optional<Frames> m = rig.RecvUp(3000);
    ASSERT_TRUE(m.has_value()) << i;
    EXPECT_EQ(m->at(0), std::to_string(i));
    if (i == 0) {
      EXPECT_GE(MillisSince(start), 100);
    }
  }
}

// A raw TCP client of the proxy sends `bytes`. True when the proxy closed it within 2 s.
bool SendAndExpectClose(int port, const std::string& bytes) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool closed = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ADD_FAILURE() << "cannot connect to the proxy";
  } else if (send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) < 0) {
    closed = true;  // reset by the proxy already
  } else {
    const auto deadline = Clock::now() + 2s;
    char buf[256];
    pollfd p{fd, POLLIN, 0};
    while (!closed && Clock::now() < deadline && poll(&p, 1, 100) >= 0) {
      if (p.revents != 0) closed = recv(fd, buf, sizeof buf, 0) <= 0;  // EOF or reset
    }
  }
  close(fd);
  return closed;
}

TEST(ZmtpChaosProxyTest, UpstreamDownClosesTheClient) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);  // a loopback port nobody listens on
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  ZmtpChaosProxy proxy(ntohs(addr.sin_port), 11, &PrintLog);
  EXPECT_TRUE(SendAndExpectClose(proxy.port(), std::string(10, 'x')));
  EXPECT_TRUE(WaitFor([&] { return proxy.counters().upstream_failures == 1; }));
  EXPECT_EQ(proxy.counters().connections_open, 0u);
}

TEST(ZmtpChaosProxyTest, ParseErrorsCloseThePairAndStopIsPrompt) {
  Rig rig(10);
  ASSERT_NO_FATAL_FAILURE(rig.Handshake());
  EXPECT_TRUE(SendAndExpectClose(rig.proxy->port(), std::string(16, 'x')));  // not a greeting
  std::string greeting = std::string("\xFF") + std::string(8, '\0') + "\x7F\x03\x01" + "NULL";
  greeting.resize(64, '\0');
  const std::string huge_frame("\x02\x00\x00\x01\x00\x00\x00\x00\x00", 9);  // 2^40 bytes
  EXPECT_TRUE(SendAndExpectClose(rig.proxy->port(), greeting + huge_frame));
  ASSERT_TRUE(WaitFor([&] { return rig.counters().parse_errors == 2; }));

  ASSERT_TRUE(Send(rig.dealer, {"still-working"}));  // the other pair is unaffected
  const std::optional<Frames> m = rig.RecvUp(3000);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(*m, Frames{"still-working"});

  const auto start = Clock::now();
  rig.proxy->Stop();
  EXPECT_LT(MillisSince(start), 500);
  EXPECT_EQ(rig.counters().connections_open, 0u);
  rig.proxy->Stop();  // idempotent
}

}  // namespace
}  // namespace nemesyst::testing
