// RUN: ring-opt %s -split-input-file -verify-diagnostics | FileCheck %s
// The accumulating block attention (fused merge) round-trips, and its
// verifier rejects accumulators that do not match the query buffer.

// CHECK-LABEL: func.func @roundtrip
func.func @roundtrip(%q: memref<1x4x64x32xbf16>, %k: memref<1x2x64x32xbf16>, %v: memref<1x2x64x32xbf16>,
                     %ao: memref<1x4x64x32xf32>, %al: memref<1x4x64xf32>, %p: index, %src: index) {
  // CHECK: ring.block_attention_accumulate ins(%{{.+}}, %{{.+}}, %{{.+}} : memref<1x4x64x32xbf16>, memref<1x2x64x32xbf16>, memref<1x2x64x32xbf16>) acc(%{{.+}}, %{{.+}} : memref<1x4x64x32xf32>, memref<1x4x64xf32>) q_owner(%{{.+}}) kv_owner(%{{.+}}) q_rows = [0, 32] kv_rows = [0, 64] mask<causal> layout<zigzag> ring_size = 2 scale = 1.250000e-01 first
  ring.block_attention_accumulate ins(%q, %k, %v : memref<1x4x64x32xbf16>, memref<1x2x64x32xbf16>, memref<1x2x64x32xbf16>)
      acc(%ao, %al : memref<1x4x64x32xf32>, memref<1x4x64xf32>)
      q_owner(%p) kv_owner(%src) q_rows = [0, 32] kv_rows = [0, 64]
      mask<causal> layout<zigzag> ring_size = 2 scale = 0.125 first
  // CHECK: ring.block_attention_accumulate
  // CHECK-SAME: q_rows = [32, 32] kv_rows = [0, 32] mask<none> layout<zigzag> ring_size = 2 scale = 1.250000e-01{{$}}
  ring.block_attention_accumulate ins(%q, %k, %v : memref<1x4x64x32xbf16>, memref<1x2x64x32xbf16>, memref<1x2x64x32xbf16>)
      acc(%ao, %al : memref<1x4x64x32xf32>, memref<1x4x64xf32>)
      q_owner(%p) kv_owner(%src) q_rows = [32, 32] kv_rows = [0, 32]
      mask<none> layout<zigzag> ring_size = 2 scale = 0.125
  return
}

// -----

func.func @acc_rows(%q: memref<1x4x64x32xbf16>, %k: memref<1x2x64x32xbf16>, %v: memref<1x2x64x32xbf16>,
                    %ao: memref<1x4x32x32xf32>, %al: memref<1x4x32xf32>, %p: index) {
  // expected-error @+1 {{accumulators must be 1x4x64x32xf32 and 1x4x64xf32 (the query buffer's rows), got 1x4x32x32 and 1x4x32}}
  ring.block_attention_accumulate ins(%q, %k, %v : memref<1x4x64x32xbf16>, memref<1x2x64x32xbf16>, memref<1x2x64x32xbf16>)
      acc(%ao, %al : memref<1x4x32x32xf32>, memref<1x4x32xf32>)
      q_owner(%p) kv_owner(%p) q_rows = [0, 32] kv_rows = [0, 64]
      mask<none> layout<none> ring_size = 1 scale = 0.125
  return
}

// -----

func.func @rows_out_of_range(%q: memref<1x4x64x32xbf16>, %k: memref<1x2x64x32xbf16>, %v: memref<1x2x64x32xbf16>,
                             %ao: memref<1x4x64x32xf32>, %al: memref<1x4x64xf32>, %p: index) {
  // expected-error @+1 {{q_rows = [48, 32] selects rows [48, 80) but the buffer has 64 rows}}
  ring.block_attention_accumulate ins(%q, %k, %v : memref<1x4x64x32xbf16>, memref<1x2x64x32xbf16>, memref<1x2x64x32xbf16>)
      acc(%ao, %al : memref<1x4x64x32xf32>, memref<1x4x64xf32>)
      q_owner(%p) kv_owner(%p) q_rows = [48, 32] kv_rows = [0, 64]
      mask<none> layout<none> ring_size = 1 scale = 0.125
  return
}

// -----

func.func @acc_is_input(%q: memref<1x2x64x32xf32>, %k: memref<1x2x64x32xf32>, %v: memref<1x2x64x32xf32>,
                        %al: memref<1x2x64xf32>, %p: index) {
  // expected-error @+1 {{the accumulator must not be one of the Q, K, V buffers the block reads}}
  ring.block_attention_accumulate ins(%q, %k, %v : memref<1x2x64x32xf32>, memref<1x2x64x32xf32>, memref<1x2x64x32xf32>)
      acc(%q, %al : memref<1x2x64x32xf32>, memref<1x2x64xf32>)
      q_owner(%p) kv_owner(%p) q_rows = [0, 64] kv_rows = [0, 64]
      mask<none> layout<none> ring_size = 1 scale = 0.125
  return
}

// -----

func.func @ring_size(%q: memref<1x4x64x32xbf16>, %k: memref<1x2x64x32xbf16>, %v: memref<1x2x64x32xbf16>,
                     %ao: memref<1x4x64x32xf32>, %al: memref<1x4x64xf32>, %p: index) {
  // expected-error @+1 {{attribute 'ring_size' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  ring.block_attention_accumulate ins(%q, %k, %v : memref<1x4x64x32xbf16>, memref<1x2x64x32xbf16>, memref<1x2x64x32xbf16>)
      acc(%ao, %al : memref<1x4x64x32xf32>, memref<1x4x64xf32>)
      q_owner(%p) kv_owner(%p) q_rows = [0, 64] kv_rows = [0, 64]
      mask<none> layout<none> ring_size = 0 scale = 0.125
  return
}

// -----

func.func @scale(%q: memref<1x4x64x32xbf16>, %k: memref<1x2x64x32xbf16>, %v: memref<1x2x64x32xbf16>,
                 %ao: memref<1x4x64x32xf32>, %al: memref<1x4x64xf32>, %p: index) {
  // expected-error @+1 {{scale must be positive and finite}}
  ring.block_attention_accumulate ins(%q, %k, %v : memref<1x4x64x32xbf16>, memref<1x2x64x32xbf16>, memref<1x2x64x32xbf16>)
      acc(%ao, %al : memref<1x4x64x32xf32>, memref<1x4x64xf32>)
      q_owner(%p) kv_owner(%p) q_rows = [0, 64] kv_rows = [0, 64]
      mask<none> layout<none> ring_size = 1 scale = -1.0
  return
}

// -----

func.func @acc_not_f32(%q: memref<1x4x64x32xbf16>, %k: memref<1x2x64x32xbf16>, %v: memref<1x2x64x32xbf16>,
                       %ao: memref<1x4x64x32xbf16>, %al: memref<1x4x64xf32>, %p: index) {
  // expected-error @+1 {{operand #3 must be memref of 32-bit float values}}
  ring.block_attention_accumulate ins(%q, %k, %v : memref<1x4x64x32xbf16>, memref<1x2x64x32xbf16>, memref<1x2x64x32xbf16>)
      acc(%ao, %al : memref<1x4x64x32xbf16>, memref<1x4x64xf32>)
      q_owner(%p) kv_owner(%p) q_rows = [0, 64] kv_rows = [0, 64]
      mask<none> layout<none> ring_size = 1 scale = 0.125
  return
}
