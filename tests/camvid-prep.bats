#!/usr/bin/env bats
# camvid-prep on synthetic CamVid trees (scripts/ref/make-camvid-tree.py) in both layouts,
# checked by a NumPy/PIL re-implementation (scripts/ref/camvid-ref.py), plus malformed inputs.

load helpers/common
bats_require_minimum_version 1.5.0

setup_file() {
	# The trees are cached per version of the script that makes them.
	local sum
	sum=$(cat "$TOP/scripts/ref/make-camvid-tree.py" | cksum | cut -d' ' -f1)
	export TREES="$REF_DIR/camvid-$sum"
	if [ ! -f "$TREES/done" ]; then
		rm -rf "$TREES.tmp"
		mkdir -p "$TREES.tmp"
		local g="$TOP/scripts/ref/make-camvid-tree.py"
		"$PY" "$g" original "$TREES.tmp/orig" --n 4 --size 48x36 --seed 1 >&2
		"$PY" "$g" original "$TREES.tmp/full" --n 6 --size 16x12 --seed 2 --full --lists 3,1,1 >&2
		"$PY" "$g" original "$TREES.tmp/unknown" --n 2 --size 16x12 --seed 3 --unknown 5,7 >&2
		"$PY" "$g" original "$TREES.tmp/r701" --n 701 --size 4x3 --seed 4 >&2
		"$PY" "$g" segnet "$TREES.tmp/segnet" --counts 5,2,3 --size 24x18 --seed 5 >&2
		"$PY" "$g" kaggle "$TREES.tmp/kaggle" --counts 3,2,1 --size 20x14 --seed 6 >&2
		touch "$TREES.tmp/done"
		rm -rf "$TREES"
		mv "$TREES.tmp" "$TREES"
	fi
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

ref() {
	"$PY" "$TOP/scripts/ref/camvid-ref.py" "$@"
}

# A copy of the 4-frame original tree with the given label_colors.txt text (printf format).
with_colors() {
	cp -r "$TREES/orig" src
	printf "$1" > src/label_colors.txt
}

# No output folder and no temporary folder left next to it.
assert_no_output() {
	assert_not_exist "$1"
	run -0 find . -maxdepth 1 -name ".$1.tmp*"
	assert_output ""
}

@test "--help prints usage on stdout and exits 0; --version names the toolkit" {
	run -0 --separate-stderr camvid-prep --help
	assert_output --partial "Usage: camvid-prep"
	assert_output --partial "-n, --num-classes"
	assert_output --partial "--size HxW"
	run -0 --separate-stderr camvid-prep --version
	assert_output --partial "cnnkit"
}

@test "bad usage exits 2 with a one-line reason" {
	run -2 --separate-stderr camvid-prep "$TREES/orig"
	assert_equal "${stderr_lines[0]}" "camvid-prep: give the output folder: -o OUT"
	run -2 --separate-stderr camvid-prep -o out
	run -2 --separate-stderr camvid-prep -n 12 -o out "$TREES/orig"
	run -2 --separate-stderr camvid-prep --size 10x0 -o out "$TREES/orig"
	run -2 --separate-stderr camvid-prep --size 10x10x3 -o out "$TREES/orig"
	run -2 --separate-stderr camvid-prep --images copy --size 10x10 -o out "$TREES/orig"
	run -2 --separate-stderr camvid-prep -n 32 -o out "$TREES/segnet"
	assert_equal "${stderr_lines[0]}" "camvid-prep: SegNet's CamVid has 11 classes: -n 32 needs colour labels"
	run -2 --separate-stderr camvid-prep --csv --json -o out "$TREES/orig"
	assert_equal "${stderr_lines[0]}" "camvid-prep: --csv and --json exclude each other"
	assert_not_exist out
}

@test "32 classes: colours -> indices -> colours gives back every label exactly" {
	run -0 --separate-stderr camvid-prep -q -n 32 -o out "$TREES/orig"
	run -0 ref roundtrip "$TREES/orig" out
	assert_output "ok roundtrip 4 labels"
	# names.txt is label_colors.txt's names in its order
	run -0 diff out/names.txt <(awk '{print $4}' "$TREES/orig/label_colors.txt")
	# the histogram covers every pixel: 4 labels of 48x36
	run -0 --separate-stderr camvid-prep -q -f --num-classes 32 -o out "$TREES/orig"
	total=$(awk 'NR > 1 {s += $(NF-1)} END {print s}' <<< "$output")
	assert_equal "$total" $((4 * 48 * 36))
	# Void is written as 255, so class 30 (Void) has no pixel
	assert_line --regexp '^30 +Void +0 +0\.000$'
}

@test "11 classes: the SegNet grouping equals the Python re-implementation" {
	run -0 --separate-stderr camvid-prep -q -o out "$TREES/orig"
	run -0 ref group11 "$TREES/orig" out
	assert_output "ok group11 4 labels"
	assert_equal "$(cat out/names.txt | tr '\n' ' ')" "Sky Building Pole Road Pavement Tree SignSymbol Fence Car Pedestrian Bicyclist "
	run -0 --separate-stderr camvid-prep -q --void-index -o out2 "$TREES/orig"
	run -0 ref group11 "$TREES/orig" out2 --void-index
	assert_equal "$(tail -n 1 out2/names.txt)" "Void"
	# the written labels differ from the 32-class ones: the grouping did something
	run -0 --separate-stderr camvid-prep -q --classes 32 -o out32 "$TREES/orig"
	# the old spelling works, with a note that -q does not silence
	assert_equal "$stderr" "camvid-prep: --classes is deprecated: use -n/--num-classes"
	run -1 cmp -s out/SegmentationClass/0001TP_000000.png out32/SegmentationClass/0001TP_000000.png
}

@test "resize: labels by PIL NEAREST (or OpenCV's), only class values, images bilinear" {
	# --size is height x width, as everywhere in cnnkit (camvid-ref.py takes PIL's WxH)
	run -0 --separate-stderr camvid-prep -q --size 22x30 --quality 100 -o pil "$TREES/orig"
	run -0 ref group11 "$TREES/orig" pil --size 30x22
	run -0 --separate-stderr camvid-prep -q --size 22x30 --nearest cv -o cv "$TREES/orig"
	run -0 ref group11 "$TREES/orig" cv --size 30x22 --cv
	run -1 cmp -s pil/SegmentationClass/0001TP_000000.png cv/SegmentationClass/0001TP_000000.png
	# only 0..10 and 255 in every resized label, and the size asked for
	run -0 "$PY" -c '
import glob, sys
import numpy as np
from PIL import Image
for f in glob.glob(sys.argv[1] + "/SegmentationClass/*.png"):
    im = Image.open(f)
    a = np.asarray(im)
    assert im.mode == "P" and im.size == (30, 22), (f, im.mode, im.size)
    bad = set(np.unique(a).tolist()) - set(range(11)) - {255}
    assert not bad, (f, bad)
print("ok")' pil
	assert_output "ok"
	# images: OpenCV INTER_LINEAR within JPEG error (quality 100, 4:2:0 chroma), and much
	# closer to it than to a nearest resize
	run -0 ref images "$TREES/orig" pil 30x22
	read -r mean max near <<< "$output"
	echo "bilinear mean $mean max $max, nearest mean $near"
	"$PY" -c "import sys; m, n = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not (m < 3 and n > 2 * m))" "$mean" "$near"
}

@test "--size HxW: height first; a portrait size (the old WxH order) draws a warning; N is NxN" {
	run -0 --separate-stderr camvid-prep --size 30x22 -o portrait "$TREES/orig"
	assert_equal "${stderr_lines[0]}" "camvid-prep: warning: --size 30x22 is height x width, so the output is portrait (22 wide, 30 high); earlier versions took WxH"
	run -0 "$PY" -c 'import sys; from PIL import Image; print(*Image.open(sys.argv[1]).size)' portrait/SegmentationClass/0001TP_000000.png
	assert_output "22 30"
	run -0 --separate-stderr camvid-prep -q --size 30x22 -o quiet "$TREES/orig"
	assert_equal "$stderr" ""
	run -0 --separate-stderr camvid-prep -q --size 24 -o square "$TREES/orig"
	run -0 "$PY" -c 'import sys; from PIL import Image; print(*Image.open(sys.argv[1]).size)' square/SegmentationClass/0001TP_000000.png
	assert_output "24 24"
}

@test "the histogram as --csv and --json carries the table's numbers" {
	run -0 --separate-stderr camvid-prep -q -o t "$TREES/orig"
	local table=$output
	run -0 --separate-stderr camvid-prep -q --csv -o c "$TREES/orig"
	assert_line --index 0 "id,class,pixels,percent"
	assert_equal "$(tail -n +2 <<< "$output" | tr ',' ' ')" "$(tail -n +2 <<< "$table" | awk '{print $1, $2, $3, $4}')"
	run -0 --separate-stderr camvid-prep -q --json -o j "$TREES/orig"
	assert_equal "$(jq -r '.classes[] | "\(.id) \(.class) \(.pixels)"' <<< "$output")" \
		"$(tail -n +2 <<< "$table" | awk '{print $1, $2, $3}')"
	assert_equal "$(jq .pixels <<< "$output")" $((4 * 48 * 36))
}

@test "SegNet layout: lists hold each split's frames, 11 becomes 255" {
	run -0 --separate-stderr camvid-prep -o out "$TREES/segnet"
	assert_equal "${stderr_lines[0]}" "camvid-prep: out: 10 images (train 5, val 2, test 3), 11 classes"
	run -0 ref segnet "$TREES/segnet" out
	assert_output "ok segnet 10 labels"
	assert_equal "$(wc -l < out/ImageSets/Segmentation/train.txt)" 5
	assert_equal "$(wc -l < out/ImageSets/Segmentation/val.txt)" 2
	assert_equal "$(wc -l < out/ImageSets/Segmentation/test.txt)" 3
	assert_equal "$(cat out/ImageSets/Segmentation/train.txt out/ImageSets/Segmentation/val.txt)" \
		"$(cat out/ImageSets/Segmentation/trainval.txt)"
	# every listed frame has its label and its JPEG image
	for n in $(cat out/ImageSets/Segmentation/{train,val,test}.txt); do
		assert_file_exist "out/SegmentationClass/$n.png"
		assert_file_exist "out/JPEGImages/$n.jpg"
	done
	# --images copy keeps the PNG files byte for byte
	run -0 --separate-stderr camvid-prep -q --images copy -o copy "$TREES/segnet"
	n=$(head -n 1 copy/ImageSets/Segmentation/val.txt)
	run -0 cmp "copy/JPEGImages/$n.png" "$TREES/segnet/val/$n.png"
}

@test "Kaggle layout: class_dict.csv, *_labels folders, both class sets" {
	run -0 --separate-stderr camvid-prep -n 32 -o out32 "$TREES/kaggle"
	assert_equal "${stderr_lines[0]}" "camvid-prep: out32: 6 images (train 3, val 2, test 1), 32 classes"
	run -0 ref roundtrip "$TREES/kaggle" out32
	assert_output "ok roundtrip 6 labels"
	run -0 --separate-stderr camvid-prep -q -o out11 "$TREES/kaggle"
	run -0 ref group11 "$TREES/kaggle" out11
	assert_equal "$(cat out11/ImageSets/Segmentation/val.txt)" "$(ls "$TREES/kaggle/val" | sed 's/\.png$//')"
	# a malformed class_dict.csv line is named
	cp -r "$TREES/kaggle" k
	printf 'name,r,g,b\nAnimal,64,128,64\nSky,128,128\n' > k/class_dict.csv
	run -1 --separate-stderr camvid-prep -o out k
	assert_equal "$stderr" "camvid-prep: k/class_dict.csv: line 3: expected 4 fields 'name,r,g,b', got fewer"
	assert_no_output out
}

@test "original release without lists: a seeded 367/101/233 split of 701 frames" {
	run -0 --separate-stderr camvid-prep -q -o a "$TREES/r701"
	for s in train val test; do sort "a/ImageSets/Segmentation/$s.txt" > $s; done
	assert_equal "$(wc -l < train) $(wc -l < val) $(wc -l < test)" "367 101 233"
	# disjoint, and together every frame
	assert_equal "$(sort -u train val test | wc -l)" 701
	run -0 diff <(sort -u train val test) <(ls "$TREES/r701" | sed -n 's/_L\.png$//p' | sort)
	# the same seed (any thread count) gives the same tree; another seed another split
	run -0 --separate-stderr camvid-prep -q -t 1 -o b "$TREES/r701"
	run -0 diff -r a b
	run -0 --separate-stderr camvid-prep -q --seed 7 --images none -o c "$TREES/r701"
	run -1 cmp -s a/ImageSets/Segmentation/train.txt c/ImageSets/Segmentation/train.txt
	assert_not_exist c/JPEGImages
}

@test "original release with split lists in the full-release folders" {
	run -0 --separate-stderr camvid-prep -o out "$TREES/full"
	assert_equal "${stderr_lines[0]}" "camvid-prep: warning: 1 labelled frames are in none of the split lists: left out"
	assert_equal "$(cat out/ImageSets/Segmentation/val.txt)" \
		"$(sed 's/\.png$//' "$TREES/full/val.txt")"
	assert_equal "$(ls out/SegmentationClass | wc -l)" 5
}

@test "an unknown colour is an error naming the file, the pixel and the colour" {
	run -1 --separate-stderr camvid-prep -o out "$TREES/unknown"
	assert_equal "${#stderr_lines[@]}" 1
	assert_equal "$stderr" "camvid-prep: $TREES/unknown/0001TP_000000_L.png: pixel (5,7) has colour (1,2,3), which is not a class colour (1 pixel with unknown colours)"
	assert_no_output out
	# --unknown-void: a warning, and the pixel is 255
	run -0 --separate-stderr camvid-prep --unknown-void -o out "$TREES/unknown"
	assert_equal "${stderr_lines[0]}" "camvid-prep: $TREES/unknown/0001TP_000000_L.png: warning: 1 pixel of unknown colour made Void"
	run -0 "$PY" -c 'import sys, numpy as np; from PIL import Image; print(np.asarray(Image.open(sys.argv[1]))[7, 5])' out/SegmentationClass/0001TP_000000.png
	assert_output 255
}

@test "malformed label_colors.txt lines are reported with their line number" {
	local cases=(
		'64 128 64\tAnimal\n192 0 128\tArchway\n300 0 0\tBad\n|line 3: red component 300 is out of range 0..255'
		'64 128 64\tAnimal\n192 0 128\n|line 2: class name missing after the colour'
		'64 128 64\tAnimal\n\n64 128\n|line 3: expected '"'"'R G B<TAB>Name'"'"', the blue component is missing'
		'64 128 64\tAnimal\n1 2 3\tOther\n64 128 64\tAgain\n|line 3: colour (64,128,64) repeats line 1'
		'64 128 64\tAnimal\n1 2 3\tanimal\n|line 2: class name '"'"'animal'"'"' repeats line 1'
		'64 x 64\tAnimal\n|line 1: expected '"'"'R G B<TAB>Name'"'"', the green component is not a number 0..255'
		'64 128 64\tAnimal Crossing\n|line 1: text after the class name '"'"'Animal'"'"''
		'\n\n|no '"'"'R G B Name'"'"' lines'
	)
	local c
	for c in "${cases[@]}"; do
		rm -rf src
		with_colors "${c%%|*}"
		run -1 --separate-stderr camvid-prep -n 32 -o out src
		assert_equal "$stderr" "camvid-prep: src/label_colors.txt: ${c#*|}"
		assert_no_output out
	done
}

@test "bad labels and images: value out of range, size mismatch, damaged PNG" {
	cp -r "$TREES/segnet" seg
	n=$(ls seg/valannot | head -n 1)
	"$PY" -c 'import sys, numpy as np; from PIL import Image; a = np.array(Image.open(sys.argv[1])); a[2, 3] = 12; Image.fromarray(a).save(sys.argv[1])' "seg/valannot/$n"
	run -1 --separate-stderr camvid-prep -o out seg
	assert_equal "$stderr" "camvid-prep: seg/valannot/$n: pixel (3,2) has value 12, not a class 0..11"
	assert_no_output out

	cp -r "$TREES/orig" src
	"$PY" -c 'import sys; from PIL import Image; Image.open(sys.argv[1]).resize((20, 10)).save(sys.argv[1])' src/0001TP_000030.png
	run -1 --separate-stderr camvid-prep -o out src
	assert_equal "$stderr" "camvid-prep: src/0001TP_000030.png: image is 20x10, but its label src/0001TP_000030_L.png is 48x36"
	assert_no_output out

	rm -rf src && cp -r "$TREES/orig" src
	head -c 200 "$TREES/orig/0001TP_000060_L.png" > src/0001TP_000060_L.png
	run -1 --separate-stderr camvid-prep -o out src
	# one line naming the file (the reason is the PNG decoder's)
	assert_equal "${#stderr_lines[@]}" 1
	[[ $stderr == "camvid-prep: src/0001TP_000060_L.png: "?* ]]
	assert_no_output out

	rm src/0001TP_000090.png
	run -1 --separate-stderr camvid-prep -o out src
	assert_equal "$stderr" "camvid-prep: src/0001TP_000090_L.png: no image 0001TP_000090.png or .jpg in src"
}

@test "an existing output folder is refused without -f, replaced file by file with it" {
	mkdir out && touch out/mine
	run -1 --separate-stderr camvid-prep -o out "$TREES/segnet"
	assert_equal "$stderr" "camvid-prep: out: already exists (use -f to write into it)"
	assert_not_exist out/names.txt
	run -0 --separate-stderr camvid-prep -q -f -o out "$TREES/segnet"
	run -0 ref segnet "$TREES/segnet" out
	assert_file_exist out/mine
	run -0 find . -name '.out.tmp*'
	assert_output ""
}

@test "the man page has no groff warnings" {
	run -0 --separate-stderr groff -man -ww -z "$TOP/man/man1/camvid-prep.1"
	assert_equal "$stderr" ""
}
