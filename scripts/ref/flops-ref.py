#!/usr/bin/python3
"""PyTorch side of flops-count: parameters and multiply-accumulates of the oracle models.

    flops-ref.py yolov5 CFG.yaml [--nc N] [--size N|HxW] [--probe]
    flops-ref.py deeplabv3plus mobilenet|xception [--downsample 8|16] [-n 21] [--size 512]

Prints one JSON object: params (unfused: conv + BatchNorm weight and bias), layer_params (yolov5: per
model.<i>, unfused), params_fused
(BatchNorm folded into a conv bias), conv_macs (Conv2d / ConvTranspose2d multiply-accumulates,
no bias), thop_macs (what thop's profile counts, reimplemented here with forward hooks because
thop is not installed), bn_elems, upsample_elems, and with --probe the ultralytics GFLOPs
(2 x thop MACs at a stride-sized input, scaled to the size) unfused and fused.

thop rules reproduced (thop 0.1.x / ultralytics-thop): hooks on leaf modules only, so functional
calls (F.interpolate, torch.cat, torch.mean) count nothing;
  Conv1d, Conv2d, ConvTranspose2d: output elements x (cin / groups) x kh x kw (bias not counted);
  BatchNorm2d: 2 per input element, doubled when affine (so 4);
  nn.Upsample nearest: 1 per output element; bilinear 11;
  AdaptiveAvgPool2d: (kernel elements + 1) per output element; AvgPool2d: 1 per output element;
  Linear: in_features per output element;
  MaxPool, ReLU, ReLU6, Dropout, SiLU, Sigmoid, Identity: nothing.
Tensors in SI units, no rounding: the caller rounds.
"""
import argparse
import json
import os
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402


def parse_size(s):
    if "x" in s:
        h, w = s.split("x")
        return int(h), int(w)
    return int(s), int(s)


class Counter:
    """thop-like MAC counter over forward hooks on leaf modules."""

    def __init__(self, model):
        self.conv = 0
        self.thop = 0
        self.bn = 0
        self.up = 0
        self.hooks = [m.register_forward_hook(self.hook) for m in model.modules()
                      if not list(m.children())]

    def hook(self, m, x, y):
        x = x[0] if isinstance(x, tuple) else x
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)):
            k = m.weight[0, 0].numel()
            # thop: output elements x in_channels / groups x kernel, for both conv kinds
            # (for a transposed conv that is not its true multiply count)
            n = y.numel() * (m.in_channels // m.groups) * k
            self.conv += n
            self.thop += n
        elif isinstance(m, nn.BatchNorm2d):
            self.bn += x.numel()
            self.thop += 2 * x.numel() * (2 if m.affine else 1)
        elif isinstance(m, nn.Upsample):
            self.up += y.numel()
            self.thop += y.numel() * {"nearest": 1, "bilinear": 11, "linear": 5}.get(m.mode, 0)
        elif isinstance(m, nn.AdaptiveAvgPool2d):
            kern = (x.shape[2] // y.shape[2]) * (x.shape[3] // y.shape[3])
            self.thop += (kern + 1) * y.numel()
        elif isinstance(m, nn.AvgPool2d):
            self.thop += y.numel()
        elif isinstance(m, nn.Linear):
            self.thop += m.in_features * y.numel()

    def close(self):
        for h in self.hooks:
            h.remove()


def count(model, h, w):
    c = Counter(model)
    with torch.no_grad():
        model(torch.zeros(1, 3, h, w))
    c.close()
    return c


def nparams(model):
    return sum(p.numel() for p in model.parameters())


def yolo(a):
    sys.path.insert(0, os.path.join(HERE, "yolov5"))
    from models.yolo import DetectionModel
    from copy import deepcopy
    torch.manual_seed(0)
    m = DetectionModel(a.cfg, nc=a.nc).eval()
    h, w = parse_size(a.size or "640")
    out = {"params": nparams(m), "layer_params": [nparams(layer) for layer in m.model]}
    c = count(m, h, w)
    out.update(conv_macs=c.conv, thop_macs=c.thop, bn_elems=c.bn, upsample_elems=c.up)
    f = deepcopy(m).fuse().eval()
    out["params_fused"] = nparams(f)
    cf = count(f, h, w)
    out["thop_macs_fused"] = cf.thop
    if a.probe:
        # model_info: thop at a max(stride, 32) square input, x2, scaled by (h/s)(w/s)
        s = max(int(m.stride.max()), 32)
        for tag, mm in (("", m), ("_fused", f)):
            p = count(mm, s, s).thop
            out["gflops" + tag] = p / 1e9 * 2 * h / s * w / s
    print(json.dumps(out))


def deeplab(a):
    sys.path.insert(0, HERE)
    from deeplab_model import DeepLab
    torch.manual_seed(0)
    m = DeepLab(a.n, a.backbone, a.downsample).eval()
    h, w = parse_size(a.size or "512")
    c = count(m, h, w)
    nbn = sum(mm.num_features for mm in m.modules() if isinstance(mm, nn.BatchNorm2d))
    convs_nobias = sum(mm.out_channels for mm in m.modules()
                       if isinstance(mm, nn.Conv2d) and mm.bias is None)
    # folding adds a bias to a bias-free conv and drops the BatchNorm's weight and bias
    fused = nparams(m) - 2 * nbn + convs_nobias
    print(json.dumps({"params": nparams(m), "params_fused": fused, "conv_macs": c.conv,
                      "thop_macs": c.thop, "bn_elems": c.bn, "upsample_elems": c.up}))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="arch", required=True)
    y = sub.add_parser("yolov5")
    y.add_argument("cfg")
    y.add_argument("--nc", type=int)
    y.add_argument("--size")
    y.add_argument("--probe", action="store_true")
    d = sub.add_parser("deeplabv3plus")
    d.add_argument("backbone", choices=["mobilenet", "xception"])
    d.add_argument("--downsample", type=int, default=16, choices=[8, 16])
    d.add_argument("-n", type=int, default=21)
    d.add_argument("--size")
    a = ap.parse_args()
    torch.set_num_threads(1)
    (yolo if a.arch == "yolov5" else deeplab)(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
