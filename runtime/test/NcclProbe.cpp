//===- NcclProbe.cpp - multi-rank tests of comm "nccl" ----------*- C++ -*-===//
//
// This file implements ringrt-nccl-probe, run under mpirun by ctest and lit.
// Each mode checks every rank's outcome and that all ranks agree (the
// statuses are all-gathered), so a one-sided error or a hang fails:
//
//   no-nccl    the test points RINGRT_NCCL_LIBRARY at a missing library:
//              every rank fails with RINGRT_ERR_NO_NCCL and the message
//              `NCCL not available (... not found); use comm "mpi"`
//   no-device  comm "nccl" with device "cpu", NCCL resolved normally: every
//              rank fails cleanly, with RINGRT_ERR_NO_NCCL where libnccl is
//              absent, else RINGRT_ERR_UNSUPPORTED (no CUDA streams)
//   shift      (GPU + NCCL) ring = world size, device "cuda": two ring
//              shifts of device buffers deliver the predecessor's block
//
// Prints `probe: rank R OK` and exits 0 on success.
//
//===----------------------------------------------------------------------===//

#include "ProbeMain.h"
#include "ringrt/ringrt.h"

#include <mpi.h>

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

ringrt_context_options ncclOptions(const char *device) {
  ringrt_context_options o{};
  o.comm = "nccl";
  o.device = device;
  o.grid_rank = 1;
  o.grid_shape[0] = size;
  o.axis_of_role[0] = 0;
  o.axis_of_role[1] = -1;
  o.axis_of_role[2] = -1;
  o.plan_hash = 0x4e43434c;
  return o;
}

/// True when every rank passes the same `st`.
bool allAgree(ringrt_status st) {
  int mine = st;
  std::vector<int> all(static_cast<size_t>(size));
  MPI_Allgather(&mine, 1, MPI_INT, all.data(), 1, MPI_INT, MPI_COMM_WORLD);
  for (int s : all)
    if (s != mine)
      return false;
  return true;
}

int noNccl() {
  ringrt_context_options o = ncclOptions("cpu");
  ringrt_context *ctx = nullptr;
  ringrt_status st = ringrt_context_create(&o, &ctx);
  std::string msg = ringrt_last_error();
  int bad = check(st == RINGRT_ERR_NO_NCCL && !ctx,
                  std::string("expected RINGRT_ERR_NO_NCCL, got ") +
                      ringrt_status_string(st));
  bad |= check(contains(msg.c_str(), "NCCL not available "
                                     "(libnccl-ringrt-absent.so.2 not "
                                     "found); use comm \"mpi\""),
               "message: " + msg);
  bad |= check(allAgree(st), "every rank fails the same way");
  return bad;
}

int noDevice() {
  ringrt_context_options o = ncclOptions("cpu");
  ringrt_context *ctx = nullptr;
  ringrt_status st = ringrt_context_create(&o, &ctx);
  std::string msg = ringrt_last_error();
  bool noLib = st == RINGRT_ERR_NO_NCCL &&
               contains(msg.c_str(), "NCCL not available (libnccl.so.2 not "
                                     "found); use comm \"mpi\"");
  bool noStreams = st == RINGRT_ERR_UNSUPPORTED &&
                   contains(msg.c_str(), "device 'cpu' provides none");
  int bad = check((noLib || noStreams) && !ctx,
                  std::string("expected a clean failure, got ") +
                      ringrt_status_string(st) + ": " + msg);
  bad |= check(allAgree(st), "every rank fails the same way");
  if (!bad && rank == 0)
    std::printf("probe: comm nccl without a CUDA device: %s: %s\n",
                ringrt_status_string(st), msg.c_str());
  return bad;
}

int shift() {
  ringrt_context_options o = ncclOptions("cuda");
  ringrt_context *ctx = nullptr;
  if (check(ringrt_context_create(&o, &ctx) == RINGRT_OK, "create"))
    return 1;
  int p = ringrt_coord(ctx, RINGRT_AXIS_RING);
  const int n = 1 << 16;
  const int64_t bytes = n * static_cast<int64_t>(sizeof(int32_t));
  void *dsend[2] = {}, *drecv[2] = {};
  int bad = 0;
  for (int i = 0; i < 2 && !bad; ++i)
    bad |= check(ringrt_device_alloc(ctx, bytes, &dsend[i]) == RINGRT_OK &&
                     ringrt_device_alloc(ctx, bytes, &drecv[i]) == RINGRT_OK,
                 "device_alloc");
  // Two shifts in flight at once (tags 0 and 1), as K and V are.
  for (int i = 0; i < 2 && !bad; ++i) {
    std::vector<int32_t> host(n, 100 * i + p);
    bad |= check(ringrt_memcpy_to_device(ctx, dsend[i], host.data(), bytes) ==
                     RINGRT_OK,
                 "memcpy_to_device");
  }
  ringrt_request *req[2] = {};
  for (int i = 0; i < 2 && !bad; ++i)
    bad |= check(ringrt_shift_start(ctx, dsend[i], drecv[i], bytes, 0, i,
                                    &req[i]) == RINGRT_OK,
                 "shift_start");
  for (int i = 0; i < 2; ++i)
    if (req[i])
      bad |= check(ringrt_wait(ctx, req[i]) == RINGRT_OK, "wait");
  int pred = (p + size - 1) % size;
  for (int i = 0; i < 2 && !bad; ++i) {
    std::vector<int32_t> host(n, -1);
    bad |= check(ringrt_memcpy_to_host(ctx, host.data(), drecv[i], bytes) ==
                         RINGRT_OK &&
                     host[0] == 100 * i + pred && host[n - 1] == 100 * i + pred,
                 "shift delivers the predecessor's block");
  }
  bad |= check(ringrt_barrier(ctx) == RINGRT_OK, "barrier");
  for (int i = 0; i < 2; ++i) {
    ringrt_device_free(ctx, dsend[i]);
    ringrt_device_free(ctx, drecv[i]);
  }
  ringrt_context_destroy(ctx);
  return bad;
}

} // namespace

int main(int argc, char **argv) {
  return probe::run(argc, argv,
                    {{"no-nccl", noNccl},
                     {"no-device", noDevice},
                     {"shift", shift}});
}
