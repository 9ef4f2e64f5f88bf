// RUN: ring-opt %s -split-input-file -verify-diagnostics
// The per-rank ops' verifiers: rows inside their buffers (with checked
// arithmetic), static non-empty buffers, matching accumulators, and the
// plan of ring.local_attention matching its buffers. Each case used to pass
// the verifier and then read out of bounds or crash a pass.

// q_rows = [INT64_MAX, 4]: start + size overflows; it used to wrap around
// and pass the bounds check.
func.func @overflowing_rows(%q: memref<1x1x4x8xf32>, %k: memref<1x1x4x8xf32>, %v: memref<1x1x4x8xf32>, %po: memref<1x1x4x8xf32>, %pl: memref<1x1x4xf32>, %p: index) {
  // expected-error @+1 {{q_rows = [9223372036854775807, 4]: start + size overflows 64 bits; the buffer has 4 rows}}
  ring.block_attention ins(%q, %k, %v : memref<1x1x4x8xf32>, memref<1x1x4x8xf32>, memref<1x1x4x8xf32>) outs(%po, %pl : memref<1x1x4x8xf32>, memref<1x1x4xf32>) q_owner(%p) kv_owner(%p) q_rows = [9223372036854775807, 4] kv_rows = [0, 4] mask<none> layout<none> ring_size = 2 scale = 0.35
  return
}

