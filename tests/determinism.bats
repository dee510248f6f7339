#!/usr/bin/env bats
# The same input and weights give the same bytes whatever the thread count (-t 1 and -t 2).
# Programs without -t (weightconv, evaluate-miou, evaluate-map, flops-count) are run twice, once
# with OMP_NUM_THREADS=1 and once with 2, and must agree too.
load helpers/common

setup_file() {
	load helpers/common
	"$TOP/scripts/hostile/make-models" "$REF_DIR/hostile" >&2
	# a larger input than the 64x64 models, so the work is split over both threads
	M="$REF_DIR/hostile"
	[ -f "$M/seg256.w" ] || weightconv --downsample 16 --size 256x256 "$M/seg.pth" -o "$M/seg256.w"
}

setup() {
	M="$REF_DIR/hostile"
	T="$BATS_TEST_TMPDIR"
	D=/usr/share/darknet/data
}

same() {
	run -0 cmp "$1" "$2"
}

@test "infer-seg: mask, logits and overlay bytes equal with -t 1 and -t 2" {
	for t in 1 2; do
		for p in dog horses; do
			run -0 infer-seg -m "$M/seg256.w" -t $t -o "$T/$p.$t.png" --logits "$T/$p.$t.npy" \
				--overlay "$T/$p.$t.jpg" "$D/$p.jpg"
		done
	done
	for p in dog horses; do
		for ext in png npy jpg; do same "$T/$p.1.$ext" "$T/$p.2.$ext"; done
	done
	# and a mask that is not trivially uniform, so equality says something
	run -0 "$PY" -c 'import sys, numpy as np; from PIL import Image; print(len(np.unique(np.array(Image.open(sys.argv[1])))))' "$T/dog.1.png"
	[ "$output" -ge 2 ]
}

@test "infer-seg --list: every mask equal with -t 1 and -t 2" {
	printf '%s\n' "$D/dog.jpg" "$D/eagle.jpg" "$D/person.jpg" > "$T/list"
	mkdir -p "$T/o1" "$T/o2"
	run -0 infer-seg -m "$M/seg.w" -t 1 --list "$T/list" -O "$T/o1"
	run -0 infer-seg -m "$M/seg.w" -t 2 --list "$T/list" -O "$T/o2"
	run -0 diff -r "$T/o1" "$T/o2"
	[ "$(ls "$T/o1" | wc -l)" -eq 3 ]
}

@test "infer-detect: text, jsonl and raw head output equal with -t 1 and -t 2" {
	for t in 1 2; do
		for p in dog person; do
			infer-detect -m "$M/det.w" -t $t --size 320 --conf 0.001 --raw "$T/$p.$t.npy" "$D/$p.jpg" > "$T/$p.$t.txt"
			infer-detect -m "$M/det.w" -t $t --size 320 --conf 0.001 -f jsonl "$D/$p.jpg" > "$T/$p.$t.jsonl"
		done
	done
	for p in dog person; do
		for ext in txt jsonl npy; do same "$T/$p.1.$ext" "$T/$p.2.$ext"; done
		[ -s "$T/$p.1.txt" ] # some boxes, so equality says something
	done
}

@test "weightconv (no -t): the same .w bytes from two runs, 1 and 2 OpenMP threads" {
	OMP_NUM_THREADS=1 run -0 weightconv --downsample 16 "$M/seg.pth" -o "$T/a.w"
	OMP_NUM_THREADS=2 run -0 weightconv --downsample 16 "$M/seg.pth" -o "$T/b.w"
	same "$T/a.w" "$T/b.w"
	OMP_NUM_THREADS=1 run -0 weightconv --fp16 "$M/det.pt" -o "$T/c.w"
	OMP_NUM_THREADS=2 run -0 weightconv --fp16 "$M/det.pt" -o "$T/d.w"
	same "$T/c.w" "$T/d.w"
}

@test "evaluate-miou (no -t): the same report and state from two runs" {
	infer-seg -m "$M/seg.w" -o "$T/pred.png" "$D/dog.jpg"
	infer-seg -m "$M/seg256.w" -o "$T/gt.png" "$D/dog.jpg"
	for t in 1 2; do
		OMP_NUM_THREADS=$t evaluate-miou -n 3 --gt "$T/gt.png" --save-state "$T/s$t" --json "$T/pred.png" > "$T/r$t.json"
	done
	same "$T/r1.json" "$T/r2.json"
	same "$T/s1" "$T/s2"
}

@test "evaluate-map (no -t): the same report from two runs" {
	mkdir -p "$T/labels"
	echo "16 0.35 0.6 0.3 0.5" > "$T/labels/dog.txt"
	echo "0 0.5 0.5 0.4 0.9" > "$T/labels/person.txt"
	for p in dog person; do
		infer-detect -m "$M/det.w" --size 320 --conf 0.001 -f jsonl "$D/$p.jpg" | sed "s/\"image_id\": *\"[^\"]*\"/\"image_id\": \"$p\"/"
	done > "$T/dets.jsonl"
	OMP_NUM_THREADS=1 evaluate-map --labels "$T/labels" -n 80 --json "$T/dets.jsonl" > "$T/m1"
	OMP_NUM_THREADS=2 evaluate-map --labels "$T/labels" -n 80 --json "$T/dets.jsonl" > "$T/m2"
	same "$T/m1" "$T/m2"
}

@test "flops-count (no -t): the same table from two runs" {
	OMP_NUM_THREADS=1 flops-count -m "$M/det.w" --per-layer --csv > "$T/f1"
	OMP_NUM_THREADS=2 flops-count -m "$M/det.w" --per-layer --csv > "$T/f2"
	same "$T/f1" "$T/f2"
	[ -s "$T/f1" ]
}
