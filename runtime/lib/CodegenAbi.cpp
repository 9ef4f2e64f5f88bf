//===- CodegenAbi.cpp - ringrt entry points for generated code --*- C++ -*-===//
//
// This file implements codegen_abi.h over the public ringrt API: every call
// is a no-op once the status cell holds a failure, and records the first
// failure otherwise.
//
//===----------------------------------------------------------------------===//

#include "ringrt/codegen_abi.h"
#include "Context.h"
#include "Error.h"
#include "StageStats.h"
#include "device/DeviceBackend.h"

#include <cstdlib>
#include <cstring>

#define RINGRT_STRINGIFY_(x) #x
#define RINGRT_STRINGIFY(x) RINGRT_STRINGIFY_(x)

namespace {

/// Whether generated code may go on (no earlier failure).
bool ok(const int32_t *status) { return status && *status == RINGRT_OK; }

/// The context of the generated entry's call running on this thread
/// (ringrt_cg_begin to ringrt_cg_end), which ringrt_cg_progress serves.
/// Per thread, and only for the span of one call: two contexts, on two
/// threads or one after the other, never see each other's.
thread_local ringrt_context *callContext = nullptr;
/// When ringrt_cg_progress last polled (steady-clock seconds), and how
/// many shifts were in flight then.
thread_local double lastProgress = 0;
thread_local int32_t lastInFlight = 0;

void record(int32_t *status, ringrt_status st) {
  if (status && *status == RINGRT_OK && st != RINGRT_OK)
    *status = st;
}

/// Runs `exchange(hostIn, hostOut)`, a collective of a communicator that
/// takes host pointers (comm "mpi"), on device buffers through page-locked
/// staging memory: `in` is copied out after the device work queued so far
/// (DeviceBackend::stageOut: on the comm stream, after an event of the
/// compute stream; the host waits for that copy alone), and once the
/// exchange returned, `out` is copied in (stageIn: on the comm stream, and
/// the compute stream waits on its event, so that kernels queued later
/// read the received bytes). `out` may be `in` (an in-place all-reduce).
/// With `preserveOut`, `out` is copied out first too, so that bytes the
/// exchange leaves alone (an all-to-all's a2a padding rows) keep their value.
/// A synchronous cuMemcpyHtoD from pageable memory would not do: it may
/// return before its DMA lands, and it runs on the legacy stream, which the
/// non-blocking compute stream does not wait for.
template <typename Exchange>
ringrt_status hostStaged(ringrt::DeviceBackend &device, const void *in,
                         int64_t inBytes, void *out, int64_t outBytes,
                         Exchange exchange, bool preserveOut = false) {
  void *hostIn = nullptr, *hostOut = nullptr;
  ringrt_status st = device.allocStaging(inBytes, &hostIn);
  if (st == RINGRT_OK && out != in)
    st = device.allocStaging(outBytes, &hostOut);
  if (out == in)
    hostOut = hostIn;
  if (st == RINGRT_OK)
    st = device.stageOut(hostIn, in, inBytes);
  // Bytes the exchange does not write go back as they were.
  if (st == RINGRT_OK && preserveOut && out != in)
    st = device.stageOut(hostOut, out, outBytes);
  if (st == RINGRT_OK)
    st = exchange(hostIn, hostOut);
  if (st == RINGRT_OK)
    st = device.stageIn(out, hostOut, outBytes);
  device.freeStaging(hostIn);
  if (hostOut != hostIn)
    device.freeStaging(hostOut);
  return st;
}

/// Runs `collective`, an in-place sum over `count` floats of the device
/// buffer `buf` that the communicator addresses directly; on a device that
/// tracksInitialization, every byte must have been written before
/// (DeviceBackend::hostReads), and all are initialized afterwards.
template <typename Collective>
ringrt_status inPlace(ringrt::DeviceBackend &device, float *buf,
                      int64_t count, const char *name, int32_t stage,
                      Collective collective) {
  if (!device.tracksInitialization() || count <= 0)
    return collective();
  int64_t bytes = count * static_cast<int64_t>(sizeof(float));
  if (ringrt_status st = device.hostReads(
          buf, bytes,
          ringrt::formatv("the buffer of the stage %d %s", stage, name)
              .c_str()))
    return st;
  ringrt_status st = collective();
  if (st == RINGRT_OK)
    device.hostWrote(buf, bytes);
  return st;
}

/// The all-reduce over the axis playing `role` of a device buffer (GPU
/// targets): in place over that axis, through staging memory (hostStaged)
/// when the communicator cannot address device memory (the condition of
/// the shift staging, ringrt::shiftNeedsHostStaging).
ringrt_status deviceAllreduceSumF32(ringrt_context *ctx, float *buf,
                                    int64_t count, ringrt_axis role,
                                    int32_t stage) {
  ringrt::DeviceBackend &device = *ctx->deviceBackend;
  // NCCL orders itself after the kernels on the device (and can be
  // captured into a CUDA graph); the others need the kernels finished.
  if (ctx->comm && ctx->comm->takesDevicePointers())
    return ringrt_allreduce_sum_f32(ctx, buf, count, role, stage);
  if (ringrt_status st = ringrt::refuseUnderCapture(
          ctx, ringrt::formatv("ringrt_allreduce_sum_f32: stage %d: comm "
                               "'mpi' waits for the device, then sums in "
                               "host memory",
                               stage)
                   .c_str()))
    return st;
  if (!ringrt::shiftNeedsHostStaging(ctx) || count <= 0) {
    if (ringrt_status st = device.synchronize())
      return st;
    return inPlace(device, buf, count, "all-reduce", stage, [&] {
      return ringrt_allreduce_sum_f32(ctx, buf, count, role, stage);
    });
  }
  int64_t bytes = count * static_cast<int64_t>(sizeof(float));
  return hostStaged(device, buf, bytes, buf, bytes,
                    [&](void *in, void *) {
                      return ringrt_allreduce_sum_f32(
                          ctx, static_cast<float *>(in), count, role, stage);
                    });
}

/// The reduce-scatter of the layer's device partial Y (GPU targets), as
/// deviceAllreduceSumF32 does the all-reduce: NCCL on the device, else
/// after the device and, where needed, through staging memory (the whole
/// buffer goes out and comes back: the rows of other shares come back
/// unspecified, as the reduce-scatter leaves them).
ringrt_status deviceReduceScatterRows(ringrt_context *ctx, float *buf,
                                      int64_t batch, int64_t rows,
                                      int64_t cols, const int64_t *shares,
                                      int64_t nshares, int32_t stage) {
  ringrt::DeviceBackend &device = *ctx->deviceBackend;
  auto run = [&](float *b) {
    return ringrt_reduce_scatter_rows_sum_f32(ctx, b, batch, rows, cols,
                                              shares, nshares, stage);
  };
  if (ctx->comm && ctx->comm->takesDevicePointers())
    return run(buf);
  if (ringrt_status st = ringrt::refuseUnderCapture(
          ctx, ringrt::formatv("ringrt_reduce_scatter_rows_sum_f32: stage "
                               "%d: comm 'mpi' waits for the device, then "
                               "sums in host memory",
                               stage)
                   .c_str()))
    return st;
  int64_t count = batch * rows * cols;
  if (!ringrt::shiftNeedsHostStaging(ctx) || count <= 0) {
    if (ringrt_status st = device.synchronize())
      return st;
    return inPlace(device, buf, count, "reduce-scatter", stage,
                   [&] { return run(buf); });
  }
  int64_t bytes = count * static_cast<int64_t>(sizeof(float));
  return hostStaged(device, buf, bytes, buf, bytes, [&](void *in, void *) {
    return run(static_cast<float *>(in));
  });
}

/// The all-to-all of device buffers (GPU targets): after the kernels that
/// wrote `send`, through staging copies of both buffers (hostStaged) unless
/// the communicator takes device pointers (NCCL, which orders it on its
/// own stream).
ringrt_status deviceAllToAll(ringrt_context *ctx, const void *send,
                             void *recv, int32_t mode,
                             const ringrt::layout::A2AShape &shape,
                             int32_t id) {
  ringrt::DeviceBackend &device = *ctx->deviceBackend;
  ringrt::A2APlan plan;
  if (ringrt_status st = ringrt::prepareAllToAll(ctx, mode, shape, id, plan))
    return st;
  // NCCL orders itself after the kernels on the device (see above).
  if (ctx->comm && ctx->comm->takesDevicePointers())
    return ctx->comm->allToAll(send, recv, plan.send.data(),
                               plan.recv.data(), plan.U, id);
  if (ringrt_status st = ringrt::refuseUnderCapture(
          ctx, ringrt::formatv("ringrt_all_to_all #%d: comm 'mpi' waits for "
                               "the device, then exchanges host copies",
                               id)
                   .c_str()))
    return st;
  if (!ringrt::shiftNeedsHostStaging(ctx)) {
    if (ringrt_status st = device.synchronize())
      return st;
    if (!device.tracksInitialization())
      return ctx->comm->allToAll(send, recv, plan.send.data(),
                                 plan.recv.data(), plan.U, id);
    // The communicator reads the send blocks and writes the receive blocks
    // of device memory in place (DeviceBackend::hostReads/hostWrote).
    std::string what = ringrt::formatv("a send block of all-to-all #%d", id);
    for (const ringrt::layout::A2ABlock &b : plan.send)
      for (int64_t r = 0; r < b.runs(); ++r)
        if (ringrt_status st = device.hostReads(
                static_cast<const char *>(send) + b.runOffset(r), b.rowBytes,
                what.c_str()))
          return st;
    if (ringrt_status st = ctx->comm->allToAll(send, recv, plan.send.data(),
                                               plan.recv.data(), plan.U, id))
      return st;
    for (const ringrt::layout::A2ABlock &b : plan.recv)
      for (int64_t r = 0; r < b.runs(); ++r)
        device.hostWrote(static_cast<char *>(recv) + b.runOffset(r),
                         b.rowBytes);
    return RINGRT_OK;
  }
  return hostStaged(device, send, plan.sendBytes, recv, plan.recvBytes,
                    [&](void *in, void *out) {
                      return ctx->comm->allToAll(in, out, plan.send.data(),
                                                 plan.recv.data(), plan.U, id);
                    },
                    /*preserveOut=*/!plan.coversRecv());
}

} // namespace

extern "C" {

void ringrt_cg_all_to_all(ringrt_context *ctx, int32_t *status,
                          const void *send, void *recv, int32_t mode,
                          int64_t batch, int64_t src_heads, int64_t src_seq,
                          int64_t dst_heads, int64_t dst_seq,
                          int64_t row_bytes, int32_t id) {
  if (!ok(status))
    return;
  if (ctx && ctx->deviceBackend)
    return record(status,
                  deviceAllToAll(ctx, send, recv, mode,
                                 {batch, src_heads, src_seq, dst_heads,
                                  dst_seq, row_bytes},
                                 id));
  record(status, ringrt_all_to_all(ctx, send, recv, mode, batch, src_heads,
                                   src_seq, dst_heads, dst_seq, row_bytes,
                                   id));
}

void *ringrt_cg_workspace(ringrt_context *ctx, int32_t *status, void *given,
                          int64_t bytes) {
  if (!ok(status))
    return nullptr;
  if (given) {
    if (reinterpret_cast<uintptr_t>(given) % 256 != 0) {
      record(status, ringrt::setErrorf(
                         RINGRT_ERR_INVALID_ARGUMENT,
                         "workspace %p is not 256-byte aligned (pass memory "
                         "from ringrt_device_alloc or aligned_alloc(256, "
                         "NAME_workspace_bytes()), or NULL for the "
                         "context's)",
                         given));
      return nullptr;
    }
    // Each call's scratch buffers start with nothing in them: a kernel that
    // reads what an earlier call left is wrong (the emu device fails it).
    if (ctx && ctx->deviceBackend && bytes > 0)
      ctx->deviceBackend->scratchReused(given, bytes);
    return given;
  }
  if (bytes <= 0)
    return nullptr;
  if (!ctx) {
    record(status, ringrt::setError(RINGRT_ERR_INVALID_ARGUMENT,
                                    "generated entry point: context is null"));
    return nullptr;
  }
  if (ctx->workspace && ctx->workspaceBytes >= bytes) {
    // The steady state: nothing to allocate, and nothing the last call
    // left in it may be read (as above).
    if (ctx->deviceBackend)
      ctx->deviceBackend->scratchReused(ctx->workspace, bytes);
    return ctx->workspace;
  }
  // First use, or a larger artifact on this context: the old workspace
  // goes once the device work that may still use it is done.
  ringrt::DeviceBackend *device = ctx->deviceBackend.get();
  if (ctx->workspace) {
    if (device) {
      ringrt_status st = device->synchronize();
      if (st == RINGRT_OK)
        st = device->free(ctx->workspace);
      if (st != RINGRT_OK) {
        record(status, st);
        return nullptr;
      }
    } else {
      std::free(ctx->workspace);
    }
    ctx->workspace = nullptr;
    ctx->workspaceBytes = 0;
  }
  void *p = nullptr;
  if (device) {
    if (ringrt_status st = device->alloc(bytes, &p)) {
      record(status, st);
      return nullptr;
    }
  } else {
    p = std::aligned_alloc(256, (static_cast<size_t>(bytes) + 255) &
                                    ~size_t(255));
    if (!p) {
      record(status, ringrt::setErrorf(RINGRT_ERR_OUT_OF_MEMORY,
                                       "cannot allocate a workspace of %lld "
                                       "bytes",
                                       static_cast<long long>(bytes)));
      return nullptr;
    }
  }
  ctx->workspace = p;
  ctx->workspaceBytes = bytes;
  ++ctx->workspaceAllocations;
  return p;
}

void ringrt_cg_begin(ringrt_context *ctx, int32_t *status, void *stream) {
  if (!ok(status))
    return;
  if (!ctx)
    return record(status, ringrt::setError(RINGRT_ERR_INVALID_ARGUMENT,
                                           "ringrt_cg_begin: null context"));
  // A call left open would keep its state (callContext, the stage
  // statistics, the device's call stream) into the next one: an entry that
  // returned between ringrt_cg_begin and ringrt_cg_end, or two threads
  // calling entries on one context at once.
  if (ctx->callOpen)
    return record(status,
                  ringrt::setError(RINGRT_ERR_INVALID_ARGUMENT,
                                   "a call of a generated entry point is "
                                   "still open on this context (an entry "
                                   "returned without ringrt_cg_end, or "
                                   "another thread is calling one); use one "
                                   "context per thread"));
  if (ctx->deviceBackend) {
    if (ringrt_status st = ctx->deviceBackend->beginCall(stream))
      return record(status, st);
  } else if (stream) {
    return record(status,
                  ringrt::setError(RINGRT_ERR_INVALID_ARGUMENT,
                                   "a context without a device has no "
                                   "streams: pass NULL as the stream"));
  }
  ctx->callOpen = true;
  callContext = ctx;
  // A call captured into a CUDA graph runs nothing now: nothing to time.
  if (!ctx->deviceBackend || !ctx->deviceBackend->capturing())
    ctx->stats.beginCall();
}

void ringrt_cg_end(ringrt_context *ctx, int32_t *status) {
  if (callContext == ctx)
    callContext = nullptr;
  if (!ctx || !ctx->callOpen)
    return;
  ctx->callOpen = false;
  if (ok(status))
    ctx->stats.endCall();
  if (ctx && ctx->deviceBackend)
    record(status, ctx->deviceBackend->endCall());
}

void ringrt_cg_stream_wait(ringrt_context *ctx, int32_t *status,
                           void *stream) {
  if (ok(status) && ctx && ctx->deviceBackend)
    record(status, ctx->deviceBackend->waitStream(stream));
}

const char *ringrt_artifact_info_problem(const ringrt_artifact_info *info) {
  if (!info)
    return "no artifact descriptor";
  if (std::memcmp(info->magic, RINGRT_ARTIFACT_MAGIC, 8) != 0)
    return "the artifact descriptor has no RINGRTAI magic (not a ringc "
           "artifact library, or a damaged one)";
  if (info->format_version != RINGRT_ARTIFACT_FORMAT_VERSION)
    return "the library was built for another artifact format version than "
           "this runtime's (" RINGRT_STRINGIFY(RINGRT_ARTIFACT_FORMAT_VERSION)
           "); rebuild it with the matching ringc";
  if (info->entry_kind != RINGRT_ENTRY_KIND_TENSOR_ABI)
    return "the library's entry is not of this runtime's ringrt_tensor ABI "
           "(kind " RINGRT_STRINGIFY(RINGRT_ENTRY_KIND_TENSOR_ABI)
           ": tensors, workspace, stream); rebuild it with the matching "
           "ringc";
  if (std::memchr(info->entry, '\0', sizeof(info->entry)) == nullptr)
    return "the artifact descriptor's entry name is not NUL-terminated";
  return "";
}

int32_t ringrt_cg_check_artifact(const ringrt_context *ctx,
                                 const ringrt_artifact_info *info) {
  if (!ctx)
    return ringrt::setError(RINGRT_ERR_INVALID_ARGUMENT,
                            "artifact entry: the context is null");
  const char *problem = ringrt_artifact_info_problem(info);
  if (*problem)
    return ringrt::setErrorf(RINGRT_ERR_INVALID_ARGUMENT, "artifact entry: %s",
                             problem);
  if (info->plan_hash != ctx->planHash)
    return ringrt::setErrorf(
        RINGRT_ERR_PLAN_MISMATCH,
        "%s: this library was compiled for plan hash %016llx, but the "
        "context was created with plan hash %016llx (a stale library, or a "
        "host program built against another artifact's header)",
        info->entry, static_cast<unsigned long long>(info->plan_hash),
        static_cast<unsigned long long>(ctx->planHash));
  return RINGRT_OK;
}

void ringrt_cg_shift_start(ringrt_context *ctx, int32_t *status,
                           const void *send, void *recv, int64_t bytes,
                           int32_t stage, int32_t tag, ringrt_request **slot) {
  ringrt_cg_shift_start_dir(ctx, status, send, recv, bytes, stage, tag, 1,
                            slot);
}

void ringrt_cg_shift_start_dir(ringrt_context *ctx, int32_t *status,
                               const void *send, void *recv, int64_t bytes,
                               int32_t stage, int32_t tag, int32_t direction,
                               ringrt_request **slot) {
  if (slot)
    *slot = nullptr;
  if (!ok(status))
    return;
  // Device buffers the communicator cannot address go through host copies.
  if (ringrt::shiftNeedsHostStaging(ctx))
    return record(status,
                  ringrt::stagedShiftStart(ctx, send, recv, bytes, stage, tag,
                                           slot, direction));
  if (ctx && ctx->deviceBackend && ctx->deviceBackend->tracksInitialization())
    return record(status,
                  ringrt::directShiftStart(ctx, send, recv, bytes, stage, tag,
                                           slot, direction));
  record(status, ringrt_shift_start_dir(ctx, send, recv, bytes, stage, tag,
                                        direction, slot));
}

void ringrt_cg_shift_wait(ringrt_context *ctx, int32_t *status,
                          ringrt_request **slot) {
  if (!ok(status) || !slot || !*slot)
    return;
  ringrt_request *req = *slot;
  *slot = nullptr;
  record(status, ringrt::deviceShiftWait(ctx, req));
}

int32_t ringrt_cg_progress(void) {
  ringrt_context *ctx = callContext;
  if (!ctx || !ctx->comm || !ctx->progressCalls)
    return 0;
  // Polling more often than every 10 µs costs more than it moves.
  double now = ringrt::nowSeconds();
  if (now - lastProgress < 10e-6)
    return lastInFlight;
  lastProgress = now;
  lastInFlight = ctx->comm->progress();
  return lastInFlight;
}

void ringrt_cg_shift(ringrt_context *ctx, int32_t *status, const void *send,
                     void *recv, int64_t bytes, int32_t stage, int32_t tag) {
  ringrt_cg_shift_dir(ctx, status, send, recv, bytes, stage, tag, 1);
}

void ringrt_cg_shift_dir(ringrt_context *ctx, int32_t *status,
                         const void *send, void *recv, int64_t bytes,
                         int32_t stage, int32_t tag, int32_t direction) {
  ringrt_request *req = nullptr;
  ringrt_cg_shift_start_dir(ctx, status, send, recv, bytes, stage, tag,
                            direction, &req);
  ringrt_cg_shift_wait(ctx, status, &req);
}

void ringrt_cg_allreduce_sum_f32(ringrt_context *ctx, int32_t *status,
                                 float *buf, int64_t count, int32_t stage) {
  if (!ok(status))
    return;
  // On GPU targets `buf` is a device buffer that kernels still in flight
  // may be writing, and that the communicator may not be able to address.
  if (ctx && ctx->deviceBackend)
    return record(status, deviceAllreduceSumF32(ctx, buf, count,
                                                RINGRT_AXIS_DIM_SLICE, stage));
  record(status, ringrt_allreduce_sum_f32(ctx, buf, count,
                                          RINGRT_AXIS_DIM_SLICE, stage));
}

void ringrt_cg_allreduce_sum_f32_axis(ringrt_context *ctx, int32_t *status,
                                      float *buf, int64_t count, int32_t role,
                                      int32_t stage) {
  if (!ok(status))
    return;
  if (role < RINGRT_AXIS_RING || role > RINGRT_AXIS_DIM_SLICE)
    return record(status, ringrt::setErrorf(
                              RINGRT_ERR_INVALID_ARGUMENT,
                              "ringrt_cg_allreduce_sum_f32_axis: invalid "
                              "role %d (valid: 0 ring, 1 head groups, 2 dim "
                              "slices)",
                              role));
  auto axis = static_cast<ringrt_axis>(role);
  if (ctx && ctx->deviceBackend)
    return record(status, deviceAllreduceSumF32(ctx, buf, count, axis, stage));
  record(status, ringrt_allreduce_sum_f32(ctx, buf, count, axis, stage));
}

void ringrt_cg_reduce_scatter_rows_sum_f32(ringrt_context *ctx,
                                           int32_t *status, float *buf,
                                           int64_t batch, int64_t rows,
                                           int64_t cols, const int64_t *shares,
                                           int64_t nshares, int32_t stage) {
  if (!ok(status))
    return;
  if (ctx && ctx->deviceBackend)
    return record(status, deviceReduceScatterRows(ctx, buf, batch, rows, cols,
                                                  shares, nshares, stage));
  record(status, ringrt_reduce_scatter_rows_sum_f32(ctx, buf, batch, rows,
                                                    cols, shares, nshares,
                                                    stage));
}

int64_t ringrt_cg_output_share(ringrt_context *ctx, int32_t *status,
                               const int64_t *shares, int64_t nshares,
                               int32_t which) {
  if (!ok(status))
    return 0;
  int64_t offset = 0, count = 0;
  ringrt_status st =
      ringrt_output_share(ctx, shares, nshares, &offset, &count);
  record(status, st);
  if (st != RINGRT_OK)
    return 0;
  return which == 0 ? offset : count;
}

int32_t ringrt_cg_coord(const ringrt_context *ctx, int32_t role) {
  if (!ctx || role < RINGRT_AXIS_RING || role > RINGRT_AXIS_A2A)
    return 0;
  return ringrt_coord(ctx, static_cast<ringrt_axis>(role));
}

} // extern "C"
