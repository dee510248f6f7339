#!/usr/bin/env bats
# Whole-data-set evaluation: evaluate-miou --list over a VOC-style list, against the pair mode,
# against shards merged, against NumPy (scripts/ref/miou-ref.py, miou-list-ref.py); the
# experiment makefile, the GNU parallel shard script and the gnuplot charts end to end on a
# small DeepLabV3+ model.

load helpers/common
bats_require_minimum_version 1.5.0

setup_file() {
	load helpers/common
	# the synthetic mask set of evaluate-miou.bats (same cache)
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
	# a DeepLabV3+ MobileNetV2 with a 64x64 input: a network pass takes milliseconds
	export MODEL="$REF_DIR/miou-list/model.w"
	if [ ! -f "$MODEL" ]; then
		mkdir -p "$REF_DIR/miou-list"
		"$PY" "$TOP/scripts/ref/make-deeplab-ckpt.py" --backbone mobilenet --downsample 16 -n 21 \
			--seed 7 --pcs 2 --spread 2 --calib-size 64 -o "$REF_DIR/miou-list/ckpt.pth" >&2
		weightconv --downsample 16 --size 64x64 "$REF_DIR/miou-list/ckpt.pth" -o "$MODEL.tmp" >&2
		mv "$MODEL.tmp" "$MODEL"
	fi
	# a small data set: 5 real photos shrunk to 64-96 px, blocky random labels with 255 borders
	export DATA="$BATS_FILE_TMPDIR/data"
	mkdir -p "$DATA/img" "$DATA/gt"
	"$PY" - "$DATA" <<'EOF'
import sys
import numpy as np
from PIL import Image
d = sys.argv[1]
rng = np.random.default_rng(5)
names = ["dog", "horses", "person", "eagle", "kite"]
for i, p in enumerate(names):
    w, h = 96 - 8 * i, 64 + 4 * i
    im = Image.open("/usr/share/darknet/data/%s.jpg" % p).convert("RGB")
    im.resize((w, h), Image.BILINEAR).save("%s/img/%s.jpg" % (d, p), quality=90)
    g = rng.integers(0, 21, size=(h // 8 + 1, w // 8 + 1)).astype(np.uint8)
    g = np.repeat(np.repeat(g, 8, 0), 8, 1)[:h, :w]
    g[:2, :] = 255
    Image.fromarray(g, "L").save("%s/gt/%s.png" % (d, p))
open(d + "/val.txt", "w").write("".join(n + "\n" for n in names))
EOF
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# names: the list of the synthetic set (000 ... 011), from its pairs file
names() {
	sed 's|^pred/\([^ ]*\)\.png .*|\1|' "$SET/pairs.txt"
}

# one_line_error NEEDLE: exit 1, no output, one line on stderr naming NEEDLE
one_line_error() {
	[ "$status" -eq 1 ] || { echo "status $status, want 1"; return 1; }
	[ -z "$output" ] || { echo "stdout: $output"; return 1; }
	[ "${#stderr_lines[@]}" -eq 1 ] || { echo "stderr: $stderr"; return 1; }
	[[ "$stderr" == "evaluate-miou: "*"$1"* ]] || { echo "stderr: $stderr, want $1"; return 1; }
}

# is_png FILE W H: the PNG signature, and `file` reads the size
is_png() {
	[ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo "$1: no PNG signature"; return 1; }
	file "$1" | grep -q "PNG image data, $2 x $3" || { file "$1"; return 1; }
}

@test "--list equals --pairs on the same masks, in every report format and the state" {
	names > val.txt
	[ "$(wc -l < val.txt)" -eq 12 ]
	for fmt in --json --csv --upstream "" "--json --nan-absent"; do
		(cd "$SET" && evaluate-miou -n 21 --pairs pairs.txt $fmt) > pairs.out
		evaluate-miou -n 21 --list val.txt --gt-dir "$SET/gt" --pred-dir "$SET/pred" $fmt > list.out
		cmp pairs.out list.out
	done
	(cd "$SET" && evaluate-miou -n 21 --pairs pairs.txt --save-state -) > pairs.state
	evaluate-miou -n 21 --list val.txt --gt-dir "$SET/gt" --pred-dir "$SET/pred" --save-state list.state > /dev/null
	cmp pairs.state list.state
	grep -qx 'images 12' list.state
}

@test "list syntax: CRLF, blank lines, comments, spaces, extensions with or without a dot, stdin" {
	evaluate-miou -n 21 --list <(names) --gt-dir "$SET/gt" --pred-dir "$SET/pred" --json > want.json
	{ echo '# the validation split'; echo; names | sed 's/^/  /; s/$/ \r/'; echo; } > messy.txt
	evaluate-miou -n 21 --list messy.txt --gt-dir "$SET/gt/" --pred-dir "$SET/pred" --gt-ext .png --pred-ext png --json > got.json
	cmp want.json got.json
	names | evaluate-miou -n 21 --list - --gt-dir "$SET/gt" --pred-dir "$SET/pred" --json > stdin.json
	cmp want.json stdin.json
	# other extensions: PGM predictions, labels named in full with an empty extension
	mkdir pgm
	for n in 000 001 002; do
		"$PY" -c 'import sys, numpy; from PIL import Image; Image.fromarray(numpy.array(Image.open(sys.argv[1]))).save(sys.argv[2])' "$SET/pred/$n.png" "pgm/$n.pgm"
	done
	printf '%s\n' 000 001 002 > three.txt
	evaluate-miou -n 21 --list three.txt --gt-dir "$SET/gt" --pred-dir "$SET/pred" --json > png.json
	evaluate-miou -n 21 --list three.txt --gt-dir "$SET/gt" --pred-dir pgm --pred-ext pgm --json > pgm.json
	cmp png.json pgm.json
	sed 's/$/.png/' three.txt > full.txt
	evaluate-miou -n 21 --list full.txt --gt-dir "$SET/gt" --gt-ext '' --pred-dir "$SET/pred" --pred-ext '' --json > full.json
	cmp png.json full.json
}

@test "the list split in 3 with GNU parallel, states merged: the same JSON bytes" {
	names > val.txt
	evaluate-miou -n 21 --list val.txt --gt-dir "$SET/gt" --pred-dir "$SET/pred" --json > single.json
	run -0 --separate-stderr parallel --pipe -N 4 -j 3 evaluate-miou -q -n 21 --list - \
		--gt-dir "$SET/gt" --pred-dir "$SET/pred" --save-state 'shard{#}.state' < val.txt
	[ "$(ls shard*.state | wc -l)" -eq 3 ]
	for s in shard*.state; do grep -qx 'images 4' "$s"; done
	evaluate-miou --merge shard*.state --json > merged.json
	cmp single.json merged.json
	jq -e '.images == 12' merged.json
}

@test "--confusion-matrix writes upstream's confusion_matrix.csv, equal to NumPy's" {
	names > val.txt
	run -0 --separate-stderr evaluate-miou -n 21 --list val.txt --gt-dir "$SET/gt" \
		--pred-dir "$SET/pred" --confusion-matrix cm.csv
	cmp cm.csv "$SET/confusion_matrix.csv"
	[ "$(grep -c $'\r$' cm.csv)" -eq 22 ]
	[ "$(head -c 2 cm.csv)" = " ," ]
	# the NumPy run over the list itself, and --confusion is the same option
	"$PY" "$TOP/scripts/ref/miou-list-ref.py" val.txt "$SET/gt" "$SET/pred" 21 ref
	evaluate-miou -n 21 --list val.txt --gt-dir "$SET/gt" --pred-dir "$SET/pred" --confusion cm2.csv > /dev/null
	cmp cm2.csv ref/confusion_matrix.csv
}

@test "a missing prediction or label is one line naming the file and its list line; no outputs" {
	{ names; echo nothere; } > val.txt
	run -1 --separate-stderr evaluate-miou -n 21 --list val.txt --gt-dir "$SET/gt" --pred-dir "$SET/pred" \
		--save-state x.state --confusion-matrix x.csv
	one_line_error "$SET/pred/nothere.png: No such file or directory (prediction of val.txt, line 13)"
	assert_file_not_exists x.state
	assert_file_not_exists x.csv
	mkdir pred
	cp "$SET"/pred/00[0-2].png pred/
	cp "$SET/pred/001.png" pred/nolabel.png
	printf '%s\n' 000 001 nolabel 002 > val.txt
	run -1 --separate-stderr evaluate-miou -n 21 --list val.txt --gt-dir "$SET/gt" --pred-dir pred
	one_line_error "$SET/gt/nolabel.png: No such file or directory (ground truth of val.txt, line 3)"
	run -1 --separate-stderr evaluate-miou -n 21 --list nolist.txt --gt-dir "$SET/gt" --pred-dir pred
	one_line_error "nolist.txt"
	printf '\n# nothing\n' > empty.txt
	run -1 --separate-stderr evaluate-miou -n 21 --list empty.txt --gt-dir "$SET/gt" --pred-dir pred
	one_line_error "empty.txt: no image names"
	head -c 100 "$SET/gt/000.png" > bin.txt
	run -1 --separate-stderr evaluate-miou -n 21 --list bin.txt --gt-dir "$SET/gt" --pred-dir pred
	one_line_error "bin.txt: binary data"
}

@test "a prediction of the wrong size in a list is one line naming both files" {
	mkdir pred
	cp "$SET/pred/000.png" pred/000.png
	cp "$SET/pred/000.png" pred/001.png
	printf '000\n001\n' > val.txt
	run -1 --separate-stderr evaluate-miou -n 21 --list val.txt --gt-dir "$SET/gt" --pred-dir pred
	one_line_error "pred/001.png: prediction is "
	[[ "$stderr" == *"but its label $SET/gt/001.png is "* ]]
}

@test "no progress bar when standard error is not a terminal; a bar on a terminal unless -q" {
	names > val.txt
	run -0 --separate-stderr evaluate-miou -n 21 --list val.txt --gt-dir "$SET/gt" --pred-dir "$SET/pred"
	[ -z "$stderr" ]
	evaluate-miou -n 21 --list val.txt --gt-dir "$SET/gt" --pred-dir "$SET/pred" 2>&1 >/dev/null | cmp /dev/null -
	command -v script > /dev/null || skip "no script(1) to make a terminal"
	# script gives the program a terminal; its stdout goes to a file, the bar stays on the tty
	script -qec "evaluate-miou -n 21 --list val.txt --gt-dir '$SET/gt' --pred-dir '$SET/pred' > table.txt" /dev/null > tty.txt
	grep -q '12/12 images' tty.txt
	grep -q '\[##############################\]' tty.txt
	grep -q '^mIoU ' table.txt
	script -qec "evaluate-miou -q -n 21 --list val.txt --gt-dir '$SET/gt' --pred-dir '$SET/pred' > table.txt" /dev/null > quiet.txt
	[ "$(grep -c images quiet.txt)" -eq 0 ]
}

@test "usage: --list needs both folders; the folders need --list" {
	run -2 --separate-stderr evaluate-miou -n 21 --list val.txt --gt-dir gt
	[[ "$stderr" == *"--list needs --gt-dir DIR and --pred-dir DIR"* ]]
	run -2 --separate-stderr evaluate-miou -n 21 --pairs p.txt --gt-dir gt
	run -2 --separate-stderr evaluate-miou -n 21 --list v.txt --pairs p.txt --gt-dir g --pred-dir p
	run -2 --separate-stderr evaluate-miou -n 21 --list v.txt --gt-dir g --pred-dir p extra.png
	run -2 --separate-stderr evaluate-miou --list v.txt --gt-dir g --pred-dir p
	run -0 --separate-stderr evaluate-miou --help
	assert_output --partial "--list NAMES --gt-dir DIR --pred-dir DIR"
}

@test "plot-miou draws the four charts as 640x480 PNGs, also with NaN classes" {
	(cd "$SET" && evaluate-miou -n 21 --pairs pairs.txt --csv) > r.csv
	run -0 --separate-stderr "$TOP/scripts/plot-miou" -o charts r.csv
	for f in mIoU mPA Recall Precision; do is_png "charts/$f.png" 640 480; done
	[ "$(ls -A charts | wc -l)" -eq 4 ]
	# --nan-absent leaves empty fields; a name with a comma is quoted
	(cd "$SET" && evaluate-miou -n 21 --pairs pairs.txt --csv --nan-absent) | sed 's/^cat,/"cat, the animal",/' |
		"$TOP/scripts/plot-miou" -o nan
	for f in mIoU mPA Recall Precision; do is_png "nan/$f.png" 640 480; done
	# the bars differ with the data: the two mIoU charts are not the same picture
	run -1 cmp -s charts/mIoU.png nan/mIoU.png
}

@test "plot-miou refuses what is not a complete CSV report, and leaves no file" {
	(cd "$SET" && evaluate-miou -n 21 --pairs pairs.txt --json) > r.json
	run -1 --separate-stderr "$TOP/scripts/plot-miou" -o out r.json
	[[ "$stderr" == "plot-miou: r.json: not an evaluate-miou --csv report"* ]]
	(cd "$SET" && evaluate-miou -n 21 --pairs pairs.txt --csv) | head -n 10 > cut.csv
	run -1 --separate-stderr "$TOP/scripts/plot-miou" -o out cut.csv
	[[ "$stderr" == *"cut.csv: no mean and accuracy rows"* ]]
	[ -z "$(ls -A out)" ]
	run -2 --separate-stderr "$TOP/scripts/plot-miou" --bogus
}

@test "experiment.mk: infer-seg per image under make -j2, evaluation, charts; equal to NumPy" {
	local bin="$BUILD_DIR/bin"
	run -0 --separate-stderr make -s -f "$TOP/scripts/experiment.mk" -j2 LIST="$DATA/val.txt" \
		IMAGES="$DATA/img" GT="$DATA/gt" MODEL="$MODEL" OUT=out BIN="$bin"
	# the table is printed at the end
	assert_line --index 0 --regexp '^class +IoU +Recall'
	assert_line --index 22 --regexp '^mIoU .*\(5 images, [0-9]+ pixels\)$'
	# each mask is what one infer-seg run gives
	infer-seg -m "$MODEL" -o horses.png "$DATA/img/horses.jpg"
	cmp horses.png out/pred/horses.png
	[ "$(ls out/pred | wc -l)" -eq 5 ]
	# the matrix and upstream's lines equal NumPy's on the same masks
	"$PY" "$TOP/scripts/ref/miou-list-ref.py" "$DATA/val.txt" "$DATA/gt" out/pred 21 ref
	cmp out/confusion_matrix.csv ref/confusion_matrix.csv
	cmp out/upstream.txt ref/expected-upstream.txt
	# the CSV report is the pair mode's on the same files
	sed 's|.*|out/pred/&.png '"$DATA"'/gt/&.png|' "$DATA/val.txt" > pairs.txt
	evaluate-miou -n 21 --pairs pairs.txt --csv | cmp - out/miou.csv
	for f in mIoU mPA Recall Precision; do is_png "out/$f.png" 640 480; done
	# nothing is left to do; a changed image is segmented again, alone
	run -0 make -n -f "$TOP/scripts/experiment.mk" LIST="$DATA/val.txt" IMAGES="$DATA/img" \
		GT="$DATA/gt" MODEL="$MODEL" OUT=out BIN="$bin" predict evaluate plots
	refute_output --partial infer-seg
	refute_output --partial evaluate-miou
	touch -d '+1 minute' "$DATA/img/dog.jpg"
	run -0 make -n -f "$TOP/scripts/experiment.mk" LIST="$DATA/val.txt" IMAGES="$DATA/img" \
		GT="$DATA/gt" MODEL="$MODEL" OUT=out BIN="$bin" predict
	[ "$(grep -c infer-seg <<< "$output")" -eq 1 ]
	assert_output --partial "dog.jpg"
	# no temporary files left
	[ -z "$(find out \( -name '*.tmp' -o -name '.*' \) -type f)" ]
}

@test "experiment.mk: a missing label stops make with the name, no report" {
	cp -r "$DATA" data
	rm data/gt/eagle.png
	run -2 --separate-stderr make -s -f "$TOP/scripts/experiment.mk" LIST=data/val.txt \
		IMAGES=data/img GT=data/gt MODEL="$MODEL" OUT=out BIN="$BUILD_DIR/bin"
	[[ "$stderr" == *"data/gt/eagle.png"* ]]
	assert_file_not_exists out/miou.csv
	assert_file_not_exists out/miou.state
	run -2 --separate-stderr make -f "$TOP/scripts/experiment.mk" IMAGES=data/img
	[[ "$stderr" == *"LIST="* ]]
}

@test "shard-eval: 3 shards through GNU parallel, merged, equal the single run byte for byte" {
	make -s -f "$TOP/scripts/experiment.mk" -j2 LIST="$DATA/val.txt" IMAGES="$DATA/img" \
		GT="$DATA/gt" MODEL="$MODEL" OUT=out BIN="$BUILD_DIR/bin" evaluate
	run -0 --separate-stderr "$TOP/scripts/shard-eval" -m "$MODEL" --list "$DATA/val.txt" \
		--images "$DATA/img" --gt-dir "$DATA/gt" --shards 3 -j 2 --state merged.state -- --json
	echo "$output" > sharded.json
	evaluate-miou --merge out/miou.state --json | cmp - sharded.json
	cmp merged.state out/miou.state
	jq -e '.images == 5' sharded.json
	# a shard that fails stops the run with the shard's message and exit 1
	{ cat "$DATA/val.txt"; echo nothere; } > bad.txt
	run -1 --separate-stderr "$TOP/scripts/shard-eval" -m "$MODEL" --list bad.txt \
		--images "$DATA/img" --gt-dir "$DATA/gt" --shards 2 --state bad.state
	[[ "$stderr" == *"nothere.jpg"* ]]
	[[ "$stderr" == *"shard-eval: a shard failed"* ]]
	assert_file_not_exists bad.state
	[ -z "$output" ]
}

@test "man page documents the list options, the scripts and the parallel recipe" {
	local man="$TOP/man/man1/evaluate-miou.1"
	for o in list gt-dir pred-dir gt-ext pred-ext confusion-matrix; do
		grep -qF -- "\\-\\-${o//-/\\-}" "$man" || { echo "missing --$o"; return 1; }
	done
	grep -qF 'scripts/experiment.mk' "$man"
	grep -qF 'scripts/plot\-miou' "$man"
	grep -qF 'scripts/shard\-eval' "$man"
	run -0 --separate-stderr groff -man -ww -z "$man"
	[ -z "$stderr" ]
}
