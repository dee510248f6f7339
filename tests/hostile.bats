#!/usr/bin/env bats
# Hostile inputs (scripts/hostile/make-hostile.py) through every program that reads them: each is
# refused with exit 1 and exactly one stderr line "prog: ...FILE...: problem", leaves no output
# file (not even a temporary one), within 20 s and 2 GB of address space.
load helpers/common

setup_file() {
	load helpers/common
	"$TOP/scripts/hostile/make-models" "$REF_DIR/hostile" >&2
	H="$BATS_FILE_TMPDIR/h"
	"$PY" "$TOP/scripts/hostile/make-hostile.py" "$H" "$REF_DIR/hostile/det.w" >&2
}

setup() {
	H="$BATS_FILE_TMPDIR/h"
	M="$REF_DIR/hostile"
	OUT="$BATS_TEST_TMPDIR/out"
	PHOTO=/usr/share/darknet/data/dog.jpg
	FAILED=""
	# ASan reserves terabytes of address space: under it only the time bound applies.
	VLIMIT=2000000
	if ldd "$(command -v weightconv)" | grep -q libasan; then VLIMIT=""; fi
}

bounded() {
	(
		[ -z "$VLIMIT" ] || ulimit -v "$VLIMIT"
		exec timeout 20 "$@"
	)
}

# refused NAME REGEX CMD...: runs CMD (writing only into $OUT) and records what is wrong, if anything.
refused() {
	local name=$1 rx=$2 why=""
	shift 2
	rm -rf "$OUT"
	mkdir -p "$OUT"
	run --separate-stderr bounded "$@"
	local prog
	prog=$(basename "$1")
	[ "$status" -eq 1 ] || why="exit $status"
	[ "${#stderr_lines[@]}" -eq 1 ] || why="$why; ${#stderr_lines[@]} stderr lines"
	[[ $stderr == "$prog: "* ]] || why="$why; not prefixed '$prog: '"
	[[ $stderr == *"$(basename "$name")"* ]] || why="$why; does not name the file"
	grep -qiE -- "$rx" <<<"$stderr" || why="$why; problem not /$rx/"
	[ -z "$output" ] || why="$why; wrote to stdout"
	[ -z "$(ls -A "$OUT")" ] || why="$why; left $(ls -A "$OUT" | tr '\n' ' ')"
	if [ -n "$why" ]; then
		FAILED="$FAILED
$prog $(basename "$name"): ${why#; } -- stderr: ${stderr:0:300}"
	fi
	return 0
}

report() {
	if [ -n "$FAILED" ]; then
		echo "failed cases:$FAILED"
		return 1
	fi
}

cases() { awk -F '\t' -v k="$1" '$2 == k' "$H/cases.tsv"; }

@test "the generator covers every kind of hostile input" {
	for k in ckpt wfile image mask yaml dets labels; do
		n=$(cases $k | wc -l)
		echo "$k: $n cases"
		[ "$n" -ge 5 ]
	done
}

@test "the pickle payload is live: Python's own unpickler runs it" {
	rm -f "$H/live-proof"
	"$PY" -c 'import pickle, sys; pickle.load(open(sys.argv[1], "rb"))' "$H/live-touch.pkl"
	assert_file_exists "$H/live-proof"
}

@test "weightconv refuses every hostile checkpoint, runs none of its code" {
	rm -f "$H/pwned"
	while IFS=$'\t' read -r name kind rx; do
		refused "$name" "$rx" weightconv "$H/$name" -o "$OUT/x.w"
	done < <(cases ckpt)
	assert_file_not_exists "$H/pwned"
	report
}

@test "weightconv --check and --info refuse hostile files too" {
	for name in evil-os.system.pth tensor-offset-past-storage.pth zip-encrypted.pth; do
		refused "$name" 'forbidden|storage|encrypt' weightconv --check -a deeplabv3plus "$H/$name"
	done
	while IFS=$'\t' read -r name kind rx; do
		# --info shows the metadata's yaml text, it does not build the model
		case $name in w-bad-metadata.w | w-yaml-deep.w) continue ;; esac
		refused "$name" "$rx" weightconv --info "$H/$name"
	done < <(cases wfile)
	assert_file_not_exists "$H/pwned"
	report
}

@test "the control checkpoint parses: it fails only for not being a known model" {
	rm -rf "$OUT" && mkdir -p "$OUT"
	run -1 --separate-stderr weightconv "$H/ctl-one-tensor.pth" -o "$OUT/x.w"
	assert_equal "${#stderr_lines[@]}" 1
	[ -z "$output" ] # nothing on stdout
	[[ $stderr == *backbone* ]]
	run -0 weightconv -a deeplabv3plus --backbone mobilenet --downsample 16 "$M/seg.pth" -o "$OUT/ok.w"
}

@test "infer-detect, infer-seg, infer-classify and flops-count refuse every lying .w file" {
	while IFS=$'\t' read -r name kind rx; do
		refused "$name" "$rx" infer-detect -m "$H/$name" -o "$OUT/x.txt" "$PHOTO"
		refused "$name" "$rx" flops-count -m "$H/$name"
		# the yaml text in the metadata is only read for a YOLOv5 model
		case $name in w-bad-metadata.w | w-yaml-deep.w) continue ;; esac
		refused "$name" "$rx" infer-seg -m "$H/$name" -o "$OUT/x.png" "$PHOTO"
		refused "$name" "$rx" infer-classify -m "$H/$name" -o "$OUT/x.txt" "$PHOTO"
	done < <(cases wfile)
	report
}

@test "infer-seg, infer-detect and infer-classify refuse hostile images" {
	while IFS=$'\t' read -r name kind rx; do
		refused "$name" "$rx" infer-seg -m "$M/seg.w" -o "$OUT/x.png" "$H/$name"
		refused "$name" "$rx" infer-detect -m "$M/det.w" -o "$OUT/x.txt" "$H/$name"
		refused "$name" "$rx" infer-classify -m "$M/cls.w" -o "$OUT/x.txt" "$H/$name"
	done < <(cases image)
	report
}

@test "hostile images on standard input are refused the same way" {
	for name in img-png-huge.png img-jpeg-truncated.jpg; do
		rm -rf "$OUT" && mkdir -p "$OUT"
		run -1 --separate-stderr bounded infer-seg -m "$M/seg.w" -o "$OUT/x.png" - <"$H/$name"
		assert_equal "${#stderr_lines[@]}" 1
		[[ $stderr == "infer-seg: standard input: "* ]]
		[ -z "$(ls -A "$OUT")" ]
	done
}

@test "--max-pixels: the limit is adjustable and the error says how" {
	# dog.jpg is 768x576 = 442368 pixels
	for prog in infer-seg infer-detect infer-classify; do
		case $prog in
		infer-seg) m="$M/seg.w" ;;
		infer-detect) m="$M/det.w" ;;
		*) m="$M/cls.w" ;;
		esac
		refused "$PHOTO" 'max-pixels' $prog -m "$m" --max-pixels 400000 -o "$OUT/x" "$PHOTO"
		run -0 $prog -m "$m" --max-pixels 442368 -o "$BATS_TEST_TMPDIR/ok" "$PHOTO"
	done
	report
}

@test "evaluate-miou refuses bad masks as predictions and as labels" {
	while IFS=$'\t' read -r name kind rx; do
		refused "$name" "$rx" evaluate-miou -n 3 --gt "$H/mask-gt.png" --save-state "$OUT/s" "$H/$name"
		refused "$name" "$rx" evaluate-miou -n 3 --gt "$H/$name" --save-state "$OUT/s" "$H/mask-good.png"
	done < <(cases mask)
	report
}

@test "evaluate-miou exposes the pixel limit it reports (--max-pixels)" {
	run -0 evaluate-miou --help
	assert_output --partial --max-pixels
	run -0 evaluate-miou -n 3 --max-pixels 768 --gt "$H/mask-gt.png" "$H/mask-good.png"
	# both masks are over the limit; the label is read first
	refused mask-gt.png 'max-pixels' evaluate-miou -n 3 --max-pixels 767 --gt "$H/mask-gt.png" "$H/mask-good.png"
	report
}

@test "flops-count and weightconv refuse hostile YOLOv5 yaml configs" {
	while IFS=$'\t' read -r name kind rx; do
		refused "$name" "$rx" flops-count --arch yolov5 --cfg "$H/$name"
		refused "$name" "$rx" weightconv --cfg "$H/$name" "$M/det.pt" -o "$OUT/x.w"
	done < <(cases yaml)
	report
}

@test "evaluate-map refuses hostile detections and label files" {
	while IFS=$'\t' read -r name kind rx; do
		refused "$name" "$rx" evaluate-map --labels "$H/labels" "$H/$name"
	done < <(cases dets)
	while IFS=$'\t' read -r name kind rx; do
		refused "$name" "$rx" evaluate-map --labels "$H/$name" "$H/dets-good.jsonl"
	done < <(cases labels)
	run -0 evaluate-map --labels "$H/labels" "$H/dets-good.jsonl"
	report
}

@test "voc-annotate and camvid-prep refuse hostile label files" {
	local names="img-png-huge.png img-png-wide.png img-png-truncated.png img-png-bad-crc.png
		img-empty.jpg img-not-image.jpg mask-rgb.png mask-16bit.png mask-huge.png mask-truncated.png
		mask-jpeg.jpg mask-pgm-lies.pgm"
	"$PY" "$TOP/scripts/ref/make-camvid-tree.py" original "$BATS_TEST_TMPDIR/camvid" --n 2 --size 16x12 --seed 3 >/dev/null
	local name rx seg lists why
	for name in $names; do
		rx=$(awk -F '\t' -v n="$name" '$1 == n { print $3 }' "$H/cases.tsv")
		[ -n "$rx" ] || { echo "$name is not in cases.tsv"; false; }
		# voc-annotate: one problem line naming the label, then its summary; no lists
		rm -rf "$OUT" && mkdir -p "$OUT/VOC2007/SegmentationClass" "$OUT/VOC2007/JPEGImages"
		seg="$OUT/VOC2007/SegmentationClass"
		lists="$OUT/VOC2007/ImageSets/Segmentation"
		cp "$H/$name" "$seg/h.png"
		cp "$PHOTO" "$OUT/VOC2007/JPEGImages/h.jpg"
		run --separate-stderr bounded voc-annotate -q "$OUT"
		why=""
		[ "$status" -eq 1 ] || why="exit $status"
		[[ ${stderr_lines[0]:-} == "voc-annotate: $seg/h.png: "* ]] || why="$why; first line does not name the label"
		grep -qiE -- "$rx|not a PNG|JPEG|label is RGB" <<<"${stderr_lines[0]:-}" || why="$why; problem not /$rx/"
		[ ! -e "$lists" ] || [ -z "$(ls -A "$lists")" ] || why="$why; wrote $(ls -A "$lists" | tr '\n' ' ')"
		[ -z "$why" ] || FAILED="$FAILED
voc-annotate $name: ${why#; } -- stderr: ${stderr:0:300}"
		# camvid-prep, original layout: the label of the second frame replaced
		rm -rf "$OUT" "$BATS_TEST_TMPDIR/src" && mkdir -p "$OUT"
		cp -r "$BATS_TEST_TMPDIR/camvid" "$BATS_TEST_TMPDIR/src"
		cp "$H/$name" "$BATS_TEST_TMPDIR/src/0001TP_000030_L.png"
		refused 0001TP_000030_L.png '.' camvid-prep -o "$OUT/c" "$BATS_TEST_TMPDIR/src"
	done
	report
}
