//===- MpiComm.cpp - MPI communicator backend -------------------*- C++ -*-===//
//
// This file implements the MPI communicator backend: the collective
// agreement at context creation (every rank's option status, plan hash and
// grid are all-gathered, so errors and mismatches fail on every rank rather
// than hang), ring shifts with MPI_Isend/MPI_Irecv, and the sums and
// broadcasts over a role axis as point-to-point messages among that axis's
// ranks. Every wait is a timed MPI_Test loop whose timeout message names the
// peers and stage.
//
// Nothing blocks without a deadline, creation included: the communicators
// come from MPI_Comm_idup (timed), not MPI_Comm_dup/MPI_Comm_split, which
// have no nonblocking form. Otherwise a rank that timed out in the handshake
// while the others completed it would leave them blocked for ever in the
// next collective. The role sums are point to point for the same reason
// (no per-role communicator is needed); they add in coordinate order, so
// every rank of an axis gets bit-identical results. A request that is still
// pending after a timeout keeps its buffers: they are handed to abandon()
// and never freed, so MPI can never write into freed memory.
//
//===----------------------------------------------------------------------===//

#include "Context.h"
#include "Error.h"
#include "StageStats.h"
#include "ringrt/Layout.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstring>
#include <memory>
#include <sched.h>
#include <thread>
#include <vector>

using namespace ringrt;

namespace {

using Clock = std::chrono::steady_clock;

/// Polls `reqs` until all complete or `timeoutMs` passes. `done[i]` says
/// which completed. Yields the core between polls (ranks may outnumber
/// cores).
ringrt_status timedWait(MPI_Request *reqs, bool *done, int n,
                        int64_t timeoutMs) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
  for (int64_t polls = 0;; ++polls) {
    bool all = true;
    for (int i = 0; i < n; ++i) {
      if (done[i])
        continue;
      int flag = 0;
      if (MPI_Test(&reqs[i], &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS)
        return setError(RINGRT_ERR_COMM, "MPI_Test failed");
      done[i] = flag != 0;
      all = all && done[i];
    }
    if (all)
      return RINGRT_OK;
    if (Clock::now() >= deadline)
      return RINGRT_ERR_TIMEOUT;
    if (polls < 1000)
      sched_yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

/// Keeps `buffers` (and whatever a pending request `req` points into)
/// alive until the process ends. Called only after a timeout, when the
/// context is failing anyway; the leak is bounded by the number of
/// timeouts.
template <typename T> void abandon(T *buffers) {
  static std::vector<void *> *keep = new std::vector<void *>();
  keep->push_back(buffers);
}

struct MpiShift : ringrt_request {
  MPI_Request reqs[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL}; // recv, send
  bool local = false; // size-1 ring: copied at start
  int32_t stage = 0, tag = 0;
  int64_t bytes = 0;
  int64_t succ = 0, pred = 0; // world ranks: sent to, received from
  bool backward = false;      // succ is the ring predecessor
};

class MpiComm final : public CommBackend {
public:
  MpiComm(const GridInfo &grid, int64_t timeoutMs)
      : grid(grid), timeoutMs(timeoutMs) {}
  ~MpiComm() override {
    for (MPI_Comm *c : {&world, &roleComm})
      if (*c != MPI_COMM_NULL)
        MPI_Comm_free(c);
  }

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
  int progress() override;
  ringrt_status allreduceSumF32(float *buf, int64_t count, int role,
                                int32_t stage) override;
  ringrt_status reduceScatterRowsF32(float *buf, int64_t batch, int64_t rows,
                                     int64_t cols, const int64_t *bounds,
                                     int role, int32_t stage) override;
  ringrt_status allToAll(const void *send, void *recv,
                         const layout::A2ABlock *sendBlocks,
                         const layout::A2ABlock *recvBlocks, int64_t U,
                         int32_t id) override;
  ringrt_status barrier() override;
  ringrt_status broadcastBytes(void *buf, int64_t bytes, int role,
                               int64_t root) override;

private:
  GridInfo grid;
  int64_t timeoutMs;
  /// Duplicates of MPI_COMM_WORLD: ring shifts (tags up to 32767) and the
  /// per-role sums and broadcasts.
  MPI_Comm world = MPI_COMM_NULL, roleComm = MPI_COMM_NULL;
  /// Shifts started and not yet waited for, which progress() tests. A
  /// shift of a failed call that is never waited for stays here; its
  /// request object is never freed then (codegen_abi.h), so the pointer
  /// stays valid.
  std::vector<MpiShift *> inFlight;

  /// Timed MPI_Comm_idup of MPI_COMM_WORLD into *out.
  ringrt_status dupWorld(MPI_Comm *out, const char *what);
  /// World ranks of the axis playing `role`, by coordinate.
  std::vector<int> roleRanks(int role) const;
  /// Names the other ranks of `role` ("1,3") for messages.
  std::string rolePeers(int role) const;
};

ringrt_status MpiComm::dupWorld(MPI_Comm *out, const char *what) {
  // The handle is written when the request completes: on a timeout it must
  // outlive this object, so it lives in its own cell until then.
  auto *cell = new MPI_Comm(MPI_COMM_NULL);
  MPI_Request req = MPI_REQUEST_NULL;
  if (MPI_Comm_idup(MPI_COMM_WORLD, cell, &req) != MPI_SUCCESS) {
    delete cell;
    return setErrorf(RINGRT_ERR_COMM,
                     "ringrt_context_create: MPI_Comm_idup (%s) failed", what);
  }
  bool done = false;
  if (timedWait(&req, &done, 1, timeoutMs) != RINGRT_OK) {
    abandon(cell);
    return setErrorf(RINGRT_ERR_TIMEOUT,
                     "ringrt_context_create: world rank %lld timed out after "
                     "%lld ms duplicating the world communicator (%s): some "
                     "rank did not get this far",
                     static_cast<long long>(grid.worldRank),
                     static_cast<long long>(timeoutMs), what);
  }
  *out = *cell;
  delete cell;
  return RINGRT_OK;
}

std::vector<int> MpiComm::roleRanks(int role) const {
  std::vector<int> ranks;
  for (int64_t c = 0, n = grid.roleSize(role); c < n; ++c)
    ranks.push_back(static_cast<int>(grid.worldRankAlong(role, c)));
  return ranks;
}

std::string MpiComm::rolePeers(int role) const {
  std::string peers;
  for (int r : roleRanks(role))
    if (r != grid.worldRank)
      peers += formatv("%s%d", peers.empty() ? "" : ",", r);
  return peers;
}

ringrt_status MpiComm::init() {
  if (ringrt_status st = dupWorld(&world, "ring shifts"))
    return st;
  return dupWorld(&roleComm, "sums and broadcasts");
}

ringrt_status MpiComm::shiftStartDir(const void *send, void *recv,
                                     int64_t bytes, int32_t stage,
                                     int32_t tag, int32_t direction,
                                     std::unique_ptr<ringrt_request> &out) {
  auto req = std::make_unique<MpiShift>();
  req->stage = stage;
  req->tag = tag;
  req->bytes = bytes;
  int64_t P = grid.roleSize(RINGRT_AXIS_RING);
  int64_t p = grid.roleCoord(RINGRT_AXIS_RING);
  int64_t step = direction < 0 ? P - 1 : 1;
  req->backward = direction < 0;
  req->succ = grid.worldRankAlong(RINGRT_AXIS_RING, (p + step) % P);
  req->pred = grid.worldRankAlong(RINGRT_AXIS_RING, (p + P - step) % P);
  if (P == 1) {
    if (bytes > 0)
      std::memcpy(recv, send, static_cast<size_t>(bytes));
    req->local = true;
    out = std::move(req);
    return RINGRT_OK;
  }
  if (bytes > INT_MAX)
    return setErrorf(RINGRT_ERR_UNSUPPORTED,
                     "ringrt_shift_start: stage %d: %lld bytes exceed the MPI "
                     "backend's limit of %d per message",
                     stage, static_cast<long long>(bytes), INT_MAX);
  int mpiTag = (stage % 2048) * 16 + tag;
  int n = static_cast<int>(bytes);
  if (MPI_Irecv(recv, n, MPI_BYTE, static_cast<int>(req->pred), mpiTag, world,
                &req->reqs[0]) != MPI_SUCCESS ||
      MPI_Isend(send, n, MPI_BYTE, static_cast<int>(req->succ), mpiTag, world,
                &req->reqs[1]) != MPI_SUCCESS)
    return setErrorf(RINGRT_ERR_COMM,
                     "ringrt_shift_start: stage %d: posting MPI_Irecv/Isend "
                     "failed",
                     stage);
  inFlight.push_back(req.get());
  out = std::move(req);
  return RINGRT_OK;
}

/// MPI moves a nonblocking message only inside MPI calls (OpenMPI's ob1 and
/// UCX alike have no asynchronous progress for shared memory or TCP): a
/// message above the eager limit sends a request-to-send and waits for the
/// receiver to match it, and the data moves only when both ranks next
/// enter MPI. Without calls during compute, a shift started at the top of
/// a stage would move only inside the wait at its end. MPI_Test on each
/// pending request runs the progress engine once.
int MpiComm::progress() {
  int pending = 0;
  for (MpiShift *req : inFlight) {
    if (req->completedAt != 0)
      continue;
    bool all = true;
    for (MPI_Request &r : req->reqs) {
      int flag = 1;
      if (r != MPI_REQUEST_NULL)
        MPI_Test(&r, &flag, MPI_STATUS_IGNORE);
      all = all && flag;
    }
    if (all)
      req->completedAt = nowSeconds();
    else
      ++pending;
  }
  return pending;
}

ringrt_status MpiComm::wait(ringrt_request &base) {
  auto &req = static_cast<MpiShift &>(base);
  if (req.local)
    return RINGRT_OK;
  inFlight.erase(std::remove(inFlight.begin(), inFlight.end(), &req),
                 inFlight.end());
  // Completed requests are MPI_REQUEST_NULL, which MPI_Test reports done.
  bool done[2] = {false, false};
  ringrt_status st = timedWait(req.reqs, done, 2, timeoutMs);
  if (st == RINGRT_OK && req.completedAt == 0)
    req.completedAt = nowSeconds();
  if (st == RINGRT_ERR_TIMEOUT) {
    // Retire what is still pending so the caller's buffers can be released:
    // a receive cancels at once; a send is cancelled if MPI still can (it
    // has not been matched), given 100 ms. One that cannot be cancelled is
    // freed, and may still read the send buffer if a receive is posted for
    // it later; the job should end (ring-run aborts it).
    if (!done[0]) {
      MPI_Cancel(&req.reqs[0]);
      MPI_Wait(&req.reqs[0], MPI_STATUS_IGNORE);
    }
    if (!done[1]) {
      MPI_Cancel(&req.reqs[1]);
      bool cancelled = false;
      if (timedWait(&req.reqs[1], &cancelled, 1, 100) != RINGRT_OK)
        MPI_Request_free(&req.reqs[1]);
    }
    return setErrorf(
        RINGRT_ERR_TIMEOUT,
        "ringrt_wait: world rank %lld timed out after %lld ms in the ring "
        "shift of stage %d (tag %d, %lld bytes): receive from world rank "
        "%lld (ring %s) %s; send to world rank %lld (ring %s) %s",
        static_cast<long long>(grid.worldRank),
        static_cast<long long>(timeoutMs), req.stage, req.tag,
        static_cast<long long>(req.bytes), static_cast<long long>(req.pred),
        req.backward ? "successor" : "predecessor",
        done[0] ? "completed" : "never arrived",
        static_cast<long long>(req.succ),
        req.backward ? "predecessor" : "successor",
        done[1] ? "completed" : "was never received");
  }
  return st;
}

ringrt_status MpiComm::allreduceSumF32(float *buf, int64_t count, int role,
                                       int32_t stage) {
  std::vector<int> ranks = roleRanks(role);
  const int n = static_cast<int>(ranks.size());
  if (n == 1 || count == 0)
    return RINGRT_OK;
  if (count > INT_MAX)
    return setErrorf(RINGRT_ERR_UNSUPPORTED,
                     "ringrt_allreduce_sum_f32: stage %d: %lld floats exceed "
                     "the MPI backend's limit of %d",
                     stage, static_cast<long long>(count), INT_MAX);
  // Every rank sends its values to the others and receives theirs; all
  // buffers belong to one heap object that a timeout abandons.
  struct Buffers {
    std::vector<float> parts;            // n x count, by coordinate
    std::vector<MPI_Request> reqs;
  };
  auto *b = new Buffers();
  const size_t len = static_cast<size_t>(count);
  b->parts.resize(len * n);
  const int64_t me = grid.roleCoord(role);
  std::memcpy(&b->parts[len * me], buf, len * sizeof(float));
  b->reqs.assign(2 * static_cast<size_t>(n), MPI_REQUEST_NULL);
  const int tag = role;
  for (int c = 0; c < n; ++c) {
    if (c == me)
      continue;
    if (MPI_Irecv(&b->parts[len * c], static_cast<int>(count), MPI_FLOAT,
                  ranks[c], tag, roleComm, &b->reqs[2 * c]) != MPI_SUCCESS ||
        MPI_Isend(&b->parts[len * me], static_cast<int>(count), MPI_FLOAT,
                  ranks[c], tag, roleComm, &b->reqs[2 * c + 1]) !=
            MPI_SUCCESS) {
      abandon(b);
      return setErrorf(RINGRT_ERR_COMM,
                       "ringrt_allreduce_sum_f32: stage %d: posting "
                       "MPI_Irecv/Isend failed",
                       stage);
    }
  }
  std::unique_ptr<bool[]> doneFlags(new bool[b->reqs.size()]());
  bool *done = doneFlags.get();
  for (int c = 0; c < n; ++c)
    if (c == me)
      done[2 * c] = done[2 * c + 1] = true;
  ringrt_status st = timedWait(b->reqs.data(), done,
                               static_cast<int>(b->reqs.size()), timeoutMs);
  if (st == RINGRT_ERR_TIMEOUT) {
    std::string missing;
    for (int c = 0; c < n; ++c)
      if (c != me && !done[2 * c])
        missing += formatv("%s%d", missing.empty() ? "" : ",", ranks[c]);
    abandon(b);
    return setErrorf(RINGRT_ERR_TIMEOUT,
                     "ringrt_allreduce_sum_f32: world rank %lld timed out "
                     "after %lld ms at stage %d (%lld floats over the %s "
                     "axis with world ranks %s): nothing arrived from world "
                     "rank%s %s",
                     static_cast<long long>(grid.worldRank),
                     static_cast<long long>(timeoutMs), stage,
                     static_cast<long long>(count), kRoleNames[role],
                     rolePeers(role).c_str(),
                     missing.find(',') == std::string::npos ? "" : "s",
                     missing.c_str());
  }
  if (st != RINGRT_OK) {
    abandon(b);
    return st;
  }
  // Coordinate order on every rank: identical sums everywhere.
  for (size_t i = 0; i < len; ++i) {
    float sum = b->parts[i];
    for (int c = 1; c < n; ++c)
      sum += b->parts[len * c + i];
    buf[i] = sum;
  }
  delete b;
  return RINGRT_OK;
}

ringrt_status MpiComm::reduceScatterRowsF32(float *buf, int64_t batch,
                                            int64_t rows, int64_t cols,
                                            const int64_t *bounds, int role,
                                            int32_t stage) {
  const char *fn = "ringrt_reduce_scatter_rows_sum_f32";
  std::vector<int> ranks = roleRanks(role);
  const int n = static_cast<int>(ranks.size());
  if (n == 1)
    return RINGRT_OK;
  const int64_t me = grid.roleCoord(role);
  for (int c = 0; c < n; ++c)
    if (bounds[c] < 0 || bounds[c] > bounds[c + 1] || bounds[c + 1] > rows)
      return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                       "%s: stage %d: coordinate %d of the %s axis owns rows "
                       "[%lld, %lld) of %lld",
                       fn, stage, c, kRoleNames[role],
                       static_cast<long long>(bounds[c]),
                       static_cast<long long>(bounds[c + 1]),
                       static_cast<long long>(rows));
  // Peer c's rows of every batch are one message of an hvector datatype
  // (batch blocks of its rows, rows·cols floats apart): nothing is packed
  // on the sending side. This rank's rows from peer c arrive contiguous in
  // parts (batch x myRows x cols, by coordinate).
  const int64_t myRows = bounds[me + 1] - bounds[me];
  const int64_t block = myRows * cols;
  const int64_t stride = rows * cols * static_cast<int64_t>(sizeof(float));
  for (int c = 0; c < n; ++c)
    if ((bounds[c + 1] - bounds[c]) * cols > INT_MAX || batch > INT_MAX ||
        block * batch > INT_MAX)
      return setErrorf(RINGRT_ERR_UNSUPPORTED,
                       "%s: stage %d: blocks of %lld x %lld floats exceed the "
                       "MPI backend's limit of %d",
                       fn, stage, static_cast<long long>(batch),
                       static_cast<long long>((bounds[c + 1] - bounds[c]) *
                                              cols),
                       INT_MAX);
  struct Pending {
    std::vector<float> parts;
    std::vector<MPI_Request> reqs;
    std::vector<MPI_Datatype> types;
  };
  auto *p = new Pending();
  const size_t len = static_cast<size_t>(block * batch);
  p->parts.resize(len * n);
  p->reqs.assign(2 * static_cast<size_t>(n), MPI_REQUEST_NULL);
  auto freeTypes = [&] {
    for (MPI_Datatype &t : p->types)
      MPI_Type_free(&t);
    p->types.clear();
  };
  // A distinct tag from the role sums (tags 0..3) on the same communicator.
  const int tag = 8 + role;
  bool posted = true;
  for (int c = 0; c < n && posted; ++c) {
    if (c == me)
      continue;
    int64_t peerRows = bounds[c + 1] - bounds[c];
    if (block > 0)
      posted = MPI_Irecv(&p->parts[len * c], static_cast<int>(len), MPI_FLOAT,
                         ranks[c], tag, roleComm,
                         &p->reqs[2 * c]) == MPI_SUCCESS;
    if (posted && peerRows * cols > 0) {
      MPI_Datatype t;
      posted = MPI_Type_create_hvector(static_cast<int>(batch),
                                       static_cast<int>(peerRows * cols),
                                       stride, MPI_FLOAT, &t) == MPI_SUCCESS &&
               MPI_Type_commit(&t) == MPI_SUCCESS;
      if (posted) {
        p->types.push_back(t);
        posted = MPI_Isend(buf + bounds[c] * cols, 1, t, ranks[c], tag,
                           roleComm, &p->reqs[2 * c + 1]) == MPI_SUCCESS;
      }
    }
  }
  if (!posted) {
    abandon(p);
    return setErrorf(RINGRT_ERR_COMM,
                     "%s: stage %d: posting MPI_Irecv/Isend failed", fn,
                     stage);
  }
  std::unique_ptr<bool[]> doneFlags(new bool[p->reqs.size()]());
  bool *done = doneFlags.get();
  for (size_t i = 0; i < p->reqs.size(); ++i)
    done[i] = p->reqs[i] == MPI_REQUEST_NULL;
  ringrt_status st = timedWait(p->reqs.data(), done,
                               static_cast<int>(p->reqs.size()), timeoutMs);
  if (st == RINGRT_ERR_TIMEOUT) {
    std::string missing;
    for (int c = 0; c < n; ++c)
      if (c != me && !done[2 * c])
        missing += formatv("%s%d", missing.empty() ? "" : ",", ranks[c]);
    abandon(p);
    return setErrorf(RINGRT_ERR_TIMEOUT,
                     "%s: world rank %lld timed out after %lld ms at stage %d "
                     "(rows [%lld, %lld) of %lld x %lld floats over the %s "
                     "axis with world ranks %s): nothing arrived from world "
                     "rank%s %s",
                     fn, static_cast<long long>(grid.worldRank),
                     static_cast<long long>(timeoutMs), stage,
                     static_cast<long long>(bounds[me]),
                     static_cast<long long>(bounds[me + 1]),
                     static_cast<long long>(rows),
                     static_cast<long long>(cols), kRoleNames[role],
                     rolePeers(role).c_str(),
                     missing.find(',') == std::string::npos ? "" : "s",
                     missing.c_str());
  }
  if (st != RINGRT_OK) {
    abandon(p);
    return st;
  }
  freeTypes();
  // Coordinate order, as allreduceSumF32 adds: the same bits.
  for (int64_t b = 0; b < batch; ++b) {
    float *mine = buf + (b * rows + bounds[me]) * cols;
    for (int64_t i = 0; i < block; ++i) {
      auto at = [&](int c) {
        return c == me ? mine[i] : p->parts[len * c + b * block + i];
      };
      float sum = at(0);
      for (int c = 1; c < n; ++c)
        sum += at(c);
      mine[i] = sum;
    }
  }
  delete p;
  return RINGRT_OK;
}

ringrt_status MpiComm::allToAll(const void *send, void *recv,
                                const layout::A2ABlock *sendBlocks,
                                const layout::A2ABlock *recvBlocks, int64_t U,
                                int32_t id) {
  const int role = RINGRT_AXIS_A2A;
  std::vector<int> ranks = roleRanks(role);
  const int64_t me = grid.roleCoord(role);
  if (static_cast<int64_t>(ranks.size()) != U)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "ringrt_all_to_all #%d: the a2a axis has %zu ranks, the "
                     "shapes imply %lld",
                     id, ranks.size(), static_cast<long long>(U));
  // Pairwise point-to-point, like the role sums (no untimed collective).
  // Each peer's block is one message of an hvector datatype (rows of
  // rowBytes, stride apart), so nothing is packed; the own block is a copy.
  // Send and receive blocks are described per peer, so a timeout can name
  // exactly who did not deliver.
  struct Pending {
    std::vector<MPI_Request> reqs;
    std::vector<MPI_Datatype> types;
  };
  auto *p = new Pending();
  p->reqs.assign(2 * static_cast<size_t>(U), MPI_REQUEST_NULL);
  auto freeTypes = [&] {
    for (MPI_Datatype &t : p->types)
      MPI_Type_free(&t);
    p->types.clear();
  };
  // A block of groups of runs is an hvector of hvectors.
  auto blockType = [&](const layout::A2ABlock &b, MPI_Datatype *out) {
    if (b.rows > INT_MAX || b.rowBytes > INT_MAX || b.groups > INT_MAX)
      return false;
    MPI_Datatype runs;
    if (MPI_Type_create_hvector(static_cast<int>(b.rows),
                                static_cast<int>(b.rowBytes), b.stride,
                                MPI_BYTE, &runs) != MPI_SUCCESS)
      return false;
    if (b.groups == 1) {
      *out = runs;
    } else {
      int rc = MPI_Type_create_hvector(static_cast<int>(b.groups), 1,
                                       b.groupStride, runs, out);
      MPI_Type_free(&runs);
      if (rc != MPI_SUCCESS)
        return false;
    }
    if (MPI_Type_commit(out) != MPI_SUCCESS)
      return false;
    p->types.push_back(*out);
    return true;
  };
  // Tag 16: above the role sums (0..2) and broadcasts (3..6) on roleComm.
  const int tag = 16;
  for (int64_t j = 0; j < U; ++j) {
    if (j == me)
      continue;
    MPI_Datatype st, rt;
    if (!blockType(sendBlocks[j], &st) || !blockType(recvBlocks[j], &rt)) {
      freeTypes();
      delete p;
      return setErrorf(RINGRT_ERR_UNSUPPORTED,
                       "ringrt_all_to_all #%d: a block of %lld rows of %lld "
                       "bytes exceeds the MPI backend's limit of %d",
                       id, static_cast<long long>(sendBlocks[j].rows),
                       static_cast<long long>(sendBlocks[j].rowBytes),
                       INT_MAX);
    }
    char *r = static_cast<char *>(recv) + recvBlocks[j].offset;
    const char *sb = static_cast<const char *>(send) + sendBlocks[j].offset;
    if (MPI_Irecv(r, 1, rt, ranks[j], tag, roleComm, &p->reqs[2 * j]) !=
            MPI_SUCCESS ||
        MPI_Isend(sb, 1, st, ranks[j], tag, roleComm, &p->reqs[2 * j + 1]) !=
            MPI_SUCCESS) {
      abandon(p);
      return setErrorf(RINGRT_ERR_COMM,
                       "ringrt_all_to_all #%d: posting MPI_Irecv/Isend to "
                       "world rank %d failed",
                       id, ranks[j]);
    }
  }
  layout::copyA2ABlock(static_cast<const char *>(send), sendBlocks[me],
                       static_cast<char *>(recv), recvBlocks[me]);
  std::unique_ptr<bool[]> doneFlags(new bool[p->reqs.size()]());
  bool *done = doneFlags.get();
  done[2 * me] = done[2 * me + 1] = true;
  ringrt_status st = timedWait(p->reqs.data(), done,
                               static_cast<int>(p->reqs.size()), timeoutMs);
  if (st == RINGRT_ERR_TIMEOUT) {
    std::string missing;
    for (int64_t j = 0; j < U; ++j)
      if (j != me && !done[2 * j])
        missing += formatv("%s%d", missing.empty() ? "" : ",", ranks[j]);
    // The requests may still write into `recv`: the caller's buffers are
    // the caller's, but the request objects and datatypes stay alive.
    abandon(p);
    return setErrorf(RINGRT_ERR_TIMEOUT,
                     "ringrt_all_to_all #%d: world rank %lld timed out after "
                     "%lld ms (a2a axis with world ranks %s): nothing arrived "
                     "from world rank%s %s",
                     id, static_cast<long long>(grid.worldRank),
                     static_cast<long long>(timeoutMs),
                     rolePeers(role).c_str(),
                     missing.find(',') == std::string::npos ? "" : "s",
                     missing.empty() ? "(sends incomplete)" : missing.c_str());
  }
  freeTypes();
  delete p;
  return st;
}

ringrt_status MpiComm::barrier() {
  MPI_Request req = MPI_REQUEST_NULL;
  if (MPI_Ibarrier(world, &req) != MPI_SUCCESS)
    return setError(RINGRT_ERR_COMM, "ringrt_barrier: MPI_Ibarrier failed");
  bool done = false;
  if (timedWait(&req, &done, 1, timeoutMs) == RINGRT_ERR_TIMEOUT)
    return setErrorf(RINGRT_ERR_TIMEOUT,
                     "ringrt_barrier: world rank %lld timed out after %lld ms",
                     static_cast<long long>(grid.worldRank),
                     static_cast<long long>(timeoutMs));
  return RINGRT_OK;
}

ringrt_status MpiComm::broadcastBytes(void *buf, int64_t bytes, int role,
                                      int64_t root) {
  if (grid.roleSize(role) == 1 || bytes == 0)
    return RINGRT_OK;
  if (bytes > INT_MAX)
    return setErrorf(RINGRT_ERR_UNSUPPORTED,
                     "broadcast over the %s axis: %lld bytes exceed the MPI "
                     "backend's limit of %d",
                     kRoleNames[role], static_cast<long long>(bytes), INT_MAX);
  std::vector<int> ranks = roleRanks(role);
  const int n = static_cast<int>(ranks.size());
  const bool isRoot = grid.roleCoord(role) == root;
  // The root sends from a copy and the others receive into one, so that a
  // timeout can abandon the buffers without touching the caller's.
  struct Buffers {
    std::vector<char> data;
    std::vector<MPI_Request> reqs;
  };
  auto *b = new Buffers();
  b->data.assign(static_cast<const char *>(buf),
                 static_cast<const char *>(buf) + bytes);
  const int tag = 3 + role;
  if (isRoot) {
    for (int c = 0; c < n; ++c)
      if (c != root) {
        b->reqs.push_back(MPI_REQUEST_NULL);
        MPI_Isend(b->data.data(), static_cast<int>(bytes), MPI_BYTE, ranks[c],
                  tag, roleComm, &b->reqs.back());
      }
  } else {
    b->reqs.push_back(MPI_REQUEST_NULL);
    MPI_Irecv(b->data.data(), static_cast<int>(bytes), MPI_BYTE,
              ranks[static_cast<size_t>(root)], tag, roleComm,
              &b->reqs.back());
  }
  std::unique_ptr<bool[]> doneFlags(new bool[b->reqs.size()]());
  if (timedWait(b->reqs.data(), doneFlags.get(),
                static_cast<int>(b->reqs.size()),
                timeoutMs) == RINGRT_ERR_TIMEOUT) {
    abandon(b);
    return setErrorf(RINGRT_ERR_TIMEOUT,
                     "world rank %lld timed out after %lld ms in a broadcast "
                     "from world rank %lld (coordinate %lld of the %s axis)",
                     static_cast<long long>(grid.worldRank),
                     static_cast<long long>(timeoutMs),
                     static_cast<long long>(grid.worldRankAlong(role, root)),
                     static_cast<long long>(root), kRoleNames[role]);
  }
  if (!isRoot)
    std::memcpy(buf, b->data.data(), static_cast<size_t>(bytes));
  delete b;
  return RINGRT_OK;
}

/// The record each rank contributes to the creation handshake.
enum : int {
  kStatus,
  kHash,
  kGridRank,
  kShape,
  kAxes = kShape + kMaxGridRank,
  kLen = kAxes + kNumRoles
};

std::string describeRecord(const int64_t *rec) {
  GridInfo g;
  g.gridRank = static_cast<int>(rec[kGridRank]);
  if (g.gridRank < 1 || g.gridRank > kMaxGridRank)
    g.gridRank = kMaxGridRank;
  for (int a = 0; a < kMaxGridRank; ++a)
    g.shape[a] = rec[kShape + a];
  for (int r = 0; r < kNumRoles; ++r)
    g.axisOfRole[r] = static_cast<int32_t>(rec[kAxes + r]);
  return formatv("plan_hash %016llx, grid %s",
                 static_cast<unsigned long long>(rec[kHash]),
                 g.describe().c_str());
}

} // namespace

ringrt_status ringrt::createMpiComm(GridInfo &grid, ringrt_status localStatus,
                                    uint64_t planHash, int64_t timeoutMs,
                                    std::unique_ptr<CommBackend> &out) {
  std::string localMessage = lastError();
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized)
    return setError(localStatus != RINGRT_OK ? localStatus : RINGRT_ERR_COMM,
                    std::string("ringrt_context_create: MPI is not "
                                "initialized (the host program must call "
                                "MPI_Init before creating an 'mpi' context)") +
                        (localStatus != RINGRT_OK ? "; also: " + localMessage
                                                  : ""));
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  int64_t mine[kLen] = {};
  mine[kStatus] = localStatus;
  mine[kHash] = static_cast<int64_t>(planHash);
  mine[kGridRank] = grid.gridRank;
  for (int a = 0; a < kMaxGridRank; ++a)
    mine[kShape + a] = grid.shape[a];
  for (int r = 0; r < kNumRoles; ++r)
    mine[kAxes + r] = grid.axisOfRole[r];
  // Both buffers of the all-gather live on the heap: if it times out, the
  // request stays pending and they are abandoned, not freed.
  struct Handshake {
    int64_t mine[kLen];
    std::vector<int64_t> all;
  };
  auto *hs = new Handshake();
  std::memcpy(hs->mine, mine, sizeof(mine));
  hs->all.resize(static_cast<size_t>(kLen) * size);
  MPI_Request req = MPI_REQUEST_NULL;
  if (MPI_Iallgather(hs->mine, kLen, MPI_INT64_T, hs->all.data(), kLen,
                     MPI_INT64_T, MPI_COMM_WORLD, &req) != MPI_SUCCESS) {
    delete hs;
    return setError(RINGRT_ERR_COMM,
                    "ringrt_context_create: MPI_Iallgather failed");
  }
  bool done = false;
  if (timedWait(&req, &done, 1, timeoutMs) != RINGRT_OK) {
    abandon(hs);
    return setErrorf(RINGRT_ERR_TIMEOUT,
                     "ringrt_context_create: world rank %d timed out after "
                     "%lld ms waiting for the other ranks to create their "
                     "contexts%s%s",
                     rank, static_cast<long long>(timeoutMs),
                     localStatus != RINGRT_OK ? "; also: " : "",
                     localStatus != RINGRT_OK ? localMessage.c_str() : "");
  }
  std::vector<int64_t> all = std::move(hs->all);
  delete hs;

  // Every rank evaluates the same checks on the same data, so every rank
  // reaches the same verdict.
  if (localStatus != RINGRT_OK)
    return setError(localStatus, localMessage);
  for (int r = 0; r < size; ++r) {
    int64_t st = all[static_cast<size_t>(r) * kLen + kStatus];
    if (st != RINGRT_OK)
      return setErrorf(static_cast<ringrt_status>(st),
                       "ringrt_context_create: world rank %d failed to "
                       "create its context (%s); see its message",
                       r, ringrt_status_string(static_cast<ringrt_status>(st)));
  }
  std::string mismatch;
  int nBad = 0;
  for (int r = 1; r < size; ++r) {
    const int64_t *rec = &all[static_cast<size_t>(r) * kLen];
    if (std::memcmp(rec, all.data(), sizeof(int64_t) * kLen) == 0)
      continue;
    if (++nBad <= 8)
      mismatch += formatv("; world rank %d has %s", r,
                          describeRecord(rec).c_str());
  }
  if (nBad)
    return setErrorf(RINGRT_ERR_PLAN_MISMATCH,
                     "ringrt_context_create: plan mismatch: %d of %d ranks "
                     "disagree with world rank 0, which has %s%s%s",
                     nBad, size, describeRecord(all.data()).c_str(),
                     mismatch.c_str(), nBad > 8 ? "; ..." : "");
  if (grid.size() != size)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "this artifact needs %lld ranks (%s), mpirun started %d",
                     static_cast<long long>(grid.size()),
                     grid.describeRoles().c_str(), size);

  grid.worldSize = size;
  grid.place(rank);
  auto comm = std::make_unique<MpiComm>(grid, timeoutMs);
  ringrt_status st = comm->init();
  if (st != RINGRT_OK)
    return st;
  out = std::move(comm);
  return RINGRT_OK;
}
