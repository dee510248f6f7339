#!/usr/bin/python3
"""Golden cases for tests/unit/test_deconv.c: PyTorch's ConvTranspose2d and, for the asymmetric
convolutions CrossConv uses, Conv2d with (kh, kw) kernels and separate strides and paddings.

  deconv-golden.py OUTDIR

Writes float32 little-endian C-order .npy files and two index files, one case per line:

  deconv_cases.txt  k cin cout h w ksize stride pad out_pad groups bias
                    deconv_k_x [1,cin,h,w], deconv_k_w [cin,cout/groups,ksize,ksize],
                    deconv_k_b [cout] (zeros when bias is 0), deconv_k_y =
                    F.conv_transpose2d(x, w, b or None, stride, pad, out_pad, groups)
  aconv_cases.txt   k cin cout h w kh kw sh sw ph pw groups
                    aconv_k_x, aconv_k_w [cout,cin/groups,kh,kw], aconv_k_b [cout],
                    aconv_k_y = F.conv2d(x, w, b, (sh,sw), (ph,pw), 1, groups)
Outputs are computed in float64 from the float32 inputs, then rounded to float32.
Seeds are fixed (case k uses seed 5000 + k / 6000 + k), so reruns give equal bytes.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

# cin cout h w k stride pad out_pad groups bias
DECONV = [
    (8, 6, 5, 7, 2, 2, 0, 0, 1, 1),      # yolov5 nn.ConvTranspose2d [c, 2, 2]
    (16, 16, 6, 5, 2, 2, 0, 0, 16, 1),   # DWConvTranspose2d, groups = channels
    (12, 12, 7, 6, 3, 2, 1, 1, 12, 1),   # k3 s2 p1 output_padding 1: exactly 2x
    (12, 12, 7, 6, 4, 2, 1, 0, 12, 0),   # overlapping taps, no bias
    (8, 12, 5, 5, 3, 1, 1, 0, 4, 1),     # grouped, stride 1
    (6, 10, 4, 9, 5, 3, 2, 2, 2, 1),     # stride 3, output_padding 2
    (32, 16, 9, 11, 4, 2, 1, 0, 1, 1),   # bigger GEMM
    (3, 5, 1, 1, 3, 2, 0, 1, 1, 1),      # 1x1 input
    (64, 32, 20, 20, 2, 2, 0, 0, 1, 1),  # a yolov5s P5 -> P4 size
]
# cin cout h w kh kw sh sw ph pw groups
ACONV = [
    (16, 16, 13, 11, 1, 3, 1, 1, 0, 1, 1),
    (16, 16, 13, 11, 3, 1, 1, 1, 1, 0, 1),
    (16, 24, 13, 11, 1, 3, 1, 2, 0, 1, 1),
    (24, 16, 13, 11, 3, 1, 2, 1, 1, 0, 4),
    (12, 12, 9, 10, 1, 5, 1, 2, 0, 2, 12),
    (32, 32, 16, 16, 3, 3, 1, 1, 1, 0, 1),
]


def save(d, name, a):
    np.save(os.path.join(d, name + ".npy"), np.ascontiguousarray(a, dtype="<f4"))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "deconv_cases.txt"), "w") as f:
        for k, (cin, cout, h, w, ks, s, p, op, g, bias) in enumerate(DECONV):
            gen = torch.Generator().manual_seed(5000 + k)
            x = torch.randn(1, cin, h, w, generator=gen)
            wt = torch.randn(cin, cout // g, ks, ks, generator=gen) / (cin // g * ks * ks) ** 0.5
            b = torch.randn(cout, generator=gen) if bias else torch.zeros(cout)
            y = F.conv_transpose2d(x.double(), wt.double(), b.double() if bias else None, s, p, op, g).float()
            for part, t in (("x", x), ("w", wt), ("b", b), ("y", y)):
                save(out, "deconv_%d_%s" % (k, part), t.numpy())
            f.write("%d %d %d %d %d %d %d %d %d %d %d\n" % (k, cin, cout, h, w, ks, s, p, op, g, bias))
    with open(os.path.join(out, "aconv_cases.txt"), "w") as f:
        for k, (cin, cout, h, w, kh, kw, sh, sw, ph, pw, g) in enumerate(ACONV):
            gen = torch.Generator().manual_seed(6000 + k)
            x = torch.randn(1, cin, h, w, generator=gen)
            wt = torch.randn(cout, cin // g, kh, kw, generator=gen) / (cin // g * kh * kw) ** 0.5
            b = torch.randn(cout, generator=gen)
            y = F.conv2d(x.double(), wt.double(), b.double(), (sh, sw), (ph, pw), 1, g).float()
            for part, t in (("x", x), ("w", wt), ("b", b), ("y", y)):
                save(out, "aconv_%d_%s" % (k, part), t.numpy())
            f.write("%d %d %d %d %d %d %d %d %d %d %d %d\n" % (k, cin, cout, h, w, kh, kw, sh, sw, ph, pw, g))


if __name__ == "__main__":
    main()
