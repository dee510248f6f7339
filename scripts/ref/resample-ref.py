#!/usr/bin/python3
"""References for tests/unit/test_image.c and test_resample.c, made with PIL 9.4 and OpenCV 4.6.

usage: resample-ref.py OUTDIR            write the references and OUTDIR/manifest.txt
       resample-ref.py --check DIR       read back DIR/*.png (+ .idx) and DIR/*.jpg (+ .ppm)

Manifest lines (paths relative to OUTDIR):
  rgb IN EXPECTED.pnm           PIL Image.open(IN).convert('RGB')
  rgberr IN                     PIL refuses IN (truncated, not an image)
  mask IN EXPECTED.pnm          np.array(Image.open(IN), np.uint8)
  maskerr IN                    IN is not an indexed/gray label
  bicubic IN.pnm W H OUT.pnm    PIL resize((W, H), BICUBIC)
  letterbox IN.pnm W H OUT.pnm NW NH   bubbliiiing resize_image onto gray 128
  cvlinear IN.f32 C SH SW DH DW OUT.f32   cv2.resize INTER_LINEAR, planar CHW float32
  blend A.pnm B.pnm ALPHA OUT.pnm       PIL Image.blend
  palette N OUT.raw             256x3 bytes: the palette for N classes
"""
import colorsys
import glob
import io
import os
import struct
import sys
import warnings
import zlib

import cv2
import numpy as np
from PIL import Image

warnings.simplefilter("ignore")  # PIL nags about tRNS in palette images
PHOTOS = sorted(glob.glob("/usr/share/darknet/data/*.jpg"))


def write_pnm(path, a):
    a = np.ascontiguousarray(a, np.uint8)
    magic = b"P6" if a.ndim == 3 else b"P5"
    with open(path, "wb") as f:
        f.write(b"%s\n%d %d\n255\n" % (magic, a.shape[1], a.shape[0]))
        f.write(a.tobytes())


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_bytes(w, h, depth, ctype, rows, plte=None, trns=None, cut=None, interlaced=None):
    """A minimal PNG writer, so every colour type and bit depth can be made.
    interlaced: (samples array H x W x nch) to write Adam7 passes instead of rows."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    if interlaced is not None:
        rows = []
        for (x0, y0, dx, dy) in ADAM7:
            sub = interlaced[y0::dy, x0::dx]
            if sub.size:
                rows += pack_rows(sub.reshape(sub.shape[0], -1), depth)
    raw = b"".join(b"\0" + r for r in rows)
    s = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0,
                                                          1 if interlaced is not None else 0))
    if plte is not None:
        s += chunk(b"PLTE", plte)
    if trns is not None:
        s += chunk(b"tRNS", trns)
    s += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    return s if cut is None else s[:cut]


def pack_rows(vals, depth):
    """vals: 2-D array of samples (or H x W*channels); packs MSB first / big-endian."""
    rows = []
    for r in vals:
        if depth == 16:
            rows.append(b"".join(struct.pack(">H", int(v)) for v in r))
        elif depth == 8:
            rows.append(bytes(int(v) for v in r))
        else:
            bits = "".join(format(int(v), "0%db" % depth) for v in r)
            bits += "0" * (-len(bits) % 8)
            rows.append(bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)))
    return rows


def voc_palette():
    pal = []
    for i in range(256):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= (c & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        pal.append((r, g, b))
    pal[255] = (224, 224, 192)
    return pal


def bubbliiiing_palette(n):
    pal = voc_palette()
    if n > 21:
        hsv = [(x / n, 1., 1.) for x in range(n)]
        cols = [colorsys.hsv_to_rgb(*x) for x in hsv]
        cols = [(int(x[0] * 255), int(x[1] * 255), int(x[2] * 255)) for x in cols]
        for i in range(min(n, 255)):
            pal[i] = cols[i]
    return pal


def letterbox(image, size):
    # bubbliiiing utils.resize_image
    iw, ih = image.size
    w, h = size
    scale = min(w / iw, h / ih)
    nw, nh = int(iw * scale), int(ih * scale)
    image = image.resize((nw, nh), Image.BICUBIC)
    new_image = Image.new('RGB', size, (128, 128, 128))
    new_image.paste(image, ((w - nw) // 2, (h - nh) // 2))
    return new_image, nw, nh


def make(out):
    os.makedirs(out, exist_ok=True)
    man = []
    rng = np.random.default_rng(12345)

    def p(*parts):
        return os.path.join(out, *parts)

    # ---- JPEG decodes of the photos, and variants made from one of them
    for ph in PHOTOS:
        name = os.path.splitext(os.path.basename(ph))[0]
        im = Image.open(ph).convert("RGB")
        write_pnm(p(name + ".ppm"), np.array(im))
        man.append("rgb %s %s.ppm" % (ph, name))
        for (W, H) in [(512, 512), (300, 200)]:
            lb, nw, nh = letterbox(im, (W, H))
            o = "%s-lb%dx%d.ppm" % (name, W, H)
            write_pnm(p(o), np.array(lb))
            man.append("letterbox %s.ppm %d %d %s %d %d" % (name, W, H, o, nw, nh))
        # an odd non-proportional resize and an upscale of a crop
        o = "%s-bc.ppm" % name
        write_pnm(p(o), np.array(im.resize((333, 201), Image.BICUBIC)))
        man.append("bicubic %s.ppm 333 201 %s" % (name, o))
    dog = Image.open(PHOTOS[0])
    dogc = dog.crop((120, 90, 421, 290))  # 301x200: odd width for the chroma edge
    variants = {
        "gray.jpg": dict(img=dogc.convert("L"), quality=90),
        "cmyk.jpg": dict(img=dogc.convert("CMYK"), quality=90),
        "s444.jpg": dict(img=dogc, quality=85, subsampling=0),
        "s422.jpg": dict(img=dogc, quality=85, subsampling=1),
        "prog.jpg": dict(img=dogc, quality=80, progressive=True),
        "odd.jpg": dict(img=dog.crop((3, 5, 104, 80)), quality=75),
    }
    for fn, kw in variants.items():
        img = kw.pop("img")
        img.save(p(fn), "JPEG", **kw)
        write_pnm(p(fn + ".ppm"), np.array(Image.open(p(fn)).convert("RGB")))
        man.append("rgb %s %s.ppm" % (fn, fn))
    data = open(PHOTOS[0], "rb").read()
    open(p("trunc.jpg"), "wb").write(data[:len(data) // 2])
    man.append("rgberr trunc.jpg")
    # stray bytes before EOI: libjpeg warns, PIL decodes anyway
    base = open(p("odd.jpg"), "rb").read()
    assert base.endswith(b"\xff\xd9")
    open(p("extra.jpg"), "wb").write(base[:-2] + b"\x12\x34\x56" + base[-2:])
    write_pnm(p("extra.jpg.ppm"), np.array(Image.open(p("extra.jpg")).convert("RGB")))
    man.append("rgb extra.jpg extra.jpg.ppm")
    open(p("junk.bin"), "wb").write(b"GIF89a not an image at all")
    man.append("rgberr junk.bin")
    open(p("empty.bin"), "wb").write(b"")
    man.append("rgberr empty.bin")

    # ---- PNGs of every colour type and depth
    W, H = 13, 5
    pngs = []
    for depth in (1, 2, 4, 8, 16):
        v = rng.integers(0, 1 << depth, (H, W))
        pngs.append(("g%d.png" % depth, png_bytes(W, H, depth, 0, pack_rows(v, depth)), depth <= 8))
    for depth in (1, 2, 4, 8):
        n = 1 << depth
        v = rng.integers(0, n, (H, W))
        plte = bytes(rng.integers(0, 256, 3 * max(1, n - 1)).tolist())  # short: last entry missing
        trns = bytes([0, 128])
        pngs.append(("p%d.png" % depth,
                     png_bytes(W, H, depth, 3, pack_rows(v, depth), plte, trns), True))
    for ctype, nch, tag in ((2, 3, "rgb"), (4, 2, "ga"), (6, 4, "rgba")):
        for depth in (8, 16):
            v = rng.integers(0, 1 << depth, (H, W * nch))
            pngs.append(("%s%d.png" % (tag, depth),
                         png_bytes(W, H, depth, ctype, pack_rows(v, depth)), False))
    v = rng.integers(0, 256, (11, 19, 3))
    pngs.append(("rgb8i.png", png_bytes(19, 11, 8, 2, None, interlaced=v), False))
    v = rng.integers(0, 4, (11, 19, 1))
    pngs.append(("p2i.png", png_bytes(19, 11, 2, 3, None, bytes(range(12)), interlaced=v), True))
    v = rng.integers(0, 256, (H, W))
    pngs.append(("g8trns.png", png_bytes(W, H, 8, 0, pack_rows(v, 8), trns=b"\0\7"), True))
    for fn, b, is_mask in pngs:
        open(p(fn), "wb").write(b)
        im = Image.open(io.BytesIO(b))
        write_pnm(p(fn + ".ppm"), np.array(im.convert("RGB")))
        man.append("rgb %s %s.ppm" % (fn, fn))
        if is_mask:
            write_pnm(p(fn + ".pgm"), np.array(im, np.uint8))
            man.append("mask %s %s.pgm" % (fn, fn))
        else:
            man.append("maskerr %s" % fn)
    good = png_bytes(W, H, 8, 2, pack_rows(rng.integers(0, 256, (H, W * 3)), 8))
    open(p("trunc.png"), "wb").write(good[:len(good) - 30])
    man.append("rgberr trunc.png")
    man.append("maskerr trunc.jpg")
    # PIL-written palette PNG with few colours (PIL picks a low bit depth)
    lab = rng.integers(0, 5, (37, 29)).astype(np.uint8)
    lab[0, :3] = 255
    im = Image.fromarray(lab, "P")
    im.putpalette(sum(voc_palette()[:5], ()) + (0,) * 3 * 250 + (224, 224, 192))
    im.save(p("pil-p.png"))
    write_pnm(p("pil-p.png.pgm"), np.array(Image.open(p("pil-p.png")), np.uint8))
    man.append("mask pil-p.png pil-p.png.pgm")
    # PGM labels
    with open(p("lab.pgm"), "wb") as f:
        f.write(b"P5\n# a comment\n29 37\n255\n" + lab.tobytes())
    write_pnm(p("lab.pgm.pgm"), lab)
    man.append("mask lab.pgm lab.pgm.pgm")

    # ---- bicubic sweep (RGB and gray sources)
    srcs = {
        "rand17x13.ppm": rng.integers(0, 256, (13, 17, 3)).astype(np.uint8),
        "crop64x48.ppm": np.array(dog.convert("RGB").crop((200, 150, 264, 198))),
        "crop64x48g.pgm": np.array(dog.convert("L").crop((100, 150, 164, 198))),
        "row1x9.ppm": rng.integers(0, 256, (1, 9, 3)).astype(np.uint8),
        "col9x1.pgm": rng.integers(0, 256, (9, 1)).astype(np.uint8),
        "edge.pgm": (np.arange(40 * 30).reshape(30, 40) % 2 * 255).astype(np.uint8),
    }
    sizes = [(1, 1), (1, 5), (5, 1), (2, 3), (7, 11), (16, 12), (31, 17), (64, 48), (100, 75),
             (3, 200), (257, 129), (9, 9), (33, 1)]
    for fn, a in srcs.items():
        write_pnm(p(fn), a)
        im = Image.fromarray(a)
        for (w, h) in sizes:
            o = "%s-%dx%d.pnm" % (fn, w, h)
            write_pnm(p(o), np.array(im.resize((w, h), Image.BICUBIC)))
            man.append("bicubic %s %d %d %s" % (fn, w, h, o))

    # ---- cv2 INTER_LINEAR on float maps
    cases = [(10, 12, 20, 24), (20, 24, 10, 12), (37, 41, 64, 61), (64, 61, 37, 41), (16, 16, 16, 16),
             (1, 5, 3, 7), (5, 1, 9, 2), (7, 9, 7, 13), (100, 80, 33, 27), (8, 8, 4, 4),
             (26, 18, 13, 9), (3, 3, 1, 1), (57, 83, 150, 200), (30, 40, 90, 97), (9, 14, 9, 7)]
    for c in (1, 2, 3, 4, 5, 21):
        for (sh, sw, dh, dw) in cases:
            x = rng.random((sh, sw, c), dtype=np.float32)
            y = cv2.resize(x, (dw, dh), interpolation=cv2.INTER_LINEAR)
            y = y.reshape(dh, dw, c)
            tag = "cv-%d-%dx%d-%dx%d" % (c, sh, sw, dh, dw)
            np.ascontiguousarray(x.transpose(2, 0, 1)).tofile(p(tag + ".in.f32"))
            np.ascontiguousarray(y.transpose(2, 0, 1)).tofile(p(tag + ".out.f32"))
            man.append("cvlinear %s.in.f32 %d %d %d %d %d %s.out.f32" % (tag, c, sh, sw, dh, dw, tag))
    # the real shape: 21-class probabilities of a 512 letterbox crop back to the photo size
    logits = rng.standard_normal((21, 192, 256)).astype(np.float32) * 3
    e = np.exp(logits - logits.max(0))
    prob = (e / e.sum(0)).astype(np.float32)
    x = prob.transpose(1, 2, 0)
    y = cv2.resize(x, (320, 240), interpolation=cv2.INTER_LINEAR)
    prob.tofile(p("cv-prob.in.f32"))
    np.ascontiguousarray(y.transpose(2, 0, 1)).tofile(p("cv-prob.out.f32"))
    man.append("cvlinear cv-prob.in.f32 21 192 256 240 320 cv-prob.out.f32")

    # ---- blend over every byte pair
    yy, xx = np.mgrid[0:256, 0:256]
    a = np.stack([xx, yy, (xx * 7 + yy * 13) & 255], -1).astype(np.uint8)
    b = np.stack([yy, xx, 255 - xx], -1).astype(np.uint8)
    write_pnm(p("blend-a.ppm"), a)
    write_pnm(p("blend-b.ppm"), b)
    for alpha in (0.7, 0.3, 0.5, 0.25, 0.0, 1.0, 1.5, -0.5):
        o = "blend-%g.ppm" % alpha
        write_pnm(p(o), np.array(Image.blend(Image.fromarray(a), Image.fromarray(b), alpha)))
        man.append("blend blend-a.ppm blend-b.ppm %r %s" % (alpha, o))

    # ---- palettes
    for n in (2, 21, 22, 30, 59, 150, 255, 256):
        o = "palette-%d.raw" % n
        open(p(o), "wb").write(bytes(v for c in bubbliiiing_palette(n) for v in c))
        man.append("palette %d %s" % (n, o))

    with open(p("manifest.txt"), "w") as f:
        f.write("\n".join(man) + "\n")


def read_pnm(path):
    im = Image.open(path)
    return np.array(im)


def check(d):
    """Reads back what the C encoders wrote; prints one line per check, exits 1 on a mismatch."""
    bad = 0
    for fn in sorted(glob.glob(os.path.join(d, "*.png"))):
        idx = np.fromfile(fn[:-4] + ".idx", np.uint8)
        im = Image.open(fn)
        got = np.array(im, np.uint8).reshape(-1)
        ok = im.mode == "P" and got.shape == idx.shape and (got == idx).all()
        pal = np.fromfile(fn[:-4] + ".pal", np.uint8) if os.path.exists(fn[:-4] + ".pal") else None
        if ok and pal is not None:
            have = np.array(im.getpalette()[:len(pal)], np.uint8)
            ok = (have == pal).all()
        print("%s %s mode %s" % ("ok" if ok else "BAD", os.path.basename(fn), im.mode))
        bad += not ok
    for fn in sorted(glob.glob(os.path.join(d, "*.jpg"))):
        want = read_pnm(fn[:-4] + ".ppm")
        got = np.array(Image.open(fn).convert("RGB"))
        ok = got.shape == want.shape and (got == want).all()
        print("%s %s decodes as ours" % ("ok" if ok else "BAD", os.path.basename(fn)))
        bad += not ok
        if os.path.exists(fn[:-4] + ".src"):  # encoded from this photo at quality 75
            src = open(fn[:-4] + ".src").read().strip()
            b = io.BytesIO()
            Image.open(src).convert("RGB").save(b, "JPEG", quality=75)
            ok = b.getvalue() == open(fn, "rb").read()
            print("%s %s bytes = PIL save(quality=75)" % ("ok" if ok else "BAD", os.path.basename(fn)))
            bad += not ok
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    elif len(sys.argv) == 2:
        make(sys.argv[1])
    else:
        sys.exit(__doc__)
