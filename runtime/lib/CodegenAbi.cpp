//===- CodegenAbi.cpp - ringrt entry points for generated code --*- C++ -*-===//
//
// This file implements codegen_abi.h over the public ringrt API: every call
// is a no-op once the status cell holds a failure, and records the first
// failure otherwise.
//
//===----------------------------------------------------------------------===//

#include "ringrt/codegen_abi.h"
#include "device/DeviceBackend.h"

namespace {

/// Whether generated code may go on (no earlier failure).
bool ok(const int32_t *status) { return status && *status == RINGRT_OK; }

void record(int32_t *status, ringrt_status st) {
  if (status && *status == RINGRT_OK && st != RINGRT_OK)
    *status = st;
}

} // namespace

extern "C" {

void ringrt_cg_shift_start(ringrt_context *ctx, int32_t *status,
                           const void *send, void *recv, int64_t bytes,
                           int32_t stage, int32_t tag, ringrt_request **slot) {
  if (slot)
    *slot = nullptr;
  if (!ok(status))
    return;
  // Device buffers the communicator cannot address go through host copies.
  if (ringrt::shiftNeedsHostStaging(ctx))
    return record(status, ringrt::stagedShiftStart(ctx, send, recv, bytes,
                                                   stage, tag, slot));
  record(status, ringrt_shift_start(ctx, send, recv, bytes, stage, tag, slot));
}

void ringrt_cg_shift_wait(ringrt_context *ctx, int32_t *status,
                          ringrt_request **slot) {
  if (!ok(status) || !slot || !*slot)
    return;
  ringrt_request *req = *slot;
  *slot = nullptr;
  record(status, ringrt::deviceShiftWait(ctx, req));
}

void ringrt_cg_shift(ringrt_context *ctx, int32_t *status, const void *send,
                     void *recv, int64_t bytes, int32_t stage, int32_t tag) {
  ringrt_request *req = nullptr;
  ringrt_cg_shift_start(ctx, status, send, recv, bytes, stage, tag, &req);
  ringrt_cg_shift_wait(ctx, status, &req);
}

void ringrt_cg_allreduce_sum_f32(ringrt_context *ctx, int32_t *status,
                                 float *buf, int64_t count, int32_t stage) {
  if (!ok(status))
    return;
  record(status, ringrt_allreduce_sum_f32(ctx, buf, count,
                                          RINGRT_AXIS_DIM_SLICE, stage));
}

int32_t ringrt_cg_coord(const ringrt_context *ctx, int32_t role) {
  if (!ctx || role < RINGRT_AXIS_RING || role > RINGRT_AXIS_DIM_SLICE)
    return 0;
  return ringrt_coord(ctx, static_cast<ringrt_axis>(role));
}

} // extern "C"
