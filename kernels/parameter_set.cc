#include "kernels/parameter_set.h"

#include <algorithm>
#include <cassert>

namespace nemesyst::kernels {

size_t ParameterSet::Add(std::string name, std::vector<int64_t> shape) {
  assert(values_.empty() && "ParameterSet::Add after Allocate");
  size_t count = 1;
  for (int64_t d : shape) count *= static_cast<size_t>(d);
  TensorInfo info{std::move(name), std::move(shape), total_, count};
  total_ += count;
  tensors_.push_back(std::move(info));
  return tensors_.back().offset;
}

void ParameterSet::Allocate() {
  values_.assign(total_, 0.0f);
  grads_.assign(total_, 0.0f);
}

void ParameterSet::ZeroGrads() { std::fill(grads_.begin(), grads_.end(), 0.0f); }

}  // namespace nemesyst::kernels
