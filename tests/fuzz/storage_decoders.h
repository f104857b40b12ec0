// The first byte of a storage_fuzzer input picks the decoder (low 7 bits, modulo kDecoders); its
// top bit set means "leave the checksums as they are". Shared by the harness and the seed writer.
#ifndef NEMESYST_TESTS_FUZZ_STORAGE_DECODERS_H_
#define NEMESYST_TESTS_FUZZ_STORAGE_DECODERS_H_

#include <cstdint>

namespace nemesyst::fuzz {

enum StorageDecoder : uint8_t {
  kChunk,
  kRecordV1,
  kSummary,
  kChange,
  kJournal,
  kGroup,
  kBatch,
  kStreamDef,
  kDeadLetter,
  kHistory,
  kModelHeader,
  kModelChunk,
  kDecoders
};

}  // namespace nemesyst::fuzz

#endif  // NEMESYST_TESTS_FUZZ_STORAGE_DECODERS_H_
