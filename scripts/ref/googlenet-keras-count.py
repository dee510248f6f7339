#!/usr/bin/python3
"""Parameters and convolution/Dense multiplies of the TensorFlow GoogLeNet tutorial's Keras GoogLeNet, rebuilt
with PyTorch modules that hold the same weights (Conv2D with bias = nn.Conv2d, Dense =
nn.Linear, 'same' padding = k // 2 at these sizes), counted with forward hooks at 224x224.

  googlenet-keras-count.py          JSON: params and MACs per Keras layer and in total
  googlenet-keras-count.py 5x5      JSON: MACs of Inception 3a's 5x5 branch, with and without
                                    its 1x1 reduction (28x28x192 input)
"""
import json
import sys

import torch
from torch import nn

CFG = {"3a": (192, 64, 96, 128, 16, 32, 32), "3b": (256, 128, 128, 192, 32, 96, 64),
       "4a": (480, 192, 96, 208, 16, 48, 64), "4b": (512, 160, 112, 224, 24, 64, 64),
       "4c": (512, 128, 128, 256, 24, 64, 64), "4d": (512, 112, 144, 288, 32, 64, 64),
       "4e": (528, 256, 160, 320, 32, 128, 128), "5a": (832, 256, 160, 320, 32, 128, 128),
       "5b": (832, 384, 192, 384, 48, 128, 128)}


def conv(cin, cout, k, s=1):
    return nn.Conv2d(cin, cout, k, s, k // 2)


class Inception(nn.Module):
    def __init__(self, cin, c1, r3, c3, r5, c5, pp, reduce=True):
        super().__init__()
        self.b1 = conv(cin, c1, 1)
        self.b2 = nn.Sequential(conv(cin, r3, 1), conv(r3, c3, 3)) if reduce else conv(cin, c3, 3)
        self.b3 = nn.Sequential(conv(cin, r5, 1), conv(r5, c5, 5)) if reduce else conv(cin, c5, 5)
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), conv(cin, pp, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class Aux(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.pool, self.conv = nn.AvgPool2d(5, 3), conv(cin, 128, 1)
        self.fc1, self.fc2 = nn.Linear(2048, 1024), nn.Linear(1024, 1000)

    def forward(self, x):
        return self.fc2(self.fc1(self.conv(self.pool(x)).flatten(1)))


def macs_hooks(model):
    count = {}

    def hook(name):
        def f(m, i, o):
            if isinstance(m, nn.Conv2d):
                count[name] = count.get(name, 0) + o.numel() * m.in_channels * m.kernel_size[0] * m.kernel_size[1]
            else:
                count[name] = count.get(name, 0) + o.numel() * m.in_features
        return f
    for top, mod in model.named_children():
        for m in mod.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.register_forward_hook(hook(top))
    return count


def main():
    if sys.argv[1:] == ["5x5"]:
        out = {}
        for reduce in (True, False):
            m = Inception(*CFG["3a"], reduce=reduce)
            count = macs_hooks(nn.ModuleDict({"b3": m.b3}))
            m.b3(torch.zeros(1, 192, 28, 28))
            out["reduced" if reduce else "naive"] = count["b3"]
        print(json.dumps(out))
        return
    layers = [("convolution-1", conv(3, 64, 7, 2)), ("max-pool-1", nn.MaxPool2d(3, 2, 1)),
              ("convolution-2", conv(64, 192, 3)), ("max-pool-2", nn.MaxPool2d(3, 2, 1))]
    for k in CFG:
        if k in ("4a", "5a"):
            layers.append(("max-pool-" + ("3" if k == "4a" else "4"), nn.MaxPool2d(3, 2, 1)))
        layers.append(("inception-" + k, Inception(*CFG[k])))
    layers += [("avg-pool", nn.AvgPool2d(7, 1)), ("flatten", nn.Flatten()), ("linear", nn.Linear(1024, 1000))]
    body = nn.ModuleDict(layers)
    aux = nn.ModuleDict({"AuxiliaryClassifier-1": Aux(512), "AuxiliaryClassifier-2": Aux(528)})
    model = nn.ModuleDict({**body, **aux})
    count = macs_hooks(model)
    with torch.no_grad():
        x = torch.zeros(1, 3, 224, 224)
        for name, m in body.items():
            x = m(x)
            if name == "inception-4a":
                aux["AuxiliaryClassifier-1"](x)
            if name == "inception-4d":
                aux["AuxiliaryClassifier-2"](x)
    params = {n: sum(p.numel() for p in m.parameters()) for n, m in model.items()}
    print(json.dumps({"params": sum(params.values()), "macs": sum(count.values()),
                      "layer_params": {n: p for n, p in params.items() if p},
                      "layer_macs": count}))


if __name__ == "__main__":
    main()
