#!/usr/bin/python3
"""make bench: cnnkit next to PyTorch and ONNX Runtime on the same checkpoint, in the same session,
alternating engines; medians of several runs.

  bench.py [seg] [detect] [xception] [encnet] [googlenet]     (no argument: all five)

  seg        DeepLabV3+ MobileNetV2 ds16, 512x512 (infer-seg)
  detect     YOLOv5s, 640x640 (infer-detect)
  xception   DeepLabV3+ Xception ds16, 512x512 (infer-seg)
  encnet     mmseg EncNet-R50 (dilated ResNet, output stride 8), 512x512 (infer-seg); heavy
  googlenet  torchvision GoogLeNet, 224x224 (infer-classify)

Per-image network time at 1 and 2 threads, the ratio to each peer, the network's share of this
machine's measured FMA peak (from --profile), peak RSS, and the whole-process time for one image
(start-up included).  Every engine runs the same weights: the .w is converted
from the checkpoint the PyTorch engine loads, and the ONNX model is exported from that checkpoint.
ONNX Runtime is optional: it is installed from the npm registry into BUILD/bench on first use
(ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node); if that fails it is left out.

Environment: BENCH_ROUNDS (alternating rounds per engine and thread count, default 5) and
BENCH_RUNS (timed runs per round, default 3); the heavy models take at most 3 rounds x 2 runs
(xception) and 2 rounds x 2 runs (encnet).  BUILD and REF_DIR as for the tests.
"""
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("BUILD", "build")
BDIR = BUILD if os.path.isabs(BUILD) else os.path.join(TOP, BUILD)
BIN = os.path.join(BDIR, "bin")
REF = os.environ.get("REF_DIR", os.path.join(BDIR, "ref"))
WORK = os.path.join(BDIR, "bench")
PY = "/usr/bin/python3"
PHOTOS = "/usr/share/darknet/data"
IMAGE = os.path.join(PHOTOS, "dog.jpg")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))  # alternating rounds per engine and thread count
RUNS = int(os.environ.get("BENCH_RUNS", "3"))      # timed runs per round
ALL = ["seg", "detect", "xception", "encnet", "googlenet"]


def run_rss(cmd, env=None):
    """Runs cmd, returning (stdout, stderr, peak RSS MiB) measured with wait4.
    Output goes through files: two pipes read one after the other can deadlock."""
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = 0   # reaped here; keeps Popen from waiting again
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read(), fe.read()
    if status != 0:
        sys.exit("bench: %s failed:\n%s" % (" ".join(cmd), err))
    return out, err, ru.ru_maxrss / 1024.0


def ms_lines(text, key="ms "):
    return [float(l.split()[1]) for l in text.splitlines() if l.startswith(key)]


def field_ms(err, name):
    """The NAME X ms fields of the --time lines (infer-seg, infer-classify)."""
    key = name + " "
    return [float(l.split(key)[1].split(" ms")[0]) for l in err.splitlines() if key in l]


def check_call(cmd, env=None):
    subprocess.check_call(cmd, env=env)


def ort_setup():
    os.makedirs(WORK, exist_ok=True)
    if os.path.isdir(os.path.join(WORK, "node_modules", "onnxruntime-node")):
        return True
    r = subprocess.run(["npm", "install", "--silent", "--prefix", WORK, "onnxruntime-node"],
                       env=dict(os.environ, ONNXRUNTIME_NODE_INSTALL="skip"),
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        print("bench: ONNX Runtime left out (npm install failed: %s)" % r.stderr.strip()[:200])
    return r.returncode == 0


def ort_engine(onnx, size):
    env = dict(os.environ, NODE_PATH=os.path.join(WORK, "node_modules"))

    def run(threads, runs):
        out, _, rss = run_rss(["node", os.path.join(TOP, "scripts", "bench", "ort-bench.js"), onnx,
                               str(threads), str(runs), str(size)], env=env)
        return ms_lines(out), None, rss
    return run


def torch_engine(script, before, after=()):
    """script BEFORE... THREADS RUNS AFTER... prints "ms X" per timed run."""
    def run(threads, runs):
        cmd = [str(x) for x in before] + [str(threads), str(runs)] + [str(x) for x in after]
        out, _, rss = run_rss([PY, os.path.join(TOP, "scripts", "bench", script)] + cmd)
        return ms_lines(out), None, rss
    return run


def image_list(name, image, runs):
    """A list naming IMAGE runs+1 times (the first is the warm-up), each under its own name:
    infer-seg refuses to let two inputs write the same mask."""
    lst = os.path.join(WORK, name + ".txt")
    with open(lst, "w") as f:
        for k in range(runs + 1):
            link = os.path.join(WORK, "%s%d%s" % (name, k, os.path.splitext(image)[1]))
            if os.path.lexists(link):
                os.unlink(link)
            os.symlink(image, link)
            f.write(link + "\n")
    return lst


def timed_engine(prog, model, image, name, out_args):
    """infer-seg or infer-classify with --time over a list of links to the image."""
    def run(threads, runs):
        _, err, rss = run_rss([os.path.join(BIN, prog), "-m", model, "-t", str(threads), "--time",
                               "--list", image_list(name, image, runs)] + out_args)
        return field_ms(err, "network")[1:], field_ms(err, "total")[1:], rss
    return run


def seg_engine(model, image, name):
    outdir = os.path.join(WORK, name + "-masks")
    os.makedirs(outdir, exist_ok=True)
    return timed_engine("infer-seg", model, image, name, ["-O", outdir])


def classify_engine(model, image):
    return timed_engine("infer-classify", model, image, "cls", ["-o", os.path.join(WORK, "classes.txt")])


def detect_engine(model, image):
    def run(threads, runs):
        _, err, rss = run_rss([os.path.join(BIN, "infer-detect"), "-m", model, "-t", str(threads), "-v",
                               "--list", image_list("det", image, runs), "-o", os.path.join(WORK, "dets.txt")])
        net = [float(l.rsplit(", ", 1)[1].rstrip("ms")) for l in err.splitlines() if l.startswith("image ")]
        return net[1:], None, rss
    return run


def profile_peak(cmd, threads):
    """Runs cnnkit's CMD (an infer-* command on one image) with --profile=csv: the measured FMA peak
    in GFLOP/s at THREADS and the network's multiply-accumulates."""
    _, err, _ = run_rss(cmd + ["-t", str(threads), "--profile=csv"])
    lines = err.splitlines()
    head = next(l for l in lines if l.startswith("# ") and "measured FMA peak" in l)
    peak = float(head.split("measured FMA peak ")[1].split()[0])
    start = lines.index("layer,op,channels,height,width,ms,macs,gflops,peak_percent")
    macs = sum(float(l.split(",")[6]) for l in lines[start + 1:] if l.count(",") == 8 and ",stage," not in l)
    return peak, macs


def compare(title, engines, rounds, runs, profile_cmd=None):
    """engines: [(key, label, run)], cnnkit first; run(threads, runs) -> (ms list, totals, RSS).
    profile_cmd: cnnkit on one image, to report its network's share of the measured FMA peak."""
    print("%s; %d rounds x %d runs, engines alternating" % (title, rounds, runs), flush=True)
    for threads in (1, 2):
        acc = {k: [] for k, _, _ in engines}
        totals, rss = [], {}
        for _ in range(rounds):
            for key, _, run in engines:
                t, tot, r = run(threads, runs)
                acc[key] += t
                totals += tot or []
                rss[key] = max(rss.get(key, 0), r)
        med = {k: statistics.median(v) for k, v in acc.items() if v}
        ours = engines[0][0]
        if ours not in med:
            sys.exit("bench: %s: no network times in cnnkit's --time output" % title)
        line = "threads %d: cnnkit network %.0f ms" % (threads, med[ours])
        if totals:
            line += " (whole image %.0f ms)" % statistics.median(totals)
        for key, label, _ in engines[1:]:
            if key in med:
                line += ", %s %.0f ms (%.2fx)" % (label, med[key], med[key] / med[ours])
        print(line)
        if profile_cmd:
            peak, macs = profile_peak(profile_cmd, threads)
            print("  cnnkit network at %.0f %% of the measured FMA peak (%.1f GFLOP/s on %d thread%s, %.2f GMACs)"
                  % (100 * 2 * macs / (med[ours] * 1e6) / peak, peak, threads, "" if threads == 1 else "s",
                     macs / 1e9))
        print("  peak RSS: " + ", ".join("%s %.0f MiB" % (label, rss[key]) for key, label, _ in engines
                                         if key in rss), flush=True)


def whole_process(cmd, n=3):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        check_call(cmd)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def square(size, name):
    """The dog photo resized to SIZE x SIZE, so every engine runs the network at that size."""
    out = os.path.join(WORK, name)
    if not os.path.exists(out):
        check_call([PY, "-c", "from PIL import Image; Image.open('%s').convert('RGB').resize((%d, %d))"
                    ".save('%s')" % (IMAGE, size, size, out)])
    return out


def stale(out, src):
    """OUT is missing or older than SRC (a checkpoint made afresh in REF_DIR)."""
    return not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src)


def export_net(arch, ckpt, size, onnx, ort):
    if ort and stale(onnx, ckpt):
        check_call([PY, os.path.join(TOP, "scripts", "bench", "export-onnx-net.py"), arch, ckpt, str(size), onnx])


def deeplab_main(backbone, ort, rounds, runs):
    cfg = "%s-16" % backbone
    check_call([os.path.join(TOP, "scripts", "ref", "make-seg-refs"), cfg], env=dict(os.environ, REF_DIR=REF))
    ckpt = os.path.join(REF, "seg", cfg, "ckpt.pth")
    model = os.path.join(WORK, "deeplab-%s.w" % cfg)
    check_call([os.path.join(BIN, "weightconv"), "--downsample", "16", ckpt, "-o", model])
    onnx = os.path.join(WORK, "deeplab-%s.onnx" % cfg)
    if ort and stale(onnx, ckpt):
        check_call([PY, os.path.join(TOP, "scripts", "ref", "export-onnx.py"), "--ckpt", ckpt, "--backbone",
                    backbone, "--downsample", "16", "-n", "21", "-o", onnx + ".tmp"])
        os.replace(onnx + ".tmp", onnx)   # a killed export leaves no model that looks complete
    engines = [("ours", "cnnkit", seg_engine(model, IMAGE, "seg-" + backbone)),
               ("torch", "PyTorch", torch_engine("torch-bench.py", ("deeplab-" + backbone, ckpt), (512,)))]
    if ort:
        engines.append(("ort", "ONNX Runtime", ort_engine(onnx, 512)))
    name = {"mobilenet": "MobileNetV2", "xception": "Xception"}[backbone]
    # the letterbox makes the network input 512x512 whatever the photo's shape
    compare("DeepLabV3+ %s ds16, 512x512, %s" % (name, os.path.basename(IMAGE)), engines, rounds, runs,
            [os.path.join(BIN, "infer-seg"), "-m", model, "-o", os.path.join(WORK, "one.png"), IMAGE])
    n = 3 if backbone == "mobilenet" else 1
    o = whole_process([os.path.join(BIN, "infer-seg"), "-m", model, "-o", os.path.join(WORK, "one.png"), IMAGE], n)
    p = whole_process([PY, os.path.join(TOP, "scripts", "ref", "deeplab-predict.py"), "--ckpt", ckpt,
                       "--backbone", backbone, "--downsample", "16", "-n", "21", "--image", IMAGE,
                       "--out-prefix", os.path.join(WORK, "py"), "-q"], n)
    print("one image, whole process (start-up included): cnnkit %.0f ms, Python upstream pipeline %.0f ms"
          % (o, p), flush=True)


def yolo_main(ort):
    check_call([os.path.join(TOP, "scripts", "ref", "make-yolo-refs"), "yolov5s"], env=dict(os.environ, REF_DIR=REF))
    ckpt = os.path.join(REF, "yolo", "yolov5s", "ckpt.pt")
    model = os.path.join(WORK, "yolov5s.w")
    check_call([os.path.join(BIN, "weightconv"), ckpt, "-o", model])
    onnx = os.path.join(WORK, "yolov5s.onnx")
    if ort and stale(onnx, ckpt):
        check_call([PY, os.path.join(TOP, "scripts", "ref", "yolov5", "export-onnx.py"), "--weights",
                    ckpt, "-o", onnx + ".tmp", "--imgsz", "640"])
        os.replace(onnx + ".tmp", onnx)
    img = square(640, "square640.png")
    engines = [("ours", "cnnkit", detect_engine(model, img)),
               ("torch", "PyTorch", torch_engine("torch-bench.py", ("yolov5", ckpt), (640,)))]
    if ort:
        engines.append(("ort", "ONNX Runtime", ort_engine(onnx, 640)))
    compare("YOLOv5s 640x640", engines, ROUNDS, RUNS,
            [os.path.join(BIN, "infer-detect"), "-m", model, "-o", os.path.join(WORK, "one.txt"), img])
    o = whole_process([os.path.join(BIN, "infer-detect"), "-m", model, "-o", os.path.join(WORK, "one.txt"), IMAGE])
    print("one image, whole process (start-up included): cnnkit %.0f ms" % o, flush=True)


def encnet_main(ort):
    # the checkpoint of tests/infer-seg-encnet.bats (19 classes, seed 3), kept in its own folder
    d = os.path.join(REF, "bench", "encnet")
    ckpt = os.path.join(d, "ckpt.pth")
    if not os.path.exists(ckpt):
        os.makedirs(d, exist_ok=True)
        check_call([PY, os.path.join(TOP, "scripts", "ref", "make-encnet-ckpt.py"), "-n", "19", "--seed", "3",
                    "--no-aux", "-o", ckpt])
    model = os.path.join(WORK, "encnet-r50.w")
    check_call([os.path.join(BIN, "weightconv"), "--size", "512x512", ckpt, "-o", model])
    onnx = os.path.join(WORK, "encnet-r50.onnx")
    export_net("encnet", ckpt, 512, onnx, ort)
    # mmseg resizes keeping the ratio: a square photo makes the network input 512x512 everywhere
    img = square(512, "square512.png")
    engines = [("ours", "cnnkit", seg_engine(model, img, "encnet")),
               ("torch", "PyTorch", torch_engine("torch-bench.py", ("encnet", ckpt), (512,)))]
    if ort:
        engines.append(("ort", "ONNX Runtime", ort_engine(onnx, 512)))
    compare("EncNet-R50 (output stride 8), 512x512", engines, min(ROUNDS, 2), min(RUNS, 2),
            [os.path.join(BIN, "infer-seg"), "-m", model, "-o", os.path.join(WORK, "one.png"), img])
    o = whole_process([os.path.join(BIN, "infer-seg"), "-m", model, "-o", os.path.join(WORK, "one.png"), img], 1)
    print("one image, whole process (start-up included): cnnkit %.0f ms" % o, flush=True)


def googlenet_main(ort):
    # the checkpoint of tests/infer-classify.bats (same photos, same cache folder)
    d = os.path.join(REF, "classify", "googlenet")
    ckpt = os.path.join(d, "ckpt.pth")
    if not os.path.exists(os.path.join(d, "ref.json")):
        photos = [os.path.join(PHOTOS, p + ".jpg") for p in
                  ("dog", "eagle", "giraffe", "horses", "kite", "person", "scream")]
        check_call([PY, os.path.join(TOP, "scripts", "ref", "classify-ref.py"), "make", "googlenet", d] + photos)
    model = os.path.join(WORK, "googlenet.w")
    check_call([os.path.join(BIN, "weightconv"), ckpt, "-o", model])
    onnx = os.path.join(WORK, "googlenet.onnx")
    export_net("googlenet", ckpt, 224, onnx, ort)
    # infer-classify resizes and crops any photo to 224x224
    engines = [("ours", "cnnkit", classify_engine(model, IMAGE)),
               ("torch", "PyTorch", torch_engine("torch-bench.py", ("googlenet", ckpt), (224,)))]
    if ort:
        engines.append(("ort", "ONNX Runtime", ort_engine(onnx, 224)))
    compare("GoogLeNet (torchvision), 224x224", engines, ROUNDS, RUNS * 3,
            [os.path.join(BIN, "infer-classify"), "-m", model, "-o", os.path.join(WORK, "one.txt"), IMAGE])
    o = whole_process([os.path.join(BIN, "infer-classify"), "-m", model, "-o", os.path.join(WORK, "one.txt"),
                       IMAGE])
    print("one image, whole process (start-up included): cnnkit %.0f ms" % o, flush=True)


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # `bench.py | head` ends quietly
    which = sys.argv[1:] or ALL
    if "-h" in which or "--help" in which:
        print(__doc__.strip())
        return
    bad = [w for w in which if w not in ALL]
    if bad:
        sys.exit("bench: unknown benchmark %s (choose from %s)" % (bad[0], " ".join(ALL)))
    os.makedirs(WORK, exist_ok=True)
    ort = ort_setup()
    t0 = time.time()
    for w in ALL:
        if w not in which:
            continue
        if w == "seg":
            deeplab_main("mobilenet", ort, ROUNDS, RUNS)
        elif w == "detect":
            yolo_main(ort)
        elif w == "xception":
            deeplab_main("xception", ort, min(ROUNDS, 3), min(RUNS, 2))
        elif w == "encnet":
            encnet_main(ort)
        elif w == "googlenet":
            googlenet_main(ort)
        print()
    print("(ratios: peer time / cnnkit time; above 1 means cnnkit is faster; %.0f s in all)" % (time.time() - t0))


if __name__ == "__main__":
    main()
