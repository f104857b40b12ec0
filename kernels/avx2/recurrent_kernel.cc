// The LSTM / vanilla-RNN / GRU kernel of the SIMD backends (avx2 and avx512): fused cell per step
// (recurrent_cell.h) for inference and training, BPTT with the packed GEMM (gemm_tile.h), and a
// persistent thread pool for threads > 1. The class is written once; the hot loops come from the
// backend's IsaOps table (isa_ops.h), which also fixes the block width of the packed panels.
//
// Threading: batch rows are independent sequences, so with enough rows each thread runs the
// whole sequence on its own rows with no synchronisation. With fewer rows than 2 × threads (batch
// 1 streaming, the latency case) the hidden blocks are split instead — each thread keeps its half
// of the weights in its own core's caches — with a barrier after every step (kGruClassic: and
// one between its two phases, since (r⊙h)·R_nᵀ needs every unit's r).
//
// BPTT works on BiasRows(cell) gate-gradient rows per unit: the gates, except that kGru keeps
// the candidate's x side (dn) and h side (dhn = dn⊙r) apart. The backward weights Wcat
// [BiasRows·H][I + H] hold zeros where a row has no weights (kGru: xn's h part, hn's x part;
// kGruClassic: n's h part, whose R_n multiplies r⊙h and gets its own GEMMs), which keeps one
// GEMM per step for [dx | dh_{t-1}] and one for the weight gradients.
#include <immintrin.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "kernels/avx2/aligned_buffer.h"
#include "kernels/avx2/gemm.h"
#include "kernels/avx2/internal.h"
#include "kernels/avx2/isa_ops.h"
#include "kernels/avx2/thread_pool.h"

namespace nemesyst::kernels::avx2 {
namespace {

class SimdRecurrentKernel final : public RecurrentKernel {
 public:
  SimdRecurrentKernel(const RecurrentShape& shape, const KernelOptions& options,
                      const simd::IsaOps& isa)
      : isa_(isa),
        shape_(shape),
        options_(options),
        gates_(GateCount(shape.cell)),
        grad_rows_(BiasRows(shape.cell)),
        blocks_((shape.hidden + isa.lanes - 1) / isa.lanes),
        panel_stride_(static_cast<size_t>(shape.input + shape.hidden) * gates_ * isa.lanes),
        pool_(options.threads) {}

  Backend backend() const override { return isa_.backend; }
  const RecurrentShape& shape() const override { return shape_; }

  Status SetWeights(const RecurrentWeights& w) override;
  Status Forward(int seq, int batch, const float* x, const float* h0, const float* c0, float* y,
                 float* h_n, float* c_n) override {
    return Run(seq, batch, x, h0, c0, y, h_n, c_n, nullptr);
  }
  Status ForwardTrain(int seq, int batch, const float* x, const float* h0, const float* c0,
                      float* y, float* h_n, float* c_n, RecurrentTape* tape) override {
    if (tape == nullptr) return Status::InvalidArgument(Error(" ForwardTrain: tape is null"));
    if (options_.fp16_weights) {
      return Status::FailedPrecondition(
          Error(": fp16_weights is inference only (no ForwardTrain)"));
    }
    return Run(seq, batch, x, h0, c0, y, h_n, c_n, tape);
  }
  Status Backward(int seq, int batch, const float* x, const float* h0, const float* c0,
                  const RecurrentTape& tape, const float* dy, const float* dh_n, const float* dc_n,
                  float* dx, float* dh0, float* dc0, const RecurrentGrads& grads) override;
  Status Step(int batch, const float* x, float* h, float* c) override {
    if (h == nullptr) return Status::InvalidArgument(Error(" Step: h is null"));
    if (IsLstm() && c == nullptr)
      return Status::InvalidArgument(Error(" Step: c is null for LSTM"));
    return Run(1, batch, x, h, c, nullptr, h, c, nullptr);
  }

 private:
  bool IsLstm() const { return shape_.cell == CellKind::kLstm; }
  bool IsClassic() const { return shape_.cell == CellKind::kGruClassic; }
  size_t StateSize(int batch) const { return static_cast<size_t>(batch) * shape_.hidden; }
  // hs [T+1][B][H]; LSTM adds cs [T+1][B][H], tanh_c [T][B][H], gates [T][B][4H]; kGru adds
  // gates [T][B][4H] (r, z, n, hn); kGruClassic gates [T][B][3H] (r, z, n) and rh [T][B][H].
  size_t TapeSize(int seq, int batch) const {
    const size_t state = StateSize(batch);
    if (IsLstm()) return (seq + 1) * state * 2 + seq * state * 5;
    return IsGru(shape_.cell) ? (seq + 1) * state + seq * state * 4 : (seq + 1) * state;
  }
  // Offset in a block's panel of gate g's weights for input k (k >= I: h_{t-1}[k - I]); the
  // layouts are in recurrent_cell.h.
  size_t PanelOffset(int g, int k) const {
    const int in = shape_.input, lanes = isa_.lanes;
    if (!IsClassic()) return (static_cast<size_t>(k) * gates_ + g) * lanes;
    if (k < in) return (static_cast<size_t>(k) * 3 + g) * lanes;
    const size_t h_part = static_cast<size_t>(in) * 3 * lanes;
    if (g < 2) return h_part + (static_cast<size_t>(k - in) * 2 + g) * lanes;
    return h_part + (static_cast<size_t>(shape_.hidden) * 2 + (k - in)) * lanes;
  }
  Status CheckCall(int seq, int batch, const float* x) const;
  bool StreamF16(int weight_split) const;
  Status Run(int seq, int batch, const float* x, const float* h0, const float* c0, float* y,
             float* h_n, float* c_n, RecurrentTape* tape);
  void RunSteps(int seq, int batch, const float* x, const float* h_init, float* y, float* tape_v);
  // "<backend>: <what>", for error messages.
  std::string Error(const char* what) const { return std::string(isa_.name) + what; }
  Status PrepareBackwardWeights();
  void PrepareGruBackwardWeights();
  void PackHx1(int rows, const float* x, const float* h, float* out) const;
  void BackwardRows(int seq, int batch, int row_begin, int row_end, const float* tape_v,
                    const float* x, const float* dy, float* dx, float* packed_hx1, float* dw_cat,
                    float* packed_rh, float* dw_rn);

  const simd::IsaOps& isa_;
  RecurrentShape shape_;
  KernelOptions options_;
  int gates_;
  int grad_rows_;  // gate-gradient rows per unit in BPTT: BiasRows(cell)
  int blocks_;
  size_t panel_stride_;
  bool has_weights_ = false;
  bool wcat_ready_ = false;
  float* c_state_ = nullptr;          // the running c of the current inference call (see Run)
  AlignedBuffer<float> panels_;       // fp32 fused-cell panels
  AlignedBuffer<uint16_t> panels16_;  // fp16 copy (fp16_weights)
  AlignedBuffer<float> bias_p_;
  AlignedBuffer<float> wcat_packed_;
  AlignedBuffer<float> rn_packed_;  // kGruClassic: R_n as the B operand of d(r⊙h) = dn·R_n
  // Scratch (grow-only).
  AlignedBuffer<float> zeros_;
  AlignedBuffer<float> ping_;  // 2 × [B][H]
  AlignedBuffer<float> c_buf_;
  AlignedBuffer<float> gru_gates_;   // kGruClassic inference: [B][3H] (CellStep::gates)
  AlignedBuffer<float> rh_;          // kGruClassic inference: [B][H] r⊙h_{t-1}
  AlignedBuffer<float> dgates_;      // [B][BiasRows*H], one step
  AlignedBuffer<float> drh_;         // kGruClassic: [B][H] d(r⊙h), one step
  AlignedBuffer<float> packed_rh_;   // kGruClassic, per thread: one step's r⊙h, packed
  AlignedBuffer<float> dw_rn_;       // kGruClassic, per thread: [H][H] dR_n
  AlignedBuffer<float> dxh_;         // [B][I+H]
  AlignedBuffer<float> dc_;          // [B][H]
  AlignedBuffer<float> packed_hx1_;  // per thread: one step's [h_prev | x | 1], packed (gemm.h)
  AlignedBuffer<float> dw_cat_;      // per thread: [BiasRows*H][H + I + 1] = dW_hh | dW_ih | db
  ThreadPool pool_;
};

Status SimdRecurrentKernel::SetWeights(const RecurrentWeights& w) {
  if (w.w_ih == nullptr || w.w_hh == nullptr || w.bias == nullptr) {
    return Status::InvalidArgument(Error(" SetWeights: w_ih, w_hh and bias must be non-null"));
  }
  const int in = shape_.input, hid = shape_.hidden, g_count = gates_, bias_rows = grad_rows_;
  const int k_total = in + hid;
  const int lanes = isa_.lanes;
  const bool classic = IsClassic();
  const size_t panel_floats = panel_stride_ * blocks_;
  if (!panels_.Reserve(panel_floats) || !bias_p_.Reserve(size_t(blocks_) * bias_rows * lanes)) {
    return Status::ResourceExhausted(Error(" SetWeights: out of memory"));
  }
  if (options_.fp16_weights && !panels16_.Reserve(panel_floats)) {
    return Status::ResourceExhausted(Error(" SetWeights: out of memory"));
  }
  float* panels = panels_.data();
  float* bias_p = bias_p_.data();
  // Every training step ends here, so the blocks are packed by all the kernel's threads (a
  // serial pack was 0.5 % of a training step at hidden 128 and the part that did not scale).
  pool_.Run([&](int index) {
    const Range blocks = Split(blocks_, pool_.size(), index);
    for (int b = blocks.begin; b < blocks.end; ++b) {
      float* panel = panels + b * panel_stride_;
      for (int g = 0; g < bias_rows; ++g) {
        for (int u = 0; u < lanes; ++u) {
          const int j = b * lanes + u;
          bias_p[(b * bias_rows + g) * lanes + u] = j < hid ? w.bias[size_t(g) * hid + j] : 0.0f;
        }
      }
      for (int g = 0; g < g_count; ++g) {
        for (int u = 0; u < lanes; ++u) {
          const int j = b * lanes + u;
          const bool valid = j < hid;
          const size_t row = static_cast<size_t>(g) * hid + j;
          for (int k = 0; k < k_total; ++k) {
            float v = 0.0f;
            if (valid) v = k < in ? w.w_ih[row * in + k] : w.w_hh[row * hid + (k - in)];
            const size_t at =
                classic ? PanelOffset(g, k) : (static_cast<size_t>(k) * g_count + g) * lanes;
            panel[at + u] = v;
          }
        }
      }
      if (!options_.fp16_weights) continue;
      // F16C conversion, 8 at a time (a panel is a multiple of the block width >= 8); the fp32
      // panels become the same rounded values, so both copies give identical results and
      // StreamF16 is free to pick either per call (fp16 weights are inference only).
      uint16_t* panel16 = panels16_.data() + b * panel_stride_;
      for (size_t i = 0; i < panel_stride_; i += 8) {
        const __m128i half = _mm256_cvtps_ph(_mm256_load_ps(panel + i), _MM_FROUND_TO_NEAREST_INT);
        _mm_store_si128(reinterpret_cast<__m128i*>(panel16 + i), half);
        _mm256_store_ps(panel + i, _mm256_cvtph_ps(half));
      }
    }
  });
  // The BPTT copy (Wcat) is built on the first Backward after this update: inference (and the
  // cold start) never pays for it.
  wcat_ready_ = false;
  has_weights_ = true;
  return Status::OK();
}

// fp16_weights fixes the numerics (every weight rounded to fp16); which copy a step streams is
// a speed choice. A GEMV step uses each weight once, and converting it costs one more vector
// uop on the ports the FMAs use, so fp16 pays only where halving the bytes lifts the weights out
// of a slower level: when a thread's share of the fp32 panels (all of them, or 1/weight_split
// when threads split the hidden blocks) is over half its L2. Measured on this project's Ice
// Lake-SP (1.25 MB L2), batch 1: hidden 256 on one thread (1.08 MB of fp32) ran about 15 %
// faster in fp16; hidden 64 and 128 (73 and 278 KB) ran 5-15 % slower.
bool SimdRecurrentKernel::StreamF16(int weight_split) const {
  if (!options_.fp16_weights) return false;
  static const size_t kL2Bytes = [] {
    const long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return l2 > 0 ? static_cast<size_t>(l2) : size_t{1} << 20;
  }();
  const size_t share = panel_stride_ * blocks_ * sizeof(float) / std::max(1, weight_split);
  return share > kL2Bytes / 2;
}

Status SimdRecurrentKernel::CheckCall(int seq, int batch, const float* x) const {
  if (!has_weights_) return Status::FailedPrecondition(Error(" kernel: SetWeights not called"));
  if (seq < 1 || batch < 1) {
    return Status::InvalidArgument(Error(" kernel: seq and batch must be >= 1, got seq ") +
                                   std::to_string(seq) + ", batch " + std::to_string(batch));
  }
  if (x == nullptr) return Status::InvalidArgument(Error(" kernel: x is null"));
  return Status::OK();
}

// Tape layout (floats): hs [T+1][B][H] (hs[0] = h0), then for LSTM cs [T+1][B][H] (cs[0] = c0),
// tanh_c [T][B][H] and gates [T][B][4H]; for the GRUs see TapeSize.
Status SimdRecurrentKernel::Run(int seq, int batch, const float* x, const float* h0,
                                const float* c0, float* y, float* h_n, float* c_n,
                                RecurrentTape* tape) {
  NEMESYST_RETURN_IF_ERROR(CheckCall(seq, batch, x));
  const size_t state = StateSize(batch);
  if (!zeros_.Reserve(state) || !ping_.Reserve(2 * state) || !c_buf_.Reserve(state) ||
      (IsClassic() && (!gru_gates_.Reserve(3 * state) || !rh_.Reserve(state)))) {
    return Status::ResourceExhausted(Error(" kernel: out of memory"));
  }
  if (h0 == nullptr) zeros_.Zero(state);
  const float* h_init = h0 != nullptr ? h0 : zeros_.data();
  float* tape_v = nullptr;
  if (tape != nullptr) {
    tape->values.resize(TapeSize(seq, batch));
    tape->workspace.clear();
    tape->seq = seq;
    tape->batch = batch;
    tape_v = tape->values.data();
    std::memcpy(tape_v, h_init, state * sizeof(float));
  }
  // The running cell state: the tape's cs[0], or (inference) the caller's buffer itself when c0
  // and c_n are the same array (Step), else our scratch. Updating it in place is safe: each
  // element is read and written by the same tile lane only.
  c_state_ = c_buf_.data();
  if (IsLstm()) {
    if (tape_v != nullptr) {
      c_state_ = tape_v + (seq + 1) * state;
    } else if (c0 != nullptr && c0 == c_n) {
      c_state_ = c_n;
    }
    if (c0 == nullptr) {
      std::memset(c_state_, 0, state * sizeof(float));
    } else if (c_state_ != c0) {
      std::memcpy(c_state_, c0, state * sizeof(float));
    }
  }
  RunSteps(seq, batch, x, h_init, y, tape_v);
  // Final states.
  const float* h_last = tape_v != nullptr ? tape_v + seq * state
                        : y != nullptr    ? y + (seq - 1) * state
                                          : ping_.data() + ((seq - 1) & 1) * state;
  if (h_n != nullptr && h_n != h_last) std::memcpy(h_n, h_last, state * sizeof(float));
  if (IsLstm() && c_n != nullptr) {
    const float* c_last = tape_v != nullptr ? tape_v + (2 * seq + 1) * state : c_state_;
    if (c_last != c_n) std::memcpy(c_n, c_last, state * sizeof(float));
  }
  return Status::OK();
}

void SimdRecurrentKernel::RunSteps(int seq, int batch, const float* x, const float* h_init,
                                   float* y, float* tape_v) {
  const bool tape = tape_v != nullptr;
  simd::CellWeights w;
  w.cell = shape_.cell;
  w.f32 = panels_.data();
  w.panel_stride = panel_stride_;
  w.bias = bias_p_.data();
  const size_t state = StateSize(batch);
  const int threads = pool_.size();
  const bool split_rows = batch >= 2 * threads;
  w.f16 = !tape && StreamF16(split_rows ? 1 : threads) ? panels16_.data() : nullptr;
  const bool lstm = IsLstm();
  const bool gru = IsGru(shape_.cell);
  const bool classic = IsClassic();
  const int gate_floats = classic ? 3 : 4;  // GRU gates per unit in CellStep::gates
  pool_.Run([&](int index) {
    const Range rows = split_rows ? Split(batch, threads, index) : Range{0, batch};
    const Range blks = split_rows ? Range{0, blocks_} : Split(blocks_, threads, index);
    simd::CellStep s;
    s.input = shape_.input;
    s.hidden = shape_.hidden;
    for (int t = 0; t < seq; ++t) {
      s.x = x + static_cast<size_t>(t) * batch * shape_.input;
      if (tape) {
        s.h_prev = tape_v + t * state;
        s.h_out = tape_v + (t + 1) * state;
        if (lstm) {
          float* cs = tape_v + (seq + 1) * state;
          s.c_in = cs + t * state;
          s.c_out = cs + (t + 1) * state;
          s.tanh_c = tape_v + 2 * (seq + 1) * state + t * state;
          s.gates = tape_v + (2 * (seq + 1) + seq) * state + t * state * 4;
        } else if (gru) {
          s.gates = tape_v + (seq + 1) * state + t * state * gate_floats;
          s.rh = tape_v + (seq + 1) * state + seq * state * 3 + t * state;  // classic only
        }
      } else {
        s.h_prev = t == 0         ? h_init
                   : y != nullptr ? y + (t - 1) * state
                                  : ping_.data() + ((t - 1) & 1) * state;
        s.h_out = y != nullptr ? y + t * state : ping_.data() + (t & 1) * state;
        s.c_in = c_state_;
        s.c_out = c_state_;
        s.gates = gru_gates_.data();
        s.rh = rh_.data();
      }
      if (classic) {
        s.phase = 0;
        isa_.cell_step(s, w, tape, rows.begin, rows.end, blks.begin, blks.end);
        if (!split_rows) pool_.Barrier();  // phase 1 reads every unit of r⊙h
        s.phase = 1;
      }
      isa_.cell_step(s, w, tape, rows.begin, rows.end, blks.begin, blks.end);
      if (!split_rows) pool_.Barrier();
      if (tape && y != nullptr) {
        // Training also hands h_t to the caller: copy this thread's rows while they are in its
        // cache (one serial memcpy of the whole output after the last step read it back from L3
        // on one core). With split hidden blocks the barrier above has completed the rows.
        const Range copy = split_rows ? rows : Split(batch, threads, index);
        const size_t at = static_cast<size_t>(copy.begin) * shape_.hidden;
        std::memcpy(y + t * state + at, s.h_out + at,
                    static_cast<size_t>(copy.end - copy.begin) * shape_.hidden * sizeof(float));
      }
    }
  });
}

Status SimdRecurrentKernel::Backward(int seq, int batch, const float* x, const float*, const float*,
                                     const RecurrentTape& tape, const float* dy, const float* dh_n,
                                     const float* dc_n, float* dx, float* dh0, float* dc0,
                                     const RecurrentGrads& grads) {
  NEMESYST_RETURN_IF_ERROR(CheckCall(seq, batch, x));
  if (options_.fp16_weights) {
    return Status::FailedPrecondition(Error(": fp16_weights is inference only (no Backward)"));
  }
  if (grads.w_ih == nullptr || grads.w_hh == nullptr || grads.bias == nullptr) {
    return Status::InvalidArgument(Error(" Backward: grads must be non-null"));
  }
  const size_t state = StateSize(batch);
  if (tape.seq != seq || tape.batch != batch || tape.values.size() != TapeSize(seq, batch)) {
    return Status::InvalidArgument(
        Error(" Backward: tape was not recorded by this kernel for seq ") + std::to_string(seq) +
        ", batch " + std::to_string(batch));
  }
  const int in = shape_.input, hid = shape_.hidden, gh = grad_rows_ * hid;
  const int k_total = in + hid;
  const int n_cat = k_total + 1;
  const int threads = pool_.size();
  const size_t packed_size = simd::PackedBSize(batch, n_cat, isa_.gemm_panel_width);
  const size_t dw_size = size_t(gh) * n_cat;
  const bool classic = IsClassic();
  const size_t rh_size = classic ? simd::PackedBSize(batch, hid, isa_.gemm_panel_width) : 0;
  const size_t rn_size = classic ? size_t(hid) * hid : 0;
  if (!dgates_.Reserve(size_t(batch) * gh) || !dxh_.Reserve(size_t(batch) * k_total) ||
      !dc_.Reserve(state) || !packed_hx1_.Reserve(threads * packed_size) ||
      !dw_cat_.Reserve(threads * dw_size) ||
      (classic && (!drh_.Reserve(state) || !packed_rh_.Reserve(threads * rh_size) ||
                   !dw_rn_.Reserve(threads * rn_size)))) {
    return Status::ResourceExhausted(Error(" Backward: out of memory"));
  }
  NEMESYST_RETURN_IF_ERROR(PrepareBackwardWeights());
  const float* tape_v = tape.values.data();
  // Incoming state gradients.
  for (int b = 0; b < batch; ++b) {
    float* dh = dxh_.data() + size_t(b) * k_total + in;
    if (dh_n != nullptr) {
      std::memcpy(dh, dh_n + size_t(b) * hid, hid * sizeof(float));
    } else {
      std::memset(dh, 0, hid * sizeof(float));
    }
  }
  if (IsLstm()) {
    if (dc_n != nullptr) {
      std::memcpy(dc_.data(), dc_n, state * sizeof(float));
    } else {
      std::memset(dc_.data(), 0, state * sizeof(float));
    }
  }
  pool_.Run([&](int index) {
    const Range rows = Split(batch, threads, index);
    BackwardRows(seq, batch, rows.begin, rows.end, tape_v, x, dy, dx,
                 packed_hx1_.data() + index * packed_size, dw_cat_.data() + index * dw_size,
                 packed_rh_.data() + index * rh_size, dw_rn_.data() + index * rn_size);
    pool_.Barrier();
    // Sum the threads' [dW_hh | dW_ih | db] into the gradients, rows of dW split between
    // threads. Split gives batch rows to the first min(threads, batch) threads only; the others
    // wrote nothing. Gate-gradient row r is weight row r, except: kGru's xn rows (2H..3H) have
    // no W_hh part and its hn rows (3H..4H) no W_ih part and W_hh row r - H; kGruClassic's
    // R_n rows come from dw_rn.
    const Range m = Split(gh, threads, index);
    const int parts = std::min(threads, batch);
    const bool lbr = shape_.cell == CellKind::kGru;
    for (int r = m.begin; r < m.end; ++r) {
      const bool has_ih = !(lbr && r >= 3 * hid);
      const bool has_hh = !(lbr && r >= 2 * hid && r < 3 * hid);
      const bool from_rn = classic && r >= 2 * hid;
      float* w_hh = grads.w_hh + size_t(lbr && r >= 3 * hid ? r - hid : r) * hid;
      float* w_ih = grads.w_ih + size_t(r) * in;
      for (int part = 0; part < parts; ++part) {
        const float* dw = dw_cat_.data() + part * dw_size + size_t(r) * n_cat;
        const float* dw_hh =
            from_rn ? dw_rn_.data() + part * rn_size + size_t(r - 2 * hid) * hid : dw;
        if (has_hh) {
          for (int j = 0; j < hid; ++j) w_hh[j] += dw_hh[j];
        }
        if (has_ih) {
          for (int j = 0; j < in; ++j) w_ih[j] += dw[hid + j];
        }
        grads.bias[r] += dw[k_total];
      }
    }
  });
  if (dh0 != nullptr) {
    for (int b = 0; b < batch; ++b) {
      std::memcpy(dh0 + size_t(b) * hid, dxh_.data() + size_t(b) * k_total + in,
                  hid * sizeof(float));
    }
  }
  if (IsLstm() && dc0 != nullptr) std::memcpy(dc0, dc_.data(), state * sizeof(float));
  return Status::OK();
}

// Packs Wcat = [w_ih | w_hh] ([G*H][I+H]; the panels hold exactly these values) as the B
// operand of [dx | dh_prev] = dG · Wcat. The GRUs' Wcat has BiasRows·H rows (see the top of the
// file), and kGruClassic also packs R_n ([H][H]) for d(r⊙h) = dn·R_n.
Status SimdRecurrentKernel::PrepareBackwardWeights() {
  if (wcat_ready_) return Status::OK();
  const int in = shape_.input, hid = shape_.hidden, g_count = gates_;
  const int k_total = in + hid;
  const int width = isa_.gemm_panel_width, lanes = isa_.lanes;
  const int rows = grad_rows_ * hid;
  if (!wcat_packed_.Reserve(simd::PackedBSize(rows, k_total, width)) ||
      (IsClassic() && !rn_packed_.Reserve(simd::PackedBSize(hid, hid, width)))) {
    return Status::ResourceExhausted(Error(" Backward: out of memory"));
  }
  if (IsGru(shape_.cell)) {
    PrepareGruBackwardWeights();
    wcat_ready_ = true;
    return Status::OK();
  }
  // Element (row = g*H + j, col = k) of Wcat sits in block j/L's panel at [k][g][j%L]; PackB
  // reads it through strides only within one block, so pack block by block.
  // Split over the kernel's threads like SetWeights (training repacks after every update).
  float* out = wcat_packed_.data();
  const int panels = (k_total + width - 1) / width;
  pool_.Run([&](int index) {
    const Range mine = Split(panels, pool_.size(), index);
    for (int p = mine.begin; p < mine.end; ++p) {
      float* panel = out + static_cast<size_t>(p) * g_count * hid * width;
      for (int g = 0; g < g_count; ++g) {
        for (int j = 0; j < hid; ++j) {
          const float* src = panels_.data() + (j / lanes) * panel_stride_ + g * lanes + (j % lanes);
          float* row = panel + (static_cast<size_t>(g) * hid + j) * width;
          for (int c = 0; c < width; ++c) {
            const int k = p * width + c;
            row[c] = k < k_total ? src[static_cast<size_t>(k) * g_count * lanes] : 0.0f;
          }
        }
      }
    }
  });
  wcat_ready_ = true;
  return Status::OK();
}

// PrepareBackwardWeights for the GRUs: Wcat row g·H + j is gate g's weights of unit j (g = 3:
// kGru's hn, R_n only), with the zero parts; element by element through PanelOffset, which
// covers both GRU panel layouts (a pack per update, not per step).
void SimdRecurrentKernel::PrepareGruBackwardWeights() {
  const int in = shape_.input, hid = shape_.hidden;
  const int k_total = in + hid;
  const int width = isa_.gemm_panel_width, lanes = isa_.lanes;
  const int rows = grad_rows_ * hid;
  const bool lbr = shape_.cell == CellKind::kGru;
  auto weight = [&](int g, int j, int k) {
    return panels_.data()[(j / lanes) * panel_stride_ + PanelOffset(g, k) + (j % lanes)];
  };
  auto wcat = [&](int row, int k) {
    const int g = row / hid, j = row % hid;
    if (g == 3) return k < in ? 0.0f : weight(2, j, k);  // kGru's hn
    if (g == 2 && k >= in) return 0.0f;                  // xn (kGru), n (classic: via rh)
    return weight(g, j, k);
  };
  const int panels = (k_total + width - 1) / width;
  const int rn_panels = lbr ? 0 : (hid + width - 1) / width;
  pool_.Run([&](int index) {
    const Range mine = Split(panels + rn_panels, pool_.size(), index);
    for (int p = mine.begin; p < mine.end; ++p) {
      if (p < panels) {
        float* panel = wcat_packed_.data() + static_cast<size_t>(p) * rows * width;
        for (int row = 0; row < rows; ++row) {
          for (int c = 0; c < width; ++c) {
            const int k = p * width + c;
            panel[static_cast<size_t>(row) * width + c] = k < k_total ? wcat(row, k) : 0.0f;
          }
        }
      } else {
        // R_n as B (K = unit j, N = input k of h).
        const int q = p - panels;
        float* panel = rn_packed_.data() + static_cast<size_t>(q) * hid * width;
        for (int j = 0; j < hid; ++j) {
          for (int c = 0; c < width; ++c) {
            const int k = q * width + c;
            panel[static_cast<size_t>(j) * width + c] = k < hid ? weight(2, j, in + k) : 0.0f;
          }
        }
      }
    }
  });
}

// Packs the B operand of one step's weight-gradient GEMM: row k is [h_k | x_k | 1] (h and x
// rows consecutive, strides H and I; the 1 makes the last column of the product the bias
// gradient), in the instruction set's panels (see gemm.h).
void SimdRecurrentKernel::PackHx1(int rows, const float* x, const float* h, float* out) const {
  const int in = shape_.input, hid = shape_.hidden, width = isa_.gemm_panel_width;
  const int n = hid + in + 1;
  const int panels = (n + width - 1) / width;
  for (int p = 0; p < panels; ++p) {
    float* panel = out + static_cast<size_t>(p) * rows * width;
    const int j0 = p * width;
    for (int k = 0; k < rows; ++k) {
      float* row = panel + static_cast<size_t>(k) * width;
      const float* h_row = h + static_cast<size_t>(k) * hid;
      const float* x_row = x + static_cast<size_t>(k) * in;
      // Column j of the panel's [j0, j0 + width): h (j < H), x (j < H + I), the 1, zeros.
      int c = 0;
      for (int j = j0; j < std::min(j0 + width, hid); ++j) row[c++] = h_row[j];
      for (int j = std::max(j0, hid); j < std::min(j0 + width, hid + in); ++j) {
        row[c++] = x_row[j - hid];
      }
      if (hid + in >= j0 && hid + in < j0 + width) row[c++] = 1.0f;
      for (; c < width; ++c) row[c] = 0.0f;
    }
  }
}

// BPTT for rows [row_begin, row_end): gate gradients into dgates_ step by step, their share of
// the weight gradients into this thread's dw_cat, then [dx_t | dh_{t-1}] = dG_t · Wcat. Rows
// never interact, so threads run this without syncing.
void SimdRecurrentKernel::BackwardRows(int seq, int batch, int row_begin, int row_end,
                                       const float* tape_v, const float* x, const float* dy,
                                       float* dx, float* packed_hx1, float* dw_cat,
                                       float* packed_rh, float* dw_rn) {
  if (row_end <= row_begin) return;
  const int in = shape_.input, hid = shape_.hidden, gh = grad_rows_ * hid;
  const int k_total = in + hid;
  const size_t state = StateSize(batch);
  const bool lstm = IsLstm();
  const bool gru = IsGru(shape_.cell);
  const bool classic = IsClassic();
  const int gate_floats = classic ? 3 * hid : 4 * hid;  // GRU tape gates per row
  const float* gru_gates = tape_v + (seq + 1) * state;
  const float* rhs = gru_gates + seq * state * 3;  // kGruClassic
  const float* hs = tape_v;
  const float* cs = tape_v + (seq + 1) * state;
  const float* tanh_cs = tape_v + 2 * (seq + 1) * state;
  const float* gates_all = tape_v + (2 * (seq + 1) + seq) * state;
  simd::GateGradRow g;
  g.hidden = hid;
  for (int t = seq - 1; t >= 0; --t) {
    float* dg_t = dgates_.data();
    for (int b = row_begin; b < row_end; ++b) {
      const size_t at = size_t(b) * hid;
      g.dh_next = dxh_.data() + size_t(b) * k_total + in;
      g.dy = dy != nullptr ? dy + t * state + at : nullptr;
      g.dg = dg_t + size_t(b) * gh;
      if (lstm) {
        g.gates = gates_all + size_t(t) * state * 4 + size_t(b) * gh;
        g.tanh_c = tanh_cs + t * state + at;
        g.c_prev = cs + t * state + at;
        g.dc = dc_.data() + at;
      } else if (gru) {
        g.gates = gru_gates + t * state * (gate_floats / hid) + size_t(b) * gate_floats;
        g.h = hs + t * state + at;
        g.gru = classic ? simd::GruGradPass::kClassicCandidate : simd::GruGradPass::kGru;
      } else {
        g.h = hs + (t + 1) * state + at;
      }
      isa_.gate_grads_row(g);
    }
    const int rows = row_end - row_begin;
    const float* dg_rows = dg_t + size_t(row_begin) * gh;
    if (classic) {
      // d(r⊙h) = dn · R_n, then dr (and the d(r⊙h)⊙r part of dh_{t-1}); dR_n += dnᵀ · (r⊙h).
      float* drh = drh_.data();
      isa_.gemm(rows, hid, hid, dg_rows + 2 * hid, gh, 1, rn_packed_.data(),
                drh + size_t(row_begin) * hid, hid, false);
      g.gru = simd::GruGradPass::kClassicReset;
      g.dy = nullptr;
      for (int b = row_begin; b < row_end; ++b) {
        g.dh_next = dxh_.data() + size_t(b) * k_total + in;
        g.dg = dg_t + size_t(b) * gh;
        g.gates = gru_gates + t * state * 3 + size_t(b) * gate_floats;
        g.h = hs + t * state + size_t(b) * hid;
        g.drh = drh + size_t(b) * hid;
        isa_.gate_grads_row(g);
      }
      simd::PackB(rows, hid, rhs + t * state + size_t(row_begin) * hid, hid, 1,
                  isa_.gemm_panel_width, packed_rh);
      isa_.gemm(hid, hid, rows, dg_rows + 2 * hid, 1, gh, packed_rh, dw_rn, hid, t != seq - 1);
    }
    // This step's share of [dW_hh | dW_ih | db] += dG_tᵀ · [h_{t-1} | x_t | 1] while dG_t is
    // still in cache (a sequence-wide GEMM afterwards would read all T steps of dG back, one
    // cache line per k, from L3).
    PackHx1(rows, x + (size_t(t) * batch + row_begin) * in,
            hs + t * state + size_t(row_begin) * hid, packed_hx1);
    isa_.gemm(gh, k_total + 1, rows, dg_rows, 1, gh, packed_hx1, dw_cat, k_total + 1, t != seq - 1);
    // [dx_t | dh_{t-1}] = dG_t · [W_ih | W_hh]; the GRUs add it to [0 | the direct part of
    // dh_{t-1}] that the gate-gradient passes left in dh_next.
    if (gru) {
      for (int b = row_begin; b < row_end; ++b) {
        std::memset(dxh_.data() + size_t(b) * k_total, 0, in * sizeof(float));
      }
    }
    isa_.gemm(rows, k_total, gh, dg_rows, gh, 1, wcat_packed_.data(),
              dxh_.data() + size_t(row_begin) * k_total, k_total, gru);
    if (dx != nullptr) {
      for (int b = row_begin; b < row_end; ++b) {
        std::memcpy(dx + (size_t(t) * batch + b) * in, dxh_.data() + size_t(b) * k_total,
                    in * sizeof(float));
      }
    }
  }
}

}  // namespace

std::unique_ptr<RecurrentKernel> NewRecurrentKernel(const RecurrentShape& shape,
                                                    const KernelOptions& options,
                                                    const simd::IsaOps& isa) {
  return std::make_unique<SimdRecurrentKernel>(shape, options, isa);
}

}  // namespace nemesyst::kernels::avx2
