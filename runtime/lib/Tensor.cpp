//===- Tensor.cpp - ABI-boundary tensor validation --------------*- C++ -*-===//
//
// This file implements the dtype helpers and ringrt_check_tensor, which
// generated entry points call on every tensor they receive. Every message
// names the tensor and shows expected versus actual values.
//
//===----------------------------------------------------------------------===//

#include "Error.h"

#include <cstdint>

using namespace ringrt;

extern "C" {

int64_t ringrt_dtype_size(int32_t dtype) {
  switch (dtype) {
  case RINGRT_F32:
    return 4;
  case RINGRT_BF16:
  case RINGRT_F16:
    return 2;
  }
  return 0;
}

const char *ringrt_dtype_name(int32_t dtype) {
  switch (dtype) {
  case RINGRT_F32:
    return "f32";
  case RINGRT_BF16:
    return "bf16";
  case RINGRT_F16:
    return "f16";
  }
  return "?";
}

ringrt_status ringrt_tensor_init(ringrt_tensor *t, void *data, int32_t dtype,
                                 int32_t rank, const int64_t *shape) {
  if (!t || (rank > 0 && !shape))
    return setError(RINGRT_ERR_INVALID_ARGUMENT,
                    "ringrt_tensor_init: null tensor or shape");
  if (rank < 1 || rank > 4)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "ringrt_tensor_init: rank %d is not in 1..4", rank);
  *t = ringrt_tensor{};
  t->data = data;
  t->dtype = dtype;
  t->rank = rank;
  int64_t stride = 1;
  for (int i = rank - 1; i >= 0; --i) {
    t->shape[i] = shape[i];
    t->strides[i] = stride;
    stride *= shape[i];
  }
  return RINGRT_OK;
}

ringrt_status ringrt_check_tensor(const ringrt_tensor *t, const char *name,
                                  int32_t dtype, int32_t rank,
                                  const int64_t *expectedShape,
                                  int64_t alignmentBytes) {
  if (!name)
    name = "<tensor>";
  if (!t)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT, "%s: tensor is null", name);
  if (!t->data)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT, "%s: data pointer is null",
                     name);
  if (t->dtype != dtype)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "%s: expected dtype %s, got %s (%d)", name,
                     ringrt_dtype_name(dtype), ringrt_dtype_name(t->dtype),
                     t->dtype);
  if (rank < 1 || rank > 4 || !expectedShape)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "%s: invalid expectation (rank %d, shape %s)", name, rank,
                     expectedShape ? "given" : "null");
  if (t->rank != rank)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "%s: expected rank %d, got %d", name, rank, t->rank);
  for (int i = 0; i < rank; ++i)
    if (t->shape[i] != expectedShape[i])
      return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                       "%s: expected shape %s, got %s", name,
                       formatShape(expectedShape, rank).c_str(),
                       formatShape(t->shape, rank).c_str());
  int64_t dense[4];
  int64_t stride = 1;
  for (int i = rank - 1; i >= 0; --i) {
    dense[i] = stride;
    stride *= expectedShape[i];
  }
  for (int i = 0; i < rank; ++i)
    if (t->strides[i] != dense[i] && expectedShape[i] != 1)
      return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                       "%s: expected dense row-major strides %s (the only "
                       "layout supported for now), got %s",
                       name, formatShape(dense, rank).c_str(),
                       formatShape(t->strides, rank).c_str());
  int64_t align = alignmentBytes > 0 ? alignmentBytes : ringrt_dtype_size(dtype);
  auto addr = reinterpret_cast<uintptr_t>(t->data);
  if (align > 0 && addr % static_cast<uintptr_t>(align) != 0)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "%s: data %p is not aligned to %lld bytes", name, t->data,
                     static_cast<long long>(align));
  return RINGRT_OK;
}

} // extern "C"
