// A grid whose axes play permuted roles; the missing ring role gets
// coordinate 0.
shard.grid @heads4x4(shape = 4x4)
func.func @two_level(%q: tensor<1x32x10000x128xbf16>, %k: tensor<1x32x10000x128xbf16>, %v: tensor<1x32x10000x128xbf16>)
    -> (tensor<1x32x10000x128xbf16>, tensor<1x32x10000xf32>) {
  %s = shard.sharding @heads4x4 split_axes = [[], [0], [], [1]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x32x10000x128xbf16>
  %k1 = shard.shard %k to %s : tensor<1x32x10000x128xbf16>
  %v1 = shard.shard %v to %s : tensor<1x32x10000x128xbf16>
  %o, %lse = ring.attention %q1, %k1, %v1 : tensor<1x32x10000x128xbf16>, tensor<1x32x10000x128xbf16>, tensor<1x32x10000x128xbf16> -> tensor<1x32x10000x128xbf16>, tensor<1x32x10000xf32>
  return %o, %lse : tensor<1x32x10000x128xbf16>, tensor<1x32x10000xf32>
}
