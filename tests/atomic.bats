#!/usr/bin/env bats
# Outputs are complete or absent: a --list run killed with SIGKILL leaves only finished files
# (byte-equal to an uninterrupted run's) and, by design, possibly one temporary file named
# ".NAME.XXXXXX" (lib/io/file.c: a dot name in the target folder, renamed over NAME when complete),
# which no glob for outputs matches.  A write error (/dev/full) is exit 1 with one stderr line.
load helpers/common

setup_file() {
	load helpers/common
	"$TOP/scripts/hostile/make-models" "$REF_DIR/hostile" >&2
}

setup() {
	M="$REF_DIR/hostile"
	T="$BATS_TEST_TMPDIR"
	D=/usr/share/darknet/data
	# 49 inputs under distinct names: 7 photos x 7
	mkdir -p "$T/img"
	: >"$T/list"
	for i in 1 2 3 4 5 6 7; do
		for p in dog eagle giraffe horses kite person scream; do
			ln -sf "$D/$p.jpg" "$T/img/$p$i.jpg"
			echo "$T/img/$p$i.jpg" >>"$T/list"
		done
	done
}

# kill_during DIR N CMD...: starts CMD, waits until DIR holds at least N finished outputs (or
# the deadline), then SIGKILLs it.  Fails if the run finished before the kill.
kill_during() {
	local dir=$1 n=$2
	shift 2
	"$@" >/dev/null 2>&1 &
	local pid=$! k=0
	while [ "$k" -lt 500 ]; do
		[ "$(find "$dir" -maxdepth 1 -type f ! -name '.*' | wc -l)" -ge "$n" ] && break
		sleep 0.01
		k=$((k + 1))
	done
	kill -9 "$pid"
	wait "$pid" || true
	local have
	have=$(find "$dir" -maxdepth 1 -type f ! -name '.*' | wc -l)
	echo "killed with $have outputs"
	[ "$have" -lt 49 ] || { echo "the run ended before the kill: nothing tested"; return 1; }
}

# check_complete DIR REF EXT: every visible file in DIR equals REF's; hidden ones are temporaries.
check_complete() {
	local dir=$1 ref=$2 ext=$3 f b
	for f in "$dir"/* "$dir"/.[!.]*; do
		[ -e "$f" ] || continue
		b=$(basename "$f")
		case $b in
		.*)
			# a temporary: ".NAME.$ext.XXXXXX", never "*.$ext"
			[[ $b =~ ^\.[a-z]+[0-9]\.$ext\.[A-Za-z0-9]{6}$ ]] || { echo "stray file $b"; return 1; }
			;;
		*)
			[[ $b == *.$ext ]] || { echo "unexpected output $b"; return 1; }
			cmp "$f" "$ref/$b" || { echo "$b is not complete"; return 1; }
			;;
		esac
	done
}

@test "infer-seg --list -O: killed with SIGKILL, every mask present is complete" {
	mkdir -p "$T/ref"
	run -0 infer-seg -m "$M/seg.w" -t 1 -q --list "$T/list" -O "$T/ref"
	[ "$(ls "$T/ref" | wc -l)" -eq 49 ]
	for n in 1 5 17 30; do
		rm -rf "$T/k$n" && mkdir -p "$T/k$n"
		kill_during "$T/k$n" $n infer-seg -m "$M/seg.w" -t 1 -q --list "$T/list" -O "$T/k$n"
		check_complete "$T/k$n" "$T/ref" png
	done
	# and each decodes as a PNG of the photo's size
	run -0 "$PY" -c '
import sys
from PIL import Image
for f in sys.argv[1:]:
    Image.open(f).load()
' "$T"/k30/*.png
}

@test "infer-detect --list -O -f yolo: killed with SIGKILL, every label file present is complete" {
	mkdir -p "$T/ref"
	run -0 infer-detect -m "$M/det.w" -t 1 --conf 0.01 -f yolo --list "$T/list" -O "$T/ref"
	[ "$(ls "$T/ref" | wc -l)" -ge 40 ]
	for n in 1 5 17 30; do
		rm -rf "$T/k$n" && mkdir -p "$T/k$n"
		kill_during "$T/k$n" $n infer-detect -m "$M/det.w" -t 1 --conf 0.01 -f yolo --list "$T/list" -O "$T/k$n"
		check_complete "$T/k$n" "$T/ref" txt
	done
}

@test "a killed single-output run leaves no file under the output's name" {
	# the mask is written in one go at the end; kill at several moments of the run
	for d in 0.05 0.15 0.3; do
		rm -f "$T/m.png"
		infer-seg -m "$M/seg.w" -t 1 -o "$T/m.png" "$D/giraffe.jpg" &
		pid=$!
		sleep $d
		kill -9 $pid 2>/dev/null || true
		wait $pid || true
		if [ -e "$T/m.png" ]; then
			run -0 "$PY" -c 'import sys; from PIL import Image; Image.open(sys.argv[1]).load()' "$T/m.png"
		fi
	done
}

# full_error PROG CMD...: CMD writes to /dev/full (-o /dev/full or stdout): exit 1, one line from PROG.
full_error() {
	local prog=$1
	shift
	run -1 --separate-stderr "$@"
	assert_equal "${#stderr_lines[@]}" 1
	[[ $stderr == "$prog: /dev/full: "* || $stderr == "$prog: standard output: "* ]]
	[[ $stderr == *"No space left"* || $stderr == *"write error"* ]]
}

@test "write errors: -o /dev/full and stdout on /dev/full, every program" {
	local H="$T/h"
	mkdir -p "$H/labels"
	"$PY" -c '
import sys, numpy as np
from PIL import Image
m = (np.arange(32 * 24).reshape(24, 32) % 3).astype(np.uint8)
Image.fromarray(m, "L").save(sys.argv[1])' "$H/mask.png"
	echo "0 0.5 0.5 0.2 0.2" > "$H/labels/a.txt"
	echo '{"image_id": "a", "category_id": 0, "bbox": [60, 60, 40, 40], "score": 0.9, "width": 200, "height": 200}' > "$H/dets.jsonl"
	full_error weightconv weightconv --downsample 16 "$M/seg.pth" -o /dev/full
	full_error weightconv sh -c "weightconv --downsample 16 '$M/seg.pth' -o - > /dev/full"
	full_error weightconv sh -c "weightconv --info '$M/seg.w' > /dev/full"
	full_error infer-seg infer-seg -m "$M/seg.w" -o /dev/full "$D/dog.jpg"
	full_error infer-seg sh -c "infer-seg -m '$M/seg.w' '$D/dog.jpg' > /dev/full"
	full_error infer-seg infer-seg -m "$M/seg.w" -o "$T/x.png" --logits /dev/full "$D/dog.jpg"
	full_error infer-detect infer-detect -m "$M/det.w" --conf 0.001 -o /dev/full "$D/dog.jpg"
	full_error infer-detect sh -c "infer-detect -m '$M/det.w' --conf 0.001 '$D/dog.jpg' > /dev/full"
	full_error infer-detect sh -c "infer-detect -m '$M/det.w' -f coco '$D/dog.jpg' > /dev/full"
	full_error evaluate-miou sh -c "evaluate-miou -n 3 --gt '$H/mask.png' '$H/mask.png' > /dev/full"
	full_error evaluate-miou evaluate-miou -n 3 --gt "$H/mask.png" --save-state /dev/full "$H/mask.png"
	full_error evaluate-map sh -c "evaluate-map --labels '$H/labels' '$H/dets.jsonl' > /dev/full"
	full_error flops-count sh -c "flops-count -m '$M/det.w' > /dev/full"
	full_error flops-count sh -c "flops-count -m '$M/det.w' --json > /dev/full"
}

@test "write errors: --help and --version on a full stdout, every program" {
	for p in weightconv infer-seg infer-detect evaluate-miou evaluate-map flops-count; do
		full_error $p sh -c "$p --version > /dev/full"
		full_error $p sh -c "$p --help > /dev/full"
	done
}
