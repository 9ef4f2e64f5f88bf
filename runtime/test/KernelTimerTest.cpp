//===- KernelTimerTest.cpp - CUDA-event timing of launches -------*- C++ -*-===//
//
// This file implements the GoogleTest tests of KernelTimer through device
// "cuda" over the fake driver (FakeCudaDriver.h, where each timed launch
// takes 1.25 ms): untimed launches record no events; timed ones are
// bracketed by two timing events on the compute stream and summed; devices
// and drivers without event timing say so.
//
//===----------------------------------------------------------------------===//

#include "FakeCudaDriver.h"
#include "device/DeviceBackend.h"

#include <gtest/gtest.h>

using namespace ringrt;
using Log = std::vector<std::string>;

namespace {

class KernelTimerTest : public ::testing::Test {
protected:
  void SetUp() override {
    fakes.log = &log;
    fake::fakeCuda = &fakes;
  }
  void TearDown() override {
    dev.reset();
    fake::fakeCuda = nullptr;
  }
  void create(const CudaDriver &driver) {
    ASSERT_EQ(createCudaDeviceWithDriver(driver, dev), RINGRT_OK)
        << ringrt_last_error();
    ASSERT_EQ(dev->loadModule("// ptx", &module), RINGRT_OK);
    log.clear();
  }
  ringrt_status launch() {
    return dev->launch(module, "attn", LaunchDims{}, LaunchDims{}, 0,
                       nullptr);
  }

  Log log;
  fake::FakeCuda fakes;
  std::unique_ptr<DeviceBackend> dev;
  void *module = nullptr;
};

TEST_F(KernelTimerTest, UntimedLaunchesRecordNoEvents) {
  create(fake::fakeCudaDriver());
  ASSERT_EQ(launch(), RINGRT_OK);
  EXPECT_EQ(log, (Log{"cuLaunchKernel attn s1"}));
}

TEST_F(KernelTimerTest, TimedLaunchesAreBracketedAndSummed) {
  create(fake::fakeCudaDriver());
  ASSERT_EQ(launch(), RINGRT_OK); // before timing: not counted
  ASSERT_EQ(dev->timeKernels(true), RINGRT_OK);
  log.clear();
  ASSERT_EQ(launch(), RINGRT_OK);
  ASSERT_EQ(launch(), RINGRT_OK);
  // e1 is CudaStreams' ordering event; timing events have flags 0.
  EXPECT_EQ(log, (Log{"cuEventCreate e2 flags=0", "cuEventCreate e3 flags=0",
                      "cuEventRecord e2 s1", "cuLaunchKernel attn s1",
                      "cuEventRecord e3 s1", "cuEventCreate e4 flags=0",
                      "cuEventCreate e5 flags=0", "cuEventRecord e4 s1",
                      "cuLaunchKernel attn s1", "cuEventRecord e5 s1"}));
  log.clear();
  double ms = -1;
  int64_t launches = -1;
  ASSERT_EQ(dev->kernelTime(ms, launches), RINGRT_OK);
  EXPECT_EQ(launches, 2);
  EXPECT_DOUBLE_EQ(ms, 2.5);
  EXPECT_EQ(log, (Log{"cuEventSynchronize e3", "cuEventElapsedTime e2 e3",
                      "cuEventSynchronize e5", "cuEventElapsedTime e4 e5"}));

  // Restarting discards the total; stopping records nothing more.
  ASSERT_EQ(dev->timeKernels(true), RINGRT_OK);
  ASSERT_EQ(launch(), RINGRT_OK);
  ASSERT_EQ(dev->kernelTime(ms, launches), RINGRT_OK);
  EXPECT_EQ(launches, 1);
  EXPECT_DOUBLE_EQ(ms, 1.25);
  ASSERT_EQ(dev->timeKernels(false), RINGRT_OK);
  log.clear();
  ASSERT_EQ(launch(), RINGRT_OK);
  EXPECT_EQ(log, (Log{"cuLaunchKernel attn s1"}));
}

TEST_F(KernelTimerTest, DriverWithoutElapsedTimeIsUnsupported) {
  CudaDriver d = fake::fakeCudaDriver();
  d.cuEventElapsedTime = nullptr;
  create(d);
  EXPECT_EQ(dev->timeKernels(true), RINGRT_ERR_UNSUPPORTED);
  EXPECT_STREQ(ringrt_last_error(),
               "device 'cuda': the driver has no cuEventElapsedTime");
}

TEST(KernelTimer, DevicesWithoutEventsSaySo) {
  ringrt_context_options o{};
  o.comm = "self";
  o.device = "emu";
  o.grid_rank = 1;
  o.grid_shape[0] = 1;
  o.axis_of_role[0] = 0;
  o.axis_of_role[1] = -1;
  o.axis_of_role[2] = -1;
  ringrt_context *ctx = nullptr;
  ASSERT_EQ(ringrt_context_create(&o, &ctx), RINGRT_OK) << ringrt_last_error();
  EXPECT_EQ(ringrt_device_time_kernels(ctx, 1), RINGRT_ERR_UNSUPPORTED);
  EXPECT_STREQ(ringrt_last_error(),
               "device 'emu' has no kernel timing (CUDA events: cuda)");
  double ms = -1;
  int64_t launches = -1;
  EXPECT_EQ(ringrt_device_kernel_time(ctx, &ms, &launches),
            RINGRT_ERR_UNSUPPORTED);
  EXPECT_EQ(ms, 0);
  EXPECT_EQ(launches, 0);
  EXPECT_EQ(ringrt_device_kernel_time(ctx, nullptr, &launches),
            RINGRT_ERR_INVALID_ARGUMENT);
  ringrt_context_destroy(ctx);
}

} // namespace
