#include "storage/model_format.h"

#include "common/coding.h"
#include "common/crc32c.h"
#include "common/json_number.h"
#include "storage/meta_format.h"

namespace nemesyst::storage {

std::string ModelCounterKey(std::string_view name) { return NamedKey(kModelCounterTag, name); }

std::string ModelHeaderPrefix(std::string_view name) {
  std::string key = NamedKey(kModelHeaderTag, name);
  key.push_back('\0');
  return key;
}

std::string ModelHeaderKey(std::string_view name, uint32_t version) {
  std::string key = ModelHeaderPrefix(name);
  PutBigEndian32(&key, version);
  return key;
}

std::string ModelChunkPrefix(std::string_view name, uint32_t version) {
  std::string key = NamedKey(kModelChunkTag, name);
  key.push_back('\0');
  PutBigEndian32(&key, version);
  return key;
}

std::string ModelChunkKey(std::string_view name, uint32_t version, uint32_t index) {
  std::string key = ModelChunkPrefix(name, version);
  PutBigEndian32(&key, index);
  return key;
}

std::string ModelAliasPrefix(std::string_view name) {
  std::string key = NamedKey(kModelAliasTag, name);
  key.push_back('\0');
  return key;
}

std::string ModelAliasKey(std::string_view name, std::string_view alias) {
  return ModelAliasPrefix(name) + std::string(alias);
}

bool ParseModelHeaderKey(std::string_view key, std::string* name, uint32_t* version) {
  if (key.size() < 6 || key[0] != kModelHeaderTag || key[key.size() - 5] != '\0') return false;
  name->assign(key.substr(1, key.size() - 6));
  *version = DecodeBigEndian32(key.data() + key.size() - 4);
  return true;
}

nlohmann::json MetadataToJson(const ModelMetadata& m) {
  nlohmann::json epochs = nlohmann::json::array();
  for (const EpochMetrics& e : m.epoch_metrics) {
    epochs.push_back({{"epoch", e.epoch}, {"metrics", e.metrics}});
  }
  nlohmann::json ranges = nlohmann::json::array();
  for (const SeqRange& r : m.lineage.seq_ranges) ranges.push_back({r.first, r.last});
  return {{"kind", m.kind},
          {"hyper_parameters", m.hyper_parameters},
          {"metrics", m.metrics},
          {"epoch_metrics", std::move(epochs)},
          {"lineage",
           {{"stream", m.lineage.stream},
            {"seq_ranges", std::move(ranges)},
            {"pipeline_spec", m.lineage.pipeline_spec},
            {"parent_version", m.lineage.parent_version},
            {"node_id", m.lineage.node_id},
            {"code_version", m.lineage.code_version},
            {"created_us", m.lineage.created_us}}}};
}

namespace {

// Reads optional member `key` of `obj` into `out` with a type check naming the path.
template <typename T>
Status Optional(const nlohmann::json& obj, const char* key, const std::string& path, T* out) {
  if (!obj.contains(key) || obj[key].is_null()) return Status::OK();
  try {
    *out = JsonValue<T>(obj[key]);
  } catch (const nlohmann::json::exception&) {
    return Status::InvalidArgument(path + key + ": wrong type");
  }
  return Status::OK();
}

Status MetricMap(const nlohmann::json& obj, const std::string& path,
                 std::map<std::string, double>* out) {
  if (!obj.is_object()) return Status::InvalidArgument(path + ": expected an object");
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (!it.value().is_number()) {
      return Status::InvalidArgument(path + "." + it.key() + ": expected a number");
    }
    (*out)[it.key()] = it.value().get<double>();
  }
  return Status::OK();
}

}  // namespace

Result<ModelMetadata> MetadataFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::InvalidArgument("metadata: expected an object");
  ModelMetadata m;
  NEMESYST_RETURN_IF_ERROR(Optional(j, "kind", "", &m.kind));
  if (j.contains("hyper_parameters")) {
    const auto& hp = j["hyper_parameters"];
    if (!hp.is_object()) return Status::InvalidArgument("hyper_parameters: expected an object");
    for (auto it = hp.begin(); it != hp.end(); ++it) {
      // Numbers and booleans are accepted and kept as their JSON text.
      m.hyper_parameters[it.key()] =
          it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
    }
  }
  if (j.contains("metrics"))
    NEMESYST_RETURN_IF_ERROR(MetricMap(j["metrics"], "metrics", &m.metrics));
  if (j.contains("epoch_metrics")) {
    const auto& epochs = j["epoch_metrics"];
    if (!epochs.is_array()) return Status::InvalidArgument("epoch_metrics: expected an array");
    for (size_t i = 0; i < epochs.size(); ++i) {
      std::string path = "epoch_metrics[" + std::to_string(i) + "]";
      if (!epochs[i].is_object()) return Status::InvalidArgument(path + ": expected an object");
      EpochMetrics e;
      NEMESYST_RETURN_IF_ERROR(Optional(epochs[i], "epoch", path + ".", &e.epoch));
      if (epochs[i].contains("metrics")) {
        NEMESYST_RETURN_IF_ERROR(MetricMap(epochs[i]["metrics"], path + ".metrics", &e.metrics));
      }
      m.epoch_metrics.push_back(std::move(e));
    }
  }
  if (j.contains("lineage")) {
    const auto& l = j["lineage"];
    if (!l.is_object()) return Status::InvalidArgument("lineage: expected an object");
    NEMESYST_RETURN_IF_ERROR(Optional(l, "stream", "lineage.", &m.lineage.stream));
    NEMESYST_RETURN_IF_ERROR(Optional(l, "pipeline_spec", "lineage.", &m.lineage.pipeline_spec));
    NEMESYST_RETURN_IF_ERROR(Optional(l, "parent_version", "lineage.", &m.lineage.parent_version));
    NEMESYST_RETURN_IF_ERROR(Optional(l, "node_id", "lineage.", &m.lineage.node_id));
    NEMESYST_RETURN_IF_ERROR(Optional(l, "code_version", "lineage.", &m.lineage.code_version));
    NEMESYST_RETURN_IF_ERROR(Optional(l, "created_us", "lineage.", &m.lineage.created_us));
    if (l.contains("seq_ranges")) {
      const auto& ranges = l["seq_ranges"];
      if (!ranges.is_array())
        return Status::InvalidArgument("lineage.seq_ranges: expected an array");
      for (size_t i = 0; i < ranges.size(); ++i) {
        const auto& r = ranges[i];
        if (!r.is_array() || r.size() != 2 || !r[0].is_number_unsigned() ||
            !r[1].is_number_unsigned()) {
          return Status::InvalidArgument("lineage.seq_ranges[" + std::to_string(i) +
                                         "]: expected [first, last]");
        }
        m.lineage.seq_ranges.push_back({JsonInteger<uint64_t>(r[0]), JsonInteger<uint64_t>(r[1])});
      }
    }
  }
  return m;
}

std::string EncodeModelHeader(const ModelHeader& h) {
  nlohmann::json j = MetadataToJson(h.metadata);
  j["blob"] = {{"bytes", h.blob.bytes},
               {"crc32c", h.blob.crc32c},
               {"sha256", h.blob.sha256},
               {"chunk_bytes", h.blob.chunk_bytes},
               {"chunks", h.blob.chunks}};
  j["retired"] = h.retired;
  return SealJson(j);
}

Result<ModelHeader> DecodeModelHeader(std::string_view value) {
  nlohmann::json j;
  NEMESYST_RETURN_IF_ERROR(UnsealJson(value, &j));
  Result<ModelMetadata> metadata = MetadataFromJson(j);
  if (!metadata.ok()) return Status::Corruption("model header: " + metadata.status().ToString());
  ModelHeader h;
  h.metadata = std::move(*metadata);
  try {
    const auto& b = j.at("blob");
    h.blob.bytes = JsonInteger<uint64_t>(b.at("bytes"));
    h.blob.crc32c = JsonInteger<uint32_t>(b.at("crc32c"));
    h.blob.sha256 = b.value("sha256", std::string());
    h.blob.chunk_bytes = JsonInteger<uint32_t>(b.at("chunk_bytes"));
    h.blob.chunks = JsonInteger<uint32_t>(b.at("chunks"));
    h.retired = j.at("retired").get<bool>();
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("model header: ") + e.what());
  }
  // chunks = ceil(bytes / chunk_bytes), computed without bytes + chunk_bytes - 1, which wraps for
  // a header claiming close to 2^64 bytes (it then passed with 0 chunks).
  if (h.blob.chunk_bytes == 0 ||
      h.blob.bytes / h.blob.chunk_bytes + (h.blob.bytes % h.blob.chunk_bytes != 0) !=
          h.blob.chunks) {
    return Status::Corruption("model header: blob layout is inconsistent");
  }
  return h;
}

std::string EncodeChunk(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 4);
  PutFixed32(&out, Crc32c(data));
  out.append(data.data(), data.size());
  return out;
}

Status DecodeChunk(std::string_view value, std::string_view* data) {
  if (value.size() < 4) return Status::Corruption("model chunk truncated");
  *data = value.substr(4);
  if (Crc32c(*data) != DecodeFixed32(value.data())) {
    return Status::Corruption("model chunk checksum mismatch");
  }
  return Status::OK();
}

}  // namespace nemesyst::storage
