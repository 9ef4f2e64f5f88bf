//===- StatusTest.cpp - status strings and last error -----------*- C++ -*-===//
//
// This file tests the status names, the thread-local last-error message and
// context creation through the single-process backend.
//
//===----------------------------------------------------------------------===//

#include "ringrt/ringrt.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace {

TEST(Status, Strings) {
  EXPECT_STREQ(ringrt_status_string(RINGRT_OK), "RINGRT_OK");
  EXPECT_STREQ(ringrt_status_string(RINGRT_ERR_TIMEOUT), "RINGRT_ERR_TIMEOUT");
  EXPECT_STREQ(ringrt_status_string(RINGRT_ERR_PLAN_MISMATCH),
               "RINGRT_ERR_PLAN_MISMATCH");
  EXPECT_STREQ(ringrt_status_string(static_cast<ringrt_status>(99)),
               "RINGRT_ERR_UNKNOWN_STATUS");
  EXPECT_STREQ(ringrt_dtype_name(RINGRT_BF16), "bf16");
  EXPECT_EQ(ringrt_dtype_size(RINGRT_F32), 4);
  EXPECT_EQ(ringrt_dtype_size(RINGRT_F16), 2);
  EXPECT_EQ(ringrt_dtype_size(7), 0);
}

TEST(Status, LastErrorIsThreadLocal) {
  ringrt_clear_error();
  EXPECT_STREQ(ringrt_last_error(), "");
  EXPECT_EQ(ringrt_context_create(nullptr, nullptr),
            RINGRT_ERR_INVALID_ARGUMENT);
  std::string mine = ringrt_last_error();
  EXPECT_NE(mine.find("out is null"), std::string::npos);
  std::string other = "unset";
  std::thread t([&] {
    other = ringrt_last_error();
    ringrt_tensor_init(nullptr, nullptr, RINGRT_F32, 1, nullptr);
  });
  t.join();
  EXPECT_EQ(other, "");                  // a new thread starts clean
  EXPECT_EQ(mine, ringrt_last_error()); // and cannot clobber ours
}

ringrt_context_options selfOptions() {
  ringrt_context_options o{};
  o.comm = "self";
  o.device = "cpu";
  o.grid_rank = 3;
  o.grid_shape[0] = o.grid_shape[1] = o.grid_shape[2] = 1;
  o.axis_of_role[0] = 0;
  o.axis_of_role[1] = 1;
  o.axis_of_role[2] = 2;
  return o;
}

TEST(Context, SelfBackend) {
  ringrt_context_options o = selfOptions();
  o.timeout_ms = 1234;
  ringrt_context *ctx = nullptr;
  ASSERT_EQ(ringrt_context_create(&o, &ctx), RINGRT_OK) << ringrt_last_error();
  EXPECT_EQ(ringrt_world_size(ctx), 1);
  EXPECT_EQ(ringrt_size(ctx, RINGRT_AXIS_RING), 1);
  EXPECT_EQ(ringrt_coord(ctx, RINGRT_AXIS_DIM_SLICE), 0);
  EXPECT_EQ(ringrt_timeout_ms(ctx), 1234);
  int send[4] = {1, 2, 3, 4}, recv[4] = {};
  ringrt_request *req = nullptr;
  ASSERT_EQ(ringrt_shift_start(ctx, send, recv, sizeof(send), 0, 0, &req),
            RINGRT_OK);
  ASSERT_EQ(ringrt_wait(ctx, req), RINGRT_OK);
  EXPECT_EQ(recv[3], 4);
  float buf[2] = {1, 2};
  EXPECT_EQ(ringrt_allreduce_sum_f32(ctx, buf, 2, RINGRT_AXIS_DIM_SLICE, 0),
            RINGRT_OK);
  EXPECT_EQ(buf[1], 2.0f);
  EXPECT_EQ(ringrt_shift_start(ctx, send, send + 1, 8, 0, 0, &req),
            RINGRT_ERR_INVALID_ARGUMENT); // overlapping buffers
  EXPECT_EQ(ringrt_shift_start(ctx, send, recv, 8, 0, 16, &req),
            RINGRT_ERR_INVALID_ARGUMENT); // tag out of range
  ringrt_context_destroy(ctx);
}

TEST(Context, OptionErrors) {
  ringrt_context *ctx = nullptr;
  ringrt_context_options o = selfOptions();
  o.grid_shape[0] = 2;
  EXPECT_EQ(ringrt_context_create(&o, &ctx), RINGRT_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(ringrt_last_error()).find("comm 'self' runs one"),
            std::string::npos);
  o = selfOptions();
  o.axis_of_role[1] = 0;
  EXPECT_EQ(ringrt_context_create(&o, &ctx), RINGRT_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(ringrt_last_error()).find("two roles"),
            std::string::npos);
  o = selfOptions();
  o.grid_rank = 4;
  EXPECT_EQ(ringrt_context_create(&o, &ctx), RINGRT_ERR_INVALID_ARGUMENT);
  o = selfOptions();
  o.comm = "nccl";
  EXPECT_EQ(ringrt_context_create(&o, &ctx), RINGRT_ERR_UNSUPPORTED);
  o = selfOptions();
  o.device = "cuda"; // no GPU driver on the build machines
  ringrt_status st = ringrt_context_create(&o, &ctx);
  EXPECT_TRUE(st == RINGRT_ERR_NO_CUDA_DRIVER || st == RINGRT_ERR_UNSUPPORTED);
  EXPECT_NE(std::string(ringrt_last_error()).find("device 'cuda'"),
            std::string::npos);
  o = selfOptions();
  o.device = "tpu";
  EXPECT_EQ(ringrt_context_create(&o, &ctx), RINGRT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(ctx, nullptr);
}

TEST(Context, MpiNeedsInit) {
  ringrt_context_options o = selfOptions();
  o.comm = "mpi";
  ringrt_context *ctx = nullptr;
  EXPECT_EQ(ringrt_context_create(&o, &ctx), RINGRT_ERR_COMM);
  EXPECT_NE(std::string(ringrt_last_error()).find("MPI is not initialized"),
            std::string::npos);
}

} // namespace
