//===- Collectives.cpp - shift, wait, all-reduce entry points ---*- C++ -*-===//
//
// This file implements the communication entry points of the ringrt C API
// by validating their arguments and forwarding to the context's
// communicator backend.
//
//===----------------------------------------------------------------------===//

#include "Context.h"
#include "Error.h"
#include "StageStats.h"

#include <new>
#include <vector>
#include <string>

using namespace ringrt;

ringrt_status ringrt::prepareAllToAll(const ringrt_context *ctx, int32_t mode,
                                      const layout::A2AShape &shape,
                                      int32_t id, A2APlan &out) {
  if (!ctx)
    return setError(RINGRT_ERR_INVALID_ARGUMENT,
                    "ringrt_all_to_all: null context");
  if (mode != RINGRT_A2A_SEQ_TO_HEADS && mode != RINGRT_A2A_HEADS_TO_SEQ)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "ringrt_all_to_all #%d: mode %d is not 0 "
                     "(RINGRT_A2A_SEQ_TO_HEADS) or 1 (RINGRT_A2A_HEADS_TO_SEQ)",
                     id, mode);
  int64_t U = ctx->grid.roleSize(RINGRT_AXIS_A2A);
  auto m = static_cast<layout::A2AMode>(mode);
  std::string why = layout::checkA2A(m, shape, U);
  if (!why.empty())
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "ringrt_all_to_all #%d: send [%lld, %lld, %lld] x %lld "
                     "bytes, recv [%lld, %lld, %lld]: %s",
                     id, static_cast<long long>(shape.batch),
                     static_cast<long long>(shape.srcHeads),
                     static_cast<long long>(shape.srcSeq),
                     static_cast<long long>(shape.rowBytes),
                     static_cast<long long>(shape.batch),
                     static_cast<long long>(shape.dstHeads),
                     static_cast<long long>(shape.dstSeq), why.c_str());
  out.U = U;
  out.sendBytes = shape.batch * shape.srcHeads * shape.srcSeq * shape.rowBytes;
  out.recvBytes = shape.batch * shape.dstHeads * shape.dstSeq * shape.rowBytes;
  out.send.clear();
  out.recv.clear();
  const int64_t me = U > 1 ? ctx->grid.roleCoord(RINGRT_AXIS_A2A) : 0;
  for (int64_t j = 0; j < U; ++j) {
    out.send.push_back(layout::a2aSendBlock(m, shape, U, j, me));
    out.recv.push_back(layout::a2aRecvBlock(m, shape, U, j, me));
  }
  return RINGRT_OK;
}

extern "C" {

ringrt_status ringrt_all_to_all(ringrt_context *ctx, const void *send,
                                void *recv, int32_t mode, int64_t batch,
                                int64_t src_heads, int64_t src_seq,
                                int64_t dst_heads, int64_t dst_seq,
                                int64_t row_bytes, int32_t id) {
  layout::A2AShape shape{batch, src_heads, src_seq, dst_heads, dst_seq,
                         row_bytes};
  A2APlan plan;
  if (ringrt_status st = prepareAllToAll(ctx, mode, shape, id, plan))
    return st;
  if (!send || !recv)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "ringrt_all_to_all #%d: null buffer", id);
  auto s = static_cast<const char *>(send);
  auto r = static_cast<const char *>(recv);
  if (s < r + plan.recvBytes && r < s + plan.sendBytes)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "ringrt_all_to_all #%d: send and recv buffers overlap",
                     id);
  ringrt_status st = ctx->comm->allToAll(send, recv, plan.send.data(),
                                         plan.recv.data(), plan.U, id);
  if (st == RINGRT_ERR_UNSUPPORTED && lastError().empty())
    return setErrorf(st,
                     "ringrt_all_to_all #%d: this communicator has no "
                     "all-to-all over %lld ranks",
                     id, static_cast<long long>(plan.U));
  return st;
}

ringrt_status ringrt_shift_start(ringrt_context *ctx, const void *send,
                                 void *recv, int64_t bytes, int32_t stage,
                                 int32_t tag, ringrt_request **req) {
  return ringrt_shift_start_dir(ctx, send, recv, bytes, stage, tag, 1, req);
}

ringrt_status ringrt_shift_start_dir(ringrt_context *ctx, const void *send,
                                     void *recv, int64_t bytes, int32_t stage,
                                     int32_t tag, int32_t direction,
                                     ringrt_request **req) {
  if (req)
    *req = nullptr;
  if (!ctx || !req)
    return setError(RINGRT_ERR_INVALID_ARGUMENT,
                    "ringrt_shift_start: null context or request pointer");
  if (bytes < 0 || (bytes > 0 && (!send || !recv)))
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "ringrt_shift_start: stage %d: invalid buffers (send %p, "
                     "recv %p, %lld bytes)",
                     stage, send, recv, static_cast<long long>(bytes));
  if (stage < 0 || tag < 0 || tag > 15)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "ringrt_shift_start: stage %d must be >= 0 and tag %d in "
                     "0..15",
                     stage, tag);
  auto s = static_cast<const char *>(send);
  auto r = static_cast<const char *>(recv);
  if (bytes > 0 && s < r + bytes && r < s + bytes)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "ringrt_shift_start: stage %d: send and recv buffers "
                     "overlap",
                     stage);
  if (direction != 1 && direction != -1)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "ringrt_shift_start_dir: stage %d: direction %d must be "
                     "1 (to the ring successor) or -1 (to the predecessor)",
                     stage, direction);
  if (ringrt_status fault = ringrt::injectFault("shift", stage))
    return fault;
  std::unique_ptr<ringrt_request> out;
  double startedAt = nowSeconds();
  ringrt_status st = ctx->comm->shiftStartDir(send, recv, bytes, stage, tag,
                                              direction, out);
  if (st == RINGRT_ERR_UNSUPPORTED && direction == -1)
    return setErrorf(st,
                     "ringrt_shift_start_dir: stage %d: this communicator "
                     "shifts only to the ring successor",
                     stage);
  if (st != RINGRT_OK)
    return st;
  out->statStage = stage;
  out->startedAt = startedAt;
  ctx->stats.onStart(*out);
  *req = out.release();
  return RINGRT_OK;
}

ringrt_status ringrt_wait(ringrt_context *ctx, ringrt_request *req) {
  if (!ctx || !req)
    return setError(RINGRT_ERR_INVALID_ARGUMENT,
                    "ringrt_wait: null context or request");
  std::unique_ptr<ringrt_request> owned(req);
  if (!ctx->stats.enabled())
    return ctx->comm->wait(*owned);
  double enteredAt = nowSeconds(), enteredCpu = threadCpuSeconds();
  ringrt_status st = ctx->comm->wait(*owned);
  if (st == RINGRT_OK)
    ctx->stats.onWait(*owned, enteredAt, enteredCpu);
  return st;
}

ringrt_status ringrt_allreduce_sum_f32(ringrt_context *ctx, float *buf,
                                       int64_t count, ringrt_axis role,
                                       int32_t stage) {
  if (!ctx || (count > 0 && !buf) || count < 0)
    return setError(RINGRT_ERR_INVALID_ARGUMENT,
                    "ringrt_allreduce_sum_f32: null context or buffer, or "
                    "negative count");
  if (role < 0 || role > 2)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "ringrt_allreduce_sum_f32: invalid role %d", role);
  if (count == 0 || ctx->grid.roleSize(role) == 1)
    return RINGRT_OK;
  return ctx->comm->allreduceSumF32(buf, count, role, stage);
}

ringrt_status ringrt_output_share(const ringrt_context *ctx,
                                  const int64_t *shares, int64_t nshares,
                                  int64_t *offset, int64_t *count) {
  if (!ctx || !shares || !offset || !count)
    return setError(RINGRT_ERR_INVALID_ARGUMENT,
                    "ringrt_output_share: null context, shares or result");
  int64_t n = ctx->grid.roleSize(RINGRT_AXIS_HEAD_GROUP),
          m = ctx->grid.roleSize(RINGRT_AXIS_DIM_SLICE);
  if (nshares != n * m)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "ringrt_output_share: %lld shares, but the grid has "
                     "%lld head groups x %lld dim slices",
                     static_cast<long long>(nshares),
                     static_cast<long long>(n), static_cast<long long>(m));
  int64_t j = ctx->grid.roleCoord(RINGRT_AXIS_DIM_SLICE) * n +
              ctx->grid.roleCoord(RINGRT_AXIS_HEAD_GROUP);
  int64_t first = 0;
  for (int64_t i = 0; i < j; ++i)
    first += shares[i];
  *offset = first;
  *count = shares[j];
  return RINGRT_OK;
}

ringrt_status ringrt_reduce_scatter_rows_sum_f32(
    ringrt_context *ctx, float *buf, int64_t batch, int64_t rows,
    int64_t cols, const int64_t *shares, int64_t nshares, int32_t stage) {
  const char *fn = "ringrt_reduce_scatter_rows_sum_f32";
  if (!ctx || !shares || batch < 0 || rows < 0 || cols < 0 ||
      (batch * rows * cols > 0 && !buf))
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "%s: stage %d: null context, buffer or shares, or a "
                     "negative size",
                     fn, stage);
  const int64_t n = ctx->grid.roleSize(RINGRT_AXIS_HEAD_GROUP),
                m = ctx->grid.roleSize(RINGRT_AXIS_DIM_SLICE);
  if (nshares != n * m)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "%s: stage %d: %lld shares, but %lld head groups x %lld "
                     "dim slices share a ring coordinate (one share each)",
                     fn, stage, static_cast<long long>(nshares),
                     static_cast<long long>(n), static_cast<long long>(m));
  // offsets[j]: the first row of share j; offsets[k] = rows.
  std::vector<int64_t> offsets(static_cast<size_t>(nshares) + 1, 0);
  for (int64_t j = 0; j < nshares; ++j) {
    if (shares[j] < 0)
      return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                       "%s: stage %d: share %lld has %lld rows", fn, stage,
                       static_cast<long long>(j),
                       static_cast<long long>(shares[j]));
    offsets[j + 1] = offsets[j] + shares[j];
  }
  if (offsets[nshares] != rows)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "%s: stage %d: the shares cover %lld rows but the buffer "
                     "has %lld; every row must be owned by exactly one rank",
                     fn, stage, static_cast<long long>(offsets[nshares]),
                     static_cast<long long>(rows));
  if (batch * rows * cols == 0)
    return RINGRT_OK;
  // Share j = s·n + g: the shares of dim slice s are contiguous, so the
  // reduce-scatter over the dim-slice axis (rows of dim slice s: shares
  // s·n … s·n + n − 1) nests the one over the head-group axis inside them.
  const int64_t s = ctx->grid.roleCoord(RINGRT_AXIS_DIM_SLICE);
  std::vector<int64_t> bounds;
  if (m > 1) {
    for (int64_t c = 0; c <= m; ++c)
      bounds.push_back(offsets[c * n]);
    if (ringrt_status st = ctx->comm->reduceScatterRowsF32(
            buf, batch, rows, cols, bounds.data(), RINGRT_AXIS_DIM_SLICE,
            stage)) {
      if (st == RINGRT_ERR_UNSUPPORTED && lastError().empty())
        return setErrorf(st, "%s: stage %d: this communicator has no "
                             "reduce-scatter",
                         fn, stage);
      return st;
    }
  }
  if (n > 1) {
    bounds.clear();
    for (int64_t c = 0; c <= n; ++c)
      bounds.push_back(offsets[s * n + c]);
    if (ringrt_status st = ctx->comm->reduceScatterRowsF32(
            buf, batch, rows, cols, bounds.data(), RINGRT_AXIS_HEAD_GROUP,
            stage)) {
      if (st == RINGRT_ERR_UNSUPPORTED && lastError().empty())
        return setErrorf(st, "%s: stage %d: this communicator has no "
                             "reduce-scatter",
                         fn, stage);
      return st;
    }
  }
  return RINGRT_OK;
}

ringrt_status ringrt_barrier(ringrt_context *ctx) {
  if (!ctx)
    return setError(RINGRT_ERR_INVALID_ARGUMENT, "ringrt_barrier: null context");
  return ctx->comm->barrier();
}

} // extern "C"
