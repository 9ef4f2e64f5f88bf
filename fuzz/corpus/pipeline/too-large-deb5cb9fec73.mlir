// A shape whose byte size wraps 64 bits is rejected before any size is
// computed from it.
func.func @huge(%q: tensor<1x8x999999999999999999x64xbf16>, %k: tensor<1x8x999999999999999999x64xbf16>, %v: tensor<1x8x999999999999999999x64xbf16>)
    -> (tensor<1x8x999999999999999999x64xbf16>, tensor<1x8x999999999999999999xf32>) {
  // expected-error @+1 {{query of shape 1x8x999999999999999999x64 is too large: its size in fp32 overflows 64-bit byte offsets}}
  %o, %lse = ring.attention %q, %k, %v : tensor<1x8x999999999999999999x64xbf16>, tensor<1x8x999999999999999999x64xbf16>, tensor<1x8x999999999999999999x64xbf16> -> tensor<1x8x999999999999999999x64xbf16>, tensor<1x8x999999999999999999xf32>
  return %o, %lse : tensor<1x8x999999999999999999x64xbf16>, tensor<1x8x999999999999999999xf32>
}
