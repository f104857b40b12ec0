// XXH3-128 digests (libxxhash), as 32 lower-case hex characters: what a replication transfer uses
// to tell that a change sent in fragments, or a snapshot file, arrived whole and unchanged, and
// that a partial copy is a prefix of the very thing being sent again.
//
// Not cryptographic: it catches accidental corruption (128 bits: a random error passes with
// probability 2^-128) at memory speed. Deliberate tampering is CURVE's job (authenticated
// encryption of every message); a model's content identity in the registry stays SHA-256
// (common/sha256.h), which users can check with sha256sum.
//
// Thread-safety: pure functions; one Xxh128 object per thread.
#ifndef NEMESYST_COMMON_XXH128_H_
#define NEMESYST_COMMON_XXH128_H_

#include <memory>
#include <string>
#include <string_view>

namespace nemesyst {

inline constexpr size_t kXxh128HexChars = 32;

// Incremental form, for data that arrives or is read in pieces.
class Xxh128 {
 public:
  Xxh128();
  ~Xxh128();
  Xxh128(const Xxh128&) = delete;
  Xxh128& operator=(const Xxh128&) = delete;
  void Update(std::string_view data);
  std::string HexDigest() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string Xxh128Hex(std::string_view data);

}  // namespace nemesyst

#endif  // NEMESYST_COMMON_XXH128_H_
