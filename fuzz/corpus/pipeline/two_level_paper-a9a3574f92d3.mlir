// The layer of the two-level head-partitioning paper: 32 heads x 128 and a
// 10,000-token sequence on n x m = 16 devices, here n = 4 head groups times
// m = 4 slices of each head's dimension. Each device holds 8 heads x 32 of
// the head dimension for the whole sequence; partial scores are summed over
// the 4 dim slices (an all-reduce) before the softmax.
shard.grid @heads4x4(shape = 4x4)

func.func @two_level_paper(%q: tensor<1x32x10000x128xbf16>,
                           %k: tensor<1x32x10000x128xbf16>,
                           %v: tensor<1x32x10000x128xbf16>)
    -> (tensor<1x32x10000x128xbf16>, tensor<1x32x10000xf32>) {
  // Heads (dim 1) over axis 0: head groups; head_dim (dim 3) over axis 1:
  // dim slices. The sequence is not split: there is no ring.
  %s = shard.sharding @heads4x4 split_axes = [[], [0], [], [1]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<1x32x10000x128xbf16>
  %k1 = shard.shard %k to %s : tensor<1x32x10000x128xbf16>
  %v1 = shard.shard %v to %s : tensor<1x32x10000x128xbf16>
  %o, %lse = ring.attention %q1, %k1, %v1
      : tensor<1x32x10000x128xbf16>, tensor<1x32x10000x128xbf16>,
        tensor<1x32x10000x128xbf16>
      -> tensor<1x32x10000x128xbf16>, tensor<1x32x10000xf32>
  return %o, %lse : tensor<1x32x10000x128xbf16>, tensor<1x32x10000xf32>
}
