#!/usr/bin/python3
"""Golden cases for the C unit tests of the conv / resize / pooling / softmax ops.

  ops-golden.py OUTDIR

Writes float32 little-endian C-order .npy files (format 1.0) and one index
file per op, one case per line, fields separated by single spaces:

  conv_cases.txt     k cin cout h w kh kw stride pad dil groups
                     conv_k_x [1,cin,h,w], conv_k_w [cout,cin/groups,kh,kw],
                     conv_k_b [cout], conv_k_y = F.conv2d(x, w, b, stride, pad, dil, groups)
                     evaluated in float64 on the float32 inputs, then rounded
                     to float32 (an exact-as-possible target for any summation order)
  resize_cases.txt   k c h w oh ow
                     resize_k_x [1,c,h,w], resize_k_y [1,c,oh,ow]
                     = F.interpolate(bilinear, align_corners=True)
  gap_cases.txt      k c h w
                     gap_k_x [1,c,h,w], gap_k_y [1,c,1,1]
                     = mean over H (keepdim) then over W, the order the ASPP
                     image-pool branch uses
  softmax_cases.txt  k c h w
                     softmax_k_x [c,h,w], softmax_k_y = softmax over c (dim 0)
  pool_cases.txt     k c h w kernel stride pad ceil avg oh ow
                     pool_k_x [1,c,h,w], pool_k_y [1,c,oh,ow] = F.max_pool2d, or
                     F.avg_pool2d(count_include_pad=True) when avg is 1
  upsample_cases.txt k c h w scale
                     upsample_k_x [1,c,h,w], upsample_k_y [1,c,h*scale,w*scale]
                     = F.interpolate(mode="nearest", scale_factor=scale); written last

Seeds are fixed (case k uses seed 1000*op + k), so reruns give equal bytes.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

# cin cout h w kh kw stride pad dil groups
CONV = [
    # 1x1, stride 1 and 2, on odd maps and 1x1 maps
    (16, 32, 8, 8, 1, 1, 1, 0, 1, 1),
    (16, 24, 9, 7, 1, 1, 2, 0, 1, 1),
    (3, 5, 1, 1, 1, 1, 1, 0, 1, 1),
    (64, 21, 16, 16, 1, 1, 1, 0, 1, 1),
    (24, 48, 13, 17, 1, 1, 1, 0, 1, 1),
    (32, 16, 8, 8, 1, 1, 1, 0, 2, 1),        # ASPP branch1 at df8: 1x1, dilation 2
    # 3x3 pad 1
    (8, 16, 8, 8, 3, 3, 1, 1, 1, 1),
    (16, 16, 13, 17, 3, 3, 1, 1, 1, 1),
    (32, 48, 7, 9, 3, 3, 1, 1, 1, 1),
    (1, 1, 5, 5, 3, 3, 1, 1, 1, 1),
    (8, 8, 1, 1, 3, 3, 1, 1, 1, 1),
    (64, 64, 16, 16, 3, 3, 1, 1, 1, 1),
    (12, 20, 6, 11, 3, 3, 1, 0, 1, 1),       # no padding
    # 3x3 stride 2
    (16, 32, 16, 16, 3, 3, 2, 1, 1, 1),
    (8, 12, 13, 17, 3, 3, 2, 1, 1, 1),
    (8, 8, 7, 9, 3, 3, 2, 1, 1, 1),
    # Cin=3 stems
    (3, 32, 32, 32, 3, 3, 2, 1, 1, 1),
    (3, 32, 31, 33, 3, 3, 2, 1, 1, 1),
    # dilated 3x3, padding = dilation (ASPP and dilated backbones)
    (16, 16, 32, 32, 3, 3, 1, 2, 2, 1),
    (16, 16, 32, 32, 3, 3, 1, 4, 4, 1),
    (16, 24, 13, 17, 3, 3, 1, 6, 6, 1),
    (32, 16, 24, 24, 3, 3, 1, 12, 12, 1),
    (32, 16, 32, 32, 3, 3, 1, 18, 18, 1),
    (16, 8, 16, 16, 3, 3, 1, 18, 18, 1),     # dilation larger than the map
    (16, 8, 8, 8, 3, 3, 1, 24, 24, 1),
    (16, 8, 7, 9, 3, 3, 1, 36, 36, 1),
    # depthwise
    (32, 32, 16, 16, 3, 3, 1, 1, 1, 32),
    (32, 32, 16, 16, 3, 3, 2, 1, 1, 32),
    (24, 24, 13, 17, 3, 3, 1, 2, 2, 24),
    (24, 24, 13, 17, 3, 3, 1, 4, 4, 24),
    (16, 16, 7, 9, 3, 3, 2, 1, 1, 16),
    (8, 8, 1, 1, 3, 3, 1, 1, 1, 8),
    (64, 64, 9, 9, 3, 3, 1, 1, 1, 64),
    (10, 10, 5, 6, 3, 3, 1, 2, 2, 10),
    # grouped
    (16, 32, 8, 8, 3, 3, 1, 1, 1, 2),
    (16, 16, 9, 7, 3, 3, 1, 1, 1, 4),
    (32, 24, 8, 8, 1, 1, 1, 0, 1, 4),
    (8, 12, 11, 13, 3, 3, 2, 1, 1, 4),
    # cout not a multiple of 8
    (16, 21, 12, 12, 3, 3, 1, 1, 1, 1),
    (7, 13, 10, 10, 3, 3, 1, 1, 1, 1),
    (5, 1, 9, 9, 3, 3, 1, 1, 1, 1),
    # bigger kernels
    (8, 16, 16, 16, 5, 5, 1, 2, 1, 1),
    (3, 16, 32, 32, 7, 7, 2, 3, 1, 1),
    (4, 6, 9, 11, 5, 5, 2, 0, 1, 1),
]

# c h w oh ow
RESIZE = [
    (4, 8, 8, 16, 16),          # 2x
    (4, 8, 8, 32, 32),          # 4x
    (3, 7, 9, 13, 17),          # odd
    (5, 1, 1, 32, 32),          # broadcast of a pooled map
    (3, 16, 16, 8, 8),          # downscale
    (2, 13, 17, 7, 5),          # odd downscale
    (21, 16, 16, 64, 64),       # classifier /4 -> full
    (8, 4, 4, 16, 16),          # ASPP /16 -> /4
    (2, 1, 5, 3, 7),            # one row
    (3, 5, 5, 5, 5),            # identity
    (2, 2, 2, 1, 1),            # to 1x1 (takes the corner)
    (6, 32, 32, 61, 47),        # non-integer ratios
]

# c h w
GAP = [(8, 8, 8), (64, 16, 16), (3, 7, 9), (5, 1, 1), (16, 13, 17), (2, 32, 32),
       (64, 4, 4), (1, 64, 64)]

# c h w (scale): softmax over c
SOFTMAX = [(21, 8, 8, 3.0), (2, 5, 7, 3.0), (1, 3, 3, 3.0), (64, 4, 4, 3.0),
           (21, 16, 16, 40.0), (3, 1, 1, 3.0), (19, 13, 17, 10.0), (5, 6, 6, 0.0)]

# c h w kernel stride pad ceil avg
POOL = [
    (4, 28, 28, 3, 1, 1, 1, 0),     # GoogLeNet's pool branch
    (3, 14, 14, 3, 1, 1, 1, 0),
    (5, 7, 7, 3, 1, 1, 1, 0),
    (2, 7, 9, 5, 1, 2, 0, 0),
    (2, 3, 2, 5, 1, 2, 0, 0),       # window wider than the map
    (2, 1, 6, 3, 1, 1, 0, 0),       # one row
    (2, 6, 1, 3, 1, 1, 0, 0),       # one column
    (2, 70, 70, 3, 1, 1, 0, 0),     # a plane too big for the same-size fast path
    (4, 112, 112, 3, 2, 0, 1, 0),   # GoogLeNet's stem pools
    (3, 56, 56, 3, 2, 0, 1, 0),
    (3, 14, 14, 3, 2, 0, 1, 0),
    (3, 15, 13, 3, 2, 1, 1, 0),
    (3, 14, 14, 2, 2, 0, 1, 0),
    (3, 15, 15, 2, 2, 0, 1, 0),     # ceil mode adds a clipped last window
    (3, 9, 11, 3, 2, 1, 0, 0),
    (3, 9, 11, 3, 1, 1, 0, 1),      # average, padding counted
    (3, 15, 15, 3, 2, 1, 1, 1),
    (3, 8, 8, 2, 2, 0, 0, 1),
]

# c h w scale: nearest upsampling (YOLOv5's neck uses 2)
UPSAMPLE = [(3, 5, 7, 2), (2, 1, 1, 2), (2, 4, 3, 3), (1, 6, 1, 2), (4, 20, 15, 2)]


def save(path, a):
    a = np.ascontiguousarray(a, dtype="<f4")
    np.save(path, a, allow_pickle=False)


def rand(gen, *shape, scale=1.0):
    return (torch.randn(*shape, generator=gen) * scale).float()


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(sys.argv) == 2 else 2
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)

    with open(os.path.join(out, "conv_cases.txt"), "w") as idx:
        for k, (cin, cout, h, w, kh, kw, s, p, d, g) in enumerate(CONV):
            gen = torch.Generator().manual_seed(1000 + k)
            x = rand(gen, 1, cin, h, w)
            fan_in = (cin // g) * kh * kw
            wt = rand(gen, cout, cin // g, kh, kw, scale=(2.0 / fan_in) ** 0.5)
            b = rand(gen, cout, scale=0.1)
            with torch.no_grad():
                y = F.conv2d(x.double(), wt.double(), b.double(), s, p, d, g).float()
            for name, a in (("x", x), ("w", wt), ("b", b), ("y", y)):
                save(os.path.join(out, "conv_%d_%s.npy" % (k, name)), a.numpy())
            idx.write("%d %d %d %d %d %d %d %d %d %d %d\n" % (k, cin, cout, h, w, kh, kw, s, p, d, g))

    with open(os.path.join(out, "resize_cases.txt"), "w") as idx:
        for k, (c, h, w, oh, ow) in enumerate(RESIZE):
            gen = torch.Generator().manual_seed(2000 + k)
            x = rand(gen, 1, c, h, w)
            y = F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=True)
            save(os.path.join(out, "resize_%d_x.npy" % k), x.numpy())
            save(os.path.join(out, "resize_%d_y.npy" % k), y.numpy())
            idx.write("%d %d %d %d %d %d\n" % (k, c, h, w, oh, ow))

    with open(os.path.join(out, "gap_cases.txt"), "w") as idx:
        for k, (c, h, w) in enumerate(GAP):
            gen = torch.Generator().manual_seed(3000 + k)
            x = rand(gen, 1, c, h, w) + 0.5
            y = torch.mean(torch.mean(x, 2, True), 3, True)
            save(os.path.join(out, "gap_%d_x.npy" % k), x.numpy())
            save(os.path.join(out, "gap_%d_y.npy" % k), y.numpy())
            idx.write("%d %d %d %d\n" % (k, c, h, w))

    with open(os.path.join(out, "softmax_cases.txt"), "w") as idx:
        for k, (c, h, w, sc) in enumerate(SOFTMAX):
            gen = torch.Generator().manual_seed(4000 + k)
            x = rand(gen, c, h, w, scale=sc)
            y = F.softmax(x, dim=0)
            save(os.path.join(out, "softmax_%d_x.npy" % k), x.numpy())
            save(os.path.join(out, "softmax_%d_y.npy" % k), y.numpy())
            idx.write("%d %d %d %d\n" % (k, c, h, w))

    with open(os.path.join(out, "pool_cases.txt"), "w") as idx:
        for k, (c, h, w, kk, s, p, ceil, avg) in enumerate(POOL):
            gen = torch.Generator().manual_seed(5000 + k)
            x = rand(gen, 1, c, h, w)
            if avg:
                y = F.avg_pool2d(x, kk, s, p, ceil_mode=bool(ceil), count_include_pad=True)
            else:
                y = F.max_pool2d(x, kk, s, p, ceil_mode=bool(ceil))
            save(os.path.join(out, "pool_%d_x.npy" % k), x.numpy())
            save(os.path.join(out, "pool_%d_y.npy" % k), y.numpy())
            idx.write("%d %d %d %d %d %d %d %d %d %d %d\n" % (k, c, h, w, kk, s, p, ceil, avg, y.shape[2], y.shape[3]))

    with open(os.path.join(out, "upsample_cases.txt"), "w") as idx:
        for k, (c, h, w, sc) in enumerate(UPSAMPLE):
            gen = torch.Generator().manual_seed(6000 + k)
            x = rand(gen, 1, c, h, w)
            y = F.interpolate(x, scale_factor=sc, mode="nearest")
            save(os.path.join(out, "upsample_%d_x.npy" % k), x.numpy())
            save(os.path.join(out, "upsample_%d_y.npy" % k), y.numpy())
            idx.write("%d %d %d %d %d\n" % (k, c, h, w, sc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
