#!/usr/bin/python3
"""Makes a small synthetic VOCdevkit tree for voc-annotate tests.

usage: make-voc-tree.py VOCDEVKIT N [--seed S] [--classes C] [--bad KIND ...] [--no-lists-dir]

VOCDEVKIT/VOC2007/{JPEGImages,SegmentationClass,ImageSets/Segmentation} with N good labels
(8-bit palette PNGs with the VOC palette, 4-bit palette PNGs with a 16-colour palette, and
8-bit grayscale PNGs; objects of random classes < C on background 0 with a 255 border) and a
small JPEG for each, created in a shuffled order, plus files upstream ignores (upper-case
.PNG, .txt).  Each --bad KIND adds one malformed label named bad_KIND.png and writes
"bad_KIND KIND" to VOCDEVKIT/bad.txt.  Kinds: rgb rgba gray16 grayalpha binary range noimage
truncated notpng empty jpeg.
"""
import argparse
import io
import os
import random

import numpy as np
from PIL import Image

KINDS = ["rgb", "rgba", "gray16", "grayalpha", "binary", "range", "noimage", "truncated",
         "notpng", "empty", "jpeg"]


from vocpalette import voc_palette  # noqa: E402


def label_array(rng, w, h, classes):
    a = np.zeros((h, w), np.uint8)
    for _ in range(rng.randint(1, 3)):
        # at least 3x3, so a class pixel sits inside the 255 border
        x0, y0 = rng.randrange(w - 3), rng.randrange(h - 3)
        x1, y1 = rng.randint(x0 + 3, w), rng.randint(y0 + 3, h)
        a[y0:y1, x0:x1] = 255  # the VOC void border
        a[y0 + 1:y1 - 1, x0 + 1:x1 - 1] = rng.randrange(1, classes)
    return a


def png_bytes(img, **kw):
    b = io.BytesIO()
    img.save(b, "PNG", **kw)
    return b.getvalue()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("devkit")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--classes", type=int, default=21)
    ap.add_argument("--bad", action="append", default=[], choices=KINDS)
    ap.add_argument("--no-lists-dir", action="store_true")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    root = os.path.join(a.devkit, "VOC2007")
    seg, jpg = os.path.join(root, "SegmentationClass"), os.path.join(root, "JPEGImages")
    os.makedirs(seg)
    os.makedirs(jpg)
    if not a.no_lists_dir:
        os.makedirs(os.path.join(root, "ImageSets", "Segmentation"))
    pal = voc_palette()

    files = {}  # name -> (label bytes or None, make the JPEG?)
    ids = rng.sample(range(1, 999999), a.n)
    for k, num in enumerate(ids):
        w, h = rng.randint(6, 40), rng.randint(6, 40)
        arr = label_array(rng, w, h, a.classes)
        kind = k % 3
        if kind == 0:
            im = Image.fromarray(arr, "P")
            im.putpalette(pal)
        elif kind == 1 and np.where(arr == 255, 0, arr).max() < 16:
            # no 255 border here: 16 colours make PIL write a 4-bit palette PNG
            im = Image.fromarray(np.where(arr == 255, 0, arr).astype(np.uint8), "P")
            im.putpalette(pal[:48])
        else:
            im = Image.fromarray(arr, "L")
        files["2007_%06d" % num] = (png_bytes(im), True)

    arr = label_array(rng, 20, 16, a.classes)
    for kind in a.bad:
        name = "bad_" + kind
        data, image = None, True
        if kind == "rgb":
            data = png_bytes(Image.fromarray(np.stack([arr] * 3, -1), "RGB"))
        elif kind == "rgba":
            data = png_bytes(Image.fromarray(np.stack([arr] * 4, -1), "RGBA"))
        elif kind == "gray16":
            data = png_bytes(Image.fromarray(arr.astype(np.uint16) * 3, "I;16"))
        elif kind == "grayalpha":
            data = png_bytes(Image.fromarray(np.stack([arr] * 2, -1), "LA"))
        elif kind == "binary":
            data = png_bytes(Image.fromarray(np.where(arr > 0, 255, 0).astype(np.uint8), "L"))
        elif kind == "range":
            bad = arr.copy()
            bad[0, 0] = a.classes + 3
            im = Image.fromarray(bad, "P")
            im.putpalette(pal)
            data = png_bytes(im)
        elif kind == "noimage":
            data, image = png_bytes(Image.fromarray(arr, "L")), False
        elif kind == "truncated":
            full = png_bytes(Image.fromarray(arr, "L"))
            data = full[:len(full) // 2]
        elif kind == "notpng":
            data = b"this is not an image\n"
        elif kind == "empty":
            data = b""
        elif kind == "jpeg":
            b = io.BytesIO()
            Image.fromarray(arr, "L").save(b, "JPEG")
            data = b.getvalue()
        files[name] = (data, image)

    names = list(files)
    rng.shuffle(names)  # creation order, so directory order is not sorted order
    for name in names:
        data, image = files[name]
        with open(os.path.join(seg, name + ".png"), "wb") as f:
            f.write(data)
        if image:
            Image.new("RGB", (8, 8), (rng.randrange(256), 0, 0)).save(
                os.path.join(jpg, name + ".jpg"), quality=75)
    # ignored by upstream: not ending in ".png" (case-sensitive)
    with open(os.path.join(seg, "README.txt"), "w") as f:
        f.write("not a label\n")
    Image.new("L", (4, 4)).save(os.path.join(seg, "upper.PNG"), "PNG")
    with open(os.path.join(a.devkit, "bad.txt"), "w") as f:
        for kind in a.bad:
            f.write("bad_%s %s\n" % (kind, kind))


if __name__ == "__main__":
    main()
