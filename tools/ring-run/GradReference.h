//===- GradReference.h - float64 reference of the backward pass -*- C++ -*-===//
//
// This file declares the analytic float64 gradients of attention that
// `ring-run --check` compares a grad artifact's dq, dk and dv with.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRUN_GRADREFERENCE_H
#define RINGRUN_GRADREFERENCE_H

#include "Manifest.h"

#include <vector>

namespace ringrun {

/// The gradients of L = Σ dO ∘ O with O = softmax(Q Kᵀ·scale + mask) V, on
/// global [B, H, L, D] tensors in natural token order, in float64:
/// P from exact scores, D_i = Σ_d dO·O, dS = P ∘ (dO Vᵀ − D),
/// dQ = scale·dS K, dK = scale·dSᵀ Q (summed over the query heads of a
/// key/value head), dV = Pᵀ dO. Analytic, not finite differences.
void referenceAttentionBackward(const AttentionSpec &s,
                                const std::vector<float> &q,
                                const std::vector<float> &k,
                                const std::vector<float> &v,
                                const std::vector<float> &dout,
                                std::vector<double> &dq,
                                std::vector<double> &dk,
                                std::vector<double> &dv);

} // namespace ringrun

#endif // RINGRUN_GRADREFERENCE_H
