// The sharding must be visible to the compiler, not a function argument.
shard.grid @g(shape = 2)
func.func @f(%s: !shard.sharding, %q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>, %v: tensor<1x4x64x16xf32>) -> (tensor<1x4x64x16xf32>, tensor<1x4x64xf32>) {
  %q1 = shard.shard %q to %s : tensor<1x4x64x16xf32>
  %k1 = shard.shard %k to %s : tensor<1x4x64x16xf32>
  %v1 = shard.shard %v to %s : tensor<1x4x64x16xf32>
  // expected-error @+1 {{the sharding of query must be defined by a shard.sharding op in the same function}}
  %o, %lse = ring.attention %q1, %k1, %v1 : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32> -> tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
  return %o, %lse : tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
}
