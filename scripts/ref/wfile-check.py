#!/usr/bin/python3
"""Reads a .w (safetensors) file with plain Python + NumPy, prints its metadata and tensors,
and checks the layout rules a safetensors reader relies on.

usage: wfile-check.py FILE [--expect-rounded REF.w]

Prints "meta KEY VALUE" lines (VALUE as JSON), then "tensor NAME DTYPE [d0,d1,...]" lines in file
order, then "ok N tensors". Exits 1 with a message on stderr when a rule is broken:
header length inside the file, a JSON object with no duplicate keys, string metadata, known
dtypes, data_offsets consistent with dtype and shape, byte ranges that cover the data area with
no hole and no overlap, the data area starting 8-byte aligned (cnnkit's writer guarantees it).
With --expect-rounded REF.w, every tensor must equal REF's float32 tensor of the same name
rounded to nearest even to this file's dtype (numpy's float16 cast, bf16 by integer rounding).
"""
import json
import struct
import sys

import numpy as np

SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
         "U8": 1, "BOOL": 1, "U16": 2, "U32": 4, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1}


def fail(msg):
    sys.stderr.write("wfile-check.py: %s\n" % msg)
    sys.exit(1)


def no_dupes(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            fail("duplicate key %r in the header" % k)
        d[k] = v
    return d


def load(path):
    with open(path, "rb") as f:
        buf = f.read()
    name = path
    if len(buf) < 8:
        fail("%s: %d bytes, too short" % (name, len(buf)))
    (n,) = struct.unpack("<Q", buf[:8])
    if n > len(buf) - 8:
        fail("%s: header length %d larger than the file" % (name, n))
    raw = buf[8:8 + n]
    if not raw.startswith(b"{"):
        fail("%s: header does not start with '{'" % name)
    try:
        hdr = json.loads(raw.decode("utf-8"), object_pairs_hook=no_dupes)
    except (UnicodeDecodeError, ValueError) as e:
        fail("%s: header is not JSON: %s" % (name, e))
    if not isinstance(hdr, dict):
        fail("%s: header is not an object" % name)
    data = buf[8 + n:]
    meta = hdr.get("__metadata__", {}) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        fail("%s: __metadata__ must map strings to strings" % name)
    tensors = []
    for key, e in hdr.items():
        if key == "__metadata__":
            continue
        if not isinstance(e, dict) or set(e) != {"dtype", "shape", "data_offsets"}:
            fail("%s: tensor %r: entry needs exactly dtype, shape, data_offsets" % (name, key))
        dt, shape, (b, end) = e["dtype"], e["shape"], e["data_offsets"]
        if dt not in SIZES:
            fail("%s: tensor %r: unknown dtype %r" % (name, key, dt))
        if not all(isinstance(d, int) and d >= 0 for d in shape):
            fail("%s: tensor %r: bad shape %r" % (name, key, shape))
        numel = 1
        for d in shape:
            numel *= d
        if not (isinstance(b, int) and isinstance(end, int) and 0 <= b <= end <= len(data)):
            fail("%s: tensor %r: data_offsets [%r,%r] outside the %d-byte data area"
                 % (name, key, b, end, len(data)))
        if end - b != numel * SIZES[dt]:
            fail("%s: tensor %r: data_offsets hold %d bytes, shape %r %s needs %d"
                 % (name, key, end - b, shape, dt, numel * SIZES[dt]))
        tensors.append((key, dt, shape, b, end))
    pos = 0
    for key, dt, shape, b, end in sorted(tensors, key=lambda t: (t[3], t[4])):
        if b != pos:
            fail("%s: tensor %r starts at %d, expected %d (%s)"
                 % (name, key, b, pos, "hole" if b > pos else "overlap"))
        pos = end
    if pos != len(data):
        fail("%s: data area has %d bytes but tensors cover %d" % (name, len(data), pos))
    if (8 + n) % 8:
        fail("%s: data area starts at offset %d, not 8-byte aligned" % (name, 8 + n))
    arrays = {}
    for key, dt, shape, b, end in tensors:
        raw = data[b:end]
        if dt == "F32":
            a = np.frombuffer(raw, dtype="<f4")
        elif dt == "F16":
            a = np.frombuffer(raw, dtype="<f2")
        elif dt == "BF16":
            a = np.frombuffer(raw, dtype="<u2")
        else:
            a = None
        arrays[key] = (dt, None if a is None else a.reshape(shape))
    return meta, tensors, arrays


def rounded(ref, dt):
    """ref (float32) rounded to dt, as uint16 bit patterns."""
    if dt == "F16":
        return ref.astype(np.float16).view(np.uint16)
    u = ref.astype("<f4").view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def main():
    args = sys.argv[1:]
    if len(args) not in (1, 3) or (len(args) == 3 and args[1] != "--expect-rounded"):
        sys.stderr.write(__doc__)
        sys.exit(2)
    meta, tensors, arrays = load(args[0])
    for k, v in meta.items():
        print("meta %s %s" % (k, json.dumps(v)))
    for key, dt, shape, b, end in tensors:
        print("tensor %s %s [%s]" % (key, dt, ",".join(str(d) for d in shape)))
    if len(args) == 3:
        _, _, ref = load(args[2])
        if set(ref) != set(arrays):
            fail("tensor names differ from %s" % args[2])
        for key, (dt, a) in arrays.items():
            rdt, r = ref[key]
            if rdt != "F32" or r.shape != a.shape:
                fail("%s: tensor %r: reference is %s %r" % (args[2], key, rdt, r.shape))
            if dt == "F32":
                same = np.array_equal(a.view(np.uint32), r.view(np.uint32))
            else:
                same = np.array_equal(a.view(np.uint16), rounded(r, dt))
            if not same:
                fail("%s: tensor %r is not %s correctly rounded" % (args[0], key, args[2]))
        print("ok rounding matches %s" % args[2])
    print("ok %d tensors" % len(tensors))


if __name__ == "__main__":
    main()
