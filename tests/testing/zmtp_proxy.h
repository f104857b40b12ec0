// A frame-aware chaos proxy for ZeroMQ TCP traffic, used by replication tests to inject network
// faults (drop, duplicate, reorder, delay, bit flips, stalls, partitions) between two real ZeroMQ
// sockets, reproducibly from a seed.
//
// Clients connect to 127.0.0.1:port(); for each accepted connection the proxy opens one to the
// upstream 127.0.0.1:<upstream_port> and forwards bytes both ways, parsing ZMTP 3.0/3.1 (RFC 23,
// RFC 37): the 64-byte greeting, then frames (flags byte: bit0 MORE, bit1 LONG = 8-byte big-endian
// size else 1-byte size, bit2 COMMAND; then the body). The greeting and COMMAND frames (READY,
// PING, PONG, ERROR, SUBSCRIBE, ...) pass through untouched and in order; data frames are grouped
// into messages (frames up to one without MORE) and the faults apply to whole messages.
//
// Mechanisms: only NULL (plaintext) can be manipulated meaningfully. With CURVE every message is
// encrypted with a per-message nonce, so drop/duplicate/reorder/flip make the peer reject the
// stream and close the connection (still allowed, as a "corrupting network" fault); use only
// delay, blackhole and partition there. Under ZMTP 3.0 (not 3.1) SUBSCRIBE/CANCEL travel as data
// messages and are therefore subject to the faults.
//
// Reproducibility: connection pair k (0-based, in accept order, refused ones not counted) and
// direction d draw from their own std::mt19937_64 seeded from (seed, k, d), and every data message
// consumes the same number of draws (commands none). So the same seed and the same sequence of
// messages per direction give the same faults, whatever the timing and interleaving of the two
// directions. Only delays and the reorder flush timeout depend on the clock.
//
// Threading: one background thread does all the I/O (poll(2) over non-blocking sockets); the
// public methods may be called from any thread. Only loopback is used.
#ifndef NEMESYST_TESTS_TESTING_ZMTP_PROXY_H_
#define NEMESYST_TESTS_TESTING_ZMTP_PROXY_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace nemesyst::testing {

// Faults for one direction. Probabilities are per message, in [0, 1]; each message draws all of
// its random numbers whatever the settings, so the pattern of one fault does not depend on the
// others (the same seed and traffic give the same drops whatever the duplicate rate). Order of
// application: drop, then flip, then duplicate (both copies carry the same flip), then delay and
// reorder. Everything leaves a direction through one FIFO queue, so a command frame queued behind
// a delayed message waits for it too (only a held, reordered message can be overtaken).
struct ZmtpFaults {
  double drop = 0;          // discard the message
  double duplicate = 0;     // forward it twice, back to back
  double reorder = 0;       // hold it and send it right after the next forwarded message
  double flip = 0;          // flip one bit in the body of one random non-empty frame
  int delay_ms = 0;         // every message waits delay_ms + uniform[0, delay_jitter_ms] ...
  int delay_jitter_ms = 0;  // ... before it is sent; order is preserved (FIFO per direction)
  // Flip only in a message's payload frames (after its first), never its header: a test that
  // needs corruption its peer detects only by a digest, not by a header checksum.
  bool flip_payload_only = false;
};

class ZmtpChaosProxy {
 public:
  using Log = std::function<void(const std::string&)>;

  // A held (reordered) message is flushed after this long when no next message comes.
  static constexpr std::chrono::milliseconds kReorderFlush{50};
  // Frames (or messages) larger than this are a parse error (closes that connection pair).
  static constexpr uint64_t kMaxFrameSize = uint64_t{64} << 20;

  // Binds 127.0.0.1:0 and starts the proxy thread. On failure port() is -1 (reported via `log`).
  // `log` (optional) is called from the constructor and the proxy thread, never concurrently;
  // the proxy prints nothing else. The seed is logged first.
  ZmtpChaosProxy(int upstream_port, uint64_t seed, Log log = nullptr);
  ~ZmtpChaosProxy();  // Stop()
  ZmtpChaosProxy(const ZmtpChaosProxy&) = delete;
  ZmtpChaosProxy& operator=(const ZmtpChaosProxy&) = delete;

  int port() const;
  std::string endpoint() const;  // "tcp://127.0.0.1:<port>"
  uint64_t seed() const;

  // All setters are thread-safe and synchronous: when they return, the proxy thread has seen the
  // new setting (messages parsed from then on use it; a partition has closed the connections;
  // a blackhole forwards nothing more). Bytes already handed to the kernel are still delivered.
  void SetFaults(const ZmtpFaults& to_upstream, const ZmtpFaults& to_client);
  // On: the proxy stops reading and writing every connection (TCP back-pressure builds up, nothing
  // is lost or delivered). Off: forwarding resumes where it stopped.
  void SetBlackhole(bool on);
  // Closes every connection abruptly (RST to both sides) and refuses new ones (accept, then RST)
  // until `d` has passed. Each call replaces the previous partition window.
  void Partition(std::chrono::milliseconds d);
  void PartitionOn();   // until PartitionOff()
  void PartitionOff();  // accepts again immediately

  struct DirectionCounters {
    uint64_t forwarded = 0;  // messages passed on (a duplicated one counts once)
    uint64_t dropped = 0;
    uint64_t duplicated = 0;  // extra copies sent
    uint64_t reordered = 0;   // held messages sent after a later one (not those flushed by time)
    uint64_t flipped = 0;
    uint64_t commands = 0;  // command frames passed through
  };
  struct Counters {
    DirectionCounters to_upstream, to_client;
    uint64_t connections_accepted = 0;  // pairs opened (the PRNG stream is per pair, in order)
    uint64_t connections_refused = 0;   // closed on accept during a partition
    uint64_t connections_open = 0;
    uint64_t parse_errors = 0;       // bad greeting / absurd frame size: pair closed
    uint64_t upstream_failures = 0;  // upstream connect failed: client closed
  };
  // A consistent snapshot, published by the proxy thread after each loop iteration.
  Counters counters() const;

  // Ends the thread (bounded: the loop wakes at least every 100 ms and on request) and closes
  // every socket abruptly. Idempotent; counters() stays valid afterwards.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nemesyst::testing

#endif  // NEMESYST_TESTS_TESTING_ZMTP_PROXY_H_
