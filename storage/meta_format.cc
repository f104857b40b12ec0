#include "storage/meta_format.h"

#include "common/coding.h"
#include "common/crc32c.h"
#include "common/json_number.h"

namespace nemesyst::storage {

std::string SealJson(const nlohmann::json& json) {
  // Invalid UTF-8 in caller strings (a raw sensor row, a hyper-parameter) is replaced by U+FFFD
  // rather than throwing: the library must not throw.
  std::string text = json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size() + 5);
  out.push_back(1);
  PutFixed32(&out, Crc32c(text));
  out += text;
  return out;
}

Status UnsealJson(std::string_view value, nlohmann::json* json) {
  if (value.size() < 5) return Status::Corruption("sealed value truncated");
  if (value[0] != 1) return Status::Corruption("unknown sealed value format");
  std::string_view text = value.substr(5);
  if (Crc32c(text) != DecodeFixed32(value.data() + 1)) {
    return Status::Corruption("sealed value checksum mismatch");
  }
  *json = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (json->is_discarded()) return Status::Corruption("sealed value is not JSON");
  return Status::OK();
}

std::string NamedKey(char tag, std::string_view name) {
  std::string key(1, tag);
  key += name;
  return key;
}

std::string NumberedKey(char tag, uint64_t number) {
  std::string key(1, tag);
  PutBigEndian64(&key, number);
  return key;
}

bool ParseNumberedKey(std::string_view key, char tag, uint64_t* number) {
  if (key.size() != 9 || key[0] != tag) return false;
  *number = DecodeBigEndian64(key.data() + 1);
  return true;
}

nlohmann::json SchemaToJson(const StreamSchema& schema) {
  nlohmann::json fields = nlohmann::json::array();
  for (const FieldSpec& f : schema.fields) {
    nlohmann::json j = {{"name", f.name}, {"type", FieldTypeName(f.type)}, {"unit", f.unit}};
    if (f.min_value) j["min"] = *f.min_value;
    if (f.max_value) j["max"] = *f.max_value;
    fields.push_back(std::move(j));
  }
  return {{"fields", std::move(fields)}};
}

Result<StreamSchema> SchemaFromJson(const nlohmann::json& json) {
  if (!json.is_object() || !json.contains("fields") || !json["fields"].is_array()) {
    return Status::InvalidArgument("fields: expected an array of field objects");
  }
  StreamSchema schema;
  const auto& fields = json["fields"];
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string where = "fields[" + std::to_string(i) + "]";
    const auto& f = fields[i];
    if (!f.is_object()) return Status::InvalidArgument(where + ": expected an object");
    FieldSpec spec;
    if (!f.contains("name") || !f["name"].is_string()) {
      return Status::InvalidArgument(where + ".name: expected a string");
    }
    spec.name = f["name"].get<std::string>();
    if (f.contains("type")) {
      if (!f["type"].is_string())
        return Status::InvalidArgument(where + ".type: expected a string");
      Result<FieldType> type = ParseFieldType(f["type"].get<std::string>());
      if (!type.ok()) return type.status().WithContext(where + ".type");
      spec.type = *type;
    }
    if (f.contains("unit")) {
      if (!f["unit"].is_string())
        return Status::InvalidArgument(where + ".unit: expected a string");
      spec.unit = f["unit"].get<std::string>();
    }
    for (const char* bound : {"min", "max"}) {
      if (!f.contains(bound) || f[bound].is_null()) continue;
      if (!f[bound].is_number()) {
        return Status::InvalidArgument(where + "." + bound + ": expected a number");
      }
      (bound[1] == 'i' ? spec.min_value : spec.max_value) = f[bound].get<double>();
    }
    for (auto it = f.begin(); it != f.end(); ++it) {
      if (it.key() != "name" && it.key() != "type" && it.key() != "unit" && it.key() != "min" &&
          it.key() != "max") {
        return Status::InvalidArgument(where + "." + it.key() + ": unknown key");
      }
    }
    schema.fields.push_back(std::move(spec));
  }
  return schema;
}

std::string EncodeStreamDef(const StreamDef& def) {
  nlohmann::json j = SchemaToJson(def.schema);
  j["retention"] = {{"max_age_us", def.retention.max_age_us},
                    {"max_records", def.retention.max_records}};
  j["created_us"] = def.created_us;
  return SealJson(j);
}

Result<StreamDef> DecodeStreamDef(std::string_view value) {
  nlohmann::json j;
  NEMESYST_RETURN_IF_ERROR(UnsealJson(value, &j));
  Result<StreamSchema> schema = SchemaFromJson(j);
  if (!schema.ok()) return Status::Corruption("stream definition: " + schema.status().ToString());
  StreamDef def;
  def.schema = std::move(*schema);
  try {
    def.retention.max_age_us = JsonInteger<int64_t>(j.at("retention").at("max_age_us"));
    def.retention.max_records = JsonInteger<uint64_t>(j.at("retention").at("max_records"));
    def.created_us = JsonInteger<int64_t>(j.at("created_us"));
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("stream definition: ") + e.what());
  }
  return def;
}

std::string EncodeDeadLetterRow(const DeadLetterRow& row) {
  return SealJson({{"stream", row.stream},
                   {"source", row.source},
                   {"reason", row.reason},
                   {"raw", row.raw},
                   {"raw_bytes", row.raw_bytes},
                   {"received_us", row.received_us}});
}

Result<DeadLetterRow> DecodeDeadLetterRow(std::string_view value) {
  nlohmann::json j;
  NEMESYST_RETURN_IF_ERROR(UnsealJson(value, &j));
  DeadLetterRow row;
  try {
    row.stream = j.at("stream").get<std::string>();
    row.source = j.at("source").get<std::string>();
    row.reason = j.at("reason").get<std::string>();
    row.raw = j.at("raw").get<std::string>();
    // Rows written before raw_bytes existed were always whole.
    row.raw_bytes = JsonInteger(j, "raw_bytes", uint64_t{row.raw.size()});
    row.received_us = JsonInteger<int64_t>(j.at("received_us"));
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("dead-letter row: ") + e.what());
  }
  return row;
}

std::string EncodeJournalEntry(const JournalEntry& e) {
  std::string out;
  out.push_back(static_cast<char>(e.kind));
  switch (e.kind) {
    case JournalKind::kStreamDef:
      PutLengthPrefixed(&out, e.name);
      break;
    case JournalKind::kAppend:
      PutFixed64(&out, e.stream_id);
      PutFixed64(&out, e.first_seq);
      PutFixed64(&out, e.last_seq);
      break;
    case JournalKind::kModelPut:
    case JournalKind::kModelMeta:
      PutLengthPrefixed(&out, e.name);
      PutFixed32(&out, e.version);
      break;
    case JournalKind::kAlias:
      PutLengthPrefixed(&out, e.name);
      PutLengthPrefixed(&out, e.alias);
      break;
  }
  PutFixed64(&out, static_cast<uint64_t>(e.written_us));
  PutFixed64(&out, e.stamp);
  PutFixed64(&out, e.bytes);
  return out;
}

Status DecodeJournalEntry(std::string_view value, JournalEntry* e) {
  Reader r(value);
  uint8_t kind = 0;
  if (!r.GetByte(&kind)) return Status::Corruption("journal entry empty");
  e->kind = static_cast<JournalKind>(kind);
  std::string_view name, alias;
  bool ok = false;
  switch (e->kind) {
    case JournalKind::kStreamDef:
      ok = r.GetLengthPrefixed(&name);
      break;
    case JournalKind::kAppend:
      ok = r.GetFixed64(&e->stream_id) && r.GetFixed64(&e->first_seq) && r.GetFixed64(&e->last_seq);
      break;
    case JournalKind::kModelPut:
    case JournalKind::kModelMeta:
      ok = r.GetLengthPrefixed(&name) && r.GetFixed32(&e->version);
      break;
    case JournalKind::kAlias:
      ok = r.GetLengthPrefixed(&name) && r.GetLengthPrefixed(&alias);
      break;
    default:
      return Status::Corruption("unknown journal entry kind " + std::to_string(kind));
  }
  uint64_t written = 0;
  if (ok && !r.empty()) {
    ok = r.GetFixed64(&written) && r.GetFixed64(&e->stamp) && r.GetFixed64(&e->bytes);
    e->written_us = static_cast<int64_t>(written);
  }
  if (!ok || !r.empty()) return Status::Corruption("journal entry truncated or too long");
  e->name.assign(name);
  e->alias.assign(alias);
  return Status::OK();
}

std::string EncodeHistory(const HistoryInfo& h) {
  return SealJson(
      {{"id", h.id}, {"previous_id", h.previous_id}, {"switch_position", h.switch_position}});
}

Result<HistoryInfo> DecodeHistory(std::string_view value) {
  nlohmann::json j;
  NEMESYST_RETURN_IF_ERROR(UnsealJson(value, &j).WithContext("history"));
  HistoryInfo h;
  try {
    h.id = j.at("id").get<std::string>();
    h.previous_id = j.at("previous_id").get<std::string>();
    h.switch_position = JsonInteger<uint64_t>(j.at("switch_position"));
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("history: ") + e.what());
  }
  if (h.id.empty()) return Status::Corruption("history: empty id");
  return h;
}

}  // namespace nemesyst::storage
