// Seeded pseudo-random numbers written out here — xoshiro256** seeded through SplitMix64 — so a
// seed gives the same numbers with every compiler and standard library (std::normal_distribution
// and friends are implementation-defined). Two users build on the one generator: the kernels
// (weight initialisation, dropout, shuffles, GAN noise: kernels/random.h) and the case study's
// fleet simulator (SimRandom below). Not cryptographic.
//
// Thread-safety: a generator is a value owned by one thread.
#ifndef NEMESYST_COMMON_RANDOM_H_
#define NEMESYST_COMMON_RANDOM_H_

#include <cstdint>

namespace nemesyst {

// splitmix64: expands a 64-bit seed into a stream of well-mixed words.
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A 64-bit mix of several keys, used to derive independent streams: (seed, case, purpose).
inline uint64_t MixKeys(uint64_t a, uint64_t b, uint64_t c = 0) {
  uint64_t s = a;
  uint64_t h = SplitMix64(s);
  s = h ^ b;
  h = SplitMix64(s);
  s = h ^ c;
  return SplitMix64(s);
}

// xoshiro256** (Blackman & Vigna), its state filled from the seed by SplitMix64.
class Xoshiro256 {
 public:
  explicit Xoshiro256(uint64_t seed = 0) { Seed(seed); }

  void Seed(uint64_t seed) {
    uint64_t s = seed;
    for (uint64_t& word : state_) word = SplitMix64(s);
  }

  uint64_t NextU64() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [0, n), n >= 1 (multiply-shift; bias < n / 2^64, negligible here).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(NextU64()) * n) >> 64);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

// The fleet simulator's draws.
class SimRandom : public Xoshiro256 {
 public:
  explicit SimRandom(uint64_t seed) : Xoshiro256(seed) {}

  using Xoshiro256::Uniform;
  // nominal * (1 + u), u uniform in [-spread, spread): the "+-20 %" parameter draw.
  double Around(double nominal, double spread) {
    return nominal * (1.0 + Uniform(-spread, spread));
  }
  // Approximately standard normal: the Irwin-Hall sum of four 16-bit uniforms, rescaled to unit
  // variance (support +-3.46). One 64-bit draw per value; plenty for sensor noise.
  double Normal() {
    const uint64_t r = NextU64();
    const double sum =
        static_cast<double>((r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48));
    return (sum * (1.0 / 65536.0) - 2.0) * 1.7320508075688772;
  }
  bool Bernoulli(double p) { return Uniform() < p; }
  // Uniform integer in [lo, hi].
  int UniformInt(int lo, int hi) {
    return lo + static_cast<int>(Uniform() * static_cast<double>(hi - lo + 1));
  }
};

}  // namespace nemesyst

#endif  // NEMESYST_COMMON_RANDOM_H_
