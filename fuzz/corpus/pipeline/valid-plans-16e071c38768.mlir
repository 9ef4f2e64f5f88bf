// Specs ringc compiles: the pass reports the derived plan and leaves the IR
// as it was.

func.func @single_device(%q: tensor<1x4x64x32xf32>, %k: tensor<1x4x64x32xf32>, %v: tensor<1x4x64x32xf32>)
    -> (tensor<1x4x64x32xf32>, tensor<1x4x64xf32>) {
  // expected-remark @+1 {{plan: batch=1,heads=4,kv_heads=4,seq=64,head_dim=32,dtype=f32,causal=0,balance=none,scale=0.17677669529663687,grid=[],axes=[-1,-1,-1] ranks=1}}
  %o, %lse = ring.attention %q, %k, %v : tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32>, tensor<1x4x64x32xf32> -> tensor<1x4x64x32xf32>, tensor<1x4x64xf32>
  return %o, %lse : tensor<1x4x64x32xf32>, tensor<1x4x64xf32>
}
