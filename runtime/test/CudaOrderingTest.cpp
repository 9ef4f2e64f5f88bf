//===- CudaOrderingTest.cpp - device "cuda" stream ordering tests -*- C++ -*-===//
//
// This file implements the GoogleTest tests of device "cuda" that run
// without a GPU: the backend over a fake driver (FakeCudaDriver.h) and a
// fake host communicator (standing in for comm "mpi"), running a ring
// program shaped like the generated one through the codegen ABI. They check
// that host-staged shifts overlap compute: the device-to-host copy goes on
// the communication stream after an event of the compute stream, the
// host-to-device copy too, the compute stream waits on its event, and the
// host never synchronizes a stream in the steady state; and that a timed
// out shift queues nothing on the device; and that the MPI-staged
// all-to-all and all-reduce of GPU entries copy out on the communication
// stream after the compute stream's event and before MPI sees the bytes,
// and copy in on the communication stream after MPI, with the compute
// stream waiting on that copy's event before its next kernel.
//
//===----------------------------------------------------------------------===//

#include "Context.h"
#include "CudaProgramCheck.h"
#include "NcclComm.h"
#include "FakeCudaDriver.h"
#include "ringrt/codegen_abi.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

using namespace ringrt;
using Log = std::vector<std::string>;

namespace {

/// A host-pointer communicator (like comm "mpi") over one process: the
/// shift copies send to recv; wait may time out at one stage.
class FakeHostComm : public CommBackend {
public:
  explicit FakeHostComm(Log &log) : log(log) {}
  struct Request : ringrt_request {
    int32_t stage = 0;
  };
  ringrt_status shiftStart(const void *send, void *recv, int64_t bytes,
                           int32_t stage, int32_t,
                           std::unique_ptr<ringrt_request> &out) override {
    log.push_back("mpi shiftStart stage=" + std::to_string(stage));
    std::memcpy(recv, send, static_cast<size_t>(bytes));
    auto req = std::make_unique<Request>();
    req->stage = stage;
    out = std::move(req);
    return RINGRT_OK;
  }
  ringrt_status wait(ringrt_request &base) override {
    int32_t stage = static_cast<Request &>(base).stage;
    log.push_back("mpi wait stage=" + std::to_string(stage));
    return stage == timeoutAtStage ? RINGRT_ERR_TIMEOUT : RINGRT_OK;
  }
  ringrt_status allreduceSumF32(float *buf, int64_t, int,
                                int32_t stage) override {
    log.push_back("mpi allreduce stage=" + std::to_string(stage));
    exchanged[0] = buf;
    return RINGRT_OK;
  }
  ringrt_status allToAll(const void *send, void *recv, const layout::A2ABlock *,
                         const layout::A2ABlock *, int64_t U,
                         int32_t id) override {
    log.push_back("mpi allToAll id=" + std::to_string(id) +
                  " U=" + std::to_string(U));
    exchanged[0] = send;
    exchanged[1] = recv;
    return RINGRT_OK;
  }
  /// The host buffers the last exchange saw.
  const void *exchanged[2] = {nullptr, nullptr};
  ringrt_status barrier() override { return RINGRT_OK; }
  Log &log;
  int32_t timeoutAtStage = -1;
};

class CudaOrderingTest : public ::testing::Test {
protected:
  void SetUp() override {
    fakes.log = &log;
    fake::fakeCuda = &fakes;
    ctx = new ringrt_context();
    ctx->grid.shape[0] = 3;
    ctx->grid.axisOfRole[RINGRT_AXIS_RING] = 0;
    ctx->grid.worldSize = 3;
    ctx->device = "cuda";
    auto comm = std::make_unique<FakeHostComm>(log);
    hostComm = comm.get();
    ctx->comm = std::move(comm);
    ASSERT_EQ(createCudaDeviceWithDriver(fake::fakeCudaDriver(),
                                         ctx->deviceBackend),
              RINGRT_OK)
        << ringrt_last_error();
  }
  void TearDown() override {
    ringrt_context_destroy(ctx);
    fake::fakeCuda = nullptr;
  }
  Log takeLog() {
    Log l;
    l.swap(log);
    return l;
  }

  Log log;
  fake::FakeCuda fakes;
  ringrt_context *ctx = nullptr;
  FakeHostComm *hostComm = nullptr;
};

TEST_F(CudaOrderingTest, CreatesAComputeAndACommunicationStream) {
  EXPECT_EQ(takeLog(), (Log{"cuStreamCreate s1 flags=1",
                            "cuStreamCreate s2 flags=1",
                            "cuEventCreate e1 flags=2"}));
  EXPECT_TRUE(shiftNeedsHostStaging(ctx));
  EXPECT_NE(ctx->deviceBackend->streamProvider(), nullptr);
}

TEST_F(CudaOrderingTest, StagedShiftsOverlapCompute) {
  takeLog();
  ASSERT_EQ(fake::runRingProgram(ctx, log, 3, 64), RINGRT_OK)
      << ringrt_last_error();
  Log l = takeLog();
  EXPECT_EQ(fake::checkOverlapOrdering(l, "s2", {"cuMemcpyDtoHAsync"},
                                       {"cuMemcpyHtoDAsync"}),
            Log{});
  // The first shift in full: staging buffers (page-locked, each with the
  // event of its last copy), D2H on s2 after the compute event, the host
  // waits for that copy only, MPI; "attn" runs while MPI moves the bytes;
  // H2D on s2, s1 waits on its event, the buffers go back after s2.
  Log first(l.begin(), l.begin() + 19);
  EXPECT_EQ(first, (Log{"cuLaunchKernel init s1",
                        "--- shift_start stage=1",
                        "cuMemAllocHost 64",
                        "cuEventCreate e2 flags=2",
                        "cuMemAllocHost 64",
                        "cuEventCreate e3 flags=2",
                        "cuEventRecord e1 s1",
                        "cuStreamWaitEvent s2 e1",
                        "cuMemcpyDtoHAsync 64 s2",
                        "cuEventCreate e4 flags=2",
                        "cuEventRecord e4 s2",
                        "cuEventSynchronize e4",
                        "mpi shiftStart stage=1",
                        "cuLaunchKernel attn s1",
                        "--- shift_wait stage=1",
                        "mpi wait stage=1",
                        "cuMemcpyHtoDAsync 64 s2",
                        "cuEventRecord e4 s2",
                        "cuStreamWaitEvent s1 e4"}))
      << ::testing::PrintToString(l);
  // The second shift reuses the staging buffers (their events completed)
  // and waits, on s2, for the kernels queued since: "attn" of stage 0 read
  // the buffer it now receives into.
  auto second = std::find(l.begin(), l.end(), "--- shift_start stage=2");
  ASSERT_NE(second, l.end());
  EXPECT_EQ(Log(second, second + 4),
            (Log{"--- shift_start stage=2", "cuEventRecord e1 s1",
                 "cuStreamWaitEvent s2 e1", "cuMemcpyDtoHAsync 64 s2"}));
  // Only the program's final synchronize waits for the streams.
  auto sync = std::find(l.begin(), l.end(), "--- synchronize");
  ASSERT_NE(sync, l.end());
  EXPECT_EQ(Log(sync, sync + 3),
            (Log{"--- synchronize", "cuStreamSynchronize s1",
                 "cuStreamSynchronize s2"}));
}

TEST_F(CudaOrderingTest, SteadyStateCallsAllocateNothing) {
  // The first call allocates the context's workspace (one cuMemAlloc) and
  // the page-locked staging buffers.
  ASSERT_EQ(fake::runRingProgram(ctx, log, 3, 64), RINGRT_OK)
      << ringrt_last_error();
  EXPECT_EQ(fakes.memAllocs, 1);
  EXPECT_EQ(ctx->workspaceAllocations, 1);
  fake::FakeCuda before = fakes;
  takeLog();
  // Later calls: no cuMemAlloc/cuMemFree, no cuMemAllocHost/cuMemFreeHost,
  // and no synchronize but the program's final one (the fake has no
  // cuCtxSynchronize at all: ringrt never synchronizes the whole context).
  for (int call = 0; call < 2; ++call)
    ASSERT_EQ(fake::runRingProgram(ctx, log, 3, 64), RINGRT_OK)
        << ringrt_last_error();
  EXPECT_EQ(fakes.memAllocs, before.memAllocs);
  EXPECT_EQ(fakes.memFrees, before.memFrees);
  EXPECT_EQ(fakes.memAllocHosts, before.memAllocHosts);
  EXPECT_EQ(fakes.memFreeHosts, before.memFreeHosts);
  EXPECT_EQ(ctx->workspaceAllocations, 1);
  Log l = takeLog();
  EXPECT_EQ(std::count_if(l.begin(), l.end(),
                          [](const std::string &line) {
                            return line.rfind("cuStreamSynchronize", 0) == 0;
                          }),
            4) // s1 and s2 at each call's "--- synchronize"
      << ::testing::PrintToString(l);
  // A larger workspace replaces the old one after the device is idle.
  int32_t status = RINGRT_OK;
  EXPECT_NE(ringrt_cg_workspace(ctx, &status, nullptr, 1 << 20), nullptr);
  EXPECT_EQ(status, RINGRT_OK);
  EXPECT_EQ(fakes.memAllocs, before.memAllocs + 1);
  EXPECT_EQ(fakes.memFrees, before.memFrees + 1);
  // The context frees its workspace.
  int frees = fakes.memFrees;
  ringrt_context_destroy(ctx);
  ctx = nullptr;
  EXPECT_EQ(fakes.memFrees, frees + 1);
}

TEST_F(CudaOrderingTest, EntryRunsOnTheCallersStreamWithoutWaiting) {
  void *mine = nullptr;
  ASSERT_EQ(ctx->deviceBackend->streamProvider()->createStream(&mine),
            RINGRT_OK);
  ASSERT_EQ(fake::runEntryProgram(ctx, log, 3, 64, nullptr), RINGRT_OK)
      << ringrt_last_error(); // first call: workspace and staging buffers
  takeLog();
  ASSERT_EQ(fake::runEntryProgram(ctx, log, 3, 64, mine), RINGRT_OK)
      << ringrt_last_error();
  Log l = takeLog();
  // The call starts after the context's own stream (s1: the previous call
  // used the same workspace), queues every kernel on the caller's stream
  // s3, blocks the host only for the staged copies MPI needs
  // (cuEventSynchronize of the device-to-host copy), never synchronizes a
  // stream, and ends with s3 after the comm stream and s1 after s3.
  ASSERT_GE(l.size(), 3u);
  EXPECT_EQ(Log(l.begin(), l.begin() + 3),
            (Log{"--- begin", "cuEventRecord e1 s1",
                 "cuStreamWaitEvent s3 e1"}))
      << ::testing::PrintToString(l);
  auto end = std::find(l.begin(), l.end(), "--- end");
  ASSERT_NE(end, l.end());
  EXPECT_EQ(Log(end, l.end()),
            (Log{"--- end", "cuEventRecord e5 s2", "cuStreamWaitEvent s3 e5",
                 "cuEventRecord e1 s3", "cuStreamWaitEvent s1 e1"}))
      << ::testing::PrintToString(l);
  for (const std::string &line : l) {
    EXPECT_NE(line.rfind("cuStreamSynchronize", 0), 0u) << line;
    if (line.rfind("cuLaunchKernel", 0) == 0) {
      EXPECT_EQ(line.substr(line.size() - 3), " s3") << line;
    }
  }
  // NAME_attention_sync's wait: the caller's stream only.
  int32_t status = RINGRT_OK;
  ringrt_cg_stream_wait(ctx, &status, mine);
  EXPECT_EQ(status, RINGRT_OK);
  EXPECT_EQ(takeLog(), Log{"cuStreamSynchronize s3"});
  // The context's own stream: the ordering rules hold and nothing waits
  // for a stream at all.
  ASSERT_EQ(fake::runEntryProgram(ctx, log, 3, 64, nullptr), RINGRT_OK);
  EXPECT_EQ(fake::checkOverlapOrdering(takeLog(), "s2", {"cuMemcpyDtoHAsync"},
                                       {"cuMemcpyHtoDAsync"}),
            Log{});
  ctx->deviceBackend->streamProvider()->destroyStream(mine);
}

TEST_F(CudaOrderingTest, ACallLeftOpenIsRefused) {
  void *mine = nullptr;
  ASSERT_EQ(ctx->deviceBackend->streamProvider()->createStream(&mine),
            RINGRT_OK);
  int32_t status = RINGRT_OK;
  ringrt_cg_begin(ctx, &status, mine);
  ASSERT_EQ(status, RINGRT_OK) << ringrt_last_error();
  // A second begin before the end (an entry that returned early, or two
  // threads on one context) is refused and leaves the open call alone.
  int32_t second = RINGRT_OK;
  ringrt_cg_begin(ctx, &second, nullptr);
  EXPECT_EQ(second, RINGRT_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(ringrt_last_error(), "still open on this context"),
            nullptr)
      << ringrt_last_error();
  takeLog();
  ringrt_cg_end(ctx, &status);
  EXPECT_EQ(status, RINGRT_OK);
  // The end of the open call ends it on the caller's stream s3.
  Log l = takeLog();
  EXPECT_NE(std::find(l.begin(), l.end(), "cuEventRecord e1 s3"), l.end())
      << ::testing::PrintToString(l);
  // Ended: the next call begins; an end without a begin does nothing.
  ringrt_cg_begin(ctx, &status, nullptr);
  EXPECT_EQ(status, RINGRT_OK) << ringrt_last_error();
  ringrt_cg_end(ctx, &status);
  takeLog();
  ringrt_cg_end(ctx, &status);
  EXPECT_EQ(status, RINGRT_OK);
  EXPECT_EQ(takeLog(), Log{});
  ctx->deviceBackend->streamProvider()->destroyStream(mine);
}

TEST_F(CudaOrderingTest, StagedShiftsCannotBeCaptured) {
  void *mine = nullptr; // s3
  ASSERT_EQ(ctx->deviceBackend->streamProvider()->createStream(&mine),
            RINGRT_OK);
  ASSERT_EQ(fake::runEntryProgram(ctx, log, 3, 64, mine), RINGRT_OK)
      << ringrt_last_error();
  takeLog();
  fakes.beginCapture(3);
  // Comm "mpi" must block the host at each shift: a precise refusal
  // before anything is staged, sent or waited for.
  EXPECT_EQ(fake::runEntryProgram(ctx, log, 3, 64, mine),
            RINGRT_ERR_UNSUPPORTED);
  std::string err = ringrt_last_error();
  EXPECT_NE(err.find("ringrt_shift_start: stage 1: comm 'mpi' stages the "
                     "ring shift through host memory"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("only comm 'nccl' can be captured"), std::string::npos)
      << err;
  // NAME_attention_sync cannot be captured either: it waits for the stream.
  int32_t status = RINGRT_OK;
  ringrt_cg_stream_wait(ctx, &status, mine);
  EXPECT_EQ(status, RINGRT_ERR_UNSUPPORTED);
  EXPECT_NE(std::string(ringrt_last_error()).find("capture the entry point "
                                                  "without _sync"),
            std::string::npos)
      << ringrt_last_error();
  EXPECT_EQ(fakes.endCapture(3), 0);
  Log l = takeLog();
  // (The program goes on past the failure; ringrt skips the rest.)
  EXPECT_EQ(l, (Log{"cuStreamBeginCapture s3", "--- begin",
                    "cuLaunchKernel init s3", "--- shift_start stage=1",
                    "--- shift_wait stage=1", "--- shift_start stage=2",
                    "--- shift_wait stage=2", "--- end",
                    "cuStreamEndCapture s3"}))
      << ::testing::PrintToString(l);
  // A capture that something else invalidated is reported as such.
  fakes.beginCapture(3);
  fakes.captureInvalidated = true;
  EXPECT_EQ(fake::runEntryProgram(ctx, log, 1, 64, mine), RINGRT_ERR_DEVICE);
  EXPECT_NE(std::string(ringrt_last_error()).find("capture was invalidated"),
            std::string::npos)
      << ringrt_last_error();
  fakes.endCapture(3);
  // Outside the capture the context works as before.
  EXPECT_EQ(fake::runEntryProgram(ctx, log, 3, 64, mine), RINGRT_OK)
      << ringrt_last_error();
  ctx->deviceBackend->streamProvider()->destroyStream(mine);
}

TEST_F(CudaOrderingTest, DocumentsCopyIsQueuedOnTheCallersStream) {
  // A varlen GPU entry copies cu_seqlens into its workspace with
  // ringrt_cg_copy_to_device: on the call's stream, with no allocation,
  // no host wait and no stream synchronization, also under capture.
  void *mine = nullptr; // s3
  ASSERT_EQ(ctx->deviceBackend->streamProvider()->createStream(&mine),
            RINGRT_OK);
  const int32_t cu[5] = {0, 10, 10, 40, 64};
  void *device = reinterpret_cast<void *>(uintptr_t(0x10000));
  for (bool capture : {false, true}) {
    takeLog();
    if (capture)
      fakes.beginCapture(3);
    int32_t status = RINGRT_OK;
    ringrt_cg_begin(ctx, &status, mine);
    ringrt_cg_copy_to_device(ctx, &status, device, cu, sizeof(cu));
    ringrt_cg_end(ctx, &status);
    EXPECT_EQ(status, RINGRT_OK) << ringrt_last_error();
    if (capture) {
      EXPECT_EQ(fakes.endCapture(3), 0);
    }
    Log l = takeLog();
    EXPECT_EQ(std::count(l.begin(), l.end(), "cuMemcpyHtoDAsync 20 s3"), 1)
        << ::testing::PrintToString(l);
    for (const std::string &line : l) {
      EXPECT_NE(line.rfind("cuStreamSynchronize", 0), 0u) << line;
      EXPECT_NE(line.rfind("cuEventSynchronize", 0), 0u) << line;
      EXPECT_NE(line.rfind("cuMemAlloc", 0), 0u) << line;
      EXPECT_NE(line.rfind("cuMemcpyHtoD ", 0), 0u) << line;
    }
  }
  // After a failure it does nothing; bad arguments are refused.
  int32_t failed = RINGRT_ERR_TIMEOUT;
  ringrt_cg_copy_to_device(ctx, &failed, device, cu, sizeof(cu));
  EXPECT_EQ(failed, RINGRT_ERR_TIMEOUT);
  int32_t status = RINGRT_OK;
  ringrt_cg_copy_to_device(ctx, &status, nullptr, cu, sizeof(cu));
  EXPECT_EQ(status, RINGRT_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(takeLog(), Log{});
  ctx->deviceBackend->streamProvider()->destroyStream(mine);
}

TEST_F(CudaOrderingTest, CallerWorkspaceMustBeAligned) {
  int32_t status = RINGRT_OK;
  alignas(256) static char mine[512];
  EXPECT_EQ(ringrt_cg_workspace(ctx, &status, mine, 512), mine);
  EXPECT_EQ(status, RINGRT_OK);
  EXPECT_EQ(ringrt_cg_workspace(ctx, &status, mine + 8, 256), nullptr);
  EXPECT_EQ(status, RINGRT_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(ringrt_last_error(), "not 256-byte aligned"), nullptr)
      << ringrt_last_error();
  EXPECT_EQ(fakes.memAllocs, 0);
}

TEST_F(CudaOrderingTest, TimedOutStagedShiftQueuesNothing) {
  hostComm->timeoutAtStage = 1;
  takeLog();
  EXPECT_EQ(fake::runRingProgram(ctx, log, 2, 64), RINGRT_ERR_TIMEOUT);
  Log l = takeLog();
  auto wait = std::find(l.begin(), l.end(), "mpi wait stage=1");
  ASSERT_NE(wait, l.end());
  // No copy in, no cross-stream wait: the buffers go back (events recorded
  // on s2) and the program only synchronizes before freeing.
  EXPECT_EQ(Log(wait, l.end()),
            (Log{"mpi wait stage=1", "cuEventRecord e2 s2",
                 "cuEventRecord e3 s2", "--- synchronize",
                 "cuStreamSynchronize s1", "cuStreamSynchronize s2"}));
}

TEST_F(CudaOrderingTest, ReleasingTheDeviceKeepsTheStreamsOfItsSharers) {
  // comm "nccl" holds the provider after the device backend is gone
  // (ringrt_context destroys the device first).
  std::shared_ptr<StreamProvider> streams =
      ctx->deviceBackend->streamProvider();
  takeLog();
  ctx->deviceBackend.reset();
  EXPECT_EQ(takeLog(), (Log{"cuStreamSynchronize s1", "cuStreamSynchronize s2"}));
  void *s = nullptr;
  ASSERT_EQ(streams->createStream(&s), RINGRT_OK);
  streams->destroyStream(s);
  streams.reset();
  EXPECT_EQ(takeLog(),
            (Log{"cuStreamCreate s3 flags=1", "cuStreamDestroy s3",
                 "cuStreamDestroy s1", "cuStreamDestroy s2",
                 "cuDevicePrimaryCtxRelease"}));
}

/// Runs, as a generated entry point does, kernel "attn" (writing the
/// workspace's first `bytes`), `exchange` (marked "--- exchange") and
/// kernel "finalize" (reading the second half); returns the status cell.
template <typename F>
int32_t runExchange(ringrt_context *ctx, Log &log, int64_t bytes,
                    F exchange) {
  int32_t status = RINGRT_OK;
  void *module = nullptr;
  ringrt_cg_module_load(ctx, &status, "// fake PTX", &module);
  char *ws =
      static_cast<char *>(ringrt_cg_workspace(ctx, &status, nullptr, 2 * bytes));
  void *a = ws, *b = ws ? ws + bytes : nullptr;
  ringrt_cg_begin(ctx, &status, nullptr);
  void *params[] = {&a};
  ringrt_cg_launch(ctx, &status, module, "attn", 1, 1, 1, 128, 1, 1, 0,
                   params);
  log.push_back("--- exchange");
  exchange(&status, a, b);
  params[0] = &b;
  ringrt_cg_launch(ctx, &status, module, "finalize", 1, 1, 1, 128, 1, 1, 0,
                   params);
  ringrt_cg_end(ctx, &status);
  return status;
}

/// The lines from "--- exchange" up to the next kernel launch.
Log exchangeSegment(const Log &l) {
  auto from = std::find(l.begin(), l.end(), "--- exchange");
  auto to = std::find_if(from, l.end(), [](const std::string &line) {
    return line.rfind("cuLaunchKernel", 0) == 0;
  });
  return Log(from, to == l.end() ? to : to + 1);
}

TEST_F(CudaOrderingTest, StagedAllToAllCopiesOutBeforeMpiAndInAfter) {
  // An a2a axis of 2 beside the ring of 3; the fake communicator stands in
  // for comm "mpi" (host pointers). Q-like [1, 2 heads, 4 tokens] of
  // 64-byte rows go to [1, 1 head, 8 tokens]: 512 bytes either way.
  ctx->grid.gridRank = 2;
  ctx->grid.shape[1] = 2;
  ctx->grid.axisOfRole[RINGRT_AXIS_A2A] = 1;
  ctx->grid.worldSize = 6;
  ASSERT_EQ(runExchange(ctx, log, 512,
                        [&](int32_t *status, void *send, void *recv) {
                          ringrt_cg_all_to_all(ctx, status, send, recv,
                                               RINGRT_A2A_SEQ_TO_HEADS, 1, 2,
                                               4, 1, 8, 64, 3);
                        }),
            RINGRT_OK)
      << ringrt_last_error();
  Log l = takeLog();
  // Page-locked staging buffers for both sides; the comm stream s2 waits
  // for the compute stream s1 (which ran "attn", the writer of send), the
  // device-to-host copy goes on s2 and the host waits for that copy alone
  // before MPI reads the bytes; after MPI, the host-to-device copy goes on
  // s2 and s1 waits on its event before "finalize" (the reader of recv).
  // No synchronous copy on the legacy stream, no stream synchronize.
  EXPECT_EQ(exchangeSegment(l),
            (Log{"--- exchange", "cuMemAllocHost 512",
                 "cuEventCreate e2 flags=2", "cuMemAllocHost 512",
                 "cuEventCreate e3 flags=2", "cuEventRecord e1 s1",
                 "cuStreamWaitEvent s2 e1", "cuMemcpyDtoHAsync 512 s2",
                 "cuEventCreate e4 flags=2", "cuEventRecord e4 s2",
                 "cuEventSynchronize e4", "mpi allToAll id=3 U=2",
                 "cuMemcpyHtoDAsync 512 s2", "cuEventRecord e4 s2",
                 "cuStreamWaitEvent s1 e4", "cuEventRecord e2 s2",
                 "cuEventRecord e3 s2", "cuLaunchKernel finalize s1"}))
      << ::testing::PrintToString(l);
  // MPI exchanged the staging buffers, not device pointers.
  EXPECT_NE(hostComm->exchanged[0], nullptr);
  EXPECT_NE(hostComm->exchanged[1], nullptr);
  EXPECT_NE(hostComm->exchanged[0], hostComm->exchanged[1]);
  // A second call reuses the staging buffers (no allocation).
  ASSERT_EQ(runExchange(ctx, log, 512,
                        [&](int32_t *status, void *send, void *recv) {
                          ringrt_cg_all_to_all(ctx, status, send, recv,
                                               RINGRT_A2A_HEADS_TO_SEQ, 1, 1,
                                               8, 2, 4, 64, 4);
                        }),
            RINGRT_OK)
      << ringrt_last_error();
  l = takeLog();
  EXPECT_EQ(std::count_if(l.begin(), l.end(),
                          [](const std::string &line) {
                            return line.rfind("cuMemAllocHost", 0) == 0 ||
                                   line.rfind("cuMemcpyHtoD ", 0) == 0 ||
                                   line == "cuMemcpyHtoD" ||
                                   line == "cuMemcpyDtoH" ||
                                   line.rfind("cuStreamSynchronize", 0) == 0;
                          }),
            0)
      << ::testing::PrintToString(l);
}

TEST_F(CudaOrderingTest, StagedAllReduceCopiesOutBeforeMpiAndInAfter) {
  // The dim-slice all-reduce of partial scores (in place, one staging
  // buffer), ordered like the all-to-all.
  ctx->grid.gridRank = 2;
  ctx->grid.shape[1] = 2;
  ctx->grid.axisOfRole[RINGRT_AXIS_DIM_SLICE] = 1;
  ctx->grid.worldSize = 6;
  ASSERT_EQ(runExchange(ctx, log, 256,
                        [&](int32_t *status, void *buf, void *) {
                          ringrt_cg_allreduce_sum_f32_axis(
                              ctx, status, static_cast<float *>(buf), 64,
                              RINGRT_AXIS_DIM_SLICE, 1);
                        }),
            RINGRT_OK)
      << ringrt_last_error();
  Log l = takeLog();
  EXPECT_EQ(exchangeSegment(l),
            (Log{"--- exchange", "cuMemAllocHost 256",
                 "cuEventCreate e2 flags=2", "cuEventRecord e1 s1",
                 "cuStreamWaitEvent s2 e1", "cuMemcpyDtoHAsync 256 s2",
                 "cuEventCreate e3 flags=2", "cuEventRecord e3 s2",
                 "cuEventSynchronize e3", "mpi allreduce stage=1",
                 "cuMemcpyHtoDAsync 256 s2", "cuEventRecord e3 s2",
                 "cuStreamWaitEvent s1 e3", "cuEventRecord e2 s2",
                 "cuLaunchKernel finalize s1"}))
      << ::testing::PrintToString(l);
  EXPECT_NE(hostComm->exchanged[0], nullptr);
}

} // namespace
