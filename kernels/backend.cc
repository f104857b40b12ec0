#include "nemesyst/kernels.h"

#include <string>

namespace nemesyst {

std::string_view BackendName(Backend backend) {
  switch (backend) {
    case Backend::kAuto:
      return "auto";
    case Backend::kAvx512:
      return "avx512";
    case Backend::kAvx2:
      return "avx2";
    case Backend::kOnednn:
      return "onednn";
    case Backend::kRef:
      return "ref";
  }
  return "auto";
}

Result<Backend> ParseBackend(std::string_view name) {
  for (Backend b :
       {Backend::kAuto, Backend::kAvx512, Backend::kAvx2, Backend::kOnednn, Backend::kRef}) {
    if (name == BackendName(b)) return b;
  }
  return Status::InvalidArgument("unknown kernel backend '" + std::string(name) +
                                 "' (expected auto, avx512, avx2, onednn or ref)");
}

}  // namespace nemesyst
