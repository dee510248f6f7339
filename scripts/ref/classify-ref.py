#!/usr/bin/python3
"""PyTorch oracle for the classifiers (torchvision googlenet, resnet50, mobilenet_v2).

  classify-ref.py make ARCH OUTDIR IMAGE...
      builds the torchvision model with random weights whose BatchNorm statistics are measured
      on the images (so activations stay in range) and whose final Linear is scaled so the
      logits spread over several units (a well-defined top-5); writes OUTDIR/ckpt.pth (the
      state_dict, GoogLeNet's aux heads included) and OUTDIR/ref.json: for each image its
      logits and top-5 after torchvision's eval transform (Resize 256 bilinear with PIL,
      CenterCrop 224, ToTensor, Normalize ImageNet).  GoogLeNet runs with transform_input=True,
      as torchvision's pretrained GoogLeNet does (googlenet_plain: transform_input=False).
  classify-ref.py compare REF.json OUT.jsonl [RTOL]
      checks infer-classify's JSON lines (run with -k CLASSES, so every logit is there) against
      ref.json: every logit within RTOL (default 1e-3) of the image's largest |logit|, and the
      same top-5; prints the largest difference, exits 1 on a mismatch.
  classify-ref.py run ARCH CKPT RESIZE CROP IMAGE...
      JSON list of the logits of each image under Resize(RESIZE), CenterCrop(CROP).
  classify-ref.py count ARCH [CLASSES]
      prints sum(p.numel() for p in model.parameters()) (GoogLeNet without its aux heads).
"""
import json
import os
import sys

import torch
import torchvision
from PIL import Image
from torchvision import transforms


def build(arch, classes=1000, aux=True):
    if arch in ("googlenet", "googlenet_plain"):
        return torchvision.models.googlenet(weights=None, num_classes=classes, aux_logits=aux,
                                            transform_input=arch == "googlenet", init_weights=True)
    if arch == "resnet50":
        return torchvision.models.resnet50(weights=None, num_classes=classes)
    if arch == "mobilenet_v2":
        return torchvision.models.mobilenet_v2(weights=None, num_classes=classes)
    raise SystemExit(f"classify-ref.py: unknown arch {arch}")


def transform(resize=256, crop=224):
    return transforms.Compose([
        transforms.Resize(resize, interpolation=transforms.InterpolationMode.BILINEAR),
        transforms.CenterCrop(crop),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])


def fc_of(model, arch):
    return model.classifier[1] if arch == "mobilenet_v2" else model.fc


def make(arch, outdir, images):
    torch.manual_seed(1234)
    model = build(arch)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        # non-trivial affine BatchNorms, so folding them is exercised
        for m in bns:
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.2, 0.2)
        tf = transform()
        x = torch.stack([tf(Image.open(p).convert("RGB")) for p in images])
        # running statistics = the statistics of this batch (cumulative average, one pass)
        for m in bns:
            m.reset_running_stats()
            m.momentum = None
        model.train()
        model(x)
        model.eval()
        fc = fc_of(model, arch)
        fc.weight.normal_(0.0, 1.0)
        fc.bias.uniform_(-0.5, 0.5)
        # scale the Linear so the logits of these images have a standard deviation near 4
        s = model(x).std().item()
        fc.weight.mul_(4.0 / s)
        logits = model(x)
    os.makedirs(outdir, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(outdir, "ckpt.pth"))
    ref = []
    for p, l in zip(images, logits):
        top = torch.topk(l, 5)
        ref.append({"image": p, "logits": l.tolist(), "top5": top.indices.tolist(),
                    "prob5": torch.softmax(l.double(), 0)[top.indices].tolist()})
    with open(os.path.join(outdir, "ref.json"), "w") as f:
        json.dump(ref, f)


def compare(ref_path, out_path, rtol):
    ref = json.load(open(ref_path))
    out = [json.loads(line) for line in open(out_path) if line.strip()]
    if len(out) != len(ref):
        raise SystemExit(f"{len(out)} results for {len(ref)} images")
    worst, bad = 0.0, []
    for r, o in zip(ref, out):
        if os.path.basename(o["image"]) != os.path.basename(r["image"]):
            raise SystemExit(f"image {o['image']} where {r['image']} was expected")
        got = [0.0] * len(r["logits"])
        for t in o["top"]:
            got[t["class"]] = t["logit"]
        if len(o["top"]) != len(got):
            raise SystemExit(f"{len(o['top'])} classes in the output, {len(got)} in the model")
        scale = max(abs(v) for v in r["logits"])
        d = max(abs(a - b) for a, b in zip(got, r["logits"])) / scale
        worst = max(worst, d)
        top5 = [t["class"] for t in o["top"][:5]]
        if d > rtol or top5 != r["top5"]:
            bad.append(f"{os.path.basename(r['image'])}: diff {d:.2e}, top-5 {top5} vs {r['top5']}")
    print(f"{len(ref)} images, largest logit difference {worst:.2e} of the range")
    if bad:
        print("\n".join(bad))
        sys.exit(1)


def run(arch, ckpt, resize, crop, images):
    model = build(arch)
    model.load_state_dict(torch.load(ckpt))
    model.eval()
    tf = transform(resize, crop)
    with torch.no_grad():
        x = torch.stack([tf(Image.open(p).convert("RGB")) for p in images])
        print(json.dumps(model(x).tolist()))


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3], float(sys.argv[4]) if len(sys.argv) == 5 else 1e-3)
    elif len(sys.argv) >= 7 and sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6:])
    elif len(sys.argv) in (3, 4) and sys.argv[1] == "count":
        classes = int(sys.argv[3]) if len(sys.argv) == 4 else 1000
        model = build(sys.argv[2], classes, aux=False)
        print(sum(p.numel() for p in model.parameters()))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
