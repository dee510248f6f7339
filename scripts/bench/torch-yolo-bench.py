#!/usr/bin/python3
"""Times PyTorch's forward of a YOLOv5 checkpoint as detect.py runs it (fp32, BatchNorm fused):
torch-yolo-bench.py CKPT THREADS RUNS SIZE -> "ms <milliseconds>" per run (after a warm-up)."""
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ref", "yolov5"))
import torch  # noqa: E402
import yolo_ref  # noqa: E402


def main():
    ckpt, threads, runs, size = sys.argv[1:5]
    torch.set_num_threads(int(threads))
    model = yolo_ref.fused_copy(yolo_ref.load_model(ckpt)[0])
    x = torch.rand(1, 3, int(size), int(size))
    with torch.no_grad():
        model(x)
        for _ in range(int(runs)):
            t0 = time.perf_counter()
            model(x)
            print("ms %.3f" % ((time.perf_counter() - t0) * 1e3), flush=True)


if __name__ == "__main__":
    main()
