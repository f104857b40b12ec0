#include "common/sha256.h"

#include <sodium.h>

#include <mutex>

namespace nemesyst {
namespace {

static_assert(sizeof(crypto_hash_sha256_state) <= 128, "Sha256::state_ is too small");

// sodium_init picks the fastest implementations; it must run once before any other call.
void InitSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    // 0 ok, 1 already initialised; -1 only when no entropy source is found, which hashing does
    // not need.
    [[maybe_unused]] const int rc = sodium_init();
  });
}

crypto_hash_sha256_state* State(unsigned char* bytes) {
  return reinterpret_cast<crypto_hash_sha256_state*>(bytes);
}

}  // namespace

Sha256::Sha256() {
  InitSodium();
  crypto_hash_sha256_init(State(state_));
}

void Sha256::Update(std::string_view data) {
  crypto_hash_sha256_update(State(state_), reinterpret_cast<const unsigned char*>(data.data()),
                            data.size());
}

std::string Sha256::HexDigest() {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(State(state_), digest);
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
  return std::string(hex, crypto_hash_sha256_BYTES * 2);
}

std::string Sha256Hex(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.HexDigest();
}

}  // namespace nemesyst
