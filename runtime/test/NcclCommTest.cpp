//===- NcclCommTest.cpp - NCCL communicator backend tests -------*- C++ -*-===//
//
// This file implements the unit tests of the NCCL backend that run without a
// GPU or NCCL: the dlopen loader's report of a missing library, and the
// backend's logic over a fake NCCL (a table of function pointers), a fake
// StreamProvider and a fake MPI control plane. Two "ranks" of a ring are
// simulated in one process by creating their backends one after the other
// over a shared broadcast mailbox; every NCCL and stream call is appended to
// one log whose order the tests check.
//
//===----------------------------------------------------------------------===//

#include "NcclComm.h"
#include "Context.h"
#include "CudaProgramCheck.h"
#include "FakeCudaDriver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

using namespace ringrt;

namespace {

/// The shared state of the fakes. Plain function pointers cannot capture,
/// so the fake NCCL reaches it through this pointer (one test at a time).
struct FakeWorld {
  std::vector<std::string> log;
  int uniqueIds = 0;                        // ids handed out by ncclGetUniqueId
  std::map<int, std::vector<char>> mailbox; // last broadcast, by role
  int initsSinceStream = 0;                 // numbers the fake communicators
  bool eventNeverCompletes = false;
  int asyncErrorAfterPolls = -1; // ncclCommGetAsyncError turns bad after N
  int asyncPolls = 0;
  nccl::Result initResult = nccl::Success;
  float peersFailing = 0;       // added by the control plane's all-reduce
  std::vector<char> lastInitId; // the id passed to ncclCommInitRank
  // When set, ncclCommInitRank blocks until `releaseInit` (a peer that
  // never joins) and then makes communicator 7; `lateAborted` says that
  // communicator 7 was aborted. These calls run on ringrt's helper thread,
  // so they touch only atomics, never the log.
  bool initBlocks = false;
  std::atomic<bool> releaseInit{false}, lateAborted{false};
};
FakeWorld *world = nullptr;

void logf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void logf(const char *fmt, ...) {
  char buf[256];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  world->log.emplace_back(buf);
}

/// Fake communicators are small integers: ring = 1, dim_slice = 3.
nccl::Comm fakeComm(int n) { return reinterpret_cast<nccl::Comm>(n); }
long commId(nccl::Comm c) { return reinterpret_cast<long>(c); }

nccl::Result fakeGetUniqueId(nccl::UniqueId *id) {
  std::memset(id, 0, sizeof(*id));
  std::snprintf(id->internal, sizeof(id->internal), "fake-id-%d",
                ++world->uniqueIds);
  logf("getUniqueId %s", id->internal);
  return nccl::Success;
}
nccl::Result fakeCommInitRank(nccl::Comm *comm, int nranks, nccl::UniqueId id,
                              int rank) {
  if (world->initBlocks) {
    while (!world->releaseInit.load())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    *comm = fakeComm(7);
    return nccl::Success;
  }
  logf("commInitRank n=%d rank=%d id=%s", nranks, rank, id.internal);
  world->lastInitId.assign(id.internal, id.internal + sizeof(id.internal));
  if (world->initResult != nccl::Success)
    return world->initResult;
  // The ring's communicator is made first, then the dim-slice one.
  *comm = fakeComm(world->initsSinceStream++ == 0 ? 1 : 3);
  return nccl::Success;
}
nccl::Result fakeCommDestroy(nccl::Comm c) {
  logf("commDestroy %ld", commId(c));
  return nccl::Success;
}
nccl::Result fakeCommAbort(nccl::Comm c) {
  if (commId(c) == 7) {
    world->lateAborted.store(true);
    return nccl::Success;
  }
  logf("commAbort %ld", commId(c));
  return nccl::Success;
}
nccl::Result fakeCommGetAsyncError(nccl::Comm, nccl::Result *r) {
  ++world->asyncPolls;
  *r = world->asyncErrorAfterPolls >= 0 &&
               world->asyncPolls > world->asyncErrorAfterPolls
           ? nccl::RemoteError
           : nccl::Success;
  return nccl::Success;
}
const char *fakeGetErrorString(nccl::Result r) {
  return r == nccl::RemoteError ? "remote process exited or there was a "
                                  "network error"
                                : "fake error";
}
nccl::Result fakeGroupStart() {
  logf("groupStart");
  return nccl::Success;
}
nccl::Result fakeGroupEnd() {
  logf("groupEnd");
  return nccl::Success;
}
nccl::Result fakeSend(const void *, std::size_t count, nccl::DataType t,
                      int peer, nccl::Comm c, nccl::Stream s) {
  logf("send peer=%d count=%zu type=%d comm=%ld stream=%p", peer, count,
       static_cast<int>(t), commId(c), static_cast<void *>(s));
  return nccl::Success;
}
nccl::Result fakeRecv(void *, std::size_t count, nccl::DataType t, int peer,
                      nccl::Comm c, nccl::Stream s) {
  logf("recv peer=%d count=%zu type=%d comm=%ld stream=%p", peer, count,
       static_cast<int>(t), commId(c), static_cast<void *>(s));
  return nccl::Success;
}
nccl::Result fakeAllReduce(const void *sb, void *rb, std::size_t count,
                           nccl::DataType t, nccl::RedOp op, nccl::Comm c,
                           nccl::Stream s) {
  logf("allReduce inplace=%d count=%zu type=%d op=%d comm=%ld stream=%p",
       sb == rb, count, static_cast<int>(t), static_cast<int>(op), commId(c),
       static_cast<void *>(s));
  return nccl::Success;
}

/// Logs the block's float offset from fakeReduceBase (the test's buffer).
const float *fakeReduceBase = nullptr;
nccl::Result fakeReduce(const void *sb, void *rb, std::size_t count,
                        nccl::DataType t, nccl::RedOp op, int root,
                        nccl::Comm c, nccl::Stream s) {
  logf("reduce inplace=%d offset=%ld count=%zu type=%d op=%d root=%d "
       "comm=%ld stream=%p",
       sb == rb, static_cast<long>(static_cast<const float *>(sb) -
                                   fakeReduceBase),
       count, static_cast<int>(t), static_cast<int>(op), root, commId(c),
       static_cast<void *>(s));
  return nccl::Success;
}

NcclApi fakeApi() {
  NcclApi a;
  a.getUniqueId = fakeGetUniqueId;
  a.commInitRank = fakeCommInitRank;
  a.commDestroy = fakeCommDestroy;
  a.commAbort = fakeCommAbort;
  a.commGetAsyncError = fakeCommGetAsyncError;
  a.getErrorString = fakeGetErrorString;
  a.groupStart = fakeGroupStart;
  a.groupEnd = fakeGroupEnd;
  a.send = fakeSend;
  a.recv = fakeRecv;
  a.allReduce = fakeAllReduce;
  a.reduce = fakeReduce;
  return a;
}

/// The stream is the address 0x5; events count up from 0x100.
class FakeStreams : public StreamProvider {
public:
  const char *name() const override { return "fake"; }
  ringrt_status activate() override {
    logf("activate");
    return RINGRT_OK;
  }
  ringrt_status createStream(void **s) override {
    *s = reinterpret_cast<void *>(0x5);
    world->initsSinceStream = 0;
    logf("createStream");
    return RINGRT_OK;
  }
  void destroyStream(void *s) override { logf("destroyStream %p", s); }
  ringrt_status createEvent(void **e) override {
    *e = reinterpret_cast<void *>(0x100 + events++);
    return RINGRT_OK;
  }
  void destroyEvent(void *) override {}
  ringrt_status orderAfterCompute(void *s) override {
    logf("orderAfterCompute %p", s);
    return RINGRT_OK;
  }
  ringrt_status recordEvent(void *e, void *s) override {
    logf("recordEvent %p stream=%p", e, s);
    return RINGRT_OK;
  }
  ringrt_status queryEvent(void *, bool &done) override {
    done = !world->eventNeverCompletes;
    return RINGRT_OK;
  }
  int events = 0;
};

/// The MPI control plane of one simulated rank: the role's root stores its
/// broadcast in the mailbox, the others read it; the all-reduce adds what
/// the test says the other ranks contribute.
class FakeControl : public CommBackend {
public:
  explicit FakeControl(const GridInfo &grid) : grid(grid) {}
  ringrt_status shiftStart(const void *, void *, int64_t, int32_t, int32_t,
                           std::unique_ptr<ringrt_request> &) override {
    return RINGRT_ERR_UNSUPPORTED;
  }
  ringrt_status wait(ringrt_request &) override {
    return RINGRT_ERR_UNSUPPORTED;
  }
  ringrt_status allreduceSumF32(float *buf, int64_t count, int role,
                                int32_t) override {
    logf("control allreduce role=%d count=%lld", role,
         static_cast<long long>(count));
    buf[0] += world->peersFailing;
    world->peersFailing = 0; // counted once, over the first role axis
    return RINGRT_OK;
  }
  ringrt_status barrier() override {
    logf("control barrier");
    return RINGRT_OK;
  }
  ringrt_status broadcastBytes(void *buf, int64_t bytes, int role,
                               int64_t root) override {
    // GridInfo's methods are internal to libringrt; read the coordinate.
    int axis = grid.axisOfRole[role];
    bool isRoot = (axis < 0 ? 0 : grid.coords[axis]) == root;
    logf("control broadcast role=%d root=%lld bytes=%lld %s", role,
         static_cast<long long>(root), static_cast<long long>(bytes),
         isRoot ? "send" : "receive");
    auto *p = static_cast<char *>(buf);
    std::vector<char> &mail = world->mailbox[role];
    if (isRoot)
      mail.assign(p, p + bytes);
    else if (static_cast<int64_t>(mail.size()) == bytes)
      std::memcpy(p, mail.data(), static_cast<size_t>(bytes));
    else
      return RINGRT_ERR_COMM;
    return RINGRT_OK;
  }
  GridInfo grid;
};

/// Grid [head_groups 2, ring 4] (axes 0 and 1) placed at world rank
/// 4*g + p, so ring peers' world ranks differ from their NCCL ranks.
GridInfo ringGrid(int g, int p) {
  GridInfo grid;
  grid.gridRank = 2;
  grid.shape[0] = 2;
  grid.shape[1] = 4;
  grid.axisOfRole[RINGRT_AXIS_RING] = 1;
  grid.axisOfRole[RINGRT_AXIS_HEAD_GROUP] = 0;
  grid.axisOfRole[RINGRT_AXIS_DIM_SLICE] = -1;
  grid.worldSize = 8;
  grid.worldRank = 4 * g + p;
  grid.coords[0] = g;
  grid.coords[1] = p;
  return grid;
}

class NcclCommTest : public ::testing::Test {
protected:
  void SetUp() override { world = &w; }
  void TearDown() override { world = nullptr; }

  ringrt_status create(const GridInfo &grid, std::unique_ptr<CommBackend> &out,
                       int64_t timeoutMs = 20000) {
    return createNcclCommFromParts(grid, timeoutMs, fakeApi(),
                                   std::make_shared<FakeStreams>(),
                                   std::make_unique<FakeControl>(grid), out);
  }
  std::vector<std::string> takeLog() {
    std::vector<std::string> l;
    l.swap(w.log);
    return l;
  }
  bool logHas(const std::string &s) const {
    for (const std::string &l : w.log)
      if (l == s)
        return true;
    return false;
  }

  FakeWorld w;
};

using Log = std::vector<std::string>;

TEST(NcclLoaderTest, MissingLibraryIsReportedCleanly) {
  NcclApi api;
  api.send = reinterpret_cast<nccl::SendFn>(1); // must be cleared
  ringrt_clear_error();
  ringrt_status st = loadNcclApi("libnccl-ringrt-absent.so.2", api);
  EXPECT_EQ(st, RINGRT_ERR_NO_NCCL);
  EXPECT_STREQ(ringrt_status_string(st), "RINGRT_ERR_NO_NCCL");
  EXPECT_NE(std::strstr(ringrt_last_error(),
                        "NCCL not available (libnccl-ringrt-absent.so.2 not "
                        "found); use comm \"mpi\""),
            nullptr)
      << ringrt_last_error();
  EXPECT_EQ(api.handle, nullptr);
  EXPECT_EQ(api.send, nullptr);
  unloadNcclApi(api); // harmless on an empty table
}

TEST(NcclLoaderTest, LibraryWithoutNcclSymbolsIsRejected) {
  // libm is a real library without any NCCL entry point.
  NcclApi api;
  ringrt_status st = loadNcclApi("libm.so.6", api);
  EXPECT_EQ(st, RINGRT_ERR_NO_NCCL);
  EXPECT_NE(std::strstr(ringrt_last_error(), "libm.so.6 lacks ncclGetUniqueId"),
            nullptr)
      << ringrt_last_error();
  EXPECT_EQ(api.handle, nullptr);
}

TEST(NcclLoaderTest, RealLibraryResolvesEveryEntryPoint) {
  NcclApi api;
  if (loadNcclApi(kNcclLibrary, api) != RINGRT_OK)
    GTEST_SKIP() << "no libnccl.so.2 here: " << ringrt_last_error();
  EXPECT_NE(api.handle, nullptr);
  EXPECT_TRUE(api.getUniqueId && api.commInitRank && api.commDestroy &&
              api.commAbort && api.commGetAsyncError && api.getErrorString &&
              api.groupStart && api.groupEnd && api.send && api.recv &&
              api.allReduce && api.reduce);
  // Needs no GPU: a pure function of the result code.
  const char *s = api.getErrorString(nccl::InvalidArgument);
  ASSERT_NE(s, nullptr);
  EXPECT_NE(std::string(s), "");
  unloadNcclApi(api);
  EXPECT_EQ(api.handle, nullptr);
}

TEST_F(NcclCommTest, RootBroadcastsTheUniqueIdAndEveryRankInitializes) {
  // Ring coordinate 0 (world rank 4) makes the id and sends it ...
  std::unique_ptr<CommBackend> rank0, rank1;
  ASSERT_EQ(create(ringGrid(1, 0), rank0), RINGRT_OK) << ringrt_last_error();
  Log l0 = takeLog();
  // ... ring coordinate 1 (world rank 5) receives it and never makes one.
  ASSERT_EQ(create(ringGrid(1, 1), rank1), RINGRT_OK) << ringrt_last_error();
  Log l1 = takeLog();

  // Stream first; everyone agrees it worked (sum over both role axes);
  // then the ring's id is broadcast over the ring axis (role 0) from
  // coordinate 0, and NCCL ranks are ring coordinates; then agree again.
  Log agree = {"control allreduce role=0 count=1",
               "control allreduce role=1 count=1"};
  Log expect0 = {"activate", "createStream"};
  expect0.insert(expect0.end(), agree.begin(), agree.end());
  expect0.insert(expect0.end(),
                 {"getUniqueId fake-id-1",
                  "control broadcast role=0 root=0 bytes=132 send",
                  "commInitRank n=4 rank=0 id=fake-id-1"});
  expect0.insert(expect0.end(), agree.begin(), agree.end());
  EXPECT_EQ(l0, expect0);

  Log expect1 = {"activate", "createStream"};
  expect1.insert(expect1.end(), agree.begin(), agree.end());
  expect1.insert(expect1.end(),
                 {"control broadcast role=0 root=0 bytes=132 receive",
                  "commInitRank n=4 rank=1 id=fake-id-1"});
  expect1.insert(expect1.end(), agree.begin(), agree.end());
  EXPECT_EQ(l1, expect1);
  EXPECT_EQ(w.uniqueIds, 1);

  rank1.reset();
  EXPECT_EQ(takeLog(), (Log{"activate", "commDestroy 1", "destroyStream 0x5"}));
}

TEST_F(NcclCommTest, DimSliceGetsItsOwnCommunicator) {
  // Grid [ring 2, dim_slices 2]; world rank 3 = (p 1, s 1).
  GridInfo grid;
  grid.gridRank = 2;
  grid.shape[0] = 2;
  grid.shape[1] = 2;
  grid.axisOfRole[RINGRT_AXIS_RING] = 0;
  grid.axisOfRole[RINGRT_AXIS_HEAD_GROUP] = -1;
  grid.axisOfRole[RINGRT_AXIS_DIM_SLICE] = 1;
  grid.worldSize = 4;
  grid.worldRank = 3;
  grid.coords[0] = 1;
  grid.coords[1] = 1;
  // Not a root anywhere: preload what the roots would broadcast.
  std::unique_ptr<CommBackend> root;
  GridInfo rootGrid = grid;
  rootGrid.worldRank = 0;
  rootGrid.coords[0] = rootGrid.coords[1] = 0;
  ASSERT_EQ(create(rootGrid, root), RINGRT_OK) << ringrt_last_error();
  takeLog();

  std::unique_ptr<CommBackend> comm;
  ASSERT_EQ(create(grid, comm), RINGRT_OK) << ringrt_last_error();
  Log agree = {"control allreduce role=0 count=1",
               "control allreduce role=2 count=1"};
  Log expect = {"activate", "createStream"};
  expect.insert(expect.end(), agree.begin(), agree.end());
  expect.insert(expect.end(),
                {"control broadcast role=0 root=0 bytes=132 receive",
                 "commInitRank n=2 rank=1 id=fake-id-1"});
  expect.insert(expect.end(), agree.begin(), agree.end());
  expect.insert(expect.end(),
                {"control broadcast role=2 root=0 bytes=132 receive",
                 "commInitRank n=2 rank=1 id=fake-id-2"});
  expect.insert(expect.end(), agree.begin(), agree.end());
  EXPECT_EQ(takeLog(), expect);

  float buf[5] = {};
  ASSERT_EQ(comm->allreduceSumF32(buf, 5, RINGRT_AXIS_DIM_SLICE, 2), RINGRT_OK)
      << ringrt_last_error();
  EXPECT_EQ(takeLog(),
            (Log{"activate", "orderAfterCompute 0x5",
                 "allReduce inplace=1 count=5 type=7 op=0 comm=3 stream=0x5",
                 "recordEvent 0x100 stream=0x5"}));
  EXPECT_EQ(comm->allreduceSumF32(buf, 5, RINGRT_AXIS_HEAD_GROUP, 2),
            RINGRT_ERR_UNSUPPORTED);

  // The layer's reduce-scatter over the dim slices: [batch 2, rows 5, cols
  // 3] with coordinate 0 owning rows [0, 3) and 1 rows [3, 5): one group of
  // in-place ncclReduce calls, one per (owner, batch), rooted at the owner.
  float y[2 * 5 * 3] = {};
  fakeReduceBase = y;
  const int64_t bounds[3] = {0, 3, 5};
  ASSERT_EQ(comm->reduceScatterRowsF32(y, 2, 5, 3, bounds,
                                       RINGRT_AXIS_DIM_SLICE, 2),
            RINGRT_OK)
      << ringrt_last_error();
  EXPECT_EQ(
      takeLog(),
      (Log{"activate", "orderAfterCompute 0x5", "groupStart",
           "reduce inplace=1 offset=0 count=9 type=7 op=0 root=0 comm=3 "
           "stream=0x5",
           "reduce inplace=1 offset=15 count=9 type=7 op=0 root=0 comm=3 "
           "stream=0x5",
           "reduce inplace=1 offset=9 count=6 type=7 op=0 root=1 comm=3 "
           "stream=0x5",
           "reduce inplace=1 offset=24 count=6 type=7 op=0 root=1 comm=3 "
           "stream=0x5",
           "groupEnd", "recordEvent 0x100 stream=0x5"}));
  EXPECT_EQ(comm->barrier(), RINGRT_OK);
  EXPECT_EQ(takeLog(), Log{"control barrier"});
}

TEST_F(NcclCommTest, ShiftIsAGroupedSendToSuccessorAndRecvFromPredecessor) {
  std::unique_ptr<CommBackend> comm;
  // Ring coordinate 0 makes its own id; then shift from coordinate 0.
  ASSERT_EQ(create(ringGrid(1, 0), comm), RINGRT_OK) << ringrt_last_error();
  takeLog();
  char send[64], recv[64];
  std::unique_ptr<ringrt_request> req;
  ASSERT_EQ(comm->shiftStart(send, recv, 64, 3, 1, req), RINGRT_OK)
      << ringrt_last_error();
  EXPECT_EQ(takeLog(), (Log{"activate", "orderAfterCompute 0x5", "groupStart",
                            "send peer=1 count=64 type=0 comm=1 stream=0x5",
                            "recv peer=3 count=64 type=0 comm=1 stream=0x5",
                            "groupEnd", "recordEvent 0x100 stream=0x5"}));
  ASSERT_EQ(comm->wait(*req), RINGRT_OK) << ringrt_last_error();
  req.reset();
  // The event is reused by the next shift.
  ASSERT_EQ(comm->shiftStart(send, recv, 64, 4, 0, req), RINGRT_OK);
  EXPECT_TRUE(logHas("recordEvent 0x100 stream=0x5"));
  ASSERT_EQ(comm->wait(*req), RINGRT_OK);
}

/// Grid [a2a 2] (axis 0) at a2a coordinate `u`: the ring communicator
/// (one rank) first, then the a2a one.
GridInfo a2aGrid(int u) {
  GridInfo grid;
  grid.gridRank = 1;
  grid.shape[0] = 2;
  grid.axisOfRole[RINGRT_AXIS_RING] = -1;
  grid.axisOfRole[RINGRT_AXIS_HEAD_GROUP] = -1;
  grid.axisOfRole[RINGRT_AXIS_DIM_SLICE] = -1;
  grid.axisOfRole[RINGRT_AXIS_A2A] = 0;
  grid.worldSize = 2;
  grid.worldRank = u;
  grid.coords[0] = u;
  return grid;
}

TEST_F(NcclCommTest, AllToAllIsOneGroupOfRowSendsAndRecvsPerPeer) {
  std::unique_ptr<CommBackend> comm;
  ASSERT_EQ(create(a2aGrid(0), comm), RINGRT_OK) << ringrt_last_error();
  Log log = takeLog();
  EXPECT_NE(std::find(log.begin(), log.end(),
                      "commInitRank n=2 rank=0 id=fake-id-2"),
            log.end());
  // Sequence to heads: [2 batch, 2 heads, 2 tokens, 8 bytes] to
  // [2, 1, 4, 8]: two rows of 16 bytes to and from each peer.
  layout::A2AShape shape{2, 2, 2, 1, 4, 8};
  layout::A2ABlock sb[2], rb[2];
  for (int j = 0; j < 2; ++j) {
    sb[j] = layout::a2aSendBlock(layout::A2AMode::SeqToHeads, shape, 2, j, 0);
    rb[j] = layout::a2aRecvBlock(layout::A2AMode::SeqToHeads, shape, 2, j, 0);
  }
  char send[64], recv[64];
  ASSERT_EQ(comm->allToAll(send, recv, sb, rb, 2, 5), RINGRT_OK)
      << ringrt_last_error();
  log = takeLog();
  Log rowsOf = {"send peer=0 count=16 type=0 comm=3 stream=0x5",
                "send peer=0 count=16 type=0 comm=3 stream=0x5",
                "recv peer=0 count=16 type=0 comm=3 stream=0x5",
                "recv peer=0 count=16 type=0 comm=3 stream=0x5",
                "send peer=1 count=16 type=0 comm=3 stream=0x5",
                "send peer=1 count=16 type=0 comm=3 stream=0x5",
                "recv peer=1 count=16 type=0 comm=3 stream=0x5",
                "recv peer=1 count=16 type=0 comm=3 stream=0x5"};
  Log expect = {"activate", "orderAfterCompute 0x5", "groupStart"};
  expect.insert(expect.end(), rowsOf.begin(), rowsOf.end());
  expect.insert(expect.end(), {"groupEnd", "recordEvent 0x100 stream=0x5"});
  ASSERT_GE(log.size(), expect.size());
  EXPECT_EQ(Log(log.begin(), log.begin() + expect.size()), expect);

  // A transfer that never completes: the a2a communicator is aborted and
  // the message names the all-to-all and the peers.
  w.eventNeverCompletes = true;
  std::unique_ptr<CommBackend> slow;
  ASSERT_EQ(create(a2aGrid(0), slow, /*timeoutMs=*/50), RINGRT_OK);
  takeLog();
  EXPECT_EQ(slow->allToAll(send, recv, sb, rb, 2, 5), RINGRT_ERR_TIMEOUT);
  std::string msg = ringrt_last_error();
  EXPECT_NE(msg.find("all-to-all #5 over the a2a axis with world ranks 1"),
            std::string::npos)
      << msg;
  EXPECT_TRUE(logHas("commAbort 3"));
}

TEST_F(NcclCommTest, TimeoutAbortsAndNamesPeersAndStage) {
  std::unique_ptr<CommBackend> comm;
  // World rank 6 = head group 1, ring coordinate 2: predecessor world rank
  // 5, successor 7. Make the ring root first so rank 6 can receive its id.
  std::unique_ptr<CommBackend> root;
  ASSERT_EQ(create(ringGrid(1, 0), root), RINGRT_OK);
  ASSERT_EQ(create(ringGrid(1, 2), comm, /*timeoutMs=*/30), RINGRT_OK)
      << ringrt_last_error();
  takeLog();
  w.eventNeverCompletes = true;
  char send[64], recv[64];
  std::unique_ptr<ringrt_request> req;
  ASSERT_EQ(comm->shiftStart(send, recv, 64, 3, 1, req), RINGRT_OK);
  EXPECT_TRUE(logHas("send peer=3 count=64 type=0 comm=1 stream=0x5"));
  EXPECT_TRUE(logHas("recv peer=1 count=64 type=0 comm=1 stream=0x5"));
  takeLog();
  EXPECT_EQ(comm->wait(*req), RINGRT_ERR_TIMEOUT);
  std::string msg = ringrt_last_error();
  for (const char *part :
       {"world rank 6 timed out after 30 ms", "ring shift of stage 3", "tag 1",
        "64 bytes", "receive from world rank 5 (ring predecessor)",
        "send to world rank 7 (ring successor)",
        "the NCCL ring communicator was aborted"})
    EXPECT_NE(msg.find(part), std::string::npos) << part << " in: " << msg;
  EXPECT_EQ(takeLog(), Log{"commAbort 1"});
  req.reset();

  // The aborted communicator is never used again, nor destroyed twice.
  EXPECT_EQ(comm->shiftStart(send, recv, 64, 4, 0, req), RINGRT_ERR_COMM);
  EXPECT_NE(std::string(ringrt_last_error())
                .find("aborted after a failure at stage 3"),
            std::string::npos)
      << ringrt_last_error();
  EXPECT_TRUE(takeLog().empty());
  comm.reset();
  EXPECT_EQ(takeLog(), (Log{"activate", "destroyStream 0x5"}));
}

TEST_F(NcclCommTest, AsyncErrorAbortsWithNcclsMessage) {
  std::unique_ptr<CommBackend> comm;
  ASSERT_EQ(create(ringGrid(0, 0), comm), RINGRT_OK);
  w.eventNeverCompletes = true;
  w.asyncErrorAfterPolls = 3;
  char send[8], recv[8];
  std::unique_ptr<ringrt_request> req;
  ASSERT_EQ(comm->shiftStart(send, recv, 8, 2, 0, req), RINGRT_OK);
  takeLog();
  EXPECT_EQ(comm->wait(*req), RINGRT_ERR_COMM);
  std::string msg = ringrt_last_error();
  EXPECT_NE(msg.find("ring shift of stage 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("remote process exited"), std::string::npos) << msg;
  EXPECT_EQ(takeLog(), Log{"commAbort 1"});
}

TEST_F(NcclCommTest, AFailureOnAnotherRankFailsCreationHere) {
  // Another rank could not make its stream: nobody creates communicators.
  w.peersFailing = 1;
  std::unique_ptr<CommBackend> comm;
  EXPECT_EQ(create(ringGrid(0, 0), comm), RINGRT_ERR_COMM);
  EXPECT_EQ(comm, nullptr);
  EXPECT_NE(std::string(ringrt_last_error())
                .find("1 rank(s) failed while creating the NCCL "
                      "communication stream"),
            std::string::npos)
      << ringrt_last_error();
  for (const std::string &l : w.log)
    EXPECT_EQ(l.find("commInitRank"), std::string::npos) << l;
  EXPECT_TRUE(logHas("destroyStream 0x5"));
}

TEST_F(NcclCommTest, InitFailureIsReportedWithNcclsMessage) {
  w.initResult = nccl::InvalidUsage;
  std::unique_ptr<CommBackend> comm;
  EXPECT_EQ(create(ringGrid(0, 0), comm), RINGRT_ERR_COMM);
  EXPECT_NE(std::string(ringrt_last_error())
                .find("ncclCommInitRank for the ring axis (4 ranks, rank 0) "
                      "failed: fake error"),
            std::string::npos)
      << ringrt_last_error();
  // The failing rank still joins the agreement, so its peers do not hang.
  Log l = takeLog();
  auto it =
      std::find(l.begin(), l.end(), "commInitRank n=4 rank=0 id=fake-id-1");
  ASSERT_NE(it, l.end());
  EXPECT_EQ(Log(it + 1, l.end()), (Log{"control allreduce role=0 count=1",
                                       "control allreduce role=1 count=1",
                                       "activate", "destroyStream 0x5"}));
}

TEST_F(NcclCommTest, InitThatNeverReturnsTimesOutAndAbortsTheLateComm) {
  // A peer froze after the id broadcast: ncclCommInitRank would block for
  // ever. Creation fails after the timeout, naming the axis, and the
  // communicator NCCL hands back later is aborted, never leaked or used.
  w.initBlocks = true;
  std::unique_ptr<CommBackend> comm;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(create(ringGrid(0, 0), comm, /*timeoutMs=*/50), RINGRT_ERR_TIMEOUT);
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(comm, nullptr);
  EXPECT_GE(waited, std::chrono::milliseconds(50));
  std::string msg = ringrt_last_error();
  EXPECT_NE(msg.find("ncclCommInitRank for the ring axis (4 ranks, rank 0) "
                     "did not return within 50 ms"),
            std::string::npos)
      << msg;
  EXPECT_FALSE(logHas("commDestroy 7"));
  EXPECT_FALSE(w.lateAborted.load());
  // The stuck call returns at last: its communicator is aborted.
  w.releaseInit.store(true);
  for (int i = 0; i < 10000 && !w.lateAborted.load(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(w.lateAborted.load());
}

/// Device "cuda" over the fake driver and comm "nccl" over the fake NCCL,
/// sharing the device's StreamProvider as Context.cpp wires them; driver and
/// NCCL calls go to one log.
class CudaNcclTest : public NcclCommTest {
protected:
  void SetUp() override {
    NcclCommTest::SetUp();
    cuda.log = &w.log;
    fake::fakeCuda = &cuda;
  }
  void TearDown() override {
    ringrt_context_destroy(ctx);
    fake::fakeCuda = nullptr;
    NcclCommTest::TearDown();
  }
  /// World rank 4, ring coordinate 0 of 4: successor world rank 5,
  /// predecessor world rank 7.
  ringrt_status makeContext(int64_t timeoutMs) {
    ctx = new ringrt_context();
    ctx->grid = ringGrid(1, 0);
    ctx->timeoutMs = timeoutMs;
    ctx->device = "cuda";
    if (ringrt_status st = createCudaDeviceWithDriver(fake::fakeCudaDriver(),
                                                      ctx->deviceBackend))
      return st;
    return createNcclCommFromParts(
        ctx->grid, timeoutMs, fakeApi(), ctx->deviceBackend->streamProvider(),
        std::make_unique<FakeControl>(ctx->grid), ctx->comm);
  }

  fake::FakeCuda cuda;
  ringrt_context *ctx = nullptr;
};

TEST_F(CudaNcclTest, ShiftsUseTheProviderAndOverlapCompute) {
  ASSERT_EQ(makeContext(20000), RINGRT_OK) << ringrt_last_error();
  // Device: compute stream s1, staging stream s2; NCCL's own stream s3.
  EXPECT_TRUE(logHas("cuStreamCreate s3 flags=1"));
  EXPECT_FALSE(shiftNeedsHostStaging(ctx));
  takeLog();
  ASSERT_EQ(fake::runRingProgram(ctx, w.log, 3, 64), RINGRT_OK)
      << ringrt_last_error();
  Log l = takeLog();
  EXPECT_EQ(fake::checkOverlapOrdering(l, "s3", {"send peer", "recv peer"},
                                       {"send peer", "recv peer"}),
            Log{});
  for (const std::string &line : l)
    EXPECT_EQ(line.find("cuMemcpy"), std::string::npos) << line;
  // The first shift: s3 waits on the compute event, NCCL gets device
  // pointers on s3, its event is recorded there; "attn" runs meanwhile;
  // the wait polls the event and makes s1 wait on it.
  Log first(l.begin(), l.begin() + 11);
  EXPECT_EQ(first, (Log{"cuLaunchKernel init s1",
                        "--- shift_start stage=1",
                        "cuEventCreate e2 flags=2",
                        "cuEventRecord e1 s1",
                        "cuStreamWaitEvent s3 e1",
                        "groupStart",
                        "send peer=1 count=64 type=0 comm=1 stream=0x3",
                        "recv peer=3 count=64 type=0 comm=1 stream=0x3",
                        "groupEnd",
                        "cuEventRecord e2 s3",
                        "cuLaunchKernel attn s1"}))
      << ::testing::PrintToString(l);
  EXPECT_EQ(Log(l.begin() + 11, l.begin() + 13),
            (Log{"--- shift_wait stage=1", "cuStreamWaitEvent s1 e2"}));

  // Teardown: the device goes first; NCCL's stream and the primary context
  // outlive it through the provider.
  ringrt_context_destroy(ctx);
  ctx = nullptr;
  Log down = takeLog();
  ASSERT_FALSE(down.empty());
  EXPECT_EQ(down.back(), "cuDevicePrimaryCtxRelease");
  auto nccl = std::find(down.begin(), down.end(), "commDestroy 1");
  auto s3 = std::find(down.begin(), down.end(), "cuStreamDestroy s3");
  auto s1 = std::find(down.begin(), down.end(), "cuStreamDestroy s1");
  EXPECT_TRUE(nccl < s3 && s3 < s1 && s1 != down.end())
      << ::testing::PrintToString(down);
}

TEST_F(CudaNcclTest, ACapturedCallOnlyOrdersTheStreamsOnTheDevice) {
  ASSERT_EQ(makeContext(50), RINGRT_OK) << ringrt_last_error();
  void *mine = nullptr; // s4: the caller's stream
  ASSERT_EQ(ctx->deviceBackend->streamProvider()->createStream(&mine),
            RINGRT_OK);
  // One call outside the capture loads the kernels, allocates the
  // workspace and the events.
  ASSERT_EQ(fake::runEntryProgram(ctx, w.log, 3, 64, mine), RINGRT_OK)
      << ringrt_last_error();
  fake::FakeCuda before = cuda;
  int polls = w.asyncPolls;
  // Transfers that never complete change nothing: a captured call runs
  // nothing, so it has nothing to wait for and nothing can time out.
  cuda.eventsNeverComplete = true;
  takeLog();
  cuda.beginCapture(4);
  ASSERT_EQ(fake::runEntryProgram(ctx, w.log, 3, 64, mine), RINGRT_OK)
      << ringrt_last_error();
  EXPECT_EQ(cuda.endCapture(4), 0) << ::testing::PrintToString(w.log);
  Log l = takeLog();
  // No host wait (no event query or synchronize, no NCCL error polling),
  // no allocation or free, no abort; the capture was never invalidated.
  EXPECT_EQ(cuda.eventQueries, before.eventQueries);
  EXPECT_EQ(w.asyncPolls, polls);
  EXPECT_EQ(cuda.memAllocs, before.memAllocs);
  EXPECT_EQ(cuda.memFrees, before.memFrees);
  EXPECT_EQ(cuda.memAllocHosts, before.memAllocHosts);
  EXPECT_EQ(cuda.memFreeHosts, before.memFreeHosts);
  for (const std::string &line : l) {
    EXPECT_NE(line[0], '!') << line;
    EXPECT_EQ(line.find("Synchronize"), std::string::npos) << line;
    EXPECT_EQ(line.find("commAbort"), std::string::npos) << line;
    EXPECT_EQ(line.find("cuEventCreate"), std::string::npos) << line;
    // The own stream s1 and the staging stream s2 stay out of the capture.
    EXPECT_EQ(line.find(" s1"), std::string::npos) << line;
    EXPECT_EQ(line.find(" s2"), std::string::npos) << line;
  }
  // The device-side order: NCCL's stream s3 waits for the kernels queued
  // on s4, its transfer's event is recorded on s3, and s4 waits on it
  // before the kernels that read the received block.
  auto wait = std::find(l.begin(), l.end(), "--- shift_wait stage=1");
  ASSERT_NE(wait, l.end());
  EXPECT_EQ(Log(l.begin(), wait + 2),
            (Log{"cuStreamBeginCapture s4", "--- begin",
                 "cuLaunchKernel init s4", "--- shift_start stage=1",
                 "cuEventRecord e1 s4", "cuStreamWaitEvent s3 e1",
                 "groupStart",
                 "send peer=1 count=64 type=0 comm=1 stream=0x3",
                 "recv peer=3 count=64 type=0 comm=1 stream=0x3",
                 "groupEnd", "cuEventRecord e2 s3", "cuLaunchKernel attn s4",
                 "--- shift_wait stage=1", "cuStreamWaitEvent s4 e2"}))
      << ::testing::PrintToString(l);
  EXPECT_EQ(Log(l.end() - 3, l.end()),
            (Log{"cuLaunchKernel finalize s4", "--- end",
                 "cuStreamEndCapture s4"}))
      << ::testing::PrintToString(l);
  // Outside the capture the context works as before.
  cuda.eventsNeverComplete = false;
  EXPECT_EQ(fake::runEntryProgram(ctx, w.log, 3, 64, mine), RINGRT_OK)
      << ringrt_last_error();
  ctx->deviceBackend->streamProvider()->destroyStream(mine);
}

TEST_F(CudaNcclTest, CapturingTheFirstCallSaysToRunOneOutsideFirst) {
  ASSERT_EQ(makeContext(20000), RINGRT_OK) << ringrt_last_error();
  void *mine = nullptr;
  ASSERT_EQ(ctx->deviceBackend->streamProvider()->createStream(&mine),
            RINGRT_OK);
  cuda.beginCapture(4);
  EXPECT_EQ(fake::runEntryProgram(ctx, w.log, 3, 64, mine),
            RINGRT_ERR_DEVICE);
  std::string err = ringrt_last_error();
  EXPECT_NE(err.find("cuMemAlloc failed"), std::string::npos) << err;
  EXPECT_NE(err.find("after one call outside the capture"), std::string::npos)
      << err;
  cuda.endCapture(4);
  ctx->deviceBackend->streamProvider()->destroyStream(mine);
}

TEST_F(CudaNcclTest, TimeoutNamesPeerAndStageAndQueuesNoComputeWait) {
  ASSERT_EQ(makeContext(50), RINGRT_OK) << ringrt_last_error();
  cuda.eventsNeverComplete = true;
  takeLog();
  EXPECT_EQ(fake::runRingProgram(ctx, w.log, 2, 64), RINGRT_ERR_TIMEOUT);
  std::string err = ringrt_last_error();
  EXPECT_NE(err.find("world rank 4 timed out after 50 ms in the ring shift "
                     "of stage 1"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("receive from world rank 7 (ring predecessor) and "
                     "send to world rank 5 (ring successor)"),
            std::string::npos)
      << err;
  Log l = takeLog();
  auto wait = std::find(l.begin(), l.end(), "--- shift_wait stage=1");
  ASSERT_NE(wait, l.end());
  EXPECT_EQ(Log(wait, l.end()),
            (Log{"--- shift_wait stage=1", "commAbort 1", "--- synchronize",
                 "cuStreamSynchronize s1", "cuStreamSynchronize s2"}));
}

} // namespace
