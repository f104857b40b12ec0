// The kernels' random numbers: initialisation, dropout masks, shuffles and GAN noise depend only
// on the seed (common/random.h's xoshiro256**), never on the standard library's distributions.
// Not thread-safe: one generator per user.
#ifndef NEMESYST_KERNELS_RANDOM_H_
#define NEMESYST_KERNELS_RANDOM_H_

#include <cmath>
#include <cstdint>

#include "common/random.h"

namespace nemesyst::kernels {

class Rng : public Xoshiro256 {
 public:
  explicit Rng(uint64_t seed = 0) : Xoshiro256(seed) {}

  void Seed(uint64_t seed) {
    Xoshiro256::Seed(seed);
    has_spare_normal_ = false;
  }

  // Standard normal (Box-Muller, both values used).
  double Normal() {
    if (has_spare_normal_) {
      has_spare_normal_ = false;
      return spare_normal_;
    }
    double u1 = Uniform();
    while (u1 <= 0.0) u1 = Uniform();
    const double u2 = Uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_normal_ = r * std::sin(6.283185307179586 * u2);
    has_spare_normal_ = true;
    return r * std::cos(6.283185307179586 * u2);
  }

 private:
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

}  // namespace nemesyst::kernels

#endif  // NEMESYST_KERNELS_RANDOM_H_
