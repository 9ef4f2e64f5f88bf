// Axes in another order, and a size-1 axis that no dimension uses.
shard.grid @g(shape = 2x1x3)
func.func @permuted_axes(%q: tensor<2x6x96x64xf16>, %k: tensor<2x3x96x64xf16>, %v: tensor<2x3x96x64xf16>)
    -> (tensor<2x6x96x64xf16>, tensor<2x6x96xf32>) {
  %s = shard.sharding @g split_axes = [[], [2], [], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<2x6x96x64xf16>
  %k1 = shard.shard %k to %s : tensor<2x3x96x64xf16>
  %v1 = shard.shard %v to %s : tensor<2x3x96x64xf16>
  // expected-remark @+1 {{grid=[2x1x3],axes=[-1,2,0] ranks=6}}
  %o, %lse = ring.attention %q1, %k1, %v1 scale(0.5) : tensor<2x6x96x64xf16>, tensor<2x3x96x64xf16>, tensor<2x3x96x64xf16> -> tensor<2x6x96x64xf16>, tensor<2x6x96xf32>
  return %o, %lse : tensor<2x6x96x64xf16>, tensor<2x6x96xf32>
}
