//===- CudaProgramCheck.h - overlap ordering checks over a fake driver -*- C++ -*-===//
//
// This file declares the test support shared by the fake-driver tests of
// device "cuda" (CudaOrderingTest.cpp with a host communicator, and
// NcclCommTest.cpp with comm "nccl"): a ring program shaped like the one
// ConvertRingToGPULaunch generates, run through the codegen ABI, and a
// checker of the ordering rules over the fake driver's call log.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_TEST_CUDAPROGRAMCHECK_H
#define RINGRT_TEST_CUDAPROGRAMCHECK_H

#include "ringrt/ringrt.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ringrt {
namespace fake {

/// Runs, on `ctx`, with its K/V double buffer in the context's workspace
/// (ringrt_cg_workspace), kernel "init"; then for each of `stages` stages t:
/// shift_start of stage t+1 (but for the last stage; send kv[t%2], receive
/// into kv[(t+1)%2]), kernel "attn" (reading kv[t%2]), shift_wait; then
/// kernel "finalize" and ringrt_cg_synchronize. Appends a marker line
/// ("--- shift_start stage=N", "--- shift_wait stage=N", "--- synchronize")
/// to `log` before each of those calls. Returns the status cell.
int32_t runRingProgram(ringrt_context *ctx, std::vector<std::string> &log,
                       int stages, int64_t bytes);

/// The same program as a generated entry point runs it: between
/// ringrt_cg_begin on `stream` ("--- begin") and ringrt_cg_end ("--- end"),
/// without the final synchronize.
int32_t runEntryProgram(ringrt_context *ctx, std::vector<std::string> &log,
                        int stages, int64_t bytes, void *stream);

/// Checks the overlap rules over `log` (compute stream "s1", transfers on
/// `commStream`): every line starting with one of `transferOut` inside a
/// shift_start (the send/receive of the transfer) comes after the comm
/// stream waited on an event recorded on s1 in that call; every
/// shift_wait makes s1 wait on an event recorded on `commStream` after
/// the last line starting with one of `transferIn` (the host-to-device
/// copy, or the NCCL send/receive); kernels run on s1; no
/// cuStreamSynchronize or cuCtxSynchronize before "--- synchronize", and
/// no cuEventSynchronize inside a shift_wait. Returns the violations.
std::vector<std::string>
checkOverlapOrdering(const std::vector<std::string> &log,
                     const std::string &commStream,
                     const std::vector<std::string> &transferOut,
                     const std::vector<std::string> &transferIn);

} // namespace fake
} // namespace ringrt

#endif // RINGRT_TEST_CUDAPROGRAMCHECK_H
