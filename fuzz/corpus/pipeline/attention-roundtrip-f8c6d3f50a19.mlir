// MQA in f16; an explicit `mask<none>` is the default and is not printed.
func.func @mqa_f16(%q: tensor<1x16x64x128xf16>, %k: tensor<1x1x64x128xf16>, %v: tensor<1x1x64x128xf16>)
    -> (tensor<1x16x64x128xf16>, tensor<1x16x64xf32>) {
  %o, %lse = ring.attention %q, %k, %v mask<none> balance<zigzag> : tensor<1x16x64x128xf16>, tensor<1x1x64x128xf16>, tensor<1x1x64x128xf16> -> tensor<1x16x64x128xf16>, tensor<1x16x64xf32>
  return %o, %lse : tensor<1x16x64x128xf16>, tensor<1x16x64xf32>
}
