//===- CudaStreams.cpp - CUDA streams, events and their ordering -*- C++ -*-===//
//
// This file implements the stream and event bookkeeping of device "cuda"
// (CudaStreams.h) over a CudaDriver table: the retained primary context,
// the compute and communication streams, the cross-stream waits that order
// transfers after compute and compute after transfers, and the
// StreamProvider that comm "nccl" uses.
//
//===----------------------------------------------------------------------===//

#include "CudaStreams.h"
#include "../Error.h"

using namespace ringrt;

ringrt_status CudaStreams::create(const CudaDriver &driver, int index,
                                  std::shared_ptr<CudaStreams> &out) {
  std::shared_ptr<CudaStreams> s(new CudaStreams(driver, index));
  if (ringrt_status st = s->init())
    return st;
  out = std::move(s);
  return RINGRT_OK;
}

ringrt_status CudaStreams::init() {
  if (ringrt_status st = check(d.cuDeviceGet(&device, index), "cuDeviceGet"))
    return st;
  if (ringrt_status st = check(d.cuDevicePrimaryCtxRetain(&context, device),
                               "cuDevicePrimaryCtxRetain"))
    return st;
  retained = true;
  if (ringrt_status st = activate())
    return st;
  if (ringrt_status st = check(d.cuStreamCreate(&own,
                                                cuda::StreamNonBlocking),
                               "cuStreamCreate(compute)"))
    return st;
  compute = own;
  if (ringrt_status st = check(d.cuStreamCreate(&comm, cuda::StreamNonBlocking),
                               "cuStreamCreate(communication)"))
    return st;
  return check(d.cuEventCreate(&computeDone, cuda::EventDisableTiming),
               "cuEventCreate");
}

CudaStreams::~CudaStreams() {
  if (!retained)
    return;
  d.cuCtxSetCurrent(context);
  if (computeDone)
    d.cuEventDestroy(computeDone);
  if (callEvent)
    d.cuEventDestroy(callEvent);
  for (cuda::Stream s : {own, comm})
    if (s)
      d.cuStreamDestroy(s);
  d.cuDevicePrimaryCtxRelease(device);
}

ringrt_status CudaStreams::check(cuda::Result r, const char *what) const {
  if (r == cuda::Success)
    return RINGRT_OK;
  const char *msg = nullptr;
  if (d.cuGetErrorString)
    d.cuGetErrorString(r, &msg);
  bool capture =
      r >= cuda::StreamCaptureUnsupported && r <= cuda::StreamCaptureLast;
  return setErrorf(RINGRT_ERR_DEVICE, "device 'cuda' %d: %s failed: %s (%d)%s",
                   index, what, msg ? msg : "unknown error", r,
                   capture ? "; a CUDA graph is being captured: only an "
                             "entry point's call with comm 'nccl' can be "
                             "captured, after one call outside the capture "
                             "(it loads the kernels and allocates the "
                             "context's workspace); see 'CUDA graphs' in the "
                             "artifact's header"
                           : "");
}

ringrt_status CudaStreams::activate() {
  return check(d.cuCtxSetCurrent(context), "cuCtxSetCurrent");
}

ringrt_status CudaStreams::createStream(void **stream) {
  cuda::Stream s = nullptr;
  ringrt_status st =
      check(d.cuStreamCreate(&s, cuda::StreamNonBlocking), "cuStreamCreate");
  *stream = st == RINGRT_OK ? s : nullptr;
  return st;
}

void CudaStreams::destroyStream(void *stream) {
  if (stream)
    d.cuStreamDestroy(static_cast<cuda::Stream>(stream));
}

ringrt_status CudaStreams::createEvent(void **event) {
  cuda::Event e = nullptr;
  ringrt_status st =
      check(d.cuEventCreate(&e, cuda::EventDisableTiming), "cuEventCreate");
  *event = st == RINGRT_OK ? e : nullptr;
  return st;
}

void CudaStreams::destroyEvent(void *event) {
  if (event)
    d.cuEventDestroy(static_cast<cuda::Event>(event));
}

ringrt_status CudaStreams::orderAfterCompute(void *stream) {
  if (ringrt_status st =
          check(d.cuEventRecord(computeDone, compute), "cuEventRecord(compute)"))
    return st;
  return check(d.cuStreamWaitEvent(static_cast<cuda::Stream>(stream),
                                   computeDone, 0),
               "cuStreamWaitEvent(after compute)");
}

ringrt_status CudaStreams::orderComputeAfter(void *event) {
  return check(d.cuStreamWaitEvent(compute, static_cast<cuda::Event>(event), 0),
               "cuStreamWaitEvent(compute after transfer)");
}

ringrt_status CudaStreams::recordEvent(void *event, void *stream) {
  return check(d.cuEventRecord(static_cast<cuda::Event>(event),
                               static_cast<cuda::Stream>(stream)),
               "cuEventRecord");
}

ringrt_status CudaStreams::queryEvent(void *event, bool &done) {
  cuda::Result r = d.cuEventQuery(static_cast<cuda::Event>(event));
  done = r == cuda::Success;
  return r == cuda::NotReady ? RINGRT_OK : check(r, "cuEventQuery");
}

ringrt_status CudaStreams::computeAfterComm(void *event) {
  if (ringrt_status st = recordEvent(event, comm))
    return st;
  return orderComputeAfter(event);
}

ringrt_status CudaStreams::hostWait(void *event) {
  return check(d.cuEventSynchronize(static_cast<cuda::Event>(event)),
               "cuEventSynchronize");
}

ringrt_status CudaStreams::beginCall(cuda::Stream caller) {
  compute = own;
  captured = false;
  int capture = cuda::CaptureStatusNone;
  if (ringrt_status st = check(d.cuStreamIsCapturing(caller ? caller : own,
                                                     &capture),
                               "cuStreamIsCapturing"))
    return st;
  if (capture == cuda::CaptureStatusInvalidated)
    return setErrorf(RINGRT_ERR_DEVICE,
                     "device 'cuda' %d: the stream's CUDA graph capture was "
                     "invalidated by an earlier call that cannot be "
                     "captured (cuStreamIsCapturing: "
                     "CU_STREAM_CAPTURE_STATUS_INVALIDATED); end that "
                     "capture and capture again",
                     index);
  captured = capture == cuda::CaptureStatusActive;
  if (!caller || caller == own)
    return RINGRT_OK;
  // Outside a capture the caller's stream waits for the previous call on
  // the own stream; inside one it cannot wait on an event recorded outside
  // the capture, and the graph's launch orders it instead.
  if (!captured)
    if (ringrt_status st = orderAfterCompute(caller))
      return st;
  compute = caller;
  return RINGRT_OK;
}

ringrt_status CudaStreams::endCall() {
  cuda::Stream callStream = compute;
  bool wasCaptured = captured;
  compute = own; // even after a failure: never keep the caller's stream
  captured = false;
  // A captured call is complete as captured: its NCCL transfers were each
  // waited for on the device (comm 'nccl' orders the compute stream after
  // them), and the communication stream, used only by comm 'mpi' (which
  // cannot be captured), is outside the capture, so the caller's stream
  // must not wait on it (CUDA_ERROR_STREAM_CAPTURE_ISOLATION). Nor may the
  // own stream wait for the captured call: it would join the capture,
  // which could then not end (CUDA_ERROR_STREAM_CAPTURE_UNJOINED).
  if (wasCaptured)
    return RINGRT_OK;
  if (!callEvent)
    if (ringrt_status st = check(
            d.cuEventCreate(&callEvent, cuda::EventDisableTiming),
            "cuEventCreate"))
      return st;
  if (ringrt_status st = recordEvent(callEvent, comm))
    return st;
  if (ringrt_status st =
          check(d.cuStreamWaitEvent(callStream, callEvent, 0),
                "cuStreamWaitEvent(call after communication)"))
    return st;
  if (callStream == own)
    return RINGRT_OK;
  if (ringrt_status st = recordEvent(computeDone, callStream))
    return st;
  return check(d.cuStreamWaitEvent(own, computeDone, 0),
               "cuStreamWaitEvent(own stream after the call)");
}

ringrt_status CudaStreams::waitStream(cuda::Stream stream) {
  cuda::Stream s = stream ? stream : own;
  int capture = cuda::CaptureStatusNone;
  if (ringrt_status st =
          check(d.cuStreamIsCapturing(s, &capture), "cuStreamIsCapturing"))
    return st;
  if (capture != cuda::CaptureStatusNone)
    return setErrorf(RINGRT_ERR_UNSUPPORTED,
                     "device 'cuda' %d: the stream is capturing a CUDA "
                     "graph and cannot be waited for: capture the entry "
                     "point without _sync, and wait after launching the "
                     "graph",
                     index);
  return check(d.cuStreamSynchronize(s), "cuStreamSynchronize");
}

ringrt_status CudaStreams::synchronize() {
  if (ringrt_status st =
          check(d.cuStreamSynchronize(compute), "cuStreamSynchronize(compute)"))
    return st;
  return check(d.cuStreamSynchronize(comm),
               "cuStreamSynchronize(communication)");
}
