#!/usr/bin/env bats
# infer-seg against the PyTorch oracle (scripts/ref): the upstream predict pipeline on real photos.
load helpers/common

setup_file() {
	load helpers/common
	"$TOP/scripts/ref/make-seg-refs" mobilenet-16 mobilenet-8 xception-16 >&2
	for cfg in mobilenet-16 mobilenet-8 xception-16; do
		dir="$REF_DIR/seg/$cfg"
		[ -f "$dir/model.w" ] || weightconv --downsample "${cfg#*-}" "$dir/ckpt.pth" -o "$dir/model.w"
	done
}

compare_config() {
	local cfg=$1 dir="$REF_DIR/seg/$1"
	for p in dog horses person; do
		run -0 infer-seg -m "$dir/model.w" --logits "$BATS_TEST_TMPDIR/$p.npy" \
			-o "$BATS_TEST_TMPDIR/$p.png" "/usr/share/darknet/data/$p.jpg"
		run -0 "$PY" "$TOP/scripts/ref/compare-seg.py" logits "$BATS_TEST_TMPDIR/$p.npy" "$dir/$p.logits.npy" --rtol 1e-3
		echo "$cfg $p logits: $output" >&3
		run -0 "$PY" "$TOP/scripts/ref/compare-seg.py" mask "$BATS_TEST_TMPDIR/$p.png" "$dir/$p.mask.png" "$dir/$p.margin.npy"
		echo "$cfg $p mask: $output" >&3
	done
}

@test "MobileNetV2 ds16: logits within 1e-3 of PyTorch, masks equal but for top-2 ties" {
	compare_config mobilenet-16
}

@test "MobileNetV2 ds8: logits within 1e-3 of PyTorch, masks equal but for top-2 ties" {
	compare_config mobilenet-8
}

@test "Xception ds16: logits within 1e-3 of PyTorch, masks equal but for top-2 ties" {
	compare_config xception-16
}

@test "standard input and output give the same mask as files" {
	local m="$REF_DIR/seg/mobilenet-16/model.w"
	infer-seg -m "$m" -o "$BATS_TEST_TMPDIR/a.png" /usr/share/darknet/data/dog.jpg
	infer-seg -m "$m" < /usr/share/darknet/data/dog.jpg > "$BATS_TEST_TMPDIR/b.png"
	cmp "$BATS_TEST_TMPDIR/a.png" "$BATS_TEST_TMPDIR/b.png"
}

@test "the mask is an 8-bit palette PNG of the photo's size that PIL reads as class indices" {
	local m="$REF_DIR/seg/mobilenet-16/model.w"
	infer-seg -m "$m" -o "$BATS_TEST_TMPDIR/a.png" /usr/share/darknet/data/eagle.jpg
	run -0 "$PY" -c "
from PIL import Image; import numpy as np
a = Image.open('$BATS_TEST_TMPDIR/a.png'); b = Image.open('/usr/share/darknet/data/eagle.jpg')
print(a.mode, a.size == b.size, int(np.array(a).max()) < 21)"
	assert_output "P True True"
}

@test "the same bytes with 1 and 2 threads" {
	local m="$REF_DIR/seg/mobilenet-8/model.w"
	infer-seg -m "$m" -t 1 --logits "$BATS_TEST_TMPDIR/1.npy" -o "$BATS_TEST_TMPDIR/1.png" /usr/share/darknet/data/kite.jpg
	infer-seg -m "$m" -t 2 --logits "$BATS_TEST_TMPDIR/2.npy" -o "$BATS_TEST_TMPDIR/2.png" /usr/share/darknet/data/kite.jpg
	cmp "$BATS_TEST_TMPDIR/1.npy" "$BATS_TEST_TMPDIR/2.npy"
	cmp "$BATS_TEST_TMPDIR/1.png" "$BATS_TEST_TMPDIR/2.png"
}

@test "a PNG of the decoded photo gives the same mask as the JPEG" {
	local m="$REF_DIR/seg/mobilenet-16/model.w"
	"$PY" -c "from PIL import Image; Image.open('/usr/share/darknet/data/person.jpg').save('$BATS_TEST_TMPDIR/p.png')"
	infer-seg -m "$m" -o "$BATS_TEST_TMPDIR/j.mask.png" /usr/share/darknet/data/person.jpg
	infer-seg -m "$m" -o "$BATS_TEST_TMPDIR/p.mask.png" "$BATS_TEST_TMPDIR/p.png"
	cmp "$BATS_TEST_TMPDIR/j.mask.png" "$BATS_TEST_TMPDIR/p.mask.png"
}

@test "--list -O writes one mask per image, equal to single runs, and overlays" {
	local m="$REF_DIR/seg/mobilenet-16/model.w"
	printf '%s\n' /usr/share/darknet/data/dog.jpg /usr/share/darknet/data/horses.jpg > "$BATS_TEST_TMPDIR/list"
	mkdir "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/ov"
	run -0 infer-seg -m "$m" --list "$BATS_TEST_TMPDIR/list" -O "$BATS_TEST_TMPDIR/out" --overlay "$BATS_TEST_TMPDIR/ov"
	infer-seg -m "$m" -o "$BATS_TEST_TMPDIR/dog.png" /usr/share/darknet/data/dog.jpg
	cmp "$BATS_TEST_TMPDIR/dog.png" "$BATS_TEST_TMPDIR/out/dog.png"
	assert_file_exists "$BATS_TEST_TMPDIR/out/horses.png"
	run -0 "$PY" -c "from PIL import Image; print(Image.open('$BATS_TEST_TMPDIR/ov/horses.jpg').size == Image.open('/usr/share/darknet/data/horses.jpg').size)"
	assert_output True
}

@test "the mask pipes into evaluate-miou: PyTorch's mask as ground truth scores near 100%" {
	local dir="$REF_DIR/seg/mobilenet-16"
	run -0 bash -c "infer-seg -m '$dir/model.w' < /usr/share/darknet/data/dog.jpg | evaluate-miou -n 21 --gt '$dir/dog.mask.png' --json"
	run -0 "$PY" -c "import json,sys; d=json.loads(sys.argv[1]); print(d['accuracy'] > 0.9999)" "$output"
	assert_output True
}

@test "a truncated JPEG: exit 1, one line naming the file, no mask left" {
	head -c 20000 /usr/share/darknet/data/dog.jpg > "$BATS_TEST_TMPDIR/cut.jpg"
	run -1 --separate-stderr infer-seg -m "$REF_DIR/seg/mobilenet-16/model.w" -o "$BATS_TEST_TMPDIR/cut.png" "$BATS_TEST_TMPDIR/cut.jpg"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "infer-seg: "*"cut.jpg"* ]]
	assert_file_not_exists "$BATS_TEST_TMPDIR/cut.png"
}

@test "not an image: exit 1 naming the file" {
	echo "hello" > "$BATS_TEST_TMPDIR/x.jpg"
	run -1 --separate-stderr infer-seg -m "$REF_DIR/seg/mobilenet-16/model.w" -o "$BATS_TEST_TMPDIR/x.png" "$BATS_TEST_TMPDIR/x.jpg"
	[[ "$stderr" == *"x.jpg"* ]]
	assert_file_not_exists "$BATS_TEST_TMPDIR/x.png"
}

@test "a truncated .w model: exit 1, one line naming the file" {
	head -c 100000 "$REF_DIR/seg/mobilenet-16/model.w" > "$BATS_TEST_TMPDIR/cut.w"
	run -1 --separate-stderr infer-seg -m "$BATS_TEST_TMPDIR/cut.w" -o "$BATS_TEST_TMPDIR/o.png" /usr/share/darknet/data/dog.jpg
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "infer-seg: "*"cut.w"* ]]
	assert_file_not_exists "$BATS_TEST_TMPDIR/o.png"
}

@test "a corrupted .w header: exit 1 naming the file" {
	cp "$REF_DIR/seg/mobilenet-16/model.w" "$BATS_TEST_TMPDIR/bad.w"
	printf '\377\377\377\377' | dd of="$BATS_TEST_TMPDIR/bad.w" bs=1 seek=0 conv=notrunc 2>/dev/null
	run -1 --separate-stderr infer-seg -m "$BATS_TEST_TMPDIR/bad.w" -o "$BATS_TEST_TMPDIR/o.png" /usr/share/darknet/data/dog.jpg
	[[ "$stderr" == "infer-seg: "*"bad.w"* ]]
	assert_file_not_exists "$BATS_TEST_TMPDIR/o.png"
}

@test "usage errors exit 2; --help exits 0 and every long option is in the man page" {
	run -2 infer-seg
	run -2 infer-seg -m x.w --bogus
	run -0 infer-seg --help
	for opt in $(infer-seg --help | grep -o -- '--[a-z0-9-]*' | sort -u); do
		grep -q -- "${opt//-/\\\\-}" "$TOP/man/man1/infer-seg.1" || { echo "man page lacks $opt"; return 1; }
	done
	run -0 --separate-stderr groff -man -ww -z "$TOP/man/man1/infer-seg.1"
	assert_equal "$stderr" ""
}

@test "-o through a symlink writes the file it points to and keeps the link" {
	local m="$REF_DIR/seg/mobilenet-16/model.w"
	ln -s real.png "$BATS_TEST_TMPDIR/link.png"
	run -0 infer-seg -m "$m" -o "$BATS_TEST_TMPDIR/link.png" /usr/share/darknet/data/dog.jpg
	[ -L "$BATS_TEST_TMPDIR/link.png" ]
	assert_file_exists "$BATS_TEST_TMPDIR/real.png"
}

@test "--list: two images with the same name are not allowed to overwrite each other" {
	local m="$REF_DIR/seg/mobilenet-16/model.w"
	mkdir "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/out"
	cp /usr/share/darknet/data/dog.jpg "$BATS_TEST_TMPDIR/a/dog.jpg"
	printf '%s\n' /usr/share/darknet/data/dog.jpg "$BATS_TEST_TMPDIR/a/dog.jpg" > "$BATS_TEST_TMPDIR/list"
	run -1 --separate-stderr infer-seg -m "$m" --list "$BATS_TEST_TMPDIR/list" -O "$BATS_TEST_TMPDIR/out"
	[[ "$stderr" == *"a/dog.jpg: skipped: its outputs would overwrite those of /usr/share/darknet/data/dog.jpg (both named 'dog')"* ]]
	assert_file_exists "$BATS_TEST_TMPDIR/out/dog.png"
}

@test "--list: a failing image is named, the others are done, exit 1" {
	local m="$REF_DIR/seg/mobilenet-16/model.w"
	mkdir "$BATS_TEST_TMPDIR/out"
	echo junk > "$BATS_TEST_TMPDIR/bad.jpg"
	printf '%s\n' "$BATS_TEST_TMPDIR/bad.jpg" /usr/share/darknet/data/dog.jpg > "$BATS_TEST_TMPDIR/list"
	run -1 --separate-stderr infer-seg -m "$m" --list "$BATS_TEST_TMPDIR/list" -O "$BATS_TEST_TMPDIR/out"
	[[ "$stderr" == *"bad.jpg"* ]]
	assert_file_exists "$BATS_TEST_TMPDIR/out/dog.png"
	assert_file_not_exists "$BATS_TEST_TMPDIR/out/bad.png"
}

@test "two outputs on standard output are refused as bad usage" {
	run -2 --separate-stderr infer-seg -m "$REF_DIR/seg/mobilenet-16/model.w" --logits - /usr/share/darknet/data/dog.jpg
	[[ "$stderr" == *"only one output can go to standard output"* ]]
}
