#!/usr/bin/python3
"""PyTorch oracle for mmsegmentation's EncNet: EncHead on ResNetV1c-50/101-D8.

Written from the behaviour described in /work/shared/notes/segmentation.md
section 2 (mmseg enc_head.py, utils/encoding.py, encnet_r50-d8.py); the module
tree is laid out so that state_dict() yields mmseg's key names
(backbone.*, decode_head.*).

    EncNet(num_classes, depth=50, add_lateral=False)
    forward(x [N,3,H,W]) -> (logits [N,C,H/8,W/8], se_logits [N,C])

Preprocessing (mmseg test pipeline, 'whole' mode): mmcv.imrescale with
keep_ratio to scale (long, short) using cv2 INTER_LINEAR, then (x-mean)/std
in float32 on RGB; the logits are resized (bilinear, align_corners=False) to
the network input size and again to the original size, then argmax.
"""
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = (123.675, 116.28, 103.53)
STD = (58.395, 57.12, 57.375)
DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}


class ConvModule(nn.Module):
    """mmcv ConvModule: conv without bias, BatchNorm, ReLU (names conv, bn)."""

    def __init__(self, cin, cout, k, pad=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=pad, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    """'pytorch' style: the stride sits on the 3x3 conv2; padding = dilation."""

    def __init__(self, cin, planes, stride, dilation, downsample):
        super().__init__()
        cout = planes * 4
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, dilation, dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.downsample = None
        if downsample:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        idt = x if self.downsample is None else self.downsample(x)
        return F.relu(out + idt)


class ResNetV1cD8(nn.Module):
    """Deep stem (3x3 s2 3->32, 32->32, 32->64), maxpool, strides (1,2,1,1),
    dilations (1,1,2,4) with contract_dilation: a dilated stage's first block
    uses half the dilation."""

    def __init__(self, depth=50):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for i, (n, s, d) in enumerate(zip(DEPTHS[depth], (1, 2, 1, 1), (1, 1, 2, 4))):
            planes = 64 << i
            blocks = []
            for b in range(n):
                dil = d // 2 if (b == 0 and d > 1) else d
                stride = s if b == 0 else 1
                blocks.append(Bottleneck(cin, planes, stride, dil,
                                         b == 0 and (stride != 1 or cin != planes * 4)))
                cin = planes * 4
            setattr(self, "layer%d" % (i + 1), nn.Sequential(*blocks))

    def forward(self, x):
        x = self.maxpool(self.stem(x))
        outs = []
        for i in range(4):
            x = getattr(self, "layer%d" % (i + 1))(x)
            outs.append(x)
        return outs


class Encoding(nn.Module):
    """codewords [K,C], scale [K]; a_ik = softmax_k(scale_k ||x_i - c_k||^2),
    E_k = sum over pixels i of a_ik (x_i - c_k): [N,K,C]."""

    def __init__(self, channels, num_codes):
        super().__init__()
        std = 1.0 / ((num_codes * channels) ** 0.5)
        self.codewords = nn.Parameter(torch.empty(num_codes, channels).uniform_(-std, std))
        self.scale = nn.Parameter(torch.empty(num_codes).uniform_(-1, 0))

    def forward(self, x):
        n, c = x.shape[:2]
        x = x.view(n, c, -1).transpose(1, 2).contiguous()           # [N,HW,C]
        d = x.unsqueeze(2) - self.codewords.view(1, 1, *self.codewords.shape)  # [N,HW,K,C]
        a = F.softmax(self.scale.view(1, 1, -1) * d.pow(2).sum(dim=3), dim=2)  # [N,HW,K]
        return (a.unsqueeze(3) * d).sum(dim=1)                        # [N,K,C]


class EncModule(nn.Module):
    def __init__(self, channels, num_codes):
        super().__init__()
        self.encoding_project = ConvModule(channels, channels, 1)
        self.encoding = nn.Sequential(Encoding(channels, num_codes), nn.BatchNorm1d(num_codes),
                                      nn.ReLU())
        self.fc = nn.Sequential(nn.Linear(channels, channels), nn.Sigmoid())

    def forward(self, x):
        e = self.encoding(self.encoding_project(x)).mean(dim=1)      # mean over codes: [N,C]
        gamma = self.fc(e)
        return e, F.relu(x + x * gamma.view(*gamma.shape, 1, 1))


class EncHead(nn.Module):
    def __init__(self, num_classes, in_channels=(512, 1024, 2048), channels=512, num_codes=32,
                 add_lateral=False):
        super().__init__()
        self.add_lateral = add_lateral
        self.bottleneck = ConvModule(in_channels[-1], channels, 3, 1)
        if add_lateral:
            self.lateral_convs = nn.ModuleList(ConvModule(c, channels, 1) for c in in_channels[:-1])
            self.fusion = ConvModule(len(in_channels) * channels, channels, 3, 1)
        self.enc_module = EncModule(channels, num_codes)
        self.conv_seg = nn.Conv2d(channels, num_classes, 1)
        self.se_layer = nn.Linear(channels, num_classes)

    def forward(self, inputs):
        feat = self.bottleneck(inputs[-1])
        if self.add_lateral:
            lat = [F.interpolate(conv(inputs[i]), size=feat.shape[2:], mode="bilinear",
                                 align_corners=False)
                   for i, conv in enumerate(self.lateral_convs)]
            feat = self.fusion(torch.cat([feat, *lat], 1))
        e, out = self.enc_module(feat)
        return self.conv_seg(out), self.se_layer(e)   # Dropout2d is a no-op at test


class EncNet(nn.Module):
    def __init__(self, num_classes, depth=50, add_lateral=False):
        super().__init__()
        self.backbone = ResNetV1cD8(depth)
        self.decode_head = EncHead(num_classes, add_lateral=add_lateral)

    def forward(self, x):
        return self.decode_head(self.backbone(x)[1:])


# ------------------------------------------------------------ preprocessing

def rescale_size(w, h, size):
    """mmcv rescale_size with a (long, short) scale tuple and keep_ratio."""
    long_e, short_e = max(size), min(size)
    sf = min(long_e / max(h, w), short_e / min(h, w))
    return int(w * sf + 0.5), int(h * sf + 0.5)


def load_rgb(path):
    """Decoded as the C side decodes (libjpeg-turbo defaults, through PIL)."""
    from PIL import Image
    return np.array(Image.open(path).convert("RGB"))


def preprocess(rgb, size):
    """rgb HWC uint8 -> ([1,3,h,w] float32, (h, w)); size is (H, W)."""
    import cv2
    h0, w0 = rgb.shape[:2]
    nw, nh = rescale_size(w0, h0, size)
    if (nw, nh) != (w0, h0):
        rgb = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_LINEAR)
    x = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).float()
    x = (x - torch.tensor(MEAN).view(-1, 1, 1)) / torch.tensor(STD).view(-1, 1, 1)
    return x.unsqueeze(0), (nh, nw)


if __name__ == "__main__":
    m = EncNet(19)
    keys = list(m.state_dict().keys())
    print(len(keys), sum(p.numel() for p in m.parameters()), file=sys.stderr)
    for k in keys:
        print(k, list(m.state_dict()[k].shape))
