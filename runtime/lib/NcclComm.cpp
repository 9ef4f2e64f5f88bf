//===- NcclComm.cpp - NCCL communicator backend -----------------*- C++ -*-===//
//
// This file implements the NCCL communicator backend (comm "nccl"): loading
// libnccl.so.2 with dlopen, creating one NCCL communicator per role axis
// from unique ids broadcast over the MPI control plane, ring shifts as a
// grouped ncclSend/ncclRecv and the slice all-reduce as ncclAllReduce on a
// dedicated communication stream, and timed completion by polling an event
// while watching ncclCommGetAsyncError. A timeout or an asynchronous error
// aborts the communicator (ncclCommAbort), since NCCL cannot cancel one
// operation, and its message names the peers and the stage like the MPI
// backend's.
//
//===----------------------------------------------------------------------===//

#include "NcclComm.h"
#include "Context.h"
#include "Error.h"

#include <dlfcn.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <system_error>
#include <sched.h>
#include <thread>
#include <type_traits>
#include <vector>

using namespace ringrt;

namespace {

using Clock = std::chrono::steady_clock;

/// Events of in-flight requests, reused across operations. Requests share
/// ownership, so a request freed after its context is still safe.
struct EventPool {
  explicit EventPool(std::shared_ptr<StreamProvider> streams)
      : streams(std::move(streams)) {}
  ~EventPool() {
    for (void *e : free)
      streams->destroyEvent(e);
  }
  ringrt_status get(void *&event) {
    if (!free.empty()) {
      event = free.back();
      free.pop_back();
      return RINGRT_OK;
    }
    return streams->createEvent(&event);
  }
  void put(void *event) { free.push_back(event); }

  std::shared_ptr<StreamProvider> streams;
  std::vector<void *> free;
};

/// An in-flight ring shift: the event recorded after its grouped
/// send/receive on the communication stream.
struct NcclShift : ringrt_request {
  ~NcclShift() override {
    if (event)
      pool->put(event);
  }
  std::shared_ptr<EventPool> pool;
  void *event = nullptr;
  int32_t stage = 0, tag = 0;
  int64_t bytes = 0;
  int64_t succ = 0, pred = 0; // world ranks
};

/// Returns an event to its pool when it goes out of scope.
struct PooledEvent {
  PooledEvent(std::shared_ptr<EventPool> pool) : pool(std::move(pool)) {}
  ~PooledEvent() {
    if (event)
      pool->put(event);
  }
  std::shared_ptr<EventPool> pool;
  void *event = nullptr;
};

/// The state an ncclCommInitRank call shares with the rank that waits for
/// it (see initRankWithDeadline).
struct PendingInit {
  std::mutex mutex;
  std::condition_variable done;
  bool finished = false;
  bool abandoned = false;
  nccl::Result result = nccl::InternalError;
  nccl::Comm comm = nullptr;
};

/// Calls api.commInitRank(n, id, rank) but waits at most `timeoutMs` for it.
/// ncclCommInitRank blocks until every peer of the communicator has joined,
/// and it has no timeout of its own: a peer that dies or freezes between
/// the id broadcast and its own call would hang this rank for ever. The
/// non-blocking alternative (ncclCommInitRankConfig with blocking = 0, then
/// polling ncclCommGetAsyncError) needs ncclConfig_t, a struct whose layout
/// changes between NCCL versions and that ringrt would have to mirror by
/// hand without nccl.h (see NcclApi.h), so the call runs on a helper thread
/// instead. On time-out the thread is abandoned: if NCCL returns later it
/// aborts the communicator it got (the library stays mapped, RTLD_NODELETE),
/// and the caller fails context creation with RINGRT_ERR_TIMEOUT.
ringrt_status initRankWithDeadline(const NcclApi &api, int n,
                                   const nccl::UniqueId &id, int rank,
                                   int64_t timeoutMs, nccl::Comm &comm,
                                   nccl::Result &result) {
  auto pending = std::make_shared<PendingInit>();
  try {
    std::thread([api, n, id, rank, pending] {
      nccl::Comm c = nullptr;
      nccl::Result r = api.commInitRank(&c, n, id, rank);
      std::lock_guard<std::mutex> lock(pending->mutex);
      if (pending->abandoned) {
        if (r == nccl::Success && c)
          api.commAbort(c);
        return;
      }
      pending->finished = true;
      pending->result = r;
      pending->comm = c;
      pending->done.notify_all();
    }).detach();
  } catch (const std::system_error &e) {
    return setErrorf(RINGRT_ERR_COMM,
                     "ringrt_context_create: comm 'nccl': cannot start the "
                     "thread that calls ncclCommInitRank: %s",
                     e.what());
  }
  std::unique_lock<std::mutex> lock(pending->mutex);
  if (!pending->done.wait_for(lock, std::chrono::milliseconds(timeoutMs),
                              [&] { return pending->finished; })) {
    pending->abandoned = true;
    return RINGRT_ERR_TIMEOUT;
  }
  comm = pending->comm;
  result = pending->result;
  return RINGRT_OK;
}

/// The payload a role's root broadcasts: its ncclGetUniqueId outcome and id.
struct IdPayload {
  int32_t result;
  nccl::UniqueId id;
};

class NcclComm final : public CommBackend {
public:
  NcclComm(const GridInfo &grid, int64_t timeoutMs, NcclApi api,
           std::shared_ptr<StreamProvider> streams,
           std::unique_ptr<CommBackend> control)
      : grid(grid), timeoutMs(timeoutMs), api(api), streams(std::move(streams)),
        control(std::move(control)) {}
  ~NcclComm() override;

  ringrt_status init();

  ringrt_status shiftStart(const void *send, void *recv, int64_t bytes,
                           int32_t stage, int32_t tag,
                           std::unique_ptr<ringrt_request> &out) override {
    return shiftStartDir(send, recv, bytes, stage, tag, 1, out);
  }
  ringrt_status shiftStartDir(const void *send, void *recv, int64_t bytes,
                              int32_t stage, int32_t tag, int32_t direction,
                              std::unique_ptr<ringrt_request> &out) override;
  ringrt_status wait(ringrt_request &req) override;
  ringrt_status allreduceSumF32(float *buf, int64_t count, int role,
                                int32_t stage) override;
  ringrt_status reduceScatterRowsF32(float *buf, int64_t batch, int64_t rows,
                                     int64_t cols, const int64_t *bounds,
                                     int role, int32_t stage) override;
  ringrt_status allToAll(const void *send, void *recv,
                         const layout::A2ABlock *sendBlocks,
                         const layout::A2ABlock *recvBlocks, int64_t U,
                         int32_t id) override;
  ringrt_status barrier() override { return control->barrier(); }
  bool takesDevicePointers() const override { return true; }
  ringrt_status broadcastBytes(void *buf, int64_t bytes, int role,
                               int64_t root) override {
    return control->broadcastBytes(buf, bytes, role, root);
  }

private:
  /// Every rank contributes whether `local` failed; the sum over every role
  /// axis of the control plane is the number of failed world ranks.
  ringrt_status agree(ringrt_status local, const char *what);
  /// Creates the NCCL communicator of the axis playing `role`.
  ringrt_status initRole(int role);
  /// Polls `event` until done, an asynchronous error of `role`'s
  /// communicator, a device error (message set) or the timeout. Sets
  /// `asyncError` for RINGRT_ERR_COMM.
  ringrt_status poll(void *event, int role, nccl::Result &asyncError);
  /// Aborts `role`'s communicator after a failure at `stage`.
  void abortRole(int role, int32_t stage);
  /// Starts an operation on the communication stream: makes the device
  /// current, takes `event` from the pool and orders the stream after the
  /// compute enqueued so far. Errors are prefixed with `fn` and
  /// formatv(labelFmt, label), e.g. "fn: stage 3" or "fn #2".
  ringrt_status beginOperation(void *&event, const char *fn,
                               const char *labelFmt, int32_t label);
  /// Completes an operation whose `event` is recorded: polls it and orders
  /// compute after it. On a timeout or an asynchronous NCCL error aborts
  /// `role`'s communicator (as of `label`) and fails with "fn: world rank R
  /// timed out after T ms|failed <what()><timeoutTail>; ..." naming the
  /// cause; `what` runs only then. Other errors are prefixed as above.
  template <typename What>
  ringrt_status finishOperation(void *event, int role, const char *fn,
                                const char *labelFmt, int32_t label,
                                What what, const char *timeoutTail = "");
  /// Records `event` after a collective enqueued on the communication
  /// stream, then finishOperation (same arguments).
  template <typename What>
  ringrt_status recordAndFinish(void *event, int role, const char *fn,
                                const char *labelFmt, int32_t label, What what);
  /// Issues `calls` (which set `what` to the NCCL call they make and return
  /// its result) between ncclGroupStart and ncclGroupEnd. Returns the first
  /// failure, with `what` naming its call; ncclGroupEnd runs whenever the
  /// group started.
  template <typename Calls>
  nccl::Result inGroup(const char *&what, Calls calls);
  /// Fails if `role`'s communicator was aborted or never made.
  ringrt_status checkUsable(int role, const char *fn, int32_t stage);
  std::string ncclMessage(nccl::Result r) const;
  std::string peersOf(int role) const;

  GridInfo grid;
  int64_t timeoutMs;
  NcclApi api;
  std::shared_ptr<StreamProvider> streams;
  std::unique_ptr<CommBackend> control;
  std::shared_ptr<EventPool> events;
  void *stream = nullptr;
  nccl::Comm comms[kNumRoles] = {nullptr, nullptr, nullptr, nullptr};
  int32_t abortedAt[kNumRoles] = {-1, -1, -1, -1};
};

NcclComm::~NcclComm() {
  if (streams)
    (void)streams->activate();
  for (nccl::Comm &c : comms)
    if (c) {
      api.commDestroy(c);
      c = nullptr;
    }
  events.reset();
  if (stream)
    streams->destroyStream(stream);
  unloadNcclApi(api);
}

std::string NcclComm::ncclMessage(nccl::Result r) const {
  const char *s = api.getErrorString ? api.getErrorString(r) : nullptr;
  return formatv("%s (ncclResult_t %d)", s ? s : "unknown NCCL error",
                 static_cast<int>(r));
}

std::string NcclComm::peersOf(int role) const {
  std::string peers;
  for (int64_t c = 0, n = grid.roleSize(role); c < n; ++c)
    if (grid.worldRankAlong(role, c) != grid.worldRank)
      peers += formatv("%s%lld", peers.empty() ? "" : ",",
                       static_cast<long long>(grid.worldRankAlong(role, c)));
  return peers;
}

ringrt_status NcclComm::agree(ringrt_status local, const char *what) {
  std::string mine = local != RINGRT_OK ? lastError() : std::string();
  float failed = local != RINGRT_OK ? 1.0f : 0.0f;
  for (int role = 0; role < kNumRoles; ++role) {
    if (grid.roleSize(role) == 1)
      continue;
    ringrt_status st = control->allreduceSumF32(&failed, 1, role, 0);
    if (st != RINGRT_OK)
      return local != RINGRT_OK
                 ? setError(local, mine + "; also: " + lastError())
                 : st;
  }
  if (local != RINGRT_OK)
    return setError(local, mine);
  if (failed > 0.0f)
    return setErrorf(RINGRT_ERR_COMM,
                     "ringrt_context_create: comm 'nccl': %lld rank(s) "
                     "failed while %s (world rank %lld did not); see their "
                     "messages",
                     static_cast<long long>(failed), what,
                     static_cast<long long>(grid.worldRank));
  return RINGRT_OK;
}

ringrt_status NcclComm::initRole(int role) {
  int64_t n = grid.roleSize(role), c = grid.roleCoord(role);
  IdPayload payload;
  std::memset(&payload, 0, sizeof(payload));
  if (c == 0)
    payload.result = api.getUniqueId(&payload.id);
  if (n > 1) {
    ringrt_status st =
        control->broadcastBytes(&payload, sizeof(payload), role, 0);
    if (st == RINGRT_ERR_UNSUPPORTED && lastError().empty())
      return setError(st, "ringrt_context_create: comm 'nccl': the control "
                          "plane cannot broadcast NCCL unique ids");
    if (st != RINGRT_OK)
      return setErrorf(st,
                       "ringrt_context_create: comm 'nccl': sending the "
                       "NCCL unique id of the %s axis: %s",
                       kRoleNames[role], lastError().c_str());
  }
  if (payload.result != nccl::Success)
    return setErrorf(
        RINGRT_ERR_COMM,
        "ringrt_context_create: comm 'nccl': ncclGetUniqueId "
        "failed on world rank %lld (coordinate 0 of the %s "
        "axis): %s",
        static_cast<long long>(grid.worldRankAlong(role, 0)), kRoleNames[role],
        ncclMessage(static_cast<nccl::Result>(payload.result)).c_str());
  nccl::Result r = nccl::InternalError;
  ringrt_status waited =
      initRankWithDeadline(api, static_cast<int>(n), payload.id,
                           static_cast<int>(c), timeoutMs, comms[role], r);
  if (waited != RINGRT_OK)
    comms[role] = nullptr;
  if (waited != RINGRT_OK && waited != RINGRT_ERR_TIMEOUT)
    return waited;
  if (waited == RINGRT_ERR_TIMEOUT) {
    return setErrorf(
        RINGRT_ERR_TIMEOUT,
        "ringrt_context_create: comm 'nccl': world rank %lld: "
        "ncclCommInitRank for the %s axis (%lld ranks, rank %lld) did not "
        "return within %lld ms (RINGRT_TIMEOUT_MS): a peer of that axis died, "
        "froze or never called it",
        static_cast<long long>(grid.worldRank), kRoleNames[role],
        static_cast<long long>(n), static_cast<long long>(c),
        static_cast<long long>(timeoutMs));
  }
  if (r != nccl::Success) {
    comms[role] = nullptr;
    return setErrorf(RINGRT_ERR_COMM,
                     "ringrt_context_create: comm 'nccl': world rank %lld: "
                     "ncclCommInitRank for the %s axis (%lld ranks, rank "
                     "%lld) failed: %s",
                     static_cast<long long>(grid.worldRank), kRoleNames[role],
                     static_cast<long long>(n), static_cast<long long>(c),
                     ncclMessage(r).c_str());
  }
  return RINGRT_OK;
}

ringrt_status NcclComm::init() {
  events = std::make_shared<EventPool>(streams);
  ringrt_status st = streams->activate();
  if (st == RINGRT_OK)
    st = streams->createStream(&stream);
  st = agree(st, "creating the NCCL communication stream");
  if (st != RINGRT_OK)
    return st;
  // The ring communicator always exists (a one-rank ring shift is a device
  // copy that NCCL does as a send to self); the slice one only when there is
  // something to reduce. The order is the same on every rank.
  const int roles[3] = {RINGRT_AXIS_RING, RINGRT_AXIS_DIM_SLICE,
                        RINGRT_AXIS_A2A};
  for (int role : roles) {
    if (role != RINGRT_AXIS_RING && grid.roleSize(role) == 1)
      continue;
    st = agree(initRole(role), role == RINGRT_AXIS_RING
                                   ? "creating the NCCL ring communicator"
                               : role == RINGRT_AXIS_A2A
                                   ? "creating the NCCL a2a communicator"
                                   : "creating the NCCL dim_slice "
                                     "communicator");
    if (st != RINGRT_OK)
      return st;
  }
  return RINGRT_OK;
}

void NcclComm::abortRole(int role, int32_t stage) {
  if (comms[role])
    api.commAbort(comms[role]);
  comms[role] = nullptr;
  abortedAt[role] = stage;
}

ringrt_status NcclComm::beginOperation(void *&event, const char *fn,
                                       const char *labelFmt, int32_t label) {
  ringrt_status st;
  if ((st = streams->activate()) != RINGRT_OK ||
      (st = events->get(event)) != RINGRT_OK ||
      (st = streams->orderAfterCompute(stream)) != RINGRT_OK)
    return setErrorf(st, "%s%s: %s", fn, formatv(labelFmt, label).c_str(),
                     lastError().c_str());
  return RINGRT_OK;
}

template <typename What>
ringrt_status NcclComm::finishOperation(void *event, int role, const char *fn,
                                        const char *labelFmt, int32_t label,
                                        What what, const char *timeoutTail) {
  nccl::Result async = nccl::Success;
  // Captured into a CUDA graph, the operation has not run: it runs at each
  // replay of the graph. Its event cannot be queried (it is a captured
  // event), and the host has nothing to wait for, so there is no polling,
  // no time-out and no abort here; only the device-side order below.
  ringrt_status st =
      streams->capturing() ? RINGRT_OK : poll(event, role, async);
  // Kernels enqueued from now on read what the operation wrote: the compute
  // stream waits on its event (the host already knows it is done, unless
  // captured; the device-side wait orders the streams).
  if (st == RINGRT_OK && (st = streams->orderComputeAfter(event)) != RINGRT_OK)
    return setErrorf(st, "%s%s: %s", fn, formatv(labelFmt, label).c_str(),
                     lastError().c_str());
  if (st == RINGRT_OK)
    return st;
  if (st != RINGRT_ERR_TIMEOUT && st != RINGRT_ERR_COMM)
    return setErrorf(st, "%s%s: %s", fn, formatv(labelFmt, label).c_str(),
                     lastError().c_str());
  abortRole(role, label);
  std::string where = formatv(
      "world rank %lld %s %s", static_cast<long long>(grid.worldRank),
      st == RINGRT_ERR_TIMEOUT ? formatv("timed out after %lld ms",
                                         static_cast<long long>(timeoutMs))
                                     .c_str()
                               : "failed",
      std::string(what()).c_str());
  if (st == RINGRT_ERR_TIMEOUT)
    return setErrorf(st, "%s: %s%s; the NCCL %s communicator was aborted", fn,
                     where.c_str(), timeoutTail, kRoleNames[role]);
  return setErrorf(st,
                   "%s: %s: NCCL reported an asynchronous error: %s; the "
                   "NCCL %s communicator was aborted",
                   fn, where.c_str(), ncclMessage(async).c_str(),
                   kRoleNames[role]);
}

template <typename What>
ringrt_status NcclComm::recordAndFinish(void *event, int role, const char *fn,
                                        const char *labelFmt, int32_t label,
                                        What what) {
  if (ringrt_status st = streams->recordEvent(event, stream); st != RINGRT_OK)
    return setErrorf(st, "%s%s: %s", fn, formatv(labelFmt, label).c_str(),
                     lastError().c_str());
  return finishOperation(event, role, fn, labelFmt, label, what);
}

template <typename Calls>
nccl::Result NcclComm::inGroup(const char *&what, Calls calls) {
  what = "ncclGroupStart";
  nccl::Result r = api.groupStart();
  if (r != nccl::Success)
    return r;
  r = calls();
  nccl::Result re = api.groupEnd();
  if (r == nccl::Success) {
    r = re;
    what = "ncclGroupEnd";
  }
  return r;
}

ringrt_status NcclComm::checkUsable(int role, const char *fn, int32_t stage) {
  if (comms[role])
    return RINGRT_OK;
  if (abortedAt[role] >= 0)
    return setErrorf(RINGRT_ERR_COMM,
                     "%s: stage %d: the NCCL %s communicator of world rank "
                     "%lld was aborted after a failure at stage %d; create a "
                     "new context",
                     fn, stage, kRoleNames[role],
                     static_cast<long long>(grid.worldRank), abortedAt[role]);
  return setErrorf(RINGRT_ERR_UNSUPPORTED,
                   "%s: stage %d: comm 'nccl' has no communicator for the %s "
                   "axis (it has the ring axis, and the dim_slice and a2a "
                   "axes when they have more than one rank)",
                   fn, stage, kRoleNames[role]);
}

ringrt_status NcclComm::poll(void *event, int role, nccl::Result &asyncError) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
  for (int64_t polls = 0;; ++polls) {
    bool done = false;
    ringrt_status st = streams->queryEvent(event, done);
    if (st != RINGRT_OK)
      return st;
    if (done)
      return RINGRT_OK;
    asyncError = nccl::Success;
    if (api.commGetAsyncError(comms[role], &asyncError) != nccl::Success)
      asyncError = nccl::InternalError;
    if (asyncError != nccl::Success && asyncError != nccl::InProgress)
      return RINGRT_ERR_COMM;
    if (Clock::now() >= deadline)
      return RINGRT_ERR_TIMEOUT;
    if (polls < 1000)
      sched_yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

ringrt_status NcclComm::shiftStartDir(const void *send, void *recv,
                                      int64_t bytes, int32_t stage,
                                      int32_t tag, int32_t direction,
                                      std::unique_ptr<ringrt_request> &out) {
  const int ring = RINGRT_AXIS_RING;
  ringrt_status st = checkUsable(ring, "ringrt_shift_start", stage);
  if (st != RINGRT_OK)
    return st;
  auto req = std::make_unique<NcclShift>();
  req->pool = events;
  req->stage = stage;
  req->tag = tag;
  req->bytes = bytes;
  int64_t P = grid.roleSize(ring), p = grid.roleCoord(ring);
  // Backward (direction −1): to the predecessor, from the successor.
  int64_t step = direction < 0 ? P - 1 : 1;
  int succ = static_cast<int>((p + step) % P);
  int pred = static_cast<int>((p + P - step) % P);
  req->succ = grid.worldRankAlong(ring, succ);
  req->pred = grid.worldRankAlong(ring, pred);

  if ((st = beginOperation(req->event, "ringrt_shift_start", ": stage %d",
                           stage)) != RINGRT_OK)
    return st;

  // NCCL matches sends and receives between two peers by issue order, not
  // by tag: every rank issues its shifts in the schedule's order on one
  // stream, so the order agrees. The group lets the send and the receive
  // progress together (a ring of blocking sends would deadlock).
  auto count = static_cast<std::size_t>(bytes);
  auto s = static_cast<nccl::Stream>(stream);
  nccl::Result r = api.groupStart();
  const char *what = "ncclGroupStart";
  if (r == nccl::Success) {
    nccl::Result rs = api.send(send, count, nccl::Int8, succ, comms[ring], s);
    nccl::Result rr = rs == nccl::Success ? api.recv(recv, count, nccl::Int8,
                                                     pred, comms[ring], s)
                                          : nccl::Success;
    nccl::Result re = api.groupEnd();
    r = rs != nccl::Success ? rs : rr != nccl::Success ? rr : re;
    what = rs != nccl::Success   ? "ncclSend"
           : rr != nccl::Success ? "ncclRecv"
                                 : "ncclGroupEnd";
  }
  if (r != nccl::Success && r != nccl::InProgress)
    return setErrorf(RINGRT_ERR_COMM,
                     "ringrt_shift_start: stage %d: %s (send to world rank "
                     "%lld, receive from world rank %lld, %lld bytes) "
                     "failed: %s",
                     stage, what, static_cast<long long>(req->succ),
                     static_cast<long long>(req->pred),
                     static_cast<long long>(bytes), ncclMessage(r).c_str());
  if ((st = streams->recordEvent(req->event, stream)) != RINGRT_OK)
    return setErrorf(st, "ringrt_shift_start: stage %d: %s", stage,
                     lastError().c_str());
  out = std::move(req);
  return RINGRT_OK;
}

ringrt_status NcclComm::wait(ringrt_request &base) {
  auto &req = static_cast<NcclShift &>(base);
  const int ring = RINGRT_AXIS_RING;
  ringrt_status st = checkUsable(ring, "ringrt_wait", req.stage);
  if (st != RINGRT_OK)
    return st;
  return finishOperation(
      req.event, ring, "ringrt_wait", ": stage %d", req.stage,
      [&] {
        return formatv(
            "in the ring shift of stage %d (tag %d, %lld bytes): the grouped "
            "NCCL receive from world rank %lld (ring predecessor) and send to "
            "world rank %lld (ring successor)",
            req.stage, req.tag, static_cast<long long>(req.bytes),
            static_cast<long long>(req.pred), static_cast<long long>(req.succ));
      },
      " did not complete");
}

ringrt_status NcclComm::allreduceSumF32(float *buf, int64_t count, int role,
                                        int32_t stage) {
  const char *fn = "ringrt_allreduce_sum_f32";
  ringrt_status st = checkUsable(role, fn, stage);
  if (st != RINGRT_OK)
    return st;
  PooledEvent event(events);
  if ((st = beginOperation(event.event, fn, ": stage %d", stage)) != RINGRT_OK)
    return st;
  nccl::Result r =
      api.allReduce(buf, buf, static_cast<std::size_t>(count), nccl::Float32,
                    nccl::Sum, comms[role], static_cast<nccl::Stream>(stream));
  if (r != nccl::Success && r != nccl::InProgress)
    return setErrorf(RINGRT_ERR_COMM,
                     "%s: stage %d: ncclAllReduce over the %s axis failed: %s",
                     fn, stage, kRoleNames[role], ncclMessage(r).c_str());
  return recordAndFinish(event.event, role, fn, ": stage %d", stage, [&] {
    return formatv("at stage %d (%lld floats over the %s axis with world "
                   "ranks %s)",
                   stage, static_cast<long long>(count), kRoleNames[role],
                   peersOf(role).c_str());
  });
}

ringrt_status NcclComm::reduceScatterRowsF32(float *buf, int64_t batch,
                                             int64_t rows, int64_t cols,
                                             const int64_t *bounds, int role,
                                             int32_t stage) {
  const char *fn = "ringrt_reduce_scatter_rows_sum_f32";
  if (!api.reduce)
    return setErrorf(RINGRT_ERR_UNSUPPORTED,
                     "%s: stage %d: this NCCL has no ncclReduce", fn, stage);
  ringrt_status st = checkUsable(role, fn, stage);
  if (st != RINGRT_OK)
    return st;
  PooledEvent event(events);
  if ((st = beginOperation(event.event, fn, ": stage %d", stage)) != RINGRT_OK)
    return st;
  // ncclReduceScatter needs equal shares and one contiguous chunk per
  // rank; the shares here differ by a row and are batch strided blocks.
  // So: one group of in-place ncclReduce calls, one per (owner, batch),
  // rooted at the owning coordinate. Each sends its block once: (n-1)/n of
  // the rows in all, as a reduce-scatter. NCCL's summation order is its
  // own (not coordinate order), as for ncclAllReduce.
  auto s = static_cast<nccl::Stream>(stream);
  const int64_t n = grid.roleSize(role);
  const char *what;
  int64_t badOwner = -1;
  nccl::Result r = inGroup(what, [&] {
    what = "ncclReduce";
    nccl::Result call = nccl::Success;
    for (int64_t c = 0; c < n && call == nccl::Success; ++c) {
      int64_t count = (bounds[c + 1] - bounds[c]) * cols;
      for (int64_t b = 0; b < batch && count > 0 && call == nccl::Success;
           ++b) {
        float *block = buf + (b * rows + bounds[c]) * cols;
        call = api.reduce(block, block, static_cast<std::size_t>(count),
                          nccl::Float32, nccl::Sum, static_cast<int>(c),
                          comms[role], s);
      }
      if (call != nccl::Success)
        badOwner = c;
    }
    return call;
  });
  if (r != nccl::Success && r != nccl::InProgress)
    return setErrorf(RINGRT_ERR_COMM,
                     "%s: stage %d: %s over the %s axis failed (owner "
                     "coordinate %lld): %s",
                     fn, stage, what, kRoleNames[role],
                     static_cast<long long>(badOwner), ncclMessage(r).c_str());
  return recordAndFinish(event.event, role, fn, ": stage %d", stage, [&] {
    return formatv("at stage %d (the reduce-scatter of %lld x %lld floats "
                   "over the %s axis with world ranks %s)",
                   stage, static_cast<long long>(batch),
                   static_cast<long long>(rows * cols), kRoleNames[role],
                   peersOf(role).c_str());
  });
}

ringrt_status NcclComm::allToAll(const void *send, void *recv,
                                 const layout::A2ABlock *sendBlocks,
                                 const layout::A2ABlock *recvBlocks, int64_t U,
                                 int32_t id) {
  const char *fn = "ringrt_all_to_all";
  // A one-rank axis has no communicator of its own: the rank's block is a
  // send to itself on the ring communicator, which always exists.
  const int role = U > 1 ? RINGRT_AXIS_A2A : RINGRT_AXIS_RING;
  ringrt_status st = checkUsable(role, fn, id);
  if (st != RINGRT_OK)
    return st;
  PooledEvent event(events);
  if ((st = beginOperation(event.event, fn, " #%d", id)) != RINGRT_OK)
    return st;
  // One group of device-pointer sends and receives, a pair per row of every
  // peer's block (rows are contiguous; NCCL has no strided types), the
  // rank's own block as a send to itself. NCCL matches them per peer in
  // issue order, which is the same row order on both sides.
  auto s = static_cast<nccl::Stream>(stream);
  const int64_t me = U > 1 ? grid.roleCoord(RINGRT_AXIS_A2A)
                           : grid.roleCoord(RINGRT_AXIS_RING);
  const char *what;
  int64_t badPeer = -1;
  nccl::Result r = inGroup(what, [&] {
    nccl::Result call = nccl::Success;
    for (int64_t j = 0; j < U && call == nccl::Success; ++j) {
      int peer = static_cast<int>(U > 1 ? j : me);
      const layout::A2ABlock &sb = sendBlocks[j], &rb = recvBlocks[j];
      // An empty share (rowBytes 0) is empty on both sides: no message.
      for (int64_t run = 0;
           sb.rowBytes > 0 && run < sb.runs() && call == nccl::Success; ++run)
        call = api.send(static_cast<const char *>(send) + sb.runOffset(run),
                        static_cast<std::size_t>(sb.rowBytes), nccl::Int8, peer,
                        comms[role], s);
      what = "ncclSend";
      for (int64_t run = 0;
           rb.rowBytes > 0 && run < rb.runs() && call == nccl::Success; ++run)
        call = api.recv(static_cast<char *>(recv) + rb.runOffset(run),
                        static_cast<std::size_t>(rb.rowBytes), nccl::Int8, peer,
                        comms[role], s);
      if (call != nccl::Success) {
        what = "ncclSend/ncclRecv";
        badPeer = j;
      }
    }
    return call;
  });
  if (r != nccl::Success && r != nccl::InProgress)
    return setErrorf(RINGRT_ERR_COMM,
                     "%s #%d: %s over the %s axis failed (peer coordinate "
                     "%lld): %s",
                     fn, id, what, kRoleNames[role],
                     static_cast<long long>(badPeer), ncclMessage(r).c_str());
  return recordAndFinish(event.event, role, fn, " #%d", id, [&] {
    return formatv("in all-to-all #%d over the %s axis with world ranks %s",
                   id, kRoleNames[role], peersOf(role).c_str());
  });
}

/// Resolves `name` in `handle` into `fn`; false if absent.
template <typename Fn> bool bind(void *handle, const char *name, Fn &fn) {
  void *p = dlsym(handle, name);
  if (!p)
    return false;
  static_assert(std::is_pointer<Fn>::value, "function pointer expected");
  fn = reinterpret_cast<Fn>(p);
  return true;
}

} // namespace

ringrt_status ringrt::loadNcclApi(const char *library, NcclApi &api) {
  api = NcclApi();
  dlerror();
  void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!handle) {
    const char *why = dlerror();
    return setErrorf(RINGRT_ERR_NO_NCCL,
                     "comm 'nccl': NCCL not available (%s not found); use "
                     "comm \"mpi\" (dlopen: %s)",
                     library, why ? why : "unknown error");
  }
  NcclApi a;
  a.handle = handle;
  const char *missing = nullptr;
#define RINGRT_BIND(field, symbol)                                             \
  if (!missing && !bind(handle, symbol, a.field))                              \
    missing = symbol;
  RINGRT_BIND(getUniqueId, "ncclGetUniqueId")
  RINGRT_BIND(commInitRank, "ncclCommInitRank")
  RINGRT_BIND(commDestroy, "ncclCommDestroy")
  RINGRT_BIND(commAbort, "ncclCommAbort")
  RINGRT_BIND(commGetAsyncError, "ncclCommGetAsyncError")
  RINGRT_BIND(getErrorString, "ncclGetErrorString")
  RINGRT_BIND(groupStart, "ncclGroupStart")
  RINGRT_BIND(groupEnd, "ncclGroupEnd")
  RINGRT_BIND(send, "ncclSend")
  RINGRT_BIND(recv, "ncclRecv")
  RINGRT_BIND(allReduce, "ncclAllReduce")
  RINGRT_BIND(reduce, "ncclReduce")
#undef RINGRT_BIND
  if (missing) {
    dlclose(handle);
    return setErrorf(RINGRT_ERR_NO_NCCL,
                     "comm 'nccl': NCCL not available (%s lacks %s; NCCL >= "
                     "2.7 is needed); use comm \"mpi\"",
                     library, missing);
  }
  api = a;
  return RINGRT_OK;
}

void ringrt::unloadNcclApi(NcclApi &api) {
  if (api.handle)
    dlclose(api.handle);
  api = NcclApi();
}

ringrt_status ringrt::createNcclCommFromParts(
    const GridInfo &grid, int64_t timeoutMs, NcclApi api,
    std::shared_ptr<StreamProvider> streams,
    std::unique_ptr<CommBackend> control, std::unique_ptr<CommBackend> &out) {
  if (!streams || !control) {
    unloadNcclApi(api);
    return setError(RINGRT_ERR_INTERNAL,
                    "createNcclCommFromParts: null stream provider or "
                    "control plane");
  }
  auto comm = std::make_unique<NcclComm>(
      grid, timeoutMs, api, std::move(streams), std::move(control));
  ringrt_status st = comm->init();
  if (st != RINGRT_OK)
    return st;
  out = std::move(comm);
  return RINGRT_OK;
}

ringrt_status ringrt::createNcclComm(GridInfo &grid, ringrt_status localStatus,
                                     uint64_t planHash, int64_t timeoutMs,
                                     const char *device,
                                     std::shared_ptr<StreamProvider> streams,
                                     std::unique_ptr<CommBackend> &out) {
  NcclApi api;
  ringrt_status local = localStatus;
  if (local == RINGRT_OK) {
    const char *library = std::getenv("RINGRT_NCCL_LIBRARY");
    local = loadNcclApi(library && *library ? library : kNcclLibrary, api);
  }
  if (local == RINGRT_OK && !streams)
    local = setErrorf(RINGRT_ERR_UNSUPPORTED,
                      "comm 'nccl': needs CUDA streams from the device "
                      "backend, and device '%s' provides none (NCCL moves "
                      "device memory: use device 'cuda', or comm \"mpi\" for "
                      "host memory)",
                      device);
  // The MPI handshake makes a local failure fail every rank, and builds the
  // per-role MPI communicators that carry the NCCL unique ids.
  std::unique_ptr<CommBackend> control;
  ringrt_status st = createMpiComm(grid, local, planHash, timeoutMs, control);
  if (st != RINGRT_OK) {
    unloadNcclApi(api);
    return st;
  }
  return createNcclCommFromParts(grid, timeoutMs, api, std::move(streams),
                                 std::move(control), out);
}
