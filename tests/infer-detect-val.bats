#!/usr/bin/env bats
# infer-detect --val | evaluate-map against val.py's algorithm (scripts/ref/yolov5/val-ref.py:
# its rect batches, load_image, letterbox, NMS settings, scale_boxes with ratio_pad and metrics),
# with the shipped yolov5n-shapes model, on the samples and on crops of them at many aspect
# ratios, batch sizes 1 and 32: the same numbers.
load helpers/common

setup_file() {
	load helpers/common
	sum=$(cat "$TOP/scripts/ref/yolov5/val-ref.py" "$TOP/models/yolov5n-shapes.w" | cksum | cut -d' ' -f1)
	export SET="$REF_DIR/val-$sum"
	if [ ! -f "$SET/done" ]; then
		rm -rf "$SET.tmp" && mkdir -p "$SET.tmp"
		sed "s|^|$TOP/samples/images/|; s|\$|.jpg|" "$TOP/samples/val.txt" > "$SET.tmp/samples.txt"
		"$PY" "$TOP/scripts/ref/yolov5/val-ref.py" make-set "$SET.tmp/ar" >&2
		# the set's paths are its final ones
		sed -i "s|$SET.tmp|$SET|" "$SET.tmp/ar/val.txt"
		for b in 1 32; do
			"$PY" "$TOP/scripts/ref/yolov5/val-ref.py" eval --w "$TOP/models/yolov5n-shapes.w" --imgsz 256 \
				--list "$SET.tmp/samples.txt" --labels "$TOP/samples/labels" --batch-size $b > "$SET.tmp/samples-$b.json"
			sed "s|$SET|$SET.tmp|" "$SET.tmp/ar/val.txt" > "$SET.tmp/ar-list"
			"$PY" "$TOP/scripts/ref/yolov5/val-ref.py" eval --w "$TOP/models/yolov5n-shapes.w" --imgsz 256 \
				--list "$SET.tmp/ar-list" --labels "$SET.tmp/ar/labels" --batch-size $b > "$SET.tmp/ar-$b.json"
		done
		touch "$SET.tmp/done" && rm -rf "$SET" && mv "$SET.tmp" "$SET"
	fi
}

# compare REF.json OURS.json: the four numbers as val.py prints them (%11.3g) equal; mAP@0.5,
# mAP@0.5:0.95 and every class's AP@0.5 and AP@0.5:0.95 equal (to 1e-12: the same matches at every
# threshold); P and R, overall and per class, within 1e-6: they are read off the curves at
# confidences between detections, and our network's confidences differ from PyTorch's in the
# last bits of a float
compare() {
	run -0 "$PY" - "$1" "$2" <<'PYEOF'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
keys = ("p", "r", "map50", "map50_95")
line = ("%11.3g" * 4) % tuple(b[k] for k in keys)
assert line == a["line"], (line, a["line"])
pairs = [(k, a[k], b[k]) for k in keys]
for c, v in a["classes"].items():
    o = b["classes"][int(c)]
    pairs += [("class %s %s" % (c, k), v[k], o[k]) for k in ("p", "r", "ap50", "ap50_95")]
ap = max(abs(x - y) for k, x, y in pairs if "ap" in k)
pr = max(abs(x - y) for k, x, y in pairs if "ap" not in k)
assert ap <= 1e-12 and pr <= 1e-6, [(k, x, y) for k, x, y in pairs if abs(x - y) > (1e-12 if "ap" in k else 1e-6)]
print("%s | APs max diff %.2g, P and R max diff %.2g" % (line, ap, pr))
PYEOF
}

# val_case LIST LABELS REFPREFIX WHAT: infer-detect --val | evaluate-map, batch sizes 1 and 32
val_case() {
	for b in 1 32; do
		infer-detect -m "$TOP/models/yolov5n-shapes.w" --val --batch-size $b --list "$1" -f jsonl > "$BATS_TEST_TMPDIR/d.jsonl"
		evaluate-map -q --labels "$2" "$BATS_TEST_TMPDIR/d.jsonl" --json > "$BATS_TEST_TMPDIR/m.json"
		compare "$3-$b.json" "$BATS_TEST_TMPDIR/m.json"
		echo "$4, batch $b: $output" >&3
	done
}

@test "--val on the samples: val.py's P, R, mAP@0.5, mAP@0.5:0.95 and per-class APs" {
	val_case "$SET/samples.txt" "$TOP/samples/labels" "$SET/samples" samples
}

@test "--val on many aspect ratios (INTER_AREA, rect batches, EXIF 5 and 7): val.py's numbers" {
	# val.py scales x by the height's gain and clips predictions and labels at w0 in that
	# space; --val writes its boxes, and evaluate-map maps the labels as it does
	val_case "$SET/ar/val.txt" "$SET/ar/labels" "$SET/ar" "aspect ratios"
}

@test "--val writes val.py's boxes and each image's letterbox; evaluate-map checks the letterbox" {
	infer-detect -m "$TOP/models/yolov5n-shapes.w" --val --batch-size 1 --list "$SET/ar/val.txt" -f jsonl > "$BATS_TEST_TMPDIR/d.jsonl"
	# ar_00 is 1280x640: load_image makes it 256x128, its batch shape is 160x288
	grep -q '"image_id": "ar_00", .*"letterbox": \[256, 128, 288, 160\], "width": 1280, "height": 640}' "$BATS_TEST_TMPDIR/d.jsonl"
	head -1 "$BATS_TEST_TMPDIR/d.jsonl" | sed 's/"letterbox": \[[0-9, ]*\]/"letterbox": [1, 2, 3]/' > "$BATS_TEST_TMPDIR/bad.jsonl"
	run -1 --separate-stderr evaluate-map -q --labels "$SET/ar/labels" "$BATS_TEST_TMPDIR/bad.jsonl"
	[[ "$stderr" == *'line 1: "letterbox" is not [w, h, W, H]'* ]]
	{ head -1 "$BATS_TEST_TMPDIR/d.jsonl"; head -1 "$BATS_TEST_TMPDIR/d.jsonl" | sed 's/"letterbox": \[256/"letterbox": [255/'; } > "$BATS_TEST_TMPDIR/bad.jsonl"
	run -1 --separate-stderr evaluate-map -q --labels "$SET/ar/labels" "$BATS_TEST_TMPDIR/bad.jsonl"
	[[ "$stderr" == *"line 2: image 'ar_00' has the letterbox [255, 128, 288, 160] here but [256, 128, 288, 160] on line 1"* ]]
}

@test "--val refuses standard input and --batch-size alone; an unreadable image stops the run with no output" {
	run -2 --separate-stderr infer-detect -m "$TOP/models/yolov5n-shapes.w" --val - < "$TOP/samples/images/val_0000.jpg"
	[[ "$stderr" == *"--val needs"* ]]
	run -2 --separate-stderr infer-detect -m "$TOP/models/yolov5n-shapes.w" --batch-size 4 "$TOP/samples/images/val_0000.jpg"
	printf '%s\n' "$TOP/samples/images/val_0000.jpg" "$BATS_TEST_TMPDIR/missing.jpg" > "$BATS_TEST_TMPDIR/l.txt"
	run -1 --separate-stderr infer-detect -m "$TOP/models/yolov5n-shapes.w" --val --list "$BATS_TEST_TMPDIR/l.txt" -o "$BATS_TEST_TMPDIR/out.jsonl"
	[[ "$stderr" == *"missing.jpg"* ]] && [ "$(echo "$stderr" | wc -l)" = 1 ]
	[ ! -e "$BATS_TEST_TMPDIR/out.jsonl" ]
}
