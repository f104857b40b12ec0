#include "common/xxh128.h"

#include <xxhash.h>

#include <cstdio>

namespace nemesyst {
namespace {

std::string Hex(XXH128_hash_t h) {
  // Big-endian order of (high, low), as `xxhsum -H2` prints it.
  char text[kXxh128HexChars + 1];
  std::snprintf(text, sizeof(text), "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return std::string(text, kXxh128HexChars);
}

}  // namespace

struct Xxh128::State {
  XXH3_state_t* s = XXH3_createState();
  ~State() { XXH3_freeState(s); }
};

Xxh128::Xxh128() : state_(std::make_unique<State>()) { XXH3_128bits_reset(state_->s); }
Xxh128::~Xxh128() = default;

void Xxh128::Update(std::string_view data) {
  XXH3_128bits_update(state_->s, data.data(), data.size());
}

std::string Xxh128::HexDigest() const { return Hex(XXH3_128bits_digest(state_->s)); }

std::string Xxh128Hex(std::string_view data) { return Hex(XXH3_128bits(data.data(), data.size())); }

}  // namespace nemesyst
