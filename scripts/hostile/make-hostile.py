#!/usr/bin/python3
"""Writes hostile inputs for the hardening tests into OUT, and OUT/cases.tsv listing them:

    NAME <TAB> KIND <TAB> REGEX

KIND says which programs read it (ckpt: weightconv; wfile: weightconv --info, infer-seg,
infer-detect, flops-count; image: infer-seg, infer-detect; mask: evaluate-miou; yaml: flops-count
--cfg, weightconv --cfg; dets, labels: evaluate-map), REGEX what the one error line must say
about the problem (extended regex, matched case-insensitively).

usage: make-hostile.py OUT BASE_W     (BASE_W: a valid .w file, e.g. the small YOLOv5n one)

Pickles are written opcode by opcode, so they say exactly what a hostile file would say;
OUT/live-touch.pkl is one that Python's own pickle would really run (it touches OUT/live-proof),
so a test can show the payload is live before checking that our reader does not run it.
"""
import io
import json
import os
import pickle
import re
import struct
import sys
import zipfile
import zlib

out, base_w = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
cases = []


def put(name, kind, regex, data):
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)
    cases.append((name, kind, regex))


# ---------------------------------------------------------------- pickle opcodes
PROTO2 = b'\x80\x02'


def uni(s):
    b = s.encode()
    return b'X' + struct.pack('<I', len(b)) + b


def pint(v):
    if 0 <= v < 2 ** 31:
        return b'J' + struct.pack('<i', v)
    b = pickle.encode_long(v)
    return b'\x8a' + bytes([len(b)]) + b


def glob(mod, name):
    return b'c' + mod.encode() + b'\n' + name.encode() + b'\n'


def tup(items):
    return b'(' + b''.join(items) + b't'


def tensor(key, numel, offset, shape, stride=None, storage='FloatStorage'):
    """torch._utils._rebuild_tensor_v2(persistent storage, offset, shape, stride, False, OrderedDict())"""
    if stride is None:
        stride, acc = [], 1
        for d in reversed(shape):
            stride.insert(0, acc)
            acc *= max(d, 1)
    pers = tup([uni('storage'), glob('torch', storage), uni(key), uni('cpu'), pint(numel)]) + b'Q'
    args = tup([pers, pint(offset), tup([pint(d) for d in shape]), tup([pint(d) for d in stride]),
                b'\x89', glob('collections', 'OrderedDict') + b')R'])
    return glob('torch._utils', '_rebuild_tensor_v2') + args + b'R'


def state_dict(entries):
    """entries: [(name, pickled value)] -> protocol 2 pickle of a dict"""
    return PROTO2 + b'}(' + b''.join(uni(k) + v for k, v in entries) + b'u.'


def torch_zip(pkl, blobs, name='archive', compress=zipfile.ZIP_STORED, pkl_compress=None):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', compression=compress) as z:
        z.writestr(zipfile.ZipInfo(name + '/data.pkl'), pkl,
                   compress_type=pkl_compress if pkl_compress is not None else compress)
        z.writestr(zipfile.ZipInfo(name + '/byteorder'), b'little')
        for k, v in blobs.items():
            z.writestr(zipfile.ZipInfo(name + '/data/' + k), v)
        z.writestr(zipfile.ZipInfo(name + '/version'), b'3\n')
    return buf.getvalue()


f12 = struct.pack('<12f', *[0.5 * i for i in range(12)])
good_pkl = state_dict([('w', tensor('0', 12, 0, [3, 4]))])
# The control: a well-formed one-tensor checkpoint; weightconv refuses it only for not being a model.
put('ctl-one-tensor.pth', 'ckpt-control', 'no .*(architecture|tensor|backbone|model)|missing|not a|unknown',
    torch_zip(good_pkl, {'0': f12}))


# -- code execution through globals off the allow-list: every one must be refused by name
def call(mod, name, arg):
    return PROTO2 + glob(mod, name) + uni(arg) + b'\x85R.'


pwned = os.path.join(out, 'pwned')
evil = [
    ('os', 'system', 'touch ' + pwned),
    ('posix', 'system', 'touch ' + pwned),
    ('builtins', 'eval', "__import__('os').system('touch %s')" % pwned),
    ('__builtin__', 'exec', "__import__('os').system('touch %s')" % pwned),
    ('builtins', 'exec', "open(%r,'w')" % pwned),
    ('builtins', 'getattr', 'x'),
    ('builtins', '__import__', 'os'),
    ('builtins', 'open', pwned),
    ('subprocess', 'Popen', 'touch'),
    ('subprocess', 'check_output', 'id'),
    ('nt', 'system', 'calc'),
    ('pty', 'spawn', '/bin/sh'),
    ('runpy', '_run_code', 'x'),
    ('torch', 'load', 'x'),
    ('torch.serialization', 'load', 'x'),
    ('numpy', 'load', 'x'),
    ('pickle', 'loads', 'x'),
    ('webbrowser', 'open', 'http://example.com'),
]
for mod, name, arg in evil:
    tag = (mod + '.' + name).replace('_', '')
    put('evil-%s.pth' % tag, 'ckpt', r'forbidden global .%s\.%s' % (mod.replace('__builtin__', 'builtins'), name),
        torch_zip(call(mod, name, arg), {}))
# the same payload hidden inside a tensor entry of an otherwise good state_dict
put('evil-nested-os.system.pth', 'ckpt', r'forbidden global .os\.system',
    torch_zip(state_dict([('w', tensor('0', 12, 0, [3, 4])),
                          ('b', glob('os', 'system') + uni('touch ' + pwned) + b'\x85R')]), {'0': f12}))
# protocol 4 STACK_GLOBAL, protocol 0 INST, and OBJ spell the same call differently
sbu = lambda s: b'\x8c' + bytes([len(s)]) + s.encode()  # noqa: E731
put('evil-stackglobal.pth', 'ckpt', r'forbidden global .os\.system',
    torch_zip(b'\x80\x04' + sbu('os') + sbu('system') + b'\x93' + sbu('touch ' + pwned) + b'\x85R.', {}))
put('evil-inst.pth', 'ckpt', r'forbidden global .os\.system|opcode|unsupported',
    torch_zip(b'(' + uni('touch ' + pwned) + b'ios\nsystem\n.', {}))
put('evil-obj.pth', 'ckpt', r'forbidden global .subprocess\.Popen|opcode|unsupported',
    torch_zip(PROTO2 + b'(' + glob('subprocess', 'Popen') + uni('touch') + b'o.', {}))
# the copyreg extension registry names globals by number
put('evil-ext1.pth', 'ckpt', r'opcode|unsupported|extension',
    torch_zip(PROTO2 + b'\x82\x01' + uni('x') + b'\x85R.', {}))
# a legacy (pre-zip) torch.save file: magic number pickle first
legacy = PROTO2 + pint(0x1950a86a20f9469cfc6c) + b'.'
put('evil-legacy-os.system.pth', 'ckpt', r'forbidden global .os\.system', legacy + call('os', 'system', 'touch ' + pwned))
# Python's pickle really would run this one (the test checks that first)
with open(os.path.join(out, 'live-touch.pkl'), 'wb') as f:
    f.write(call('posix', 'system', 'touch ' + os.path.join(out, 'live-proof')))

# -- resource bombs
depth = 100000
put('bomb-nesting.pth', 'ckpt', r'nested|deeper|stack|limit',
    torch_zip(PROTO2 + b']' * depth + b'a' * (depth - 1) + b'.', {}))
put('bomb-marks.pth', 'ckpt', r'nested|deeper|stack|limit|mark',
    torch_zip(PROTO2 + b'(' * depth + b'.', {}))
# memo bomb: each list holds the previous one 16 times through the memo; expanded it has 16**40 leaves
memo = PROTO2 + b']q\x00'
for i in range(1, 41):
    memo += b'(' + (b'h' + bytes([i - 1])) * 16 + b'lq' + bytes([i])
memo += b'.'
put('bomb-memo.pth', 'ckpt', r'no state_dict|not a dict|limit|too many|objects', torch_zip(memo, {}))
put('bomb-memo-index.pth', 'ckpt', r'memo',
    torch_zip(PROTO2 + b'N' + b'r' + struct.pack('<I', 0xfffffff0) + b'j' + struct.pack('<I', 0xfffffff0) + b'.', {}))
put('bomb-memo-get.pth', 'ckpt', r'memo', torch_zip(PROTO2 + b'j' + struct.pack('<I', 0x7fffffff) + b'.', {}))
# a string whose declared length is far past the data
put('bomb-string-length.pth', 'ckpt', r'truncat|past|end|short|length',
    torch_zip(PROTO2 + b'X' + struct.pack('<I', 0xffffffff) + b'abc.', {}))
put('bomb-long-length.pth', 'ckpt', r'truncat|past|end|short|length|too (long|large|big)',
    torch_zip(PROTO2 + b'\x8b' + struct.pack('<i', 0x7fffffff) + b'\x01.', {}))

# -- tensors that lie about their storage
lies = [
    ('shape-overflow-int64', [2 ** 40, 2 ** 40], None, 12, 0, r'overflow|too (large|big)|elements|shape'),
    ('shape-overflow-size_t', [2 ** 62, 16], None, 12, 0, r'overflow|too (large|big)|elements|shape'),
    ('shape-huge-dim', [2 ** 63 + 5], None, 12, 0, r'overflow|too (large|big)|elements|shape|range|integer'),
    ('shape-negative', [-3, 4], None, 12, 0, r'negative|shape|invalid|range'),
    ('offset-past-storage', [3, 4], None, 12, 1000000, r'offset|past|storage|beyond|outside|exceed'),
    ('offset-negative', [3, 4], None, 12, -5, r'offset|negative|range|invalid'),
    ('storage-size-past-data', [3, 4], None, 1000000, 0, r'storage|size|bytes|past|short|record|truncat'),
    ('stride-past-storage', [3, 4], [400, 1], 12, 0, r'stride|storage|past|beyond|outside|exceed|contiguous'),
    ('stride-overflow', [3, 4], [2 ** 62, 1], 12, 0, r'stride|overflow|storage|contiguous|range'),
]
for tag, shape, stride, numel, off, rx in lies:
    put('tensor-%s.pth' % tag, 'ckpt', rx, torch_zip(state_dict([('w', tensor('0', numel, off, shape, stride))]), {'0': f12}))
put('tensor-missing-record.pth', 'ckpt', r'record|missing|no (zip )?entry|not found|data/7',
    torch_zip(state_dict([('w', tensor('7', 12, 0, [3, 4]))]), {'0': f12}))
put('tensor-bad-storage-type.pth', 'ckpt', r'ComplexDouble|storage|dtype|unsupported|type',
    torch_zip(state_dict([('w', tensor('0', 12, 0, [3, 4], storage='ComplexDoubleStorage'))]), {'0': f12}))

# -- zip containers
good = torch_zip(good_pkl, {'0': f12})


def find_cd(z):
    eocd = z.rindex(b'PK\x05\x06')
    size, off = struct.unpack_from('<II', z, eocd + 12)
    return eocd, size, off


def patched(z, pos, fmt, value):
    b = bytearray(z)
    struct.pack_into(fmt, b, pos, value)
    return bytes(b)


eocd, cdsize, cdoff = find_cd(good)
# the first central record's local header offset points past the end of the file
put('zip-local-past-end.pth', 'ckpt', r'past|beyond|end|truncat|local header|outside',
    patched(good, cdoff + 42, '<I', len(good) + 1000))
# the central directory's offset is past the end of the file
put('zip-cd-past-end.pth', 'ckpt', r'central directory|past|beyond|end|truncat|corrupt',
    patched(good, eocd + 16, '<I', 0x7ffffff0))
# an entry whose sizes claim 3 GB
b = patched(good, cdoff + 20, '<I', 0xc0000000)
put('zip-entry-size-past-end.pth', 'ckpt', r'past|beyond|end|truncat|size|differ|outside', patched(b, cdoff + 24, '<I', 0xc0000000))
put('zip-entry-count-lie.pth', 'ckpt', r'central directory|entries|corrupt|claims',
    patched(patched(good, eocd + 8, '<H', 0xffff), eocd + 10, '<H', 0xffff))
put('zip-deflate.pth', 'ckpt', r'compress|deflate|method|unsupported',
    torch_zip(good_pkl, {'0': f12}, compress=zipfile.ZIP_DEFLATED))
# the general-purpose flag says "encrypted" in both headers
enc = bytearray(good)
for sig in (b'PK\x03\x04', b'PK\x01\x02'):
    i = enc.find(sig)
    while i >= 0:
        flag_at = i + (6 if sig == b'PK\x03\x04' else 8)
        struct.pack_into('<H', enc, flag_at, struct.unpack_from('<H', enc, flag_at)[0] | 1)
        i = enc.find(sig, i + 4)
put('zip-encrypted.pth', 'ckpt', r'encrypt', bytes(enc))
put('zip-truncated-half.pth', 'ckpt', r'truncat|not a zip|end of central|past|short', good[:len(good) // 2])
put('zip-truncated-cd.pth', 'ckpt', r'truncat|not a zip|end of central|past|short|central', good[:eocd + 10])
put('zip-empty.pth', 'ckpt', r'empty|short|not a|truncat', b'')
nopkl = io.BytesIO()
with zipfile.ZipFile(nopkl, 'w') as z:
    z.writestr('archive/version', '3\n')
put('zip-no-pkl.pth', 'ckpt', r'data\.pkl|no .*pickle|not a|missing', nopkl.getvalue())
# a data.pkl that is deflated while the tensors are stored
put('zip-deflate-pkl.pth', 'ckpt', r'compress|deflate|method|unsupported',
    torch_zip(good_pkl, {'0': f12}, pkl_compress=zipfile.ZIP_DEFLATED))

# ---------------------------------------------------------------- .w files
raw = open(base_w, 'rb').read()
hlen = struct.unpack_from('<Q', raw)[0]
hdr = json.loads(raw[8:8 + hlen])
data = raw[8 + hlen:]
names = [k for k in hdr if k != '__metadata__']
big = max(names, key=lambda k: hdr[k]['data_offsets'][1] - hdr[k]['data_offsets'][0])


def wfile(h, blob=data, hl=None):
    j = json.dumps(h, separators=(',', ':')).encode()
    j += b' ' * (-len(j) % 8)
    return struct.pack('<Q', len(j) if hl is None else hl) + j + blob


def wfile_raw(j, blob=data):
    j += b' ' * (-len(j) % 8)
    return struct.pack('<Q', len(j)) + j + blob


def lie(tag, rx, **kw):
    h = json.loads(json.dumps(hdr))
    for k, v in kw.items():
        h[big][k] = v
    put('w-%s.w' % tag, 'wfile', rx, wfile(h))


o0, o1 = hdr[big]['data_offsets']
shape = hdr[big]['shape']
lie('offsets-past-end', r'past|beyond|end|offset|outside|exceed', data_offsets=[o0, len(data) + 4096])
lie('offsets-reversed', r'offset|revers|invalid|before|order', data_offsets=[o1, o0])
lie('offsets-huge', r'offset|past|beyond|range|overflow|integer|outside', data_offsets=[2 ** 63 + 1, 2 ** 64 - 1])
lie('size-mismatch', r'shape|size|bytes|offset|mismatch|match|expect', shape=[shape[0] + 1] + shape[1:])
lie('shape-overflow', r'overflow|too (large|big)|shape|elements', shape=[2 ** 31, 2 ** 31, 2 ** 31, 2 ** 31])
lie('shape-negative', r'negative|shape|invalid|integer|range', shape=[-1] + shape[1:])
lie('dtype-unknown', r'dtype|type|unsupported|unknown', dtype='Q99')
lie('dtype-f64', r'dtype|type|unsupported|unknown|F64|size|bytes|shape', dtype='F64')
lie('dtype-not-string', r'dtype|type|string|invalid', dtype=7)
h = json.loads(json.dumps(hdr))
h[names[0]]['data_offsets'] = hdr[big]['data_offsets']
h[names[0]]['shape'], h[names[0]]['dtype'] = hdr[big]['shape'], hdr[big]['dtype']
put('w-overlap.w', 'wfile', r'overlap|offset|shape|missing|size|expect|mismatch|tensor', wfile(h))
put('w-header-len-huge.w', 'wfile', r'header|length|past|end|large|truncat|exceed', wfile(hdr, hl=2 ** 63 - 1))
put('w-header-len-past-end.w', 'wfile', r'header|length|past|end|large|truncat|exceed', wfile(hdr, hl=len(raw) + 8))
put('w-header-not-json.w', 'wfile', r'json|header|parse|invalid', struct.pack('<Q', 16) + b'{"a": [1, 2, 3,' + b' ' + data)
put('w-header-not-object.w', 'wfile', r'json|header|object|invalid', wfile([1, 2, 3]))
put('w-json-deep.w', 'wfile', r'json|header|deep|nest|parse|invalid|limit',
    wfile_raw(b'{"a":' + b'[' * 100000 + b']' * 100000 + b'}'))
put('w-truncated.w', 'wfile', r'truncat|past|end|short|beyond|exceed', raw[:8 + hlen + len(data) // 2])
put('w-truncated-header.w', 'wfile', r'truncat|header|past|end|short|length|exceed', raw[:8 + hlen // 2])
put('w-tiny.w', 'wfile', r'truncat|short|header|small|not a', raw[:5])
h = json.loads(json.dumps(hdr))
h['__metadata__'] = {'arch': 'yolov5', 'yaml': 'nc: [[[[[', 'nc': '-5'}
put('w-bad-metadata.w', 'wfile', r'yaml|metadata|nc|class|parse|invalid|arch', wfile(h))
for key in ('yaml', 'cfg'):
    if key in hdr['__metadata__']:
        h = json.loads(json.dumps(hdr))
        h['__metadata__'][key] = '[' * 50000 + ']' * 50000
        put('w-yaml-deep.w', 'wfile', r'deep|nest|depth|limit', wfile(h))
        break

# ---------------------------------------------------------------- images and masks
def png_chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)


def png(w, h, bitdepth=8, ctype=2, rows=b'', palette=None):
    s = b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, bitdepth, ctype, 0, 0, 0))
    if palette:
        s += png_chunk(b'PLTE', palette)
    return s + png_chunk(b'IDAT', zlib.compress(rows)) + png_chunk(b'IEND', b'')


def sof_jpeg(w, h):
    """A JPEG whose frame header declares w x h; the scan data is a few bytes."""
    src = open('/usr/share/darknet/data/dog.jpg', 'rb').read()
    b = bytearray(src)
    i = 2
    while i < len(b):
        m, ln = b[i + 1], struct.unpack_from('>H', b, i + 2)[0]
        if m in (0xc0, 0xc1, 0xc2):
            struct.pack_into('>HH', b, i + 5, h, w)
            return bytes(b[:i + 2 + ln + 600])
        i += 2 + ln
    raise SystemExit('no SOF in dog.jpg')


put('img-png-huge.png', 'image', r'pixels|too (large|big)|max-pixels|limit', png(100000, 100000, rows=b'\0' * 64))
put('img-png-wide.png', 'image', r'pixels|too (large|big)|max-pixels|limit|width|invalid', png(2 ** 31 - 1, 1, rows=b'\0' * 64))
put('img-jpeg-huge.jpg', 'image', r'pixels|too (large|big)|max-pixels|limit', sof_jpeg(65000, 65000))
dog = open('/usr/share/darknet/data/dog.jpg', 'rb').read()
put('img-jpeg-truncated.jpg', 'image', r'truncat|premature|corrupt|jpeg|decode|end', dog[:len(dog) // 3])
put('img-jpeg-header-only.jpg', 'image', r'truncat|premature|corrupt|jpeg|decode|end|header', dog[:300])
rgb = png(64, 48, rows=b''.join(b'\0' + bytes(range(64)) * 3 for _ in range(48)))
put('img-png-truncated.png', 'image', r'truncat|eof|corrupt|png|decode|end|short', rgb[:len(rgb) // 2])
put('img-png-bad-crc.png', 'image', r'crc|checksum|corrupt|png|decode|invalid',
    rgb[:29] + bytes([rgb[29] ^ 0xff]) + rgb[30:])
put('img-not-image.jpg', 'image', r'not a|unknown|unsupported|format|image|jpeg|png', b'GIF89a' + b'\0' * 100)
put('img-empty.jpg', 'image', r'empty|not a|unknown|format|image|short', b'')

# masks: a good 3-class gt/pred pair, then bad predictions against the good gt
mask_rows = lambda w, h: b''.join(b'\0' + bytes((x + y) % 3 for x in range(w)) for y in range(h))  # noqa: E731
pal = bytes([0, 0, 0, 128, 0, 0, 0, 128, 0]) + b'\0' * (256 * 3 - 9)
with open(os.path.join(out, 'mask-gt.png'), 'wb') as f:
    f.write(png(32, 24, ctype=3, rows=mask_rows(32, 24), palette=pal))
with open(os.path.join(out, 'mask-good.png'), 'wb') as f:
    f.write(png(32, 24, ctype=3, rows=mask_rows(32, 24), palette=pal))
put('mask-wrong-size.png', 'mask', r'size|differ|match|24|32|33', png(33, 24, ctype=3, rows=mask_rows(33, 24), palette=pal))
put('mask-rgb.png', 'mask', r'rgb|colou?r|type|gray|palette|channel|not a mask|8-bit|indexed', png(32, 24, ctype=2, rows=b''.join(b'\0' + b'\1\2\3' * 32 for _ in range(24))))
put('mask-16bit.png', 'mask', r'16|bit|depth|type|not a mask|8-bit', png(32, 24, bitdepth=16, ctype=0, rows=b''.join(b'\0' + b'\0\1' * 32 for _ in range(24))))
put('mask-huge.png', 'mask', r'pixels|too (large|big)|max-pixels|limit', png(100000, 100000, ctype=0, rows=b'\0' * 64))
put('mask-truncated.png', 'mask', r'truncat|eof|corrupt|png|decode|end|short', png(32, 24, ctype=3, rows=mask_rows(32, 24), palette=pal)[:60])
put('mask-jpeg.jpg', 'mask', r'jpeg|lossy|format|not a mask|png|pgm|type', dog[:4000])
put('mask-pgm-lies.pgm', 'mask', r'pgm|truncat|short|size|past|end|pixels', b'P5\n32 24\n255\n' + b'\0' * 10)
put('mask-pgm-maxval.pgm', 'mask', r'pgm|maxval|16|bit|depth|255|type', b'P5\n32 24\n65535\n' + b'\0' * (32 * 24 * 2))

# ---------------------------------------------------------------- YOLOv5 yaml configs
yolo = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'ref', 'yolov5', 'cfg', 'yolov5n.yaml')).read()
# aliases are node references in libyaml's document model: 10**12 rows if anything expanded them
put('yaml-alias-bomb.yaml', 'yaml', r'layer|from|module|alias|yaml|limit',
    ('a0: &a0 [-1, 1, Conv, [64, 6, 2, 2]]\n' +
     ''.join('a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n' % ((i, i) + (i - 1,) * 10)
             for i in range(1, 13)) + re.sub(r'^backbone:', 'backbone: *a12\nxbackbone:', yolo, count=1, flags=re.M)).encode())
# libyaml's scanner is quadratic in the flow nesting depth: 50000 levels take minutes unless refused
put('yaml-deep.yaml', 'yaml', r'deep|nest|depth|limit', (('[' * 50000) + (']' * 50000) + '\n').encode())
put('yaml-deep-map.yaml', 'yaml', r'deep|nest|depth|limit', ('nc: ' + '{a: ' * 50000 + '1' + '}' * 50000 + '\n').encode())
put('yaml-huge-width.yaml', 'yaml', r'width|channel|too (large|big)|overflow|limit|range|invalid|multiple',
    yolo.replace('width_multiple: 0.25', 'width_multiple: 1e15').encode())
put('yaml-huge-repeat.yaml', 'yaml', r'depth|repeat|too (large|big)|overflow|limit|range|invalid|number',
    yolo.replace('depth_multiple: 0.33', 'depth_multiple: 1e12').encode())
put('yaml-bad-from.yaml', 'yaml', r'from|index|layer|range|invalid|refer',
    yolo.replace('[[-1, 6], 1, Concat, [1]]', '[[-1, 99999], 1, Concat, [1]]', 1).encode())
put('yaml-unknown-module.yaml', 'yaml', r'module|unknown|unsupported|os\.system',
    yolo.replace('[-1, 1, SPPF, [1024, 5]]', '[-1, 1, os.system, [touch]]').encode())
# a layer fed by Detect, which has no feature map: a depthwise conv of 0 channels in 0 groups (found by fuzzing)
put('yaml-after-detect.yaml', 'yaml', r'feature map|channel|group',
    yolo.replace('[[17, 20, 23], 1, Detect, [nc, anchors]],',
                 '[[17, 20, 23], 1, Detect, [nc, anchors]],\n   [-1, 1, GhostBottleneck, [1024, 3, 2]],', 1).encode())
# a float-to-int conversion out of range (found by fuzzing): a C3 expansion of 1e300
put('yaml-huge-expansion.yaml', 'yaml', r'expansion|range',
    yolo.replace('[-1, 3, C3, [128]]', '[-1, 3, C3, [128, True, 1, 1e300]]', 1).encode())
put('yaml-not-yaml.yaml', 'yaml', r'yaml|parse|line|invalid|scanner|mapping', b'backbone: [[-1, 1, Conv, [64, 6, 2, 2]]\n  head: : :\n\t\x00')

# ---------------------------------------------------------------- detections and labels for evaluate-map
os.makedirs(os.path.join(out, 'labels'), exist_ok=True)
with open(os.path.join(out, 'labels', 'img1.txt'), 'w') as f:
    f.write('0 0.5 0.5 0.2 0.2\n1 0.3 0.3 0.1 0.1\n')
good_det = {'image_id': 'img1', 'category_id': 0, 'bbox': [60, 60, 40, 40], 'score': 0.9, 'width': 200, 'height': 200}
with open(os.path.join(out, 'dets-good.jsonl'), 'w') as f:
    f.write(json.dumps(good_det) + '\n')


def dets(tag, rx, lines):
    put('dets-%s.jsonl' % tag, 'dets', rx, ''.join(l + '\n' for l in lines).encode())


dets('not-json', r'json|line 2|parse|invalid', [json.dumps(good_det), '{"image_id": "img1", "bbox": [1, 2'])
dets('bbox-short', r'bbox|line 1|array|4', [json.dumps(dict(good_det, bbox=[1, 2]))])
dets('bbox-nan', r'bbox|nan|finite|number|line 1|invalid', ['{"image_id":"img1","category_id":0,"bbox":[NaN,1,2,3],"score":0.5,"width":200,"height":200}'])
dets('category-huge', r'category|class|range|large|line 1|negative|invalid', [json.dumps(dict(good_det, category_id=2 ** 40))])
dets('category-negative', r'category|class|range|negative|line 1|invalid', [json.dumps(dict(good_det, category_id=-1))])
dets('score-string', r'score|number|line 1|invalid', [json.dumps(dict(good_det, score='high'))])
dets('json-deep', r'json|deep|nest|line 1|parse|invalid|object', ['[' * 100000 + ']' * 100000])
dets('binary', r'json|line 1|parse|invalid|utf|object', ['\x00\x01\x02\xff'])
# label files that lie (evaluate-map reads LABELS/<image_id>.txt)
for tag, text, rx in [('garbage', 'zero 0.5 0.5 x y\n', r'line 1|number|class|field|invalid|parse'),
                      ('class-huge', '99999999999 0.5 0.5 0.1 0.1\n', r'line 1|class|range|large|invalid'),
                      ('class-negative', '-1 0.5 0.5 0.1 0.1\n', r'line 1|class|range|negative|invalid'),
                      ('nan', '0 nan 0.5 0.1 0.1\n', r'line 1|nan|finite|number|invalid|range'),
                      ('binary', '\x00\x01\x02\x03\n', r'line 1|number|class|field|invalid|parse|binary|nul')]:
    d = os.path.join(out, 'labels-' + tag)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'img1.txt'), 'w') as f:
        f.write(text)
    cases.append(('labels-' + tag, 'labels', rx))

with open(os.path.join(out, 'cases.tsv'), 'w') as f:
    for c in cases:
        f.write('\t'.join(c) + '\n')
print('make-hostile: %d cases in %s' % (len(cases), out))
