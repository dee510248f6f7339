#!/usr/bin/python3
"""Oracle for voc-annotate: bubbliiiing's voc_annotation.py algorithm re-implemented with the
same os.listdir order and the same calls into Python's random module, plus its label
histogram counted with NumPy.

usage: voc-annotation-ref.py VOCDEVKIT [--trainval F] [--train F] [--seed S] [--sort]
                             [--out DIR] [--csv | --table]
Writes trainval.txt, test.txt, train.txt and val.txt into DIR (default
VOCDEVKIT/VOC2007/ImageSets/Segmentation).  --table prints upstream's histogram table,
--csv prints "value,pixels,labels" rows; both count one-channel labels only (upstream would
also count every channel of an RGB label).
"""
import argparse
import os
import random

import numpy as np
from PIL import Image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("devkit")
    ap.add_argument("--trainval", type=float, default=1.0)
    ap.add_argument("--train", type=float, default=0.9)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sort", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--csv", action="store_true")
    ap.add_argument("--table", action="store_true")
    a = ap.parse_args()

    segfilepath = os.path.join(a.devkit, "VOC2007/SegmentationClass")
    saveBasePath = a.out or os.path.join(a.devkit, "VOC2007/ImageSets/Segmentation")

    # upstream: listdir (unsorted), keep names ending in ".png", then two samples
    temp_seg = os.listdir(segfilepath)
    total_seg = [seg for seg in temp_seg if seg.endswith(".png")]
    if a.sort:
        total_seg.sort()
    random.seed(a.seed)
    num = len(total_seg)
    lst = range(num)
    tv = int(num * a.trainval)
    tr = int(tv * a.train)
    trainval = random.sample(lst, tv)
    train = random.sample(trainval, tr)

    with open(os.path.join(saveBasePath, "trainval.txt"), "w") as ftrainval, \
            open(os.path.join(saveBasePath, "test.txt"), "w") as ftest, \
            open(os.path.join(saveBasePath, "train.txt"), "w") as ftrain, \
            open(os.path.join(saveBasePath, "val.txt"), "w") as fval:
        for i in lst:
            name = total_seg[i][:-4] + "\n"
            if i in trainval:
                ftrainval.write(name)
                if i in train:
                    ftrain.write(name)
                else:
                    fval.write(name)
            else:
                ftest.write(name)

    if not (a.csv or a.table):
        return
    pixels = np.zeros(256, np.int64)
    labels = np.zeros(256, np.int64)
    for name in total_seg:
        try:
            png = np.array(Image.open(os.path.join(segfilepath, name)), np.uint8)
        except Exception:
            continue
        if png.ndim != 2:
            continue
        counts = np.bincount(png.reshape(-1), minlength=256)
        pixels += counts
        labels += counts > 0
    if a.csv:
        print("value,pixels,labels")
        for v in range(256):
            if pixels[v] > 0:
                print("%d,%d,%d" % (v, pixels[v], labels[v]))
    else:
        print("-" * 37)
        print("| %15s | %15s |" % ("Key", "Value"))
        print("-" * 37)
        for v in range(256):
            if pixels[v] > 0:
                print("| %15s | %15s |" % (str(v), str(pixels[v])))
                print("-" * 37)


if __name__ == "__main__":
    main()
