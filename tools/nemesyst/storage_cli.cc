#include "tools/nemesyst/storage_cli.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "nemesyst/node.h"
#include "nemesyst/store.h"
#include "nemesyst/store_json.h"

namespace nemesyst::cli {

Result<nlohmann::json> NodeJsonRequest(const std::string& endpoint, const std::string& request,
                                       const std::string& data, int64_t timeout_ms) {
  NodeClientOptions co;
  co.timeout_ms = timeout_ms;
  NEMESYST_ASSIGN_OR_RETURN(std::string reply, NodeRequest(endpoint, request, data, co));
  nlohmann::json r = nlohmann::json::parse(reply, nullptr, false);
  if (!r.is_object()) return Status::Corruption("node at " + endpoint + ": unreadable reply");
  if (r.value("ok", false) == true) return r;
  const auto text = [&](const char* key) {
    const auto it = r.find(key);
    return it != r.end() && it->is_string() ? it->get<std::string>() : std::string("?");
  };
  return Status::FailedPrecondition("node at " + endpoint + " refused it (" + text("code") +
                                    "): " + text("error"));
}

Result<std::string> ReadInput(const std::string& path) {
  std::ostringstream buffer;
  if (path.empty() || path == "-") {
    buffer << std::cin.rdbuf();
    return buffer.str();
  }
  // A directory opens as a stream of zero bytes: refuse it rather than import or append nothing.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::InvalidArgument("'" + path + "' is a directory, not a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open '" + path + "'");
  buffer << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read '" + path + "'");
  return buffer.str();
}

Status WriteOutput(const std::string& path, std::string_view bytes) {
  if (path.empty() || path == "-") {
    std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::cout.flush();
    return std::cout ? Status::OK() : Status::IOError("cannot write stdout");
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return Status::IOError("cannot write '" + path + "'");
  return Status::OK();
}

nlohmann::json ToJson(const StreamInfo& info) {
  return {
      {"stream", info.name},
      {"schema", nlohmann::json::parse(SchemaToJson(info.schema))},
      {"retention",
       {{"max_age_us", info.retention.max_age_us}, {"max_records", info.retention.max_records}}},
      {"created_us", info.created_us},
      {"first_seq", info.first_seq},
      {"last_seq", info.last_seq},
      {"next_seq", info.next_seq}};
}

nlohmann::json ToJson(const StoredRecord& r, const StreamSchema& schema) {
  nlohmann::json values = nlohmann::json::object();
  for (size_t i = 0; i < schema.fields.size() && i < r.record.values.size(); ++i) {
    values[schema.fields[i].name] = r.record.values[i];
  }
  return {{"seq", r.seq},
          {"device", r.record.device_id},
          {"timestamp_us", r.record.timestamp_us},
          {"values", std::move(values)}};
}

nlohmann::json ToJson(const GroupStats& s) {
  return {{"group", s.group},
          {"stream", s.stream},
          {"next_unclaimed_seq", s.next_unclaimed_seq},
          {"committed_seq", s.committed_seq},
          {"backlog_records", s.backlog_records},
          {"leased_batches", s.leased_batches},
          {"pending_batches", s.pending_batches},
          {"dead_letter_batches", s.dead_letter_batches},
          {"acked_batches_total", s.acked_batches_total},
          {"redeliveries_total", s.redeliveries_total}};
}

nlohmann::json ToJson(const ClaimedBatch& b) {
  return {{"claimed", true},
          {"group", b.group},
          {"stream", b.stream},
          {"first_seq", b.range.first},
          {"last_seq", b.range.last},
          {"batch", b.lease.batch_id},
          {"delivery", b.lease.delivery},
          {"lease_expires_ms", b.lease_expires_ms}};
}

nlohmann::json ToJson(const ModelInfo& info) {
  return {{"name", info.name},
          {"version", info.version},
          {"blob_bytes", info.blob_bytes},
          {"blob_sha256", info.blob_sha256},
          {"retired", info.retired},
          {"aliases", info.aliases},
          {"metadata", nlohmann::json::parse(ModelMetadataToJson(info.metadata))}};
}

nlohmann::json ToJson(const RetentionReport& r) {
  nlohmann::json held = nlohmann::json::array();
  for (const auto& h : r.held_back) {
    held.push_back({{"group", h.group}, {"needs_from_seq", h.needs_from_seq}});
  }
  return {{"stream", r.stream},
          {"wanted_through_seq", r.wanted_through_seq},
          {"deleted_through_seq", r.deleted_through_seq},
          {"records_deleted", r.records_deleted},
          {"held_back", std::move(held)}};
}

Result<ResolvedModel> ResolveModelArgument(const Store& store, const std::string& ref,
                                           const std::string& best_metric, bool higher_is_better) {
  // One reference syntax for every subcommand: Store::ResolveModel.
  NEMESYST_ASSIGN_OR_RETURN(ModelRef parsed, ParseModelRef(ref));
  if (best_metric.empty()) return store.ResolveModel(parsed);
  ResolvedModel out;
  out.name = parsed.name;
  out.how = "best " + best_metric;
  if (parsed.version != 0 || !parsed.alias.empty()) {
    return Status::InvalidArgument("'" + ref + "': --best takes a bare model name");
  }
  NEMESYST_ASSIGN_OR_RETURN(out.version,
                            store.BestModelVersion(out.name, best_metric,
                                                   higher_is_better ? MetricOrder::kHigherIsBetter
                                                                    : MetricOrder::kLowerIsBetter));
  return out;
}

}  // namespace nemesyst::cli
