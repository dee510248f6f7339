#!/usr/bin/env bats
# weightconv: torch.save checkpoints -> .w, --info, --check, and what it refuses.
load helpers/common

setup_file() {
	load helpers/common
	"$TOP/scripts/ref/make-seg-refs" mobilenet-16 >&2
}

setup() {
	CK="$REF_DIR/seg/mobilenet-16/ckpt.pth"
}

# Rewrites the test checkpoint with a Python edit of its state_dict `sd`.
edit_ckpt() {
	"$PY" - "$CK" "$1" "$2" <<PYEOF
import sys, torch
sd = torch.load(sys.argv[1])
$3
torch.save(sd, sys.argv[2])
PYEOF
}

@test "converts a bare state_dict; --info shows the metadata; Python reads the .w" {
	run -0 weightconv -a deeplabv3plus --backbone mobilenet --downsample 16 -n 21 "$CK" -o "$BATS_TEST_TMPDIR/m.w"
	run -0 weightconv --info "$BATS_TEST_TMPDIR/m.w"
	assert_line "arch: deeplabv3plus"
	assert_line "backbone: mobilenet"
	assert_line "downsample: 16"
	assert_line "num_classes: 21"
	assert_line --regexp '^cls_conv.weight +F32 +\[21, 256, 1, 1\]$'
	run -0 "$PY" "$TOP/scripts/ref/wfile-check.py" "$BATS_TEST_TMPDIR/m.w"
	run -0 weightconv --check "$BATS_TEST_TMPDIR/m.w"
}

@test "backbone and classes are inferred; --fp16 halves the file; --names are stored" {
	seq 0 20 | sed 's/^/class /' > "$BATS_TEST_TMPDIR/names"
	run -0 weightconv --fp16 --names "$BATS_TEST_TMPDIR/names" "$CK" -o "$BATS_TEST_TMPDIR/h.w"
	run -0 weightconv "$CK" -o "$BATS_TEST_TMPDIR/f.w"
	local h f
	h=$(stat -c %s "$BATS_TEST_TMPDIR/h.w")
	f=$(stat -c %s "$BATS_TEST_TMPDIR/f.w")
	[ $((h * 2)) -lt $((f + 200000)) ] && [ $((h * 2)) -gt $((f - 200000)) ]
	run -0 weightconv --info "$BATS_TEST_TMPDIR/h.w"
	assert_line --partial 'class_names: ["class 0","class 1",'
	assert_line --regexp '^cls_conv.weight +F16 '
}

@test "wrappers: {'state_dict': ...}, {'model': ...} and DataParallel's module. prefixes" {
	edit_ckpt "$BATS_TEST_TMPDIR/a.pth" "" "sd = {'state_dict': sd, 'epoch': 3}"
	edit_ckpt "$BATS_TEST_TMPDIR/b.pth" "" "import collections; sd = {'model': collections.OrderedDict(('module.' + k, v) for k, v in sd.items())}"
	run -0 weightconv "$BATS_TEST_TMPDIR/a.pth" -o "$BATS_TEST_TMPDIR/a.w"
	run -0 weightconv "$BATS_TEST_TMPDIR/b.pth" -o "$BATS_TEST_TMPDIR/b.w"
	run -0 weightconv "$CK" -o "$BATS_TEST_TMPDIR/c.w"
	# Same tensors, same bytes; only the metadata's source file name differs.
	for x in a b c; do
		"$PY" - "$BATS_TEST_TMPDIR/$x.w" > "$BATS_TEST_TMPDIR/$x.sum" <<'PYEOF'
import hashlib, json, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
h.pop('__metadata__')
print(hashlib.sha256(json.dumps(h, sort_keys=True).encode() + b[8 + n:]).hexdigest())
PYEOF
	done
	cmp "$BATS_TEST_TMPDIR/a.sum" "$BATS_TEST_TMPDIR/c.sum"
	cmp "$BATS_TEST_TMPDIR/b.sum" "$BATS_TEST_TMPDIR/c.sum"
}

@test "--check names every missing, unexpected and mis-shaped tensor; no output file" {
	edit_ckpt "$BATS_TEST_TMPDIR/bad.pth" "" "
del sd['aspp.branch2.1.running_var']
sd['cat_conv.4.weight'] = sd['cat_conv.4.weight'][:, :100].clone()
sd['extra.head.weight'] = torch.zeros(3)"
	run -1 --separate-stderr weightconv --check "$BATS_TEST_TMPDIR/bad.pth"
	[[ "$stderr" == *"missing tensor 'aspp.branch2.1.running_var'"* ]]
	[[ "$stderr" == *"tensor 'cat_conv.4.weight': shape [256, 100, 3, 3], the model expects [256, 256, 3, 3]"* ]]
	[[ "$stderr" == *"unexpected tensor 'extra.head.weight'"* ]]
	run -1 --separate-stderr weightconv "$BATS_TEST_TMPDIR/bad.pth" -o "$BATS_TEST_TMPDIR/bad.w"
	assert_file_not_exists "$BATS_TEST_TMPDIR/bad.w"
}

@test "a wrong class count is reported as a shape error" {
	run -1 --separate-stderr weightconv -n 19 "$CK" -o "$BATS_TEST_TMPDIR/x.w"
	[[ "$stderr" == *"tensor 'cls_conv.weight': shape [21, 256, 1, 1], the model expects [19, 256, 1, 1]"* ]]
	assert_file_not_exists "$BATS_TEST_TMPDIR/x.w"
}

@test "a pickle that names os.system is refused, naming it, and nothing runs" {
	"$PY" - "$BATS_TEST_TMPDIR/evil.pth" "$BATS_TEST_TMPDIR/pwned" <<'PYEOF'
import os, sys, torch
class Evil:
    def __reduce__(self):
        return (os.system, ("touch " + sys.argv[2],))
torch.save({"w": torch.zeros(2), "x": Evil()}, sys.argv[1])
PYEOF
	run -1 --separate-stderr weightconv "$BATS_TEST_TMPDIR/evil.pth" -o "$BATS_TEST_TMPDIR/evil.w"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"evil.pth"*"'"*"system'"* ]]
	assert_file_not_exists "$BATS_TEST_TMPDIR/pwned"
	assert_file_not_exists "$BATS_TEST_TMPDIR/evil.w"
}

@test "a truncated checkpoint: exit 1 naming the file" {
	head -c 300000 "$CK" > "$BATS_TEST_TMPDIR/cut.pth"
	run -1 --separate-stderr weightconv "$BATS_TEST_TMPDIR/cut.pth" -o "$BATS_TEST_TMPDIR/cut.w"
	[[ "$stderr" == "weightconv: "*"cut.pth"* ]]
	assert_file_not_exists "$BATS_TEST_TMPDIR/cut.w"
}

@test "a .w that lies about a tensor's size: --check and infer-seg refuse it" {
	weightconv "$CK" -o "$BATS_TEST_TMPDIR/m.w"
	"$PY" - "$BATS_TEST_TMPDIR/m.w" <<'PYEOF'
import json, struct, sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
h['cls_conv.bias']['shape'] = [22]
s = json.dumps(h, separators=(',', ':')).encode()
s += b' ' * (n - len(s))
assert len(s) == n
b[8:8 + n] = s
open(p, 'wb').write(b)
PYEOF
	run -1 --separate-stderr weightconv --check "$BATS_TEST_TMPDIR/m.w"
	[[ "$stderr" == *"m.w"*"cls_conv.bias"* ]]
}

@test "a checkpoint given as a model: one line, in every program, saying to convert it first" {
	cp "$CK" "$BATS_TEST_TMPDIR/renamed.w" # the first bytes decide, not the name
	"$PY" -c 'import sys, torch; torch.save(torch.load(sys.argv[1]), sys.argv[2], _use_new_zipfile_serialization=False)' \
		"$CK" "$BATS_TEST_TMPDIR/legacy.pth"
	for f in "$CK" "$BATS_TEST_TMPDIR/renamed.w" "$BATS_TEST_TMPDIR/legacy.pth"; do
		for prog in flops-count infer-seg infer-detect infer-classify; do
			local img=/usr/share/darknet/data/dog.jpg
			[ $prog = flops-count ] && img=
			run -1 --separate-stderr $prog -m "$f" $img
			[ -z "$output" ]
			assert_equal "$stderr" "$prog: $f: a PyTorch checkpoint, not a .w model: convert it first with weightconv $f -o MODEL.w"
		done
	done
}

@test "a .w given to convert is refused as already converted, pointing to --info" {
	weightconv -q "$CK" -o "$BATS_TEST_TMPDIR/m.w"
	run -1 --separate-stderr weightconv "$BATS_TEST_TMPDIR/m.w" -o "$BATS_TEST_TMPDIR/again.w"
	assert_equal "$stderr" "weightconv: $BATS_TEST_TMPDIR/m.w: a .w model file, already converted (see inside with weightconv --info $BATS_TEST_TMPDIR/m.w)"
	assert_file_not_exists "$BATS_TEST_TMPDIR/again.w"
	# --check and --info still take it
	run -0 weightconv --check "$BATS_TEST_TMPDIR/m.w"
	run -0 weightconv --info "$BATS_TEST_TMPDIR/m.w"
}

@test "a wrong --backbone is one line naming the checkpoint's; unknown names list the valid ones" {
	run -1 --separate-stderr weightconv --backbone xception "$CK" -o "$BATS_TEST_TMPDIR/x.w"
	assert_equal "$stderr" "weightconv: $CK: --backbone xception, but the checkpoint's backbone is mobilenet (it has backbone.features.0.0.weight): the backbones are mobilenet and xception; leave --backbone out to take it from the checkpoint"
	run -1 --separate-stderr weightconv --check --backbone xception "$CK"
	[ "${#stderr_lines[@]}" -eq 1 ]
	run -1 --separate-stderr weightconv --backbone resnet101 "$CK" -o "$BATS_TEST_TMPDIR/x.w"
	assert_equal "$stderr" "weightconv: $CK: --backbone resnet101 is an EncNet backbone, but this is a DeepLabV3+ checkpoint: its backbones are mobilenet and xception"
	run -2 --separate-stderr weightconv --backbone mobilnet "$CK" -o "$BATS_TEST_TMPDIR/x.w"
	assert_equal "${stderr_lines[0]}" "weightconv: --backbone: unknown backbone 'mobilnet' (deeplabv3plus: mobilenet, xception; encnet: resnet50, resnet101)"
	run -2 --separate-stderr weightconv -a encnet --backbone xception "$CK" -o "$BATS_TEST_TMPDIR/x.w"
	assert_equal "${stderr_lines[0]}" "weightconv: --backbone xception is not one of encnet's (resnet50 or resnet101)"
	run -2 --separate-stderr weightconv -a resnet50 --backbone xception "$CK" -o "$BATS_TEST_TMPDIR/x.w"
	assert_equal "${stderr_lines[0]}" "weightconv: --backbone goes with deeplabv3plus or encnet, not resnet50"
	# tensors of another network altogether: one line, not one per tensor
	edit_ckpt "$BATS_TEST_TMPDIR/other.pth" "" "sd = {'net.' + k: v for k, v in sd.items()}"
	run -1 --separate-stderr weightconv --backbone mobilenet -n 21 "$BATS_TEST_TMPDIR/other.pth" -o "$BATS_TEST_TMPDIR/x.w"
	assert_equal "$stderr" "weightconv: $BATS_TEST_TMPDIR/other.pth: not the tensors of deeplabv3plus mobilenet: 311 of its 311 are missing (the first: 'backbone.features.0.0.weight'); check -a and --backbone"
	assert_file_not_exists "$BATS_TEST_TMPDIR/x.w"
}

@test "--downsample is refused for EncNet (output stride 8), named or found from the tensors" {
	run -2 --separate-stderr weightconv -a encnet --downsample 16 "$CK" -o "$BATS_TEST_TMPDIR/e.w"
	assert_equal "${stderr_lines[0]}" "weightconv: --downsample: EncNet's output stride is always 8 (a dilated ResNet): leave it out"
	"$PY" -c 'import sys, torch; torch.save({"decode_head.enc_module.encoding.0.codewords": torch.zeros(32, 512)}, sys.argv[1])' \
		"$BATS_TEST_TMPDIR/enc.pth"
	run -2 --separate-stderr weightconv --downsample 8 "$BATS_TEST_TMPDIR/enc.pth" -o "$BATS_TEST_TMPDIR/e.w"
	assert_equal "${stderr_lines[0]}" "weightconv: --downsample: EncNet's output stride is always 8 (a dilated ResNet): leave it out"
	assert_file_not_exists "$BATS_TEST_TMPDIR/e.w"
}

@test "-q silences the downsample warning; sizes are HxW or N; unknown options name the closest" {
	run -0 --separate-stderr weightconv "$CK" -o "$BATS_TEST_TMPDIR/a.w"
	assert_equal "$stderr" "weightconv: $CK: no --downsample given: assuming 16, as upstream's default"
	run -0 --separate-stderr weightconv -q --size 256 "$CK" -o "$BATS_TEST_TMPDIR/q.w"
	assert_equal "$stderr" ""
	run -0 weightconv --info "$BATS_TEST_TMPDIR/q.w"
	assert_line "input_height: 256"
	assert_line "input_width: 256"
	run -0 --separate-stderr weightconv -q --size 256x320 "$CK" -o "$BATS_TEST_TMPDIR/r.w"
	run -0 weightconv --info "$BATS_TEST_TMPDIR/r.w"
	assert_line "input_height: 256"
	assert_line "input_width: 320"
	run -2 --separate-stderr weightconv --size 256x "$CK" -o "$BATS_TEST_TMPDIR/s.w"
	run -2 --separate-stderr weightconv --downsampel 8 "$CK" -o "$BATS_TEST_TMPDIR/s.w"
	assert_equal "$stderr" "weightconv: unknown option '--downsampel' (did you mean --downsample?)"
	run -2 --separate-stderr weightconv "$CK" -o
	assert_equal "$stderr" "weightconv: option '-o' needs a value"
	run -2 --separate-stderr weightconv --fp16=1 "$CK" -o "$BATS_TEST_TMPDIR/s.w"
	assert_equal "$stderr" "weightconv: option '--fp16' takes no value"
}

@test "usage errors exit 2; --help exits 0 and every long option is in the man page" {
	run -2 weightconv
	run -2 weightconv "$CK"
	run -2 weightconv --downsample 12 "$CK" -o x.w
	run -0 weightconv --help
	for opt in $(weightconv --help | grep -o -- '--[a-z0-9-]*' | sort -u); do
		grep -q -- "${opt//-/\\\\-}" "$TOP/man/man1/weightconv.1" || { echo "man page lacks $opt"; return 1; }
	done
	run -0 --separate-stderr groff -man -ww -z "$TOP/man/man1/weightconv.1"
	assert_equal "$stderr" ""
}
