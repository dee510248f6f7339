#!/usr/bin/python3
"""Writes torch.save checkpoints (good and hostile) and the values the C reader must find.

usage: make-ckpt-fixtures.py OUTDIR

OUTDIR/expected.txt  one block per good checkpoint:
    file NAME COUNT
    tensor KEY DTYPE NDIM DIMS... NUMEL VALUES...   (floats as float32 bit patterns in hex)
OUTDIR/hostile.txt   NAME<TAB>substring the error message must contain
OUTDIR/plain_pN.pkl + plain_pN.txt  plain data pickled with protocol N and its canonical form
Hostile files are only ever written here, never loaded back.
"""
import _compat_pickle
import collections
import io
import math
import os
import pickle
import struct
import subprocess
import sys
import zipfile
import zlib

import numpy as np
import torch

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(1234)
expected = []
hostile = []


def path(name):
    return os.path.join(out, name)


# ---------------------------------------------------------------- expected values

DTYPES = {torch.float32: 'f32', torch.float16: 'f16', torch.bfloat16: 'bf16', torch.float64: 'f64',
          torch.int64: 'i64', torch.int32: 'i32', torch.int8: 'i8', torch.uint8: 'u8', torch.bool: 'bool'}


def expect(name, sd, strip=False):
    lines = []
    for k, t in sd.items():
        if not isinstance(t, torch.Tensor):
            continue
        if strip and k.startswith('module.'):
            k = k[7:]
        t = t.detach()
        if t.is_floating_point():
            bits = t.float().contiguous().numpy().view(np.uint32).reshape(-1)
            vals = ['%08x' % b for b in bits]
        else:
            vals = ['%d' % v for v in t.long().contiguous().reshape(-1).tolist()]
        lines.append(' '.join(['tensor', k, DTYPES[t.dtype], str(t.dim())] + [str(d) for d in t.shape] +
                              [str(t.numel())] + vals))
    expected.append('file %s %d' % (name, len(lines)))
    expected.extend(lines)


def small_net():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                              torch.nn.Flatten(), torch.nn.Linear(4, 2))
    with torch.no_grad():
        net[1].running_mean.uniform_(-1, 1)
        net[1].running_var.uniform_(0.5, 2)
        net[1].num_batches_tracked.fill_(7)
    return net.state_dict()  # an OrderedDict carrying _metadata


# ---------------------------------------------------------------- good checkpoints

sd = small_net()
torch.save(sd, path('bare.pth'))
expect('bare.pth', sd)

torch.save({'state_dict': sd, 'epoch': 12, 'optimizer': {'lr': 0.01, 'betas': (0.9, 0.999), 'steps': [1, 2, 3]},
            'meta': {'name': 'x', 'tags': {'a', 'b'}, 'none': None, 'flag': True, 'blob': b'\x00\x01'}},
           path('wrap_state_dict.pth'))
expect('wrap_state_dict.pth', sd)

torch.save({'model': sd, 'epoch': 3, 'best': 0.5}, path('wrap_model.pth'))
expect('wrap_model.pth', sd)

dp = collections.OrderedDict(('module.' + k, v) for k, v in sd.items())
torch.save(dp, path('dataparallel.pth'))
expect('dataparallel.pth', dp, strip=True)

half = torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 6.1035156e-05, 5.9604645e-08, 3.0e-07, -1.2e-06,
                     float('inf'), float('-inf'), 0.1], dtype=torch.float16)
dt = collections.OrderedDict()
dt['half'] = half
dt['half2d'] = torch.randn(3, 5).half()
dt['bf16'] = torch.tensor([0.0, 1.0, -3.140625, 1e30, 1e-30, 65536.0, float('inf')], dtype=torch.bfloat16)
dt['bf16r'] = torch.randn(2, 3, 2).bfloat16()
dt['f64'] = torch.tensor([1.0 / 3.0, -1e-40, 1e38, 2.5], dtype=torch.float64)
dt['i64'] = torch.tensor([0, -1, 2 ** 62, -2 ** 63, 2 ** 63 - 1])
dt['i32'] = torch.tensor([-2 ** 31, 2 ** 31 - 1, 5], dtype=torch.int32)
dt['i8'] = torch.tensor([-128, 127, 0], dtype=torch.int8)
dt['u8'] = torch.tensor([0, 255, 7], dtype=torch.uint8)
dt['bool'] = torch.tensor([True, False, True])
dt['scalar'] = torch.tensor(42)
dt['fscalar'] = torch.tensor(2.5)
dt['note'] = 'not a tensor'
dt['count'] = 5
torch.save(dt, path('dtypes.pth'))
expect('dtypes.pth', dt)

big = torch.arange(100, dtype=torch.float32) * 0.5
grid = torch.arange(48, dtype=torch.float32).reshape(6, 8)
vw = collections.OrderedDict()
vw['transposed'] = torch.randn(3, 4).t()           # strides (1, 4)
vw['slice'] = big[10:30].view(4, 5)                 # storage offset 10 in a 100-element storage
vw['columns'] = grid[1:5, 2:5]                      # offset and non-contiguous rows
vw['everyother'] = grid[:, ::2]                     # stride 2 in the last dim
vw['permuted'] = torch.randn(2, 3, 4).permute(2, 0, 1)
vw['empty'] = torch.zeros(0, 3)
vw['param'] = torch.nn.Parameter(torch.randn(2, 2))
assert not vw['transposed'].is_contiguous() and vw['slice'].storage_offset() == 10
torch.save(vw, path('views.pth'))
expect('views.pth', vw)

torch.save(sd, path('legacy.pth'), _use_new_zipfile_serialization=False)
expect('legacy.pth', sd)
torch.save({'state_dict': vw}, path('legacy_views.pth'), _use_new_zipfile_serialization=False)
expect('legacy_views.pth', vw)


# ---------------------------------------------------------------- our own zip writer

def write_zip(name, entries, zip64=False, align=64, comment=b''):
    """Stored entries, data aligned like torch does; zip64 records and extra fields on request."""
    buf = io.BytesIO()
    central = []
    for ename, data in entries:
        en = ename.encode()
        off = buf.tell()
        pad = (-(off + 30 + len(en) + 4)) % align
        extra = struct.pack('<HH', 0x4246, pad) + b'Z' * pad
        crc = zlib.crc32(data)
        buf.write(struct.pack('<IHHHHHIIIHH', 0x04034b50, 45 if zip64 else 20, 0, 0, 0, 0x21, crc,
                              len(data), len(data), len(en), len(extra)) + en + extra + data)
        central.append((en, crc, len(data), off))
    cd_off = buf.tell()
    for en, crc, size, off in central:
        if zip64:
            extra = struct.pack('<HHQQQ', 1, 24, size, size, off)
            s32 = o32 = 0xffffffff
        else:
            extra, s32, o32 = b'', size, off
        buf.write(struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 45, 45 if zip64 else 20, 0, 0, 0, 0x21, crc,
                              s32, s32, len(en), len(extra), 0, 0, 0, 0, o32) + en + extra)
    cd_size = buf.tell() - cd_off
    n = len(central)
    if zip64:
        rec = buf.tell()
        buf.write(struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, n, n, cd_size, cd_off))
        buf.write(struct.pack('<IIQI', 0x07064b50, 0, rec, 1))
        buf.write(struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 0xffff, 0xffff, 0xffffffff, 0xffffffff,
                              len(comment)) + comment)
    else:
        buf.write(struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, n, n, cd_size, cd_off, len(comment)) + comment)
    with open(path(name), 'wb') as f:
        f.write(buf.getvalue())


def zip_entries(name):
    with zipfile.ZipFile(path(name)) as z:  # reads bytes only, never unpickles
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


# zip64 container with a prefix other than the file name, plus a trailing zip comment
write_zip('zip64.pth', [(n.replace('bare/', 'weird-prefix/'), d) for n, d in zip_entries('bare.pth')], zip64=True,
          comment=b'a zip comment')
expect('zip64.pth', sd)


# ---------------------------------------------------------------- hand-made pickles

class Storage:
    def __init__(self, key, cls, numel):
        self.key, self.cls, self.numel = key, cls, numel


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride)

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args + (False, collections.OrderedDict()))


class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ('storage', obj.cls, obj.key, 'cpu', obj.numel)
        return None


def fake_save(name, obj, storages, raw=None):
    """A torch.save-shaped zip around our own pickle (or raw pickle bytes)."""
    if raw is None:
        f = io.BytesIO()
        Pickler(f, protocol=2).dump(obj)
        raw = f.getvalue()
    entries = [('archive/data.pkl', raw)] + [('archive/data/' + k, v) for k, v in storages.items()]
    write_zip(name, entries + [('archive/version', b'3\n')])


def bad(name, substring):
    hostile.append('%s\t%s' % (name, substring))


f8 = struct.pack('<8f', *range(8))
s8 = Storage('0', torch.FloatStorage, 8)
fake_save('bad_stride.pth', collections.OrderedDict(w=Tensor(s8, 0, (4, 4), (4, 1))), {'0': f8})
bad('bad_stride.pth', "tensor 'w': size, stride and offset reach element 15 of a 8-element storage")
fake_save('bad_offset.pth', collections.OrderedDict(w=Tensor(s8, 5, (2, 2), (2, 1))), {'0': f8})
bad('bad_offset.pth', 'reach element 8 of a 8-element storage')
fake_save('overflow.pth', collections.OrderedDict(w=Tensor(s8, 0, (2 ** 62, 8), (8, 1))), {'0': f8})
bad('overflow.pth', "tensor 'w': element count overflows")
fake_save('overflow_stride.pth', collections.OrderedDict(w=Tensor(s8, 0, (4, 2), (2 ** 63 - 1, 1))), {'0': f8})
bad('overflow_stride.pth', "tensor 'w': size and stride overflow")
fake_save('bigdim.pth', collections.OrderedDict(w=Tensor(s8, 0, (2 ** 70,), (1,))), {'0': f8})
bad('bigdim.pth', "tensor 'w': size is not a tuple")
fake_save('short_storage.pth', collections.OrderedDict(w=Tensor(Storage('0', torch.FloatStorage, 100), 0, (8,), (1,))),
          {'0': f8})
bad('short_storage.pth', "storage '0' claims 100 elements (400 bytes) but holds 32 bytes")
fake_save('missing_storage.pth', collections.OrderedDict(w=Tensor(Storage('7', torch.FloatStorage, 8), 0, (8,), (1,))),
          {'0': f8})
bad('missing_storage.pth', "storage entry 'archive/data/7' missing")
fake_save('dup_names.pth', collections.OrderedDict([('module.w', Tensor(s8, 0, (8,), (1,))),
                                                    ('w', Tensor(s8, 0, (8,), (1,)))]), {'0': f8})
bad('dup_names.pth', "tensor name 'w' appears twice")
# Many views of one storage must not multiply memory without bound.
amp = Storage('0', torch.FloatStorage, 1 << 20)
fake_save('amplify.pth', collections.OrderedDict(('w%d' % i, Tensor(amp, 0, (1 << 20,), (1,))) for i in range(200)),
          {'0': bytes(4 << 20)})
bad('amplify.pth', 'exceed 8 times the file size')


class Evil:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


import builtins  # noqa: E402

torch.save({'w': torch.ones(2), 'x': Evil(os.system, 'echo pwned')}, path('os_system.pth'))
bad('os_system.pth', "os_system.pth: pickle references forbidden global '%s.system'" % os.system.__module__)
torch.save({'w': torch.ones(2), 'x': Evil(builtins.eval, '1+1')}, path('eval.pth'))
bad('eval.pth', "forbidden global 'builtins.eval'")
torch.save({'x': Evil(subprocess.Popen, 'true'), 'w': torch.ones(2)}, path('subprocess.pth'))
# protocol 2 spells subprocess as Python 2's 'commands'; the message names what the file says
bad('subprocess.pth', "forbidden global '%s.Popen'" % _compat_pickle.REVERSE_IMPORT_MAPPING.get('subprocess', 'subprocess'))
fake_save('os_system_raw.pth', None, {}, raw=b'\x80\x02cos\nsystem\nX\x0a\x00\x00\x00echo pwnedq\x00\x85R.')
bad('os_system_raw.pth', "pickle references forbidden global 'os.system'")
fake_save('stack_global.pth', None, {}, raw=b'\x80\x04\x8c\x02os\x8c\x06system\x93X\x01\x00\x00\x00x\x85R.')
bad('stack_global.pth', "forbidden global 'os.system'")
torch.save({'epoch': 3, 'x': [1, 2]}, path('nostate.pth'))
bad('nostate.pth', 'no state_dict found')
torch.save(torch.ones(2), path('bare_tensor.pth'))
bad('bare_tensor.pth', 'no state_dict found: the top-level object is a torch._utils._rebuild_tensor_v2, not a dict')
torch.save({'s': torch.zeros(2, dtype=torch.int16)}, path('int16.pth'))
bad('int16.pth', "tensor 's': unsupported storage type torch.ShortStorage")

# Bombs: each must fail fast on a limit, not exhaust memory.
fake_save('nesting.pth', None, {}, raw=b'\x80\x02N' + b'\x85' * 100000 + b'.')
bad('nesting.pth', 'nested deeper than')
fake_save('nesting_list.pth', None, {}, raw=b'\x80\x02]q\x00' + b'0]h\x00aq\x00' * 50000 + b'.')
bad('nesting_list.pth', 'nested deeper than')
fake_save('memo.pth', None, {}, raw=b'\x80\x02Nr\xf0\xff\xff\x7f.')
bad('memo.pth', 'memo index 2147483632 out of range')
fake_save('memo_get.pth', None, {}, raw=b'\x80\x02j\x00\x00\x00\x10.')
bad('memo_get.pth', 'memo index 268435456 was never stored')
fake_save('stack.pth', None, {}, raw=b'\x80\x02]q\x00' + b'h\x00' * (1 << 20) + b'.')
bad('stack.pth', 'stack deeper than')
fake_save('marks.pth', None, {}, raw=b'\x80\x02' + b'(' * ((1 << 20) + 5) + b'.')
bad('marks.pth', 'stack deeper than')
fake_save('nostop.pth', None, {}, raw=b'\x80\x02}q\x00')
bad('nostop.pth', 'no STOP opcode')
fake_save('badop.pth', None, {}, raw=b'\x80\x02\xff.')
bad('badop.pth', 'unknown opcode 0xff')
fake_save('longstr.pth', None, {}, raw=b'\x80\x02X\xff\xff\xff\x7fabc.')
bad('longstr.pth', 'only 4 bytes left')

# Container damage.
data = open(path('bare.pth'), 'rb').read()
with open(path('truncated.pth'), 'wb') as f:
    f.write(data[:len(data) * 3 // 5])
bad('truncated.pth', 'truncated')
# Central directory entry of data/0 claims far more bytes than the file has.
blob = bytearray(data)
i = blob.find(b'bare/data/0', blob.find(b'PK\x01\x02'))
hdr = i - 46
assert blob[hdr:hdr + 4] == b'PK\x01\x02'
blob[hdr + 20:hdr + 28] = struct.pack('<II', 0x7fffffff, 0x7fffffff)
with open(path('past_eof.pth'), 'wb') as f:
    f.write(blob)
bad('past_eof.pth', "zip entry 'bare/data/0' (2147483647 bytes at offset")
blob = bytearray(data)
blob[hdr + 42:hdr + 46] = struct.pack('<I', len(blob) - 10)
with open(path('bad_local.pth'), 'wb') as f:
    f.write(blob)
bad('bad_local.pth', "zip entry 'bare/data/0': local header")
with zipfile.ZipFile(path('deflate.pth'), 'w', zipfile.ZIP_DEFLATED) as z:
    for n, d in zip_entries('bare.pth'):
        z.writestr(n, d)
bad('deflate.pth', "zip entry 'bare/data.pkl' is compressed (method 8)")
with open(path('notzip.pth'), 'wb') as f:
    f.write(b'hello, this is not a checkpoint\n' * 4)
bad('notzip.pth', 'not a zip archive')
open(path('empty.pth'), 'wb').close()
bad('empty.pth', 'not a zip archive')
legacy = open(path('legacy.pth'), 'rb').read()
with open(path('legacy_trunc.pth'), 'wb') as f:
    f.write(legacy[:len(legacy) - 20])
bad('legacy_trunc.pth', 'truncated')

# ---------------------------------------------------------------- plain pickles, every protocol


def canon(x):
    if x is None:
        return 'N'
    if x is True or x is False:
        return 'T' if x else 'F'
    if isinstance(x, int):
        if -2 ** 63 <= x < 2 ** 63:
            return 'i%d' % x
        return 'I' + pickle.encode_long(x).hex()
    if isinstance(x, float):
        return 'f' + struct.pack('>d', x).hex()
    if isinstance(x, str):
        b = x.encode()
        return 's%d:%s' % (len(b), b.hex())
    if isinstance(x, (bytes, bytearray)):
        return 'b%d:%s' % (len(x), bytes(x).hex())
    if isinstance(x, list):
        return '[' + ','.join(canon(v) for v in x) + ']'
    if isinstance(x, tuple):
        return '(' + ','.join(canon(v) for v in x) + ')'
    if isinstance(x, frozenset):
        return 'z{' + ','.join(canon(v) for v in x) + '}'
    if isinstance(x, set):
        return 'S{' + ','.join(canon(v) for v in x) + '}'
    if isinstance(x, dict):
        return '{' + ','.join(canon(k) + ':' + canon(v) for k, v in x.items()) + '}'
    raise TypeError(type(x))


shared = [1, 'two']
for proto in range(6):
    obj = {'ints': [0, 1, -1, 255, 256, 65535, 65536, -2 ** 31, 2 ** 31 - 1, 2 ** 31, 2 ** 63 - 1, -2 ** 63],
           'floats': [0.5, -1e300, 1.0 / 3.0, float('inf'), -0.0],
           'strs': ['abc', '', 'üñí', '\u20ac', '\U0001f600', 'line\nbreak', 'back\\slash', "q'uote\""],
           'tuples': [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
           'shared': [shared, shared], 7: None, 'flags': (True, False),
           'od': collections.OrderedDict([('z', 1), ('a', [2])]), 'set': {3}, 'fs': frozenset([4]),
           'nested': {'a': {'b': {'c': []}}}}
    if proto >= 2:
        obj['big'] = [2 ** 64, -2 ** 70, 2 ** 63]
    obj['bytes'] = [b'', b'\x00\xff\x80\\\n', b'x' * 300]  # _codecs.encode before protocol 3
    if proto >= 5:
        obj['ba'] = bytearray(b'xy')
    with open(path('plain_p%d.pkl' % proto), 'wb') as f:
        pickle.dump(obj, f, protocol=proto)
    with open(path('plain_p%d.txt' % proto), 'w') as f:
        f.write(canon(obj) + '\n')
    # what the checker sees: OrderedDict is a dict, so canon already matches

with open(path('expected.txt'), 'w') as f:
    f.write('\n'.join(expected) + '\n')
with open(path('hostile.txt'), 'w') as f:
    f.write('\n'.join(hostile) + '\n')
