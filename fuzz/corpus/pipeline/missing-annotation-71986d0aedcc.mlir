shard.grid @g(shape = 2)
func.func @f(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>, %v: tensor<1x4x64x16xf32>) -> (tensor<1x4x64x16xf32>, tensor<1x4x64xf32>) {
  %s = shard.sharding @g split_axes = [[], [], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x4x64x16xf32>
  %k1 = shard.shard %k to %s : tensor<1x4x64x16xf32>
  // expected-error @+1 {{value has no shard.shard annotation but query has one; annotate query, key and value on the same grid}}
  %o, %lse = ring.attention %q1, %k1, %v : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32> -> tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
  return %o, %lse : tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
}
