#include "tests/testing/zmtp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace nemesyst::testing {
namespace {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using std::chrono::milliseconds;

constexpr size_t kGreetingSize = 64;
constexpr uint8_t kMore = 1, kLong = 2, kCommand = 4;
// Output backlog per direction beyond which the proxy stops reading that direction's source, so a
// slow (or delayed) receiver pushes back on the sender instead of growing memory without bound.
constexpr size_t kMaxBacklog = size_t{8} << 20;
constexpr milliseconds kMaxPollWait{100};  // the loop re-checks its state at least this often
constexpr int kReadsPerWakeup = 16;        // fairness between connections

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
// Uniform in [0, 1) from the top 53 bits: identical on every platform, unlike the std
// distributions, so a seed reproduces the same faults everywhere.
double Unit(uint64_t r) { return static_cast<double>(r >> 11) * 0x1.0p-53; }

// close() with SO_LINGER 0 sends a RST: the peer sees an abrupt failure, as on a real partition.
void CloseAbruptly(int fd) {
  linger lg{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(fd);
}

void SetNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

struct Item {
  std::string bytes;
  TimePoint release;  // not sent before this; items leave a queue strictly in FIFO order
};

// One direction of a connection pair: bytes read from `src` are parsed, faulted and queued for
// `dst`. Owned by the proxy thread.
struct Pipe {
  int src = -1, dst = -1;
  std::string in;        // read but not yet parsed (at most one incomplete frame after Parse)
  std::string greeting;  // the first 64 bytes, kept for logging
  std::string msg;       // the data frames (headers included) of the message being assembled
  std::vector<std::pair<size_t, size_t>> bodies;  // (offset in msg, size) of each frame body
  std::mt19937_64 rng;
  std::optional<Item> held;  // reordered message waiting for the next one
  TimePoint held_deadline;
  std::deque<Item> queue;
  size_t queued_bytes = 0;
  std::string out;  // released bytes being written to dst
  size_t out_off = 0;
  bool src_eof = false, dst_shut = false;

  size_t Backlog() const {
    return queued_bytes + (out.size() - out_off) + (held ? held->bytes.size() : 0);
  }
  void Enqueue(Item item) {
    queued_bytes += item.bytes.size();
    queue.push_back(std::move(item));
  }
};

struct Conn {
  uint64_t index = 0;
  int client = -1, upstream = -1;
  bool connecting = false;  // non-blocking connect to upstream in progress
  bool dead = false;
  Pipe pipes[2];  // [0] client -> upstream, [1] upstream -> client
};

struct Snapshot {
  ZmtpFaults faults[2];
  bool blackhole = false;
  TimePoint partition_until = TimePoint::min();  // max(): until PartitionOff()
};

}  // namespace

struct ZmtpChaosProxy::Impl {
  // Fixed after construction.
  int upstream_port;
  uint64_t seed;
  Log log;
  int listen_fd = -1, wake_fd = -1, port = -1;
  std::thread thread;
  std::atomic<bool> stop{false};
  std::mutex stop_mu;  // serializes Stop()

  // Shared between the setters and the proxy thread, guarded by mu.
  mutable std::mutex mu;
  std::condition_variable cv;
  Snapshot config;
  uint64_t config_gen = 0, applied_gen = 0;
  bool running = false;
  std::thread::id thread_id;
  Counters published;

  // Proxy-thread state.
  std::vector<std::unique_ptr<Conn>> conns;
  Counters stats;
  bool was_partitioned = false;
  std::vector<char> read_buf = std::vector<char>(64 * 1024);

  void Emit(const std::string& line) {
    if (!log) return;
    try {
      log(line);
    } catch (...) {  // a throwing callback must not kill the proxy thread
    }
  }
  void Wake() {
    uint64_t one = 1;
    if (write(wake_fd, &one, sizeof one) < 0) {
    }  // EAGAIN: a wake-up is already pending
  }

  // Applies `change` under the lock, then waits until the proxy thread has taken it into account
  // (bounded; not when called from the proxy thread itself, e.g. from the log callback).
  template <typename F>
  void Update(F change) {
    std::unique_lock<std::mutex> lock(mu);
    change(config);
    const uint64_t gen = ++config_gen;
    lock.unlock();
    Wake();
    lock.lock();
    if (std::this_thread::get_id() == thread_id) return;
    cv.wait_for(lock, std::chrono::seconds(2), [&] { return applied_gen >= gen || !running; });
  }

  void Close(Conn& c, bool abrupt, const std::string& why) {
    if (c.dead) return;
    c.dead = true;
    for (int fd : {c.client, c.upstream}) abrupt ? CloseAbruptly(fd) : static_cast<void>(close(fd));
    --stats.connections_open;
    Emit("connection " + std::to_string(c.index) + " closed: " + why);
  }

  // Logs partition transitions; `now` is inside [start, end) of the partition window.
  bool Partitioned(const Snapshot& s, TimePoint now) {
    const bool on = now < s.partition_until;
    if (on != was_partitioned) Emit(on ? "partition started" : "partition ended");
    was_partitioned = on;
    return on;
  }
  // Makes the thread's counters visible to counters() and, with `gen`, releases waiting setters.
  void Publish(std::optional<uint64_t> gen) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (gen) applied_gen = *gen;
      published = stats;
    }
    if (gen) cv.notify_all();
  }

  void Run();
  void Loop();
  void Accept(bool partitioned);
  void ReadSide(Conn& c, int side, short revents, const Snapshot& s, TimePoint now);
  bool Parse(Conn& c, int dir, const ZmtpFaults& f, TimePoint now, std::string* error);
  void CompleteMessage(Pipe& p, DirectionCounters& st, const ZmtpFaults& f, TimePoint now);
  void Pump(Conn& c, TimePoint now);
};

void ZmtpChaosProxy::Impl::Run() {
  {
    std::lock_guard<std::mutex> lock(mu);
    thread_id = std::this_thread::get_id();
  }
  try {
    Loop();
  } catch (const std::exception& e) {
    Emit(std::string("proxy thread failed: ") + e.what());
  } catch (...) {
    Emit("proxy thread failed");
  }
  for (auto& c : conns) Close(*c, /*abrupt=*/true, "proxy stopped");
  conns.clear();
  std::lock_guard<std::mutex> lock(mu);
  published = stats;
  running = false;  // releases setters still waiting
  cv.notify_all();
}

void ZmtpChaosProxy::Impl::Loop() {
  std::vector<pollfd> fds;
  std::vector<std::pair<Conn*, int>> slots;  // fds[i + 2] belongs to (conn, side 0 client/1 up)
  while (!stop.load()) {
    Snapshot s;
    uint64_t gen;
    {
      std::lock_guard<std::mutex> lock(mu);
      s = config;
      gen = config_gen;
    }
    TimePoint now = Clock::now();
    if (Partitioned(s, now)) {
      for (auto& c : conns) Close(*c, /*abrupt=*/true, "partition");
    }
    std::erase_if(conns, [](const auto& c) { return c->dead; });
    Publish(gen);  // the setter that asked for a partition returns after the closes

    fds.assign({{wake_fd, POLLIN, 0}, {listen_fd, POLLIN, 0}});
    slots.clear();
    TimePoint wake_at = now + kMaxPollWait;
    for (auto& c : conns) {
      if (s.blackhole) break;  // neither read nor write: back-pressure builds up in TCP
      if (c->connecting) {
        fds.push_back({c->upstream, POLLOUT, 0});
        slots.emplace_back(c.get(), 1);
        continue;
      }
      for (int side = 0; side < 2; ++side) {
        const Pipe& reading = c->pipes[side];  // side 0 (client fd) is the source of pipe 0
        const Pipe& writing = c->pipes[1 - side];
        short events = 0;
        if (!reading.src_eof && reading.Backlog() < kMaxBacklog) events |= POLLIN;
        if (writing.out_off < writing.out.size()) events |= POLLOUT;
        fds.push_back({side == 0 ? c->client : c->upstream, events, 0});
        slots.emplace_back(c.get(), side);
        if (!reading.queue.empty()) wake_at = std::min(wake_at, reading.queue.front().release);
        if (reading.held) wake_at = std::min(wake_at, reading.held_deadline);
      }
    }
    int timeout_ms = 0;
    if (wake_at > now) {
      timeout_ms = static_cast<int>(
          std::chrono::duration_cast<milliseconds>(wake_at - now).count() + 1);  // round up
    }
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
      throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    }
    if (fds[0].revents != 0) {
      uint64_t count;
      if (read(wake_fd, &count, sizeof count) < 0) {
      }  // EAGAIN: nothing pending
    }
    now = Clock::now();
    for (size_t i = 0; i < slots.size(); ++i) {
      auto [c, side] = slots[i];
      const short revents = fds[i + 2].revents;
      if (c->dead || revents == 0) continue;
      if (!c->connecting) {
        ReadSide(*c, side, revents, s, now);
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c->upstream, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        ++stats.upstream_failures;
        Close(*c, /*abrupt=*/true, std::string("upstream connect: ") + std::strerror(err));
      } else {
        c->connecting = false;
      }
    }
    if (fds[1].revents != 0) Accept(Partitioned(s, now));
    if (!s.blackhole) {
      for (auto& c : conns) Pump(*c, now);
    }
    std::erase_if(conns, [](const auto& c) { return c->dead; });
    Publish(std::nullopt);
  }
}

void ZmtpChaosProxy::Impl::Accept(bool partitioned) {
  while (true) {
    const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN, or out of descriptors: retried on the next readiness
    }
    if (partitioned) {
      CloseAbruptly(fd);
      ++stats.connections_refused;
      Emit("connection refused (partition)");
      continue;
    }
    SetNoDelay(fd);
    const int up = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = -1;
    if (up >= 0) {
      SetNoDelay(up);
      const sockaddr_in addr = Loopback(upstream_port);
      rc = connect(up, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    }
    if (up < 0 || (rc != 0 && errno != EINPROGRESS)) {
      const std::string why = std::strerror(errno);
      ++stats.upstream_failures;
      CloseAbruptly(fd);
      if (up >= 0) close(up);
      Emit("upstream connect failed: " + why);
      continue;
    }
    auto c = std::make_unique<Conn>();
    c->index = stats.connections_accepted++;
    c->client = fd;
    c->upstream = up;
    c->connecting = rc != 0;
    for (int dir = 0; dir < 2; ++dir) {
      c->pipes[dir].src = dir == 0 ? fd : up;
      c->pipes[dir].dst = dir == 0 ? up : fd;
      // Pair k, direction d has its own stream: the faults do not depend on how the two
      // directions' traffic interleaves in time.
      c->pipes[dir].rng.seed(SplitMix64(seed ^ SplitMix64(c->index * 2 + dir)));
    }
    ++stats.connections_open;
    Emit("connection " + std::to_string(c->index) + " accepted");
    conns.push_back(std::move(c));
  }
}

// Reads what the socket of `side` has (it is the source of pipe `side`) and parses it.
void ZmtpChaosProxy::Impl::ReadSide(Conn& c, int side, short revents, const Snapshot& s,
                                    TimePoint now) {
  Pipe& p = c.pipes[side];
  bool progress = false;
  if ((revents & (POLLIN | POLLHUP | POLLERR)) && !p.src_eof) {
    for (int i = 0; i < kReadsPerWakeup && p.Backlog() < kMaxBacklog; ++i) {
      const ssize_t n = recv(p.src, read_buf.data(), read_buf.size(), 0);
      if (n > 0) {
        progress = true;
        p.in.append(read_buf.data(), static_cast<size_t>(n));
        if (static_cast<size_t>(n) < read_buf.size()) break;
      } else if (n == 0) {
        progress = p.src_eof = true;
        break;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        break;
      } else {
        Close(c, /*abrupt=*/true, std::string("read: ") + std::strerror(errno));
        return;
      }
    }
    std::string error;
    if (!Parse(c, side, s.faults[side], now, &error)) {
      ++stats.parse_errors;
      Close(c, /*abrupt=*/true, "parse error: " + error);
      return;
    }
  }
  // A hang-up we cannot act on (nothing left to read) would make poll spin: give up the pair.
  if ((revents & (POLLHUP | POLLERR)) && !progress) Close(c, /*abrupt=*/true, "hang-up");
}

bool ZmtpChaosProxy::Impl::Parse(Conn& c, int dir, const ZmtpFaults& f, TimePoint now,
                                 std::string* error) {
  Pipe& p = c.pipes[dir];
  DirectionCounters& st = dir == 0 ? stats.to_upstream : stats.to_client;
  const auto* d = reinterpret_cast<const uint8_t*>(p.in.data());
  const size_t n = p.in.size();
  size_t pos = 0;
  while (pos < n) {
    if (p.greeting.size() < kGreetingSize) {
      // Pass greeting bytes on as they come: libzmq sends its greeting in stages and waits for
      // the peer's signature in between, so waiting for all 64 bytes would deadlock.
      const size_t take = std::min(n - pos, kGreetingSize - p.greeting.size());
      for (size_t i = 0; i < take; ++i) {
        const size_t at = p.greeting.size() + i;
        const uint8_t b = d[pos + i];
        if ((at == 0 && b != 0xFF) || (at == 9 && (b & 1) == 0) || (at == 10 && b < 3)) {
          *error = "not a ZMTP 3.x greeting (byte " + std::to_string(at) + " = " +
                   std::to_string(b) + ")";
          return false;
        }
      }
      p.greeting.append(p.in, pos, take);
      p.Enqueue({p.in.substr(pos, take), now});
      pos += take;
      if (p.greeting.size() == kGreetingSize) {
        std::string mechanism = p.greeting.substr(12, 20);  // NUL-padded
        mechanism.resize(strnlen(mechanism.c_str(), mechanism.size()));
        Emit("connection " + std::to_string(c.index) + (dir == 0 ? " client" : " upstream") +
             " greeting: ZMTP " + std::to_string(static_cast<uint8_t>(p.greeting[10])) + "." +
             std::to_string(static_cast<uint8_t>(p.greeting[11])) + " " + mechanism);
      }
      continue;
    }
    if (n - pos < 2) break;
    const uint8_t flags = d[pos];
    const size_t header = (flags & kLong) ? 9 : 2;
    if (n - pos < header) break;
    uint64_t size = d[pos + 1];
    if (flags & kLong) {
      size = 0;
      for (size_t i = 1; i < 9; ++i) size = (size << 8) | d[pos + i];
    }
    if (size > kMaxFrameSize || p.msg.size() + size > kMaxFrameSize) {
      *error = "frame of " + std::to_string(size) + " bytes";
      return false;
    }
    if (n - pos - header < size) break;
    const std::string_view frame(p.in.data() + pos, header + size);
    if (flags & kCommand) {
      p.Enqueue({std::string(frame), now});  // commands are never faulted
      ++st.commands;
    } else {
      p.bodies.emplace_back(p.msg.size() + header, size);
      p.msg.append(frame);
      if ((flags & kMore) == 0) CompleteMessage(p, st, f, now);
    }
    pos += header + size;
  }
  p.in.erase(0, pos);
  return true;
}

void ZmtpChaosProxy::Impl::CompleteMessage(Pipe& p, DirectionCounters& st, const ZmtpFaults& f,
                                           TimePoint now) {
  // Always the same 7 draws per message, whatever the settings (see ZmtpFaults).
  uint64_t r[7];
  for (uint64_t& x : r) x = p.rng();
  std::string msg = std::move(p.msg);
  const auto bodies = std::move(p.bodies);
  p.msg.clear();
  p.bodies.clear();
  if (Unit(r[0]) < f.drop) {
    ++st.dropped;
    return;
  }
  ++st.forwarded;
  if (Unit(r[1]) < f.flip) {
    std::vector<std::pair<size_t, size_t>> nonempty;
    for (size_t i = f.flip_payload_only ? 1 : 0; i < bodies.size(); ++i) {
      if (bodies[i].second > 0) nonempty.push_back(bodies[i]);
    }
    if (!nonempty.empty()) {
      const auto [offset, size] = nonempty[r[2] % nonempty.size()];
      const uint64_t bit = r[3] % (size * 8);
      msg[offset + bit / 8] = static_cast<char>(msg[offset + bit / 8] ^ (1 << (bit % 8)));
      ++st.flipped;
    }
  }
  if (Unit(r[4]) < f.duplicate) {
    const std::string copy = msg;
    msg += copy;
    ++st.duplicated;
  }
  const int jitter = std::max(0, f.delay_jitter_ms);
  const TimePoint release = now + milliseconds(std::max(0, f.delay_ms)) +
                            milliseconds(jitter > 0 ? r[5] % (jitter + 1) : 0);
  Item item{std::move(msg), release};
  if (p.held) {  // this message overtakes the held one
    p.Enqueue(std::move(item));
    p.Enqueue(std::move(*p.held));
    p.held.reset();
    ++st.reordered;
  } else if (Unit(r[6]) < f.reorder) {
    p.held = std::move(item);
    p.held_deadline = now + kReorderFlush;
  } else {
    p.Enqueue(std::move(item));
  }
}

// Releases due items and writes them; propagates end-of-stream once a direction is drained.
void ZmtpChaosProxy::Impl::Pump(Conn& c, TimePoint now) {
  if (c.dead || c.connecting) return;
  for (Pipe& p : c.pipes) {
    if (p.held && (now >= p.held_deadline || p.src_eof)) {
      p.Enqueue(std::move(*p.held));
      p.held.reset();
    }
    while (!p.queue.empty() && p.queue.front().release <= now) {
      p.queued_bytes -= p.queue.front().bytes.size();
      p.out += p.queue.front().bytes;
      p.queue.pop_front();
    }
    while (p.out_off < p.out.size()) {
      const ssize_t n =
          send(p.dst, p.out.data() + p.out_off, p.out.size() - p.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        p.out_off += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        break;  // the rest on the next round
      } else {
        Close(c, /*abrupt=*/true, std::string("write: ") + std::strerror(errno));
        return;
      }
    }
    if (p.out_off == p.out.size() || p.out_off > (size_t{1} << 20)) {  // compact
      p.out.erase(0, p.out_off);
      p.out_off = 0;
    }
    if (p.src_eof && !p.dst_shut && !p.held && p.queue.empty() && p.out.empty()) {
      shutdown(p.dst, SHUT_WR);  // a partial frame left in `in` is discarded
      p.dst_shut = true;
    }
  }
  if (c.pipes[0].dst_shut && c.pipes[1].dst_shut) Close(c, /*abrupt=*/false, "closed by peers");
}

ZmtpChaosProxy::ZmtpChaosProxy(int upstream_port, uint64_t seed, Log log)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.upstream_port = upstream_port;
  m.seed = seed;
  m.log = std::move(log);
  m.Emit("ZmtpChaosProxy seed=" + std::to_string(seed) +
         " upstream=127.0.0.1:" + std::to_string(upstream_port));
  m.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  m.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof addr;
  if (m.wake_fd < 0 || m.listen_fd < 0 ||
      bind(m.listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(m.listen_fd, 128) != 0 ||
      getsockname(m.listen_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    m.Emit(std::string("ZmtpChaosProxy cannot listen: ") + std::strerror(errno));
    return;
  }
  m.port = ntohs(addr.sin_port);
  m.Emit("ZmtpChaosProxy listening on " + endpoint());
  m.running = true;
  m.thread = std::thread([&m] { m.Run(); });
}

ZmtpChaosProxy::~ZmtpChaosProxy() {
  Stop();
  if (impl_->wake_fd >= 0) close(impl_->wake_fd);
}

void ZmtpChaosProxy::Stop() {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.stop_mu);
  if (m.thread.joinable()) {
    m.stop = true;
    m.Wake();
    m.thread.join();
  }
  if (m.listen_fd >= 0) close(m.listen_fd);
  m.listen_fd = -1;
}

int ZmtpChaosProxy::port() const { return impl_->port; }
std::string ZmtpChaosProxy::endpoint() const {
  return "tcp://127.0.0.1:" + std::to_string(impl_->port);
}
uint64_t ZmtpChaosProxy::seed() const { return impl_->seed; }

void ZmtpChaosProxy::SetFaults(const ZmtpFaults& to_upstream, const ZmtpFaults& to_client) {
  impl_->Update([&](Snapshot& s) {
    s.faults[0] = to_upstream;
    s.faults[1] = to_client;
  });
}
void ZmtpChaosProxy::SetBlackhole(bool on) {
  impl_->Update([on](Snapshot& s) { s.blackhole = on; });
}
void ZmtpChaosProxy::Partition(std::chrono::milliseconds d) {
  const TimePoint until = Clock::now() + d;
  impl_->Update([until](Snapshot& s) { s.partition_until = until; });
}
void ZmtpChaosProxy::PartitionOn() {
  impl_->Update([](Snapshot& s) { s.partition_until = TimePoint::max(); });
}
void ZmtpChaosProxy::PartitionOff() {
  impl_->Update([](Snapshot& s) { s.partition_until = TimePoint::min(); });
}

ZmtpChaosProxy::Counters ZmtpChaosProxy::counters() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->published;
}

}  // namespace nemesyst::testing
