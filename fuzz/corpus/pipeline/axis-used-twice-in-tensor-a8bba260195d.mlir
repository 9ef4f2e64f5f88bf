// One grid axis for two dimensions of one tensor is rejected by the upstream
// shard.sharding verifier before ring-verify-shardings runs; across tensors,
// see axis-for-two-dims-across-roles.mlir.
shard.grid @g(shape = 2)
func.func @f(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x64x16xf32>, %v: tensor<1x4x64x16xf32>) -> (tensor<1x4x64x16xf32>, tensor<1x4x64xf32>) {
  // expected-error @+1 {{grid axis duplicated}}
  %s = shard.sharding @g split_axes = [[], [0], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x4x64x16xf32>
  %k1 = shard.shard %k to %s : tensor<1x4x64x16xf32>
  %v1 = shard.shard %v to %s : tensor<1x4x64x16xf32>
  %o, %lse = ring.attention %q1, %k1, %v1 : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32> -> tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
  return %o, %lse : tensor<1x4x64x16xf32>, tensor<1x4x64xf32>
}
