// A pass over an ONNX file's protobuf wire format, before it is parsed: protobuf builds the whole
// message in memory first, and a hostile file of tiny repeated messages (an empty NodeProto is 2
// bytes on the wire, ~100 in memory) would cost far more memory than its size. The scan counts
// the graph's nodes, initializers, inputs, outputs and value infos, and the nodes' inputs, outputs
// and attributes, and refuses a file whose counts exceed what any regressor needs.
#ifndef NEMESYST_KERNELS_ONNX_ONNX_WIRE_SCAN_H_
#define NEMESYST_KERNELS_ONNX_ONNX_WIRE_SCAN_H_

#include <cstdint>
#include <string_view>

#include "nemesyst/status.h"

namespace nemesyst::kernels::onnx {

inline constexpr int64_t kMaxGraphEntries = 100000;  // nodes, initializers, values (each)
inline constexpr int64_t kMaxNodeEntries = 1000000;  // Σ node inputs + outputs + attributes

// InvalidArgument naming the count when one is exceeded; OK otherwise, including for bytes that
// are not valid protobuf (the parse that follows reports those).
Status ScanOnnxCounts(std::string_view bytes);

}  // namespace nemesyst::kernels::onnx

#endif  // NEMESYST_KERNELS_ONNX_ONNX_WIRE_SCAN_H_
