// The avx2 instance of the shared SIMD kernels (see isa_ops.h).
#include "kernels/avx2/isa_ops_impl.h"
#include "kernels/avx2/simd.h"

namespace nemesyst::kernels::simd {

constinit const IsaOps kAvx2Ops = MakeIsaOps<avx2::Vec256>(Backend::kAvx2, "avx2");

}  // namespace nemesyst::kernels::simd
