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

