#!/usr/bin/env bats
# infer-detect --val | evaluate-map against val.py's algorithm (scripts/ref/yolov5/val-ref.py:
# its rect batches, load_image, letterbox, NMS settings, scale_boxes with ratio_pad and metrics),
# with the shipped yolov5n-shapes model, on the samples and on crops of them at many aspect
# ratios, batch sizes 1 and 32.
#
# Two things are tested apart, each at its own tolerance:
#  (a) the pipeline and the metric: our detections scored by val-ref.py's own code path
#      (eval --dets: its dataloader, labels, process_batch and ap_per_class, without the
#      network or NMS) give evaluate-map's numbers on the same detections: P, R and every AP
#      to 1e-12 (they come out equal);
#  (b) the network: our detections are the PyTorch network's after NMS and scale_boxes (eval
#      --save-dets), image by image, with the tolerances tests/infer-detect.bats holds
#      infer-detect to against detect.py: scores within 1e-4 (relative here), corners within
#      0.01 px;
# and (c) val.py's printed line (%11.3g of P, R, mAP@0.5, mAP@0.5:0.95) of the whole PyTorch run
# is ours.  AP is not compared across the two networks: it ranks all the detections of all the
# images by score, and scores of different images can nearly tie (two class-2 scores of 0.2031428
# on the aspect-ratio set differ by 2e-7, less than the two engines' float32 summation orders
# move them), so which comes first, and with it AP@0.5:0.95 in the sixth digit, depends on the
# last bits of the network.
load helpers/common

setup_file() {
	load helpers/common
	# the cache holds no paths: it serves any checkout with the same oracle, model and samples
	sum=$(cat "$TOP"/scripts/ref/yolov5/{val-ref.py,yolo_ref.py} "$TOP/scripts/ref/map-ref.py" \
		"$TOP/models/yolov5n-shapes.w" "$TOP/samples/val.txt" "$TOP"/samples/images/*.jpg "$TOP"/samples/labels/*.txt |
		cksum | cut -d' ' -f1)
	export SET="$REF_DIR/val-$sum" LISTS="$BATS_FILE_TMPDIR"
	sed "s|^|$TOP/samples/images/|; s|\$|.jpg|" "$TOP/samples/val.txt" > "$LISTS/samples.txt"
	if [ ! -f "$SET/done" ]; then
		rm -rf "$SET.tmp" && mkdir -p "$SET.tmp"
		"$PY" "$TOP/scripts/ref/yolov5/val-ref.py" make-set "$SET.tmp/ar" >&2
		rm "$SET.tmp/ar/val.txt"
		printf '%s\n' "$SET.tmp"/ar/images/*.jpg > "$LISTS/ar-tmp.txt"
		for b in 1 32; do
			"$PY" "$TOP/scripts/ref/yolov5/val-ref.py" eval --w "$TOP/models/yolov5n-shapes.w" --imgsz 256 \
				--list "$LISTS/samples.txt" --labels "$TOP/samples/labels" --batch-size $b \
				--save-dets "$SET.tmp/samples-$b.jsonl" > "$SET.tmp/samples-$b.json"
			"$PY" "$TOP/scripts/ref/yolov5/val-ref.py" eval --w "$TOP/models/yolov5n-shapes.w" --imgsz 256 \
				--list "$LISTS/ar-tmp.txt" --labels "$SET.tmp/ar/labels" --batch-size $b \
				--save-dets "$SET.tmp/ar-$b.jsonl" > "$SET.tmp/ar-$b.json"
		done
		touch "$SET.tmp/done" && rm -rf "$SET" && mv "$SET.tmp" "$SET"
	fi
	printf '%s\n' "$SET"/ar/images/*.jpg > "$LISTS/ar.txt"
}

# same_metrics A.json B.json: val-ref.py's JSON (A) and evaluate-map's (B) on the same
# detections: the images, instances and classes, the four numbers as val.py prints them (%11.3g)
# equal; P, R, mAP@0.5, mAP@0.5:0.95 and every class's P, R, AP@0.5 and AP@0.5:0.95 within 1e-12
# (the same matches at every threshold, the same curves)
same_metrics() {
	run "$PY" - "$1" "$2" <<'PYEOF'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
keys = ("p", "r", "map50", "map50_95")
line = ("%11.3g" * 4) % tuple(b[k] for k in keys)
assert line == a["line"], (line, a["line"])
assert (a["images"], a["instances"]) == (b["images"], b["instances"]), (a, b)
assert sorted(map(int, a["classes"])) == [c for c, o in enumerate(b["classes"]) if o["instances"]], \
    (sorted(a["classes"]), b["classes"])
pairs = [(k, a[k], b[k]) for k in keys]
for c, v in a["classes"].items():
    o = b["classes"][int(c)]
    pairs += [("class %s %s" % (c, k), v[k], o[k]) for k in ("p", "r", "ap50", "ap50_95")]
ap = max(abs(x - y) for k, x, y in pairs if "ap" in k)
pr = max(abs(x - y) for k, x, y in pairs if "ap" not in k)
assert max(ap, pr) <= 1e-12, [(k, x, y) for k, x, y in pairs if abs(x - y) > 1e-12]
print("%s | APs max diff %.2g, P and R max diff %.2g" % (line, ap, pr))
PYEOF
}

# val_case NAME LIST LABELS WHAT: infer-detect --val | evaluate-map, batch sizes 1 and 32, against
# the oracle's $SET/NAME-B.json(l): (a), (b) and (c) above
val_case() {
	local d="$BATS_TEST_TMPDIR" b
	for b in 1 32; do
		infer-detect -m "$TOP/models/yolov5n-shapes.w" --val --batch-size $b --list "$2" -f jsonl > "$d/d.jsonl"
		evaluate-map -q --labels "$3" "$d/d.jsonl" --json > "$d/m.json"
		# (a) val.py's metrics on our detections
		"$PY" "$TOP/scripts/ref/yolov5/val-ref.py" eval --w "$TOP/models/yolov5n-shapes.w" --imgsz 256 \
			--list "$2" --labels "$3" --batch-size $b --dets "$d/d.jsonl" > "$d/o.json"
		same_metrics "$d/o.json" "$d/m.json"
		echo "$4, batch $b, our detections, val.py's metrics: $output" >&3
		[ "$status" = 0 ]
		# (b) our detections are the PyTorch network's
		run "$PY" "$TOP/scripts/ref/compare-dets.py" jsonl "$d/d.jsonl" "$SET/$1-$b.jsonl"
		echo "$4, batch $b, against PyTorch's: $output" >&3
		[ "$status" = 0 ]
		# (c) val.py's line of the whole PyTorch run; the APs' distance to it, for the record
		run "$PY" - "$SET/$1-$b.json" "$d/m.json" <<'PYEOF'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
keys = ("p", "r", "map50", "map50_95")
line = ("%11.3g" * 4) % tuple(b[k] for k in keys)
assert line == a["line"], (line, a["line"])
ap = [abs(v[k] - b["classes"][int(c)][k]) for c, v in a["classes"].items() for k in ("ap50", "ap50_95")]
print("%s | APs max diff %.2g (not checked)" % (line, max(ap + [abs(a[k] - b[k]) for k in keys[2:]])))
PYEOF
		echo "$4, batch $b, val.py's line of the PyTorch run: $output" >&3
		[ "$status" = 0 ]
	done
}

@test "--val on the samples: val.py's P, R, mAP@0.5, mAP@0.5:0.95 and per-class APs" {
	val_case samples "$LISTS/samples.txt" "$TOP/samples/labels" samples
}

@test "--val on many aspect ratios (INTER_AREA, rect batches, EXIF 5 and 7): val.py's numbers" {
	# val.py scales x by the height's gain and clips predictions and labels at w0 in that
	# space; --val writes its boxes, and evaluate-map maps the labels as it does
	val_case ar "$LISTS/ar.txt" "$SET/ar/labels" "aspect ratios"
}

@test "val-ref.py eval --dets on the network's own detections (--save-dets) gives its full run's numbers" {
	local b set labels
	for b in 1 32; do
		for set in samples ar; do
			labels="$SET/ar/labels"
			[ $set = ar ] || labels="$TOP/samples/labels"
			"$PY" "$TOP/scripts/ref/yolov5/val-ref.py" eval --w "$TOP/models/yolov5n-shapes.w" --imgsz 256 \
				--list "$LISTS/$set.txt" --labels "$labels" --batch-size $b --dets "$SET/$set-$b.jsonl" \
				> "$BATS_TEST_TMPDIR/o.json"
			cmp "$BATS_TEST_TMPDIR/o.json" "$SET/$set-$b.json"
		done
	done
}

@test "--val writes val.py's boxes and each image's letterbox; evaluate-map checks the letterbox" {
	infer-detect -m "$TOP/models/yolov5n-shapes.w" --val --batch-size 1 --list "$LISTS/ar.txt" -f jsonl > "$BATS_TEST_TMPDIR/d.jsonl"
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
