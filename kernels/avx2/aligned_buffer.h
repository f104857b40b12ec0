// A grow-only, 64-byte aligned array for packed weights and scratch space. Growing reallocates
// (and does not keep contents); asking for the same or a smaller size never allocates, which is
// how the kernels keep allocation off the hot path after the first call per shape.
#ifndef NEMESYST_KERNELS_AVX2_ALIGNED_BUFFER_H_
#define NEMESYST_KERNELS_AVX2_ALIGNED_BUFFER_H_

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>

namespace nemesyst::kernels::avx2 {

template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { std::free(data_); }

  // Makes room for `n` elements (contents unspecified after a growth: not even zeroed, to keep
  // the cold start to one pass over the memory). Returns false when out of memory. Padding of
  // one cache line past the end allows full-vector reads of the last element.
  bool Reserve(size_t n) {
    if (n <= capacity_) return true;
    const size_t bytes = ((n * sizeof(T) + 64) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, bytes);
    if (p == nullptr) return false;
    std::free(data_);
    data_ = static_cast<T*>(p);
    capacity_ = n;
    return true;
  }
  void Zero(size_t n) { std::memset(data_, 0, n * sizeof(T)); }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t capacity() const { return capacity_; }

 private:
  T* data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace nemesyst::kernels::avx2

#endif  // NEMESYST_KERNELS_AVX2_ALIGNED_BUFFER_H_
