#include "nodes/wire.h"

#include "common/coding.h"
#include "common/crc32c.h"
#include "common/xxh128.h"

namespace nemesyst::nodes {
namespace {

void PutString(std::string* out, std::string_view s) { PutLengthPrefixed(out, s); }

// Reads fields in order; the first failure is remembered with the field's name.
class FieldReader {
 public:
  explicit FieldReader(std::string_view in) : reader_(in) {}
  void U8(const char* field, uint8_t* v) {
    if (ok()) Check(reader_.GetByte(v), field);
  }
  void U16(const char* field, uint16_t* v) {
    uint32_t wide = 0;
    std::string_view bytes;
    if (!ok() || !Check(reader_.GetBytes(2, &bytes), field)) return;
    wide = static_cast<uint8_t>(bytes[0]) |
           (static_cast<uint32_t>(static_cast<uint8_t>(bytes[1])) << 8);
    *v = static_cast<uint16_t>(wide);
  }
  void U32(const char* field, uint32_t* v) {
    if (ok()) Check(reader_.GetFixed32(v), field);
  }
  void U64(const char* field, uint64_t* v) {
    if (ok()) Check(reader_.GetFixed64(v), field);
  }
  void I64(const char* field, int64_t* v) {
    uint64_t u = 0;
    U64(field, &u);
    *v = static_cast<int64_t>(u);
  }
  void Bool(const char* field, bool* v) {
    uint8_t b = 0;
    U8(field, &b);
    if (ok() && b > 1) Fail(field, "must be 0 or 1");
    *v = b == 1;
  }
  void String(const char* field, std::string* v) {
    std::string_view s;
    if (!ok() || !Check(reader_.GetLengthPrefixed(&s), field)) return;
    if (s.size() > kMaxWireString)
      return Fail(field, "longer than " + std::to_string(kMaxWireString));
    v->assign(s);
  }
  void End() {
    if (ok() && !reader_.empty()) Fail("body", "has trailing bytes");
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  void Fail(const char* field, const std::string& why) {
    if (ok()) error_ = std::string(field) + ": " + why;
  }

 private:
  bool Check(bool got, const char* field) {
    if (!got) Fail(field, "truncated");
    return got;
  }
  Reader reader_;
  std::string error_;
};

size_t ExpectedPayloads(const WireMessage& m) {
  switch (m.type) {
    case MsgType::kChanges:
      return m.total;  // the decoder stores count in total while reading CHANGES
    case MsgType::kFragment:
    case MsgType::kBootChunk:
    case MsgType::kShed:
    case MsgType::kShedReply:
      return 1;
    default:
      return 0;
  }
}

}  // namespace

std::string_view MsgTypeName(MsgType type) {
  switch (type) {
    case MsgType::kJoin:
      return "JOIN";
    case MsgType::kHello:
      return "HELLO";
    case MsgType::kWelcome:
      return "WELCOME";
    case MsgType::kChanges:
      return "CHANGES";
    case MsgType::kFragment:
      return "FRAGMENT";
    case MsgType::kAck:
      return "ACK";
    case MsgType::kHeartbeat:
      return "HEARTBEAT";
    case MsgType::kBootFetch:
      return "BOOT_FETCH";
    case MsgType::kBootChunk:
      return "BOOT_CHUNK";
    case MsgType::kError:
      return "ERROR";
    case MsgType::kReport:
      return "REPORT";
    case MsgType::kShed:
      return "SHED";
    case MsgType::kShedReply:
      return "SHED_REPLY";
  }
  return "UNKNOWN";
}

std::string_view ChannelName(Channel channel) {
  switch (channel) {
    case Channel::kData:
      return "data";
    case Channel::kRegistry:
      return "registry";
    case Channel::kNode:
      return "node";
  }
  return "unknown";
}

static std::string EncodeBody(const WireMessage& m);

std::string EncodeHeader(const WireMessage& m) {
  std::string out = EncodeBody(m);
  PutFixed32(&out, Crc32c(out));
  return out;
}

static std::string EncodeBody(const WireMessage& m) {
  std::string out(kWireMagic);
  out.push_back(static_cast<char>(m.type));
  out.push_back(static_cast<char>(m.channel));
  switch (m.type) {
    case MsgType::kJoin:
      PutString(&out, m.node_id);
      out.push_back(static_cast<char>(m.role));
      out.push_back(static_cast<char>(m.protocol & 0xff));
      out.push_back(static_cast<char>(m.protocol >> 8));
      break;
    case MsgType::kHello:
      PutString(&out, m.history_id);
      PutFixed64(&out, m.applied);
      PutFixed64(&out, m.applied_stamp);
      PutFixed64(&out, m.granted_bytes);
      PutFixed64(&out, m.granted_changes);
      PutFixed64(&out, m.epoch);
      PutFixed64(&out, m.partial_position);
      PutFixed64(&out, m.partial_offset);
      PutString(&out, m.partial_digest);
      break;
    case MsgType::kWelcome:
      out.push_back(m.bootstrap ? 1 : 0);
      PutString(&out, m.history_id);
      PutString(&out, m.previous_id);
      PutFixed64(&out, m.switch_position);
      PutFixed64(&out, m.leader_last);
      PutFixed64(&out, m.epoch);
      PutString(&out, m.snapshot_id);
      PutFixed32(&out, static_cast<uint32_t>(m.files.size()));
      for (const SnapshotFile& f : m.files) {
        PutString(&out, f.name);
        PutFixed64(&out, f.size);
        PutString(&out, f.digest);
      }
      break;
    case MsgType::kChanges:
      PutString(&out, m.history_id);
      PutFixed64(&out, m.epoch);
      PutFixed64(&out, m.prev_position);
      PutFixed64(&out, m.leader_last);
      PutFixed64(&out, static_cast<uint64_t>(m.sent_us));
      PutFixed32(&out, static_cast<uint32_t>(m.payloads.size()));
      break;
    case MsgType::kFragment:
      PutString(&out, m.history_id);
      PutFixed64(&out, m.epoch);
      PutFixed64(&out, m.prev_position);
      PutFixed64(&out, m.position);
      PutFixed64(&out, m.total);
      PutFixed64(&out, m.offset);
      PutString(&out, m.digest);
      break;
    case MsgType::kAck:
      PutFixed64(&out, m.applied);
      PutFixed64(&out, m.durable);
      PutFixed64(&out, m.granted_bytes);
      PutFixed64(&out, m.granted_changes);
      PutFixed64(&out, m.partial_position);
      PutFixed64(&out, m.partial_offset);
      break;
    case MsgType::kHeartbeat:
      PutFixed64(&out, m.position);
      PutFixed64(&out, static_cast<uint64_t>(m.now_us));
      break;
    case MsgType::kBootFetch:
      PutString(&out, m.snapshot_id);
      PutFixed32(&out, m.file);
      PutFixed64(&out, m.offset);
      PutFixed32(&out, m.max_bytes);
      break;
    case MsgType::kBootChunk:
      PutString(&out, m.snapshot_id);
      PutFixed32(&out, m.file);
      PutFixed64(&out, m.offset);
      out.push_back(m.last ? 1 : 0);
      break;
    case MsgType::kError:
      out.push_back(static_cast<char>(static_cast<uint16_t>(m.error) & 0xff));
      out.push_back(static_cast<char>(static_cast<uint16_t>(m.error) >> 8));
      PutString(&out, m.detail.substr(0, kMaxWireString));
      break;
    case MsgType::kReport:
      PutString(&out, m.detail.substr(0, kMaxWireString));
      break;
    case MsgType::kShed:
    case MsgType::kShedReply:
      break;  // the JSON is the payload frame
  }
  return out;
}

Result<WireMessage> DecodeMessage(const std::vector<std::string_view>& frames,
                                  size_t max_payload_bytes) {
  if (frames.empty()) return Status::InvalidArgument("wire: empty message");
  std::string_view header = frames[0];
  if (header.size() < kWireMagic.size() + 2 + 4 || header.substr(0, 4) != kWireMagic) {
    return Status::InvalidArgument("wire: not a replication message (bad magic)");
  }
  const uint32_t crc = DecodeFixed32(header.data() + header.size() - 4);
  header.remove_suffix(4);
  if (Crc32c(header) != crc) return Status::InvalidArgument("wire: header checksum mismatch");
  WireMessage m;
  const uint8_t type = static_cast<uint8_t>(header[4]);
  const uint8_t channel = static_cast<uint8_t>(header[5]);
  if (type < 1 || type > static_cast<uint8_t>(MsgType::kShedReply)) {
    return Status::InvalidArgument("wire: unknown message type " + std::to_string(type));
  }
  if (channel > 2)
    return Status::InvalidArgument("wire: unknown channel " + std::to_string(channel));
  m.type = static_cast<MsgType>(type);
  m.channel = static_cast<Channel>(channel);
  FieldReader r(header.substr(6));
  uint32_t count = 0;
  switch (m.type) {
    case MsgType::kJoin:
      r.String("node_id", &m.node_id);
      r.U8("role", &m.role);
      r.U16("protocol", &m.protocol);
      break;
    case MsgType::kHello:
      r.String("history_id", &m.history_id);
      r.U64("applied", &m.applied);
      r.U64("applied_stamp", &m.applied_stamp);
      r.U64("granted_bytes", &m.granted_bytes);
      r.U64("granted_changes", &m.granted_changes);
      r.U64("epoch", &m.epoch);
      r.U64("partial_position", &m.partial_position);
      r.U64("partial_offset", &m.partial_offset);
      r.String("partial_digest", &m.partial_digest);
      break;
    case MsgType::kWelcome:
      r.Bool("bootstrap", &m.bootstrap);
      r.String("history_id", &m.history_id);
      r.String("previous_id", &m.previous_id);
      r.U64("switch_position", &m.switch_position);
      r.U64("leader_last", &m.leader_last);
      r.U64("epoch", &m.epoch);
      r.String("snapshot_id", &m.snapshot_id);
      r.U32("file_count", &count);
      if (r.ok() && count > kMaxSnapshotFiles) r.Fail("file_count", "too many files");
      for (uint32_t i = 0; r.ok() && i < count; ++i) {
        SnapshotFile f;
        r.String("files.name", &f.name);
        r.U64("files.size", &f.size);
        r.String("files.digest", &f.digest);
        m.files.push_back(std::move(f));
      }
      break;
    case MsgType::kChanges:
      r.String("history_id", &m.history_id);
      r.U64("epoch", &m.epoch);
      r.U64("prev_position", &m.prev_position);
      r.U64("leader_last", &m.leader_last);
      r.I64("sent_us", &m.sent_us);
      r.U32("count", &count);
      if (r.ok() && (count == 0 || count > kMaxChangesPerMessage)) {
        r.Fail("count", "must be 1.." + std::to_string(kMaxChangesPerMessage));
      }
      m.total = count;
      break;
    case MsgType::kFragment:
      r.String("history_id", &m.history_id);
      r.U64("epoch", &m.epoch);
      r.U64("prev_position", &m.prev_position);
      r.U64("position", &m.position);
      r.U64("total", &m.total);
      r.U64("offset", &m.offset);
      r.String("digest", &m.digest);
      if (r.ok() && m.digest.size() != kXxh128HexChars) {
        r.Fail("digest", "must be " + std::to_string(kXxh128HexChars) + " hex characters");
      } else if (r.ok() && (m.total == 0 || m.total > kMaxChangeBytes)) {
        r.Fail("total", "must be 1.." + std::to_string(kMaxChangeBytes));
      } else if (r.ok() && m.offset >= m.total) {
        r.Fail("offset", "must be below total");
      }
      break;
    case MsgType::kAck:
      r.U64("applied", &m.applied);
      r.U64("durable", &m.durable);
      r.U64("granted_bytes", &m.granted_bytes);
      r.U64("granted_changes", &m.granted_changes);
      r.U64("partial_position", &m.partial_position);
      r.U64("partial_offset", &m.partial_offset);
      break;
    case MsgType::kHeartbeat:
      r.U64("position", &m.position);
      r.I64("now_us", &m.now_us);
      break;
    case MsgType::kBootFetch:
      r.String("snapshot_id", &m.snapshot_id);
      r.U32("file", &m.file);
      r.U64("offset", &m.offset);
      r.U32("max_bytes", &m.max_bytes);
      break;
    case MsgType::kBootChunk:
      r.String("snapshot_id", &m.snapshot_id);
      r.U32("file", &m.file);
      r.U64("offset", &m.offset);
      r.Bool("last", &m.last);
      break;
    case MsgType::kError: {
      uint16_t code = 0;
      r.U16("code", &code);
      m.error = static_cast<ErrorCode>(code);
      r.String("detail", &m.detail);
      break;
    }
    case MsgType::kReport:
      r.String("detail", &m.detail);
      break;
    case MsgType::kShed:
    case MsgType::kShedReply:
      break;
  }
  r.End();
  if (!r.ok()) {
    return Status::InvalidArgument("wire: " + std::string(MsgTypeName(m.type)) + " " + r.error());
  }
  const size_t expected = ExpectedPayloads(m);
  if (frames.size() - 1 != expected) {
    return Status::InvalidArgument("wire: " + std::string(MsgTypeName(m.type)) + " has " +
                                   std::to_string(frames.size() - 1) +
                                   " payload frames, expected " + std::to_string(expected));
  }
  if (m.type == MsgType::kChanges) m.total = 0;
  for (size_t i = 1; i < frames.size(); ++i) {
    if (frames[i].size() > max_payload_bytes) {
      return Status::InvalidArgument("wire: " + std::string(MsgTypeName(m.type)) + " payload of " +
                                     std::to_string(frames[i].size()) + " bytes is over the " +
                                     std::to_string(max_payload_bytes) + "-byte limit");
    }
    m.payloads.emplace_back(frames[i]);
  }
  return m;
}

}  // namespace nemesyst::nodes
