#!/usr/bin/env bats
# infer-classify against the PyTorch oracle (scripts/ref/classify-ref.py): torchvision's
# googlenet, resnet50 and mobilenet_v2 with random, BatchNorm-calibrated weights, run through
# torchvision's eval transform on the photos of Debian's darknet package.
load helpers/common

PHOTOS="dog eagle giraffe horses kite person scream"

setup_file() {
	load helpers/common
	for a in googlenet googlenet_plain resnet50 mobilenet_v2; do
		d="$REF_DIR/classify/$a"
		if [ ! -s "$d/ref.json" ]; then
			imgs=""
			for p in $PHOTOS; do imgs="$imgs /usr/share/darknet/data/$p.jpg"; done
			# shellcheck disable=SC2086
			"$PY" "$TOP/scripts/ref/classify-ref.py" make "$a" "$d" $imgs >&2
		fi
	done
	# the models are converted afresh: the .w follows the weightconv under test
	for a in googlenet resnet50 mobilenet_v2; do
		weightconv "$REF_DIR/classify/$a/ckpt.pth" -o "$BATS_FILE_TMPDIR/$a.w"
	done
	weightconv --transform-input 0 "$REF_DIR/classify/googlenet_plain/ckpt.pth" -o "$BATS_FILE_TMPDIR/googlenet_plain.w"
	for p in $PHOTOS; do echo "/usr/share/darknet/data/$p.jpg"; done > "$BATS_FILE_TMPDIR/list.txt"
}

# compare ARCH: every logit within 1e-3 of the range and the same top-5 on every photo
compare() {
	run -0 --separate-stderr infer-classify -m "$BATS_FILE_TMPDIR/$1.w" -k 1000 --json \
		--list "$BATS_FILE_TMPDIR/list.txt" -o "$BATS_TEST_TMPDIR/out.jsonl"
	run -0 "$PY" "$TOP/scripts/ref/classify-ref.py" compare "$REF_DIR/classify/$1/ref.json" \
		"$BATS_TEST_TMPDIR/out.jsonl" 1e-3
	echo "$1: $output" >&3
}

@test "googlenet: logits within 1e-3 of PyTorch and the same top-5 on the darknet photos" {
	compare googlenet
}

@test "resnet50: logits within 1e-3 of PyTorch and the same top-5 on the darknet photos" {
	compare resnet50
}

@test "mobilenet_v2: logits within 1e-3 of PyTorch and the same top-5 on the darknet photos" {
	compare mobilenet_v2
}

@test "googlenet without transform_input (weightconv --transform-input 0) matches PyTorch too" {
	compare googlenet_plain
	# and the flag matters: the same weights run as the other layout disagree
	weightconv --transform-input 1 "$REF_DIR/classify/googlenet_plain/ckpt.pth" -o "$BATS_TEST_TMPDIR/wrong.w"
	run -0 --separate-stderr infer-classify -m "$BATS_TEST_TMPDIR/wrong.w" -k 1000 --json \
		--list "$BATS_FILE_TMPDIR/list.txt" -o "$BATS_TEST_TMPDIR/wrong.jsonl"
	run -1 "$PY" "$TOP/scripts/ref/classify-ref.py" compare "$REF_DIR/classify/googlenet_plain/ref.json" \
		"$BATS_TEST_TMPDIR/wrong.jsonl" 1e-3
}

@test "text output: k lines 'CLASS<tab>PROB<tab>NAME', probabilities falling, the top class PyTorch's" {
	run -0 --separate-stderr infer-classify -m "$BATS_FILE_TMPDIR/googlenet.w" -k 3 /usr/share/darknet/data/dog.jpg
	[ "${#lines[@]}" -eq 3 ]
	want=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["top5"][0])' "$REF_DIR/classify/googlenet/ref.json")
	re="^$want"$'\t'"0\.[0-9]{6}"$'\t'"class$want\$"
	[[ ${lines[0]} =~ $re ]]
	p0=$(echo "${lines[0]}" | cut -f2) p1=$(echo "${lines[1]}" | cut -f2) p2=$(echo "${lines[2]}" | cut -f2)
	awk -v a="$p0" -v b="$p1" -v c="$p2" 'BEGIN { exit !(a >= b && b >= c && c > 0) }'
}

@test "JSON lines: the probabilities of all classes sum to 1 and agree with PyTorch's softmax" {
	run -0 --separate-stderr infer-classify -m "$BATS_FILE_TMPDIR/mobilenet_v2.w" -k 1000 --json /usr/share/darknet/data/kite.jpg
	echo "$output" > "$BATS_TEST_TMPDIR/kite.json"
	run -0 "$PY" -c '
import json, sys
o = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2]))[4]
s = sum(t["prob"] for t in o["top"])
ok = abs(s - 1) < 1e-6 and all(abs(a["prob"] - b) < 1e-4 for a, b in zip(o["top"], r["prob5"]))
print(s, [t["prob"] for t in o["top"][:5]], r["prob5"]); sys.exit(0 if ok else 1)' "$BATS_TEST_TMPDIR/kite.json" "$REF_DIR/classify/mobilenet_v2/ref.json"
}

@test "--list: each line starts with the image path and a tab; standard input works like a file" {
	run -0 --separate-stderr infer-classify -m "$BATS_FILE_TMPDIR/mobilenet_v2.w" -k 2 --list "$BATS_FILE_TMPDIR/list.txt"
	[ "${#lines[@]}" -eq 14 ]
	[[ ${lines[2]} == /usr/share/darknet/data/eagle.jpg$'\t'* ]]
	eagle=$(printf '%s\n' "${lines[2]}" "${lines[3]}" | cut -f2-)
	run -0 --separate-stderr infer-classify -m "$BATS_FILE_TMPDIR/mobilenet_v2.w" -k 2 < /usr/share/darknet/data/eagle.jpg
	[ "$output" = "$eagle" ]
}

@test "--names replaces the model's names; a list of the wrong length is an error" {
	seq 1000 | sed 's/^/label /' > "$BATS_TEST_TMPDIR/names.txt"
	run -0 --separate-stderr infer-classify -m "$BATS_FILE_TMPDIR/resnet50.w" -k 1 --names "$BATS_TEST_TMPDIR/names.txt" \
		/usr/share/darknet/data/horses.jpg
	c=${output%%$'\t'*}
	[[ $c =~ ^[0-9]+$ ]]
	[[ $output == *$'\t'"label $((c + 1))" ]]
	head -n 999 "$BATS_TEST_TMPDIR/names.txt" > "$BATS_TEST_TMPDIR/short.txt"
	run -1 --separate-stderr infer-classify -m "$BATS_FILE_TMPDIR/resnet50.w" --names "$BATS_TEST_TMPDIR/short.txt" \
		/usr/share/darknet/data/horses.jpg
	[[ $stderr == "infer-classify: $BATS_TEST_TMPDIR/short.txt: 999 class names, but the model has 1000 classes" ]]
}

@test "the same bytes with 1 and 2 threads" {
	infer-classify -m "$BATS_FILE_TMPDIR/googlenet.w" -t 1 --json -k 1000 --logits "$BATS_TEST_TMPDIR/1.npy" \
		-o "$BATS_TEST_TMPDIR/1.json" /usr/share/darknet/data/person.jpg
	infer-classify -m "$BATS_FILE_TMPDIR/googlenet.w" -t 2 --json -k 1000 --logits "$BATS_TEST_TMPDIR/2.npy" \
		-o "$BATS_TEST_TMPDIR/2.json" /usr/share/darknet/data/person.jpg
	cmp "$BATS_TEST_TMPDIR/1.npy" "$BATS_TEST_TMPDIR/2.npy"
	cmp "$BATS_TEST_TMPDIR/1.json" "$BATS_TEST_TMPDIR/2.json"
}

@test "--time: one line per image on stderr with the network's milliseconds; stdout unchanged" {
	run -0 --separate-stderr infer-classify -m "$BATS_FILE_TMPDIR/mobilenet_v2.w" --time -k 2 --list "$BATS_FILE_TMPDIR/list.txt"
	[ "${#stderr_lines[@]}" -eq "$(wc -l < "$BATS_FILE_TMPDIR/list.txt")" ]
	[[ "${stderr_lines[0]}" =~ ^infer-classify:\ /usr/share/darknet/data/[a-z]+\.jpg:\ decode\ [0-9.]+\ ms,.*network\ [0-9.]+\ ms,\ total ]]
	cmp <(printf '%s\n' "$output") <(infer-classify -m "$BATS_FILE_TMPDIR/mobilenet_v2.w" -k 2 --list "$BATS_FILE_TMPDIR/list.txt")
}

@test "--logits writes the 1000 raw logits as .npy" {
	infer-classify -m "$BATS_FILE_TMPDIR/resnet50.w" --logits "$BATS_TEST_TMPDIR/l.npy" -o /dev/null /usr/share/darknet/data/giraffe.jpg
	run -0 "$PY" -c '
import json, sys, numpy as np
l = np.load(sys.argv[1]); r = np.array(json.load(open(sys.argv[2]))[2]["logits"])
print(l.shape, l.dtype, np.abs(l - r).max() / np.abs(r).max() < 1e-3)' "$BATS_TEST_TMPDIR/l.npy" "$REF_DIR/classify/resnet50/ref.json"
	assert_output "(1000,) float32 True"
}

@test "--size and --resize: other crops agree with PyTorch's Resize and CenterCrop" {
	local m=$BATS_FILE_TMPDIR/mobilenet_v2.w
	# resize crop: 256/224 of the crop by default, or as given; portrait and landscape photos
	while read -r size resize args; do
		for p in scream kite; do
			# shellcheck disable=SC2086
			infer-classify -m "$m" $args --logits "$BATS_TEST_TMPDIR/$p.npy" -o /dev/null "/usr/share/darknet/data/$p.jpg"
		done
		run -0 "$PY" -c '
import json, sys, numpy as np
ref = json.loads(sys.argv[1])
for r, f in zip(ref, sys.argv[2:]):
    r = np.array(r); d = np.abs(np.load(f) - r).max() / np.abs(r).max()
    print(f"{d:.2e}"); assert d < 1e-3 and np.argmax(np.load(f)) == np.argmax(r)' \
			"$("$PY" "$TOP/scripts/ref/classify-ref.py" run mobilenet_v2 "$REF_DIR/classify/mobilenet_v2/ckpt.pth" "$resize" "$size" \
				/usr/share/darknet/data/scream.jpg /usr/share/darknet/data/kite.jpg)" \
			"$BATS_TEST_TMPDIR/scream.npy" "$BATS_TEST_TMPDIR/kite.npy"
		echo "--size $size --resize $resize: $output" | paste -sd' ' >&3
	done <<-EOF
		192 219 --size 192
		160 300 --size 160 --resize 300
		224 224 --resize 224
	EOF
	run -2 --separate-stderr infer-classify -m "$m" --size 256 --resize 200 /usr/share/darknet/data/dog.jpg
}

@test "weightconv: classifier checkpoints are recognised by their names, aux heads left out" {
	run -0 --separate-stderr weightconv --check "$REF_DIR/classify/googlenet/ckpt.pth"
	assert_output --regexp "ok: googlenet, 1000 classes, [0-9]+ tensors match"
	run -0 --separate-stderr weightconv --info "$BATS_FILE_TMPDIR/googlenet.w"
	assert_output --partial "arch: googlenet"
	assert_output --partial "transform_input: 1"
	refute_output --partial "aux1."
	run -0 --separate-stderr weightconv --check "$BATS_FILE_TMPDIR/mobilenet_v2.w"
	assert_output --partial "ok: mobilenet_v2, 1000 classes"
	# the wrong architecture names the tensors that do not fit
	run -1 --separate-stderr weightconv --check -a resnet50 "$REF_DIR/classify/mobilenet_v2/ckpt.pth"
	[[ $stderr == *"weightconv: $REF_DIR/classify/mobilenet_v2/ckpt.pth: cannot tell the number of classes (no usable fc.weight); give -n" ]]
	run -1 --separate-stderr weightconv --check -a resnet50 -n 1000 "$REF_DIR/classify/mobilenet_v2/ckpt.pth"
	[[ $stderr == "weightconv: $REF_DIR/classify/mobilenet_v2/ckpt.pth: not the tensors of resnet50: 267 of its 267 are missing (the first: 'conv1.weight'); check -a and --backbone" ]]
}

@test "errors: bad usage exits 2, a bad model or image exits 1 with one line and no output file" {
	run -2 --separate-stderr infer-classify /usr/share/darknet/data/dog.jpg
	[[ $stderr == "infer-classify: no model: give -m MODEL.w"* ]]
	run -2 --separate-stderr infer-classify -m "$BATS_FILE_TMPDIR/googlenet.w" -k 0 /usr/share/darknet/data/dog.jpg
	run -1 --separate-stderr infer-classify -m "$BATS_TEST_TMPDIR/none.w" /usr/share/darknet/data/dog.jpg
	[[ $stderr == "infer-classify: $BATS_TEST_TMPDIR/none.w: "* ]]
	head -c 3000 /usr/share/darknet/data/dog.jpg > "$BATS_TEST_TMPDIR/cut.jpg"
	run -1 --separate-stderr infer-classify -m "$BATS_FILE_TMPDIR/googlenet.w" -o "$BATS_TEST_TMPDIR/out.txt" "$BATS_TEST_TMPDIR/cut.jpg"
	[[ $stderr == "infer-classify: $BATS_TEST_TMPDIR/cut.jpg: "* ]]
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	assert_file_not_exists "$BATS_TEST_TMPDIR/out.txt"
	# a .w that is not a classifier
	head -c 100 "$BATS_FILE_TMPDIR/googlenet.w" > "$BATS_TEST_TMPDIR/trunc.w"
	run -1 --separate-stderr infer-classify -m "$BATS_TEST_TMPDIR/trunc.w" /usr/share/darknet/data/dog.jpg
	[[ $stderr == "infer-classify: $BATS_TEST_TMPDIR/trunc.w: "* ]]
	run -0 --separate-stderr infer-classify --help
	[[ ${lines[0]} == Usage:* ]]
	run -0 --separate-stderr infer-classify --version
	[[ $output == "infer-classify (cnnkit) "* ]]
}

@test "--list: an unreadable image is reported and skipped, the others still classified, exit 1" {
	printf '%s\n' /usr/share/darknet/data/dog.jpg "$BATS_TEST_TMPDIR/missing.jpg" /usr/share/darknet/data/kite.jpg > "$BATS_TEST_TMPDIR/l.txt"
	run -1 --separate-stderr infer-classify -m "$BATS_FILE_TMPDIR/mobilenet_v2.w" -k 1 --list "$BATS_TEST_TMPDIR/l.txt"
	[ "${#lines[@]}" -eq 2 ]
	[[ $stderr == "infer-classify: $BATS_TEST_TMPDIR/missing.jpg: "* ]]
}

@test "the man page renders without warnings" {
	run -0 --separate-stderr groff -man -ww -z "$TOP/man/man1/infer-classify.1"
	[ -z "$stderr" ]
}
