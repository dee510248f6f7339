#!/usr/bin/env bats
# evaluate-miou against a NumPy re-implementation of upstream get_miou (scripts/ref/miou-ref.py)
# on a synthetic set of palette and grayscale PNG masks, plus hand-made cases.

load helpers/common
bats_require_minimum_version 1.5.0

setup_file() {
	# The reference set is cached per version of the script that makes it.
	local sum
	sum=$(cksum < "$TOP/scripts/ref/miou-ref.py" | cut -d' ' -f1)
	export SET="$REF_DIR/miou-$sum"
	if [ ! -f "$SET/expected.json" ]; then
		rm -rf "$SET.tmp"
		mkdir -p "$SET.tmp"
		"$PY" "$TOP/scripts/ref/miou-ref.py" "$SET.tmp" >&2
		rm -rf "$SET"
		mv "$SET.tmp" "$SET"
	fi
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# pgm NAME W H V... : a binary PGM with the given pixel values
pgm() {
	local name=$1 w=$2 h=$3
	shift 3
	"$PY" -c 'import sys; w, h = int(sys.argv[2]), int(sys.argv[3]); v = bytes(int(x) for x in sys.argv[4:]); assert len(v) == w * h; open(sys.argv[1], "wb").write(b"P5\n%d %d\n255\n" % (w, h) + v)' "$name" "$w" "$h" "$@"
}

# The hand-made case (also in tests/unit/test_miou.c), 4 classes in a 63x1 row:
# class 0: 10 right; class 1: 29 right, 5 called 3; class 3: 9 right, 6 called 1;
# class 2 absent from both sides; 4 pixels labelled 255 and 2 labelled 7 (ignored).
known_case() {
	local g=() p=() i
	for i in $(seq 10); do g+=(0); p+=(0); done
	for i in $(seq 29); do g+=(1); p+=(1); done
	for i in $(seq 5); do g+=(1); p+=(3); done
	for i in $(seq 9); do g+=(3); p+=(3); done
	for i in $(seq 6); do g+=(3); p+=(1); done
	for i in $(seq 4); do g+=(255); p+=(3); done
	for i in $(seq 2); do g+=(7); p+=(0); done
	pgm gt.pgm 65 1 "${g[@]}"
	pgm pred.pgm 65 1 "${p[@]}"
	printf '%s\n' zero one two three > names4.txt
}

# json_close A B [TOL]: every number in B (the reference) within TOL of A, nulls equal.
json_close() {
	"$PY" - "$1" "$2" "${3:-1e-9}" <<'EOF'
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
EOF
}

# one_line_error NEEDLE: exit 1, no output, one line on stderr naming NEEDLE
one_line_error() {
	[ "$status" -eq 1 ] || { echo "status $status, want 1"; return 1; }
	[ -z "$output" ] || { echo "stdout: $output"; return 1; }
	[ "${#stderr_lines[@]}" -eq 1 ] || { echo "stderr: $stderr"; return 1; }
	[[ "$stderr" == "evaluate-miou: "*"$1"* ]] || { echo "stderr: $stderr, want $1"; return 1; }
}

@test "JSON metrics equal the NumPy upstream reference (palette and gray PNGs)" {
	cd "$SET"
	run -0 --separate-stderr evaluate-miou -n 21 --pairs pairs.txt --json
	echo "$output" > "$BATS_TEST_TMPDIR/got.json"
	json_close "$BATS_TEST_TMPDIR/got.json" expected.json
	[ "$(jq .images "$BATS_TEST_TMPDIR/got.json")" -eq 12 ]
}

@test "--nan-absent JSON equals the mmseg-rule reference, with null for absent classes" {
	cd "$SET"
	run -0 --separate-stderr evaluate-miou -n 21 --pairs pairs.txt --json --nan-absent
	echo "$output" > "$BATS_TEST_TMPDIR/got.json"
	json_close "$BATS_TEST_TMPDIR/got.json" expected-nan.json
	# tvmonitor never occurs: null, and skipped from the mean
	[ "$(jq '.classes[20].iou' "$BATS_TEST_TMPDIR/got.json")" = null ]
	"$PY" -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); assert a["miou"] > b["miou"]' \
		"$BATS_TEST_TMPDIR/got.json" expected.json
}

@test "--upstream prints the lines upstream prints, byte for byte" {
	cd "$SET"
	run -0 --separate-stderr evaluate-miou -n 21 --pairs pairs.txt --upstream
	diff <(echo "$output") expected-upstream.txt
	run -0 --separate-stderr evaluate-miou -n 21 --pairs pairs.txt --upstream --nan-absent
	diff <(echo "$output") expected-upstream-nan.txt
}

@test "--upstream on a known case: 100.0, 72.5, 0.0 and NumPy rounding" {
	known_case
	run -0 --separate-stderr evaluate-miou -n 4 --names names4.txt --gt gt.pgm pred.pgm --upstream
	assert_output "$(printf '%s\n' \
		"===>zero:	Iou-100.0; Recall (equal to the PA)-100.0; Precision-100.0" \
		"===>one:	Iou-72.5; Recall (equal to the PA)-85.29; Precision-82.86" \
		"===>two:	Iou-0.0; Recall (equal to the PA)-0.0; Precision-0.0" \
		"===>three:	Iou-45.0; Recall (equal to the PA)-60.0; Precision-64.29" \
		"===> mIoU: 54.38; mPA: 61.32; Accuracy: 81.36")"
}

@test "--nan-absent skips the absent class: mIoU 72.5 on the known case" {
	known_case
	run -0 --separate-stderr evaluate-miou -n 4 --gt gt.pgm --upstream --nan-absent < pred.pgm
	assert_line --index 2 "===>2:	Iou-nan; Recall (equal to the PA)-nan; Precision-nan"
	assert_line --index 4 "===> mIoU: 72.5; mPA: 81.76; Accuracy: 81.36"
	run -0 --separate-stderr evaluate-miou -n 4 --gt gt.pgm --json --nan-absent pred.pgm
	[ "$(echo "$output" | jq -c '[.classes[2].iou, .classes[2].recall, (.miou * 1e9 | round)]')" = "[null,null,725000000]" ]
}

@test "a prediction on stdin gives the same as the file, and as a one-line pair list" {
	cd "$SET"
	run -0 --separate-stderr evaluate-miou -n 21 --json --gt gt/003.png < pred/003.png
	local a=$output
	run -0 --separate-stderr evaluate-miou -n 21 --json --gt gt/003.png pred/003.png
	[ "$output" = "$a" ]
	echo "pred/003.png gt/003.png" > "$BATS_TEST_TMPDIR/one.txt"
	run -0 --separate-stderr evaluate-miou -n 21 --json --pairs "$BATS_TEST_TMPDIR/one.txt"
	[ "$output" = "$a" ]
}

@test "shards saved with --save-state and merged equal the single run exactly" {
	cd "$SET"
	local t=$BATS_TEST_TMPDIR s
	for s in 1 2 3; do
		run -0 --separate-stderr evaluate-miou -q -n 21 --pairs shard$s.txt --save-state "$t/s$s.state"
		assert_file_exists "$t/s$s.state"
	done
	for fmt in --json --csv --upstream "" "--json --nan-absent"; do
		evaluate-miou -n 21 --pairs pairs.txt $fmt > "$t/single.out"
		evaluate-miou --merge "$t/s3.state" "$t/s1.state" "$t/s2.state" $fmt > "$t/merged.out"
		cmp "$t/single.out" "$t/merged.out"
	done
	# a merged state merges again; the state can go through a pipe
	evaluate-miou --merge "$t/s1.state" "$t/s2.state" --save-state - |
		evaluate-miou --merge - "$t/s3.state" --json > "$t/merged.out"
	evaluate-miou -n 21 --pairs pairs.txt --json > "$t/single.out"
	cmp "$t/single.out" "$t/merged.out"
	# no temporary files left beside the states
	[ "$(ls -A "$t" | grep -c '^\.')" -eq 0 ]
}

@test "--confusion writes upstream's confusion_matrix.csv (CRLF, ' ' first cell)" {
	cd "$SET"
	run -0 --separate-stderr evaluate-miou -n 21 --pairs pairs.txt --confusion "$BATS_TEST_TMPDIR/cm.csv"
	cmp "$BATS_TEST_TMPDIR/cm.csv" confusion_matrix.csv
	head -c 14 "$BATS_TEST_TMPDIR/cm.csv" | od -c | grep -q '   ,   b   a   c   k'
	[ "$(grep -c $'\r$' "$BATS_TEST_TMPDIR/cm.csv")" -eq 22 ]
}

@test "default table, --csv and --names" {
	known_case
	run -0 --separate-stderr evaluate-miou -n 4 --gt gt.pgm pred.pgm
	assert_line --index 0 --regexp '^class +IoU +Recall +Precision +GT pixels +pred pixels$'
	assert_line --index 2 --regexp '^1 +72\.50 +85\.29 +82\.86 +34 +35$'
	assert_line --index 5 'mIoU 54.38  mPA 61.32  accuracy 81.36  (1 image, 59 pixels)'
	run -0 --separate-stderr evaluate-miou --names names4.txt --gt gt.pgm pred.pgm --csv
	assert_line --index 0 'class,iou,recall,precision,gt_pixels,pred_pixels'
	assert_line --index 1 'zero,1,1,1,10,10'
	assert_line --index 3 'two,0,0,0,0,0'
	assert_line --index 5 --regexp '^mean,0\.54375000000000[0-9]*,0\.6132352941176[0-9]*,[0-9.]+,59,59$'
	assert_line --index 6 --regexp '^accuracy,0\.8135593220338983[0-9]*,,,59,$'
	# 21 classes get the VOC names
	cd "$SET"
	run -0 --separate-stderr evaluate-miou -n 21 --pairs shard1.txt
	assert_line --index 21 --regexp '^tvmonitor '
}

@test "a size mismatch is an error naming both files and sizes" {
	pgm p.pgm 2 2 0 0 0 0
	pgm g.pgm 3 2 0 0 0 0 0 0
	run -1 --separate-stderr evaluate-miou -n 2 --gt g.pgm p.pgm
	one_line_error "p.pgm: prediction is 2x2, but its label g.pgm is 3x2"
}

@test "an RGB label is refused with the decoder's message" {
	"$PY" -c 'from PIL import Image; Image.new("RGB", (4, 3), (128, 0, 0)).save("rgb.png"); Image.new("L", (4, 3), 1).save("p.png")'
	run -1 --separate-stderr evaluate-miou -n 21 --gt rgb.png p.png
	one_line_error "rgb.png"
	[[ "$stderr" == *RGB* ]]
}

@test "a prediction value >= N is an error naming the file and the pixel" {
	pgm p.pgm 2 1 1 21
	pgm g.pgm 2 1 1 255
	run -1 --separate-stderr evaluate-miou -n 21 --gt g.pgm p.pgm
	one_line_error "p.pgm: prediction value 21 at (x=1, y=0)"
}

@test "a missing file is an error naming it; --save-state then leaves no file" {
	cd "$SET"
	{ cat pairs.txt; echo "pred/nothere.png gt/000.png"; } > "$BATS_TEST_TMPDIR/bad.txt"
	run -1 --separate-stderr evaluate-miou -n 21 --pairs "$BATS_TEST_TMPDIR/bad.txt" \
		--save-state "$BATS_TEST_TMPDIR/x.state" --confusion "$BATS_TEST_TMPDIR/x.csv"
	one_line_error "pred/nothere.png"
	assert_file_not_exists "$BATS_TEST_TMPDIR/x.state"
	assert_file_not_exists "$BATS_TEST_TMPDIR/x.csv"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep '^\.')" ]
	run -1 --separate-stderr evaluate-miou -n 21 --gt nothere.png pred/000.png
	one_line_error "nothere.png"
}

@test "a damaged or foreign state file in --merge is an error naming it" {
	known_case
	evaluate-miou -n 4 --gt gt.pgm pred.pgm --save-state a.state > /dev/null
	head -c 40 a.state > cut.state
	run -1 --separate-stderr evaluate-miou --merge a.state cut.state
	one_line_error "cut.state: "
	sed 's/^10 /11 /' a.state > edited.state
	run -1 --separate-stderr evaluate-miou --merge edited.state
	one_line_error "edited.state: the counts add up to 60, not the 59 pixels"
	run -1 --separate-stderr evaluate-miou --merge gt.pgm
	one_line_error "gt.pgm: not an evaluate-miou state file"
	sed 's/^cnnkit-miou-state 1$/cnnkit-miou-state 9/' a.state > future.state
	run -1 --separate-stderr evaluate-miou --merge future.state
	one_line_error "future.state: state format version 9"
	evaluate-miou -n 5 --gt gt.pgm pred.pgm --save-state five.state > /dev/null
	run -1 --separate-stderr evaluate-miou --merge a.state five.state
	one_line_error "five.state: 5 classes, but the states before it have 4"
	run -1 --separate-stderr evaluate-miou --merge a.state --save-state merged.state -n 5
	one_line_error "a.state: 4 classes, but -n 5"
	assert_file_not_exists merged.state
}

@test "names and pair lists are checked" {
	known_case
	printf 'a\nb\nc\n' > three.txt
	run -1 --separate-stderr evaluate-miou -n 4 --names three.txt --gt gt.pgm pred.pgm
	one_line_error "three.txt: 3 class names, but -n 4"
	printf 'pred.pgm\n' > pairs.txt
	run -1 --separate-stderr evaluate-miou -n 4 --pairs pairs.txt
	one_line_error "pairs.txt: line 1: expected 'PRED GT'"
	printf '# comment\n\npred.pgm\tgt.pgm\n' > pairs.txt
	run -0 --separate-stderr evaluate-miou -n 4 --pairs pairs.txt --upstream --names names4.txt
	assert_line --index 4 "===> mIoU: 54.38; mPA: 61.32; Accuracy: 81.36"
}

@test "-m MODEL.w: the model's class count and names in every report; disagreements are one line" {
	local m=$TOP/models/deeplab-shapes.w
	known_case
	run -0 --separate-stderr evaluate-miou -m "$m" --gt gt.pgm pred.pgm
	assert_line --index 1 --regexp '^background '
	assert_line --index 2 --regexp '^disc '
	assert_line --index 3 --regexp '^rectangle '
	assert_line --index 4 --regexp '^triangle '
	# the same numbers as -n 4, which names the classes 0..3
	local with_n
	with_n=$(evaluate-miou -n 4 --gt gt.pgm pred.pgm --json)
	[[ "$with_n" == *'"name": "3"'* ]]
	run -0 --separate-stderr evaluate-miou --model "$m" --gt gt.pgm pred.pgm --json
	assert_equal "$(echo "$output" | jq -c '[.classes[].name]')" '["background","disc","rectangle","triangle"]'
	assert_equal "$(echo "$output" | jq -c 'del(.classes[].name)')" "$(echo "$with_n" | jq -c 'del(.classes[].name)')"
	run -0 --separate-stderr evaluate-miou -m "$m" --gt gt.pgm pred.pgm --upstream
	assert_line --index 3 --partial "===>triangle:"
	# the confusion matrix, and a merged state: -m names them too
	evaluate-miou -m "$m" -n 4 --gt gt.pgm pred.pgm --save-state s.state --confusion cm.csv > /dev/null
	head -1 cm.csv | grep -q 'background,disc,rectangle,triangle'
	run -0 --separate-stderr evaluate-miou --merge -m "$m" s.state --csv
	assert_line --index 4 --regexp '^triangle,'
	# --names renames the model's classes
	run -0 --separate-stderr evaluate-miou -m "$m" --names names4.txt --gt gt.pgm pred.pgm
	assert_line --index 4 --regexp '^three '
	# disagreements
	run -1 --separate-stderr evaluate-miou -m "$m" -n 21 --gt gt.pgm pred.pgm
	one_line_error "$m: the model has 4 classes, but -n 21"
	printf 'a\nb\nc\n' > three.txt
	run -1 --separate-stderr evaluate-miou -m "$m" --names three.txt --gt gt.pgm pred.pgm
	one_line_error "three.txt: 3 class names, but the model $m has 4 classes"
	run -1 --separate-stderr evaluate-miou --merge -m "$TOP/models/yolov5n-shapes.w" s.state
	one_line_error "s.state: 4 classes, but the model $TOP/models/yolov5n-shapes.w has 3"
	"$PY" -c 'import sys, torch; torch.save({"w": torch.zeros(2)}, sys.argv[1])' ck.pth
	run -1 --separate-stderr evaluate-miou -m ck.pth --gt gt.pgm pred.pgm
	one_line_error "ck.pth: a PyTorch checkpoint, not a .w model: convert it first with weightconv ck.pth -o MODEL.w"
	run -1 --separate-stderr evaluate-miou -m nothere.w --gt gt.pgm pred.pgm
	one_line_error "nothere.w"
}

@test "a 0/255 label draws a warning, -q silences it" {
	pgm p.pgm 2 2 0 1 0 1
	pgm g.pgm 2 2 0 255 0 255
	run -0 --separate-stderr evaluate-miou -n 2 --gt g.pgm p.pgm
	[[ "$stderr" == *"g.pgm: warning: label holds only 0 and 255"* ]]
	run -0 --separate-stderr evaluate-miou -q -n 2 --gt g.pgm p.pgm
	[ -z "$stderr" ]
}

@test "bad usage exits 2" {
	run -2 --separate-stderr evaluate-miou --gt a.png
	[[ "$stderr" == *"-m MODEL.w, -n N or --names FILE"* ]]
	run -2 --separate-stderr evaluate-miou -n 21
	run -2 --separate-stderr evaluate-miou -n 21 --gt a.png --pairs b.txt
	run -2 --separate-stderr evaluate-miou -n 21 --gt a.png --csv --json
	run -2 --separate-stderr evaluate-miou -n 0 --gt a.png
	run -2 --separate-stderr evaluate-miou -n 257 --gt a.png
	run -2 --separate-stderr evaluate-miou --merge
	run -2 --separate-stderr evaluate-miou --bogus
	# one line, with the closest known option; no getopt line before it
	run -2 --separate-stderr evaluate-miou -n 21 --gt a.png --jsno
	assert_equal "$stderr" "evaluate-miou: unknown option '--jsno' (did you mean --json?)"
	run -2 --separate-stderr evaluate-miou -n 21 --gt
	assert_equal "$stderr" "evaluate-miou: option '--gt' needs a value"
	run -2 --separate-stderr evaluate-miou -n 21 --gt a.png --conf
	assert_equal "$stderr" "evaluate-miou: option '--confusion' needs a value"
	run -2 --separate-stderr evaluate-miou -n 21 --pairs b.txt extra.png
}

@test "--help and --version" {
	run -0 --separate-stderr evaluate-miou --help
	assert_line --index 0 --partial "Usage: evaluate-miou (-m MODEL.w | -n N) --gt LABEL"
	run -0 --separate-stderr evaluate-miou --version
	assert_output --partial cnnkit
}

@test "man page: groff is silent, every long option of --help is documented" {
	local man="$TOP/man/man1/evaluate-miou.1"
	run -0 --separate-stderr groff -man -ww -z "$man"
	[ -z "$output" ] && [ -z "$stderr" ]
	local opts
	opts=$(evaluate-miou --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
	[ -n "$opts" ]
	for o in $opts; do
		grep -qF -- "${o//-/\\-}" "$man" || { echo "missing $o"; return 1; }
	done
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
		grep -q "^\.SH \"*$s" "$man" || { echo "no section $s"; return 1; }
	done
	grep -q 'parallel' "$man"
}
