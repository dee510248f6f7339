#!/usr/bin/env bats
# infer-seg and weightconv on mmsegmentation's EncNet (EncHead on ResNetV1c-50-D8) against the
# PyTorch oracle (scripts/ref/encnet_model.py): mmseg's whole-image inference on real photos.
load helpers/common

# EncNet-R50 is heavy: a small input keeps each run to seconds.
SIZE=256x256

setup_file() {
	load helpers/common
	local dir="$REF_DIR/encnet"
	if [ ! -f "$dir/done" ]; then
		mkdir -p "$dir"
		"$PY" "$TOP/scripts/ref/make-encnet-ckpt.py" -n 19 --seed 3 -o "$dir/ckpt.pth" >&2
		"$PY" "$TOP/scripts/ref/encnet-predict.py" --ckpt "$dir/ckpt.pth" --size "$SIZE" -q \
			--out-dir "$dir" --image /usr/share/darknet/data/dog.jpg \
			--image /usr/share/darknet/data/horses.jpg --image /usr/share/darknet/data/person.jpg
		touch "$dir/done"
	fi
	weightconv --size "$SIZE" "$dir/ckpt.pth" -o "$BATS_FILE_TMPDIR/encnet.w" 2> "$BATS_FILE_TMPDIR/convert.err"
}

@test "EncNet-R50: logits within 1e-3 of PyTorch, masks equal but for top-2 ties" {
	local dir="$REF_DIR/encnet"
	for p in dog horses; do
		run -0 infer-seg -m "$BATS_FILE_TMPDIR/encnet.w" --logits "$BATS_TEST_TMPDIR/$p.npy" \
			-o "$BATS_TEST_TMPDIR/$p.png" "/usr/share/darknet/data/$p.jpg"
		run -0 "$PY" "$TOP/scripts/ref/compare-seg.py" logits "$BATS_TEST_TMPDIR/$p.npy" "$dir/$p.logits.npy" --rtol 1e-3
		echo "encnet $p logits: $output" >&3
		run -0 "$PY" "$TOP/scripts/ref/compare-seg.py" mask "$BATS_TEST_TMPDIR/$p.png" "$dir/$p.mask.png" "$dir/$p.margin.npy"
		echo "encnet $p mask: $output" >&3
	done
}

@test "--scene prints each class's presence probability within 1e-4 of PyTorch's sigmoid(se_layer)" {
	local dir="$REF_DIR/encnet"
	run -0 --separate-stderr infer-seg -m "$BATS_FILE_TMPDIR/encnet.w" --scene /usr/share/darknet/data/person.jpg
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/scene.txt"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/scene.txt")" -eq 19 ]
	run -0 "$PY" -c "
import numpy as np
rows = [l.split() for l in open('$BATS_TEST_TMPDIR/scene.txt')]
assert [int(r[0]) for r in rows] == list(range(19)), 'class indices'
assert [r[2] for r in rows] == ['class%d' % i for i in range(19)], 'class names'
ours = np.array([float(r[1]) for r in rows]); ref = np.load('$dir/person.scene.npy')
d = float(np.abs(ours - ref).max())
print('scene: max abs diff %.3g over %d classes, probabilities %.3f..%.3f' % (d, len(ref), ref.min(), ref.max()))
assert d <= 1e-4, d"
	echo "encnet person $output" >&3
}

@test "--scene with -o also writes the mask; without -o it writes none" {
	run -0 --separate-stderr infer-seg -m "$BATS_FILE_TMPDIR/encnet.w" --scene -o "$BATS_TEST_TMPDIR/m.png" \
		/usr/share/darknet/data/dog.jpg
	assert_file_exists "$BATS_TEST_TMPDIR/m.png"
	cmp "$BATS_TEST_TMPDIR/m.png" <(infer-seg -m "$BATS_FILE_TMPDIR/encnet.w" /usr/share/darknet/data/dog.jpg)
	[ "${#lines[@]}" -eq 19 ]
}

@test "the same bytes with 1 and 2 threads (logits, mask and scene)" {
	# a 64x64 model: rescaled inputs of 64x48, fast enough to run twice
	weightconv --size 64x64 "$REF_DIR/encnet/ckpt.pth" -o "$BATS_TEST_TMPDIR/small.w" 2>/dev/null
	for t in 1 2; do
		infer-seg -m "$BATS_TEST_TMPDIR/small.w" -t $t --logits "$BATS_TEST_TMPDIR/$t.npy" \
			-o "$BATS_TEST_TMPDIR/$t.png" --scene /usr/share/darknet/data/kite.jpg > "$BATS_TEST_TMPDIR/$t.txt"
	done
	cmp "$BATS_TEST_TMPDIR/1.npy" "$BATS_TEST_TMPDIR/2.npy"
	cmp "$BATS_TEST_TMPDIR/1.png" "$BATS_TEST_TMPDIR/2.png"
	cmp "$BATS_TEST_TMPDIR/1.txt" "$BATS_TEST_TMPDIR/2.txt"
	# the photo fitted into 64x64 keeping its ratio, as mmcv's rescale_size computes it
	run -0 "$PY" -c "
import sys; sys.dont_write_bytecode = True; sys.path.insert(0, '$TOP/scripts/ref')
import numpy as np; from PIL import Image; from encnet_model import rescale_size
w, h = rescale_size(*Image.open('/usr/share/darknet/data/kite.jpg').size, (64, 64))
print(np.load('$BATS_TEST_TMPDIR/1.npy').shape == (19, h, w), h, w)"
	assert_output --regexp "^True [0-9]+ 64$"
}

@test "--scene goes with one image, not --list" {
	run -2 --separate-stderr infer-seg -m "$BATS_FILE_TMPDIR/encnet.w" --scene --list /dev/null -O "$BATS_TEST_TMPDIR"
	assert_output ""
	[[ $stderr == "infer-seg: "*"--scene"* ]]
}

@test "weightconv accepts the mmcv checkpoint and leaves out the auxiliary head with a note" {
	run -0 --separate-stderr weightconv --check "$REF_DIR/encnet/ckpt.pth"
	assert_output --partial "ok: encnet resnet50, 19 classes"
	assert_output --partial "8 auxiliary_head tensors"
	run -0 grep -c "note: leaving out 8 auxiliary_head" "$BATS_FILE_TMPDIR/convert.err"
	run -0 --separate-stderr weightconv --check "$BATS_FILE_TMPDIR/encnet.w"
	assert_output --partial "ok: encnet resnet50, 19 classes"
	run -0 --separate-stderr weightconv --info "$BATS_FILE_TMPDIR/encnet.w"
	assert_output --partial "arch: encnet"
	assert_output --partial "normalize: imagenet"
	refute_output --partial "auxiliary_head"
}

@test "--backbone resnet101 on a ResNet-50 checkpoint is refused, naming both" {
	run -1 --separate-stderr weightconv --check -a encnet --backbone resnet101 "$REF_DIR/encnet/ckpt.pth"
	[[ $stderr == *"resnet101"*"ResNet-50"* ]]
}

@test "a malformed checkpoint is reported tensor by tensor, and nothing is written" {
	"$PY" -c "
import torch
ck = torch.load('$REF_DIR/encnet/ckpt.pth', map_location='cpu')
sd = ck['state_dict']
sd['decode_head.enc_module.encoding.0.codewords'] = torch.zeros(16, 512)
del sd['decode_head.se_layer.weight']
torch.save(ck, '$BATS_TEST_TMPDIR/bad.pth')"
	run -1 --separate-stderr weightconv --check "$BATS_TEST_TMPDIR/bad.pth"
	[[ $stderr == *"bad.pth: tensor 'decode_head.enc_module.encoding.0.codewords': shape [16, 512], the model expects [32, 512]"* ]]
	[[ $stderr == *"bad.pth: missing tensor 'decode_head.se_layer.weight'"* ]]
	run -1 --separate-stderr weightconv "$BATS_TEST_TMPDIR/bad.pth" -o "$BATS_TEST_TMPDIR/bad.w"
	assert_file_not_exists "$BATS_TEST_TMPDIR/bad.w"
}

@test "flops-count: an EncNet .w has PyTorch's parameter count (auxiliary head left out)" {
	local dir="$REF_DIR/encnet"
	run -0 --separate-stderr flops-count --json -m "$BATS_FILE_TMPDIR/encnet.w"
	local ours
	ours=$(printf '%s\n' "$output" | jq '.params')
	run -0 "$PY" -c "
import torch
sd = torch.load('$dir/ckpt.pth', map_location='cpu')
sd = sd.get('state_dict', sd)
skip = ('running_mean', 'running_var', 'num_batches_tracked')
print(sum(v.numel() for k, v in sd.items() if not k.startswith('auxiliary_head.') and not k.endswith(skip)))"
	echo "encnet params: flops-count $ours, PyTorch $output" >&3
	[ "$ours" -eq "$output" ]
	run -0 flops-count --per-layer -m "$BATS_FILE_TMPDIR/encnet.w"
	[[ "$output" == *Encoding* ]]
}
