#!/usr/bin/env bats
# infer-detect on the later upstream modules against detect.py (scripts/ref/yolov5/detect-ref.py):
# yolov5s-ghost (GhostConv, C3Ghost, GhostBottleneck) and yolov5s-c3x-tconv (C3x, CrossConv with
# stride 2, GhostBottleneck with stride 2, nn.ConvTranspose2d, DWConvTranspose2d).
load helpers/common

CONFIGS="yolov5s-ghost yolov5s-c3x-tconv"

setup_file() {
	load helpers/common
	"$TOP/scripts/ref/make-yolo-refs" $CONFIGS >&2
	for cfg in $CONFIGS; do
		dir="$REF_DIR/yolo/$cfg"
		[ -f "$dir/model.w" ] || weightconv "$dir/ckpt.pt" -o "$dir/model.w"
	done
}

# compare_photo CONFIG PHOTO [HEAD-TOLERANCE]
compare_photo() {
	local dir="$REF_DIR/yolo/$1" p=$2
	run -0 infer-detect -m "$dir/model.w" --no-round --raw "$BATS_TEST_TMPDIR/$p.npy" \
		-o "$BATS_TEST_TMPDIR/$p.txt" "/usr/share/darknet/data/$p.jpg"
	run -0 "$PY" "$TOP/scripts/ref/compare-dets.py" head "$BATS_TEST_TMPDIR/$p.npy" "$dir/$p.head.npy" --tol "${3:-1e-4}"
	echo "$1 $p: $output" >&3
	run -0 "$PY" "$TOP/scripts/ref/compare-dets.py" dets "$BATS_TEST_TMPDIR/$p.txt" "$dir/$p.dets.json"
	echo "$1 $p: $output" >&3
}

@test "yolov5s-ghost: head within 1e-4 of its range, the same boxes after NMS" {
	for p in dog horses person; do
		compare_photo yolov5s-ghost $p
	done
}

@test "yolov5s-c3x-tconv: head within 1e-4 of its range, the same boxes after NMS" {
	compare_photo yolov5s-c3x-tconv dog
	compare_photo yolov5s-c3x-tconv horses
	# On person.jpg this random network is ill-conditioned: detect-ref's own fused and unfused
	# heads differ by 1.01e-4 of the range (BatchNorm folding alone), so the head gets 2e-4 there;
	# the 191 boxes after NMS are still held to the usual 1e-4 / 0.01 px.
	run -0 "$PY" "$TOP/scripts/ref/compare-dets.py" head "$REF_DIR/yolo/yolov5s-c3x-tconv/person.head-unfused.npy" \
		"$REF_DIR/yolo/yolov5s-c3x-tconv/person.head.npy" --tol 2e-4
	compare_photo yolov5s-c3x-tconv person 2e-4
}

@test "the transposed convolutions and ghost blocks: the same bytes with 1 and 2 threads" {
	for cfg in $CONFIGS; do
		m="$REF_DIR/yolo/$cfg/model.w"
		infer-detect -m "$m" -t 1 --raw "$BATS_TEST_TMPDIR/1.npy" -f jsonl /usr/share/darknet/data/dog.jpg > "$BATS_TEST_TMPDIR/1"
		infer-detect -m "$m" -t 2 --raw "$BATS_TEST_TMPDIR/2.npy" -f jsonl /usr/share/darknet/data/dog.jpg > "$BATS_TEST_TMPDIR/2"
		cmp "$BATS_TEST_TMPDIR/1" "$BATS_TEST_TMPDIR/2"
		cmp "$BATS_TEST_TMPDIR/1.npy" "$BATS_TEST_TMPDIR/2.npy"
	done
}

@test "the checkpoint's state_dict names are the ones the builder expects" {
	# weightconv checks every tensor against the built network (missing, mis-shaped, unexpected)
	for cfg in $CONFIGS; do
		run -0 weightconv "$REF_DIR/yolo/$cfg/ckpt.pt" -o "$BATS_TEST_TMPDIR/$cfg.w"
	done
}
