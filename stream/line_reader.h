// Reads an input (file descriptor) in large chunks and hands out one logical record at a time
// without copying: a CSV record (which may span lines inside quotes, RFC 4180) or a JSON line.
// The view stays valid until the next call.
//
// Thread-safety: one thread.
#ifndef NEMESYST_STREAM_LINE_READER_H_
#define NEMESYST_STREAM_LINE_READER_H_

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "nemesyst/status.h"

namespace nemesyst::stream {

class LineReader {
 public:
  explicit LineReader(int fd, size_t chunk_bytes = 4 << 20) : fd_(fd), chunk_(chunk_bytes) {}

  struct Item {
    std::string_view text;    // without the line break (and without a trailing '\r')
    uint64_t line = 0;        // 1-based line where it starts
    bool terminated = true;   // false: the input ended without a line break after it
    bool has_quote = false;   // a '"' occurs in it (CSV: needs the careful split)
    bool open_quote = false;  // CSV: the input ended inside a quoted field that starts here
  };
  // Next record; false at the end of input. `csv` = quotes may protect line breaks.
  Result<bool> Next(bool csv, Item* item);
  uint64_t bytes_read() const { return bytes_read_; }
  // The first byte that is not white space, without consuming anything; -1 for empty input.
  Result<int> PeekNonSpace();

 private:
  Status Refill();  // moves the unread tail to the front and reads more; sets eof_
  // Once, before the first record: skips a UTF-8 byte order mark (spreadsheets write one).
  Status SkipByteOrderMark();
  bool bom_checked_ = false;

  int fd_;
  size_t chunk_;
  std::string buffer_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  uint64_t line_ = 1;
  uint64_t bytes_read_ = 0;
};

// Splits one CSV record into fields (RFC 4180: "a ""quoted"" field", commas and line breaks inside
// quotes). Unquoted records are split in place; quoted fields are unescaped into `scratch` (a
// deque: views into it stay valid as it grows). Returns false with `error` and the 1-based
// `error_column` on a malformed quote.
bool SplitCsv(std::string_view record, bool has_quote, std::vector<std::string_view>* fields,
              std::deque<std::string>* scratch, std::string* error, int* error_column);

}  // namespace nemesyst::stream

#endif  // NEMESYST_STREAM_LINE_READER_H_
