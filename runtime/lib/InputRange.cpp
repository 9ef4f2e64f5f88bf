//===- InputRange.cpp - inputs whose logits fit in float --------*- C++ -*-===//
//
// This file implements ringrt_check_logit_range: the kernels compute logits
// in fp32, so inputs large enough to overflow them (|q|, |k| around 1e19)
// would turn into inf and NaN silently. The check bounds every logit by
// Cauchy-Schwarz through the largest magnitude: |scale * q.k| <=
// scale * D * max|q| * max|k|, and every partial sum of q_d * k_d by
// D * max|q| * max|k|. It is per rank and local: a rank sees only its own
// q and k, so the limit applies to each tensor alone (a global bound needs
// no communication that way), which is conservative by at most the ratio
// of the two magnitudes.
//
//===----------------------------------------------------------------------===//

#include "Context.h"
#include "Error.h"
#include "ringrt/DType.h"
#include "ringrt/codegen_abi.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

using namespace ringrt;

namespace {

float elementAt(const ringrt_tensor &t, int64_t i) {
  switch (t.dtype) {
  case RINGRT_BF16:
    return bf16ToFloat(static_cast<const uint16_t *>(t.data)[i]);
  case RINGRT_F16:
    return f16ToFloat(static_cast<const uint16_t *>(t.data)[i]);
  default:
    return static_cast<const float *>(t.data)[i];
  }
}

/// The largest magnitude bit pattern of `n` elements of type T with their
/// sign bit (`signBit`) cleared: for IEEE formats the order of such
/// patterns is the order of |x|, with ±inf and NaN above every finite
/// value, so one integer max reduction (which vectorizes, unlike a float
/// max without fast-math) answers both "largest |x|" and "all finite".
template <typename T>
T maxMagnitudeBits(const void *data, int64_t n, T signBit) {
  const T *p = static_cast<const T *>(data);
  T mask = static_cast<T>(~signBit), m = 0;
  for (int64_t i = 0; i < n; ++i) {
    T x = static_cast<T>(p[i] & mask);
    m = x > m ? x : m;
  }
  return m;
}

/// Whether every element of `t` is finite and at most `limit` in
/// magnitude, in one vectorized pass (maxMagnitudeBits).
bool allWithin(const ringrt_tensor &t, int64_t n, double limit) {
  switch (t.dtype) {
  case RINGRT_BF16: {
    uint16_t m = maxMagnitudeBits<uint16_t>(t.data, n, 0x8000);
    return m < 0x7f80 && bf16ToFloat(m) <= limit;
  }
  case RINGRT_F16: {
    uint16_t m = maxMagnitudeBits<uint16_t>(t.data, n, 0x8000);
    return m < 0x7c00 && f16ToFloat(m) <= limit;
  }
  default: {
    uint32_t m = maxMagnitudeBits<uint32_t>(t.data, n, 0x80000000u);
    float f;
    std::memcpy(&f, &m, sizeof f);
    return m < 0x7f800000u && f <= limit;
  }
  }
}

ringrt_status checkOne(const ringrt_tensor *t, const char *name, double limit,
                       double scale, int64_t headDim) {
  if (!t || !t->data)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "ringrt_check_logit_range: %s is null", name);
  int64_t n = 1;
  for (int32_t d = 0; d < t->rank; ++d)
    n *= t->shape[d];
  // The common case is one vectorized pass with no branch on the data; the
  // loop below only finds the element to name.
  if (allWithin(*t, n, limit))
    return RINGRT_OK;
  for (int64_t i = 0; i < n; ++i) {
    float x = elementAt(*t, i);
    if (!std::isfinite(x))
      return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                       "%s[%lld] (flat index) is %g: inputs must be finite",
                       name, static_cast<long long>(i), static_cast<double>(x));
    if (std::fabs(x) > limit)
      return setErrorf(
          RINGRT_ERR_INVALID_ARGUMENT,
          "%s[%lld] (flat index) is %g, beyond %.4g = sqrt(FLT_MAX / (2 * "
          "head_dim %lld * max(1, scale %g))): the fp32 logits could "
          "overflow to inf and NaN; scale the inputs down",
          name, static_cast<long long>(i), static_cast<double>(x), limit,
          static_cast<long long>(headDim), scale);
  }
  return RINGRT_OK;
}

} // namespace

extern "C" {

double ringrt_max_input_magnitude(double scale, int64_t headDim) {
  double d = static_cast<double>(std::max<int64_t>(headDim, 1));
  return std::sqrt(static_cast<double>(FLT_MAX) /
                   (2.0 * d * std::max(1.0, scale)));
}

ringrt_status ringrt_check_logit_range(const ringrt_tensor *q,
                                       const ringrt_tensor *k, double scale,
                                       int64_t headDim) {
  // The kernels hold the scale in fp32: beyond FLT_MAX it is inf.
  if (!(scale > 0) || !(scale <= FLT_MAX) || headDim < 1)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "ringrt_check_logit_range: scale %g must be in (0, "
                     "FLT_MAX] and head_dim %lld positive",
                     scale, static_cast<long long>(headDim));
  double limit = ringrt_max_input_magnitude(scale, headDim);
  if (ringrt_status st = checkOne(q, "q", limit, scale, headDim))
    return st;
  return checkOne(k, "k", limit, scale, headDim);
}

int32_t ringrt_cg_check_inputs(const ringrt_context *ctx,
                               const ringrt_tensor *q, const ringrt_tensor *k,
                               double scale, int64_t headDim) {
  if (!ctx || ctx->device != "cpu")
    return RINGRT_OK;
  return ringrt_check_logit_range(q, k, scale, headDim);
}

} // extern "C"
