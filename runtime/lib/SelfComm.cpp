//===- SelfComm.cpp - single-process communicator backend -------*- C++ -*-===//
//
// This file implements the "self" communicator backend: a grid of exactly
// one rank, where a ring shift is a copy from the send to the receive buffer
// and every all-reduce is the identity. It lets unit tests and single-rank
// artifacts run without mpirun.
//
//===----------------------------------------------------------------------===//

#include "Context.h"
#include "Error.h"

#include <cstring>

using namespace ringrt;

namespace {

struct SelfRequest : ringrt_request {};

class SelfComm final : public CommBackend {
public:
  ringrt_status shiftStart(const void *send, void *recv, int64_t bytes,
                           int32_t, int32_t,
                           std::unique_ptr<ringrt_request> &out) override {
    if (bytes > 0)
      std::memcpy(recv, send, static_cast<size_t>(bytes));
    out.reset(new SelfRequest());
    return RINGRT_OK;
  }

  ringrt_status shiftStartDir(const void *send, void *recv, int64_t bytes,
                              int32_t stage, int32_t tag, int32_t,
                              std::unique_ptr<ringrt_request> &out) override {
    return shiftStart(send, recv, bytes, stage, tag, out);
  }

  ringrt_status wait(ringrt_request &) override { return RINGRT_OK; }

  ringrt_status allreduceSumF32(float *, int64_t, int, int32_t) override {
    return RINGRT_OK;
  }

  ringrt_status barrier() override { return RINGRT_OK; }
};

} // namespace

ringrt_status ringrt::createSelfComm(GridInfo &grid,
                                     std::unique_ptr<CommBackend> &out) {
  if (grid.size() != 1)
    return setErrorf(RINGRT_ERR_INVALID_ARGUMENT,
                     "ringrt_context_create: comm 'self' runs one process, "
                     "but grid %s has %lld ranks",
                     grid.describe().c_str(),
                     static_cast<long long>(grid.size()));
  grid.worldSize = 1;
  grid.place(0);
  out.reset(new SelfComm());
  return RINGRT_OK;
}
