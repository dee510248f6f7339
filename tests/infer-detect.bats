#!/usr/bin/env bats
# infer-detect against detect.py (scripts/ref/yolov5/detect-ref.py, the PyTorch oracle), on
# the real COCO yolov5n and on generated checkpoints of yolov5n/s/m and the attention variants.
load helpers/common

REAL="$BATS_TEST_DIRNAME/../../shared/models/yolov5n-v6.1-coco.pt"
CONFIGS="yolov5s yolov5s-se yolov5s-eca yolov5s-ese yolov5s-sa yolov5n yolov5m"

setup_file() {
	load helpers/common
	local cfgs="$CONFIGS"
	[ -f "$REAL" ] && cfgs="real-yolov5n $cfgs"
	"$TOP/scripts/ref/make-yolo-refs" $cfgs >&2
	for cfg in $cfgs; do
		dir="$REF_DIR/yolo/$cfg"
		[ -f "$dir/model.w" ] || weightconv "$dir/ckpt.pt" -o "$dir/model.w"
	done
}

compare_config() {
	local dir="$REF_DIR/yolo/$1"
	for p in dog horses person; do
		run -0 infer-detect -m "$dir/model.w" --no-round --raw "$BATS_TEST_TMPDIR/$p.npy" \
			-o "$BATS_TEST_TMPDIR/$p.txt" "/usr/share/darknet/data/$p.jpg"
		run -0 "$PY" "$TOP/scripts/ref/compare-dets.py" head "$BATS_TEST_TMPDIR/$p.npy" "$dir/$p.head.npy"
		echo "$1 $p: $output" >&3
		run -0 "$PY" "$TOP/scripts/ref/compare-dets.py" dets "$BATS_TEST_TMPDIR/$p.txt" "$dir/$p.dets.json"
		echo "$1 $p: $output" >&3
	done
}

@test "the real COCO yolov5n finds in dog.jpg what detect.py finds: a bicycle, a car and a dog" {
	[ -f "$REAL" ] || skip "../shared/models is not here"
	run -0 infer-detect -m "$REF_DIR/yolo/real-yolov5n/model.w" /usr/share/darknet/data/dog.jpg
	assert_equal "$(echo "$output" | awk '{print $7}' | sort | tr '\n' ' ')" "bicycle car dog "
	compare_config real-yolov5n
}

@test "the real yolov5n: --format yolo writes detect.py --save-txt's lines (boxes exact)" {
	[ -f "$REAL" ] || skip "../shared/models is not here"
	for p in dog horses person; do
		infer-detect -m "$REF_DIR/yolo/real-yolov5n/model.w" -f yolo --save-conf "/usr/share/darknet/data/$p.jpg" > "$BATS_TEST_TMPDIR/$p.txt"
		# same classes and boxes to the last printed digit; confidences within 1e-4
		run -0 "$PY" -c "
import sys
a = [l.split() for l in open(sys.argv[1])]; b = [l.split() for l in open(sys.argv[2])]
assert len(a) == len(b), (len(a), len(b))
for x, y in zip(a, b):
    assert x[:5] == y[:5], (x, y)
    assert abs(float(x[5]) - float(y[5])) < 1e-4, (x, y)
print(len(a))" "$BATS_TEST_TMPDIR/$p.txt" "$REF_DIR/yolo/real-yolov5n/$p.txt"
	done
}

@test "yolov5s: head within 1e-4 of its range, the same boxes after NMS" {
	compare_config yolov5s
}

@test "yolov5s with SEAttention" {
	compare_config yolov5s-se
}

@test "yolov5s with ECAAttention" {
	compare_config yolov5s-eca
}

@test "yolov5s with EffectiveSE" {
	compare_config yolov5s-ese
}

@test "yolov5s with ShuffleAttention" {
	compare_config yolov5s-sa
}

@test "yolov5n and yolov5m" {
	compare_config yolov5n
	compare_config yolov5m
}

@test "the same bytes with 1 and 2 threads, and from standard input" {
	local m="$REF_DIR/yolo/yolov5s/model.w"
	infer-detect -m "$m" -t 1 -f jsonl /usr/share/darknet/data/horses.jpg > "$BATS_TEST_TMPDIR/1"
	infer-detect -m "$m" -t 2 -f jsonl /usr/share/darknet/data/horses.jpg > "$BATS_TEST_TMPDIR/2"
	cmp "$BATS_TEST_TMPDIR/1" "$BATS_TEST_TMPDIR/2"
	infer-detect -m "$m" -t 2 -f jsonl < /usr/share/darknet/data/horses.jpg | sed 's/"stdin"/"horses"/' > "$BATS_TEST_TMPDIR/3"
	cmp "$BATS_TEST_TMPDIR/1" "$BATS_TEST_TMPDIR/3"
}

@test "--list with jsonl pipes into evaluate-map; coco output is one JSON array" {
	local m="$REF_DIR/yolo/yolov5s/model.w"
	printf '%s\n' /usr/share/darknet/data/dog.jpg /usr/share/darknet/data/horses.jpg > "$BATS_TEST_TMPDIR/list"
	run -0 infer-detect -m "$m" -f coco --list "$BATS_TEST_TMPDIR/list"
	run -0 "$PY" -c "import json,sys; a=json.loads(sys.argv[1]); print(type(a).__name__, sorted({d['image_id'] for d in a}))" "$output"
	assert_output "list ['dog', 'horses']"
	# its own detections as labels: every one found again
	mkdir "$BATS_TEST_TMPDIR/labels" "$BATS_TEST_TMPDIR/yolo"
	infer-detect -m "$m" -f yolo --list "$BATS_TEST_TMPDIR/list" -O "$BATS_TEST_TMPDIR/labels"
	infer-detect -m "$m" -f jsonl --list "$BATS_TEST_TMPDIR/list" > "$BATS_TEST_TMPDIR/dets.jsonl"
	run -0 evaluate-map --labels "$BATS_TEST_TMPDIR/labels" --json "$BATS_TEST_TMPDIR/dets.jsonl"
	run -0 "$PY" -c "import json,sys; d=json.loads(sys.argv[1]); print(d['r'] > 0.99, d['map50'] > 0.99)" "$output"
	assert_output "True True"
}

@test "bad inputs: unknown module, yaml syntax error with its line, NaN weight, empty image" {
	local dir="$REF_DIR/yolo/yolov5s"
	sed 's/SPPF, \[1024, 5\]/Foo, [1024, 5]/' "$TOP/scripts/ref/yolov5/cfg/yolov5s.yaml" > "$BATS_TEST_TMPDIR/foo.yaml"
	grep -q Foo "$BATS_TEST_TMPDIR/foo.yaml"
	run -1 --separate-stderr weightconv --cfg "$BATS_TEST_TMPDIR/foo.yaml" "$dir/ckpt.pt" -o "$BATS_TEST_TMPDIR/x.w"
	[[ "$stderr" == *"foo.yaml: line "*"unknown module 'Foo'"* ]]
	printf 'nc: 80\ndepth_multiple: 0.33\nbackbone: [[-1, 1, Conv, [64, 6, 2, 2]]\n  - oops\n' > "$BATS_TEST_TMPDIR/bad.yaml"
	run -1 --separate-stderr weightconv --cfg "$BATS_TEST_TMPDIR/bad.yaml" "$dir/ckpt.pt" -o "$BATS_TEST_TMPDIR/x.w"
	[[ "$stderr" == *"bad.yaml: line 4: yaml syntax error"* ]]
	"$PY" - "$dir/ckpt.pt" "$BATS_TEST_TMPDIR/nan.pt" "$TOP/scripts/ref/yolov5" <<'PYEOF'
import sys
sys.path.insert(0, sys.argv[3])
import torch
ck = torch.load(sys.argv[1])
m = ck['ema'] or ck['model']
m.model[2].cv1.conv.weight.data[0, 0, 0, 0] = float('nan')
torch.save(ck, sys.argv[2])
PYEOF
	run -1 --separate-stderr weightconv "$BATS_TEST_TMPDIR/nan.pt" -o "$BATS_TEST_TMPDIR/nan.w"
	[[ "$stderr" == *"nan.pt: tensor 'model.2.cv1.conv.weight' holds NaN"* ]]
	assert_file_not_exists "$BATS_TEST_TMPDIR/nan.w"
	: > "$BATS_TEST_TMPDIR/empty.jpg"
	run -1 --separate-stderr infer-detect -m "$dir/model.w" -o "$BATS_TEST_TMPDIR/d.txt" "$BATS_TEST_TMPDIR/empty.jpg"
	[[ "$stderr" == *"empty.jpg"* ]]
	assert_file_not_exists "$BATS_TEST_TMPDIR/d.txt"
}

@test "a checkpoint whose pickle names a global off the allow-list is refused, nothing runs" {
	"$PY" - "$BATS_TEST_TMPDIR/evil.pt" "$BATS_TEST_TMPDIR/pwned" <<'PYEOF'
import sys, subprocess, torch
class Evil:
    def __reduce__(self):
        return (subprocess.call, (["touch", sys.argv[2]],))
torch.save({"model": Evil(), "ema": None}, sys.argv[1])
PYEOF
	run -1 --separate-stderr weightconv "$BATS_TEST_TMPDIR/evil.pt" -o "$BATS_TEST_TMPDIR/evil.w"
	# protocol 2 spells subprocess.call with its Python 2 name, commands.call
	[[ "$stderr" == *"evil.pt: pickle references forbidden global '"*".call'"* ]]
	assert_file_not_exists "$BATS_TEST_TMPDIR/pwned"
}

@test "usage errors exit 2; --help exits 0 and every long option is in the man page" {
	run -2 infer-detect
	run -2 infer-detect -m x.w --format nope
	run -2 infer-detect -m x.w --save-conf
	run -0 infer-detect --help
	for opt in $(infer-detect --help | grep -o -- '--[a-z0-9-]*' | sort -u); do
		grep -q -- "${opt//-/\\\\-}" "$TOP/man/man1/infer-detect.1" || { echo "man page lacks $opt"; return 1; }
	done
	run -0 --separate-stderr groff -man -ww -z "$TOP/man/man1/infer-detect.1"
	assert_equal "$stderr" ""
	run -0 --separate-stderr groff -man -ww -z "$TOP/man/man5/cnn-detections.5"
	assert_equal "$stderr" ""
}

@test "'ema' is preferred over 'model'; a bare state_dict converts with --cfg to the same model" {
	local cfg="$TOP/scripts/ref/yolov5/cfg/yolov5n.yaml" plain="$REF_DIR/yolo/yolov5n"
	"$PY" "$TOP/scripts/ref/yolov5/make-yolo-ckpt.py" --cfg "$cfg" --seed 2 --ema -o "$BATS_TEST_TMPDIR/ema.pt" 2>/dev/null
	"$PY" "$TOP/scripts/ref/yolov5/make-yolo-ckpt.py" --cfg "$cfg" --seed 2 --state-dict -o "$BATS_TEST_TMPDIR/sd.pt" 2>/dev/null
	run -0 weightconv "$BATS_TEST_TMPDIR/ema.pt" -o "$BATS_TEST_TMPDIR/ema.w"
	run -1 --separate-stderr weightconv "$BATS_TEST_TMPDIR/sd.pt" -o "$BATS_TEST_TMPDIR/sd.w"
	[[ "$stderr" == *"give the model's yaml with --cfg"* ]]
	run -0 weightconv --cfg "$cfg" "$BATS_TEST_TMPDIR/sd.pt" -o "$BATS_TEST_TMPDIR/sd.w"
	infer-detect -m "$plain/model.w" --no-round /usr/share/darknet/data/dog.jpg > "$BATS_TEST_TMPDIR/plain.txt"
	infer-detect -m "$BATS_TEST_TMPDIR/ema.w" --no-round /usr/share/darknet/data/dog.jpg > "$BATS_TEST_TMPDIR/ema.txt"
	infer-detect -m "$BATS_TEST_TMPDIR/sd.w" --no-round /usr/share/darknet/data/dog.jpg > "$BATS_TEST_TMPDIR/sd.txt"
	[ -s "$BATS_TEST_TMPDIR/plain.txt" ]
	cmp "$BATS_TEST_TMPDIR/plain.txt" "$BATS_TEST_TMPDIR/ema.txt"
	# the state_dict is float32 (the .pt float16): the same boxes, confidences within 1e-3
	run -0 "$PY" -c "
import sys
a = [l.split() for l in open(sys.argv[1])]; b = [l.split() for l in open(sys.argv[2])]
assert len(a) == len(b) and all(x[0] == y[0] and abs(float(x[1]) - float(y[1])) < 1e-3 for x, y in zip(a, b))" \
		"$BATS_TEST_TMPDIR/plain.txt" "$BATS_TEST_TMPDIR/sd.txt"
}

@test "--draw writes a JPEG of the photo's size with the boxes on it" {
	local m="$REF_DIR/yolo/yolov5s/model.w"
	run -0 infer-detect -m "$m" --draw "$BATS_TEST_TMPDIR/d.jpg" /usr/share/darknet/data/horses.jpg
	run -0 "$PY" -c "
from PIL import Image, ImageChops
a = Image.open('$BATS_TEST_TMPDIR/d.jpg'); b = Image.open('/usr/share/darknet/data/horses.jpg')
print(a.format, a.size == b.size, ImageChops.difference(a.convert('RGB'), b.convert('RGB')).getbbox() is not None)"
	assert_output "JPEG True True"
}

@test "a JPEG's EXIF orientation is applied as OpenCV's imread (detect.py) applies it" {
	local dir="$REF_DIR/yolo/yolov5s" args=""
	"$PY" - "$BATS_TEST_TMPDIR" <<'PYEOF'
import sys
from PIL import Image
im = Image.open('/usr/share/darknet/data/dog.jpg')
for o in (3, 6, 8):
    ex = Image.Exif()
    ex[0x0112] = o
    im.save('%s/dog-o%d.jpg' % (sys.argv[1], o), quality=95, exif=ex.tobytes())
PYEOF
	for o in 3 6 8; do args="$args --image $BATS_TEST_TMPDIR/dog-o$o.jpg"; done
	"$PY" "$TOP/scripts/ref/yolov5/detect-ref.py" --weights "$dir/ckpt.pt" --out-dir "$BATS_TEST_TMPDIR/ref" $args 2>/dev/null
	for o in 3 6 8; do
		infer-detect -m "$dir/model.w" --no-round "$BATS_TEST_TMPDIR/dog-o$o.jpg" > "$BATS_TEST_TMPDIR/o$o.txt"
		run -0 "$PY" "$TOP/scripts/ref/compare-dets.py" dets "$BATS_TEST_TMPDIR/o$o.txt" "$BATS_TEST_TMPDIR/ref/dog-o$o.dets.json"
		echo "orientation $o: $output" >&3
	done
}
