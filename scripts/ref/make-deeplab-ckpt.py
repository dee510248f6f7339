#!/usr/bin/python3
"""Build a deterministic, non-trivial DeepLabV3+ checkpoint (no pretrained
weights exist offline).

  make-deeplab-ckpt.py --backbone mobilenet|xception --downsample 8|16 -n N
                       [--seed S] [--calib-size PX] -o OUT.pth

Steps: random init from the seed; BatchNorm weight ~ U(0.5,1.5), bias ~
N(0,0.1); running statistics measured in one train-mode pass (momentum=None,
Dropout off) over the letterboxed darknet photos plus a noise image; the
classifier is re-centred per class and scaled so the logits spread over a
few units and several classes win somewhere on real photos. Runs on one
thread (train-mode BatchNorm reductions depend on the thread count) and
rounds the statistics to 12 mantissa bits. Saved with torch.save(model.state_dict()) (zip format), eval mode.
"""
import argparse
import glob
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deeplab_model import DeepLab, cvt_color, letterbox, preprocess  # noqa: E402

PHOTOS = "/usr/share/darknet/data"


def round_mantissa(t, bits=12):
    """Round float32 values to `bits` mantissa bits (ties away from zero)."""
    # on the unsigned bit pattern the carry runs into the exponent and
    # leaves the sign alone, so this rounds the magnitude
    a = t.detach().numpy().astype(np.float32).view(np.uint32)
    drop = np.uint32(23 - bits)
    a = ((a + (np.uint32(1) << (drop - np.uint32(1)))) >> drop) << drop
    return torch.from_numpy(a.view(np.float32).copy())


def calib_batch(size, seed):
    imgs = []
    for p in sorted(glob.glob(os.path.join(PHOTOS, "*.jpg"))):
        im = cvt_color(Image.open(p))
        lb, _, _ = letterbox(im, (size, size))
        imgs.append(preprocess(lb)[0])
    if not imgs:
        sys.exit("make-deeplab-ckpt: no photos in %s" % PHOTOS)
    rng = np.random.default_rng(seed)
    imgs.append(rng.random((3, size, size), dtype=np.float32))
    return torch.from_numpy(np.stack(imgs))


def build(backbone, df, n, seed, calib_size, spread, pcs, gamma=(0.5, 1.5)):
    torch.manual_seed(seed)
    model = DeepLab(n, backbone, df)
    g = torch.Generator().manual_seed(seed + 1)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            c = bn.num_features
            bn.weight.copy_(torch.rand(c, generator=g) * (gamma[1] - gamma[0]) + gamma[0])
            bn.bias.copy_(torch.randn(c, generator=g) * 0.1)

    x = calib_batch(calib_size, seed)
    # running stats: one pass, cumulative average, Dropout stays off
    model.eval()
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
        bn.train()
    with torch.no_grad():
        model(x)
    model.eval()
    with torch.no_grad():
        for bn in bns:
            bn.running_mean.copy_(round_mantissa(bn.running_mean))
            bn.running_var.copy_(round_mantissa(bn.running_var))

    # classifier: per-class zero mean on the photos, logits std = spread
    feats = []
    h = model.cls_conv.register_forward_hook(lambda m, i, o: feats.append(i[0]))
    with torch.no_grad():
        model(x[:-1])
    h.remove()
    f = feats[0].permute(0, 2, 3, 1).reshape(-1, feats[0].shape[1]).double()
    W = model.cls_conv.weight.detach().double().reshape(n, -1)
    if pcs > 0:
        # mix only the leading principal directions of the features: those
        # vary over large regions, so the mask has blobs, not speckle
        fc = f - f.mean(0)
        evals, evecs = torch.linalg.eigh(fc.t() @ fc)
        V = evecs[:, -pcs:]
        V = V * torch.sign(V[V.abs().argmax(0), torch.arange(V.shape[1])])
        R = torch.randn(n, V.shape[1], generator=g, dtype=torch.float64)
        W = R @ V.t()
    z = f @ W.t()
    mu = z.mean(0)
    s = spread / max(float((z - mu).std()), 1e-12)
    with torch.no_grad():
        model.cls_conv.weight.copy_(round_mantissa((W * s).float().reshape(model.cls_conv.weight.shape)))
        model.cls_conv.bias.copy_(round_mantissa((-mu * s).float()))
    return model.eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backbone", required=True, choices=["mobilenet", "xception"])
    ap.add_argument("--downsample", type=int, default=16, choices=[8, 16])
    ap.add_argument("-n", "--num-classes", type=int, default=21)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--calib-size", type=int, default=256,
                    help="letterbox size of the calibration images (default 256)")
    ap.add_argument("--spread", type=float, default=3.0,
                    help="std of the logits over the photos (default 3)")
    ap.add_argument("--pcs", type=int, default=8,
                    help="classifier mixes this many principal feature directions; 0 keeps it random (default 8)")
    ap.add_argument("--gamma", default="0.5,1.5",
                    help="BatchNorm weights drawn from U(LO,HI); smaller values make a less chaotic, "
                         "better conditioned network (default 0.5,1.5)")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    try:
        gamma = tuple(float(v) for v in a.gamma.split(","))
        assert len(gamma) == 2 and 0 <= gamma[0] <= gamma[1]
    except (ValueError, AssertionError):
        ap.error("--gamma takes LO,HI")
    if a.num_classes < 1:
        ap.error("-n must be >= 1")
    t0 = time.time()
    # reductions in train-mode BatchNorm depend on the thread count
    torch.set_num_threads(1)
    model = build(a.backbone, a.downsample, a.num_classes, a.seed, a.calib_size, a.spread, a.pcs, gamma)
    tmp = a.output + ".tmp"
    # through a file object the zip's inner folder is "archive", not the
    # file name, so equal weights give equal bytes
    with open(tmp, "wb") as f:
        torch.save(model.state_dict(), f)
    os.replace(tmp, a.output)
    print("make-deeplab-ckpt: %s %s df%d n=%d seed=%d in %.1f s" % (
        a.output, a.backbone, a.downsample, a.num_classes, a.seed, time.time() - t0),
        file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
