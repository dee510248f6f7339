#!/usr/bin/env bats
# evaluate-map against a NumPy re-implementation of yolov5 val.py's metric (scripts/ref/map-ref.py)
# on a synthetic set, hand-made cases, shard concatenation and bad input.

load helpers/common
bats_require_minimum_version 1.5.0

setup_file() {
	# The reference set is cached per version of the script that makes it.
	local sum
	sum=$(cksum < "$TOP/scripts/ref/map-ref.py" | cut -d' ' -f1)
	export SET="$REF_DIR/map-$sum"
	if [ ! -f "$SET/expected.json" ]; then
		rm -rf "$SET.tmp"
		mkdir -p "$SET.tmp"
		"$PY" "$TOP/scripts/ref/map-ref.py" "$SET.tmp" >&2
		rm -rf "$SET"
		mv "$SET.tmp" "$SET"
	fi
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# json_close A B [TOL]: every number in B (the reference) within TOL of A, nulls equal.
json_close() {
	"$PY" - "$1" "$2" "${3:-1e-9}" <<'PYEOF'
import json, sys
a, b, tol = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), float(sys.argv[3])
def cmp(x, y, path):
    if isinstance(y, dict):
        for k in y:
            assert k in x, "%s: missing %s" % (path, k)
            cmp(x[k], y[k], path + "." + k)
    elif isinstance(y, list):
        assert len(x) == len(y), "%s: length %d, want %d" % (path, len(x), len(y))
        for i, (u, v) in enumerate(zip(x, y)):
            cmp(u, v, "%s[%d]" % (path, i))
    elif isinstance(y, float) and not isinstance(y, bool):
        assert x is not None and abs(x - y) <= tol, "%s: %r, want %r" % (path, x, y)
    else:
        assert x == y, "%s: %r, want %r" % (path, x, y)
cmp(a, b, "")
PYEOF
}

# one_line_error NEEDLE: exit 1, no output, one line on stderr naming NEEDLE
one_line_error() {
	[ "$status" -eq 1 ] || { echo "status $status, want 1"; return 1; }
	[ -z "$output" ] || { echo "stdout: $output"; return 1; }
	[ "${#stderr_lines[@]}" -eq 1 ] || { echo "stderr: $stderr"; return 1; }
	[[ "$stderr" == "evaluate-map: "*"$1"* ]] || { echo "stderr: $stderr, want $1"; return 1; }
}

# One 100x100 image with one label, the box (30,30)-(70,70) of class 0.
one_label() {
	mkdir -p lab
	echo "0 0.5 0.5 0.4 0.4" > lab/a.txt
}

# det ID CLASS X Y W H SCORE: one JSON line for a 100x100 image
det() {
	printf '{"image_id": "%s", "category_id": %s, "bbox": [%s, %s, %s, %s], "score": %s, "width": 100, "height": 100}\n' "$@"
}

# value FILE JQ: a number from the JSON report, to 12 decimals
value() {
	jq -r "$2 * 1e12 | round / 1e12" "$1"
}

@test "JSON metrics equal the NumPy val.py reference within 1e-9" {
	cd "$SET"
	run -0 --separate-stderr evaluate-map --labels labels --names names.txt dets.jsonl --json
	echo "$output" > "$BATS_TEST_TMPDIR/got.json"
	json_close "$BATS_TEST_TMPDIR/got.json" expected.json
	# the image with detections and no label file is counted, with one warning
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"1 image with detections but no label file"*"'nolabel'"* ]]
	[ "$(jq .images "$BATS_TEST_TMPDIR/got.json")" -eq 27 ]
	[ "$(jq -c '[.classes[3].ap50, .classes[4].p, .classes[5].instances]' "$BATS_TEST_TMPDIR/got.json")" = "[0,null,0]" ]
}

@test "shards, concatenated in any order or piped, equal the single run exactly" {
	cd "$SET"
	local t=$BATS_TEST_TMPDIR
	evaluate-map -q --labels labels --names names.txt dets.jsonl --json > "$t/single.json"
	split -n l/3 -d dets.jsonl "$t/shard."
	evaluate-map -q --labels labels --names names.txt "$t/shard.00" "$t/shard.01" "$t/shard.02" --json > "$t/a.json"
	cmp "$t/single.json" "$t/a.json"
	evaluate-map -q --labels labels --names names.txt "$t/shard.02" "$t/shard.00" "$t/shard.01" --json > "$t/b.json"
	cmp "$t/single.json" "$t/b.json"
	shuf --random-source=<(yes) dets.jsonl | evaluate-map -q --labels labels --names names.txt --json > "$t/c.json"
	cmp "$t/single.json" "$t/c.json"
	cat "$t"/shard.0? | evaluate-map -q --labels labels --names names.txt - --csv > "$t/d.csv"
	evaluate-map -q --labels labels --names names.txt dets.jsonl --csv | cmp - "$t/d.csv"
}

@test "table as val.py prints it; --csv" {
	cd "$SET"
	run -0 --separate-stderr evaluate-map -q --labels labels --names names.txt dets.jsonl
	assert_line --index 0 "                 Class     Images  Instances          P          R      mAP50   mAP50-95"
	assert_line --index 1 --regexp '^                   all         27         89( +[0-9.e-]+){4}$'
	assert_line --index 5 --regexp '^ +dog +27 +24 +0 +0 +0 +0$'
	[ "${#lines[@]}" -eq 6 ] # classes without labels get no row, as in val.py
	run -0 --separate-stderr evaluate-map -q --labels labels --names names.txt dets.jsonl --csv
	assert_line --index 0 "class,images,instances,detections,p,r,ap50,ap50_95"
	assert_line --index 1 --regexp '^all,27,89,113,0\.59728615729382[0-9]*,'
	assert_line --index 6 "kite,27,0,8,,,,"
	assert_line --index 7 "horse,27,0,0,,,,"
}

@test "hand case: one perfect detection scores P 1, R 1, and AP 0.995 (the 101-point rule)" {
	one_label
	det a 0 30 30 40 40 0.9 > d.jsonl
	run -0 --separate-stderr evaluate-map --labels lab d.jsonl
	assert_line --index 1 "                   all          1          1          1          1      0.995      0.995"
	evaluate-map --labels lab d.jsonl --json > r.json
	[ "$(value r.json .map50)" = 0.995 ] && [ "$(value r.json .map50_95)" = 0.995 ]
	[ "$(value r.json .p)" = 1 ] && [ "$(value r.json .r)" = 1 ]
}

@test "hand case: IoU 0.6 (less the 1e-7 eps) is a TP at 0.5 and 0.55 only: AP50-95 = 0.995*2/10 = 0.199" {
	one_label
	det a 0 30 30 24 40 0.9 > d.jsonl # 960 / 1600 px
	evaluate-map --labels lab d.jsonl --json > r.json
	[ "$(value r.json .map50)" = 0.995 ]
	[ "$(value r.json .map50_95)" = 0.199 ]
	[ "$(jq -c '[.classes[0].ap[] * 1000 | round]' r.json)" = "[995,995,0,0,0,0,0,0,0,0]" ]
	det a 0 30 30 28 40 0.9 > d.jsonl # IoU 0.7: 0.5 .. 0.65
	evaluate-map --labels lab d.jsonl --json > r.json
	[ "$(value r.json .map50_95)" = 0.398 ]
}

@test "hand case: a false positive above the true one halves the envelope: AP 0.4975, P 0.5, R 1" {
	one_label
	{ det a 0 60 60 30 30 0.9; det a 0 30 30 40 40 0.8; } > d.jsonl
	evaluate-map --labels lab d.jsonl --json > r.json
	# 0.5 * 0.99 + 0.01 * (0.5 + 0) / 2
	[ "$(value r.json .map50)" = 0.4975 ]
	[ "$(value r.json .p)" = 0.5 ] && [ "$(value r.json .r)" = 1 ]
	# the other order: TP first keeps precision 1 up to recall 1
	{ det a 0 60 60 30 30 0.8; det a 0 30 30 40 40 0.9; } > d.jsonl
	evaluate-map --labels lab d.jsonl --json > r.json
	[ "$(value r.json .map50)" = 0.995 ]
}

@test "an image with labels and no detections adds misses; an empty label file counts as an image" {
	one_label
	echo "0 0.5 0.5 0.4 0.4" > lab/b.txt
	: > lab/c.txt
	det a 0 30 30 40 40 0.9 > d.jsonl
	evaluate-map --labels lab d.jsonl --json > r.json
	[ "$(jq -c '[.images, .instances, .detections]' r.json)" = "[3,2,1]" ]
	[ "$(value r.json .r)" = 0.5 ]
	# precision 1 up to recall 0.5, then the ramp to the (1, 0) sentinel: 0.5 + 0.25
	[ "$(value r.json .map50)" = 0.75 ]
}

@test "numeric image_id matches a zero-padded label stem" {
	mkdir lab
	echo "0 0.5 0.5 0.4 0.4" > lab/000000000042.txt
	printf '{"image_id": 42, "category_id": 0, "bbox": [30, 30, 40, 40], "score": 0.9, "width": 100, "height": 100}\n' > d.jsonl
	run -0 --separate-stderr evaluate-map --labels lab d.jsonl --json
	[ -z "$stderr" ]
	[ "$(echo "$output" | jq .images)" -eq 1 ]
	[ "$(echo "$output" | jq '.map50 * 1000 | round')" -eq 995 ]
}

@test "bad detections: exit 1, one line naming the file and line" {
	one_label
	{ det a 0 30 30 40 40 0.9; echo '{"image_id": "a", "category_id": 0, "bbox": [1, 2, 3, 4], "score": 0.5}'; } > nosize.jsonl
	run -1 --separate-stderr evaluate-map --labels lab nosize.jsonl
	one_line_error 'nosize.jsonl: line 2: no "width" field'
	{ det a 0 30 30 40 40 0.9; echo '{"image_id": "a", '; } > bad.jsonl
	run -1 --separate-stderr evaluate-map --labels lab bad.jsonl
	one_line_error "bad.jsonl: line 2: bad JSON"
	det a 0 30 30 -4 40 0.9 > neg.jsonl
	run -1 --separate-stderr evaluate-map --labels lab neg.jsonl
	one_line_error 'neg.jsonl: line 1: "bbox" value 3 is negative'
	det a 0 30 30 4 40 -0.5 > negs.jsonl
	run -1 --separate-stderr evaluate-map --labels lab - < negs.jsonl
	one_line_error 'standard input: line 1: "score"'
	det a 0 30 30 4 40 NaN > nan.jsonl
	run -1 --separate-stderr evaluate-map --labels lab nan.jsonl
	one_line_error "nan.jsonl: line 1: bad JSON"
	det a 7 30 30 4 40 0.5 > cls.jsonl
	run -1 --separate-stderr evaluate-map --labels lab -n 3 cls.jsonl
	one_line_error "cls.jsonl: line 1: category_id 7, but there are only 3 classes"
	{ det a 0 30 30 40 40 0.9; echo '[{"image_id": "a"}]'; } > arr.jsonl
	run -1 --separate-stderr evaluate-map --labels lab arr.jsonl
	one_line_error "arr.jsonl: line 2: not a JSON object"
	{ det a 0 30 30 40 40 0.9; echo '{"image_id": "a", "category_id": 0, "bbox": [1, 2, 3, 4], "score": 0.5, "width": 50, "height": 100}'; } > size.jsonl
	run -1 --separate-stderr evaluate-map --labels lab size.jsonl
	one_line_error "size.jsonl: line 2: image 'a' is 50x100 here but 100x100 on line 1"
	run -1 --separate-stderr evaluate-map --labels lab nothere.jsonl
	one_line_error "nothere.jsonl"
}

# as_array FILE: the JSON lines of FILE as one COCO results array, as infer-detect -f coco writes it
as_array() {
	awk 'BEGIN { printf "[" } NR > 1 { printf ",\n" } { printf "%s", $0 } END { print "]" }' "$1"
}

# COCO's 80 class names (coco.yaml), one per line
coco_names() {
	printf '%s\n' person bicycle car motorcycle airplane bus train truck boat 'traffic light' \
		'fire hydrant' 'stop sign' 'parking meter' bench bird cat dog horse sheep cow elephant bear \
		zebra giraffe backpack umbrella handbag tie suitcase frisbee skis snowboard 'sports ball' kite \
		'baseball bat' 'baseball glove' skateboard surfboard 'tennis racket' bottle 'wine glass' cup fork \
		knife spoon bowl banana apple sandwich orange broccoli carrot 'hot dog' pizza donut cake chair \
		couch 'potted plant' bed 'dining table' toilet tv laptop mouse remote keyboard 'cell phone' \
		microwave oven toaster sink refrigerator book clock vase scissors 'teddy bear' 'hair drier' \
		toothbrush
}

@test "a COCO results array (infer-detect -f coco) gives the same bytes as the same JSON lines" {
	cd "$SET"
	local t=$BATS_TEST_TMPDIR
	as_array dets.jsonl > "$t/dets.json"
	[ "$(head -c 1 "$t/dets.json")" = "[" ]
	for fmt in --json --csv ""; do
		evaluate-map -q --labels labels --names names.txt dets.jsonl $fmt > "$t/lines.out"
		evaluate-map -q --labels labels --names names.txt "$t/dets.json" $fmt > "$t/array.out"
		cmp "$t/lines.out" "$t/array.out"
	done
	# jq's layout, from standard input, and shards: arrays one after another, or beside JSON lines
	evaluate-map -q --labels labels --names names.txt --json dets.jsonl > "$t/lines.json"
	jq -s . dets.jsonl | evaluate-map -q --labels labels --names names.txt --json | cmp - "$t/lines.json"
	split -n l/2 -d dets.jsonl "$t/shard."
	as_array "$t/shard.00" > "$t/a.json"
	as_array "$t/shard.01" > "$t/b.json"
	cat "$t/a.json" "$t/b.json" | evaluate-map -q --labels labels --names names.txt --json | cmp - "$t/lines.json"
	evaluate-map -q --labels labels --names names.txt --json "$t/a.json" "$t/shard.01" | cmp - "$t/lines.json"
	# an empty array is no detections, as an empty file is
	echo '[]' > "$t/empty.json"
	: > "$t/empty.jsonl"
	evaluate-map -q --labels labels --names names.txt --json "$t/empty.jsonl" > "$t/e1"
	evaluate-map -q --labels labels --names names.txt --json "$t/empty.json" | cmp - "$t/e1"
}

@test "with COCO's 80 names an array's COCO ids 1..90 map back to classes: the report of the indices" {
	mkdir lab
	coco_names > coco.names
	# classes 0, 11 and 79 are COCO's ids 1, 13 and 90
	printf '0 0.5 0.5 0.4 0.4\n11 0.2 0.2 0.2 0.2\n79 0.8 0.8 0.2 0.2\n' > lab/a.txt
	{ det a 0 30 30 40 40 0.9; det a 11 10 10 20 20 0.8; det a 79 70 70 20 20 0.7; det a 11 60 60 30 30 0.6; } > d.jsonl
	sed -e 's/"category_id": 0,/"category_id": 1,/' -e 's/"category_id": 11,/"category_id": 13,/' \
		-e 's/"category_id": 79,/"category_id": 90,/' d.jsonl > d91.jsonl
	as_array d91.jsonl > d91.json
	grep -q '"category_id": 90' d91.json
	run -0 --separate-stderr evaluate-map --labels lab --names coco.names d.jsonl --json
	local want=$output
	[ "$(echo "$want" | jq -c '[.classes[0, 11, 79].instances]')" = "[1,1,1]" ]
	[ "$(echo "$want" | jq '.map50 * 1000 | round')" -eq 995 ]
	run -0 --separate-stderr evaluate-map --labels lab --names coco.names d91.json --json
	[ "$output" = "$want" ]
	# the old spellings are COCO's names too; JSON lines are class indices whatever the names
	sed -e 's/^motorcycle$/motorbike/' -e 's/^tv$/tvmonitor/' coco.names > old.names
	run -0 --separate-stderr evaluate-map --labels lab --names old.names d91.json --json
	[ "$(echo "$output" | jq .map50)" = "$(echo "$want" | jq .map50)" ]
	run -1 --separate-stderr evaluate-map --labels lab --names coco.names d91.jsonl --json
	one_line_error "d91.jsonl: line 3: category_id 90, but there are only 80 classes"
	# other names: an array holds class indices, as infer-detect -f coco writes them then
	seq 0 99 | sed 's/^/c/' > other.names
	as_array d.jsonl > d.json
	run -0 --separate-stderr evaluate-map --labels lab --names other.names d.json --json
	[ "$(echo "$output" | jq '.map50 * 1000 | round')" -eq 995 ]
}

@test "the real COCO yolov5n: its names are COCO's, so a COCO-id array of its detections scores as its JSON lines" {
	local ckpt=$TOP/../shared/models/yolov5n-v6.1-coco.pt
	[ -f "$ckpt" ] || skip "../shared/models is not here"
	weightconv -q "$ckpt" -o m.w
	weightconv --info m.w | sed -n 's/^class_names: //p' | jq -r '.[]' > coco.names
	[ "$(wc -l < coco.names)" -eq 80 ]
	mkdir lab
	for p in dog horses person; do
		infer-detect -m m.w -f jsonl --conf 0.05 "/usr/share/darknet/data/$p.jpg" >> d.jsonl
		# the ground truth: the confident boxes, a little shifted, so P, R and AP are not trivial
		infer-detect -m m.w -f yolo --conf 0.4 "/usr/share/darknet/data/$p.jpg" |
			awk '{printf "%s %.4f %.4f %s %s\n", $1, $2 + 0.01, $3, $4, $5}' > "lab/$p.txt"
	done
	# COCO's category ids from torchvision's list (index = id, "N/A" unused), as -f coco writes them
	"$PY" - d.jsonl > d91.json <<'PYEOF'
import json, sys
from torchvision.models.detection import FasterRCNN_ResNet50_FPN_Weights as W
ids = [i for i, n in enumerate(W.COCO_V1.meta["categories"]) if n not in ("N/A", "__background__")]
recs = [json.loads(l) for l in open(sys.argv[1])]
for r in recs:
    r["category_id"] = ids[r["category_id"]]
print("[" + ",\n".join(json.dumps(r) for r in recs) + "]")
PYEOF
	[ "$(jq '[.[].category_id] | max' d91.json)" -gt 1 ]
	run -0 --separate-stderr evaluate-map --labels lab --names coco.names d.jsonl --json
	local want=$output
	[ "$(echo "$want" | jq '.map50 > 0.3')" = true ]
	run -0 --separate-stderr evaluate-map --labels lab --names coco.names d91.json --json
	assert_equal "$output" "$want"
	# the model's own names are COCO's: -m maps the array's ids as --names does
	run -0 --separate-stderr evaluate-map --labels lab -m m.w d91.json --json
	assert_equal "$output" "$want"
	run -0 --separate-stderr evaluate-map --labels lab -m m.w d.jsonl --json
	assert_equal "$output" "$want"
}

@test "an array with COCO ids and no names is refused, not read as class indices" {
	mkdir lab
	echo "0 0.5 0.5 0.4 0.4" > lab/a.txt
	{ det a 1 30 30 40 40 0.9; det a 90 30 30 40 40 0.8; } | as_array /dev/stdin > d91.json
	run -1 --separate-stderr evaluate-map --labels lab d91.json
	one_line_error "d91.json: record 2: category_id 90 may be a COCO category id (1..90): give --names with COCO's 80 class names"
	run -1 --separate-stderr evaluate-map --labels lab -n 80 d91.json
	one_line_error "record 2: category_id 90 may be a COCO category id"
	# -n that is not COCO's 80: the ids are class indices
	run -0 --separate-stderr evaluate-map --labels lab -n 91 d91.json --json
	[ "$(echo "$output" | jq .num_classes)" -eq 91 ]
	# with COCO's names, an id COCO does not use (12) is an error
	coco_names > coco.names
	det a 12 30 30 40 40 0.9 | as_array /dev/stdin > d12.json
	run -1 --separate-stderr evaluate-map --labels lab --names coco.names d12.json
	one_line_error "d12.json: record 1: category_id 12 is not one of COCO's category ids"
}

@test "bad arrays: a cut-short array, a record without the image size, trailing data: one line each" {
	one_label
	{ det a 0 30 30 40 40 0.9; det a 0 60 60 30 30 0.8; det a 0 10 10 5 5 0.7; } | as_array /dev/stdin > d.json
	head -c 150 d.json > cut.json
	run -1 --separate-stderr evaluate-map --labels lab cut.json
	one_line_error "cut.json: record 2: bad JSON: "
	[[ "$stderr" == *"(the array is cut short)" ]]
	head -c -2 d.json > cut2.json # the final "]\n" gone
	run -1 --separate-stderr evaluate-map --labels lab - < cut2.json
	one_line_error "standard input: record 3: the array is cut short (no ']' after it)"
	echo '[{"image_id": "a", "category_id": 0, "bbox": [1, 2, 3, 4], "score": 0.5}]' > nosize.json
	run -1 --separate-stderr evaluate-map --labels lab nosize.json
	one_line_error 'nosize.json: record 1: no "width" field (the image size in pixels is needed in every record: make the detections with infer-detect -f jsonl or -f coco)'
	{ cat d.json; det a 0 30 30 40 40 0.9; } > mixed.json
	run -1 --separate-stderr evaluate-map --labels lab mixed.json
	one_line_error "mixed.json: '{' after the end of the array"
	{ printf '['; det a 0 30 30 40 40 0.9; det a 0 60 60 30 30 0.8; printf ']'; } > comma.json
	run -1 --separate-stderr evaluate-map --labels lab comma.json
	one_line_error "comma.json: record 1: ',' or ']' expected after it, not '{'"
	printf '[1, 2]\n' > scalars.json
	run -1 --separate-stderr evaluate-map --labels lab scalars.json
	one_line_error "scalars.json: record 1: bad JSON"
	printf '[%s]' "$(printf '[%.0s' $(seq 3000))" > deep.json
	run -1 --separate-stderr evaluate-map --labels lab deep.json
	one_line_error "deep.json: record 1: bad JSON"
}

@test "bad label files: exit 1, one line naming the file and line" {
	mkdir lab
	det a 0 30 30 40 40 0.9 > d.jsonl
	printf '0 0.5 0.5 0.4 0.4\n0 0.5 0.5 0.4\n' > lab/a.txt
	run -1 --separate-stderr evaluate-map --labels lab d.jsonl
	one_line_error "lab/a.txt: line 2: 4 fields, expected 5"
	printf '0 0.5 0.5 0.4 1.5\n' > lab/a.txt
	run -1 --separate-stderr evaluate-map --labels lab d.jsonl
	one_line_error "lab/a.txt: line 1: h 1.5 is above 1"
	printf '\n0 -0.5 0.5 0.4 0.5\n' > lab/a.txt
	run -1 --separate-stderr evaluate-map --labels lab d.jsonl
	one_line_error "lab/a.txt: line 2: cx -0.5 is negative"
	printf '0 nan 0.5 0.4 0.5\n' > lab/a.txt
	run -1 --separate-stderr evaluate-map --labels lab d.jsonl
	one_line_error "lab/a.txt: line 1: cx is nan"
	printf '0 0.5 0.5 0.4 0.5\n1 0.5 0.5 0.4 0.5\n5 0.5 0.5 0.4 0.5\n' > lab/a.txt
	run -1 --separate-stderr evaluate-map --labels lab -n 5 d.jsonl
	one_line_error "lab/a.txt: line 3: class 5, but there are only 5 classes"
	printf 'person 0.5 0.5 0.4 0.5\n' > lab/a.txt
	run -1 --separate-stderr evaluate-map --labels lab d.jsonl
	one_line_error "lab/a.txt: line 1: class 'person' is not a number"
	run -1 --separate-stderr evaluate-map --labels nodir d.jsonl
	one_line_error "nodir"
}

@test "duplicate label lines are dropped with a warning; -q silences warnings" {
	one_label
	echo "0 0.5 0.5 0.4 0.4" >> lab/a.txt
	det a 0 30 30 40 40 0.9 > d.jsonl
	run -0 --separate-stderr evaluate-map --labels lab d.jsonl --json
	[[ "$stderr" == *"1 duplicate label line dropped"* ]]
	[ "$(echo "$output" | jq .instances)" -eq 1 ]
	run -0 --separate-stderr evaluate-map -q --labels lab d.jsonl --json
	[ -z "$stderr" ]
}

@test "names: their count is the number of classes, and must agree with -n" {
	one_label
	printf 'cat\ndog\n' > names.txt
	det a 0 30 30 40 40 0.9 > d.jsonl
	run -0 --separate-stderr evaluate-map --labels lab --names names.txt d.jsonl --json
	[ "$(echo "$output" | jq -c '[.num_classes, .classes[0].name]')" = '[2,"cat"]' ]
	run -1 --separate-stderr evaluate-map --labels lab --names names.txt -n 3 d.jsonl
	one_line_error "names.txt: 2 class names, but -n 3"
}

@test "-m MODEL.w: the model's class count and names; -n or --names that disagree are one line" {
	local m=$TOP/models/yolov5n-shapes.w
	one_label
	det a 0 30 30 40 40 0.9 > d.jsonl
	run -0 --separate-stderr evaluate-map --labels lab -m "$m" d.jsonl --json
	assert_equal "$(echo "$output" | jq -c '[.num_classes, [.classes[].name]]')" '[3,["disc","rectangle","triangle"]]'
	# the table too (val.py's: the classes with labels); --model is the long spelling
	run -0 --separate-stderr evaluate-map --labels lab --model "$m" d.jsonl
	assert_line --index 2 --regexp '^ +disc +1 +1 +1 +1 +0\.995 +0\.995$'
	[ "${#lines[@]}" -eq 3 ]
	# without -m the same run has numbers for names, and the count seen in the labels
	run -0 --separate-stderr evaluate-map --labels lab d.jsonl --json
	assert_equal "$(echo "$output" | jq -c '[.num_classes, [.classes[].name]]')" '[1,["0"]]'
	# -n that agrees is fine; --names renames the model's classes
	run -0 --separate-stderr evaluate-map --labels lab -m "$m" -n 3 d.jsonl --json
	[ "$(echo "$output" | jq .num_classes)" -eq 3 ]
	printf 'a\nb\nc\n' > abc.txt
	run -0 --separate-stderr evaluate-map --labels lab -m "$m" --names abc.txt d.jsonl --json
	assert_equal "$(echo "$output" | jq -c '[.classes[].name]')" '["a","b","c"]'
	run -1 --separate-stderr evaluate-map --labels lab -m "$m" -n 80 d.jsonl
	one_line_error "$m: the model has 3 classes, but -n 80"
	printf 'cat\ndog\n' > names.txt
	run -1 --separate-stderr evaluate-map --labels lab -m "$m" --names names.txt d.jsonl
	one_line_error "names.txt: 2 class names, but the model $m has 3 classes"
	# a checkpoint, a missing file
	"$PY" -c 'import sys, torch; torch.save({"w": torch.zeros(2)}, sys.argv[1])' ck.pth
	run -1 --separate-stderr evaluate-map --labels lab -m ck.pth d.jsonl
	one_line_error "ck.pth: a PyTorch checkpoint, not a .w model: convert it first with weightconv ck.pth -o MODEL.w"
	run -1 --separate-stderr evaluate-map --labels lab -m nothere.w d.jsonl
	one_line_error "nothere.w"
}

@test "bad usage exits 2" {
	run -2 --separate-stderr evaluate-map d.jsonl
	[[ "$stderr" == *"--labels DIR"* ]]
	run -2 --separate-stderr evaluate-map --labels x --csv --json d.jsonl
	run -2 --separate-stderr evaluate-map --labels x -n 0 d.jsonl
	run -2 --separate-stderr evaluate-map --labels x -n abc d.jsonl
	run -2 --separate-stderr evaluate-map --labels x - - 
	run -2 --separate-stderr evaluate-map --bogus
	assert_equal "$stderr" "evaluate-map: unknown option '--bogus' (see evaluate-map --help)"
	run -2 --separate-stderr evaluate-map --lables x d.jsonl
	[ -z "$output" ]
	assert_equal "$stderr" "evaluate-map: unknown option '--lables' (did you mean --labels?)"
	run -2 --separate-stderr evaluate-map --labels
	assert_equal "$stderr" "evaluate-map: option '--labels' needs a value"
	run -2 --separate-stderr evaluate-map --labels x -z
	assert_equal "$stderr" "evaluate-map: unknown option '-z' (see evaluate-map --help)"
}

@test "--help and --version" {
	run -0 --separate-stderr evaluate-map --help
	assert_line --index 0 --partial "Usage: evaluate-map --labels DIR"
	run -0 --separate-stderr evaluate-map --version
	assert_output --partial cnnkit
}

@test "man page: groff is silent, every long option of --help is documented" {
	local man="$TOP/man/man1/evaluate-map.1"
	run -0 --separate-stderr groff -man -ww -z "$man"
	[ -z "$output" ] && [ -z "$stderr" ]
	local opts
	opts=$(evaluate-map --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
	[ -n "$opts" ]
	for o in $opts; do
		grep -qF -- "${o//-/\\-}" "$man" || { echo "missing $o"; return 1; }
	done
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
		grep -q "^\.SH \"*$s" "$man" || { echo "no section $s"; return 1; }
	done
}
