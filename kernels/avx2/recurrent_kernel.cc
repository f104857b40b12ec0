// The avx2 LSTM / vanilla-RNN kernel: fused cell per step (recurrent_cell.h) for inference and
// training, BPTT with the packed GEMM (gemm.h), and a persistent thread pool for threads > 1.
//
// Threading: batch rows are independent sequences, so with enough rows each thread runs the
// whole sequence on its own rows with no synchronisation. With fewer rows than 2 × threads (batch
// 1 streaming, the latency case) the hidden blocks are split instead — each thread keeps its half
// of the weights in its own core's caches — with a barrier after every step.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "kernels/avx2/aligned_buffer.h"
#include "kernels/avx2/gemm.h"
#include "kernels/avx2/internal.h"
#include "kernels/avx2/recurrent_cell.h"
#include "kernels/avx2/thread_pool.h"

namespace nemesyst::kernels::avx2 {
namespace {

class Avx2RecurrentKernel final : public RecurrentKernel {
 public:
  Avx2RecurrentKernel(const RecurrentShape& shape, const KernelOptions& options)
      : shape_(shape),
        options_(options),
        gates_(GateCount(shape.cell)),
        blocks_((shape.hidden + kCellBlock - 1) / kCellBlock),
        panel_stride_(static_cast<size_t>(shape.input + shape.hidden) * gates_ * kCellBlock),
        pool_(options.threads) {}

  Backend backend() const override { return Backend::kAvx2; }
  const RecurrentShape& shape() const override { return shape_; }

  Status SetWeights(const RecurrentWeights& w) override;
  Status Forward(int seq, int batch, const float* x, const float* h0, const float* c0, float* y,
                 float* h_n, float* c_n) override {
    return Run(seq, batch, x, h0, c0, y, h_n, c_n, nullptr);
  }
  Status ForwardTrain(int seq, int batch, const float* x, const float* h0, const float* c0,
                      float* y, float* h_n, float* c_n, RecurrentTape* tape) override {
    if (tape == nullptr) return Status::InvalidArgument("avx2 ForwardTrain: tape is null");
    if (options_.fp16_weights) {
      return Status::FailedPrecondition("avx2: fp16_weights is inference only (no ForwardTrain)");
    }
    return Run(seq, batch, x, h0, c0, y, h_n, c_n, tape);
  }
  Status Backward(int seq, int batch, const float* x, const float* h0, const float* c0,
                  const RecurrentTape& tape, const float* dy, const float* dh_n, const float* dc_n,
                  float* dx, float* dh0, float* dc0, const RecurrentGrads& grads) override;
  Status Step(int batch, const float* x, float* h, float* c) override {
    if (h == nullptr) return Status::InvalidArgument("avx2 Step: h is null");
    if (IsLstm() && c == nullptr) return Status::InvalidArgument("avx2 Step: c is null for LSTM");
    return Run(1, batch, x, h, c, nullptr, h, c, nullptr);
  }

 private:
  bool IsLstm() const { return shape_.cell == CellKind::kLstm; }
  size_t StateSize(int batch) const { return static_cast<size_t>(batch) * shape_.hidden; }
  // hs [T+1][B][H]; LSTM adds cs [T+1][B][H], tanh_c [T][B][H], gates [T][B][4H].
  size_t TapeSize(int seq, int batch) const {
    const size_t state = StateSize(batch);
    return IsLstm() ? (seq + 1) * state * 2 + seq * state * 5 : (seq + 1) * state;
  }
  Status CheckCall(int seq, int batch, const float* x) const;
  Status Run(int seq, int batch, const float* x, const float* h0, const float* c0, float* y,
             float* h_n, float* c_n, RecurrentTape* tape);
  template <typename WT, bool kTape>
  void RunSteps(int seq, int batch, const float* x, const float* h_init, float* y, float* tape_v);
  Status PrepareBackwardWeights();
  void BackwardRows(int seq, int batch, int row_begin, int row_end, const float* tape_v,
                    const float* dy, float* dx);

  RecurrentShape shape_;
  KernelOptions options_;
  int gates_;
  int blocks_;
  size_t panel_stride_;
  bool has_weights_ = false;
  bool wcat_ready_ = false;
  float* c_state_ = nullptr;          // the running c of the current inference call (see Run)
  AlignedBuffer<float> panels_;       // fp32 fused-cell panels
  AlignedBuffer<uint16_t> panels16_;  // fp16 copy (fp16_weights)
  AlignedBuffer<float> bias_p_;
  AlignedBuffer<float> wcat_packed_;
  // Scratch (grow-only).
  AlignedBuffer<float> zeros_;
  AlignedBuffer<float> ping_;  // 2 × [B][H]
  AlignedBuffer<float> c_buf_;
  AlignedBuffer<float> dgates_;  // [T][B][G*H]
  AlignedBuffer<float> dxh_;     // [B][I+H]
  AlignedBuffer<float> dc_;      // [B][H]
  AlignedBuffer<float> packed_x_;
  AlignedBuffer<float> packed_h_;
  ThreadPool pool_;
};

Status Avx2RecurrentKernel::SetWeights(const RecurrentWeights& w) {
  if (w.w_ih == nullptr || w.w_hh == nullptr || w.bias == nullptr) {
    return Status::InvalidArgument("avx2 SetWeights: w_ih, w_hh and bias must be non-null");
  }
  const int in = shape_.input, hid = shape_.hidden, g_count = gates_;
  const int k_total = in + hid;
  const size_t panel_floats = panel_stride_ * blocks_;
  if (!panels_.Reserve(panel_floats) || !bias_p_.Reserve(size_t(blocks_) * g_count * 8)) {
    return Status::ResourceExhausted("avx2 SetWeights: out of memory");
  }
  float* panels = panels_.data();
  float* bias_p = bias_p_.data();
  for (int b = 0; b < blocks_; ++b) {
    float* panel = panels + b * panel_stride_;
    for (int g = 0; g < g_count; ++g) {
      for (int u = 0; u < kCellBlock; ++u) {
        const int j = b * kCellBlock + u;
        const bool valid = j < hid;
        const size_t row = static_cast<size_t>(g) * hid + j;
        bias_p[(b * g_count + g) * kCellBlock + u] = valid ? w.bias[row] : 0.0f;
        for (int k = 0; k < k_total; ++k) {
          float v = 0.0f;
          if (valid) v = k < in ? w.w_ih[row * in + k] : w.w_hh[row * hid + (k - in)];
          panel[(static_cast<size_t>(k) * g_count + g) * kCellBlock + u] = v;
        }
      }
    }
  }
  if (options_.fp16_weights) {
    if (!panels16_.Reserve(panel_floats)) {
      return Status::ResourceExhausted("avx2 SetWeights: out of memory");
    }
    for (size_t i = 0; i < panel_floats; i += 8) {
      _mm_store_si128(reinterpret_cast<__m128i*>(panels16_.data() + i),
                      _mm256_cvtps_ph(_mm256_load_ps(panels + i), _MM_FROUND_TO_NEAREST_INT));
    }
  }
  // The BPTT copy (Wcat) is built on the first Backward after this update: inference (and the
  // cold start) never pays for it.
  wcat_ready_ = false;
  has_weights_ = true;
  return Status::OK();
}

Status Avx2RecurrentKernel::CheckCall(int seq, int batch, const float* x) const {
  if (!has_weights_) return Status::FailedPrecondition("avx2 kernel: SetWeights not called");
  if (seq < 1 || batch < 1) {
    return Status::InvalidArgument("avx2 kernel: seq and batch must be >= 1, got seq " +
                                   std::to_string(seq) + ", batch " + std::to_string(batch));
  }
  if (x == nullptr) return Status::InvalidArgument("avx2 kernel: x is null");
  return Status::OK();
}

// Tape layout (floats): hs [T+1][B][H] (hs[0] = h0), then for LSTM cs [T+1][B][H] (cs[0] = c0),
// tanh_c [T][B][H] and gates [T][B][4H].
Status Avx2RecurrentKernel::Run(int seq, int batch, const float* x, const float* h0,
                                const float* c0, float* y, float* h_n, float* c_n,
                                RecurrentTape* tape) {
  NEMESYST_RETURN_IF_ERROR(CheckCall(seq, batch, x));
  const size_t state = StateSize(batch);
  if (!zeros_.Reserve(state) || !ping_.Reserve(2 * state) || !c_buf_.Reserve(state)) {
    return Status::ResourceExhausted("avx2 kernel: out of memory");
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
  if (tape_v != nullptr) {
    RunSteps<float, true>(seq, batch, x, h_init, y, tape_v);
  } else if (options_.fp16_weights) {
    RunSteps<uint16_t, false>(seq, batch, x, h_init, y, nullptr);
  } else {
    RunSteps<float, false>(seq, batch, x, h_init, y, nullptr);
  }
  // Final states.
  const float* h_last = tape_v != nullptr ? tape_v + seq * state
                        : y != nullptr    ? y + (seq - 1) * state
                                          : ping_.data() + ((seq - 1) & 1) * state;
  if (tape_v != nullptr && y != nullptr) {
    std::memcpy(y, tape_v + state, seq * state * sizeof(float));
  }
  if (h_n != nullptr && h_n != h_last) std::memcpy(h_n, h_last, state * sizeof(float));
  if (IsLstm() && c_n != nullptr) {
    const float* c_last = tape_v != nullptr ? tape_v + (2 * seq + 1) * state : c_state_;
    if (c_last != c_n) std::memcpy(c_n, c_last, state * sizeof(float));
  }
  return Status::OK();
}

template <typename WT, bool kTape>
void Avx2RecurrentKernel::RunSteps(int seq, int batch, const float* x, const float* h_init,
                                   float* y, float* tape_v) {
  const WT* panels;
  if constexpr (std::is_same_v<WT, float>) {
    panels = panels_.data();
  } else {
    panels = panels16_.data();
  }
  const size_t state = StateSize(batch);
  const int threads = pool_.size();
  const bool split_rows = batch >= 2 * threads;
  const bool lstm = IsLstm();
  pool_.Run([&](int index) {
    const Range rows = split_rows ? Split(batch, threads, index) : Range{0, batch};
    const Range blks = split_rows ? Range{0, blocks_} : Split(blocks_, threads, index);
    CellStep s;
    s.input = shape_.input;
    s.hidden = shape_.hidden;
    for (int t = 0; t < seq; ++t) {
      s.x = x + static_cast<size_t>(t) * batch * shape_.input;
      if constexpr (kTape) {
        s.h_prev = tape_v + t * state;
        s.h_out = tape_v + (t + 1) * state;
        if (lstm) {
          float* cs = tape_v + (seq + 1) * state;
          s.c_in = cs + t * state;
          s.c_out = cs + (t + 1) * state;
          s.tanh_c = tape_v + 2 * (seq + 1) * state + t * state;
          s.gates = tape_v + (2 * (seq + 1) + seq) * state + t * state * 4;
        }
      } else {
        s.h_prev = t == 0         ? h_init
                   : y != nullptr ? y + (t - 1) * state
                                  : ping_.data() + ((t - 1) & 1) * state;
        s.h_out = y != nullptr ? y + t * state : ping_.data() + (t & 1) * state;
        s.c_in = c_state_;
        s.c_out = c_state_;
      }
      if (lstm) {
        RunCellStep<4, WT, kTape>(s, panels, panel_stride_, bias_p_.data(), rows.begin, rows.end,
                                  blks.begin, blks.end);
      } else {
        RunCellStep<1, WT, kTape>(s, panels, panel_stride_, bias_p_.data(), rows.begin, rows.end,
                                  blks.begin, blks.end);
      }
      if (!split_rows) pool_.Barrier();
    }
  });
}

Status Avx2RecurrentKernel::Backward(int seq, int batch, const float* x, const float*, const float*,
                                     const RecurrentTape& tape, const float* dy, const float* dh_n,
                                     const float* dc_n, float* dx, float* dh0, float* dc0,
                                     const RecurrentGrads& grads) {
  NEMESYST_RETURN_IF_ERROR(CheckCall(seq, batch, x));
  if (options_.fp16_weights) {
    return Status::FailedPrecondition("avx2: fp16_weights is inference only (no Backward)");
  }
  if (grads.w_ih == nullptr || grads.w_hh == nullptr || grads.bias == nullptr) {
    return Status::InvalidArgument("avx2 Backward: grads must be non-null");
  }
  const size_t state = StateSize(batch);
  if (tape.seq != seq || tape.batch != batch || tape.values.size() != TapeSize(seq, batch)) {
    return Status::InvalidArgument("avx2 Backward: tape was not recorded by this kernel for seq " +
                                   std::to_string(seq) + ", batch " + std::to_string(batch));
  }
  const int in = shape_.input, hid = shape_.hidden, gh = gates_ * hid;
  const int k_total = in + hid;
  const int tb = seq * batch;
  if (!dgates_.Reserve(size_t(tb) * gh) || !dxh_.Reserve(size_t(batch) * k_total) ||
      !dc_.Reserve(state) || !packed_x_.Reserve(PackedBSize(tb, in)) ||
      !packed_h_.Reserve(PackedBSize(tb, hid))) {
    return Status::ResourceExhausted("avx2 Backward: out of memory");
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
  PackB(tb, in, x, in, 1, packed_x_.data());
  PackB(tb, hid, tape_v, hid, 1, packed_h_.data());  // hs[0..T) = h_{t-1} for every t

  const int threads = pool_.size();
  pool_.Run([&](int index) {
    const Range rows = Split(batch, threads, index);
    BackwardRows(seq, batch, rows.begin, rows.end, tape_v, dy, dx);
    pool_.Barrier();
    // Weight gradients over the whole sequence: dW += dGᵀ · [x | h_prev], rows of dW split.
    const Range m = Split(gh, threads, index);
    const int mr = m.end - m.begin;
    const float* dg = dgates_.data() + m.begin;
    GemmPackedB(mr, in, tb, dg, 1, gh, packed_x_.data(), grads.w_ih + size_t(m.begin) * in, in,
                true);
    GemmPackedB(mr, hid, tb, dg, 1, gh, packed_h_.data(), grads.w_hh + size_t(m.begin) * hid, hid,
                true);
    // Bias gradient: column sums of dG, row by row so dG is read sequentially.
    for (int i = 0; i < tb; ++i) {
      const float* row = dgates_.data() + size_t(i) * gh;
      for (int r = m.begin; r < m.end; r += 8) {
        const __m256i mask = TailMask(std::min(8, m.end - r));
        _mm256_maskstore_ps(grads.bias + r, mask,
                            _mm256_add_ps(_mm256_maskload_ps(grads.bias + r, mask),
                                          _mm256_maskload_ps(row + r, mask)));
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
// operand of [dx | dh_prev] = dG · Wcat.
Status Avx2RecurrentKernel::PrepareBackwardWeights() {
  if (wcat_ready_) return Status::OK();
  const int in = shape_.input, hid = shape_.hidden, g_count = gates_;
  const int k_total = in + hid;
  if (!wcat_packed_.Reserve(PackedBSize(g_count * hid, k_total))) {
    return Status::ResourceExhausted("avx2 Backward: out of memory");
  }
  // Element (row = g*H + j, col = k) of Wcat sits in block j/8's panel at [k][g][j%8]; PackB
  // reads it through strides only within one block, so pack block by block.
  float* out = wcat_packed_.data();
  const int panels = (k_total + kGemmPanelWidth - 1) / kGemmPanelWidth;
  for (int p = 0; p < panels; ++p) {
    float* panel = out + static_cast<size_t>(p) * g_count * hid * kGemmPanelWidth;
    for (int g = 0; g < g_count; ++g) {
      for (int j = 0; j < hid; ++j) {
        const float* src =
            panels_.data() + (j / kCellBlock) * panel_stride_ + g * kCellBlock + (j % kCellBlock);
        float* row = panel + (static_cast<size_t>(g) * hid + j) * kGemmPanelWidth;
        for (int c = 0; c < kGemmPanelWidth; ++c) {
          const int k = p * kGemmPanelWidth + c;
          row[c] = k < k_total ? src[static_cast<size_t>(k) * g_count * kCellBlock] : 0.0f;
        }
      }
    }
  }
  wcat_ready_ = true;
  return Status::OK();
}

// BPTT for rows [row_begin, row_end): gate gradients into dgates_ step by step, then
// [dx_t | dh_{t-1}] = dG_t · Wcat. Rows never interact, so threads run this without syncing.
void Avx2RecurrentKernel::BackwardRows(int seq, int batch, int row_begin, int row_end,
                                       const float* tape_v, const float* dy, float* dx) {
  if (row_end <= row_begin) return;
  const int in = shape_.input, hid = shape_.hidden, gh = gates_ * hid;
  const int k_total = in + hid;
  const size_t state = StateSize(batch);
  const bool lstm = IsLstm();
  const float* hs = tape_v;
  const float* cs = tape_v + (seq + 1) * state;
  const float* tanh_cs = tape_v + 2 * (seq + 1) * state;
  const float* gates_all = tape_v + (2 * (seq + 1) + seq) * state;
  const __m256 one = _mm256_set1_ps(1.0f);
  for (int t = seq - 1; t >= 0; --t) {
    float* dg_t = dgates_.data() + size_t(t) * batch * gh;
    for (int b = row_begin; b < row_end; ++b) {
      const size_t at = size_t(b) * hid;
      const float* dh_next = dxh_.data() + size_t(b) * k_total + in;
      const float* dy_t = dy != nullptr ? dy + t * state + at : nullptr;
      float* dg = dg_t + size_t(b) * gh;
      for (int j = 0; j < hid; j += 8) {
        const __m256i mask = TailMask(std::min(8, hid - j));
        __m256 dh = _mm256_maskload_ps(dh_next + j, mask);
        if (dy_t != nullptr) dh = _mm256_add_ps(dh, _mm256_maskload_ps(dy_t + j, mask));
        if (lstm) {
          const float* g_t = gates_all + size_t(t) * state * 4 + size_t(b) * gh;
          const __m256 ig = _mm256_maskload_ps(g_t + j, mask);
          const __m256 fg = _mm256_maskload_ps(g_t + hid + j, mask);
          const __m256 gg = _mm256_maskload_ps(g_t + 2 * hid + j, mask);
          const __m256 og = _mm256_maskload_ps(g_t + 3 * hid + j, mask);
          const __m256 tc = _mm256_maskload_ps(tanh_cs + t * state + at + j, mask);
          const __m256 c_prev = _mm256_maskload_ps(cs + t * state + at + j, mask);
          float* dc_p = dc_.data() + at + j;
          __m256 dc = _mm256_maskload_ps(dc_p, mask);
          dc = _mm256_fmadd_ps(_mm256_mul_ps(dh, og), _mm256_fnmadd_ps(tc, tc, one), dc);
          const __m256 d_o =
              _mm256_mul_ps(_mm256_mul_ps(dh, tc), _mm256_mul_ps(og, _mm256_sub_ps(one, og)));
          const __m256 d_i =
              _mm256_mul_ps(_mm256_mul_ps(dc, gg), _mm256_mul_ps(ig, _mm256_sub_ps(one, ig)));
          const __m256 d_g = _mm256_mul_ps(_mm256_mul_ps(dc, ig), _mm256_fnmadd_ps(gg, gg, one));
          const __m256 d_f =
              _mm256_mul_ps(_mm256_mul_ps(dc, c_prev), _mm256_mul_ps(fg, _mm256_sub_ps(one, fg)));
          _mm256_maskstore_ps(dc_p, mask, _mm256_mul_ps(dc, fg));
          _mm256_maskstore_ps(dg + j, mask, d_i);
          _mm256_maskstore_ps(dg + hid + j, mask, d_f);
          _mm256_maskstore_ps(dg + 2 * hid + j, mask, d_g);
          _mm256_maskstore_ps(dg + 3 * hid + j, mask, d_o);
        } else {
          const __m256 h = _mm256_maskload_ps(hs + (t + 1) * state + at + j, mask);
          _mm256_maskstore_ps(dg + j, mask, _mm256_mul_ps(dh, _mm256_fnmadd_ps(h, h, one)));
        }
      }
    }
    const int rows = row_end - row_begin;
    GemmPackedB(rows, k_total, gh, dg_t + size_t(row_begin) * gh, gh, 1, wcat_packed_.data(),
                dxh_.data() + size_t(row_begin) * k_total, k_total, false);
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
                                                    const KernelOptions& options) {
  return std::make_unique<Avx2RecurrentKernel>(shape, options);
}

}  // namespace nemesyst::kernels::avx2
