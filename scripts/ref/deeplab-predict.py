#!/usr/bin/python3
"""Reference DeepLabV3+ prediction, reproducing upstream deeplab.py
get_miou_png step by step (notes/segmentation.md 1.2).

  deeplab-predict.py --ckpt X.pth --backbone mobilenet|xception --downsample 8|16
                     -n N --image IMG [--image IMG2 ...]
                     (--out-prefix P | --out-dir DIR) [--input-size 512]

Per image writes:
  P.logits.npy  float32 [C,512,512], raw network output (before softmax)
  P.mask.png    mode L uint8 class indices (upstream get_miou_png output)
  P.margin.npy  float32 [H,W], top-1 minus top-2 probability after the resize
With --out-dir, P is DIR/<image file name without extension>. --out-prefix
takes exactly one --image.
"""
import argparse
import os
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deeplab_model import DeepLab, cvt_color, letterbox, preprocess  # noqa: E402


def load_model(ckpt, backbone, df, n):
    model = DeepLab(n, backbone, df)
    sd = torch.load(ckpt, map_location="cpu")
    model.load_state_dict(sd)
    return model.eval()


def predict(model, path, size):
    """Returns (logits [C,S,S], probs resized [H,W,C], mask [H,W] uint8)."""
    image = cvt_color(Image.open(path))
    orig_h = np.array(image).shape[0]
    orig_w = np.array(image).shape[1]
    image_data, nw, nh = letterbox(image, (size, size))
    x = preprocess(image_data)
    with torch.no_grad():
        pr = model(torch.from_numpy(x))[0]
        logits = pr.numpy().astype(np.float32, copy=True)
        pr = F.softmax(pr.permute(1, 2, 0), dim=-1).cpu().numpy()
        top = (size - nh) // 2
        left = (size - nw) // 2
        pr = pr[top:top + nh, left:left + nw]
        pr = cv2.resize(pr, (orig_w, orig_h), interpolation=cv2.INTER_LINEAR)
        if pr.ndim == 2:                    # cv2 drops a single channel
            pr = pr[:, :, None]
        mask = np.uint8(pr.argmax(axis=-1))
    return logits, pr, mask


def margin_of(probs):
    if probs.shape[2] < 2:
        return np.full(probs.shape[:2], np.inf, np.float32)
    part = np.partition(probs, probs.shape[2] - 2, axis=-1)
    return (part[:, :, -1] - part[:, :, -2]).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--backbone", required=True, choices=["mobilenet", "xception"])
    ap.add_argument("--downsample", type=int, default=16, choices=[8, 16])
    ap.add_argument("-n", "--num-classes", type=int, default=21)
    ap.add_argument("--image", action="append", required=True)
    ap.add_argument("--out-prefix")
    ap.add_argument("--out-dir")
    ap.add_argument("--input-size", type=int, default=512)
    ap.add_argument("-q", "--quiet", action="store_true")
    a = ap.parse_args()
    if (a.out_prefix is None) == (a.out_dir is None):
        ap.error("give exactly one of --out-prefix and --out-dir")
    if a.out_prefix is not None and len(a.image) != 1:
        ap.error("--out-prefix takes exactly one --image; use --out-dir")
    model = load_model(a.ckpt, a.backbone, a.downsample, a.num_classes)
    if a.out_dir:
        os.makedirs(a.out_dir, exist_ok=True)
    for path in a.image:
        t0 = time.time()
        logits, probs, mask = predict(model, path, a.input_size)
        if a.out_prefix is not None:
            prefix = a.out_prefix
        else:
            prefix = os.path.join(a.out_dir, os.path.splitext(os.path.basename(path))[0])
        np.save(prefix + ".logits.npy", np.ascontiguousarray(logits, dtype="<f4"))
        Image.fromarray(mask).save(prefix + ".mask.png")
        np.save(prefix + ".margin.npy", np.ascontiguousarray(margin_of(probs), dtype="<f4"))
        if not a.quiet:
            cls, cnt = np.unique(mask, return_counts=True)
            print("%s: %dx%d, %.2f s, %d classes: %s" % (
                path, mask.shape[1], mask.shape[0], time.time() - t0, len(cls),
                " ".join("%d:%.1f%%" % (c, 100.0 * k / mask.size) for c, k in zip(cls, cnt))),
                file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
