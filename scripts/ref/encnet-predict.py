#!/usr/bin/python3
"""Reference EncNet prediction, as mmseg's whole-image inference does it
(notes/segmentation.md 2.3), on an mmcv checkpoint from make-encnet-ckpt.py.

  encnet-predict.py --ckpt X.pth [--size HxW] --image IMG [--image IMG2 ...]
                    --out-dir DIR [-q]

The depth, class count and lateral fusion are read from the tensors. The
image is rescaled keeping its ratio to fit (long, short) = the larger and
smaller of H and W (mmcv imrescale, cv2 INTER_LINEAR), normalised with the
ImageNet mean/std in float32; logits at 1/8 are resized (bilinear,
align_corners=False) to the network input, then to the original size,
softmaxed and argmaxed. Per image, in DIR/<name>.*:
  logits.npy  float32 [C,h,w], the logits at the network input size
  mask.png    mode L uint8 class indices at the original size
  margin.npy  float32 [H,W], top-1 minus top-2 class probability (softmax of
              the logits) at the original size
  scene.npy   float32 [C], sigmoid of the SE classifier (class presence)
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from encnet_model import EncNet, load_rgb, preprocess  # noqa: E402


def load_model(path):
    ck = torch.load(path, map_location="cpu")
    sd = ck.get("state_dict", ck)
    sd = {k: v for k, v in sd.items() if not k.startswith("auxiliary_head.")}
    n = sd["decode_head.conv_seg.weight"].shape[0]
    depth = 101 if "backbone.layer3.22.conv1.weight" in sd else 50
    model = EncNet(n, depth, "decode_head.lateral_convs.0.conv.weight" in sd)
    model.load_state_dict(sd)
    return model.eval()


def predict(model, path, size):
    rgb = load_rgb(path)
    x, (h, w) = preprocess(rgb, size)
    with torch.no_grad():
        seg, se = model(x)
        seg = F.interpolate(seg, size=(h, w), mode="bilinear", align_corners=False)
        out = F.interpolate(seg, size=rgb.shape[:2], mode="bilinear", align_corners=False)[0]
        mask = out.argmax(dim=0).numpy().astype(np.uint8)
        if out.shape[0] > 1:
            # mmseg softmaxes before the argmax: a tie is judged on probabilities
            top = torch.topk(F.softmax(out, dim=0), 2, dim=0).values
            margin = (top[0] - top[1]).numpy()
        else:
            margin = np.full(mask.shape, np.inf, np.float32)
    return seg[0].numpy(), mask, margin, torch.sigmoid(se[0]).numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--size", default="512x512", help="HxW (default 512x512)")
    ap.add_argument("--image", action="append", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args()
    try:
        size = tuple(int(v) for v in a.size.lower().split("x"))
        assert len(size) == 2 and min(size) > 0
    except (ValueError, AssertionError):
        ap.error("--size takes HxW")
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    model = load_model(a.ckpt)
    os.makedirs(a.out_dir, exist_ok=True)
    for path in a.image:
        t0 = time.time()
        logits, mask, margin, scene = predict(model, path, size)
        prefix = os.path.join(a.out_dir, os.path.splitext(os.path.basename(path))[0])
        np.save(prefix + ".logits.npy", np.ascontiguousarray(logits, dtype="<f4"))
        Image.fromarray(mask).save(prefix + ".mask.png")
        np.save(prefix + ".margin.npy", np.ascontiguousarray(margin, dtype="<f4"))
        np.save(prefix + ".scene.npy", np.ascontiguousarray(scene, dtype="<f4"))
        if not a.quiet:
            print("%s: logits %s, %.2f s, %d classes in the mask" % (
                path, list(logits.shape), time.time() - t0, len(np.unique(mask))), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
