#!/usr/bin/python3
"""PyTorch oracle for bubbliiiing's deeplabv3-plus-pytorch (DeepLabV3+).

Written from the architecture description in /work/shared/notes/segmentation.md
section 1.5; the module tree is laid out so that state_dict() yields exactly the
upstream key names, order and shapes (see --selftest).

    DeepLab(num_classes, backbone='mobilenet'|'xception', downsample_factor=8|16)
    forward(x [N,3,H,W] float32) -> logits [N,num_classes,H,W]

Run `deeplab_model.py --selftest [--keys-dir DIR]` to diff the state_dict of
both backbones (num_classes=21) against the key lists and check a forward.
"""
import argparse
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

KEYS_DIR = "/work/shared/notes"


# ---------------------------------------------------------------- MobileNetV2

def _conv_bn(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        hidden = int(round(inp * expand_ratio))
        # decided here, once: later stride->1 changes for dilation add no skip
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers += [nn.Conv2d(inp, hidden, 1, 1, 0, bias=False),
                       nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True)]
        layers += [nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
                   nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True),
                   nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
                   nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


def _mobilenet_features():
    setting = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
               (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    feats = [_conv_bn(3, 32, 2)]
    cin = 32
    for t, c, n, s in setting:
        for i in range(n):
            feats.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
            cin = c
    # upstream drops the final 1x1 conv to 1280 ([:-1]), so it is never built
    return nn.Sequential(*feats)


def _nostride_dilate(m, dilate):
    if not isinstance(m, nn.Conv2d):
        return
    if m.stride == (2, 2):
        m.stride = (1, 1)
        if m.kernel_size == (3, 3):
            m.dilation = (dilate // 2, dilate // 2)
            m.padding = (dilate // 2, dilate // 2)
    elif m.kernel_size == (3, 3):
        m.dilation = (dilate, dilate)
        m.padding = (dilate, dilate)


class MobileNetV2Backbone(nn.Module):
    def __init__(self, downsample_factor):
        super().__init__()
        self.features = _mobilenet_features()
        total = len(self.features)          # 18
        down_idx = [2, 4, 7, 14]
        if downsample_factor == 8:
            for i in range(down_idx[-2], down_idx[-1]):
                self.features[i].apply(lambda m: _nostride_dilate(m, 2))
            for i in range(down_idx[-1], total):
                self.features[i].apply(lambda m: _nostride_dilate(m, 4))
        elif downsample_factor == 16:
            for i in range(down_idx[-1], total):
                self.features[i].apply(lambda m: _nostride_dilate(m, 2))
        else:
            raise ValueError("downsample_factor must be 8 or 16")

    def forward(self, x):
        low = self.features[:4](x)          # 24 ch, /4
        return low, self.features[4:](low)  # 320 ch, /df


# ------------------------------------------------------------------- Xception

XC_BN_MOM = 0.0003


class SeparableConv2d(nn.Module):
    """activate_first: relu -> dw -> bn1 -> pw -> bn2 (blocks);
    otherwise dw -> bn1 -> relu -> pw -> bn2 -> relu (conv3/4/5)."""

    def __init__(self, cin, cout, stride=1, dilation=1, activate_first=True,
                 inplace=True):
        super().__init__()
        self.relu0 = nn.ReLU(inplace=inplace)
        self.depthwise = nn.Conv2d(cin, cin, 3, stride, dilation, dilation,
                                   groups=cin, bias=False)
        self.bn1 = nn.BatchNorm2d(cin, momentum=XC_BN_MOM)
        self.relu1 = nn.ReLU(inplace=True)
        self.pointwise = nn.Conv2d(cin, cout, 1, 1, 0, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, momentum=XC_BN_MOM)
        self.relu2 = nn.ReLU(inplace=True)
        self.activate_first = activate_first

    def forward(self, x):
        if self.activate_first:
            x = self.relu0(x)
        x = self.bn1(self.depthwise(x))
        if not self.activate_first:
            x = self.relu1(x)
        x = self.bn2(self.pointwise(x))
        if not self.activate_first:
            x = self.relu2(x)
        return x


class Block(nn.Module):
    def __init__(self, cin, cout, stride=1, atrous=1, grow_first=True,
                 inplace=True):
        super().__init__()
        head_relu = True
        if cout != cin or stride != 1:
            self.skip = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
            self.skipbn = nn.BatchNorm2d(cout, momentum=XC_BN_MOM)
            head_relu = False
        else:
            self.skip = None
        self.hook_layer = None
        mid = cout if grow_first else cin
        # head_relu in place: for identity-skip blocks it also rewrites the
        # skip tensor, so the residual added back is relu(x) (upstream quirk)
        self.sepconv1 = SeparableConv2d(cin, mid, 1, atrous, inplace=head_relu)
        self.sepconv2 = SeparableConv2d(mid, cout, 1, atrous)
        # inplace=False on block2 keeps hook_layer (the low-level feature) pre-ReLU
        self.sepconv3 = SeparableConv2d(cout, cout, stride, atrous, inplace=inplace)

    def forward(self, inp):
        if self.skip is not None:
            skip = self.skipbn(self.skip(inp))
        else:
            skip = inp
        x = self.sepconv1(inp)
        x = self.sepconv2(x)
        self.hook_layer = x
        x = self.sepconv3(x)
        return x + skip


class Xception(nn.Module):
    def __init__(self, downsample_factor):
        super().__init__()
        if downsample_factor == 8:
            stride_list = [2, 1, 1]
        elif downsample_factor == 16:
            stride_list = [2, 2, 1]
        else:
            raise ValueError("downsample_factor must be 8 or 16")
        rate = 16 // downsample_factor
        self.conv1 = nn.Conv2d(3, 32, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(32, momentum=XC_BN_MOM)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(32, 64, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(64, momentum=XC_BN_MOM)
        self.block1 = Block(64, 128, 2)
        self.block2 = Block(128, 256, stride_list[0], inplace=False)
        self.block3 = Block(256, 728, stride_list[1])
        for i in range(4, 20):
            setattr(self, "block%d" % i, Block(728, 728, 1, atrous=rate))
        self.block20 = Block(728, 1024, stride_list[2], atrous=rate, grow_first=False)
        self.conv3 = SeparableConv2d(1024, 1536, 1, rate, activate_first=False)
        self.conv4 = SeparableConv2d(1536, 1536, 1, rate, activate_first=False)
        self.conv5 = SeparableConv2d(1536, 2048, 1, rate, activate_first=False)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        x = self.block1(x)
        x = self.block2(x)
        low = self.block2.hook_layer
        for i in range(3, 21):
            x = getattr(self, "block%d" % i)(x)
        x = self.conv3(x)                   # no ReLU between block20 and conv3
        x = self.conv4(x)
        x = self.conv5(x)
        return low, x


def _xception_init(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            m.weight.data.normal_(0, (2.0 / n) ** 0.5)
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.data.fill_(1)
            m.bias.data.zero_()


def _mobilenet_init(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            m.weight.data.normal_(0, (2.0 / n) ** 0.5)
            if m.bias is not None:
                m.bias.data.zero_()
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.data.fill_(1)
            m.bias.data.zero_()


# ----------------------------------------------------------------------- head

class ASPP(nn.Module):
    def __init__(self, dim_in, dim_out, rate=1, bn_mom=0.1):
        super().__init__()

        def branch(k, d):
            return nn.Sequential(
                nn.Conv2d(dim_in, dim_out, k, 1, padding=0 if k == 1 else d,
                          dilation=d, bias=True),
                nn.BatchNorm2d(dim_out, momentum=bn_mom), nn.ReLU(inplace=True))
        self.branch1 = branch(1, rate)
        self.branch2 = branch(3, 6 * rate)
        self.branch3 = branch(3, 12 * rate)
        self.branch4 = branch(3, 18 * rate)
        self.branch5_conv = nn.Conv2d(dim_in, dim_out, 1, 1, 0, bias=True)
        self.branch5_bn = nn.BatchNorm2d(dim_out, momentum=bn_mom)
        self.branch5_relu = nn.ReLU(inplace=True)
        self.conv_cat = nn.Sequential(
            nn.Conv2d(dim_out * 5, dim_out, 1, 1, padding=0, bias=True),
            nn.BatchNorm2d(dim_out, momentum=bn_mom), nn.ReLU(inplace=True))

    def forward(self, x):
        _, _, row, col = x.size()
        b1 = self.branch1(x)
        b2 = self.branch2(x)
        b3 = self.branch3(x)
        b4 = self.branch4(x)
        g = torch.mean(x, 2, True)          # mean over H, then over W
        g = torch.mean(g, 3, True)
        g = self.branch5_relu(self.branch5_bn(self.branch5_conv(g)))
        g = F.interpolate(g, (row, col), None, "bilinear", True)
        return self.conv_cat(torch.cat([b1, b2, b3, b4, g], dim=1))


class DeepLab(nn.Module):
    def __init__(self, num_classes, backbone="mobilenet", downsample_factor=16):
        super().__init__()
        if backbone == "xception":
            self.backbone = Xception(downsample_factor)
            _xception_init(self.backbone)
            in_ch, low_ch = 2048, 256
        elif backbone == "mobilenet":
            self.backbone = MobileNetV2Backbone(downsample_factor)
            _mobilenet_init(self.backbone)
            in_ch, low_ch = 320, 24
        else:
            raise ValueError("unsupported backbone %r (mobilenet, xception)" % backbone)
        self.aspp = ASPP(in_ch, 256, rate=16 // downsample_factor)
        self.shortcut_conv = nn.Sequential(
            nn.Conv2d(low_ch, 48, 1), nn.BatchNorm2d(48), nn.ReLU(inplace=True))
        self.cat_conv = nn.Sequential(
            nn.Conv2d(48 + 256, 256, 3, stride=1, padding=1),
            nn.BatchNorm2d(256), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Conv2d(256, 256, 3, stride=1, padding=1),
            nn.BatchNorm2d(256), nn.ReLU(inplace=True), nn.Dropout(0.1))
        self.cls_conv = nn.Conv2d(256, num_classes, 1, stride=1)

    def forward(self, x):
        H, W = x.size(2), x.size(3)
        low, x = self.backbone(x)
        x = self.aspp(x)
        low = self.shortcut_conv(low)
        x = F.interpolate(x, size=(low.size(2), low.size(3)), mode="bilinear",
                          align_corners=True)
        x = self.cat_conv(torch.cat((x, low), dim=1))
        x = self.cls_conv(x)
        return F.interpolate(x, size=(H, W), mode="bilinear", align_corners=True)


# ------------------------------------------------------------ preprocessing

def cvt_color(image):
    """Upstream cvtColor: 3-channel images pass through, the rest convert('RGB')."""
    import numpy as np
    shp = np.shape(image)
    if len(shp) == 3 and shp[2] == 3:
        return image
    return image.convert("RGB")


def letterbox(image, size):
    """Upstream resize_image: PIL BICUBIC onto a (128,128,128) canvas.
    size is (w, h); returns (new_image, nw, nh)."""
    from PIL import Image
    iw, ih = image.size
    w, h = size
    scale = min(w / iw, h / ih)             # doubles, then int() truncation
    nw = int(iw * scale)
    nh = int(ih * scale)
    image = image.resize((nw, nh), Image.BICUBIC)
    canvas = Image.new("RGB", size, (128, 128, 128))
    canvas.paste(image, ((w - nw) // 2, (h - nh) // 2))
    return canvas, nw, nh


def preprocess(image_data):
    """HWC uint8 image -> [1,3,H,W] float32 array, x/255 in float32."""
    import numpy as np
    a = np.array(image_data, np.float32)
    a /= 255.0
    return np.expand_dims(np.transpose(a, (2, 0, 1)), 0)


# ------------------------------------------------------------------- selftest

def read_key_list(path):
    """[(name, shape tuple)] from a key-list file ('#' lines are comments)."""
    out = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            name, shape = line.split("\t")
            shape = shape.strip("[]").strip()
            out.append((name, tuple(int(s) for s in shape.split(",")) if shape else ()))
    return out


def check_keys(model, path):
    """Return a list of mismatch messages (empty when identical)."""
    want = read_key_list(path)
    have = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    errs = []
    if len(want) != len(have):
        errs.append("%s: %d keys expected, model has %d" % (path, len(want), len(have)))
    for i, (w, h) in enumerate(zip(want, have)):
        if w != h:
            errs.append("%s: entry %d: expected %s %s, got %s %s" % (path, i, w[0], list(w[1]), h[0], list(h[1])))
            if len(errs) > 10:
                break
    return errs


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def selftest(keys_dir):
    ok = True
    expect_params = {"mobilenet": 5818149, "xception": 54713557}
    for bb in ("mobilenet", "xception"):
        for df in (16, 8):
            torch.manual_seed(0)
            m = DeepLab(21, bb, df).eval()
            errs = check_keys(m, os.path.join(keys_dir, "segmentation-keys-%s.txt" % bb))
            np_ = count_params(m)
            if np_ != expect_params[bb]:
                errs.append("%s: %d params, expected %d" % (bb, np_, expect_params[bb]))
            for e in errs:
                print("FAIL", e)
            ok = ok and not errs
            # shapes through a small forward: low /4, deep /df
            with torch.no_grad():
                x = torch.rand(1, 3, 64, 64)
                low, deep = m.backbone(x)
                y = m(x)
            shp_ok = (low.shape[2] == 16 and deep.shape[2] == 64 // df and
                      tuple(y.shape) == (1, 21, 64, 64))
            ok = ok and shp_ok
            print("%s %s df%d: %d keys, %d params, low %s deep %s out %s" % (
                "ok  " if not errs and shp_ok else "FAIL", bb, df, len(m.state_dict()),
                np_, list(low.shape), list(deep.shape), list(y.shape)))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--selftest", action="store_true",
                    help="diff state_dict keys/shapes against the key lists")
    ap.add_argument("--keys-dir", default=KEYS_DIR)
    a = ap.parse_args()
    if not a.selftest:
        ap.print_help()
        return 0
    return 0 if selftest(a.keys_dir) else 1


if __name__ == "__main__":
    sys.exit(main())
