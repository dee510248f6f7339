#!/usr/bin/python3
"""make bench: infer-seg (DeepLabV3+ MobileNetV2 ds16, 512x512) next to PyTorch and ONNX Runtime
on the same checkpoint, in the same session, alternating engines; medians of several runs.

Per-image network time at 1 and 2 threads, the ratio to each peer, peak RSS, and the whole-process
time for one image (start-up included) next to the Python upstream pipeline.
ONNX Runtime is optional: it is installed from the npm registry into BUILD/bench on first use
(ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node); if that fails it is left out.
"""
import os
import statistics
import subprocess
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("BUILD", "build")
BDIR = BUILD if os.path.isabs(BUILD) else os.path.join(TOP, BUILD)
BIN = os.path.join(BDIR, "bin")
REF = os.environ.get("REF_DIR", os.path.join(BDIR, "ref"))
WORK = os.path.join(BDIR, "bench")
PY = "/usr/bin/python3"
IMAGE = "/usr/share/darknet/data/dog.jpg"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))  # alternating rounds per engine and thread count
RUNS = int(os.environ.get("BENCH_RUNS", "3"))      # timed runs per round




def run_rss(cmd, env=None):
    """Runs cmd, returning (stdout, stderr, peak RSS MiB) measured with wait4."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        sys.exit("bench: %s failed:\n%s" % (" ".join(cmd), err))
    return out, err, ru.ru_maxrss / 1024.0


def ms_lines(text, key="ms "):
    return [float(l.split()[1]) for l in text.splitlines() if l.startswith(key)]


def setup():
    os.makedirs(WORK, exist_ok=True)
    env = dict(os.environ, REF_DIR=REF)
    subprocess.check_call([os.path.join(TOP, "scripts", "ref", "make-seg-refs"), "mobilenet-16"], env=env)
    ckpt = os.path.join(REF, "seg", "mobilenet-16", "ckpt.pth")
    model = os.path.join(WORK, "deeplab-mobilenet-16.w")
    subprocess.check_call([os.path.join(BIN, "weightconv"), ckpt, "-o", model])
    onnx = os.path.join(WORK, "deeplab-mobilenet-16.onnx")
    if not os.path.exists(onnx):
        subprocess.check_call([PY, os.path.join(TOP, "scripts", "ref", "export-onnx.py"), "--ckpt", ckpt,
                               "--backbone", "mobilenet", "--downsample", "16", "-n", "21", "-o", onnx])
    return ckpt, model, onnx, ort_setup()


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


def ours(model, threads):
    lst = os.path.join(WORK, "list.txt")
    # one name per run: infer-seg refuses to let two inputs write the same mask
    with open(lst, "w") as f:
        for k in range(RUNS + 1):
            link = os.path.join(WORK, "img%d.jpg" % k)
            if not os.path.lexists(link):
                os.symlink(IMAGE, link)
            f.write(link + "\n")
    outdir = os.path.join(WORK, "masks")
    os.makedirs(outdir, exist_ok=True)
    _, err, rss = run_rss([os.path.join(BIN, "infer-seg"), "-m", model, "-t", str(threads), "--time",
                           "--list", lst, "-O", outdir])
    net = [float(l.split("network ")[1].split(" ms")[0]) for l in err.splitlines() if "network " in l]
    total = [float(l.split("total ")[1].split(" ms")[0]) for l in err.splitlines() if "total " in l]
    return net[1:], total[1:], rss


def torch_engine(ckpt, threads):
    out, _, rss = run_rss([PY, os.path.join(TOP, "scripts", "bench", "torch-bench.py"), ckpt, "mobilenet", "16",
                           str(threads), str(RUNS)])
    return ms_lines(out), rss


def ort_engine(onnx, threads):
    env = dict(os.environ, NODE_PATH=os.path.join(WORK, "node_modules"))
    out, _, rss = run_rss(["node", os.path.join(TOP, "scripts", "bench", "ort-bench.js"), onnx, str(threads),
                           str(RUNS)], env=env)
    return ms_lines(out), rss


def whole_process(model, ckpt):
    ours_t, py_t = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.check_call([os.path.join(BIN, "infer-seg"), "-m", model, "-o", os.path.join(WORK, "one.png"),
                               IMAGE])
        ours_t.append((time.perf_counter() - t0) * 1e3)
        t0 = time.perf_counter()
        subprocess.check_call([PY, os.path.join(TOP, "scripts", "ref", "deeplab-predict.py"), "--ckpt", ckpt,
                               "--backbone", "mobilenet", "--downsample", "16", "-n", "21", "--image", IMAGE,
                               "--out-prefix", os.path.join(WORK, "py"), "-q"])
        py_t.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ours_t), statistics.median(py_t)


def yolo_setup(ort):
    env = dict(os.environ, REF_DIR=REF)
    subprocess.check_call([os.path.join(TOP, "scripts", "ref", "make-yolo-refs"), "yolov5s"], env=env)
    ckpt = os.path.join(REF, "yolo", "yolov5s", "ckpt.pt")
    model = os.path.join(WORK, "yolov5s.w")
    subprocess.check_call([os.path.join(BIN, "weightconv"), ckpt, "-o", model])
    onnx = os.path.join(WORK, "yolov5s.onnx")
    if ort and not os.path.exists(onnx):
        subprocess.check_call([PY, os.path.join(TOP, "scripts", "ref", "yolov5", "export-onnx.py"), "--weights",
                               ckpt, "-o", onnx, "--imgsz", "640"])
    # a square photo, so every engine runs the network at 640x640
    square = os.path.join(WORK, "square640.png")
    subprocess.check_call([PY, "-c", "from PIL import Image; Image.open('%s').convert('RGB').resize((640, 640))"
                           ".save('%s')" % (IMAGE, square)])
    return ckpt, model, onnx, square


def yolo_ours(model, image, threads):
    lst = os.path.join(WORK, "ylist.txt")
    with open(lst, "w") as f:
        f.write((image + "\n") * (RUNS + 1))
    _, err, rss = run_rss([os.path.join(BIN, "infer-detect"), "-m", model, "-t", str(threads), "-v", "--list", lst,
                           "-o", os.path.join(WORK, "dets.txt")])
    net = [float(l.rsplit(", ", 1)[1].rstrip("ms")) for l in err.splitlines() if l.startswith("image ")]
    return net[1:], rss


def yolo_main(ort):
    ckpt, model, onnx, square = yolo_setup(ort)
    print("YOLOv5s 640x640; %d rounds x %d runs, engines alternating" % (ROUNDS, RUNS))
    for threads in (1, 2):
        acc = {"ours": [], "torch": [], "ort": []}
        rss = {}
        for _ in range(ROUNDS):
            t, r = yolo_ours(model, square, threads)
            acc["ours"] += t
            rss["ours"] = max(rss.get("ours", 0), r)
            out, _, r = run_rss([PY, os.path.join(TOP, "scripts", "bench", "torch-yolo-bench.py"), ckpt,
                                 str(threads), str(RUNS), "640"])
            acc["torch"] += ms_lines(out)
            rss["torch"] = max(rss.get("torch", 0), r)
            if ort:
                env = dict(os.environ, NODE_PATH=os.path.join(WORK, "node_modules"))
                out, _, r = run_rss(["node", os.path.join(TOP, "scripts", "bench", "ort-bench.js"), onnx,
                                     str(threads), str(RUNS), "640"], env=env)
                acc["ort"] += ms_lines(out)
                rss["ort"] = max(rss.get("ort", 0), r)
        med = {k: statistics.median(v) for k, v in acc.items() if v}
        line = "threads %d: cnnkit network %.0f ms, PyTorch %.0f ms (%.2fx)" % (
            threads, med["ours"], med["torch"], med["torch"] / med["ours"])
        if "ort" in med:
            line += ", ONNX Runtime %.0f ms (%.2fx)" % (med["ort"], med["ort"] / med["ours"])
        print(line)
        print("  peak RSS: cnnkit %.0f MiB, PyTorch %.0f MiB%s" % (
            rss["ours"], rss["torch"], (", ONNX Runtime %.0f MiB" % rss["ort"]) if "ort" in rss else ""))
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.check_call([os.path.join(BIN, "infer-detect"), "-m", model, "-o", os.path.join(WORK, "one.txt"),
                               IMAGE])
        times.append((time.perf_counter() - t0) * 1e3)
    print("one image, whole process (start-up included): cnnkit %.0f ms" % statistics.median(times))


def main():
    which = sys.argv[1:] or ["seg", "detect"]
    ort = None
    if "seg" in which:
        ort = seg_main()
    if "detect" in which:
        if ort is None:
            ort = ort_setup()
        yolo_main(ort)


def seg_main():
    ckpt, model, onnx, ort = setup()
    print("DeepLabV3+ MobileNetV2 ds16, 512x512, %s; %d rounds x %d runs, engines alternating" %
          (os.path.basename(IMAGE), ROUNDS, RUNS))
    res = {}
    for threads in (1, 2):
        acc = {"ours": [], "ours_total": [], "torch": [], "ort": []}
        rss = {}
        for _ in range(ROUNDS):
            net, total, r = ours(model, threads)
            acc["ours"] += net
            acc["ours_total"] += total
            rss["ours"] = max(rss.get("ours", 0), r)
            t, r = torch_engine(ckpt, threads)
            acc["torch"] += t
            rss["torch"] = max(rss.get("torch", 0), r)
            if ort:
                t, r = ort_engine(onnx, threads)
                acc["ort"] += t
                rss["ort"] = max(rss.get("ort", 0), r)
        med = {k: statistics.median(v) for k, v in acc.items() if v}
        res[threads] = (med, rss)
        line = "threads %d: cnnkit network %.0f ms (whole image %.0f ms), PyTorch %.0f ms (%.2fx)" % (
            threads, med["ours"], med["ours_total"], med["torch"], med["torch"] / med["ours"])
        if "ort" in med:
            line += ", ONNX Runtime %.0f ms (%.2fx)" % (med["ort"], med["ort"] / med["ours"])
        print(line)
        print("  peak RSS: cnnkit %.0f MiB, PyTorch %.0f MiB%s" % (
            rss["ours"], rss["torch"], (", ONNX Runtime %.0f MiB" % rss["ort"]) if "ort" in rss else ""))
    o, p = whole_process(model, ckpt)
    print("one image, whole process (start-up included): cnnkit %.0f ms, Python upstream pipeline %.0f ms"
          % (o, p))
    print("(ratios: peer time / cnnkit time; above 1 means cnnkit is faster)")
    return ort


if __name__ == "__main__":
    main()
