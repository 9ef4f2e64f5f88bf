//===- CudaStreams.h - CUDA streams, events and their ordering --*- C++ -*-===//
//
// This file declares the stream and event bookkeeping of device "cuda": the
// primary context it holds, a compute stream (kernel launches), a
// communication stream (host staging copies of MPI shifts), the events that
// order one after the other, and the StreamProvider (NcclComm.h) through
// which comm "nccl" gets its own stream ordered the same way.
//
// The ordering, in the generated program's order (stage t: shift_start for
// stage t+1, the kernels of stage t, shift_wait):
//
//   * shift_start: orderAfterCompute(comm stream) records an event on the
//     compute stream and makes the comm stream wait on it, so the transfer
//     starts after the kernels already queued (the previous stage's, which
//     read the buffer now received into) without blocking the host;
//   * shift_wait: orderComputeAfter(transfer event) makes the compute stream
//     wait on the transfer's completion event, so later kernels see the
//     data; the host blocks only where the communicator must (MPI's wait,
//     NCCL's timed polling of the event);
//   * synchronize() (cuStreamSynchronize of both streams) is for the end of
//     a program and the public copies, never the steady state.
//
// The object is shared: the device backend and comm "nccl" both hold it,
// and the device backend is destroyed first, so the primary context is
// retained here and released by the last owner.
//
//===----------------------------------------------------------------------===//

#ifndef RINGRT_LIB_DEVICE_CUDASTREAMS_H
#define RINGRT_LIB_DEVICE_CUDASTREAMS_H

#include "../NcclComm.h"
#include "CudaDriver.h"

#include <memory>

namespace ringrt {

class CudaStreams final : public StreamProvider {
public:
  /// Retains the primary context of device `index` of an initialized
  /// driver, makes it current and creates the compute and communication
  /// streams (non-blocking) and the compute event.
  static ringrt_status create(const CudaDriver &driver, int index,
                              std::shared_ptr<CudaStreams> &out);
  ~CudaStreams() override;

  const CudaDriver &driver() const { return d; }
  cuda::Stream computeStream() const { return compute; }
  cuda::Stream commStream() const { return comm; }

  /// RINGRT_OK for CUDA_SUCCESS; otherwise RINGRT_ERR_DEVICE with
  /// "device 'cuda' <index>: <what> failed: <driver message> (<code>)",
  /// and for a stream-capture error (900-908) what ringrt can capture.
  ringrt_status check(cuda::Result r, const char *what) const;

  /// Records `event` on the communication stream, then makes the compute
  /// stream wait on it: compute queued afterwards sees what the
  /// communication stream has done so far.
  ringrt_status computeAfterComm(void *event);
  /// Blocks the host until `event` has completed (cuEventSynchronize).
  ringrt_status hostWait(void *event);
  /// Waits for everything queued on both streams.
  ringrt_status synchronize();

  /// Starts a call on `caller` (null: the own compute stream): `caller`
  /// waits for the own compute stream (the previous call, which used the
  /// same workspace), then takes its place as the compute stream.
  /// When `caller` is capturing a CUDA graph (cuStreamIsCapturing), the
  /// call is captured: `caller` does not wait for the own stream (an event
  /// recorded outside the capture cannot be waited on inside it), so the
  /// graph is ordered only by the stream it is launched on. A capture that
  /// an earlier call invalidated is an error.
  ringrt_status beginCall(cuda::Stream caller);
  /// Ends the call without blocking the host: the compute stream waits for
  /// the communication stream, the own compute stream waits for the
  /// caller's, and the own stream becomes the compute stream again (so the
  /// caller may destroy its stream afterwards). A captured call only does
  /// the last: neither stream may take part in the capture.
  ringrt_status endCall();
  /// cuStreamSynchronize of `stream` (null: the own compute stream); a
  /// capturing stream is RINGRT_ERR_UNSUPPORTED (it cannot be waited for).
  ringrt_status waitStream(cuda::Stream stream);
  bool capturing() const override { return captured; }

  // StreamProvider.
  const char *name() const override { return "cuda"; }
  ringrt_status activate() override;
  ringrt_status createStream(void **stream) override;
  void destroyStream(void *stream) override;
  ringrt_status createEvent(void **event) override;
  void destroyEvent(void *event) override;
  ringrt_status orderAfterCompute(void *stream) override;
  ringrt_status orderComputeAfter(void *event) override;
  ringrt_status recordEvent(void *event, void *stream) override;
  ringrt_status queryEvent(void *event, bool &done) override;

private:
  CudaStreams(const CudaDriver &driver, int index)
      : d(driver), index(index) {}
  ringrt_status init();

  CudaDriver d;
  int index;
  cuda::Device device = 0;
  cuda::Context context = nullptr;
  bool retained = false;
  /// The compute stream in use (own, or a caller's during a call), the
  /// one this object created, and the communication stream.
  cuda::Stream compute = nullptr, own = nullptr, comm = nullptr;
  /// Whether the call in progress is captured into a CUDA graph.
  bool captured = false;
  /// Orders compute after comm at the end of a call (created on first use).
  cuda::Event callEvent = nullptr;
  /// Re-recorded on the compute stream by every orderAfterCompute: a wait
  /// captures the event's latest record at the time of the wait, so one
  /// event serves every transfer.
  cuda::Event computeDone = nullptr;
};

} // namespace ringrt

#endif // RINGRT_LIB_DEVICE_CUDASTREAMS_H
