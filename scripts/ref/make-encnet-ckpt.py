#!/usr/bin/python3
"""Build a deterministic, non-trivial mmseg EncNet checkpoint (no trained
weights exist offline), the way make-deeplab-ckpt.py does for DeepLabV3+.

  make-encnet-ckpt.py [--depth 50|101] -n N [--add-lateral] [--seed S]
                      [--calib-size PX] [--no-aux] -o OUT.pth

Steps: random init from the seed; BatchNorm (2d and the Encoding's 1d)
weight ~ U(0.5,1.5), bias ~ N(0,0.1); running statistics measured in a
train-mode pass (momentum=None) over the darknet photos plus a noise image,
resized to PX x PX and normalised as mmseg does; the Encoding's codewords are
then set to projected pixel features of the photos and its scales to about
-1/distance, so the soft assignment is neither uniform nor one-hot, and the
BatchNorm1d after it is measured again; conv_seg mixes a few principal
feature directions, re-centred per class, and se_layer is re-centred, so that
classes and presence probabilities vary over real photos. Statistics and
re-fitted weights are rounded to 12 mantissa bits. Runs on one thread.
Saved as an mmcv checkpoint {'meta': {...}, 'state_dict': ...} with an FCN
auxiliary_head.* (training only) as mmseg writes it.
"""
import argparse
import collections
import glob
import importlib.util
import os
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn as nn

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from encnet_model import EncNet, load_rgb, MEAN, STD  # noqa: E402

_spec = importlib.util.spec_from_file_location("make_deeplab_ckpt",
                                               os.path.join(HERE, "make-deeplab-ckpt.py"))
_dl = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_dl)
round_mantissa = _dl.round_mantissa
PHOTOS = _dl.PHOTOS


def calib_batch(size, seed):
    imgs = []
    for p in sorted(glob.glob(os.path.join(PHOTOS, "*.jpg"))):
        imgs.append(cv2.resize(load_rgb(p), (size, size), interpolation=cv2.INTER_LINEAR))
    if not imgs:
        sys.exit("make-encnet-ckpt: no photos in %s" % PHOTOS)
    rng = np.random.default_rng(seed)
    imgs.append(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
    x = torch.from_numpy(np.stack(imgs).transpose(0, 3, 1, 2).copy()).float()
    return (x - torch.tensor(MEAN).view(1, -1, 1, 1)) / torch.tensor(STD).view(1, -1, 1, 1)


def measure_bn(model, bns, x):
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


def hooked_input(model, module, x):
    got = []
    h = module.register_forward_hook(lambda m, i, o: got.append(i[0]))
    with torch.no_grad():
        model(x)
    h.remove()
    return got[0]


def build(depth, n, seed, calib_size, add_lateral, pcs, spread, gamma=(0.5, 1.5)):
    torch.manual_seed(seed)
    model = EncNet(n, depth, add_lateral)
    g = torch.Generator().manual_seed(seed + 1)
    bns = [m for m in model.modules() if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d))]
    with torch.no_grad():
        for bn in bns:
            c = bn.num_features
            bn.weight.copy_(torch.rand(c, generator=g) * (gamma[1] - gamma[0]) + gamma[0])
            bn.bias.copy_(torch.randn(c, generator=g) * 0.1)
    x = calib_batch(calib_size, seed)
    measure_bn(model, bns, x)

    # codewords: projected features of random photo pixels; scales ~ -1/distance
    head = model.decode_head
    enc = head.enc_module.encoding[0]
    f = hooked_input(model, enc, x[:-1])
    pix = f.permute(0, 2, 3, 1).reshape(-1, f.shape[1])
    k = enc.codewords.shape[0]
    pick = torch.randperm(pix.shape[0], generator=g)[:k]
    cw = pix[pick]
    d = ((pix[:2000, None, :] - cw[None]) ** 2).sum(-1)
    s = (torch.rand(k, generator=g) * 1.5 + 0.5) / float(d.std())
    with torch.no_grad():
        enc.codewords.copy_(round_mantissa(cw))
        enc.scale.copy_(round_mantissa(-s))
    bn1d = head.enc_module.encoding[1]
    measure_bn(model, [bn1d], x)

    # conv_seg: mix the leading principal directions (blobs, not speckle),
    # per-class zero mean on the photos, logits std = spread
    f = hooked_input(model, head.conv_seg, x[:-1])
    f = f.permute(0, 2, 3, 1).reshape(-1, f.shape[1]).double()
    fc = f - f.mean(0)
    evals, evecs = torch.linalg.eigh(fc.t() @ fc)
    V = evecs[:, -pcs:]
    R = torch.randn(n, V.shape[1], generator=g, dtype=torch.float64)
    W = R @ V.t()
    z = f @ W.t()
    mu = z.mean(0)
    sc = spread / max(float((z - mu).std()), 1e-12)
    with torch.no_grad():
        head.conv_seg.weight.copy_(round_mantissa((W * sc).float().reshape(head.conv_seg.weight.shape)))
        head.conv_seg.bias.copy_(round_mantissa((-mu * sc).float()))

    # se_layer: presence logits centred per class on the photos, std 2
    e = hooked_input(model, head.se_layer, x[:-1]).double()
    Ws = head.se_layer.weight.detach().double()
    z = e @ Ws.t()
    mu = z.mean(0)
    sc = 2.0 / max(float((z - mu).std()), 1e-12)
    with torch.no_grad():
        head.se_layer.weight.copy_(round_mantissa((Ws * sc).float()))
        head.se_layer.bias.copy_(round_mantissa((-mu * sc).float()))
    return model.eval()


def aux_head(n, seed):
    """mmseg FCNHead on stage 3 (1024 ch): training only, for weightconv to drop."""
    g = torch.Generator().manual_seed(seed + 2)
    sd = collections.OrderedDict()
    sd["auxiliary_head.convs.0.conv.weight"] = torch.randn(256, 1024, 3, 3, generator=g) * 0.01
    for k, v in (("weight", torch.ones(256)), ("bias", torch.zeros(256)),
                 ("running_mean", torch.zeros(256)), ("running_var", torch.ones(256)),
                 ("num_batches_tracked", torch.tensor(0))):
        sd["auxiliary_head.convs.0.bn." + k] = v
    sd["auxiliary_head.conv_seg.weight"] = torch.randn(n, 256, 1, 1, generator=g) * 0.01
    sd["auxiliary_head.conv_seg.bias"] = torch.zeros(n)
    return sd


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--depth", type=int, default=50, choices=[50, 101])
    ap.add_argument("-n", "--num-classes", type=int, default=19)
    ap.add_argument("--add-lateral", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--calib-size", type=int, default=256)
    ap.add_argument("--pcs", type=int, default=2,
                    help="conv_seg mixes this many principal feature directions (default 2)")
    ap.add_argument("--spread", type=float, default=2.0, help="std of the logits (default 2)")
    ap.add_argument("--no-aux", action="store_true", help="leave out auxiliary_head.*")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    if a.num_classes < 1:
        ap.error("-n must be >= 1")
    t0 = time.time()
    torch.set_num_threads(1)   # train-mode BatchNorm reductions depend on the thread count
    model = build(a.depth, a.num_classes, a.seed, a.calib_size, a.add_lateral, a.pcs, a.spread)
    sd = collections.OrderedDict(model.state_dict())
    if not a.no_aux:
        sd.update(aux_head(a.num_classes, a.seed))
    ckpt = {"meta": {"mmseg_version": "1.2.2", "CLASSES": ["class%d" % i for i in range(a.num_classes)],
                     "seed": a.seed, "iter": 0, "time": "fixed"},
            "state_dict": sd}
    tmp = a.output + ".tmp"
    with open(tmp, "wb") as f:   # a file object: the zip's inner folder is "archive"
        torch.save(ckpt, f)
    os.replace(tmp, a.output)
    print("make-encnet-ckpt: %s resnet%d n=%d seed=%d in %.1f s" % (
        a.output, a.depth, a.num_classes, a.seed, time.time() - t0), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
