// RUN: ring-opt %s | FileCheck %s

// The generic form with the enum attributes spelled out parses into the
// custom form.
// CHECK-LABEL: func.func @generic
// CHECK: ring.attention %{{.+}}, %{{.+}}, %{{.+}} mask<causal> balance<none> : tensor<1x2x32x16xf32>
func.func @generic(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x16xf32>)
    -> (tensor<1x2x32x16xf32>, tensor<1x2x32xf32>) {
  %o:2 = "ring.attention"(%q, %k, %v) {mask = #ring.mask<causal>, balance = #ring.balance<none>}
      : (tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>) -> (tensor<1x2x32x16xf32>, tensor<1x2x32xf32>)
  return %o#0, %o#1 : tensor<1x2x32x16xf32>, tensor<1x2x32xf32>
}
