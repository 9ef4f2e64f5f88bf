//===- LayerCheck.cpp - ring-run for whole-layer artifacts ------*- C++ -*-===//
//
// This file implements ring-run's check and benchmark of a layer artifact
// (LayerCheck.h). Inputs come from the seeded generator of HostData.h,
// scaled so that the softmax is not degenerate: with X uniform in [-1, 1)
// and W_q, W_k uniform in ±3/sqrt(d_model), the entries of Q and K have
// variance about 1 and the scaled logits a standard deviation about 1.
// Every output is NaN-poisoned before the run. The reference computes the
// whole layer in float64 from the same (dtype-rounded) inputs.
//
//===----------------------------------------------------------------------===//

#include "LayerCheck.h"
#include "Documents.h"
#include "LocalTensor.h"
#include "Npy.h"
#include "Reference.h"

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sys/stat.h>
#include <vector>

using namespace ringrun;

namespace {

typedef const ringrt_tensor *In;
typedef int32_t (*LayerEntry)(ringrt_context *, In, In, In, In, In,
                              ringrt_tensor *, ringrt_tensor *, void *, void *);
typedef int32_t (*LayerEntryBias)(ringrt_context *, In, In, In, In, In, In,
                                  In, In, In, ringrt_tensor *,
                                  ringrt_tensor *, void *, void *);
/// The varlen forms (max_docs): cu_seqlens after the tensors.
typedef int32_t (*LayerEntryDocs)(ringrt_context *, In, In, In, In, In,
                                  ringrt_tensor *, ringrt_tensor *,
                                  const int32_t *, void *, void *);
typedef int32_t (*LayerEntryBiasDocs)(ringrt_context *, In, In, In, In, In,
                                      In, In, In, In, ringrt_tensor *,
                                      ringrt_tensor *, const int32_t *,
                                      void *, void *);

/// The global shapes and generator scales of the layer's inputs.
struct LayerShapes {
  int64_t B, L, dm, H, Hkv, D, q, kv;
  explicit LayerShapes(const AttentionSpec &s)
      : B(s.batch), L(s.seq), dm(s.dModel), H(s.heads), Hkv(s.kvHeads),
        D(s.headDim), q(s.heads * s.headDim), kv(s.kvHeads * s.headDim) {}

  std::vector<int64_t> shape(int which) const {
    switch (which) {
    case kLayerX:
      return {B, L, dm};
    case kLayerWq:
      return {dm, q};
    case kLayerWk:
    case kLayerWv:
      return {dm, kv};
    case kLayerWo:
      return {q, dm};
    case kLayerBq:
      return {q};
    case kLayerBk:
    case kLayerBv:
      return {kv};
    default:
      return {dm};
    }
  }
  double scale(int which, double inputScale) const {
    double inv = 1.0 / std::sqrt(static_cast<double>(dm));
    switch (which) {
    case kLayerX:
      return 1.0;
    case kLayerWq:
    case kLayerWk:
      return 3.0 * inv * inputScale;
    case kLayerWv:
      return std::sqrt(3.0) * inv;
    case kLayerWo:
      return std::sqrt(3.0 / static_cast<double>(q));
    default:
      return 0.5; // biases
    }
  }
};

/// What the layer check writes into X's padding rows.
constexpr float kLayerPadding = 1000.0f;

int64_t count(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Host bytes with an optional device copy (LocalTensor.h).
using Local = LocalTensor;

/// The global column of local column `lc` of a weight with `heads` heads
/// held by head group g and dim slice s (RingLayerOps.td's layout).
int64_t globalColumn(const AttentionSpec &s, int64_t heads,
                     const RankCoords &c, int64_t lc) {
  int64_t hl = heads / s.headGroups, dl = s.headDim / s.dimSlices;
  int64_t h = c.headGroup * hl + lc / dl;
  return h * s.headDim + c.dimSlice * dl + lc % dl;
}

/// Every tensor of the layer entry on one rank.
struct LayerBuffers {
  Local x, wq, wk, wv, wo, bq, bk, bv, bo, y, lse;
  bool onDevice = false;

  static void init(Local &t, int32_t dt, std::vector<int64_t> shape) {
    t.init(dt, static_cast<int>(shape.size()), shape.data());
  }

  explicit LayerBuffers(const LayerRun &run) {
    const AttentionSpec &s = run.manifest.spec;
    LayerShapes g(s);
    int32_t dt = s.dtype;
    int64_t Ll = s.rankSeq(), Hl = s.heads / s.headGroups,
            Hkvl = s.kvHeads / s.headGroups, Dl = s.headDim / s.dimSlices;
    int64_t ql = Hl * Dl, kvl = Hkvl * Dl;
    init(x, dt, {s.batch, Ll, s.dModel});
    init(y, dt, {s.batch, s.yRows(), s.dModel});
    init(wq, dt, {s.dModel, ql});
    init(wk, dt, {s.dModel, kvl});
    init(wv, dt, {s.dModel, kvl});
    init(wo, dt, {ql, s.dModel});
    init(lse, RINGRT_F32, {s.batch, Hl, Ll});
    if (s.bias) {
      init(bq, dt, {ql});
      init(bk, dt, {kvl});
      init(bv, dt, {kvl});
      init(bo, dt, {s.dModel});
    }
    auto element = [&](int which, int64_t e) {
      return inputElement(run.seed, which, e, dt,
                          g.scale(which, run.inputScale));
    };
    // X: this rank's tokens; its padding rows (uneven parts) get 1000, as
    // Q/K/V do in the attention's check: their projections must never
    // reach a token's result.
    for (int64_t b = 0; b < s.batch; ++b)
      for (int64_t i = 0; i < Ll; ++i) {
        int64_t t = ringrt::layout::globalToken(s.balance, s.seq, s.ring,
                                                run.coords.ring, i);
        for (int64_t c = 0; c < s.dModel; ++c)
          storeElement(x.bytes.data(), dt, (b * Ll + i) * s.dModel + c,
                       t < 0 ? kLayerPadding
                             : element(kLayerX,
                                       (b * s.seq + t) * s.dModel + c));
      }
    // Weight columns (W_o rows) of this rank's heads and dim slice.
    auto columns = [&](Local &w, int which, int64_t heads, int64_t cols) {
      for (int64_t r = 0; r < s.dModel; ++r)
        for (int64_t lc = 0; lc < cols; ++lc)
          storeElement(w.bytes.data(), dt, r * cols + lc,
                       element(which, r * (heads * s.headDim) +
                                          globalColumn(s, heads,
                                                       run.coords, lc)));
    };
    columns(wq, kLayerWq, s.heads, ql);
    columns(wk, kLayerWk, s.kvHeads, kvl);
    columns(wv, kLayerWv, s.kvHeads, kvl);
    for (int64_t lr = 0; lr < ql; ++lr)
      for (int64_t c = 0; c < s.dModel; ++c)
        storeElement(wo.bytes.data(), dt, lr * s.dModel + c,
                     element(kLayerWo,
                             globalColumn(s, s.heads, run.coords, lr) *
                                     s.dModel +
                                 c));
    if (s.bias) {
      auto vec = [&](Local &v, int which, int64_t heads, int64_t cols) {
        for (int64_t lc = 0; lc < cols; ++lc)
          storeElement(v.bytes.data(), dt, lc,
                       element(which, globalColumn(s, heads, run.coords, lc)));
      };
      vec(bq, kLayerBq, s.heads, ql);
      vec(bk, kLayerBk, s.kvHeads, kvl);
      vec(bv, kLayerBv, s.kvHeads, kvl);
      for (int64_t c = 0; c < s.dModel; ++c)
        storeElement(bo.bytes.data(), dt, c, element(kLayerBo, c));
    }
    poison();
  }

  void poison() {
    y.poison();
    lse.poison();
  }

  std::vector<Local *> all() {
    std::vector<Local *> v = {&x, &wq, &wk, &wv, &wo, &y, &lse};
    for (Local *b : {&bq, &bk, &bv, &bo})
      if (b->count)
        v.push_back(b);
    return v;
  }

  /// GPU artifacts: every tensor (inputs and the poisoned outputs) gets a
  /// device copy, and the entry sees those. Returns "" or the error.
  std::string toDevice(const LayerRun &run) {
    if (run.manifest.target == "cpu")
      return "";
    onDevice = true;
    for (Local *t : all())
      if (int32_t st = t->toDevice(run.ctx); st != RINGRT_OK)
        return std::string("device buffers: ") +
               ringrt_status_string(static_cast<ringrt_status>(st)) + ": " +
               ringrt_last_error();
    return "";
  }

  /// Waits for the device and copies Y and LSE back (no-op on the host).
  std::string fromDevice(const LayerRun &run) {
    if (!onDevice)
      return "";
    int32_t st = ringrt_device_synchronize(run.ctx);
    for (Local *t : {&y, &lse})
      if (st == RINGRT_OK)
        st = t->fromDevice();
    if (st != RINGRT_OK)
      return std::string("copying Y and LSE back: ") +
             ringrt_status_string(static_cast<ringrt_status>(st)) + ": " +
             ringrt_last_error();
    return "";
  }

  int32_t call(const LayerRun &run) {
    // A null workspace: the context's (ringrt_cg_workspace). Packed
    // documents: the run's boundaries (setDocuments), a host pointer on
    // every target.
    const AttentionSpec &s = run.manifest.spec;
    const int32_t *cu = s.cuSeqlens.data();
    if (s.bias && s.hasDocuments())
      return reinterpret_cast<LayerEntryBiasDocs>(run.entry)(
          run.ctx, &x.t, &wq.t, &wk.t, &wv.t, &wo.t, &bq.t, &bk.t, &bv.t,
          &bo.t, &y.t, &lse.t, cu, nullptr, nullptr);
    if (s.bias)
      return reinterpret_cast<LayerEntryBias>(run.entry)(
          run.ctx, &x.t, &wq.t, &wk.t, &wv.t, &wo.t, &bq.t, &bk.t, &bv.t,
          &bo.t, &y.t, &lse.t, nullptr, nullptr);
    if (s.hasDocuments())
      return reinterpret_cast<LayerEntryDocs>(run.entry)(
          run.ctx, &x.t, &wq.t, &wk.t, &wv.t, &wo.t, &y.t, &lse.t, cu,
          nullptr, nullptr);
    return reinterpret_cast<LayerEntry>(run.entry)(
        run.ctx, &x.t, &wq.t, &wk.t, &wv.t, &wo.t, &y.t, &lse.t, nullptr,
        nullptr);
  }
};

/// Y in a padding row (no token): O is 0 there, so Y = b_o (0 without a
/// bias) rounded to the element type; `bo` holds b_o as the rank has it.
std::string checkPaddingY(const AttentionSpec &s, const float *yRow,
                          const std::vector<float> &bo, int r, int64_t row) {
  for (int64_t c = 0; c < s.dModel; ++c) {
    float want = s.bias ? bo[static_cast<size_t>(c)] : 0.0f;
    if (yRow[c] != want)
      return "y of rank " + std::to_string(r) + " is " +
             std::to_string(yRow[c]) + " at padding row " +
             std::to_string(row) + ", column " + std::to_string(c) +
             " (the layout's parts are uneven); expected " +
             std::to_string(want) + " (b_o: O is 0 in padding rows)";
  }
  return "";
}

std::string statusError(const std::string &what, int32_t st) {
  return what + " failed (" +
         ringrt_status_string(static_cast<ringrt_status>(st)) +
         "): " + ringrt_last_error();
}

/// The float64 reference of the whole layer: Y [B, L, d_model] and LSE
/// [B, H, L] from the global inputs.
void referenceLayer(const AttentionSpec &s,
                    const std::vector<std::vector<float>> &in,
                    std::vector<double> &y, std::vector<double> &lse) {
  LayerShapes g(s);
  auto at = [&](int which) -> const std::vector<float> & {
    return in[static_cast<size_t>(which - kLayerX)];
  };
  // P = X W + b, as [B, heads, L, D].
  auto project = [&](int w, int bias, int64_t heads) {
    int64_t cols = heads * g.D;
    std::vector<double> out(static_cast<size_t>(g.B * heads * g.L * g.D));
    std::vector<double> row(static_cast<size_t>(cols));
    for (int64_t b = 0; b < g.B; ++b)
      for (int64_t t = 0; t < g.L; ++t) {
        for (int64_t n = 0; n < cols; ++n)
          row[n] = s.bias ? at(bias)[n] : 0.0;
        for (int64_t c = 0; c < g.dm; ++c) {
          double xv = at(kLayerX)[(b * g.L + t) * g.dm + c];
          const float *wr = &at(w)[static_cast<size_t>(c * cols)];
          for (int64_t n = 0; n < cols; ++n)
            row[n] += xv * wr[n];
        }
        for (int64_t n = 0; n < cols; ++n)
          out[((b * heads + n / g.D) * g.L + t) * g.D + n % g.D] = row[n];
      }
    return out;
  };
  std::vector<double> q = project(kLayerWq, kLayerBq, g.H);
  std::vector<double> k = project(kLayerWk, kLayerBk, g.Hkv);
  std::vector<double> v = project(kLayerWv, kLayerBv, g.Hkv);
  std::vector<double> o(static_cast<size_t>(g.B * g.H * g.L * g.D));
  lse.assign(static_cast<size_t>(g.B * g.H * g.L), 0.0);
  RowScratch scratch;
  Conditioning cond;
  int64_t group = g.H / g.Hkv;
  for (int64_t b = 0; b < g.B; ++b)
    for (int64_t h = 0; h < g.H; ++h) {
      const double *kh = &k[static_cast<size_t>((b * g.Hkv + h / group) * g.L * g.D)];
      const double *vh = &v[static_cast<size_t>((b * g.Hkv + h / group) * g.L * g.D)];
      for (int64_t i = 0; i < g.L; ++i) {
        const double *qi = &q[static_cast<size_t>(((b * g.H + h) * g.L + i) * g.D)];
        double *oi = &o[static_cast<size_t>(((b * g.H + h) * g.L + i) * g.D)];
        // The keys i sees: causal and sliding-window cuts (a range).
        auto [j0, j1] = s.visibleKeys(i);
        lse[static_cast<size_t>((b * g.H + h) * g.L + i)] = attentionRow(
            g.D, j1 - j0, s.scale, [&](int64_t d) { return qi[d]; },
            [&](int64_t j, int64_t d) { return kh[(j0 + j) * g.D + d]; },
            [&](int64_t j, int64_t d) { return vh[(j0 + j) * g.D + d]; }, oi,
            scratch, cond);
      }
    }
  // Y = O W_o + b_o, with O's head-major columns.
  y.assign(static_cast<size_t>(g.B * g.L * g.dm), 0.0);
  for (int64_t b = 0; b < g.B; ++b)
    for (int64_t t = 0; t < g.L; ++t) {
      double *yr = &y[static_cast<size_t>((b * g.L + t) * g.dm)];
      for (int64_t c = 0; c < g.dm; ++c)
        yr[c] = s.bias ? at(kLayerBo)[c] : 0.0;
      for (int64_t h = 0; h < g.H; ++h)
        for (int64_t d = 0; d < g.D; ++d) {
          double ov = o[((b * g.H + h) * g.L + t) * g.D + d];
          const float *wr = &at(kLayerWo)[static_cast<size_t>((h * g.D + d) * g.dm)];
          for (int64_t c = 0; c < g.dm; ++c)
            yr[c] += ov * wr[c];
        }
    }
}

/// Reassembles the global Y [B, L, d_model] from the reduce-scattered
/// shares of every rank (allY: `size` ranks of nY floats, allC their (ring,
/// head group, dim slice)): share j = s·n + g of ring rank p holds local
/// rows [first_j, first_j + rows_j) in its Y rows [0, rows_j). Every
/// global token must be written exactly once, and the Y rows past a share
/// must be 0. Returns "" or what is wrong.
std::string assembleScatteredY(const AttentionSpec &s,
                               const std::vector<float> &allY, int64_t nY,
                               const std::vector<int64_t> &allC, int size,
                               const std::vector<float> &bo,
                               std::vector<float> &y) {
  int64_t B = s.batch, dm = s.dModel, S = s.yRows();
  std::vector<int> written(static_cast<size_t>(s.seq), 0);
  for (int r = 0; r < size; ++r) {
    RankCoords c{allC[3 * r], allC[3 * r + 1], allC[3 * r + 2]};
    const float *ry = &allY[static_cast<size_t>(r) * nY];
    int64_t j = s.outputShare(c.headGroup, c.dimSlice);
    int64_t first = s.yShareFirst(j), rows = s.yShareRows(j);
    for (int64_t l = 0; l < S; ++l) {
      int64_t t = l < rows ? ringrt::layout::globalToken(
                                 s.balance, s.seq, s.ring, c.ring, first + l)
                           : -1;
      if (l < rows && t >= 0)
        ++written[static_cast<size_t>(t)];
      for (int64_t b = 0; b < B; ++b) {
        if (l < rows && t < 0) {
          std::string why = checkPaddingY(s, &ry[(b * S + l) * dm], bo, r,
                                          first + l);
          if (!why.empty())
            return why;
          continue;
        }
        for (int64_t col = 0; col < dm; ++col) {
          float got = ry[(b * S + l) * dm + col];
          if (l < rows) {
            y[static_cast<size_t>((b * s.seq + t) * dm + col)] = got;
          } else if (got != 0.0f) {
            return "y of rank " + std::to_string(r) + " (ring " +
                   std::to_string(c.ring) + ", share " + std::to_string(j) +
                   " of " + std::to_string(rows) + " rows) has " +
                   std::to_string(got) + " at row " + std::to_string(l) +
                   ", past its share; those rows must be 0";
          }
        }
      }
    }
  }
  for (int64_t t = 0; t < s.seq; ++t)
    if (written[static_cast<size_t>(t)] != 1)
      return "token " + std::to_string(t) + " of Y is held by " +
             std::to_string(written[static_cast<size_t>(t)]) +
             " ranks after the reduce-scatter; each token's row must be held "
             "by exactly one";
  return "";
}

} // namespace

int ringrun::runLayerCheck(const LayerRun &run) {
  const Manifest &m = run.manifest;
  const AttentionSpec &s = m.spec;
  LayerBuffers bufs(run);
  std::string devErr = bufs.toDevice(run);
  if (!run.agree(devErr.empty(), devErr))
    return 1;
  int32_t st = bufs.call(run);
  if (!run.agree(st == RINGRT_OK, statusError("entry '" + m.entry + "'", st)))
    return 1;
  devErr = bufs.fromDevice(run);
  if (!run.agree(devErr.empty(), devErr))
    return 1;

  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::vector<float> myY = bufs.y.asFloat(), myL = bufs.lse.asFloat();
  int64_t nY = bufs.y.count, nL = bufs.lse.count;
  int64_t coords[3] = {run.coords.ring, run.coords.headGroup,
                       run.coords.dimSlice};
  std::vector<float> allY, allL;
  std::vector<int64_t> allC;
  if (rank == 0) {
    allY.resize(static_cast<size_t>(nY) * size);
    allL.resize(static_cast<size_t>(nL) * size);
    allC.resize(3 * static_cast<size_t>(size));
  }
  MPI_Gather(myY.data(), static_cast<int>(nY), MPI_FLOAT, allY.data(),
             static_cast<int>(nY), MPI_FLOAT, 0, MPI_COMM_WORLD);
  MPI_Gather(myL.data(), static_cast<int>(nL), MPI_FLOAT, allL.data(),
             static_cast<int>(nL), MPI_FLOAT, 0, MPI_COMM_WORLD);
  MPI_Gather(coords, 3, MPI_INT64_T, allC.data(), 3, MPI_INT64_T, 0,
             MPI_COMM_WORLD);

  std::string failure;
  if (rank == 0) {
    LayerShapes g(s);
    float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<int64_t> yShape = {g.B, g.L, g.dm}, lseShape = {g.B, g.H, g.L};
    std::vector<float> y(static_cast<size_t>(count(yShape)), nan);
    std::vector<float> lse(static_cast<size_t>(count(lseShape)), nan);
    int64_t Ll = s.rankSeq();
    std::vector<std::vector<float>> in;
    for (int which = kLayerX; which <= kLayerBo; ++which)
      in.push_back(generateInput(run.seed, which, g.shape(which), s.dtype,
                                 g.scale(which, run.inputScale)));
    // b_o as the ranks hold it (generateInput's values are the dtype's).
    std::vector<float> bo(static_cast<size_t>(s.dModel), 0.0f);
    if (s.bias)
      bo = in[static_cast<size_t>(kLayerBo - kLayerX)];
    if (s.scatterOutput)
      failure = assembleScatteredY(s, allY, nY, allC, size, bo, y);
    // Y comes from head group 0 / dim slice 0 and LSE from dim slice 0;
    // the all-reduce gives every other rank of a ring coordinate the same
    // Y bit for bit, and the dim slices agree on LSE.
    for (int pass = 0; pass < 2; ++pass)
      for (int r = 0; r < size && failure.empty(); ++r) {
        RankCoords c{allC[3 * r], allC[3 * r + 1], allC[3 * r + 2]};
        const float *ry = &allY[static_cast<size_t>(r) * nY];
        const float *rl = &allL[static_cast<size_t>(r) * nL];
        bool primaryY = c.headGroup == 0 && c.dimSlice == 0;
        if (!s.scatterOutput && (pass == 0) == primaryY)
          for (int64_t b = 0; b < g.B; ++b)
            for (int64_t i = 0; i < Ll && failure.empty(); ++i) {
              int64_t t = ringrt::layout::globalToken(s.balance, s.seq,
                                                      s.ring, c.ring, i);
              if (t < 0) { // a padding row
                failure = checkPaddingY(s, &ry[(b * Ll + i) * g.dm], bo, r, i);
                continue;
              }
              for (int64_t col = 0; col < g.dm; ++col) {
                float got = ry[(b * Ll + i) * g.dm + col];
                float &dst = y[static_cast<size_t>((b * g.L + t) * g.dm + col)];
                if (pass == 0) {
                  dst = got;
                } else if (!sameBits(got, dst)) {
                  // Bit for bit: a Y left as the poison on one rank and a
                  // NaN computed on another are different.
                  failure = "y of rank " + std::to_string(r) + " (head group " +
                            std::to_string(c.headGroup) + ", dim slice " +
                            std::to_string(c.dimSlice) +
                            ") differs from head group 0 / dim slice 0 at "
                            "token " + std::to_string(t) + ", column " +
                            std::to_string(col) + ": " + describeFloat(got) +
                            " vs " + describeFloat(dst) +
                            "; the all-reduce must leave every rank the same Y";
                  break;
                }
              }
            }
        if ((pass == 0) == (c.dimSlice == 0))
          forEachLocal(
              s, s.heads, false, c,
              [&](int64_t l, int64_t gi) {
                float &dst = lse[static_cast<size_t>(gi)];
                if (pass == 0) {
                  dst = rl[l];
                  return;
                }
                if (!lseAgreesAcrossSlices(dst, rl[l]) && failure.empty())
                  failure = "lse of rank " + std::to_string(r) +
                            " (dim slice " + std::to_string(c.dimSlice) +
                            ") disagrees with dim slice 0 at flat index " +
                            std::to_string(gi);
              },
              [&](int64_t l) { // padding rows hold no token: LSE = -inf
                if (rl[l] != -std::numeric_limits<float>::infinity() &&
                    failure.empty())
                  failure = "lse of rank " + std::to_string(r) + " is " +
                            std::to_string(rl[l]) +
                            " in a padding row (the layout's parts are "
                            "uneven); expected -inf";
              });
      }

    std::vector<double> refY, refL;
    referenceLayer(s, in, refY, refL);
    double yErr = 0, lErr = 0;
    if (failure.empty()) {
      Comparison cy = compareOutput("y", y.data(), refY.data(), yShape);
      Comparison cl = compareOutput("lse", lse.data(), refL.data(), lseShape);
      yErr = cy.relErr;
      lErr = cl.relErr;
      if (!cy.ok)
        failure = cy.why;
      else if (!cl.ok)
        failure = cl.why;
    }
    double bound = s.dtype == RINGRT_F32 ? 1e-4 : 1e-2;
    double maxErr = std::max(yErr, lErr);
    if (failure.empty() && !(maxErr <= bound))
      failure = "max_rel_err=" + std::to_string(maxErr) + " exceeds the " +
                ringrt_dtype_name(s.dtype) + " bound " +
                std::to_string(bound) + " (y_rel_err=" + std::to_string(yErr) +
                " lse_rel_err=" + std::to_string(lErr) + ")";
    if (!run.dumpDir.empty()) {
      ::mkdir(run.dumpDir.c_str(), 0755);
      std::string err, d = run.dumpDir + "/";
      const char *names[] = {"x", "wq", "wk", "wv", "wo",
                             "bq", "bk", "bv", "bo"};
      bool ok = writeDocumentsNpy(run.dumpDir, s, err);
      for (int which = kLayerX; which <= kLayerBo && ok; ++which) {
        if (which >= kLayerBq && !s.bias)
          break;
        ok = writeNpyF32(d + names[which - kLayerX] + ".npy",
                         in[static_cast<size_t>(which - kLayerX)].data(),
                         g.shape(which), err);
      }
      ok = ok && writeNpyF32(d + "y.npy", y.data(), yShape, err) &&
           writeNpyF32(d + "lse.npy", lse.data(), lseShape, err);
      if (!ok && failure.empty())
        failure = "--dump: " + err;
    }
    if (failure.empty())
      std::fprintf(stdout,
                   "ring-run: PASS max_rel_err=%.3e y_rel_err=%.3e "
                   "lse_rel_err=%.3e ranks=%d\n",
                   maxErr, yErr, lErr, size);
    else
      std::fprintf(stdout, "ring-run: FAIL %s\n", failure.c_str());
    std::fflush(stdout);
  }
  int rc = failure.empty() ? 0 : 1;
  MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return rc;
}

int ringrun::runLayerBench(const LayerRun &run) {
  const AttentionSpec &s = run.manifest.spec;
  std::string name = "entry '" + run.manifest.entry + "'";
  LayerBuffers bufs(run);
  std::string devErr = bufs.toDevice(run);
  if (!run.agree(devErr.empty(), devErr))
    return 1;
  // GPU entries return before the device is done: wait after the warm-up
  // and after the timed calls.
  auto wait = [&](int32_t st) {
    return st == RINGRT_OK && bufs.onDevice ? ringrt_device_synchronize(run.ctx)
                                            : st;
  };
  int32_t st = RINGRT_OK;
  for (int i = 0; i < 2 && st == RINGRT_OK; ++i)
    st = bufs.call(run);
  st = wait(st);
  if (!run.agree(st == RINGRT_OK, statusError(name + " (warm-up)", st)))
    return 1;
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  for (int64_t i = 0; i < run.iters && st == RINGRT_OK; ++i)
    st = bufs.call(run);
  st = wait(st);
  double elapsed = MPI_Wtime() - t0, maxElapsed = 0;
  if (!run.agree(st == RINGRT_OK, statusError(name, st)))
    return 1;
  MPI_Allreduce(&elapsed, &maxElapsed, 1, MPI_DOUBLE, MPI_MAX,
                MPI_COMM_WORLD);
  if (run.benchMs)
    *run.benchMs = maxElapsed / static_cast<double>(run.iters) * 1e3;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) {
    LayerShapes g(s);
    double perIter = maxElapsed / static_cast<double>(run.iters);
    double L = static_cast<double>(s.seq), tokens = s.batch * L;
    // The visible score pairs (masks, window and documents).
    double attention = 4.0 * s.batch * s.heads * s.scorePairs() * s.headDim;
    // Q, K, V and the output projection: 2 FLOPs per multiply-add.
    double projections =
        2.0 * tokens * static_cast<double>(g.dm) *
        static_cast<double>(2 * g.q + 2 * g.kv);
    std::fprintf(stdout,
                 "ring-run: layer FLOPs per iteration: projections %.4g "
                 "GFLOP, attention %.4g GFLOP\n",
                 projections / 1e9, attention / 1e9);
    std::fprintf(stdout,
                 "ring-run: BENCH ms_per_iter=%.4f tokens_per_s=%.6g "
                 "gflops=%.6g\n",
                 perIter * 1e3, tokens / perIter,
                 (attention + projections) / perIter / 1e9);
    std::fflush(stdout);
  }
  return 0;
}
