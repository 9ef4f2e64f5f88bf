//===- EmuDevice.cpp - the PTX emulator device backend ----------*- C++ -*-===//
//
// This file implements device "emu" over ringrt::emu: modules are parsed
// PTX, device memory is host memory registered in an emu::Memory that the
// backend owns (every kernel access and every copy is bounds checked
// against it), and launches run synchronously on the calling thread. Errors
// carry the emulator's message (kernel, CTA, thread, address).
//
// Memory's initialization shadow makes a kernel's read of device memory
// that nothing wrote an error. Host-to-device copies and what the
// communicator receives in place (hostWrote) initialize bytes; what it sends
// (hostReads) must be initialized. A device-to-host copy of uninitialized
// bytes is allowed: a caller may copy a whole buffer of which kernels wrote
// a part (ring-run reads back outputs whose padding it checks itself), and
// those bytes hold the all-ones poison (below), so a kernel that should
// have written them still shows in the results.
//
//===----------------------------------------------------------------------===//

#include "DeviceBackend.h"
#include "../Error.h"
#include "ringrt/emu/Emu.h"

#include <cstring>
#include <map>
#include <string>

using namespace ringrt;

namespace {
class EmuDevice final : public DeviceBackend {
public:
  const char *name() const override { return "emu"; }
  bool hostAddressable() const override { return true; }

  ringrt_status loadModule(const char *ptx, void **module) override {
    *module = nullptr;
    if (!ptx)
      return setError(RINGRT_ERR_INVALID_ARGUMENT,
                      "device 'emu': null PTX text");
    auto &slot = modules[std::string(ptx)];
    if (!slot) {
      std::string error;
      slot = emu::Module::parse(ptx, error);
      if (!slot) {
        modules.erase(std::string(ptx));
        return setErrorf(RINGRT_ERR_DEVICE,
                         "device 'emu': cannot parse the PTX module: %s",
                         error.c_str());
      }
    }
    *module = slot.get();
    return RINGRT_OK;
  }

  ringrt_status launch(void *module, const char *kernel, LaunchDims grid,
                       LaunchDims block, unsigned sharedBytes,
                       void **params) override {
    auto *mod = static_cast<const emu::Module *>(module);
    if (!mod || !kernel)
      return setError(RINGRT_ERR_INVALID_ARGUMENT,
                      "device 'emu': launch without a module or kernel name");
    if (!mod->hasKernel(kernel))
      return setErrorf(RINGRT_ERR_DEVICE,
                       "device 'emu': the module has no kernel '%s'", kernel);
    std::string error;
    emu::Profile one;
    if (!emu::launch(*mod, kernel, {grid.x, grid.y, grid.z},
                     {block.x, block.y, block.z}, sharedBytes, params, memory,
                     error, &one))
      return setErrorf(RINGRT_ERR_DEVICE,
                       "device 'emu': kernel '%s' (grid %u,%u,%u block "
                       "%u,%u,%u, %u bytes dynamic shared memory) failed: %s",
                       kernel, grid.x, grid.y, grid.z, block.x, block.y,
                       block.z, sharedBytes, error.c_str());
    total.launches += 1;
    total.instructions += one.instructions;
    total.mma += one.mma;
    total.ldmatrix += one.ldmatrix;
    total.cp_async_bytes += one.cpAsyncBytes;
    total.shared_bytes += one.sharedBytes;
    total.global_bytes += one.globalBytes;
    total.barriers += one.barriers;
    total.wgmma += one.wgmma;
    total.wgmma_flops += one.wgmmaFlops;
    total.tma_load_bytes += one.tmaLoadBytes;
    total.tma_store_bytes += one.tmaStoreBytes;
    total.mbarrier_waits += one.mbarrierWaits;
    total.ex2 += one.ex2;
    total.stmatrix += one.stmatrix;
    return RINGRT_OK;
  }

  ringrt_status encodeTensorMap(void *out,
                                const TensorMapRequest &r) override {
    static_assert(kTensorMapBytes == emu::kTensorMapBytes,
                  "tensor maps of the device layer and emu differ in size");
    std::string error;
    if (!emu::encodeTensorMapTiled(out, r.dataType, r.rank, r.globalAddress,
                                   r.globalDim, r.globalStrides, r.boxDim,
                                   r.elementStrides, r.interleave, r.swizzle,
                                   r.l2Promotion, r.oobFill, error))
      return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                       "device 'emu': cannot encode the tensor map: %s",
                       error.c_str());
    return RINGRT_OK;
  }

  ringrt_status alloc(int64_t bytes, void **out) override {
    *out = memory.alloc(static_cast<size_t>(bytes));
    if (!*out)
      return setErrorf(RINGRT_ERR_OUT_OF_MEMORY,
                       "device 'emu': cannot allocate %lld bytes",
                       static_cast<long long>(bytes));
    // cuMemAlloc's memory holds whatever was there; fresh host pages are
    // zeros, which would hide a kernel that accumulates into, or reads,
    // memory nothing wrote. All-ones bytes are NaN in f32, bf16 and f16
    // (and −1 in integers), so such a read shows up in the results. The
    // bytes stay uninitialized in Memory's shadow: a kernel that loads them
    // fails in the emulator.
    std::memset(*out, 0xff, static_cast<size_t>(bytes));
    return RINGRT_OK;
  }
  ringrt_status free(void *ptr) override {
    if (ptr && !memory.free(ptr))
      return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                       "device 'emu': free of %p, which is not a device "
                       "allocation",
                       ptr);
    return RINGRT_OK;
  }
  ringrt_status copyToDevice(void *dst, const void *src,
                             int64_t bytes) override {
    if (!inDevice(dst, bytes))
      return outOfBounds("copy to device", dst, bytes);
    memory.write(dst, src, static_cast<size_t>(bytes));
    return RINGRT_OK;
  }
  ringrt_status copyToHost(void *dst, const void *src,
                           int64_t bytes) override {
    if (!inDevice(src, bytes))
      return outOfBounds("copy to host", src, bytes);
    std::memcpy(dst, src, static_cast<size_t>(bytes));
    return RINGRT_OK;
  }
  ringrt_status synchronize() override { return RINGRT_OK; }

  bool tracksInitialization() const override { return true; }
  ringrt_status hostReads(const void *ptr, int64_t bytes,
                          const char *what) override {
    size_t n = static_cast<size_t>(bytes);
    size_t first = memory.firstUninitialized(ptr, n);
    if (first == n)
      return RINGRT_OK;
    uint64_t at = reinterpret_cast<uint64_t>(ptr) + first;
    return setErrorf(RINGRT_ERR_DEVICE,
                     "device 'emu': %s reads uninitialized device memory: "
                     "the byte at %p (%s) of [%p, +%lld bytes) was never "
                     "written by a kernel, a copy or a transfer",
                     what, reinterpret_cast<void *>(at),
                     memory.describe(at).c_str(), ptr,
                     static_cast<long long>(bytes));
  }
  void hostWrote(void *ptr, int64_t bytes) override {
    memory.markInitialized(ptr, static_cast<size_t>(bytes));
  }
  void scratchReused(void *ptr, int64_t bytes) override {
    memory.markUninitialized(ptr, static_cast<size_t>(bytes));
  }

  bool profile(ringrt_device_profile *out) const override {
    *out = total;
    return true;
  }

private:
  bool inDevice(const void *p, int64_t bytes) const {
    return bytes == 0 ||
           memory.contains(reinterpret_cast<uint64_t>(p),
                           static_cast<uint64_t>(bytes));
  }
  static ringrt_status outOfBounds(const char *what, const void *p,
                                   int64_t bytes) {
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "device 'emu': %s: [%p, +%lld bytes) is not inside one "
                     "device allocation",
                     what, p, static_cast<long long>(bytes));
  }

  // Declared before the modules so that it outlives nothing that uses it.
  emu::Memory memory;
  std::map<std::string, std::unique_ptr<emu::Module>> modules;
  ringrt_device_profile total{};
};
} // namespace

std::unique_ptr<DeviceBackend> ringrt::createEmuDevice() {
  return std::make_unique<EmuDevice>();
}
