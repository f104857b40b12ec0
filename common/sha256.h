// SHA-256 digests (libsodium), as lower-case hex: what identifies a model version's content in the
// registry and in transfers between nodes (`sha256sum FILE` prints the same text).
//
// Thread-safety: pure functions.
#ifndef NEMESYST_COMMON_SHA256_H_
#define NEMESYST_COMMON_SHA256_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace nemesyst {

// Incremental form, for data that arrives in pieces (a blob read chunk by chunk).
class Sha256 {
 public:
  Sha256();
  void Update(std::string_view data);
  std::string HexDigest();  // 64 hex characters; the object is spent after this

 private:
  alignas(16) unsigned char state_[128];  // crypto_hash_sha256_state (104 bytes in libsodium)
};

std::string Sha256Hex(std::string_view data);

}  // namespace nemesyst

#endif  // NEMESYST_COMMON_SHA256_H_
