#include "kernels/onnx/onnx_wire_scan.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <string>

namespace nemesyst::kernels::onnx {
namespace {

using google::protobuf::io::CodedInputStream;
using WireFormat = google::protobuf::internal::WireFormatLite;

// Field numbers of onnx.proto (ModelProto.graph; GraphProto's and NodeProto's repeated fields).
constexpr uint32_t kModelGraph = 7;
constexpr uint32_t kGraphNode = 1, kGraphInitializer = 5, kGraphInput = 11, kGraphOutput = 12,
                   kGraphValueInfo = 13, kGraphSparseInitializer = 15;
constexpr uint32_t kNodeInput = 1, kNodeOutput = 2, kNodeAttribute = 5;

bool LengthDelimited(uint32_t tag) {
  return WireFormat::GetTagWireType(tag) == WireFormat::WIRETYPE_LENGTH_DELIMITED;
}

// Counts one NodeProto's inputs, outputs and attributes; false on malformed bytes.
bool CountNode(CodedInputStream* in, int64_t* entries) {
  while (uint32_t tag = in->ReadTag()) {
    const uint32_t field = WireFormat::GetTagFieldNumber(tag);
    if (LengthDelimited(tag) &&
        (field == kNodeInput || field == kNodeOutput || field == kNodeAttribute)) {
      ++*entries;
    }
    if (!WireFormat::SkipField(in, tag)) return false;
  }
  return true;
}

}  // namespace

Status ScanOnnxCounts(std::string_view bytes) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  while (uint32_t tag = in.ReadTag()) {
    if (WireFormat::GetTagFieldNumber(tag) != kModelGraph || !LengthDelimited(tag)) {
      if (!WireFormat::SkipField(&in, tag)) return Status::OK();
      continue;
    }
    uint32_t length = 0;
    if (!in.ReadVarint32(&length)) return Status::OK();
    const CodedInputStream::Limit graph_limit = in.PushLimit(static_cast<int>(length));
    int64_t counts[16] = {0};
    int64_t node_entries = 0;
    while (uint32_t gtag = in.ReadTag()) {
      const uint32_t field = WireFormat::GetTagFieldNumber(gtag);
      if (LengthDelimited(gtag) && field < 16) ++counts[field];
      if (field == kGraphNode && LengthDelimited(gtag)) {
        uint32_t node_length = 0;
        if (!in.ReadVarint32(&node_length)) return Status::OK();
        const CodedInputStream::Limit node_limit = in.PushLimit(static_cast<int>(node_length));
        if (!CountNode(&in, &node_entries)) return Status::OK();
        in.PopLimit(node_limit);
      } else if (!WireFormat::SkipField(&in, gtag)) {
        return Status::OK();
      }
      for (uint32_t f : {kGraphNode, kGraphInitializer, kGraphInput, kGraphOutput, kGraphValueInfo,
                         kGraphSparseInitializer}) {
        if (counts[f] > kMaxGraphEntries) {
          return Status::InvalidArgument(
              "the graph has more than " + std::to_string(kMaxGraphEntries) + " entries of field " +
              std::to_string(f) + " (nodes, initializers or values): refused before parsing");
        }
      }
      if (node_entries > kMaxNodeEntries) {
        return Status::InvalidArgument("the graph's nodes have more than " +
                                       std::to_string(kMaxNodeEntries) +
                                       " inputs, outputs and attributes: refused before parsing");
      }
    }
    in.PopLimit(graph_limit);
  }
  return Status::OK();
}

}  // namespace nemesyst::kernels::onnx
