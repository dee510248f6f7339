#!/usr/bin/env bats
# voc-annotate against scripts/ref/voc-annotation-ref.py (upstream voc_annotation.py's algorithm
# with Python's own random module) on synthetic trees from scripts/ref/make-voc-tree.py.

load helpers/common
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# tree N [ARGS...]: a fresh VOCdevkit with N good labels in ./VOCdevkit
tree() {
	rm -rf VOCdevkit
	"$PY" "$TOP/scripts/ref/make-voc-tree.py" VOCdevkit "$@"
}

LISTS=VOCdevkit/VOC2007/ImageSets/Segmentation

# same_as_ref [OPTIONS...]: our lists (default place) equal the oracle's for the same options
same_as_ref() {
	local o
	rm -rf ref && mkdir ref
	local ref_opts=()
	for o in "$@"; do ref_opts+=("$o"); done
	"$PY" "$TOP/scripts/ref/voc-annotation-ref.py" VOCdevkit --out ref "${ref_opts[@]}"
	run -0 --separate-stderr voc-annotate -q "$@" VOCdevkit
	for f in trainval train val test; do
		cmp "ref/$f.txt" "$LISTS/$f.txt"
	done
}

@test "--help prints usage on stdout and exits 0; bad usage exits 2" {
	run -0 --separate-stderr voc-annotate --help
	assert_output --partial 'Usage: voc-annotate'
	run -0 voc-annotate --version
	assert_output --partial 'cnnkit'
	run -2 --separate-stderr voc-annotate --trainval 1.5
	[[ $stderr == 'voc-annotate: --trainval must be in [0, 1]'* ]]
	run -2 --separate-stderr voc-annotate --seed x
	run -2 --separate-stderr voc-annotate -n 0
	run -2 --separate-stderr voc-annotate a b
	run -2 --separate-stderr voc-annotate --bogus
	run -2 --separate-stderr voc-annotate --csv --json
	assert_equal "${stderr_lines[0]}" "voc-annotate: --csv and --json exclude each other"
}

@test "an unknown option is one line naming the closest known one; a missing value is named" {
	run -2 --separate-stderr voc-annotate --trianval 0.5
	[ -z "$output" ]
	assert_equal "$stderr" "voc-annotate: unknown option '--trianval' (did you mean --trainval?)"
	run -2 --separate-stderr voc-annotate --sed 3
	assert_equal "$stderr" "voc-annotate: unknown option '--sed' (did you mean --seed?)"
	run -2 --separate-stderr voc-annotate -sort
	assert_equal "$stderr" "voc-annotate: unknown option '-sort' (did you mean --sort?)"
	run -2 --separate-stderr voc-annotate --seed
	assert_equal "$stderr" "voc-annotate: option '--seed' needs a value"
	run -2 --separate-stderr voc-annotate -q -n
	assert_equal "$stderr" "voc-annotate: option '-n' needs a value"
	run -2 --separate-stderr voc-annotate --sort=yes
	assert_equal "$stderr" "voc-annotate: option '--sort' takes no value"
	run -2 --separate-stderr voc-annotate --t 0.5
	assert_equal "$stderr" "voc-annotate: option '--t' is ambiguous (--trainval, --train)"
}

@test "the default split of 10 labels is byte-identical to the Python script" {
	tree 10 --seed 3
	same_as_ref
	# trainval = train + val, 9 and 1 (int(10*0.9)), test empty
	[ "$(wc -l < $LISTS/train.txt)" -eq 9 ]
	[ "$(wc -l < $LISTS/val.txt)" -eq 1 ]
	[ ! -s $LISTS/test.txt ]
	diff <(sort $LISTS/trainval.txt) <(sort $LISTS/train.txt $LISTS/val.txt)
	# the lines are in folder order, without .png
	diff $LISTS/trainval.txt <(ls -U VOCdevkit/VOC2007/SegmentationClass | sed -n 's/\.png$//p')
}

@test "lists equal the Python script's for several sizes and seeds (sample's pool branch)" {
	for spec in "1 0" "2 5" "21 1" "22 0" "57 12" "150 4"; do
		set -- $spec
		tree "$1" --seed "$(($1 + 7))"
		same_as_ref --seed "$2"
		[ "$(wc -l < $LISTS/trainval.txt)" -eq "$1" ]
	done
}

@test "lists equal the Python script's when sample takes its set branch (n > 21, small k)" {
	# n=30, --trainval 0.1: sample(range(30), 3) uses CPython's set branch
	tree 30 --seed 2
	same_as_ref --trainval 0.1 --seed 0
	[ "$(wc -l < $LISTS/trainval.txt)" -eq 3 ]
	[ "$(wc -l < $LISTS/test.txt)" -eq 27 ]
	# n=86, --trainval 0.25: k=21, set size 21+4**3 = 85 < 86, the largest k of that branch,
	# where set and pool draws part ways (a pool-only version fails here)
	tree 86 --seed 5
	same_as_ref --trainval 0.25 --seed 0
	same_as_ref --trainval 0.25 --train 0.5 --seed 99
	[ "$(wc -l < $LISTS/trainval.txt)" -eq 21 ]
	[ "$(wc -l < $LISTS/train.txt)" -eq 10 ]
	# n=120, k=6 (set) and a seed of two 32-bit words
	tree 120 --seed 5
	same_as_ref --trainval 0.05 --train 0.5 --seed 99
	same_as_ref --trainval 0.7 --train 0.6 --seed 4294967296
	[ "$(wc -l < $LISTS/test.txt)" -eq 36 ]
}

@test "--sort: sorted names, the same as the Python script with sorted names" {
	tree 40 --seed 8
	same_as_ref --sort --seed 3
	sort -c $LISTS/trainval.txt
	# independent of folder order: a copy made in reverse order gives the same lists
	mkdir -p copy/VOC2007/SegmentationClass copy/VOC2007/JPEGImages
	cp VOCdevkit/VOC2007/JPEGImages/* copy/VOC2007/JPEGImages/
	for f in $(ls VOCdevkit/VOC2007/SegmentationClass | sort -r); do
		cp "VOCdevkit/VOC2007/SegmentationClass/$f" copy/VOC2007/SegmentationClass/
	done
	run -0 --separate-stderr voc-annotate -q --sort --seed 3 -o copylists copy
	for f in trainval train val test; do
		cmp "copylists/$f.txt" "$LISTS/$f.txt"
	done
}

@test "the histogram equals a NumPy count; the upstream table is byte for byte" {
	tree 60 --seed 11
	run -0 --separate-stderr voc-annotate -q --csv VOCdevkit
	"$PY" "$TOP/scripts/ref/voc-annotation-ref.py" VOCdevkit --out "$BATS_TEST_TMPDIR" --csv > numpy.csv
	diff <(printf '%s\n' "$output" | cut -d, -f1,3,4) numpy.csv
	[ "$(wc -l < numpy.csv)" -gt 5 ]
	run -0 --separate-stderr voc-annotate -q VOCdevkit
	"$PY" "$TOP/scripts/ref/voc-annotation-ref.py" VOCdevkit --out "$BATS_TEST_TMPDIR" --table > table.txt
	diff <(printf '%s\n' "$output" | sed '/^$/,$d') table.txt
	# the clear table names the VOC classes
	assert_output --regexp '255 +ignore'
	assert_output --regexp '  0  background '
	# --json: the same numbers as --csv
	run -0 --separate-stderr voc-annotate -q --json VOCdevkit
	diff <(jq -r '.values[] | "\(.value),\(.class),\(.pixels),\(.labels)"' <<< "$output") \
		<(voc-annotate -q --csv VOCdevkit | tail -n +2)
	[ "$(jq .num_classes <<< "$output")" -eq 21 ]
}

@test "4-bit palette labels are read as indices, not colours" {
	tree 30 --seed 6
	"$PY" -c '
import sys, glob
n = sum(1 for f in glob.glob("VOCdevkit/VOC2007/SegmentationClass/*.png")
        if open(f, "rb").read(25)[24] == 4)
sys.exit(0 if n > 0 else 1)'
	run -0 --separate-stderr voc-annotate -q --csv VOCdevkit
	"$PY" "$TOP/scripts/ref/voc-annotation-ref.py" VOCdevkit --out "$BATS_TEST_TMPDIR" --csv > numpy.csv
	diff <(printf '%s\n' "$output" | cut -d, -f1,3,4) numpy.csv
}

@test "every malformed label kind is named with its reason; exit 1 and no lists written" {
	tree 12 --seed 4 --bad rgb --bad rgba --bad gray16 --bad grayalpha --bad binary --bad range \
		--bad noimage --bad truncated --bad notpng --bad empty --bad jpeg
	echo old > $LISTS/trainval.txt
	run -1 --separate-stderr voc-annotate VOCdevkit
	local seg=VOCdevkit/VOC2007/SegmentationClass
	declare -A why=(
		[rgb]='label is RGB' [rgba]='label is RGBA' [gray16]='16-bit' [grayalpha]='gray+alpha'
		[binary]='0/255 binary mask' [range]='values out of range for 21 classes (0..20, 255 = ignore): 24 (1 px)'
		[noimage]="no matching image VOCdevkit/VOC2007/JPEGImages/bad_noimage.jpg"
		[truncated]='truncated' [notpng]='not a PNG' [empty]='empty file' [jpeg]='label is a JPEG'
	)
	local kind line
	for kind in "${!why[@]}"; do
		line=$(printf '%s\n' "$stderr" | grep -F "voc-annotate: $seg/bad_$kind.png: ") || {
			echo "bad_$kind not reported"; false; }
		[[ $line == *"${why[$kind]}"* ]] || { echo "bad_$kind: $line"; false; }
	done
	# one line per problem, no good label named, then the summary
	[ "$(printf '%s\n' "$stderr" | grep -c "^voc-annotate: $seg/bad_")" -eq 11 ]
	[ "$(printf '%s\n' "$stderr" | grep -c "$seg/2007_")" -eq 0 ]
	[[ ${stderr_lines[-1]} == 'voc-annotate: 11 problems in 11 of 23 labels; no lists written' ]]
	# nothing written: the old list stays, no other list, no temporary file
	[ "$(cat $LISTS/trainval.txt)" = old ]
	[ "$(ls $LISTS)" = trainval.txt ]
}

@test "-n: values at or above the class count are out of range" {
	tree 8 --seed 9
	run -1 --separate-stderr voc-annotate -n 2 VOCdevkit
	assert_output --partial '|             255 |'
	[[ $stderr == *'values out of range for 2 classes (0..1, 255 = ignore):'* ]]
	run -0 --separate-stderr voc-annotate -q -n 256 VOCdevkit
}

@test "-m MODEL.w: the model's class count and names in the histogram; -n that disagrees is one line" {
	local m=$TOP/models/deeplab-shapes.w
	tree 12 --seed 3 --classes 4
	run -0 --separate-stderr voc-annotate -q -m "$m" --csv VOCdevkit
	assert_line --index 0 'value,class,pixels,labels'
	assert_line --index 1 --regexp '^0,background,[0-9]+,12$'
	# values 1..3 are the model's disc, rectangle, triangle; none is out of range
	assert_output --regexp '(^|'$'\n'')[1-3],(disc|rectangle|triangle),'
	refute_output --partial 'aeroplane'
	refute_output --partial 'out of range'
	run -0 --separate-stderr voc-annotate -q --model "$m" --json VOCdevkit
	[ "$(jq .num_classes <<< "$output")" -eq 4 ]
	assert_equal "$(jq -c '[.values[] | select(.value < 4) | .class] - ["background","disc","rectangle","triangle"]' <<< "$output")" '[]'
	run -0 --separate-stderr voc-annotate -q -m "$m" -n 4 VOCdevkit
	assert_output --regexp '  0  background '
	# without -m: 21 classes with VOC's names
	run -0 --separate-stderr voc-annotate -q --csv VOCdevkit
	assert_line --index 1 --regexp '^0,background,'
	assert_output --regexp '(^|'$'\n'')[1-3],(aeroplane|bicycle|bird),'
	# the model's 4 classes make a value of 5 out of range
	tree 12 --seed 3 --classes 8
	run -1 --separate-stderr voc-annotate -m "$m" VOCdevkit
	[[ $stderr == *'values out of range for 4 classes (0..3, 255 = ignore):'* ]]
	run -1 --separate-stderr voc-annotate -m "$m" -n 21 VOCdevkit
	[ -z "$output" ]
	assert_equal "$stderr" "voc-annotate: $m: the model has 4 classes, but -n 21"
	"$PY" -c 'import sys, torch; torch.save({"w": torch.zeros(2)}, sys.argv[1])' ck.pth
	run -1 --separate-stderr voc-annotate -m ck.pth VOCdevkit
	[ -z "$output" ]
	assert_equal "$stderr" "voc-annotate: ck.pth: a PyTorch checkpoint, not a .w model: convert it first with weightconv ck.pth -o MODEL.w"
	[ ! -e $LISTS/val.txt ]
}

@test "--no-check writes the lists of a tree with bad labels; -o picks the folder" {
	tree 25 --seed 5 --bad rgb --bad noimage --no-lists-dir
	run -0 --separate-stderr voc-annotate -q --no-check -o out/lists VOCdevkit
	[ -z "$output" ]
	rm -rf ref && mkdir ref
	"$PY" "$TOP/scripts/ref/voc-annotation-ref.py" VOCdevkit --out ref
	for f in trainval train val test; do
		cmp "ref/$f.txt" "out/lists/$f.txt"
	done
	# the default list folder is created when missing
	run -0 --separate-stderr voc-annotate --no-check VOCdevkit
	[[ $stderr == 'voc-annotate: 27 labels: train 24, val 3, test 0; lists in '* ]]
	cmp ref/val.txt $LISTS/val.txt
}

@test "a missing or empty label folder is an error naming it" {
	run -1 --separate-stderr voc-annotate nowhere
	[[ $stderr == 'voc-annotate: nowhere/VOC2007/SegmentationClass: No such file or directory' ]]
	mkdir -p empty/VOC2007/SegmentationClass
	touch empty/VOC2007/SegmentationClass/notes.txt
	run -1 --separate-stderr voc-annotate empty
	[[ $stderr == 'voc-annotate: empty/VOC2007/SegmentationClass: no .png labels' ]]
	[ ! -e empty/VOC2007/ImageSets ]
}

@test "the man page renders without warnings" {
	run -0 --separate-stderr groff -man -ww -z "$TOP/man/man1/voc-annotate.1"
	[ -z "$stderr" ]
}
