// CRC32C (Castagnoli): the checksum of every record, model chunk and metadata value in the store,
// and of model files.
// Uses the SSE4.2 crc32 instruction when the CPU has it (checked at run time), otherwise a
// slicing-by-8 table. Thread-safety: pure functions.
#ifndef NEMESYST_COMMON_CRC32C_H_
#define NEMESYST_COMMON_CRC32C_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace nemesyst {

// CRC32C of `data` continuing from `crc` (the CRC of the preceding bytes; 0 to start).
uint32_t Crc32cExtend(uint32_t crc, const char* data, size_t n);
inline uint32_t Crc32c(std::string_view data) { return Crc32cExtend(0, data.data(), data.size()); }

}  // namespace nemesyst

#endif  // NEMESYST_COMMON_CRC32C_H_
