#!/usr/bin/env bats
# flops-count against the published numbers (ultralytics README and model printouts, the
# DeepLabV3+ counts of notes/segmentation.md 1.7) and against the PyTorch oracle
# (scripts/ref/flops-ref.py: parameters of the oracle models, thop's rules as forward hooks).
load helpers/common

CFG="$TOP/scripts/ref/yolov5/cfg"

setup_file() {
	load helpers/common
	d="$REF_DIR/flops"
	mkdir -p "$d"
	for m in n s; do
		[ -s "$d/yolov5$m.json" ] ||
			"$PY" "$TOP/scripts/ref/flops-ref.py" yolov5 "$CFG/yolov5$m.yaml" > "$d/yolov5$m.json"
	done
	[ -s "$d/yolov5n-320x256.json" ] ||
		"$PY" "$TOP/scripts/ref/flops-ref.py" yolov5 "$CFG/yolov5n.yaml" --size 320x256 --probe > "$d/yolov5n-320x256.json"
	[ -s "$d/mobilenet-16.json" ] ||
		"$PY" "$TOP/scripts/ref/flops-ref.py" deeplabv3plus mobilenet > "$d/mobilenet-16.json"
	[ -s "$d/xception-8-256.json" ] ||
		"$PY" "$TOP/scripts/ref/flops-ref.py" deeplabv3plus xception --downsample 8 --size 256 > "$d/xception-8-256.json"
}

# ref FILE KEY: a number from a flops-ref.py answer
ref() {
	"$PY" -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(v if isinstance(v, int) else repr(v))' \
		"$REF_DIR/flops/$1.json" "$2"
}

# csv_total ARGS...: "params,macs,flops" of the total
csv_total() {
	run -0 --separate-stderr flops-count --csv "$@"
	echo "${lines[1]}"
}

@test "yolov5n/s/m/l/x: ultralytics' parameters (unfused and fused) and GFLOPs at 640" {
	# model  unfused  fused  README GFLOPs@640
	while read -r m unfused fused gflops; do
		run -0 --separate-stderr flops-count --arch yolov5 --cfg "$CFG/yolov5$m.yaml" --json
		p=$(echo "$output" | jq .params)
		g=$(printf '%.1f' "$(echo "$output" | jq '.flops / 1e9')")
		echo "yolov5$m: $p params, $g GFLOPs (published $unfused, $gflops)" >&3
		[ "$p" = "$unfused" ]
		[ "$g" = "$gflops" ]
		run -0 --separate-stderr flops-count --arch yolov5 --cfg "$CFG/yolov5$m.yaml" --bn folded --json
		[ "$(echo "$output" | jq .params)" = "$fused" ]
	done <<-EOF
		n 1872157 1867405 4.5
		s 7235389 7225885 16.5
		m 21190557 21172173 49.0
		l 46563709 46533693 109.1
		x 86749405 86705005 205.7
	EOF
}

@test "yolov5s: thop's rules give the printouts' 16.6 (training, unfused) and 16.4 (fused)" {
	run -0 --separate-stderr flops-count --arch yolov5 --cfg "$CFG/yolov5s.yaml" --convention thop --json
	[ "$(echo "$output" | jq .gflops)" = 16.6 ]
	run -0 --separate-stderr flops-count --arch yolov5 --cfg "$CFG/yolov5s.yaml" --convention thop --bn folded --json
	[ "$(echo "$output" | jq .gflops)" = 16.4 ]
	[ "$(echo "$output" | jq .params)" = 7225885 ]
}

@test "yolov5n/s at 640: parameters, conv MACs and thop MACs equal the PyTorch oracle's" {
	for m in n s; do
		f=yolov5$m
		assert_equal "$(csv_total --arch yolov5 --cfg "$CFG/$f.yaml")" \
			"$(ref $f params),$(($(ref $f conv_macs) + $(ref $f bn_elems))),$((2 * ($(ref $f conv_macs) + $(ref $f bn_elems))))"
		assert_equal "$(csv_total --arch yolov5 --cfg "$CFG/$f.yaml" --convention conv --bn folded)" \
			"$(ref $f params_fused),$(ref $f conv_macs),$((2 * $(ref $f conv_macs)))"
		assert_equal "$(csv_total --arch yolov5 --cfg "$CFG/$f.yaml" --convention thop)" \
			"$(ref $f params),$(ref $f thop_macs),$((2 * $(ref $f thop_macs)))"
		assert_equal "$(csv_total --arch yolov5 --cfg "$CFG/$f.yaml" --convention thop --bn folded | cut -d, -f2)" \
			"$(ref $f thop_macs_fused)"
	done
}

@test "yolov5n at 320x256: thop MACs equal the oracle's and model_info's 32x32 probe scaled by 10 x 8" {
	f=yolov5n-320x256
	assert_equal "$(csv_total --arch yolov5 --cfg "$CFG/yolov5n.yaml" --size 320x256 --convention thop | cut -d, -f2)" \
		"$(ref $f thop_macs)"
	# model_info's own figure: 2 x thop(32x32) x 10 x 8 with today's thop rules
	run -0 --separate-stderr flops-count --arch yolov5 --cfg "$CFG/yolov5n.yaml" --size 320x256 --convention thop --json
	"$PY" -c 'import sys; a, b = map(float, sys.argv[1:]); assert abs(a - b) < 1e-9 * b, (a, b)' \
		"$(echo "$output" | jq .flops)" "$(ref $f gflops)e9"
}

@test "yolov5s --per-layer: model.<i> rows with ultralytics' parameters, summing to the total" {
	run -0 --separate-stderr flops-count --arch yolov5 --cfg "$CFG/yolov5s.yaml" --per-layer --csv
	assert_line --index 0 "layer,module,c,h,w,params,macs,flops"
	assert_line --index 1 --regexp '^model\.0,Conv,32,320,320,3520,'
	assert_line --index 10 --regexp '^model\.9,SPPF,512,20,20,656896,'
	assert_line --index 12 --regexp '^model\.11,nn\.Upsample,256,40,40,0,0,0$'
	assert_line --index 25 --regexp '^model\.24,Detect,.*,229245,'
	assert_line --index 26 --regexp '^total,,,,,7235389,8240435200,16480870400$'
	got=$(printf '%s\n' "${lines[@]:1:25}" | cut -d, -f6 | paste -sd' ')
	want=$("$PY" -c 'import json,sys; print(" ".join(map(str, json.load(open(sys.argv[1]))["layer_params"])))' \
		"$REF_DIR/flops/yolov5s.json")
	assert_equal "$got" "$want"
	sum=$(printf '%s\n' "${lines[@]:1:25}" | awk -F, '{m += $7} END {printf "%.0f", m}')
	assert_equal "$sum" 8240435200
}

@test "DeepLabV3+ at 512: parameters and conv MACs of notes 1.7 (df16 and df8)" {
	# backbone df params MACs (G, 2 decimals)
	while read -r bb df params gmacs; do
		run -0 --separate-stderr flops-count --arch deeplabv3plus --backbone $bb --downsample $df -n 21 --size 512 --json
		p=$(echo "$output" | jq .params)
		g=$(echo "$output" | jq '.macs / 1e7 | round / 100')
		echo "$bb df$df: $p params, $g G MACs (published $params, $gmacs)" >&3
		[ "$p" = "$params" ]
		[ "$g" = "$gmacs" ]
	done <<-EOF
		mobilenet 16 5818149 26.31
		mobilenet 8 5818149 39.65
		xception 16 54713557 82.82
		xception 8 54713557 241.62
	EOF
}

@test "DeepLabV3+: parameters, conv and thop MACs equal the PyTorch oracle's" {
	f=mobilenet-16
	assert_equal "$(csv_total --arch deeplabv3plus --backbone mobilenet)" \
		"$(ref $f params),$(ref $f conv_macs),$((2 * $(ref $f conv_macs)))"
	assert_equal "$(csv_total --arch deeplabv3plus --backbone mobilenet --convention thop | cut -d, -f2)" "$(ref $f thop_macs)"
	assert_equal "$(csv_total --arch deeplabv3plus --backbone mobilenet --bn folded | cut -d, -f1)" "$(ref $f params_fused)"
	f=xception-8-256
	assert_equal "$(csv_total --arch deeplabv3plus --backbone xception --downsample 8 --size 256)" \
		"$(ref $f params),$(ref $f conv_macs),$((2 * $(ref $f conv_macs)))"
	assert_equal "$(csv_total --arch deeplabv3plus --backbone xception --downsample 8 --size 256 --convention thop | cut -d, -f2)" \
		"$(ref $f thop_macs)"
}

@test "DeepLabV3+ --per-layer: one row per conv module, summing to the total" {
	run -0 --separate-stderr flops-count --arch deeplabv3plus --backbone xception --per-layer --csv
	assert_line --index 1 --regexp '^backbone\.conv1,Conv2d\+BN,32,256,256,928,'
	assert_line --regexp '^cls_conv,Conv2d,21,128,128,5397,'
	assert_line --regexp '^total,,,,,54713557,82820505600,165641011200$'
	sum=$(printf '%s\n' "${lines[@]}" | sed '1d;$d' | awk -F, '{p += $6; m += $7} END {printf "%d %.0f", p, m}')
	assert_equal "$sum" "54713557 82820505600"
}

@test "a .w file: the real yolov5n counts as its architecture does" {
	ckpt=$TOP/../shared/models/yolov5n-v6.1-coco.pt
	[ -f "$ckpt" ] || skip "no $ckpt"
	[ -f "$REF_DIR/flops/real-yolov5n.w" ] || weightconv "$ckpt" -o "$REF_DIR/flops/real-yolov5n.w"
	run -0 --separate-stderr flops-count -m "$REF_DIR/flops/real-yolov5n.w"
	assert_line --regexp '^parameters +1872157 '
	assert_line --regexp '^FLOPs +[0-9]+ \(4\.5 G\)$'
	run -0 --separate-stderr flops-count -m "$REF_DIR/flops/real-yolov5n.w" --per-layer --json
	[ "$(echo "$output" | jq '.layers | length')" = 25 ]
	[ "$(echo "$output" | jq -r '.layers[24].module')" = Detect ]
}

@test "a .w file: a DeepLabV3+ model counts as its architecture does" {
	d=$REF_DIR/seg/mobilenet-16
	"$TOP/scripts/ref/make-seg-refs" mobilenet-16 >&2
	[ -f "$d/model.w" ] || weightconv --downsample 16 "$d/ckpt.pth" -o "$d/model.w"
	assert_equal "$(csv_total -m "$d/model.w" --size 512)" "5818149,26310950912,52621901824"
}

@test "usage errors exit 2, bad input exits 1 with the file named" {
	run -2 --separate-stderr flops-count
	run -2 --separate-stderr flops-count --arch yolov5
	[[ "$stderr" == "flops-count: --arch yolov5 needs --cfg MODEL.yaml"* ]]
	run -2 --separate-stderr flops-count --arch deeplabv3plus --convention flops
	run -2 --separate-stderr flops-count --arch deeplabv3plus --bn maybe
	run -2 --separate-stderr flops-count --arch deeplabv3plus --size 10
	printf 'nc: 80\nbackbone: [[-1, 1, Nope, [3]]]\nhead: [[-1, 1, Conv, [3]]]\n' > "$BATS_TEST_TMPDIR/bad.yaml"
	run -1 --separate-stderr flops-count --arch yolov5 --cfg "$BATS_TEST_TMPDIR/bad.yaml"
	[[ "$stderr" == *bad.yaml* ]]
	printf 'not a model' > "$BATS_TEST_TMPDIR/x.w"
	run -1 --separate-stderr flops-count -m "$BATS_TEST_TMPDIR/x.w"
	[[ "$stderr" == *x.w* ]]
	run -0 flops-count --help
	assert_line --partial "Usage: flops-count"
}

@test "-n replaces the yaml's classes (the attention-module tutorial's nc 1 yolov5s: 7,022,326 / 7,012,822)" {
	run -0 --separate-stderr flops-count --arch yolov5 --cfg "$CFG/yolov5s.yaml" -n 1 --csv
	assert_line --index 1 --regexp '^7022326,'
	[ -z "$stderr" ]
	run -0 --separate-stderr flops-count --arch yolov5 --cfg "$CFG/yolov5s.yaml" --num-classes 1 --bn folded --convention conv --json
	[ "$(echo "$output" | jq .params)" = 7012822 ]
}

@test "the old --nc and --classes still work, with a one-line deprecation note" {
	run -0 --separate-stderr flops-count --arch yolov5 --cfg "$CFG/yolov5s.yaml" --nc 1 --csv
	assert_line --index 1 --regexp '^7022326,'
	assert_equal "$stderr" "flops-count: --nc is deprecated: use -n/--num-classes"
	run -0 --separate-stderr flops-count --arch resnet50 --classes 10 --csv
	assert_equal "$stderr" "flops-count: --classes is deprecated: use -n/--num-classes"
	assert_equal "${lines[1]}" "$(flops-count --arch resnet50 -n 10 --csv | sed -n 2p)"
}

@test "yolov5 --size 500 counts as 512, with detect.py's check_img_size warning" {
	run -0 --separate-stderr flops-count --arch yolov5 --cfg "$CFG/yolov5n.yaml" --size 500 --json
	assert_equal "$stderr" "flops-count: WARNING ⚠️ --img-size 500 must be multiple of max stride 32, updating to 512"
	local got=$output
	run -0 --separate-stderr flops-count --arch yolov5 --cfg "$CFG/yolov5n.yaml" --size 512 --json
	[ -z "$stderr" ]
	assert_equal "$got" "$output"
	[ "$(echo "$got" | jq -c .input)" = "[512,512]" ]
	# HxW is detect.py's list form; -q silences the warning
	run -0 --separate-stderr flops-count --arch yolov5 --cfg "$CFG/yolov5n.yaml" --size 500x700 --csv
	assert_equal "$stderr" "flops-count: WARNING ⚠️ --img-size [500, 700] must be multiple of max stride 32, updating to [512, 704]"
	assert_equal "$output" "$(flops-count --arch yolov5 --cfg "$CFG/yolov5n.yaml" --size 512x704 --csv)"
	run -0 --separate-stderr flops-count -q --arch yolov5 --cfg "$CFG/yolov5n.yaml" --size 300 --csv
	[ -z "$stderr" ]
}

@test "options: unknown ones name the closest, one line, exit 2; --csv with --json; -n with -m" {
	run -2 --separate-stderr flops-count --arch yolov5 --cfg "$CFG/yolov5n.yaml" --jsno
	[ -z "$output" ]
	assert_equal "$stderr" "flops-count: unknown option '--jsno' (did you mean --json?)"
	run -2 --separate-stderr flops-count --arch resnet50 --per-layr
	assert_equal "$stderr" "flops-count: unknown option '--per-layr' (did you mean --per-layer?)"
	run -2 --separate-stderr flops-count --arch resnet50 --size
	assert_equal "$stderr" "flops-count: option '--size' needs a value"
	run -2 --separate-stderr flops-count --arch resnet50 -x
	assert_equal "$stderr" "flops-count: unknown option '-x' (see flops-count --help)"
	run -2 --separate-stderr flops-count --arch resnet50 --csv --json
	assert_equal "${stderr_lines[0]}" "flops-count: --csv and --json exclude each other"
	run -2 --separate-stderr flops-count -m x.w -n 3
	assert_equal "${stderr_lines[0]}" "flops-count: -n goes with --arch: a .w model has its own classes"
	run -2 --separate-stderr flops-count --arch resnet50 --downsample 8
	run -2 --separate-stderr flops-count --arch resnet50 --size 224x
}

@test "man page: groff is silent, every long option of --help is documented" {
	local man="$TOP/man/man1/flops-count.1"
	run -0 --separate-stderr groff -man -ww -z "$man"
	[ -z "$output" ] && [ -z "$stderr" ]
	for o in $(flops-count --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		grep -qF -- "${o//-/\\-}" "$man" || { echo "missing $o"; return 1; }
	done
}

# --- classifiers : the TensorFlow tutorial's Keras GoogLeNet and torchvision's models ----------------

@test "Keras GoogLeNet: the tutorial's 13,374,120 parameters and its per-layer table, MACs as the oracle's" {
	run -0 --separate-stderr flops-count --arch googlenet-keras --per-block --csv
	assert_line --regexp '^total,,,,,13374120,'
	# the tutorial's model.summary(): layer, output shape, parameters
	while read -r layer c h w params; do
		assert_line --regexp "^$layer,[a-zA-Z0-9]+,$c,$h,$w,$params,"
	done <<-EOF
		convolution-1 64 112 112 9472
		convolution-2 192 56 56 110784
		inception-3a 256 28 28 163696
		inception-3b 480 28 28 388736
		inception-4a 512 14 14 376176
		inception-4b 512 14 14 449160
		inception-4c 512 14 14 510104
		inception-4d 528 14 14 605376
		inception-4e 832 14 14 868352
		inception-5a 832 7 7 1043456
		inception-5b 1024 7 7 1444080
		linear 1000 1 1 1025000
		AuxiliaryClassifier-1 1000 1 1 3188840
		AuxiliaryClassifier-2 1000 1 1 3190888
	EOF
	[ "${#lines[@]}" -eq 16 ]
	# parameters and multiplies per layer against the same network built in PyTorch
	ref=$("$PY" "$TOP/scripts/ref/googlenet-keras-count.py")
	for row in "${lines[@]:1:14}"; do
		IFS=, read -r layer _ _ _ _ params macs _ <<< "$row"
		[ "$params" = "$(echo "$ref" | jq ".layer_params[\"$layer\"]")" ]
		[ "$macs" = "$(echo "$ref" | jq ".layer_macs[\"$layer\"]")" ]
	done
	[ "${lines[15]}" = "total,,,,,$(echo "$ref" | jq .params),$(echo "$ref" | jq .macs),$((2 * $(echo "$ref" | jq .macs)))" ]
}

@test "Inception 3a's 5x5 branch: the tutorial's 12,443,648 multiplies with the 1x1 reduction, 120,422,400 without" {
	ref=$("$PY" "$TOP/scripts/ref/googlenet-keras-count.py" 5x5)
	run -0 --separate-stderr flops-count --arch inception --per-layer --csv
	r=$(printf '%s\n' "${lines[@]}" | grep '^inception-3a\.branch3\.' | awk -F, '{m += $7} END {printf "%.0f", m}')
	[ "$r" = 12443648 ]
	[ "$r" = "$(echo "$ref" | jq .reduced)" ]
	run -0 --separate-stderr flops-count --arch inception --naive --per-layer --csv
	assert_line --regexp '^inception-3a\.branch3\.1,Conv2d,32,28,28,153632,120422400,'
	[ "$(echo "$ref" | jq .naive)" = 120422400 ]
}

@test "torchvision googlenet (no aux), resnet50, mobilenet_v2: parameters as torchvision counts them" {
	while read -r arch published; do
		want=$("$PY" "$TOP/scripts/ref/classify-ref.py" count "$arch")
		run -0 --separate-stderr flops-count --arch "$arch" --json
		p=$(echo "$output" | jq .params)
		echo "$arch: $p parameters (torchvision $want, published $published)" >&3
		[ "$p" = "$want" ]
		[ "$p" = "$published" ]
	done <<-EOF
		googlenet 6624904
		resnet50 25557032
		mobilenet_v2 3504872
	EOF
	# another class count changes the Linear only
	[ "$(flops-count --arch resnet50 -n 10 --json | jq .params)" = "$("$PY" "$TOP/scripts/ref/classify-ref.py" count resnet50 10)" ]
}

@test "torchvision classifiers: conv MACs at 224 (GoogLeNet 1.50 G, ResNet-50 4.09 G, MobileNetV2 0.30 G)" {
	while read -r arch macs; do
		run -0 --separate-stderr flops-count --arch "$arch" --json
		[ "$(echo "$output" | jq '.macs / 1e7 | round / 100')" = "$macs" ]
	done <<-EOF
		googlenet 1.5
		resnet50 4.09
		mobilenet_v2 0.3
	EOF
	run -0 --separate-stderr flops-count --arch resnet50 --per-block --csv
	assert_line --index 1 --regexp '^conv1,Conv2d\+BN,64,112,112,9536,'
	assert_line --regexp '^layer4,block,2048,7,7,14964736,'
}

@test "a classifier .w counts as its architecture does" {
	# its own folder: infer-classify.bats makes classify/mobilenet_v2 from all seven photos
	d=$REF_DIR/flops-classify/mobilenet_v2
	[ -s "$d/ckpt.pth" ] || "$PY" "$TOP/scripts/ref/classify-ref.py" make mobilenet_v2 "$d" /usr/share/darknet/data/dog.jpg /usr/share/darknet/data/kite.jpg >&2
	weightconv "$d/ckpt.pth" -o "$BATS_TEST_TMPDIR/m.w"
	assert_equal "$(csv_total -m "$BATS_TEST_TMPDIR/m.w")" "$(csv_total --arch mobilenet_v2)"
	assert_equal "$(csv_total -m "$BATS_TEST_TMPDIR/m.w" --size 160)" "$(csv_total --arch mobilenet_v2 --size 160)"
	run -0 --separate-stderr flops-count -m "$BATS_TEST_TMPDIR/m.w"
	assert_line --regexp '^parameters +3504872 '
}

@test "classifier usage errors exit 2, a size the Keras layout cannot take 1" {
	run -2 --separate-stderr flops-count --arch inception-v3
	run -2 --separate-stderr flops-count --arch googlenet --naive
	[[ "$stderr" == "flops-count: --naive goes with --arch inception"* ]]
	run -1 --separate-stderr flops-count --arch googlenet-keras --size 200
	[[ "$stderr" == "flops-count: "*"224x224"* ]]
}
