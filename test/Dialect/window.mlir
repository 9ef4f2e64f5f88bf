// RUN: ring-opt %s -split-input-file | FileCheck %s
// RUN: ring-opt %s -split-input-file | ring-opt -split-input-file | FileCheck %s
// RUN: ring-opt %s -split-input-file -mlir-print-op-generic | ring-opt -split-input-file | FileCheck %s
// The sliding window (#ring.window) on the spec op, in the plan and on the
// per-rank block ops.

// CHECK-LABEL: func.func @causal_left
// CHECK: ring.attention %{{.+}}, %{{.+}}, %{{.+}} mask<causal> window<left = 16, right = -1> :
func.func @causal_left(%q: tensor<1x2x64x16xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>)
    -> (tensor<1x2x64x16xf32>, tensor<1x2x64xf32>) {
  %o, %lse = ring.attention %q, %k, %v mask<causal> window<left = 16, right = -1> : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32> -> tensor<1x2x64x16xf32>, tensor<1x2x64xf32>
  return %o, %lse : tensor<1x2x64x16xf32>, tensor<1x2x64xf32>
}

// -----

// CHECK-LABEL: func.func @both_sides
// CHECK: ring.attention %{{.+}}, %{{.+}}, %{{.+}} balance<striped> window<left = 3, right = 0> :
func.func @both_sides(%q: tensor<1x2x64x16xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>)
    -> (tensor<1x2x64x16xf32>, tensor<1x2x64xf32>) {
  %o, %lse = ring.attention %q, %k, %v balance<striped> window<left = 3, right = 0> : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32> -> tensor<1x2x64x16xf32>, tensor<1x2x64xf32>
  return %o, %lse : tensor<1x2x64x16xf32>, tensor<1x2x64xf32>
}

// -----

// CHECK-LABEL: func.func @block
// CHECK: ring.block_attention {{.+}} mask<none> layout<none> window<left = 4, right = 2> ring_size = 2
// CHECK: ring.shift %{{.+}}, %{{.+}} stage 0 backward :
// CHECK: ring.shift_start %{{.+}}, %{{.+}} stage 1 backward :
func.func @block(%q: memref<1x1x8x8xf32>, %k: memref<1x1x8x8xf32>, %v: memref<1x1x8x8xf32>, %po: memref<1x1x8x8xf32>, %pl: memref<1x1x8xf32>, %kb: memref<1x1x8x8xf32>, %p: index) {
  ring.block_attention ins(%q, %k, %v : memref<1x1x8x8xf32>, memref<1x1x8x8xf32>, memref<1x1x8x8xf32>) outs(%po, %pl : memref<1x1x8x8xf32>, memref<1x1x8xf32>) q_owner(%p) kv_owner(%p) q_rows = [0, 8] kv_rows = [0, 8] mask<none> layout<none> window<left = 4, right = 2> ring_size = 2 scale = 0.35
  ring.shift %k, %kb stage 0 backward : memref<1x1x8x8xf32>
  %t = ring.shift_start %k, %kb stage 1 backward : memref<1x1x8x8xf32>
  ring.shift_wait %t
  return
}
