#include "stream/line_reader.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

namespace nemesyst::stream {

Status LineReader::Refill() {
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  // Reads grow with the input, 64 KiB up to chunk_: a one-line request does not zero megabytes.
  const size_t want = std::min(chunk_, std::max<size_t>(size_t{64} << 10, bytes_read_));
  if (buffer_.size() < end_ + want) buffer_.resize(end_ + want);
  for (;;) {
    const ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError(std::string("read: ") + std::strerror(errno));
    if (n == 0) eof_ = true;
    end_ += static_cast<size_t>(n);
    bytes_read_ += static_cast<uint64_t>(n);
    return Status::OK();
  }
}

Status LineReader::SkipByteOrderMark() {
  bom_checked_ = true;
  while (end_ - begin_ < 3 && !eof_) NEMESYST_RETURN_IF_ERROR(Refill());
  if (end_ - begin_ >= 3 && std::memcmp(buffer_.data() + begin_, "\xEF\xBB\xBF", 3) == 0) {
    begin_ += 3;
  }
  return Status::OK();
}

Result<bool> LineReader::Next(bool csv, Item* item) {
  if (!bom_checked_) NEMESYST_RETURN_IF_ERROR(SkipByteOrderMark());
  size_t scan = begin_;  // where to continue looking for the end of the record
  bool in_quotes = false;
  item->has_quote = false;
  item->open_quote = false;
  for (;;) {
    const char* base = buffer_.data();
    // Find a line break outside quotes in [scan, end_).
    while (scan < end_) {
      const char* nl = static_cast<const char*>(std::memchr(base + scan, '\n', end_ - scan));
      const size_t stop = nl ? static_cast<size_t>(nl - base) : end_;
      if (csv) {
        const char* q = static_cast<const char*>(std::memchr(base + scan, '"', stop - scan));
        while (q) {  // toggle on every quote in [scan, stop)
          in_quotes = !in_quotes;
          item->has_quote = true;
          const size_t next = static_cast<size_t>(q - base) + 1;
          q = static_cast<const char*>(std::memchr(base + next, '"', stop - next));
        }
      }
      if (!nl) {
        scan = end_;
        break;
      }
      if (!in_quotes) {
        size_t len = stop - begin_;
        if (len > 0 && base[begin_ + len - 1] == '\r') --len;
        item->text = std::string_view(base + begin_, len);
        item->line = line_;
        item->terminated = true;
        if (item->has_quote) {  // quoted line breaks count as lines too
          for (size_t i = begin_; i <= stop; ++i) line_ += base[i] == '\n';
        } else {
          ++line_;
        }
        begin_ = stop + 1;
        return true;
      }
      scan = stop + 1;  // a line break inside quotes: keep going
    }
    if (eof_) {
      if (begin_ >= end_) return false;
      item->text = std::string_view(base + begin_, end_ - begin_);
      item->line = line_;
      item->terminated = false;
      item->open_quote = in_quotes;
      begin_ = end_;
      return true;
    }
    const size_t consumed = scan - begin_;
    NEMESYST_RETURN_IF_ERROR(Refill());
    scan = begin_ + consumed;
  }
}

Result<int> LineReader::PeekNonSpace() {
  if (!bom_checked_) NEMESYST_RETURN_IF_ERROR(SkipByteOrderMark());
  for (;;) {
    for (size_t i = begin_; i < end_; ++i) {
      const char c = buffer_[i];
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return static_cast<unsigned char>(c);
    }
    if (eof_) return -1;
    NEMESYST_RETURN_IF_ERROR(Refill());
  }
}

bool SplitCsv(std::string_view record, bool has_quote, std::vector<std::string_view>* fields,
              std::deque<std::string>* scratch, std::string* error, int* error_column) {
  fields->clear();
  if (!has_quote) {
    size_t start = 0;
    for (;;) {
      const size_t comma = record.find(',', start);
      if (comma == std::string_view::npos) {
        fields->push_back(record.substr(start));
        return true;
      }
      fields->push_back(record.substr(start, comma - start));
      start = comma + 1;
    }
  }
  size_t used = 0;
  size_t pos = 0;
  for (;;) {
    const int column = static_cast<int>(fields->size()) + 1;
    if (pos < record.size() && record[pos] == '"') {
      if (scratch->size() <= used) scratch->emplace_back();
      std::string& out = (*scratch)[used++];
      out.clear();
      ++pos;
      for (;;) {
        if (pos >= record.size()) {
          *error = "unterminated quoted field";
          *error_column = column;
          return false;
        }
        if (record[pos] == '"') {
          if (pos + 1 < record.size() && record[pos + 1] == '"') {
            out += '"';
            pos += 2;
            continue;
          }
          ++pos;
          break;
        }
        out += record[pos++];
      }
      fields->push_back(out);
      if (pos == record.size()) return true;
      if (record[pos] != ',') {
        *error = "unexpected character after a closing quote";
        *error_column = column;
        return false;
      }
      ++pos;
    } else {
      const size_t comma = record.find(',', pos);
      const std::string_view field = record.substr(
          pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
      if (field.find('"') != std::string_view::npos) {
        *error = "quote inside an unquoted field";
        *error_column = column;
        return false;
      }
      fields->push_back(field);
      if (comma == std::string_view::npos) return true;
      pos = comma + 1;
    }
  }
}

}  // namespace nemesyst::stream
