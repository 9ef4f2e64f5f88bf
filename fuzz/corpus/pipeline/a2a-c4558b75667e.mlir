

shard.grid @g(shape = 2x2)
func.func @twoaxes(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>, %v: tensor<1x4x64x16xf32>) -> (tensor<1x4x64x16xf32>, tensor<1x4x64xf32>) {
  %s = shard.sharding @g split_axes = [[], [], [0, 1]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x4x64x16xf32>
  %k1 = shard.shard %k to %s : tensor<1x4x64x16xf32>
  %v1 = shard.shard %v to %s : tensor<1x4x64x16xf32>
  // expected-error @+1 {{the sequence dimension of query is split over 2 grid axes; ringc splits each dimension over at most one grid axis (or the sequence over [ring axis, a2a axis] when ring.attention names its all-to-all axis with a2a_axis(A))}}
  %o, %lse = ring.attention %q1, %k1, %v1 : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32> -> tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
  return %o, %lse : tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
}
