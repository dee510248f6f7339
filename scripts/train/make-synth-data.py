#!/usr/bin/python3
"""Make the "shapes" data set: procedurally drawn objects with exact masks and
boxes composited onto crops of real photographs (Debian's darknet photos).

  make-synth-data.py [-o build/train/data] [--train 4000] [--val 48] [--seed 1] [--colour-coded]

Three object classes, told apart by shape only (colour, texture, size, rotation
and aspect are random for all of them), or with --colour-coded by shape and a
hue family of their own (disc red, rectangle green, triangle blue; hue +-25
degrees, saturation and value random), which the shipped models use:
  1 disc       (circle or mildly elliptic disc)
  2 rectangle  (square or rectangle, rotated)
  3 triangle   (rotated, irregular but not degenerate)
Segmentation classes are 0 = background, 1..3 as above; 255 marks the one-pixel
anti-aliased edge band (the VOC convention: ignored by evaluate-miou).  YOLO
class ids are the segmentation id minus 1.

Backgrounds: random crops (scale, aspect, flip, colour jitter, blur) of the
photos.  horses.jpg and kite.jpg are validation-only, so the validation
backgrounds are never seen in training.  Objects may overlap; a placement that
would hide more than 40 % of an earlier object is retried, so every labelled
object stays mostly visible; boxes are the tight boxes of the visible pixels.

Writes under OUT:
  images/NAME.jpg   RGB JPEG (quality 88..95), sizes 320x240, 240x320 or 288x288
  masks/NAME.png    8-bit palette PNG (VOC colours), the segmentation label
  labels/NAME.txt   YOLO labels "class cx cy w h", normalised
  seg-names.txt     background, disc, rectangle, triangle
  det-names.txt     disc, rectangle, triangle
  train.txt, val.txt   image stems, one per line
Everything depends only on --seed (numpy Generator, one process).
"""
import argparse
import glob
import os
import sys

import cv2
import numpy as np
from PIL import Image

PHOTOS = "/usr/share/darknet/data"
VAL_PHOTOS = ("horses", "kite")
SIZES = ((320, 240), (240, 320), (288, 288))   # (w, h)
SEG_NAMES = ("background", "disc", "rectangle", "triangle")
SS = 4                                          # supersampling of the shape masks


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ref"))
from vocpalette import voc_palette  # noqa: E402


def background(rng, photo, w, h):
    ph, pw = photo.shape[:2]
    # a crop of 35..100 % of the photo's short side, aspect matched to the output
    side = rng.uniform(0.35, 1.0) * min(ph, pw)
    cw = min(pw, side * np.sqrt(w / h) * rng.uniform(0.9, 1.1))
    ch = min(ph, cw * h / w)
    cw = ch * w / h
    x0 = rng.uniform(0, pw - cw)
    y0 = rng.uniform(0, ph - ch)
    crop = photo[int(y0):int(y0 + ch), int(x0):int(x0 + cw)]
    img = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    if rng.random() < 0.5:
        img = img[:, ::-1]
    # colour jitter: brightness, contrast, per-channel gain, desaturation
    img = img * rng.uniform(0.7, 1.3) + rng.uniform(-25, 25)
    mean = img.mean()
    img = (img - mean) * rng.uniform(0.7, 1.3) + mean
    img *= rng.uniform(0.85, 1.15, size=3)
    gray = img.mean(2, keepdims=True)
    img = gray + (img - gray) * rng.uniform(0.5, 1.3)
    return np.clip(img, 0, 255)


def shape_polygon(rng, cls, cx, cy, size):
    """Outline (N,2) in output pixels; size ~ the object's diameter."""
    ang = rng.uniform(0, 2 * np.pi)
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    if cls == 1:
        t = np.linspace(0, 2 * np.pi, 96, endpoint=False)
        ax = rng.uniform(0.8, 1.0)
        pts = np.stack([np.cos(t) * size / 2, np.sin(t) * size / 2 * ax], 1)
    elif cls == 2:
        ar = rng.uniform(0.45, 1.0) if rng.random() < 0.6 else 1.0
        a = size / np.sqrt(1 + ar * ar)                 # diagonal ~ size
        pts = np.array([[-a, -a * ar], [a, -a * ar], [a, a * ar], [-a, a * ar]]) / 2
    else:
        base = np.array([0, 2 * np.pi / 3, 4 * np.pi / 3]) + rng.uniform(-0.35, 0.35, 3)
        r = size / 2 * rng.uniform(0.85, 1.1, 3)
        pts = np.stack([np.cos(base) * r, np.sin(base) * r], 1)
    return pts @ rot.T + [cx, cy]


# --colour-coded: each class's hue family (degrees): disc red, rectangle green, triangle blue
CLASS_HUES = {1: 0.0, 2: 120.0, 3: 240.0}


def family_colour(rng, hue):
    """An RGB colour of hue +-25 degrees, saturation 0.55..1, value 0.45..1."""
    h = ((hue + rng.uniform(-25, 25)) % 360) / 60.0
    s, v = rng.uniform(0.55, 1.0), rng.uniform(0.45, 1.0)
    c = v * s
    x = c * (1 - abs(h % 2 - 1))
    rgb = [(c, x, 0), (x, c, 0), (0, c, x), (0, x, c), (x, 0, c), (c, 0, x)][int(h) % 6]
    return (np.array(rgb) + (v - c)) * 255


def texture(rng, w, h, hue=None):
    """An RGB fill for one object: solid, gradient, stripes or checks, plus noise; with a hue,
    both colours come from that hue's family."""
    if hue is None:
        c1 = rng.uniform(0, 255, 3)
        c2 = rng.uniform(0, 255, 3)
    else:
        c1 = family_colour(rng, hue)
        c2 = family_colour(rng, hue)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    kind = rng.integers(0, 4)
    if kind == 0:
        t = np.zeros((h, w), np.float32)
    elif kind == 1:
        a = rng.uniform(0, 2 * np.pi)
        t = (np.cos(a) * xx + np.sin(a) * yy) / max(w, h)
        t = (t - t.min()) / max(t.max() - t.min(), 1e-6)
    elif kind == 2:
        a = rng.uniform(0, np.pi)
        period = rng.uniform(6, 20)
        t = (np.sin((np.cos(a) * xx + np.sin(a) * yy) * 2 * np.pi / period) > 0).astype(np.float32)
    else:
        period = rng.uniform(6, 18)
        t = (((xx // period) + (yy // period)) % 2).astype(np.float32)
    img = c1 + (c2 - c1) * t[..., None]
    img += rng.normal(0, rng.uniform(0, 12), img.shape)
    return img


def draw_alpha(pts, w, h):
    big = np.zeros((h * SS, w * SS), np.uint8)
    q = np.round((pts + 0.5) * SS - 0.5).astype(np.int32)
    cv2.fillPoly(big, [q], 255)
    return cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def make_image(rng, photos, w, h, colour_coded=False):
    img = background(rng, photos[rng.integers(0, len(photos))], w, h)
    owner = np.zeros((h, w), np.int16)       # object index + 1 owning each pixel (alpha >= .5)
    alpha_max = np.zeros((h, w), np.float32)
    objs = []                                # (class, full-coverage pixel count)
    want = rng.integers(1, 5)
    tries = 0
    while len(objs) < want and tries < 40:
        tries += 1
        cls = int(rng.integers(1, 4))
        size = rng.uniform(0.12, 0.45) * min(w, h)
        cx = rng.uniform(0.05 * w, 0.95 * w)
        cy = rng.uniform(0.05 * h, 0.95 * h)
        a = draw_alpha(shape_polygon(rng, cls, cx, cy, size), w, h)
        cover = a >= 0.5
        if cover.sum() < 150:
            continue
        # refuse placements that hide >40 % of an earlier object or leave this one cut by the frame
        ok = True
        for k, (_, full) in enumerate(objs):
            left = np.count_nonzero((owner == k + 1) & ~cover)
            if left < 0.6 * full:
                ok = False
                break
        if not ok:
            continue
        a *= rng.uniform(0.9, 1.0) if rng.random() < 0.2 else 1.0   # a little translucency
        tex = texture(rng, w, h, CLASS_HUES[cls] if colour_coded else None)
        img = img * (1 - a[..., None]) + tex * a[..., None]
        owner[cover] = len(objs) + 1
        alpha_max = np.maximum(alpha_max, a)
        objs.append((cls, int(cover.sum())))
    # global blur / noise so edges are not synthetic-sharp
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.0))
    img += rng.normal(0, rng.uniform(0, 5), img.shape)
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)

    label = np.zeros((h, w), np.uint8)
    boxes = []
    for k, (cls, _) in enumerate(objs):
        m = owner == k + 1
        label[m] = cls
        ys, xs = np.nonzero(m)
        if len(xs) == 0:
            continue
        x1, x2, y1, y2 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        boxes.append((cls - 1, (x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h))
    # edge band: pixels an object only partly covers, and pixels next to a class change
    band = (alpha_max > 0.1) & (alpha_max < 0.9)
    label[band] = 255
    return img, label, boxes


def write_sample(out, name, img, label, boxes, quality, pal):
    Image.fromarray(img).save(os.path.join(out, "images", name + ".jpg"), quality=quality)
    p = Image.fromarray(label, mode="P")
    p.putpalette(pal)
    p.save(os.path.join(out, "masks", name + ".png"), optimize=True)
    with open(os.path.join(out, "labels", name + ".txt"), "w") as f:
        for b in boxes:
            f.write("%d %.6f %.6f %.6f %.6f\n" % b)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--out", default="build/train/data")
    ap.add_argument("--train", type=int, default=4000)
    ap.add_argument("--val", type=int, default=48)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--colour-coded", action="store_true",
                    help="each class also has its own hue family (disc red, rectangle green, "
                    "triangle blue): learnable in a short CPU training")
    a = ap.parse_args()
    cv2.setNumThreads(1)
    rng = np.random.default_rng(a.seed)
    paths = sorted(glob.glob(os.path.join(PHOTOS, "*.jpg")))
    stem = [os.path.basename(p)[:-4] for p in paths]
    rgb = [cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB) for p in paths]
    train_ph = [im for s, im in zip(stem, rgb) if s not in VAL_PHOTOS]
    val_ph = [im for s, im in zip(stem, rgb) if s in VAL_PHOTOS]
    if len(val_ph) != len(VAL_PHOTOS) or not train_ph:
        sys.exit("make-synth-data: %s: photos missing (install darknet)" % PHOTOS)
    for d in ("images", "masks", "labels"):
        os.makedirs(os.path.join(a.out, d), exist_ok=True)
    pal = voc_palette()
    for split, n, ph in (("val", a.val, val_ph), ("train", a.train, train_ph)):
        names = []
        for i in range(n):
            name = "%s_%04d" % (split, i)
            w, h = SIZES[rng.integers(0, len(SIZES))]
            img, label, boxes = make_image(rng, ph, w, h, a.colour_coded)
            write_sample(a.out, name, img, label, boxes, int(rng.integers(88, 96)), pal)
            names.append(name)
        with open(os.path.join(a.out, split + ".txt"), "w") as f:
            f.write("".join(s + "\n" for s in names))
    with open(os.path.join(a.out, "seg-names.txt"), "w") as f:
        f.write("".join(s + "\n" for s in SEG_NAMES))
    with open(os.path.join(a.out, "det-names.txt"), "w") as f:
        f.write("".join(s + "\n" for s in SEG_NAMES[1:]))
    print("make-synth-data: %s: %d train, %d val images" % (a.out, a.train, a.val), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
