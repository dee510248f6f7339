#!/usr/bin/python3
"""Writes small seed inputs for the fuzz targets into OUT/<target>/.

usage: make-seeds.py OUT     (expects OUT/ckpt-fixtures from scripts/ref/make-ckpt-fixtures.py)
"""
import glob
import io
import json
import os
import shutil
import struct
import sys
import zipfile

import numpy as np
from PIL import Image

out = sys.argv[1]
fix = os.path.join(out, 'ckpt-fixtures')
LIMIT = 128 * 1024


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


# checkpoints: whole files for ckpt, zips for zip, the pickles inside for unpickle
for p in sorted(glob.glob(os.path.join(fix, '*.pth')) + glob.glob(os.path.join(fix, '*.pt'))):
    data = open(p, 'rb').read()
    if len(data) > LIMIT:
        continue
    name = os.path.basename(p)
    put('ckpt', name, data)
    if data[:2] == b'PK':
        put('zip', name, data)
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for n in z.namelist():
                    if n.endswith('data.pkl'):
                        put('unpickle', name + '.pkl', z.read(n))
        except Exception:
            pass
    else:
        put('unpickle', name, data[:16384])
for p in sorted(glob.glob(os.path.join(fix, 'plain_p*.pkl'))):
    put('unpickle', os.path.basename(p), open(p, 'rb').read())


# .w files: safetensors with __metadata__
def wfile(tensors, meta, align=8):
    hdr = {'__metadata__': meta}
    blob = b''
    for name, dt, shape, raw in tensors:
        blob += b'\0' * (-len(blob) % align)
        hdr[name] = {'dtype': dt, 'shape': shape, 'data_offsets': [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(hdr, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    return struct.pack('<Q', len(h)) + h + blob


rng = np.random.default_rng(1)
f32 = rng.standard_normal(12).astype('<f4')
put('wfile', 'f32.w', wfile([('conv.weight', 'F32', [3, 4], f32.tobytes())], {'arch': 'yolov5', 'nc': '80'}))
put('wfile', 'mixed.w', wfile([('a', 'F16', [2, 2], f32[:4].astype('<f2').tobytes()),
                               ('b', 'BF16', [3], (f32[:3].view('<u4') >> 16).astype('<u2').tobytes()),
                               ('c.bias', 'F32', [1], f32[:1].tobytes()),
                               ('s', 'F32', [], f32[:1].tobytes())],
                              {'format': 'cnnkit', 'input': '64x64', 'names': '["a","b"]'}))
put('wfile', 'empty.w', wfile([], {}))
put('wfile', 'zero.w', wfile([('z', 'F32', [0, 3], b'')], {'k': 'v'}))

# yaml model configs
for p in sorted(glob.glob('scripts/ref/yolov5/cfg/*.yaml')):
    put('yolo', os.path.basename(p), open(p, 'rb').read())


# images
def enc(img, fmt, **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


arr = rng.integers(0, 256, (13, 17, 3), dtype=np.uint8)
rgb = Image.fromarray(arr, 'RGB')
imgs = {
    'rgb.png': enc(rgb, 'PNG'),
    'gray.png': enc(rgb.convert('L'), 'PNG'),
    'pal.png': enc(rgb.convert('P', palette=Image.ADAPTIVE, colors=16), 'PNG'),
    'rgba.png': enc(rgb.convert('RGBA'), 'PNG'),
    'la.png': enc(rgb.convert('LA'), 'PNG'),
    'bw.png': enc(rgb.convert('1'), 'PNG'),
    'i16.png': enc(Image.fromarray((arr[:, :, 0].astype(np.uint16) * 257), 'I;16'), 'PNG'),
    'interlaced.png': enc(rgb, 'PNG', optimize=False),
    'q90.jpg': enc(rgb, 'JPEG', quality=90),
    'q50-420.jpg': enc(rgb, 'JPEG', quality=50, subsampling=2),
    'gray.jpg': enc(rgb.convert('L'), 'JPEG'),
    'progressive.jpg': enc(rgb.resize((24, 20)), 'JPEG', progressive=True),
    'cmyk.jpg': enc(rgb.convert('CMYK'), 'JPEG'),
}
imgs['rgb.ppm'] = enc(rgb, 'PPM')
imgs['gray.pgm'] = enc(rgb.convert('L'), 'PPM')
for n, b in imgs.items():
    put('image', n, b)
    for i, pre in enumerate([bytes([64, 64, 32, 1, 114, 0]), bytes([20, 100, 32, 0, 0, 0]),
                             bytes([63, 31, 0, 2, 128, 0])]):
        put('letterbox', '%d-%s' % (i, n), pre + b)

# masks: palette and gray PNGs, PGM, and refused kinds
lab = rng.integers(0, 21, (16, 12), dtype=np.uint8)
lab[0, :3] = 255
pal = Image.fromarray(lab, 'P')
pal.putpalette(list(range(256)) * 3)
put('mask', 'pal.png', enc(pal, 'PNG'))
put('mask', 'pal4bit.png', enc(Image.fromarray(lab % 16, 'P'), 'PNG', bits=4))
put('mask', 'gray.png', enc(Image.fromarray(lab, 'L'), 'PNG'))
put('mask', 'mask.pgm', b'P5\n12 16\n255\n' + lab.tobytes())
put('mask', 'comment.pgm', b'P5 # c\n12\n16 20\n' + (lab % 21).tobytes())
put('mask', 'rgb.png', imgs['rgb.png'])

# evaluate-miou state files
put('miou_state', 'n2.state', b'cnnkit-miou-state 1\nnum_classes 2\nimages 3\npixels 10\n4 1\n2 3\nend\n')
put('miou_state', 'n3.state', b'cnnkit-miou-state 1\nnum_classes 3\nimages 1\npixels 0\n0 0 0\n0 0 0\n0 0 0\nend\n')
put('miou_state', 'n1.state', b'cnnkit-miou-state 1\nnum_classes 1\nimages 1\npixels 18446744073709551615\n'
    b'18446744073709551615\nend\n')

# YOLO label files (the first byte is the class count for fuzz_map_labels)
labels = b'0 0.5 0.5 0.2 0.3\n1 0.25 0.75 0.1 0.1\n\n0 0.5 0.5 0.2 0.3\n'
put('map_labels', 'two', b'\x00' + labels)
put('map_labels', 'fixed', b'\x03' + b'2 1 1 1 1\n0 0 0 0 0\r\n1 1e-3 0.5 .5 1.0')
dets = [{'image_id': 1, 'category_id': 0, 'bbox': [10, 20, 30, 40], 'score': 0.9, 'width': 100, 'height': 80},
        {'image_id': 1, 'category_id': 1, 'bbox': [1.5, 2.5, 3, 4], 'score': 0.25},
        {'image_id': 'img_007', 'category_id': 0, 'bbox': [0, 0, 5, 5], 'score': 0.5, 'width': 640,
         'height': 480}]
lines = b'\n'.join(json.dumps(d).encode() for d in dets) + b'\n\n'
put('map_json', 'labels-dets', labels + b'\0' + lines)
put('map_json', 'dets-only', lines)
# a COCO results array as infer-detect -f coco writes it, ids 1..90
array = b'[' + b',\n'.join(json.dumps(dict(d, category_id=d['category_id'] + 1, width=100, height=80)).encode()
                         for d in dets) + b']\n'
put('map_json', 'labels-array', labels + b'\0' + array)

# CamVid colour tables (first byte even: label_colors.txt, odd: Kaggle class_dict.csv)
put('camvid_colors', 'label_colors.txt',
    b'\x00' + b'64 128 64\tAnimal\n192 0 128\tArchway\n0 128 192\tBicyclist\n0 0 0\tVoid\n')
put('camvid_colors', 'crlf.txt', b'\x02' + b'128 128 128 Sky\r\n128 0 0 Building\r\n')
put('camvid_colors', 'class_dict.csv', b'\x01' + b'name,r,g,b\nSky,128,128,128\nRoad,128,64,128\nVoid,0,0,0\n')


# frame streams: concatenated images of every kind, and one with bytes after the last frame
names = sorted(imgs)
for i in range(0, len(names), 3):
    put('frames', 'stream-%d' % i, b''.join(imgs[n] for n in names[i:i + 3]))
put('frames', 'trailing', imgs['q90.jpg'] + imgs['rgb.ppm'] + b'junk')
put('frames', 'cut', imgs['rgb.png'] + imgs['q90.jpg'][:200])
