//===- DeviceApi.cpp - device memory, launches and staged shifts -*- C++ -*-===//
//
// This file implements the device part of the ringrt C API (ringrt.h:
// ringrt_device_alloc and friends), the device entry points of the codegen
// ABI (codegen_abi.h: ringrt_cg_module_load, ringrt_cg_launch, ...), and
// the host staging of ring shifts for devices whose
// memory the host cannot address.
//
//===----------------------------------------------------------------------===//

#include "DeviceBackend.h"
#include "../Context.h"
#include "../Error.h"
#include "ringrt/codegen_abi.h"

#include <chrono>
#include <cstdlib>
#include <cstring>

using namespace ringrt;

//===----------------------------------------------------------------------===//
// Host staging of ring shifts
//===----------------------------------------------------------------------===//

ringrt_status DeviceBackend::allocStaging(int64_t bytes, void **host) {
  *host = std::malloc(static_cast<size_t>(bytes > 0 ? bytes : 1));
  return *host ? RINGRT_OK
               : setErrorf(RINGRT_ERR_OUT_OF_MEMORY,
                           "device '%s': no host memory for a %lld-byte "
                           "shift staging buffer",
                           name(), static_cast<long long>(bytes));
}

void DeviceBackend::freeStaging(void *host) { std::free(host); }

ringrt_status DeviceBackend::stageOut(void *dst, const void *src,
                                      int64_t bytes) {
  return copyToHost(dst, src, bytes);
}

ringrt_status DeviceBackend::stageIn(void *dst, const void *src,
                                     int64_t bytes) {
  return copyToDevice(dst, src, bytes);
}

ringrt_status DeviceBackend::encodeTensorMap(void *,
                                             const TensorMapRequest &) {
  return setErrorf(RINGRT_ERR_UNSUPPORTED,
                   "device '%s' has no TMA tensor maps (the sm_90a kernels "
                   "run on device emu or cuda)",
                   name());
}

ringrt_status DeviceBackend::beginCall(void *stream) {
  if (!stream)
    return RINGRT_OK;
  return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                   "device '%s' has no streams: pass NULL as the stream "
                   "(launches run synchronously)",
                   name());
}

ringrt_status DeviceBackend::waitStream(void *) { return synchronize(); }

ringrt_status DeviceBackend::timeKernels(bool) {
  return setErrorf(RINGRT_ERR_UNSUPPORTED,
                   "device '%s' has no kernel timing (CUDA events: cuda)",
                   name());
}

ringrt_status DeviceBackend::kernelTime(double &ms, int64_t &launches) {
  ms = 0;
  launches = 0;
  return timeKernels(true);
}

namespace {
/// A shift of device buffers through host staging buffers. The buffers
/// belong to the device backend (allocStaging) and go back to it with
/// release(), which deviceShiftWait and the failure paths call while the
/// context is alive.
struct StagedRequest final : ringrt_request {
  ringrt_request *inner = nullptr;
  DeviceBackend *device = nullptr;
  void *sendHost = nullptr, *recvHost = nullptr;
  void *recvDevice = nullptr;
  int64_t bytes = 0;
  void release() {
    device->freeStaging(sendHost);
    device->freeStaging(recvHost);
    sendHost = recvHost = nullptr;
  }
  ~StagedRequest() override { delete inner; }
};

/// A shift whose communicator receives into device memory in place: the
/// received bytes are reported to the device when it completes.
struct DirectRequest final : ringrt_request {
  ringrt_request *inner = nullptr;
  void *recv = nullptr;
  int64_t bytes = 0;
  ~DirectRequest() override { delete inner; }
};
} // namespace

bool ringrt::shiftNeedsHostStaging(const ringrt_context *ctx) {
  // The MPI and self communicators take host pointers; NCCL takes device
  // pointers (and orders itself through the StreamProvider).
  return ctx && ctx->deviceBackend && !ctx->deviceBackend->hostAddressable() &&
         !(ctx->comm && ctx->comm->takesDevicePointers());
}

ringrt_status ringrt::refuseUnderCapture(const ringrt_context *ctx,
                                         const char *what) {
  if (!ctx || !ctx->deviceBackend || !ctx->deviceBackend->capturing())
    return RINGRT_OK;
  return setErrorf(RINGRT_ERR_UNSUPPORTED,
                   "%s, which cannot be captured: the call's stream is "
                   "capturing a CUDA graph; only comm 'nccl' can be captured "
                   "(see 'CUDA graphs' in the artifact's header)",
                   what);
}

ringrt_status ringrt::stagedShiftStart(ringrt_context *ctx, const void *send,
                                       void *recv, int64_t bytes,
                                       int32_t stage, int32_t tag,
                                       ringrt_request **req,
                                       int32_t direction) {
  *req = nullptr;
  if (ringrt_status st = refuseUnderCapture(
          ctx, formatv("ringrt_shift_start: stage %d: comm 'mpi' stages the "
                       "ring shift through host memory (the host waits for "
                       "the device-to-host copy, then in MPI)",
                       stage)
                   .c_str()))
    return st;
  auto staged = std::make_unique<StagedRequest>();
  DeviceBackend &dev = *ctx->deviceBackend;
  staged->device = &dev;
  staged->recvDevice = recv;
  staged->bytes = bytes;
  ringrt_status st = dev.allocStaging(bytes, &staged->sendHost);
  if (st == RINGRT_OK)
    st = dev.allocStaging(bytes, &staged->recvHost);
  if (st == RINGRT_OK)
    st = dev.stageOut(staged->sendHost, send, bytes);
  if (st == RINGRT_OK)
    st = ringrt_shift_start_dir(ctx, staged->sendHost, staged->recvHost,
                                bytes, stage, tag, direction, &staged->inner);
  if (st != RINGRT_OK) {
    staged->release();
    return st;
  }
  *req = staged.release();
  return RINGRT_OK;
}

ringrt_status ringrt::directShiftStart(ringrt_context *ctx, const void *send,
                                       void *recv, int64_t bytes,
                                       int32_t stage, int32_t tag,
                                       ringrt_request **req,
                                       int32_t direction) {
  *req = nullptr;
  if (bytes > 0)
    if (ringrt_status st = ctx->deviceBackend->hostReads(
            send, bytes,
            formatv("the send buffer of the stage %d ring shift", stage)
                .c_str()))
      return st;
  auto direct = std::make_unique<DirectRequest>();
  direct->recv = recv;
  direct->bytes = bytes;
  if (ringrt_status st = ringrt_shift_start_dir(ctx, send, recv, bytes, stage,
                                                tag, direction,
                                                &direct->inner))
    return st;
  *req = direct.release();
  return RINGRT_OK;
}

ringrt_status ringrt::deviceShiftWait(ringrt_context *ctx,
                                      ringrt_request *req) {
  if (auto *direct = dynamic_cast<DirectRequest *>(req)) {
    std::unique_ptr<DirectRequest> owned(direct);
    ringrt_request *inner = owned->inner;
    owned->inner = nullptr;
    ringrt_status st = ringrt_wait(ctx, inner);
    if (st == RINGRT_OK && owned->bytes > 0)
      ctx->deviceBackend->hostWrote(owned->recv, owned->bytes);
    return st;
  }
  auto *staged = dynamic_cast<StagedRequest *>(req);
  if (!staged)
    return ringrt_wait(ctx, req);
  std::unique_ptr<StagedRequest> owned(staged);
  ringrt_request *inner = owned->inner;
  owned->inner = nullptr;
  ringrt_status st = ringrt_wait(ctx, inner);
  if (st == RINGRT_OK)
    st = ctx->deviceBackend->stageIn(owned->recvDevice, owned->recvHost,
                                     owned->bytes);
  owned->release();
  return st;
}

//===----------------------------------------------------------------------===//
// Public C API
//===----------------------------------------------------------------------===//

namespace {
ringrt_status requireDevice(const ringrt_context *ctx, const char *what) {
  if (!ctx || !ctx->deviceBackend)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT, "%s: null context", what);
  return RINGRT_OK;
}

ringrt_status checkCopy(const ringrt_context *ctx, const char *what,
                        const void *dst, const void *src, int64_t bytes) {
  if (ringrt_status st = requireDevice(ctx, what))
    return st;
  if (bytes < 0 || (bytes > 0 && (!dst || !src)))
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "%s: invalid copy (dst %p, src %p, %lld bytes)", what, dst,
                     src, static_cast<long long>(bytes));
  return RINGRT_OK;
}
} // namespace

extern "C" {

ringrt_status ringrt_device_alloc(ringrt_context *ctx, int64_t bytes,
                                  void **out) {
  if (!out)
    return setError(RINGRT_ERR_INVALID_ARGUMENT,
                    "ringrt_device_alloc: out is null");
  *out = nullptr;
  if (ringrt_status st = requireDevice(ctx, "ringrt_device_alloc"))
    return st;
  if (bytes <= 0)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "ringrt_device_alloc: %lld bytes (must be > 0)",
                     static_cast<long long>(bytes));
  return ctx->deviceBackend->alloc(bytes, out);
}

ringrt_status ringrt_device_free(ringrt_context *ctx, void *ptr) {
  if (ringrt_status st = requireDevice(ctx, "ringrt_device_free"))
    return st;
  return ctx->deviceBackend->free(ptr);
}

ringrt_status ringrt_memcpy_to_device(ringrt_context *ctx, void *dst,
                                      const void *src, int64_t bytes) {
  if (ringrt_status st =
          checkCopy(ctx, "ringrt_memcpy_to_device", dst, src, bytes))
    return st;
  return bytes ? ctx->deviceBackend->copyToDevice(dst, src, bytes) : RINGRT_OK;
}

ringrt_status ringrt_memcpy_to_host(ringrt_context *ctx, void *dst,
                                    const void *src, int64_t bytes) {
  if (ringrt_status st =
          checkCopy(ctx, "ringrt_memcpy_to_host", dst, src, bytes))
    return st;
  return bytes ? ctx->deviceBackend->copyToHost(dst, src, bytes) : RINGRT_OK;
}

ringrt_status ringrt_device_synchronize(ringrt_context *ctx) {
  if (ringrt_status st = requireDevice(ctx, "ringrt_device_synchronize"))
    return st;
  return ctx->deviceBackend->synchronize();
}

const char *ringrt_device_name(const ringrt_context *ctx) {
  return ctx && ctx->deviceBackend ? ctx->deviceBackend->name() : "";
}

ringrt_status ringrt_device_time_kernels(ringrt_context *ctx, int32_t on) {
  if (ringrt_status st = requireDevice(ctx, "ringrt_device_time_kernels"))
    return st;
  // A CPU artifact's kernels are host functions: its entry brackets each
  // call (ringrt_cg_kernel_begin/end) and the context sums them.
  if (ctx->device == "cpu") {
    ctx->hostKernelTiming = on != 0;
    ctx->hostKernelMs = 0;
    ctx->hostKernelCalls = 0;
    return RINGRT_OK;
  }
  return ctx->deviceBackend->timeKernels(on != 0);
}

ringrt_status ringrt_device_kernel_time(ringrt_context *ctx, double *ms,
                                        int64_t *launches) {
  if (!ms || !launches)
    return setError(RINGRT_ERR_INVALID_ARGUMENT,
                    "ringrt_device_kernel_time: ms or launches is null");
  *ms = 0;
  *launches = 0;
  if (ringrt_status st = requireDevice(ctx, "ringrt_device_kernel_time"))
    return st;
  if (ctx->device == "cpu") {
    *ms = ctx->hostKernelMs;
    *launches = ctx->hostKernelCalls;
    return RINGRT_OK;
  }
  return ctx->deviceBackend->kernelTime(*ms, *launches);
}

int64_t ringrt_cg_kernel_begin(ringrt_context *ctx) {
  if (!ctx || !ctx->hostKernelTiming)
    return 0;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void ringrt_cg_kernel_end(ringrt_context *ctx, int64_t start) {
  if (!ctx || !ctx->hostKernelTiming || start == 0)
    return;
  int64_t now = ringrt_cg_kernel_begin(ctx);
  ctx->hostKernelMs += 1e-6 * static_cast<double>(now - start);
  ++ctx->hostKernelCalls;
}

ringrt_status ringrt_device_get_profile(const ringrt_context *ctx,
                                        ringrt_device_profile *out) {
  if (!out)
    return setError(RINGRT_ERR_INVALID_ARGUMENT,
                    "ringrt_device_get_profile: out is null");
  *out = ringrt_device_profile{};
  if (ringrt_status st = requireDevice(ctx, "ringrt_device_get_profile"))
    return st;
  if (!ctx->deviceBackend->profile(out))
    return setErrorf(RINGRT_ERR_UNSUPPORTED,
                     "device '%s' keeps no kernel profile (use emu)",
                     ctx->deviceBackend->name());
  return RINGRT_OK;
}

//===----------------------------------------------------------------------===//
// Codegen ABI (same status-cell convention as CodegenAbi.cpp)
//===----------------------------------------------------------------------===//

static bool ok(const int32_t *status) { return status && *status == RINGRT_OK; }

static void record(int32_t *status, ringrt_status st) {
  if (status && *status == RINGRT_OK && st != RINGRT_OK)
    *status = st;
}

void ringrt_cg_module_load(ringrt_context *ctx, int32_t *status,
                           const char *ptx, void **module_slot) {
  if (module_slot)
    *module_slot = nullptr;
  if (!ok(status))
    return;
  if (!module_slot)
    return record(status, setError(RINGRT_ERR_INVALID_ARGUMENT,
                                   "ringrt_cg_module_load: null slot"));
  ringrt_status st = requireDevice(ctx, "ringrt_cg_module_load");
  if (st == RINGRT_OK)
    st = ctx->deviceBackend->loadModule(ptx, module_slot);
  record(status, st);
}

void ringrt_cg_launch(ringrt_context *ctx, int32_t *status, void *module,
                      const char *kernel, int32_t gx, int32_t gy, int32_t gz,
                      int32_t bx, int32_t by, int32_t bz, int32_t smem_bytes,
                      void **params) {
  if (!ok(status))
    return;
  ringrt_status st = requireDevice(ctx, "ringrt_cg_launch");
  if (st == RINGRT_OK &&
      (gx < 1 || gy < 1 || gz < 1 || bx < 1 || by < 1 || bz < 1 ||
       smem_bytes < 0))
    st = setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                   "ringrt_cg_launch: kernel '%s': invalid grid %d,%d,%d, "
                   "block %d,%d,%d or shared bytes %d",
                   kernel ? kernel : "?", gx, gy, gz, bx, by, bz, smem_bytes);
  if (st == RINGRT_OK)
    st = ctx->deviceBackend->launch(
        module, kernel,
        {unsigned(gx), unsigned(gy), unsigned(gz)},
        {unsigned(bx), unsigned(by), unsigned(bz)}, unsigned(smem_bytes),
        params);
  record(status, st);
}

void ringrt_cg_tensor_map_3d(ringrt_context *ctx, int32_t *status,
                             void *out, const void *base, int32_t dtype,
                             int64_t cols, int64_t rows, int64_t planes,
                             int32_t box_cols, int32_t box_rows) {
  if (!ok(status))
    return;
  ringrt_status st = requireDevice(ctx, "ringrt_cg_tensor_map_3d");
  if (st == RINGRT_OK &&
      (!out || reinterpret_cast<uintptr_t>(out) % 64 != 0 ||
       (dtype != 0 && dtype != 1) || cols < 1 || rows < 1 || planes < 1 ||
       box_cols < 1 || box_rows < 1))
    st = setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                   "ringrt_cg_tensor_map_3d: invalid arguments (out %p must "
                   "be 64-byte aligned, dtype %d must be 0 (bf16) or 1 "
                   "(f16), sizes [%lld, %lld, %lld] and box %dx%d must be "
                   "positive)",
                   out, dtype, static_cast<long long>(planes),
                   static_cast<long long>(rows), static_cast<long long>(cols),
                   box_rows, box_cols);
  if (st == RINGRT_OK) {
    // cuda.h: CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 = 9, FLOAT16 = 6;
    // SWIZZLE_128B = 3; L2_PROMOTION_L2_128B = 2; OOB_FILL_NONE = 0 (zeros).
    const uint64_t dims[3] = {uint64_t(cols), uint64_t(rows), uint64_t(planes)};
    const uint64_t strides[2] = {uint64_t(cols) * 2,
                                 uint64_t(cols) * uint64_t(rows) * 2};
    const uint32_t box[3] = {uint32_t(box_cols), uint32_t(box_rows), 1};
    const uint32_t unit[3] = {1, 1, 1};
    TensorMapRequest r;
    r.dataType = dtype == 0 ? 9 : 6;
    r.rank = 3;
    r.globalAddress = base;
    r.globalDim = dims;
    r.globalStrides = strides;
    r.boxDim = box;
    r.elementStrides = unit;
    r.interleave = 0;
    r.swizzle = 3;
    r.l2Promotion = 2;
    r.oobFill = 0;
    st = ctx->deviceBackend->encodeTensorMap(out, r);
  }
  record(status, st);
}

void *ringrt_cg_device_alloc(ringrt_context *ctx, int32_t *status,
                             int64_t bytes) {
  if (!ok(status))
    return nullptr;
  void *p = nullptr;
  if (ringrt_status st = refuseUnderCapture(
          ctx, "a GPU entry point's buffer outside the workspace "
               "(ringrt_cg_device_alloc) is allocated per call"))
    return record(status, st), nullptr;
  record(status, ringrt_device_alloc(ctx, bytes, &p));
  return p;
}

void ringrt_cg_device_free(ringrt_context *ctx, int32_t *status, void *ptr) {
  if (!ptr)
    return;
  record(status, ringrt_device_free(ctx, ptr));
}

void ringrt_cg_copy_to_device(ringrt_context *ctx, int32_t *status,
                              void *dst, const void *src, int64_t bytes) {
  if (!ok(status))
    return;
  ringrt_status st = requireDevice(ctx, "ringrt_cg_copy_to_device");
  if (st == RINGRT_OK && (!dst || !src || bytes < 0))
    st = setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                   "ringrt_cg_copy_to_device: invalid arguments (dst %p, src "
                   "%p, %lld bytes)",
                   dst, src, static_cast<long long>(bytes));
  if (st == RINGRT_OK && bytes > 0)
    st = ctx->deviceBackend->copyToDeviceAsync(dst, src, bytes);
  record(status, st);
}

void ringrt_cg_synchronize(ringrt_context *ctx, int32_t *status) {
  if (ringrt_status st = refuseUnderCapture(
          ctx, "ringrt_cg_synchronize waits for the device"))
    return record(status, st);
  // Also after a failure: the buffers freed next must not be in use.
  record(status, ringrt_device_synchronize(ctx));
}

} // extern "C"
