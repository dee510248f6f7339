#!/usr/bin/env bats
# --profile on the inference programs: every layer once, slowest first, its multiply-accumulates
# equal to flops-count's, the stages outside the network, and the results left as they were.
load helpers/common

D=/usr/share/darknet/data

setup_file() {
	load helpers/common
	"$TOP/scripts/hostile/make-models" "$REF_DIR/hostile" >&2
}

setup() {
	M="$REF_DIR/hostile"
	cd "$BATS_TEST_TMPDIR"
}

# check_table FILE: the text profile's rows (between the header and the "network" line) are as
# many as the nodes it names, slowest first, and add up to the network's time
check_table() {
	"$PY" - "$1" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
head = [i for i, l in enumerate(lines) if l.split()[:2] == ["ms", "%time"]]
net = [i for i, l in enumerate(lines) if " network (" in l]
assert len(head) == 1 and len(net) == 1, lines[:3]
rows = lines[head[0] + 1:net[0]]
nodes = int(lines[net[0]].split("network (")[1].split()[0])
assert len(rows) == nodes and nodes > 10, (len(rows), nodes)
ms = [float(r.split()[0]) for r in rows]
assert ms == sorted(ms, reverse=True), "not slowest first"
total = float(lines[net[0]].split()[0])
assert abs(sum(ms) - total) <= 0.0005 * nodes + 1e-9, (sum(ms), total)
stages = [l.split()[-1] for l in lines[net[0] + 1:]]
assert stages[:3] == ["decode", "pre-processing", "post-processing"], stages
print("%d layers, %.3f ms" % (nodes, total))
PY
}

# csv_macs FILE: the network's multiply-accumulates per image from --profile=csv
csv_macs() {
	"$PY" -c '
import csv, sys
rows = list(csv.reader(l for l in open(sys.argv[1]) if not l.startswith("#")))
assert rows[0] == "layer,op,channels,height,width,ms,macs,gflops,peak_percent".split(","), rows[0]
assert all(len(r) == 9 for r in rows[1:])
print(int(round(sum(float(r[6]) for r in rows[1:] if r[1] != "stage"))))' "$1"
}

flops_macs() {
	flops-count "$@" --convention thop --bn folded --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["macs"])'
}

@test "--profile prints every layer once, slowest first, and leaves the detections as they were" {
	infer-detect -m "$M/det.w" "$D/dog.jpg" "$D/horses.jpg" > plain.txt
	infer-detect -m "$M/det.w" --profile "$D/dog.jpg" "$D/horses.jpg" > profiled.txt 2> profile.txt
	cmp plain.txt profiled.txt
	grep -q "^infer-detect: profile of 2 images on [0-9]* threads\?; measured FMA peak [0-9.]* GFLOP/s (\(avx512\|avx2\|scalar\))$" profile.txt
	run check_table profile.txt
	assert_success
}

@test "--profile=csv: infer-seg's and infer-classify's MACs per image are flops-count's" {
	infer-seg -m "$M/seg.w" --profile=csv -o mask.png "$D/dog.jpg" 2> seg.csv
	[ "$(csv_macs seg.csv)" = "$(flops_macs -m "$M/seg.w")" ]
	infer-classify -m "$M/cls.w" --profile=csv "$D/dog.jpg" "$D/eagle.jpg" > /dev/null 2> cls.csv
	[ "$(csv_macs cls.csv)" = "$(flops_macs -m "$M/cls.w")" ]
	grep -q '^decode,stage,' cls.csv
	run check_table /dev/null
	assert_failure # the text checker refuses what is not a text profile
}

@test "--profile=csv: infer-detect's MACs are flops-count's at the letterboxed shape" {
	infer-detect -m "$M/det.w" -v --profile=csv "$D/horses.jpg" > /dev/null 2> det.csv
	shape=$(sed -n 's/.*at shape (1, 3, \([0-9]*\), \([0-9]*\))$/\1x\2/p' det.csv)
	[ -n "$shape" ]
	[ "$(csv_macs <(grep -v '^image \|^Speed' det.csv))" = "$(flops_macs -m "$M/det.w" --size "$shape" -q)" ]
}

@test "--profile takes only csv as a value" {
	run infer-seg -m "$M/seg.w" --profile=xml "$D/dog.jpg"
	assert_failure 2
	assert_output --partial "--profile: 'xml' is not csv"
}
