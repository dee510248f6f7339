#!/usr/bin/python3
"""Python oracle for camvid-prep: re-implements its conversion with NumPy and PIL and compares.

  SRC is a tree with colour labels NAME_L.png anywhere under it and label_colors.txt or
  class_dict.csv at its top.

  camvid-ref.py roundtrip SRC OUT
      Every NAME_L.png equals OUT/SegmentationClass/NAME.png expanded through its palette
      (the -n 32 round trip colours -> indices -> colours).
  camvid-ref.py group11 SRC OUT [--size WxH [--cv]] [--void-index]
      OUT's index labels equal the 32->11 SegNet grouping of SRC's colour labels, Void 255 (or
      11), resized by PIL NEAREST when --size is given (OpenCV INTER_NEAREST with --cv).
  camvid-ref.py segnet SRC OUT
      OUT's labels are SRC's SegNet index labels with 11 made 255; the lists name each split's
      files.
  camvid-ref.py images SRC OUT WxH
      OUT's JPEG images against cv2.resize(INTER_LINEAR) of SRC's: prints the mean and max
      absolute difference, then the mean difference to cv2 INTER_NEAREST.
Prints "ok ..." and exits 0, or names the first difference and exits 1.
"""
import os
import sys

import numpy as np
from PIL import Image

# The grouping written out by hand from the SegNet / MATLAB camvidPixelLabelIDs table.
GROUPS = {
    "Sky": ["Sky"],
    "Building": ["Bridge", "Building", "Wall", "Tunnel", "Archway"],
    "Pole": ["Column_Pole", "TrafficCone"],
    "Road": ["Road", "LaneMkgsDriv", "LaneMkgsNonDriv"],
    "Pavement": ["Sidewalk", "ParkingBlock", "RoadShoulder"],
    "Tree": ["Tree", "VegetationMisc"],
    "SignSymbol": ["SignSymbol", "Misc_Text", "TrafficLight"],
    "Fence": ["Fence"],
    "Car": ["Car", "SUVPickupTruck", "Truck_Bus", "Train", "OtherMoving"],
    "Pedestrian": ["Pedestrian", "Child", "CartLuggagePram", "Animal"],
    "Bicyclist": ["Bicyclist", "MotorcycleScooter"],
}
ORDER11 = ["Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car",
           "Pedestrian", "Bicyclist"]


def fail(msg):
    print("FAIL " + msg)
    sys.exit(1)


def label_paths(src):
    """NAME -> path of every NAME_L.png under src (all layouts with colour labels)."""
    found = {}
    for d, _, files in os.walk(src):
        for f in files:
            if f.endswith("_L.png"):
                found[f[:-6]] = os.path.join(d, f)
    return dict(sorted(found.items()))


def labels(src):
    return list(label_paths(src))


def read_colors(src):
    table = {}
    csv = os.path.join(src, "class_dict.csv")
    if os.path.exists(csv):
        for line in open(csv).read().splitlines()[1:]:
            name, r, g, b = line.split(",")
            table[(int(r), int(g), int(b))] = name
        return table
    for line in open(os.path.join(src, "label_colors.txt")):
        parts = line.split()
        if parts:
            table[tuple(int(v) for v in parts[:3])] = parts[3]
    return table


def roundtrip(src, out):
    n = 0
    for name, path in label_paths(src).items():
        a = np.asarray(Image.open(path).convert("RGB"))
        im = Image.open(os.path.join(out, "SegmentationClass", name + ".png"))
        if im.mode != "P":
            fail("%s: mode %s, not P" % (name, im.mode))
        b = np.asarray(im.convert("RGB"))
        if a.shape != b.shape or not (a == b).all():
            fail("%s: colours differ after the round trip" % name)
        n += 1
    if n == 0:
        fail("no labels in " + src)
    print("ok roundtrip %d labels" % n)


def group11(src, out, size, void_index, nearest_cv=False):
    group_of = {m: ORDER11.index(g) for g, ms in GROUPS.items() for m in ms}
    void = 11 if void_index else 255
    lut = np.full(1 << 24, -1, dtype=np.int32)
    for rgb, name in read_colors(src).items():
        lut[(rgb[0] << 16) | (rgb[1] << 8) | rgb[2]] = group_of.get(name, void)
    n = 0
    for name, path in label_paths(src).items():
        a = np.asarray(Image.open(path).convert("RGB")).astype(np.int32)
        idx = lut[(a[..., 0] << 16) | (a[..., 1] << 8) | a[..., 2]]
        if (idx < 0).any():
            fail("%s: unknown colour in the source" % name)
        ref = Image.fromarray(idx.astype(np.uint8), "L")
        if size and nearest_cv:
            import cv2
            ref = cv2.resize(np.asarray(ref), size, interpolation=cv2.INTER_NEAREST)
        elif size:
            ref = ref.resize(size, Image.NEAREST)
        ref = np.asarray(ref)
        got = np.asarray(Image.open(os.path.join(out, "SegmentationClass", name + ".png")))
        if got.shape != ref.shape:
            fail("%s: shape %s, expected %s" % (name, got.shape, ref.shape))
        bad = np.argwhere(got != ref)
        if len(bad):
            y, x = bad[0]
            fail("%s: %d pixels differ, first (%d,%d): %d, expected %d" % (name, len(bad), x, y,
                                                                         got[y, x], ref[y, x]))
        n += 1
    print("ok group11 %d labels" % n)


def segnet(src, out):
    n = 0
    for split in ("train", "val", "test"):
        d = os.path.join(src, split + "annot")
        names = sorted(f[:-4] for f in os.listdir(d) if f.endswith(".png")) if os.path.isdir(d) else []
        lst = open(os.path.join(out, "ImageSets", "Segmentation", split + ".txt")).read().split()
        if lst != names:
            fail("%s.txt: %d names, expected %d (%s)" % (split, len(lst), len(names), names[:3]))
        for name in names:
            a = np.asarray(Image.open(os.path.join(d, name + ".png"))).copy()
            a[a == 11] = 255
            b = np.asarray(Image.open(os.path.join(out, "SegmentationClass", name + ".png")))
            if a.shape != b.shape or not (a == b).all():
                fail("%s: labels differ" % name)
            n += 1
    print("ok segnet %d labels" % n)


def images(src, out, size):
    import cv2
    worst, total, near, cnt = 0, 0.0, 0.0, 0
    for name in labels(src):
        a = np.asarray(Image.open(os.path.join(src, name + ".png")).convert("RGB"))
        ref = cv2.resize(a, size, interpolation=cv2.INTER_LINEAR).astype(np.int32)
        got = np.asarray(Image.open(os.path.join(out, "JPEGImages", name + ".jpg")).convert("RGB")).astype(np.int32)
        if got.shape != ref.shape:
            fail("%s: shape %s, expected %s" % (name, got.shape, ref.shape))
        d = np.abs(got - ref)
        worst = max(worst, int(d.max()))
        total += float(d.mean())
        nn = cv2.resize(a, size, interpolation=cv2.INTER_NEAREST).astype(np.int32)
        near += float(np.abs(got - nn).mean())
        cnt += 1
    # bilinear's mean difference, its max, and the mean difference to a nearest resize (the
    # convention camvid-prep must not use for images)
    print("%.3f %d %.3f" % (total / cnt, worst, near / cnt))


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    cmd, src, out = sys.argv[1:4]
    rest = sys.argv[4:]
    size = None
    if "--size" in rest:
        w, h = rest[rest.index("--size") + 1].split("x")
        size = (int(w), int(h))
    if cmd == "roundtrip":
        roundtrip(src, out)
    elif cmd == "group11":
        group11(src, out, size, "--void-index" in rest, "--cv" in rest)
    elif cmd == "segnet":
        segnet(src, out)
    elif cmd == "images":
        w, h = rest[0].split("x")
        images(src, out, (int(w), int(h)))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
