

shard.grid @g(shape = 4)
func.func @heads(%q: tensor<1x6x64x16xf32>, %k: tensor<1x6x64x16xf32>, %v: tensor<1x6x64x16xf32>) -> (tensor<1x6x64x16xf32>, tensor<1x6x64xf32>) {
  %s = shard.sharding @g split_axes = [[], [], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x6x64x16xf32>
  %k1 = shard.shard %k to %s : tensor<1x6x64x16xf32>
  %v1 = shard.shard %v to %s : tensor<1x6x64x16xf32>
  // expected-error @+1 {{a2a = 4 does not divide the 6 query heads of a head group (heads 6 / head_groups 1); the all-to-all gives each rank whole heads. Valid a2a degrees: 1, 2, 3, 6}}
  %o, %lse = ring.attention %q1, %k1, %v1 a2a_axis(0) : tensor<1x6x64x16xf32>, tensor<1x6x64x16xf32>, tensor<1x6x64x16xf32> -> tensor<1x6x64x16xf32>, tensor<1x6x64xf32>
  return %o, %lse : tensor<1x6x64x16xf32>, tensor<1x6x64xf32>
}

