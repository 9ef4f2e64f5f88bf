// RUN: ring-opt %s -split-input-file | FileCheck %s
// RUN: ring-opt %s -split-input-file | ring-opt -split-input-file | FileCheck %s
// RUN: ring-opt %s -split-input-file -mlir-print-op-generic | ring-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @plain
// CHECK: %[[O:.+]], %[[L:.+]] = ring.attention %{{.+}}, %{{.+}}, %{{.+}} : tensor<2x8x128x64xf32>, tensor<2x8x128x64xf32>, tensor<2x8x128x64xf32> -> tensor<2x8x128x64xf32>, tensor<2x8x128xf32>
// CHECK-NOT: mask
// CHECK: return %[[O]], %[[L]]
func.func @plain(%q: tensor<2x8x128x64xf32>, %k: tensor<2x8x128x64xf32>, %v: tensor<2x8x128x64xf32>)
    -> (tensor<2x8x128x64xf32>, tensor<2x8x128xf32>) {
  %o, %lse = ring.attention %q, %k, %v : tensor<2x8x128x64xf32>, tensor<2x8x128x64xf32>, tensor<2x8x128x64xf32> -> tensor<2x8x128x64xf32>, tensor<2x8x128xf32>
  return %o, %lse : tensor<2x8x128x64xf32>, tensor<2x8x128xf32>
}

// -----

// CHECK-LABEL: func.func @causal_gqa_bf16
// CHECK: ring.attention %{{.+}}, %{{.+}}, %{{.+}} mask<causal> balance<striped> scale(1.250000e-01) : tensor<1x8x256x64xbf16>, tensor<1x2x256x64xbf16>
func.func @causal_gqa_bf16(%q: tensor<1x8x256x64xbf16>, %k: tensor<1x2x256x64xbf16>, %v: tensor<1x2x256x64xbf16>)
    -> (tensor<1x8x256x64xbf16>, tensor<1x8x256xf32>) {
  %o, %lse = ring.attention %q, %k, %v mask<causal> balance<striped> scale(0.125) : tensor<1x8x256x64xbf16>, tensor<1x2x256x64xbf16>, tensor<1x2x256x64xbf16> -> tensor<1x8x256x64xbf16>, tensor<1x8x256xf32>
  return %o, %lse : tensor<1x8x256x64xbf16>, tensor<1x8x256xf32>
}

// -----

// MQA in f16; an explicit `mask<none>` is the default and is not printed.
// CHECK-LABEL: func.func @mqa_f16
// CHECK: ring.attention %{{.+}}, %{{.+}}, %{{.+}} balance<zigzag> : tensor<1x16x64x128xf16>, tensor<1x1x64x128xf16>
func.func @mqa_f16(%q: tensor<1x16x64x128xf16>, %k: tensor<1x1x64x128xf16>, %v: tensor<1x1x64x128xf16>)
    -> (tensor<1x16x64x128xf16>, tensor<1x16x64xf32>) {
  %o, %lse = ring.attention %q, %k, %v mask<none> balance<zigzag> : tensor<1x16x64x128xf16>, tensor<1x1x64x128xf16>, tensor<1x1x64x128xf16> -> tensor<1x16x64x128xf16>, tensor<1x16x64xf32>
  return %o, %lse : tensor<1x16x64x128xf16>, tensor<1x16x64xf32>
}
