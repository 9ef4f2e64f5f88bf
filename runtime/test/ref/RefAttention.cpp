//===- RefAttention.cpp - reference ring-attention artifact -----*- C++ -*-===//
//
// This file implements a hand-written ringc artifact: the entry ABI of
// DESIGN.md section 4 with a plain ring-attention schedule over the ringrt
// API. Each rank keeps its queries, and in P stages computes them against
// the K/V block that came from ring rank (p - t) mod P while the next block
// is already in flight (double buffers, ringrt_shift_start/ringrt_wait);
// partial scores are summed over dim slices (ringrt_allreduce_sum_f32);
// blocks merge by the fp32 online-softmax rule; causal masks come from
// global token positions under the layout (fully masked blocks are skipped).
//
// It is the oracle compiled artifacts are compared with, so it favours
// clarity over speed. The causal/balance choice and the scale
// (1/sqrt(head_dim)) are fixed per entry point:
//   ref_attention_full              non-causal (any balance)
//   ref_attention_causal_{none,zigzag,striped}
//   ref_attention_full_nomerge      deliberately wrong: keeps only the last
//                                   stage's block instead of merging
//   ref_attention_full_silent_rank1 deliberately broken: ring rank 1 never
//                                   takes part in the shifts, so its
//                                   predecessor must time out, not hang
//   ref_attention_full_lazy_rank1   deliberately broken: ring rank 1 never
//                                   writes O and LSE (caught by the poison)
//
//===----------------------------------------------------------------------===//

#include "ringrt/DType.h"
#include "ringrt/Layout.h"
#include "ringrt/codegen_abi.h"
#include "ringrt/ringrt.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

using ringrt::layout::Balance;

/// The artifact descriptor, as ringc emits one per artifact. This library
/// serves many specs and entries, so it is built with plan hash 0 and no
/// entry name, and ringrt-make-ref-artifact stamps both into each artifact's
/// copy (it finds the descriptor by its magic). Not const: a constant would
/// let the compiler fold the placeholder values into the entries.
extern "C" __attribute__((visibility("default"), used))
ringrt_artifact_info ref_artifact_info = {
    {'R', 'I', 'N', 'G', 'R', 'T', 'A', 'I'},
    RINGRT_ARTIFACT_FORMAT_VERSION,
    RINGRT_ENTRY_KIND_TENSOR_ABI,
    0,
    {0}};

namespace {

float load(const void *p, int32_t dt, int64_t i) {
  if (dt == RINGRT_BF16)
    return ringrt::bf16ToFloat(static_cast<const uint16_t *>(p)[i]);
  if (dt == RINGRT_F16)
    return ringrt::f16ToFloat(static_cast<const uint16_t *>(p)[i]);
  return static_cast<const float *>(p)[i];
}

void store(void *p, int32_t dt, int64_t i, float x) {
  if (dt == RINGRT_BF16)
    static_cast<uint16_t *>(p)[i] = ringrt::floatToBF16(x);
  else if (dt == RINGRT_F16)
    static_cast<uint16_t *>(p)[i] = ringrt::floatToF16(x);
  else
    static_cast<float *>(p)[i] = x;
}

struct Config {
  bool causal;
  Balance balance;
  bool merge;        ///< false: the deliberately wrong variant
  bool silentRank1;  ///< true: ring rank 1 skips every shift
  bool lazyRank1 = false; ///< true: ring rank 1 leaves O and LSE unwritten
};

int32_t ringAttention(const Config &cfg, ringrt_context *ctx,
                      const ringrt_tensor *q, const ringrt_tensor *k,
                      const ringrt_tensor *v, ringrt_tensor *o,
                      ringrt_tensor *lse) {
  if (int32_t bad = ringrt_cg_check_artifact(ctx, &ref_artifact_info))
    return bad;
  if (!q || !k)
    return ringrt_check_tensor(q ? k : q, q ? "k" : "q", RINGRT_F32, 4,
                               nullptr, 0);
  // Shapes: q/o [B,Hq,Ll,Dl], k/v [B,Hkv,Ll,Dl], lse [B,Hq,Ll].
  const int32_t dt = q->dtype;
  const int64_t B = q->shape[0], Hq = q->shape[1], Ll = q->shape[2],
                Dl = q->shape[3], Hkv = k->shape[1];
  const int64_t qShape[4] = {B, Hq, Ll, Dl}, kvShape[4] = {B, Hkv, Ll, Dl},
                lseShape[3] = {B, Hq, Ll};
  ringrt_status st;
  if ((st = ringrt_check_tensor(q, "q", dt, 4, qShape, 0)) ||
      (st = ringrt_check_tensor(k, "k", dt, 4, kvShape, 0)) ||
      (st = ringrt_check_tensor(v, "v", dt, 4, kvShape, 0)) ||
      (st = ringrt_check_tensor(o, "o", dt, 4, qShape, 0)) ||
      (st = ringrt_check_tensor(lse, "lse", RINGRT_F32, 3, lseShape, 4)))
    return st;
  if (Hkv < 1 || Hq % Hkv != 0)
    return ringrt_check_tensor(k, "k (heads must divide q's heads)", dt, 4,
                               qShape, 0);

  const int64_t P = ringrt_size(ctx, RINGRT_AXIS_RING);
  const int64_t p = ringrt_coord(ctx, RINGRT_AXIS_RING);
  const int64_t m = ringrt_size(ctx, RINGRT_AXIS_DIM_SLICE);
  const int64_t L = Ll * P, D = Dl * m, group = Hq / Hkv;
  const float scale = static_cast<float>(1.0 / std::sqrt(double(D)));
  const float negInf = -std::numeric_limits<float>::infinity();

  // fp32 copy of Q; K/V blocks travel in the input dtype.
  std::vector<float> qf(static_cast<size_t>(B * Hq * Ll * Dl));
  for (size_t i = 0; i < qf.size(); ++i)
    qf[i] = load(q->data, dt, static_cast<int64_t>(i));
  const size_t kvBytes =
      static_cast<size_t>(B * Hkv * Ll * Dl * ringrt_dtype_size(dt));
  std::vector<unsigned char> kBuf[2], vBuf[2];
  for (int b = 0; b < 2; ++b) {
    kBuf[b].resize(kvBytes);
    vBuf[b].resize(kvBytes);
  }
  std::memcpy(kBuf[0].data(), k->data, kvBytes);
  std::memcpy(vBuf[0].data(), v->data, kvBytes);

  std::vector<float> rowMax(static_cast<size_t>(B * Hq * Ll), negInf);
  std::vector<float> rowSum(static_cast<size_t>(B * Hq * Ll), 0.0f);
  std::vector<float> acc(static_cast<size_t>(B * Hq * Ll * Dl), 0.0f);
  std::vector<float> scores(static_cast<size_t>(B * Hq * Ll * Ll));
  std::vector<int64_t> qPos(static_cast<size_t>(Ll)), kPos(static_cast<size_t>(Ll));
  for (int64_t i = 0; i < Ll; ++i)
    qPos[i] = ringrt::layout::globalToken(cfg.balance, L, P, p, i);

  int cur = 0;
  const bool silent = cfg.silentRank1 && p == 1;
  for (int64_t t = 0; t < P; ++t) {
    ringrt_request *kReq = nullptr, *vReq = nullptr;
    if (t + 1 < P && !silent) {
      if ((st = ringrt_shift_start(ctx, kBuf[cur].data(), kBuf[1 - cur].data(),
                                   static_cast<int64_t>(kvBytes),
                                   static_cast<int32_t>(t), 0, &kReq)))
        return st;
      if ((st = ringrt_shift_start(ctx, vBuf[cur].data(), vBuf[1 - cur].data(),
                                   static_cast<int64_t>(kvBytes),
                                   static_cast<int32_t>(t), 1, &vReq))) {
        ringrt_wait(ctx, kReq);
        return st;
      }
    }
    const int64_t src = (p - t + P) % P;
    bool anyVisible = !cfg.causal;
    for (int64_t j = 0; j < Ll; ++j) {
      kPos[j] = ringrt::layout::globalToken(cfg.balance, L, P, src, j);
      for (int64_t i = 0; i < Ll && !anyVisible; ++i)
        anyVisible = kPos[j] <= qPos[i];
    }
    if (!cfg.merge) { // the wrong variant forgets earlier stages
      std::fill(rowMax.begin(), rowMax.end(), negInf);
      std::fill(rowSum.begin(), rowSum.end(), 0.0f);
      std::fill(acc.begin(), acc.end(), 0.0f);
    }
    if (anyVisible) {
      const void *kb = kBuf[cur].data(), *vb = vBuf[cur].data();
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < Hq; ++h) {
          int64_t kvRow = (b * Hkv + h / group) * Ll;
          for (int64_t i = 0; i < Ll; ++i) {
            const float *qi = &qf[static_cast<size_t>(((b * Hq + h) * Ll + i) * Dl)];
            float *si = &scores[static_cast<size_t>(((b * Hq + h) * Ll + i) * Ll)];
            for (int64_t j = 0; j < Ll; ++j) {
              float dot = 0;
              for (int64_t d = 0; d < Dl; ++d)
                dot += qi[d] * load(kb, dt, (kvRow + j) * Dl + d);
              si[j] = dot;
            }
          }
        }
      // Scores are sums over all dim slices of the partial products.
      if ((st = ringrt_allreduce_sum_f32(ctx, scores.data(),
                                         static_cast<int64_t>(scores.size()),
                                         RINGRT_AXIS_DIM_SLICE,
                                         static_cast<int32_t>(t))))
        return st;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < Hq; ++h) {
          int64_t kvRow = (b * Hkv + h / group) * Ll;
          for (int64_t i = 0; i < Ll; ++i) {
            size_t row = static_cast<size_t>((b * Hq + h) * Ll + i);
            float *si = &scores[row * static_cast<size_t>(Ll)];
            float *ai = &acc[row * static_cast<size_t>(Dl)];
            float blockMax = negInf;
            for (int64_t j = 0; j < Ll; ++j) {
              bool visible = !cfg.causal || kPos[j] <= qPos[i];
              si[j] = visible ? si[j] * scale : negInf;
              blockMax = std::max(blockMax, si[j]);
            }
            if (blockMax == negInf)
              continue; // every key of this block is masked for row i
            float newMax = std::max(rowMax[row], blockMax);
            float alpha = std::exp(rowMax[row] - newMax); // 0 when -inf
            float sum = 0;
            for (int64_t d = 0; d < Dl; ++d)
              ai[d] *= alpha;
            for (int64_t j = 0; j < Ll; ++j) {
              if (si[j] == negInf)
                continue;
              float pj = std::exp(si[j] - newMax);
              sum += pj;
              for (int64_t d = 0; d < Dl; ++d)
                ai[d] += pj * load(vb, dt, (kvRow + j) * Dl + d);
            }
            rowSum[row] = rowSum[row] * alpha + sum;
            rowMax[row] = newMax;
          }
        }
    }
    if (kReq) {
      ringrt_status ks = ringrt_wait(ctx, kReq);
      ringrt_status vs = ringrt_wait(ctx, vReq);
      if (ks || vs)
        return ks ? ks : vs;
      cur = 1 - cur;
    }
  }

  if (cfg.lazyRank1 && p == 1)
    return RINGRT_OK;
  float *lseOut = static_cast<float *>(lse->data);
  for (size_t row = 0; row < rowSum.size(); ++row) {
    float l = rowSum[row];
    lseOut[row] = l > 0 ? rowMax[row] + std::log(l) : negInf;
    for (int64_t d = 0; d < Dl; ++d) {
      size_t idx = row * static_cast<size_t>(Dl) + static_cast<size_t>(d);
      store(o->data, dt, static_cast<int64_t>(idx), l > 0 ? acc[idx] / l : 0.0f);
    }
  }
  return RINGRT_OK;
}

} // namespace

#define REF_ENTRY(NAME, CAUSAL, BALANCE, MERGE, SILENT)                        \
  extern "C" __attribute__((visibility("default"))) int32_t NAME(              \
      ringrt_context *ctx, const ringrt_tensor *q, const ringrt_tensor *k,     \
      const ringrt_tensor *v, ringrt_tensor *o, ringrt_tensor *lse,            \
      void * /*workspace: the reference allocates its own*/, void *) {         \
    return ringAttention(Config{CAUSAL, BALANCE, MERGE, SILENT}, ctx, q, k, v, \
                         o, lse);                                              \
  }

REF_ENTRY(ref_attention_full, false, Balance::None, true, false)
REF_ENTRY(ref_attention_causal_none, true, Balance::None, true, false)
REF_ENTRY(ref_attention_causal_zigzag, true, Balance::Zigzag, true, false)
REF_ENTRY(ref_attention_causal_striped, true, Balance::Striped, true, false)
REF_ENTRY(ref_attention_full_nomerge, false, Balance::None, false, false)
REF_ENTRY(ref_attention_full_silent_rank1, false, Balance::None, true, true)

extern "C" __attribute__((visibility("default"))) int32_t
ref_attention_full_lazy_rank1(ringrt_context *ctx, const ringrt_tensor *q,
                              const ringrt_tensor *k, const ringrt_tensor *v,
                              ringrt_tensor *o, ringrt_tensor *lse,
                              void * /*workspace*/, void * /*stream*/) {
  return ringAttention(Config{false, Balance::None, true, false, true}, ctx, q,
                       k, v, o, lse);
}
