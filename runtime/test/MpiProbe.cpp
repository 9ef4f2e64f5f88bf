//===- MpiProbe.cpp - multi-rank tests of ringrt ----------------*- C++ -*-===//
//
// This file implements ringrt-mpi-probe, run under mpirun by ctest. Each
// mode provokes one situation on every rank and checks that every rank sees
// the expected status and message (so a hang or a one-sided error fails):
//
//   plan-mismatch  rank 1 passes a different plan hash (np 2)
//   timeout        rank 1 never joins the ring shift of stage 3 (np 2;
//                  RINGRT_TIMEOUT_MS set small by the test)
//   world-size     the grid needs 2 ranks, mpirun started 3 (np 3)
//   collectives    ring shifts and dim-slice all-reduce on a 2x1x2 grid
//                  (np 4) deliver the right data
//   scatter-timeout  rank 1 never joins the layer output's reduce-scatter
//                  over 2 head groups (np 2; RINGRT_TIMEOUT_MS small): rank
//                  0 times out naming its rows, the axis and the silent peer
//   progress       an 8 MiB shift (above every eager limit) completes
//                  through ringrt_cg_progress alone, before its wait, and
//                  the stage statistics say so (np 2)
//
// Prints `probe: rank R OK` and exits 0 on success.
//
//===----------------------------------------------------------------------===//

#include "ProbeMain.h"
#include "ringrt/codegen_abi.h"
#include "ringrt/ringrt.h"

#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using probe::check;
using probe::rank;
using probe::size;


bool contains(const char *s, const char *part) {
  return std::strstr(s, part) != nullptr;
}

ringrt_context_options ringOptions(int64_t ring) {
  ringrt_context_options o{};
  o.comm = "mpi";
  o.device = "cpu";
  o.grid_rank = 1;
  o.grid_shape[0] = ring;
  o.axis_of_role[0] = 0;
  o.axis_of_role[1] = -1;
  o.axis_of_role[2] = -1;
  o.plan_hash = 0x1234;
  return o;
}

int planMismatch() {
  ringrt_context_options o = ringOptions(2);
  if (rank == 1)
    o.plan_hash = 0xbad;
  ringrt_context *ctx = nullptr;
  ringrt_status st = ringrt_context_create(&o, &ctx);
  const char *msg = ringrt_last_error();
  return check(st == RINGRT_ERR_PLAN_MISMATCH && !ctx,
               "expected RINGRT_ERR_PLAN_MISMATCH") |
         check(contains(msg, "world rank 1 has plan_hash 0000000000000bad") &&
                   contains(msg, "plan_hash 0000000000001234"),
               std::string("message names ranks and hashes: ") + msg);
}

int timeout() {
  ringrt_context_options o = ringOptions(2);
  ringrt_context *ctx = nullptr;
  if (check(ringrt_context_create(&o, &ctx) == RINGRT_OK, "create"))
    return 1;
  int bad = check(ringrt_timeout_ms(ctx) < 5000,
                  "RINGRT_TIMEOUT_MS from the environment is used");
  if (rank == 0) {
    char send[64] = {1}, recv[64];
    ringrt_request *req = nullptr;
    bad |= check(ringrt_shift_start(ctx, send, recv, sizeof(send), 3, 1,
                                    &req) == RINGRT_OK,
                 "shift_start");
    ringrt_status st = ringrt_wait(ctx, req);
    const char *msg = ringrt_last_error();
    bad |= check(st == RINGRT_ERR_TIMEOUT, "expected RINGRT_ERR_TIMEOUT");
    bad |= check(contains(msg, "stage 3") &&
                     contains(msg, "receive from world rank 1") &&
                     contains(msg, "64 bytes"),
                 std::string("message names peer, stage, bytes: ") + msg);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  ringrt_context_destroy(ctx);
  return bad;
}

int scatterTimeout() {
  // Grid [head_groups 2] on axis 0: the reduce-scatter's k = 2 ranks.
  ringrt_context_options o{};
  o.comm = "mpi";
  o.device = "cpu";
  o.grid_rank = 1;
  o.grid_shape[0] = 2;
  o.axis_of_role[RINGRT_AXIS_RING] = -1;
  o.axis_of_role[RINGRT_AXIS_HEAD_GROUP] = 0;
  o.axis_of_role[RINGRT_AXIS_DIM_SLICE] = -1;
  o.axis_of_role[RINGRT_AXIS_A2A] = -1;
  o.plan_hash = 0x5ca7;
  ringrt_context *ctx = nullptr;
  if (check(ringrt_context_create(&o, &ctx) == RINGRT_OK, "create"))
    return 1;
  int bad = 0;
  if (rank == 0) {
    // [batch 2, rows 5, cols 3]; shares 3 + 2 rows: rank 0 owns rows [0, 3).
    std::vector<float> buf(2 * 5 * 3, 1.0f);
    const int64_t shares[2] = {3, 2};
    ringrt_status st = ringrt_reduce_scatter_rows_sum_f32(
        ctx, buf.data(), 2, 5, 3, shares, 2, 7);
    const char *msg = ringrt_last_error();
    bad |= check(st == RINGRT_ERR_TIMEOUT, "expected RINGRT_ERR_TIMEOUT");
    bad |= check(contains(msg, "ringrt_reduce_scatter_rows_sum_f32") &&
                     contains(msg, "world rank 0 timed out") &&
                     contains(msg, "at stage 7") &&
                     contains(msg, "rows [0, 3) of 5 x 3 floats") &&
                     contains(msg, "head_group") &&
                     contains(msg, "nothing arrived from world rank 1"),
                 std::string("message names the stage, rows, axis and the "
                             "silent peer: ") +
                     msg);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  ringrt_context_destroy(ctx);
  return bad;
}

int worldSize() {
  ringrt_context_options o = ringOptions(2);
  ringrt_context *ctx = nullptr;
  ringrt_status st = ringrt_context_create(&o, &ctx);
  const char *msg = ringrt_last_error();
  return check(st == RINGRT_ERR_INVALID_ARGUMENT && !ctx,
               "expected RINGRT_ERR_INVALID_ARGUMENT") |
         check(contains(msg, "needs 2 ranks (ring 2 x head_groups 1 x "
                             "dim_slices 1), mpirun started 3"),
               std::string("message: ") + msg);
}

int collectives() {
  // Grid [ring 2, dim_slices 2] as axes 0 and 1: world rank = 2*p + s.
  ringrt_context_options o{};
  o.comm = "mpi";
  o.grid_rank = 2;
  o.grid_shape[0] = 2;
  o.grid_shape[1] = 2;
  o.axis_of_role[0] = 0;
  o.axis_of_role[1] = -1;
  o.axis_of_role[2] = 1;
  o.plan_hash = 7;
  ringrt_context *ctx = nullptr;
  if (check(ringrt_context_create(&o, &ctx) == RINGRT_OK, "create"))
    return 1;
  int p = ringrt_coord(ctx, RINGRT_AXIS_RING);
  int s = ringrt_coord(ctx, RINGRT_AXIS_DIM_SLICE);
  int bad = check(p == rank / 2 && s == rank % 2 &&
                      ringrt_size(ctx, RINGRT_AXIS_RING) == 2 &&
                      ringrt_size(ctx, RINGRT_AXIS_HEAD_GROUP) == 1 &&
                      ringrt_coord(ctx, RINGRT_AXIS_HEAD_GROUP) == 0,
                  "row-major coordinates");
  std::vector<int32_t> send(1000, rank), recv(1000, -1);
  ringrt_request *req = nullptr;
  bad |= check(ringrt_shift_start(ctx, send.data(), recv.data(), 4000, 0, 0,
                                  &req) == RINGRT_OK &&
                   ringrt_wait(ctx, req) == RINGRT_OK,
               "shift");
  int pred = 2 * ((p + 1) % 2) + s; // ring predecessor, same slice
  bad |= check(recv[0] == pred && recv[999] == pred,
               "shift delivers the predecessor's block");
  float buf[3] = {1.0f * rank, 1.0f, 0.5f};
  bad |= check(ringrt_allreduce_sum_f32(ctx, buf, 3, RINGRT_AXIS_DIM_SLICE,
                                        0) == RINGRT_OK,
               "allreduce");
  bad |= check(buf[0] == float(4 * p + 1) && buf[1] == 2.0f && buf[2] == 1.0f,
               "allreduce sums over the dim-slice group only");
  bad |= check(ringrt_barrier(ctx) == RINGRT_OK, "barrier");
  ringrt_context_destroy(ctx);
  return bad;
}

int progress() {
  ringrt_context_options o = ringOptions(2);
  ringrt_context *ctx = nullptr;
  if (check(ringrt_context_create(&o, &ctx) == RINGRT_OK, "create"))
    return 1;
  int bad = check(ringrt_cg_progress() == 0, "no call, nothing in flight");
  bad |= check(ringrt_stage_stats_enable(ctx, 1) == RINGRT_OK, "enable");
  const size_t n = size_t(2) << 20; // 8 MiB of int32
  std::vector<int32_t> send(n, rank + 1), recv(n, -1);
  int32_t status = RINGRT_OK;
  ringrt_cg_begin(ctx, &status, nullptr);
  ringrt_request *req = nullptr;
  ringrt_cg_shift_start(ctx, &status, send.data(), recv.data(),
                        static_cast<int64_t>(n * 4), 0, 0, &req);
  bad |= check(status == RINGRT_OK && req, "shift_start");
  // What a kernel does between tiles; no wait until the shift is done.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int32_t left = 1;
  while (left > 0 && std::chrono::steady_clock::now() < deadline)
    left = ringrt_cg_progress();
  bad |= check(left == 0, "the shift completes through progress calls");
  ringrt_cg_shift_wait(ctx, &status, &req);
  ringrt_cg_end(ctx, &status);
  bad |= check(status == RINGRT_OK, "wait");
  int pred = (rank + 1) % 2 + 1;
  bad |= check(recv[0] == pred && recv[n - 1] == pred, "data delivered");
  bad |= check(ringrt_cg_progress() == 0, "after the call, nothing to do");
  ringrt_stage_stats stats[4];
  int32_t count = 0;
  bad |= check(ringrt_stage_stats_get(ctx, stats, 4, &count) == RINGRT_OK &&
                   count == 1 && stats[0].stage == 0 &&
                   stats[0].calls == 1 && stats[0].shifts == 1 &&
                   stats[0].done_before_wait == 1 &&
                   stats[0].transfer_ms > 0 &&
                   stats[0].exposed_ms <= stats[0].stage_ms,
               "stage statistics: one stage, its shift done before the wait");
  ringrt_context_destroy(ctx);
  return bad;
}

} // namespace

int main(int argc, char **argv) {
  return probe::run(argc, argv,
                    {{"plan-mismatch", planMismatch},
                     {"timeout", timeout},
                     {"scatter-timeout", scatterTimeout},
                     {"world-size", worldSize},
                     {"collectives", collectives},
                     {"progress", progress}});
}
