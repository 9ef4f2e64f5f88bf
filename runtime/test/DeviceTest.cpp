//===- DeviceTest.cpp - tests of ringrt's device layer ----------*- C++ -*-===//
//
// This file implements GoogleTest tests of the device backends through the
// public and codegen C APIs: emu allocation and copies (bounds checked), a
// tiny PTX kernel loaded and launched through ringrt_cg_module_load /
// ringrt_cg_launch, an out-of-bounds launch surfacing through the status
// cell with the emulator's message, reads of device memory nothing wrote
// (by a kernel, or by the communicator's send), device "cpu", and device
// "cuda" without a driver.
//
//===----------------------------------------------------------------------===//

#include "ringrt/codegen_abi.h"
#include "ringrt/ringrt.h"

#include <gtest/gtest.h>

#include <cstring>
#include <dlfcn.h>
#include <string>
#include <vector>

namespace {

/// out[i] = 2 * in[i] for i < n (one thread per element, blocks of 32).
const char *const kDoublePtx = R"(.version 8.0
.target sm_90a
.address_size 64
.visible .entry twice(.param .u64 p_in, .param .u64 p_out, .param .u32 p_n)
{
  .reg .b32 %r<8>;
  .reg .b64 %rd<8>;
  .reg .pred %p<2>;
  ld.param.u64 %rd1, [p_in];
  ld.param.u64 %rd2, [p_out];
  ld.param.u32 %r1, [p_n];
  mov.u32 %r2, %tid.x;
  mov.u32 %r3, %ctaid.x;
  mad.lo.s32 %r4, %r3, 32, %r2;
  setp.ge.s32 %p1, %r4, %r1;
  @%p1 bra DONE;
  mul.wide.s32 %rd3, %r4, 4;
  add.s64 %rd4, %rd1, %rd3;
  add.s64 %rd5, %rd2, %rd3;
  ld.global.u32 %r5, [%rd4];
  shl.b32 %r6, %r5, 1;
  st.global.u32 [%rd5], %r6;
DONE:
  ret;
}
)";

/// A single-rank context on `device`.
ringrt_status makeContext(const char *device, ringrt_context **ctx) {
  ringrt_context_options o{};
  o.comm = "self";
  o.device = device;
  o.grid_rank = 1;
  o.grid_shape[0] = 1;
  o.axis_of_role[0] = 0;
  o.axis_of_role[1] = -1;
  o.axis_of_role[2] = -1;
  return ringrt_context_create(&o, ctx);
}

struct Context {
  ringrt_context *ctx = nullptr;
  explicit Context(const char *device) {
    EXPECT_EQ(makeContext(device, &ctx), RINGRT_OK) << ringrt_last_error();
  }
  ~Context() { ringrt_context_destroy(ctx); }
};

/// Launches `twice` over `n` elements on device buffers in/out.
int32_t launchTwice(ringrt_context *ctx, void *in, void *out, int32_t n,
                    int32_t blocks) {
  int32_t status = RINGRT_OK;
  void *module = nullptr;
  ringrt_cg_module_load(ctx, &status, kDoublePtx, &module);
  void *params[] = {&in, &out, &n};
  ringrt_cg_launch(ctx, &status, module, "twice", blocks, 1, 1, 32, 1, 1, 0,
                   params);
  ringrt_cg_synchronize(ctx, &status);
  return status;
}

/// Launches `twice` over `n` elements (two blocks) on two fresh 32-element
/// device buffers of which the host copied the first `copied` elements of
/// `in` in; returns the launch status and, in `inOut`, `in` (the context
/// frees the buffers).
int32_t launchOnCopied(ringrt_context *ctx, int32_t copied, int32_t n,
                       void **inOut = nullptr) {
  int32_t status = RINGRT_OK;
  void *in = ringrt_cg_device_alloc(ctx, &status, 32 * 4);
  void *out = ringrt_cg_device_alloc(ctx, &status, 32 * 4);
  std::vector<uint32_t> host(static_cast<size_t>(copied), 5);
  if (status == RINGRT_OK)
    status = ringrt_memcpy_to_device(ctx, in, host.data(), copied * 4);
  if (status != RINGRT_OK)
    return status;
  if (inOut)
    *inOut = in;
  return launchTwice(ctx, in, out, n, 2);
}

TEST(Device, EmuAllocCopyRoundTrip) {
  Context c("emu");
  ASSERT_TRUE(c.ctx);
  EXPECT_STREQ(ringrt_device_name(c.ctx), "emu");
  std::vector<uint32_t> host(100), back(100, 0);
  for (size_t i = 0; i < host.size(); ++i)
    host[i] = static_cast<uint32_t>(i * 7 + 1);
  void *dev = nullptr;
  ASSERT_EQ(ringrt_device_alloc(c.ctx, 400, &dev), RINGRT_OK);
  ASSERT_NE(dev, nullptr);
  // Fresh device memory is poisoned (all-ones: NaN in every float type), so
  // a kernel that reads what nothing wrote shows it in its results.
  EXPECT_EQ(ringrt_memcpy_to_host(c.ctx, back.data(), dev, 400), RINGRT_OK);
  EXPECT_EQ(back, std::vector<uint32_t>(100, 0xffffffffu));
  EXPECT_EQ(ringrt_memcpy_to_device(c.ctx, dev, host.data(), 400), RINGRT_OK);
  EXPECT_EQ(ringrt_memcpy_to_host(c.ctx, back.data(), dev, 400), RINGRT_OK);
  EXPECT_EQ(host, back);
  // Copies are bounds checked against the allocation.
  EXPECT_EQ(ringrt_memcpy_to_host(c.ctx, back.data(), dev, 404),
            RINGRT_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(ringrt_last_error()).find("not inside one device "
                                                  "allocation"),
            std::string::npos)
      << ringrt_last_error();
  EXPECT_EQ(ringrt_device_free(c.ctx, dev), RINGRT_OK);
  EXPECT_EQ(ringrt_device_free(c.ctx, dev), RINGRT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ringrt_device_alloc(c.ctx, 0, &dev), RINGRT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(dev, nullptr);
}

TEST(Device, EmuLaunchesPtxThroughCodegenAbi) {
  Context c("emu");
  ASSERT_TRUE(c.ctx);
  const int32_t n = 50;
  std::vector<uint32_t> host(n), out(n, 0);
  for (int32_t i = 0; i < n; ++i)
    host[i] = static_cast<uint32_t>(i + 3);
  int32_t status = RINGRT_OK;
  void *in = ringrt_cg_device_alloc(c.ctx, &status, n * 4);
  void *dout = ringrt_cg_device_alloc(c.ctx, &status, n * 4);
  ASSERT_EQ(status, RINGRT_OK) << ringrt_last_error();
  ASSERT_EQ(ringrt_memcpy_to_device(c.ctx, in, host.data(), n * 4), RINGRT_OK);
  EXPECT_EQ(launchTwice(c.ctx, in, dout, n, 2), RINGRT_OK)
      << ringrt_last_error();
  ASSERT_EQ(ringrt_memcpy_to_host(c.ctx, out.data(), dout, n * 4), RINGRT_OK);
  for (int32_t i = 0; i < n; ++i)
    EXPECT_EQ(out[i], 2 * host[i]) << i;
  ringrt_device_profile p{};
  ASSERT_EQ(ringrt_device_get_profile(c.ctx, &p), RINGRT_OK);
  EXPECT_EQ(p.launches, 1u);
  EXPECT_GT(p.instructions, 0u);
  EXPECT_EQ(p.global_bytes, static_cast<uint64_t>(2 * 4 * n));
  ringrt_cg_device_free(c.ctx, &status, in);
  ringrt_cg_device_free(c.ctx, &status, dout);
  EXPECT_EQ(status, RINGRT_OK);
}

TEST(Device, EmuKernelReadOfUnwrittenMemoryFails) {
  Context c("emu");
  ASSERT_TRUE(c.ctx);
  // The first 16 elements are copied in; thread 16 reads the 17th.
  void *in = nullptr;
  EXPECT_EQ(launchOnCopied(c.ctx, 16, 32, &in), RINGRT_ERR_DEVICE);
  std::string err = ringrt_last_error();
  EXPECT_NE(err.find("kernel 'twice'"), std::string::npos) << err;
  EXPECT_NE(err.find("thread (16,0,0)"), std::string::npos) << err;
  EXPECT_NE(err.find("reads uninitialized global memory: 4 of 4 bytes"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find(" + 64 (of 128 bytes)"), std::string::npos) << err;
  // Copying unwritten device memory back to the host is no error: it holds
  // the all-ones poison.
  std::vector<uint32_t> back(32);
  EXPECT_EQ(ringrt_memcpy_to_host(c.ctx, back.data(), in, 32 * 4), RINGRT_OK);
  EXPECT_EQ(back[16], 0xffffffffu);
}

TEST(Device, EmuShiftSendsWrittenBytesAndInitializesWhatItReceives) {
  Context c("emu");
  ASSERT_TRUE(c.ctx);
  int32_t status = RINGRT_OK;
  void *send = ringrt_cg_device_alloc(c.ctx, &status, 32 * 4);
  void *recv = ringrt_cg_device_alloc(c.ctx, &status, 32 * 4);
  void *out = ringrt_cg_device_alloc(c.ctx, &status, 32 * 4);
  ASSERT_EQ(status, RINGRT_OK);
  // Sending bytes nothing wrote hands another rank garbage: an error.
  ringrt_cg_shift(c.ctx, &status, send, recv, 32 * 4, 3, 0);
  EXPECT_EQ(status, RINGRT_ERR_DEVICE);
  std::string err = ringrt_last_error();
  EXPECT_NE(err.find("the send buffer of the stage 3 ring shift reads "
                     "uninitialized device memory"),
            std::string::npos)
      << err;
  // Once written, the shift goes through and a kernel may read what the
  // communicator received (the self comm's copy, in place).
  status = RINGRT_OK;
  std::vector<uint32_t> host(32, 9), back(32);
  ASSERT_EQ(ringrt_memcpy_to_device(c.ctx, send, host.data(), 32 * 4),
            RINGRT_OK);
  ringrt_cg_shift(c.ctx, &status, send, recv, 32 * 4, 3, 0);
  ASSERT_EQ(status, RINGRT_OK) << ringrt_last_error();
  EXPECT_EQ(launchTwice(c.ctx, recv, out, 32, 1), RINGRT_OK)
      << ringrt_last_error();
  ASSERT_EQ(ringrt_memcpy_to_host(c.ctx, back.data(), out, 32 * 4), RINGRT_OK);
  EXPECT_EQ(back, std::vector<uint32_t>(32, 18));
}

TEST(Device, EmuWorkspaceStartsEachCallUnwritten) {
  Context c("emu");
  ASSERT_TRUE(c.ctx);
  int32_t status = RINGRT_OK;
  void *out = ringrt_cg_device_alloc(c.ctx, &status, 32 * 4);
  // A call's kernel writes its workspace and reads it back: fine.
  void *ws = ringrt_cg_workspace(c.ctx, &status, nullptr, 32 * 4);
  ASSERT_EQ(status, RINGRT_OK) << ringrt_last_error();
  std::vector<uint32_t> host(32, 4);
  ASSERT_EQ(ringrt_memcpy_to_device(c.ctx, ws, host.data(), 32 * 4),
            RINGRT_OK);
  EXPECT_EQ(launchTwice(c.ctx, ws, out, 32, 1), RINGRT_OK)
      << ringrt_last_error();
  // The next call gets the same workspace, but what the last call left in
  // it is stale: reading it before writing it is an error.
  EXPECT_EQ(ringrt_cg_workspace(c.ctx, &status, nullptr, 32 * 4), ws);
  EXPECT_EQ(launchTwice(c.ctx, ws, out, 32, 1), RINGRT_ERR_DEVICE);
  EXPECT_NE(std::string(ringrt_last_error())
                .find("reads uninitialized global memory"),
            std::string::npos)
      << ringrt_last_error();
  // So is a caller's workspace at the start of each call.
  void *mine = ringrt_cg_device_alloc(c.ctx, &status, 32 * 4);
  ASSERT_EQ(ringrt_memcpy_to_device(c.ctx, mine, host.data(), 32 * 4),
            RINGRT_OK);
  EXPECT_EQ(ringrt_cg_workspace(c.ctx, &status, mine, 32 * 4), mine);
  EXPECT_EQ(launchTwice(c.ctx, mine, out, 32, 1), RINGRT_ERR_DEVICE);
  ringrt_cg_device_free(c.ctx, &status, mine);
  ringrt_cg_device_free(c.ctx, &status, out);
}

TEST(Device, EmuOutOfBoundsLaunchFailsThroughStatus) {
  Context c("emu");
  ASSERT_TRUE(c.ctx);
  // 64 elements over 32-element buffers: thread 32 (CTA 1, thread 0) reads
  // past `in`.
  void *in = nullptr;
  EXPECT_EQ(launchOnCopied(c.ctx, 32, 64, &in), RINGRT_ERR_DEVICE);
  std::string err = ringrt_last_error();
  EXPECT_NE(err.find("kernel 'twice'"), std::string::npos) << err;
  EXPECT_NE(err.find("CTA (1,0,0)"), std::string::npos) << err;
  EXPECT_NE(err.find("thread (0,0,0)"), std::string::npos) << err;
  EXPECT_NE(err.find("out-of-bounds global"), std::string::npos) << err;
  // Later calls are no-ops once the status cell holds the failure.
  int32_t failed = RINGRT_ERR_DEVICE;
  void *module = &failed;
  ringrt_cg_module_load(c.ctx, &failed, kDoublePtx, &module);
  EXPECT_EQ(module, nullptr);
  EXPECT_EQ(ringrt_cg_device_alloc(c.ctx, &failed, 16), nullptr);
  EXPECT_EQ(failed, RINGRT_ERR_DEVICE);
  ringrt_cg_device_free(c.ctx, &failed, in);
  EXPECT_EQ(failed, RINGRT_ERR_DEVICE);
}

TEST(Device, EmuRejectsBadPtxAndUnknownKernel) {
  Context c("emu");
  ASSERT_TRUE(c.ctx);
  int32_t status = RINGRT_OK;
  void *module = nullptr;
  ringrt_cg_module_load(c.ctx, &status, "not ptx", &module);
  EXPECT_EQ(status, RINGRT_ERR_DEVICE);
  EXPECT_NE(std::string(ringrt_last_error()).find("cannot parse"),
            std::string::npos);
  status = RINGRT_OK;
  ringrt_cg_module_load(c.ctx, &status, kDoublePtx, &module);
  ASSERT_EQ(status, RINGRT_OK);
  ringrt_cg_launch(c.ctx, &status, module, "thrice", 1, 1, 1, 32, 1, 1, 0,
                   nullptr);
  EXPECT_EQ(status, RINGRT_ERR_DEVICE);
  EXPECT_NE(std::string(ringrt_last_error()).find("no kernel 'thrice'"),
            std::string::npos);
}

TEST(Device, CpuIsHostMemoryWithoutKernels) {
  Context c("cpu");
  ASSERT_TRUE(c.ctx);
  void *dev = nullptr;
  ASSERT_EQ(ringrt_device_alloc(c.ctx, 64, &dev), RINGRT_OK);
  std::memset(dev, 1, 64); // host-addressable
  int32_t status = RINGRT_OK;
  void *module = nullptr;
  ringrt_cg_module_load(c.ctx, &status, kDoublePtx, &module);
  EXPECT_EQ(status, RINGRT_ERR_UNSUPPORTED);
  ringrt_device_profile p;
  EXPECT_EQ(ringrt_device_get_profile(c.ctx, &p), RINGRT_ERR_UNSUPPORTED);
  EXPECT_EQ(ringrt_device_free(c.ctx, dev), RINGRT_OK);
}

TEST(Device, CudaWithoutDriverReportsNoCudaDriver) {
  if (void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL)) {
    dlclose(driver);
    GTEST_SKIP() << "a CUDA driver is installed";
  }
  ringrt_context *ctx = reinterpret_cast<ringrt_context *>(&ctx);
  EXPECT_EQ(makeContext("cuda", &ctx), RINGRT_ERR_NO_CUDA_DRIVER);
  EXPECT_EQ(ctx, nullptr);
  EXPECT_NE(std::string(ringrt_last_error())
                .find("no CUDA driver (libcuda.so.1 not found"),
            std::string::npos)
      << ringrt_last_error();
}

TEST(Device, UnknownDeviceIsInvalid) {
  ringrt_context *ctx = nullptr;
  EXPECT_EQ(makeContext("tpu", &ctx), RINGRT_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(ringrt_last_error()).find("unknown device 'tpu'"),
            std::string::npos);
}

} // namespace
