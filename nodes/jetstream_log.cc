// Encoding and validation of the JetStream log's messages (format in jetstream_log.h).
#include "nodes/jetstream_log.h"

#include "common/coding.h"
#include "common/xxh128.h"
#include "nodes/wire.h"

namespace nemesyst::nodes {
namespace {

constexpr std::string_view kMagic = "NJL1";

Status Malformed(std::string_view what) {
  return Status::Corruption("malformed JetStream log message: " + std::string(what));
}

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string EncodeLogMessage(const LogMessage& m) {
  std::string out(kMagic);
  out.push_back(static_cast<char>(m.kind));
  PutLengthPrefixed(&out, m.store);
  PutLengthPrefixed(&out, m.history);
  PutFixed64(&out, m.after);
  PutFixed64(&out, m.last);
  PutFixed64(&out, m.last_stamp);
  PutFixed64(&out, m.epoch);
  if (m.kind == LogMessageKind::kChanges) {
    PutVarint64(&out, m.changes.size());
    for (std::string_view change : m.changes) PutLengthPrefixed(&out, change);
  } else {
    PutFixed64(&out, m.total);
    PutFixed64(&out, m.offset);
    PutLengthPrefixed(&out, m.digest);
    out.append(m.data);
  }
  return out;
}

Result<LogMessage> DecodeLogMessage(std::string_view bytes) {
  Reader in(bytes);
  std::string_view magic;
  if (!in.GetBytes(kMagic.size(), &magic) || magic != kMagic) return Malformed("magic");
  LogMessage m;
  uint8_t kind = 0;
  if (!in.GetByte(&kind)) return Malformed("kind");
  if (kind != 1 && kind != 2) return Malformed("kind " + std::to_string(kind));
  m.kind = static_cast<LogMessageKind>(kind);
  std::string_view store, history;
  if (!in.GetLengthPrefixed(&store) || store.empty() || store.size() > 64) {
    return Malformed("store");
  }
  if (!in.GetLengthPrefixed(&history) || history.size() != 32 || !IsHex(history)) {
    return Malformed("history");
  }
  m.store = store;
  m.history = history;
  if (!in.GetFixed64(&m.after) || !in.GetFixed64(&m.last) || !in.GetFixed64(&m.last_stamp) ||
      !in.GetFixed64(&m.epoch)) {
    return Malformed("positions");
  }
  if (m.last <= m.after) {
    return Malformed("last " + std::to_string(m.last) + " does not follow after " +
                     std::to_string(m.after));
  }
  if (m.kind == LogMessageKind::kChanges) {
    uint64_t count = 0;
    // The wire's bound: more changes in one message is malformed (a 1 MiB message of empty
    // changes would otherwise make a consumer build a million-entry vector).
    if (!in.GetVarint64(&count) || count == 0 || count > kMaxChangesPerMessage ||
        count > m.last - m.after) {
      return Malformed("change count");
    }
    m.changes.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
      std::string_view change;
      if (!in.GetLengthPrefixed(&change) || change.empty()) {
        return Malformed("change " + std::to_string(i));
      }
      m.changes.push_back(change);
    }
    if (!in.empty()) return Malformed("bytes after the last change");
    return m;
  }
  std::string_view digest;
  if (!in.GetFixed64(&m.total) || !in.GetFixed64(&m.offset)) return Malformed("fragment sizes");
  if (!in.GetLengthPrefixed(&digest) || digest.size() != kXxh128HexChars || !IsHex(digest)) {
    return Malformed("fragment digest");
  }
  m.digest = digest;
  m.data = in.remaining();
  if (m.data.empty() || m.offset >= m.total || m.data.size() > m.total - m.offset) {
    return Malformed("fragment offset " + std::to_string(m.offset) + " + " +
                     std::to_string(m.data.size()) + " bytes past its total " +
                     std::to_string(m.total));
  }
  return m;
}

std::string MessageId(const LogMessage& m) {
  std::string id =
      m.store + ":" + m.history + ":" + std::to_string(m.after) + ":" + std::to_string(m.last);
  if (m.kind == LogMessageKind::kFragment) id += ":f" + std::to_string(m.offset);
  return id;
}

}  // namespace nemesyst::nodes
