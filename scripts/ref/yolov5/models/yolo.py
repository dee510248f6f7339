"""YOLOv5 Detect head, DetectionModel/Model and parse_model (oracle).

Semantics from /work/shared/notes/yolov5.md (v6.0+ yaml configs). Layer
modules get the attributes i, f, type, np as upstream, so pickles look alike.
"""
import ast
import contextlib
import math
import sys
from copy import deepcopy
from pathlib import Path

import torch
import torch.nn as nn

from models.common import (ATTENTION, C3, SPP, SPPF, Bottleneck, C3Ghost, C3x, Concat, Conv,
                           CrossConv, DWConv, DWConvTranspose2d, ECAAttention, EffectiveSE, Focus,
                           GhostBottleneck, GhostConv, SEAttention, ShuffleAttention)


class Detect(nn.Module):
    stride = None        # set by the model builder (a plain attribute, not a buffer)
    export = False       # True: forward returns only the decoded tensor (ONNX)
    inplace = True

    def __init__(self, nc=80, anchors=(), ch=(), inplace=True):
        super().__init__()
        self.nc = nc
        self.no = nc + 5
        self.nl = len(anchors)
        self.na = len(anchors[0]) // 2
        self.grid = [torch.empty(0) for _ in range(self.nl)]
        self.anchor_grid = [torch.empty(0) for _ in range(self.nl)]
        # pixels here; the builder divides by stride -> grid units
        self.register_buffer("anchors", torch.tensor(anchors).float().view(self.nl, -1, 2))
        self.m = nn.ModuleList(nn.Conv2d(x, self.no * self.na, 1) for x in ch)
        self.inplace = inplace

    def _make_grid(self, nx, ny, i):
        """Cell offsets (x, y) and pixel anchors, both (1, na, ny, nx, 2)."""
        d, t = self.anchors.device, self.anchors.dtype
        yv, xv = torch.meshgrid(torch.arange(ny, device=d), torch.arange(nx, device=d), indexing="ij")
        shape = (1, self.na, ny, nx, 2)
        grid = torch.stack((xv, yv), 2).expand(shape).to(t)
        anchor_grid = (self.anchors[i].clone() * self.stride[i]).view(1, self.na, 1, 1, 2).expand(shape).to(t)
        return grid, anchor_grid

    def forward(self, x):
        z = []
        for i in range(self.nl):
            x[i] = self.m[i](x[i])
            bs, _, ny, nx = x[i].shape
            # (bs, na*no, ny, nx) -> (bs, na, ny, nx, no)
            x[i] = x[i].view(bs, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous()
            if not self.training:
                # never trust the stale grids pickled with a checkpoint
                grid, anchor_grid = self._make_grid(nx, ny, i)
                y = x[i].sigmoid()
                # v6.0/6.1 formula; v6.2+ folds the -0.5 into the grid (<= 1 ulp apart)
                xy = (y[..., 0:2] * 2 - 0.5 + grid) * self.stride[i]
                wh = (y[..., 2:4] * 2) ** 2 * anchor_grid
                y = torch.cat((xy, wh, y[..., 4:]), -1)
                z.append(y.view(bs, -1, self.no))
        if self.training:
            return x
        return (torch.cat(z, 1),) if self.export else (torch.cat(z, 1), x)


def make_divisible(x, divisor=8):
    return math.ceil(x / divisor) * divisor


def check_anchor_order(m):
    """Flip the anchor order if it disagrees with the stride order."""
    a = m.anchors.prod(-1).mean(-1).view(-1)
    da = a[-1] - a[0]
    ds = m.stride[-1] - m.stride[0]
    if da and (da.sign() != ds.sign()):
        m.anchors[:] = m.anchors.flip(0)


def fuse_conv_and_bn(conv, bn):
    """Fold BatchNorm into the preceding conv with upstream's operation order:
    scale = g / sqrt(eps + var); W' = diag(scale) @ W; b' = beta - g*mu/sqrt(var + eps)."""
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, kernel_size=conv.kernel_size,
                      stride=conv.stride, padding=conv.padding, dilation=conv.dilation,
                      groups=conv.groups, bias=True).requires_grad_(False).to(conv.weight.device)
    w = conv.weight.clone().view(conv.out_channels, -1)
    w_bn = torch.diag(bn.weight.div(torch.sqrt(bn.eps + bn.running_var)))
    fused.weight.copy_(torch.mm(w_bn, w).view(fused.weight.shape))
    b = torch.zeros(conv.weight.size(0), device=conv.weight.device) if conv.bias is None else conv.bias
    b_bn = bn.bias - bn.weight.mul(bn.running_mean).div(torch.sqrt(bn.running_var + bn.eps))
    fused.bias.copy_(torch.mm(w_bn, b.reshape(-1, 1)).reshape(-1) + b_bn)
    return fused


def initialize_weights(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eps = 1e-3
            m.momentum = 0.03
        elif isinstance(m, (nn.Hardswish, nn.LeakyReLU, nn.ReLU, nn.ReLU6, nn.SiLU)):
            m.inplace = True


class DetectionModel(nn.Module):
    inplace = True

    def __init__(self, cfg="yolov5s.yaml", ch=3, nc=None, anchors=None, verbose=False):
        super().__init__()
        if isinstance(cfg, dict):
            self.yaml = cfg
        else:
            import yaml
            self.yaml_file = Path(cfg).name
            with open(cfg, encoding="ascii", errors="ignore") as f:
                self.yaml = yaml.safe_load(f)
        ch = self.yaml["ch"] = self.yaml.get("ch", ch)
        if nc and nc != self.yaml["nc"]:
            self.yaml["nc"] = nc
        if anchors:
            self.yaml["anchors"] = round(anchors)
        self.model, self.save = parse_model(deepcopy(self.yaml), ch=[ch], verbose=verbose)
        self.names = [str(i) for i in range(self.yaml["nc"])]
        self.inplace = self.yaml.get("inplace", True)

        m = self.model[-1]
        if isinstance(m, Detect):
            s = 256
            m.inplace = self.inplace
            with torch.no_grad():
                feats = self.forward(torch.zeros(1, ch, s, s))
            m.stride = torch.tensor([s / x.shape[-2] for x in feats])
            check_anchor_order(m)
            m.anchors /= m.stride.view(-1, 1, 1)      # pixels -> grid units
            self.stride = m.stride
            self._initialize_biases()
        initialize_weights(self)

    def forward(self, x):
        y = []
        for m in self.model:
            if m.f != -1:
                x = y[m.f] if isinstance(m.f, int) else [x if j == -1 else y[j] for j in m.f]
            x = m(x)
            y.append(x if m.i in self.save else None)
        return x

    def _initialize_biases(self):
        m = self.model[-1]
        with torch.no_grad():
            for mi, s in zip(m.m, m.stride):
                b = mi.bias.view(m.na, -1)
                b[:, 4] += math.log(8 / (640 / s) ** 2)
                b[:, 5:5 + m.nc] += math.log(0.6 / (m.nc - 0.99999))

    def fuse(self):
        """Fold every Conv's BatchNorm into its conv (as detect.py does)."""
        for m in self.model.modules():
            if isinstance(m, Conv) and "bn" in m._modules:
                m.conv = fuse_conv_and_bn(m.conv, m.bn)
                del m.bn
        return self

    def _apply(self, fn):
        # stride/grid/anchor_grid on Detect are plain tensors: convert them too
        self = super()._apply(fn)
        m = self.model[-1]
        if isinstance(m, Detect):
            m.stride = fn(m.stride)
            m.grid = list(map(fn, m.grid))
            if isinstance(m.anchor_grid, list):
                m.anchor_grid = list(map(fn, m.anchor_grid))
        return self


class Model(DetectionModel):
    """The v6.1 name; a subclass (not an alias) so a checkpoint can pickle either name."""


# modules a yaml may name (besides nn.*)
MODULES = {c.__name__: c for c in (
    Conv, DWConv, DWConvTranspose2d, Bottleneck, CrossConv, C3, C3x, GhostConv, GhostBottleneck,
    C3Ghost, SPP, SPPF, Focus, Concat, Detect, SEAttention, ECAAttention, EffectiveSE,
    ShuffleAttention)}
NN_MODULES = {"Upsample", "BatchNorm2d", "ConvTranspose2d", "Identity", "MaxPool2d"}
ACTIVATIONS = {"nn.SiLU()": nn.SiLU, "nn.ReLU()": nn.ReLU, "nn.Hardswish()": nn.Hardswish,
               "nn.LeakyReLU(0.1)": lambda: nn.LeakyReLU(0.1)}

SCALED = {Conv, GhostConv, Bottleneck, GhostBottleneck, SPP, SPPF, DWConv, Focus, CrossConv,
          C3, C3Ghost, nn.ConvTranspose2d, DWConvTranspose2d, C3x}
REPEATED = {C3, C3Ghost, C3x}


def resolve_module(name, i):
    if not isinstance(name, str):
        return name
    if name.startswith("nn.") and name[3:] in NN_MODULES:
        return getattr(nn, name[3:])
    if name in MODULES:
        return MODULES[name]
    raise ValueError("layer %d: unknown module '%s'" % (i, name))


def resolve_arg(a, nc, anchors):
    """Upstream eval()s string args; names it cannot resolve stay strings."""
    if not isinstance(a, str):
        return a
    names = {"None": None, "True": True, "False": False, "nc": nc, "anchors": anchors}
    if a in names:
        return names[a]
    with contextlib.suppress(ValueError, SyntaxError):
        return ast.literal_eval(a)
    return a


def parse_model(d, ch, verbose=False):
    anchors, nc, gd, gw = d["anchors"], d["nc"], d["depth_multiple"], d["width_multiple"]
    act = d.get("activation")
    saved_act = Conv.default_act
    if act:
        if act not in ACTIVATIONS:
            raise ValueError("unsupported activation '%s'" % act)
        Conv.default_act = ACTIVATIONS[act]()
    na = (len(anchors[0]) // 2) if isinstance(anchors, list) else anchors
    no = na * (nc + 5)
    if verbose:
        print("%3s%18s%3s%10s  %-40s%-30s" % ("", "from", "n", "params", "module", "arguments"),
              file=sys.stderr)
    layers, save, c2 = [], [], ch[-1]
    try:
        for i, (f, n, m, args) in enumerate(d["backbone"] + d["head"]):
            m = resolve_module(m, i)
            args = [resolve_arg(a, nc, anchors) for a in args]
            n = n_ = max(round(n * gd), 1) if n > 1 else n
            if m in SCALED:
                c1, c2 = ch[f], args[0]
                if c2 != no:
                    c2 = make_divisible(c2 * gw, 8)
                args = [c1, c2, *args[1:]]
                if m in REPEATED:
                    args.insert(2, n)
                    n = 1
            elif m is nn.BatchNorm2d:
                args = [ch[f]]
            elif m is Concat:
                c2 = sum(ch[x] for x in f)
            elif m is Detect:
                args.append([ch[x] for x in f])
                if isinstance(args[1], int):
                    args[1] = [list(range(args[1] * 2))] * len(f)
            elif m in ATTENTION:
                # our rule: in = out = ch[f]; the yaml channel arg is only a hint,
                # the remaining args are the block's own hyper-parameters
                c1 = c2 = ch[f]
                hint = args[0] if args else c1
                if isinstance(hint, (int, float)) and make_divisible(hint * gw, 8) != c1:
                    print("parse_model: layer %d %s: yaml channels %s (x%g) != input %d; using %d"
                          % (i, m.__name__, hint, gw, c1, c1), file=sys.stderr)
                args = [c1, *args[1:]]
            else:
                c2 = ch[f]

            m_ = nn.Sequential(*(m(*args) for _ in range(n))) if n > 1 else m(*args)
            t = str(m)[8:-2].replace("__main__.", "")
            np_ = sum(x.numel() for x in m_.parameters())
            m_.i, m_.f, m_.type, m_.np = i, f, t, np_
            if verbose:
                print("%3s%18s%3s%10.0f  %-40s%-30s" % (i, f, n_, np_, t, args), file=sys.stderr)
            save.extend(x % i for x in ([f] if isinstance(f, int) else f) if x != -1)
            layers.append(m_)
            if i == 0:
                ch = []
            ch.append(c2)
    finally:
        Conv.default_act = saved_act
    return nn.Sequential(*layers), sorted(save)
