

shard.grid @g(shape = 2x2)
func.func @notsplit(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>, %v: tensor<1x4x64x16xf32>) -> (tensor<1x4x64x16xf32>, tensor<1x4x64xf32>) {
  %s = shard.sharding @g split_axes = [[], [1], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x4x64x16xf32>
  %k1 = shard.shard %k to %s : tensor<1x4x64x16xf32>
  %v1 = shard.shard %v to %s : tensor<1x4x64x16xf32>
  // expected-error @+1 {{a2a_axis(1) names the all-to-all axis, but the sequence dimension is not split over it; split it over [ring axis, 1] or [1]}}
  %o, %lse = ring.attention %q1, %k1, %v1 a2a_axis(1) : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32> -> tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
  return %o, %lse : tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
}

