#!/usr/bin/env bats
# evaluate-map --plots: val.py's PR, F1, P and R curves and its confusion matrix, as CSV files
# checked against a NumPy re-implementation of val.py (scripts/ref/map-plots-ref.py) and as
# PNG files drawn by scripts/plot-map with gnuplot.

load helpers/common
bats_require_minimum_version 1.5.0

PNGS="PR_curve.png F1_curve.png P_curve.png R_curve.png confusion_matrix.png"

setup_file() {
	# The synthetic set is cached per version of the scripts that make it.
	local sum
	sum=$(cat "$TOP/scripts/ref/map-plots-ref.py" "$TOP/scripts/ref/map-ref.py" | cksum | cut -d' ' -f1)
	export SYN="$REF_DIR/map-plots-$sum"
	if [ ! -f "$SYN/expected/confusion_matrix.csv" ]; then
		rm -rf "$SYN.tmp"
		"$PY" "$TOP/scripts/ref/map-plots-ref.py" make "$SYN.tmp" >&2
		rm -rf "$SYN"
		mv "$SYN.tmp" "$SYN"
	fi
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# pngs_ok DIR: the five pictures are PNG files that decode, 1200x800 (curves) and 1200x900
# (matrix), with the thick blue "all classes" line in each curve chart and blue cells in the
# matrix.
pngs_ok() {
	"$PY" - "$1" <<'PYEOF'
import sys
from PIL import Image
d = sys.argv[1]
for name, size in [("PR_curve", (1200, 800)), ("F1_curve", (1200, 800)), ("P_curve", (1200, 800)),
                   ("R_curve", (1200, 800)), ("confusion_matrix", (1200, 900))]:
    f = "%s/%s.png" % (d, name)
    assert open(f, "rb").read(8) == b"\x89PNG\r\n\x1a\n", f + ": no PNG signature"
    im = Image.open(f)
    im.load()
    assert im.size == size, "%s: %s, want %s" % (f, im.size, size)
    colours = im.convert("RGB").getcolors(1 << 18)
    assert colours, f + ": more than 2^18 colours"
    if name == "confusion_matrix":
        n = sum(k for k, (r, g, b) in colours if b > 100 and r < 100)  # Blues, darker half
        assert n > 1000, "%s: %d dark blue pixels" % (f, n)
    else:
        n = sum(k for k, c in colours if c == (0, 0, 255))
        assert n > 500, "%s: %d pure blue pixels (no all-classes line?)" % (f, n)
PYEOF
}

# same_csvs GOT WANT: the five chart CSV files, numbers within 1e-6 (prints the max differences)
same_csvs() {
	"$PY" "$TOP/scripts/ref/map-plots-ref.py" compare "$1" "$2" 1e-6
}

# detect_samples: the shipped validation images through the shipped YOLOv5n, as scripts/demo
# scores them (val.py's conf 0.001, IoU 0.6, multi-label)
detect_samples() {
	sed "s|^|$TOP/samples/images/|; s|\$|.jpg|" "$TOP/samples/val.txt" > images.txt
	infer-detect -t 1 -m "$TOP/models/yolov5n-shapes.w" --list images.txt -f jsonl --conf 0.001 --iou 0.6 \
		--multi-label -o dets.jsonl
}

# one_line_error NEEDLE: exit 1, no output, one line on stderr naming NEEDLE
one_line_error() {
	[ "$status" -eq 1 ] || { echo "status $status, want 1"; return 1; }
	[ -z "$output" ] || { echo "stdout: $output"; return 1; }
	[ "${#stderr_lines[@]}" -eq 1 ] || { echo "stderr: $stderr"; return 1; }
	[[ "$stderr" == "evaluate-map: "*"$1"* ]] || { echo "stderr: $stderr, want $1"; return 1; }
}

# det ID CLASS X Y W H SCORE: one JSON line for a 100x100 image
det() {
	printf '{"image_id": "%s", "category_id": %s, "bbox": [%s, %s, %s, %s], "score": %s, "width": 100, "height": 100}\n' "$@"
}

@test "shipped samples: the CSV files equal NumPy's val.py within 1e-6; five PNGs; the report unchanged" {
	mkdir w && cd w # a folder of its own: bats keeps files in the test's
	detect_samples
	local lab="$TOP/samples/labels" names="$TOP/samples/det-names.txt"
	run -0 --separate-stderr evaluate-map --labels "$lab" --names "$names" dets.jsonl --plots out/charts
	[ -z "$stderr" ]
	# stdout is the same table as without --plots; metrics.csv is the --csv report
	evaluate-map --labels "$lab" --names "$names" dets.jsonl | diff - <(echo "$output")
	evaluate-map --labels "$lab" --names "$names" dets.jsonl --csv | diff - out/charts/metrics.csv
	"$PY" "$TOP/scripts/ref/map-plots-ref.py" expect "$lab" "$names" dets.jsonl want
	same_csvs out/charts want
	pngs_ok out/charts
	# exactly the eleven files, nothing hidden left behind, nothing in the working folder
	[ "$(ls -A out/charts | LC_ALL=C sort | tr '\n' ' ')" = "F1_curve.csv F1_curve.png PR_curve.csv PR_curve.png P_curve.csv P_curve.png R_curve.csv R_curve.png confusion_matrix.csv confusion_matrix.png metrics.csv " ]
	[ "$(ls -A | LC_ALL=C sort | tr '\n' ' ')" = "dets.jsonl images.txt out want " ]
	# the three shapes are told apart: 41 of 42 discs found as discs, no disc taken for another
	# shape; 9 disc boxes on background (val.py's counts)
	assert_equal "$(sed -n 2p out/charts/confusion_matrix.csv)" "disc,41,0,0,9"
	# PR curve: a column per class, "all classes" their mean; px is linspace(0, 1, 1000)
	assert_equal "$(head -n 1 out/charts/PR_curve.csv)" "recall,disc,rectangle,triangle,all classes"
	assert_equal "$(sed -n '2p;1001p' out/charts/F1_curve.csv | cut -d, -f1 | tr '\n' ' ')" "0 1 "
	[ "$(wc -l < out/charts/P_curve.csv)" -eq 1001 ]
}

@test "synthetic set: classes without labels or detections, every ConfusionMatrix path; equal to NumPy" {
	run -0 --separate-stderr evaluate-map -q --labels "$SYN/labels" --names "$SYN/names.txt" "$SYN/dets.jsonl" --plots out
	same_csvs out "$SYN/expected"
	pngs_ok out
	# names with a quote, a comma and an apostrophe are quoted in CSV (and drawn: above)
	assert_equal "$(head -n 1 out/confusion_matrix.csv)" \
		'predicted/true,person,"traffic ""light"", red",o'"'"'clock,dog,kite,unused,background'
	# classes with labels have curves; the PR curve leaves out "dog", which has no detections
	assert_equal "$(head -n 1 out/F1_curve.csv)" 'confidence,person,"traffic ""light"", red",o'"'"'clock,dog,all classes'
	assert_equal "$(head -n 1 out/PR_curve.csv)" 'recall,person,"traffic ""light"", red",o'"'"'clock,all classes'
	# dog (3) is never detected: all its labels are in the background row; unused (5) is empty
	awk -F, 'NR > 1 { print $(NF - 3) }' out/confusion_matrix.csv | tr '\n' ' ' | grep -qx '0 0 0 0 0 0 [1-9][0-9]* '
	assert_equal "$(awk -F, '$1 == "unused"' out/confusion_matrix.csv)" "unused,0,0,0,0,0,0,0"
}

@test "map-ref's set (numeric image ids, an image without a label file): equal to NumPy" {
	local sum set
	sum=$(cksum < "$TOP/scripts/ref/map-ref.py" | cut -d' ' -f1)
	set="$REF_DIR/map-$sum"
	if [ ! -f "$set/expected.json" ]; then
		mkdir -p "$set.tmp.$$" && "$PY" "$TOP/scripts/ref/map-ref.py" "$set.tmp.$$" >&2
		rm -rf "$set" && mv "$set.tmp.$$" "$set"
	fi
	evaluate-map -q --labels "$set/labels" --names "$set/names.txt" "$set/dets.jsonl" --plots out > /dev/null
	"$PY" "$TOP/scripts/ref/map-plots-ref.py" expect "$set/labels" "$set/names.txt" "$set/dets.jsonl" want
	same_csvs out want
	pngs_ok out
}

@test "hand case: the confusion matrix of val.py, cell by cell" {
	mkdir lab
	# a: a cat at (30,30)-(70,70) and a dog at (0,0)-(20,20); b: one cat; c: no labels
	printf '0 0.5 0.5 0.4 0.4\n1 0.1 0.1 0.2 0.2\n' > lab/a.txt
	echo "0 0.5 0.5 0.4 0.4" > lab/b.txt
	: > lab/c.txt
	printf 'cat\ndog\n' > names.txt
	{
		det a 0 30 30 40 40 0.9  # the cat found
		det a 0 32 30 40 40 0.8  # a second box on it: background (predicted cat)
		det a 0 0 0 20 20 0.7    # the dog taken for a cat
		det a 1 80 80 10 10 0.6  # a dog on nothing: background (predicted dog)
		det a 1 30 30 40 40 0.2  # under conf 0.25: ignored
		det b 1 80 80 10 10 0.9  # b: no pair matches, so upstream does not count it (its cat is missed)
		det c 0 10 10 10 10 0.9  # c: no labels, so nothing is counted
	} > d.jsonl
	run -0 --separate-stderr evaluate-map --labels lab --names names.txt d.jsonl --plots out
	assert_equal "$(cat out/confusion_matrix.csv)" "predicted/true,cat,dog,background
cat,1,1,1
dog,0,0,1
background,1,0,0"
	"$PY" "$TOP/scripts/ref/map-plots-ref.py" expect lab names.txt d.jsonl want
	same_csvs out want
}

@test "labels and no detections at all: every label in the background row, zero curves, five PNGs" {
	mkdir lab
	printf '0 0.5 0.5 0.2 0.2\n1 0.3 0.3 0.1 0.1\n' > lab/a.txt
	printf '2 0.5 0.5 0.2 0.2\n0 0.1 0.1 0.1 0.1\n' > lab/b.txt
	printf 'cat\ndog\nbird\nfish\n' > names.txt
	: > d.jsonl
	run -0 --separate-stderr evaluate-map --labels lab --names names.txt d.jsonl --plots out
	assert_equal "$(tail -n 1 out/confusion_matrix.csv)" "background,2,1,1,0,0"
	assert_equal "$(awk -F, 'NR > 1 && NR < 6 { s += $2 + $3 + $4 + $5 + $6 } END { print s }' out/confusion_matrix.csv)" 0
	# no class has a PR curve; the F1 curves of the three labelled classes are 0 throughout
	assert_equal "$(head -n 1 out/PR_curve.csv)" "recall,all classes"
	assert_equal "$(awk -F, 'NR > 1 && ($2 || $3 || $4 || $5) { print NR }' out/F1_curve.csv)" ""
	"$PY" "$TOP/scripts/ref/map-plots-ref.py" expect lab names.txt d.jsonl want
	same_csvs out want
	# no thick blue line to find at 0 in the PR chart's border, so only the sizes here
	for f in $PNGS; do [ "$(head -c 8 "out/$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; done
}

@test "30 classes: per-class curves grey and unlabelled (val.py from 21 classes), no class colours" {
	mkdir lab
	seq 0 29 | sed 's/^/class /' > names.txt
	for i in $(seq 0 29); do
		echo "$i 0.5 0.5 0.4 0.4" > "lab/i$i.txt"
		det "i$i" "$i" 30 30 40 40 0.9
		det "i$i" $(((i + 1) % 30)) 31 30 40 40 0.$((30 + 2 * i)) # a second box, of the next class
	done > d.jsonl
	run -0 --separate-stderr evaluate-map --labels lab --names names.txt d.jsonl --plots out
	"$PY" "$TOP/scripts/ref/map-plots-ref.py" expect lab names.txt d.jsonl want
	same_csvs out want
	pngs_ok out
	# each class: its box matched, the other class's box on background
	assert_equal "$(sed -n 2p out/confusion_matrix.csv)" "class 0,1,$(printf '0,%.0s' $(seq 29))1"
	assert_equal "$(sed -n 3p out/confusion_matrix.csv)" "class 1,0,1,$(printf '0,%.0s' $(seq 28))1"
	# grey lines (labelled charts have a couple of hundred grey pixels of anti-aliased text),
	# and not the first class colour of matplotlib's cycle (the PR curves all lie at 1, under
	# the blue line)
	"$PY" - out/F1_curve.png out/P_curve.png <<'PYEOF'
import sys
from PIL import Image
for f in sys.argv[1:]:
    c = {col: n for n, col in Image.open(f).convert("RGB").getcolors(1 << 18)}
    grey = sum(n for (r, g, b), n in c.items() if r == g == b and abs(r - 190) < 8)
    assert grey > 1000, "%s: %d grey pixels" % (f, grey)
    assert (31, 119, 180) not in c, "%s: a class colour: per-class lines labelled" % f
PYEOF
}

@test "--plots makes DIR as mkdir -p before reading anything; a bad input leaves it empty" {
	mkdir lab
	echo "0 0.5 0.5 0.4 0.4" > lab/a.txt
	run -1 --separate-stderr evaluate-map --labels lab --plots a/b/c nothere.jsonl
	one_line_error "nothere.jsonl"
	[ -d a/b/c ] && [ -z "$(ls -A a/b/c)" ]
	# an existing file in the way
	: > plain
	det a 0 30 30 40 40 0.9 > d.jsonl
	run -1 --separate-stderr evaluate-map --labels lab --plots plain/x d.jsonl
	one_line_error "plain"
}

@test "drawing fails: exit 1, one line, no report, no file in DIR" {
	mkdir lab
	echo "0 0.5 0.5 0.4 0.4" > lab/a.txt
	det a 0 30 30 40 40 0.9 > d.jsonl
	# gnuplot missing: found out before any work, and DIR is not made
	run -1 --separate-stderr env PATH=/nonexistent "$BUILD_DIR/bin/evaluate-map" --labels lab d.jsonl --plots out
	one_line_error "plot-map: gnuplot not found"
	[ ! -e out ]
	# plot-map failing while it draws: the CSV files are not left either
	printf '#!/bin/sh\n[ "$1" = --check ] && exit 0\necho "plot-map: out of ink" >&2\nexit 1\n' > fail.sh
	chmod +x fail.sh
	run -1 --separate-stderr env CNNKIT_PLOT_MAP="$PWD/fail.sh" evaluate-map --labels lab d.jsonl --plots out
	one_line_error "plot-map: out of ink"
	[ -d out ] && [ -z "$(ls -A out)" ]
	run -1 --separate-stderr env CNNKIT_PLOT_MAP="$PWD/nothere" evaluate-map --labels lab d.jsonl --plots out
	one_line_error "nothere (CNNKIT_PLOT_MAP)"
}

@test "plot-map alone redraws from the CSV files, and refuses a damaged one" {
	mkdir lab
	echo "0 0.5 0.5 0.4 0.4" > lab/a.txt
	det a 0 30 30 40 40 0.9 > d.jsonl
	evaluate-map --labels lab d.jsonl --plots out > /dev/null
	run -0 --separate-stderr "$TOP/scripts/plot-map" -o again out
	pngs_ok again
	[ "$(ls again | LC_ALL=C sort | tr '\n' ' ')" = "F1_curve.png PR_curve.png P_curve.png R_curve.png confusion_matrix.png " ]
	head -n 500 out/F1_curve.csv > out/F1_cut && mv out/F1_cut out/F1_curve.csv
	run -1 --separate-stderr "$TOP/scripts/plot-map" -o cut out
	[[ "$stderr" == "plot-map: out/F1_curve.csv: 499 rows, want 1000 (truncated?)" ]]
	[ -z "$(ls -A cut)" ]
	run -0 "$TOP/scripts/plot-map" --check
	run -2 --separate-stderr "$TOP/scripts/plot-map" --bogus
}

@test "installed layout: plot-map next to plot-miou in share/cnnkit, where evaluate-map finds it" {
	make -s -C "$TOP" -n install BUILD="$BUILD_DIR" PREFIX=/p > make.out
	grep -E '^install -m 755 .*scripts/plot-miou .*scripts/plot-map .*/p/share/cnnkit/$' make.out
	mkdir -p p/bin p/share/cnnkit lab
	cp "$BUILD_DIR/bin/evaluate-map" p/bin/
	cp "$TOP/scripts/plot-map" p/share/cnnkit/
	echo "0 0.5 0.5 0.4 0.4" > lab/a.txt
	det a 0 30 30 40 40 0.9 > d.jsonl
	run -0 --separate-stderr p/bin/evaluate-map --labels lab d.jsonl --plots out
	pngs_ok out
	# without the script beside it (and not in a build tree), the error says where it looked
	rm p/share/cnnkit/plot-map
	run -1 --separate-stderr p/bin/evaluate-map --labels lab d.jsonl --plots out2
	one_line_error "plot-map: not found in"
	[ ! -e out2 ]
}

@test "--help names --plots; the man page documents it" {
	run -0 evaluate-map --help
	assert_output --partial "--plots OUT"
	grep -q '^\.BI \\-\\-plots " OUT"' "$TOP/man/man1/evaluate-map.1"
}
