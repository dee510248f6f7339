#!/usr/bin/env bats
# What the inference programs take and give as a user of detect.py or predict.py expects:
# several files and folders, frame streams on standard input (ffmpeg image2pipe), one list
# syntax, valid JSON ids, detect.py's size rounding, output folders made first, same-named
# outputs refused, PNM input, pictures in the format their name says.
load helpers/common

D=/usr/share/darknet/data

setup_file() {
	load helpers/common
	"$TOP/scripts/hostile/make-models" "$REF_DIR/hostile" >&2
	# a few photos in other formats: PNG and PPM of the same pixels, a progressive JPEG
	"$PY" -c '
import sys
from PIL import Image
d = sys.argv[1]
im = Image.open("/usr/share/darknet/data/horses.jpg").convert("RGB")
im.save(d + "/horses.png"); im.save(d + "/horses.ppm")
g = im.convert("L"); g.save(d + "/horses-gray.png"); g.save(d + "/horses-gray.pgm")
Image.open("/usr/share/darknet/data/person.jpg").save(d + "/person-prog.jpg", progressive=True, quality=85)
' "$BATS_FILE_TMPDIR"
}

setup() {
	M="$REF_DIR/hostile"
	F="$BATS_FILE_TMPDIR"
	cd "$BATS_TEST_TMPDIR"
}

# jsonl_without_ids FILE: the detections with the image ids taken out
no_ids() {
	sed 's/"image_id": [^,]*, //' "$1"
}

@test "numeric file names give integer image ids, others strings: valid JSON that evaluate-map reads" {
	mkdir num
	cp "$D/dog.jpg" num/000000000042.jpg
	cp "$D/dog.jpg" num/dog.jpg
	infer-detect -m "$M/det.w" --conf 0.001 -f jsonl num/000000000042.jpg num/dog.jpg > d.jsonl
	infer-detect -m "$M/det.w" --conf 0.001 -f coco num/000000000042.jpg num/dog.jpg > d.json
	run -0 "$PY" -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
arr = json.load(open(sys.argv[2]))
ids = set(d["image_id"] for d in lines)
assert ids == {42, "dog"}, ids
assert len(arr) == len(lines) and all(a["image_id"] == b["image_id"] for a, b in zip(arr, lines))
print(len(lines), ids)' d.jsonl d.json
	mkdir labels
	echo "16 0.3 0.6 0.25 0.55" > labels/000000000042.txt
	echo "16 0.3 0.6 0.25 0.55" > labels/dog.txt
	run -0 --separate-stderr evaluate-map -q --labels labels -n 80 d.jsonl
}

@test "-f coco writes COCO's 91 category ids for a model of COCO's 80 classes; jsonl keeps indices" {
	infer-detect -m "$M/det.w" --conf 0.001 -f jsonl "$D/dog.jpg" > d.jsonl
	infer-detect -m "$M/det.w" --conf 0.001 -f coco "$D/dog.jpg" > d.json
	run -0 "$PY" -c '
import json, sys
ids91 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28,
         31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55,
         56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84,
         85, 86, 87, 88, 89, 90]
lines = [json.loads(l) for l in open(sys.argv[1])]
arr = json.load(open(sys.argv[2]))
assert len(lines) == len(arr) > 0
assert all(b["category_id"] == ids91[a["category_id"]] for a, b in zip(lines, arr))
assert all("width" in b and "height" in b for b in arr)
print(len(arr), "detections, e.g.", lines[0]["category_id"], "->", arr[0]["category_id"])' d.jsonl d.json
	echo "$output" >&3
}

@test "--size 500 runs at 512 with detect.py's warning and finds what detect.py --imgsz 500 finds" {
	"$TOP/scripts/ref/make-yolo-refs" yolov5n >&2
	local dir="$REF_DIR/yolo/yolov5n"
	[ -f "$dir/model.w" ] || weightconv "$dir/ckpt.pt" -o "$dir/model.w"
	"$PY" "$TOP/scripts/ref/yolov5/detect-ref.py" --weights "$dir/ckpt.pt" --imgsz 500 --out-dir ref500 \
		--image "$D/dog.jpg" --image "$D/horses.jpg" 2> ref.log
	want=$(grep '^WARNING' ref.log)
	[ "$want" = "WARNING ⚠️ --img-size [500, 500] must be multiple of max stride 32, updating to [512, 512]" ]
	for p in dog horses; do
		run -0 --separate-stderr infer-detect -m "$dir/model.w" --size 500 --no-round -o $p.txt "$D/$p.jpg"
		[ "$stderr" = "infer-detect: $want" ]
		run -0 "$PY" "$TOP/scripts/ref/compare-dets.py" dets $p.txt ref500/$p.dets.json
		echo "$p: $output" >&3
		infer-detect -m "$dir/model.w" --size 512 --no-round "$D/$p.jpg" | cmp - $p.txt
	done
}

@test "several FILE arguments and a folder give what --list gives for the same files, byte for byte" {
	mkdir photos
	cp "$D/dog.jpg" "$D/horses.jpg" "$D/eagle.jpg" "$F/horses.png" photos/
	cp "$D/kite.jpg" photos/.hidden.jpg
	echo "not an image" > photos/notes.txt
	printf '%s\n' photos/dog.jpg photos/eagle.jpg photos/horses.jpg photos/horses.png > sorted.txt
	# horses.jpg and horses.png share a name: the later one is refused in every run
	for fmt in text jsonl; do
		run -1 --separate-stderr infer-detect -m "$M/det.w" --conf 0.01 -f $fmt --list sorted.txt
		echo "$output" > list.$fmt
		[[ $stderr == *"photos/horses.png: skipped: its outputs would overwrite those of photos/horses.jpg"* ]]
		run -1 --separate-stderr infer-detect -m "$M/det.w" --conf 0.01 -f $fmt photos/
		[ "$output" = "$(cat list.$fmt)" ]
		run -1 --separate-stderr infer-detect -m "$M/det.w" --conf 0.01 -f $fmt photos/*.*
		[ "$output" = "$(cat list.$fmt)" ]
	done
	grep -q "^photos/dog.jpg"$'\t' list.text
	! grep -q hidden list.text
	rm photos/horses.png
	sed -i '$d' sorted.txt
	infer-classify -m "$M/cls.w" -k 2 --list sorted.txt > list.cls
	infer-classify -m "$M/cls.w" -k 2 photos > dir.cls
	cmp list.cls dir.cls
	[ "$(cut -f1 dir.cls | uniq | tr '\n' ' ')" = "photos/dog.jpg photos/eagle.jpg photos/horses.jpg " ]
	infer-seg -m "$M/seg.w" --list sorted.txt -O masks-list
	infer-seg -m "$M/seg.w" -O masks-dir photos
	infer-seg -m "$M/seg.w" -O masks-args photos/dog.jpg photos/eagle.jpg photos/horses.jpg
	diff -r masks-list masks-dir
	diff -r masks-list masks-args
	[ "$(ls masks-dir | tr '\n' ' ')" = "dog.png eagle.png horses.png " ]
}

@test "one list syntax: white space trimmed, blank and # lines skipped, CRLF; names with --images and --ext" {
	printf '%s\n' "$D/dog.jpg" "$D/eagle.jpg" > clean.txt
	printf '# photos\r\n\r\n   %s  \r\n\t\n# the eagle\n%s\t\r\n' "$D/dog.jpg" "$D/eagle.jpg" > messy.txt
	infer-detect -m "$M/det.w" --conf 0.01 --list clean.txt > a
	infer-detect -m "$M/det.w" --conf 0.01 --list messy.txt > b
	cmp a b
	[ -s a ]
	printf 'dog\n# not this\n  eagle\r\n' > names.txt
	infer-detect -m "$M/det.w" --conf 0.01 --list names.txt --images "$D/" > c
	cmp a c
	infer-classify -m "$M/cls.w" --list messy.txt > d
	infer-classify -m "$M/cls.w" --list names.txt --images "$D" --ext .jpg > e
	cmp d e
	# the VOC-style val.txt of the shipped samples feeds infer-seg as it feeds evaluate-miou
	infer-seg -m "$M/seg.w" --list "$TOP/samples/val.txt" --images "$TOP/samples/images" -O masks
	[ "$(ls masks | wc -l)" -eq "$(grep -c . "$TOP/samples/val.txt")" ]
	run -2 --separate-stderr infer-detect -m "$M/det.w" --images "$D" "$D/dog.jpg"
	[[ $stderr == "infer-detect: --images and --ext go with --list"* ]]
}

@test "a stream of frames on standard input: each detected as its own file would be, numbered from 1" {
	cat "$D/dog.jpg" "$F/horses.png" "$F/person-prog.jpg" "$F/horses.ppm" "$F/horses-gray.pgm" > stream
	infer-detect -m "$M/det.w" --conf 0.01 -f jsonl < stream > s.jsonl
	n=0
	for f in "$D/dog.jpg" "$F/horses.png" "$F/person-prog.jpg" "$F/horses.ppm" "$F/horses-gray.pgm"; do
		n=$((n + 1))
		infer-detect -m "$M/det.w" --conf 0.01 -f jsonl "$f" | sed "s/\"image_id\": \"[^\"]*\"/\"image_id\": $n/"
	done > want.jsonl
	cmp s.jsonl want.jsonl
	[ "$(grep -o '"image_id": [0-9]*' s.jsonl | sort -u | wc -l)" -ge 4 ]
	# text lines start with the frame number and a tab
	infer-detect -m "$M/det.w" --conf 0.01 < stream > s.txt
	[ "$(cut -f1 s.txt | sort -un | head -1)" = 1 ]
	# one image on standard input is still just that image
	infer-detect -m "$M/det.w" --conf 0.01 -f jsonl < "$D/dog.jpg" | grep -q '"image_id": "stdin"'
	# infer-classify: one result per frame
	infer-classify -m "$M/cls.w" -k 1 < stream > c.txt
	[ "$(cut -f1 c.txt | tr '\n' ' ')" = "1 2 3 4 5 " ]
	infer-classify -m "$M/cls.w" -k 1 -f jsonl < stream | "$PY" -c '
import json, sys
assert [json.loads(l)["image"] for l in sys.stdin] == [1, 2, 3, 4, 5]'
}

@test "PNM files are read as netpbm writes them: P6 and P5 give what the PNG of the same pixels gives" {
	infer-detect -m "$M/det.w" --conf 0.01 "$F/horses.png" > png.txt
	infer-detect -m "$M/det.w" --conf 0.01 "$F/horses.ppm" > ppm.txt
	cmp png.txt ppm.txt
	infer-seg -m "$M/seg.w" -o g-png.png "$F/horses-gray.png"
	infer-seg -m "$M/seg.w" -o g-pgm.png "$F/horses-gray.pgm"
	cmp g-png.png g-pgm.png
}

@test "bytes after an image that start no image are an error naming the frame, never ignored" {
	{ cat "$D/dog.jpg"; echo "trailing junk"; } > junk
	run -1 --separate-stderr infer-detect -m "$M/det.w" -o dets.txt < junk
	[ "$stderr" = "infer-detect: standard input: the bytes after frame 1 start no JPEG, PNG or PNM image" ]
	run -1 --separate-stderr infer-seg -m "$M/seg.w" -O masks < junk
	[[ $stderr == *"after frame 1 start no JPEG, PNG or PNM image" ]]
	# a last frame cut short is reported by its number
	{ cat "$D/dog.jpg"; head -c 3000 "$D/horses.jpg"; } > cut
	run -1 --separate-stderr infer-detect -m "$M/det.w" -o dets.txt < cut
	[[ $stderr == "infer-detect: standard input, frame 2: "* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "a video through ffmpeg: every frame detected, drawn, and made a video again (README's pipeline)" {
	command -v ffmpeg || skip "ffmpeg is not installed (scripts/install-deps installs it)"
	ffmpeg -v error -loop 1 -i "$D/dog.jpg" -vf scale=320:240 -r 10 -frames:v 29 -c:v mjpeg in.avi
	# the reported bug: an mjpeg stream was cut to its first frame
	ffmpeg -v error -i in.avi -f image2pipe -c:v mjpeg - | infer-detect -m "$M/det.w" -v -o /dev/null 2> log
	[ "$(grep -c '^frame ' log)" -eq 29 ]
	ffmpeg -v error -i in.avi -f image2pipe -c:v ppm - |
		infer-detect -m "$M/det.w" --conf 0.01 --draw - -o dets.txt |
		ffmpeg -v error -f image2pipe -i - -c:v mjpeg out.avi
	frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 out.avi)
	[ "$frames" -eq 29 ]
	[ "$(cut -f1 dets.txt | sort -un | wc -l)" -eq 29 ]
	# segmentation: a stream of mask PNGs, and of overlay JPEGs, that ffmpeg reads back
	ffmpeg -v error -i in.avi -f image2pipe -c:v ppm - | infer-seg -m "$M/seg.w" > masks.png-stream
	frames=$(ffprobe -v error -f png_pipe -count_frames -show_entries stream=nb_read_frames -of csv=p=0 masks.png-stream)
	[ "$frames" -eq 29 ]
	ffmpeg -v error -i in.avi -f image2pipe -c:v ppm - | infer-seg -m "$M/seg.w" --overlay - |
		ffmpeg -v error -f image2pipe -i - -c:v mjpeg ov.avi
	frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 ov.avi)
	[ "$frames" -eq 29 ]
	# each mask in the stream is the mask of that frame alone
	ffmpeg -v error -i in.avi -f image2pipe -c:v ppm - > frames.ppm
	head -c "$(( $(stat -c %s frames.ppm) / 29 ))" frames.ppm > first.ppm
	infer-seg -m "$M/seg.w" -o first.png first.ppm
	head -c "$(stat -c %s first.png)" masks.png-stream | cmp - first.png
}

@test "memory stays flat over a stream of 1,000 frames" {
	# AddressSanitizer holds freed memory in quarantine: resident size says nothing there (its
	# leak check at exit still runs)
	ldd "$(command -v infer-detect)" | grep -q libasan && skip "resident size under ASan"
	"$PY" -c '
import os, sys
w, h = 96, 64
for i in range(int(sys.argv[1])):
    px = bytes((i * 7 + k * 13) % 256 for k in range(w * h * 3))
    sys.stdout.buffer.write(b"P6\n%d %d\n255\n" % (w, h) + px)' 1000 > long.ppm
	head -c $(( $(stat -c %s long.ppm) / 10 )) long.ppm > short.ppm
	# peak resident kB of a whole run (the children's ru_maxrss)
	rss() {
		"$PY" -c '
import resource, subprocess, sys
subprocess.run(sys.argv[2:], stdin=open(sys.argv[1], "rb"), stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
	}
	short=$(rss short.ppm infer-detect -t 1 -m "$M/det.w" --conf 0.001 -f jsonl)
	long=$(rss long.ppm infer-detect -t 1 -m "$M/det.w" --conf 0.001 -f jsonl)
	echo "100 frames: $short kB, 1000 frames: $long kB" >&3
	[ "$long" -le $((short + 1024)) ]
	infer-detect -t 1 -m "$M/det.w" --conf 0.001 -f jsonl < long.ppm | grep -o '"image_id": [0-9]*' | sort -u > ids
	[ "$(tail -n 1 ids)" != "" ]
	short=$(rss short.ppm infer-seg -t 1 -m "$M/seg.w")
	long=$(rss long.ppm infer-seg -t 1 -m "$M/seg.w")
	echo "infer-seg: 100 frames: $short kB, 1000 frames: $long kB" >&3
	[ "$long" -le $((short + 1024)) ]
}

@test "output folders are made (mkdir -p) or refused before any image is read" {
	printf '%s\n' "$D/dog.jpg" "$D/eagle.jpg" > l.txt
	infer-seg -m "$M/seg.w" --list l.txt -O new/masks --overlay new/overlays
	[ -f new/masks/dog.png ] && [ -f new/overlays/eagle.jpg ]
	infer-detect -m "$M/det.w" --conf 0.01 -f yolo --list l.txt -O new/labels --draw new/pictures
	[ -f new/labels/dog.txt ] && [ -f new/pictures/eagle.jpg ]
	touch afile
	run -1 --separate-stderr infer-seg -m "$M/seg.w" --time --list l.txt -O afile/masks
	[ "$stderr" = "infer-seg: afile: exists and is not a folder" ]
	run -1 --separate-stderr infer-detect -m "$M/det.w" -v -f yolo --list l.txt -O afile/labels
	[ "$stderr" = "infer-detect: afile: exists and is not a folder" ]
	run -1 --separate-stderr infer-detect -m "$M/det.w" -v --draw afile/x "$D/dog.jpg" "$D/eagle.jpg"
	[ "$stderr" = "infer-detect: afile: exists and is not a folder" ]
}

@test "two inputs of the same name: the later is refused in every program, nothing overwritten" {
	mkdir a b
	cp "$D/dog.jpg" a/x.jpg
	cp "$D/eagle.jpg" b/x.jpg
	run -1 --separate-stderr infer-detect -m "$M/det.w" --conf 0.01 -f yolo -O labels --draw pics a/x.jpg b/x.jpg
	[ "$stderr" = "infer-detect: b/x.jpg: skipped: its outputs would overwrite those of a/x.jpg (both named 'x')" ]
	infer-detect -m "$M/det.w" --conf 0.01 -f yolo a/x.jpg | cmp - labels/x.txt
	[ "$(ls labels pics | grep -c x)" -eq 2 ]
	run -1 --separate-stderr infer-detect -m "$M/det.w" --conf 0.01 -f jsonl a/x.jpg b/x.jpg
	[ "$(echo "$output" | grep -c '"image_id": "x"')" -eq "$(infer-detect -m "$M/det.w" --conf 0.01 -f jsonl a/x.jpg | wc -l)" ]
	run -1 --separate-stderr infer-classify -m "$M/cls.w" a/x.jpg b/x.jpg
	[[ $stderr == *"b/x.jpg: skipped"* ]]
	[ "$(cut -f1 <<< "$output" | sort -u)" = "a/x.jpg" ]
	run -1 --separate-stderr infer-seg -m "$M/seg.w" -O masks a/x.jpg b/x.jpg
	[[ $stderr == *"b/x.jpg: skipped"* ]]
	infer-seg -m "$M/seg.w" a/x.jpg | cmp - masks/x.png
}

@test "upstream spellings: --conf-thres, --iou-thres, --imgsz, --agnostic-nms, --classes 0 16" {
	infer-detect -m "$M/det.w" --conf 0.02 --iou 0.5 --size 96 --agnostic --classes 0,16,2 "$D/dog.jpg" > a
	infer-detect -m "$M/det.w" --conf-thres 0.02 --iou-thres 0.5 --imgsz 96 --agnostic-nms --classes 0 16 2 "$D/dog.jpg" > b
	cmp a b
	infer-detect -m "$M/det.w" --conf 0.02 --size 96 "$D/dog.jpg" > c
	! cmp -s a c
}

@test "--draw writes the format its name says; --line-thickness, --hide-labels and --hide-conf" {
	local m="$M/det.w" args="--conf 0.01 $D/dog.jpg"
	infer-detect -m "$m" --draw p.png $args > /dev/null
	infer-detect -m "$m" --draw p.jpg $args > /dev/null
	[[ $(file -b p.png) == "PNG image data, 768 x 576, 8-bit/color RGB"* ]]
	[[ $(file -b p.jpg) == "JPEG image data"* ]]
	infer-detect -m "$m" --draw thick.png --line-thickness 6 $args > /dev/null
	infer-detect -m "$m" --draw nolabels.png --hide-labels $args > /dev/null
	infer-detect -m "$m" --draw noconf.png --hide-conf $args > /dev/null
	# pixels changed from the photo by each picture
	run -0 "$PY" -c '
import sys
import numpy as np
from PIL import Image
photo = np.asarray(Image.open("/usr/share/darknet/data/dog.jpg").convert("RGB")).astype(int)
def changed(p):
    return int((np.abs(np.asarray(Image.open(p)).astype(int) - photo).sum(2) > 0).sum())
c = {p: changed(p + ".png") for p in ("p", "thick", "nolabels", "noconf")}
print(c)
assert c["thick"] > c["p"] > c["noconf"] > c["nolabels"] > 0' 
	echo "$output" >&3
}

@test "infer-seg: --exif turns photos upright, by default not (as the upstream predict); --alpha" {
	"$PY" -c '
from PIL import Image
im = Image.open("/usr/share/darknet/data/dog.jpg")
ex = Image.Exif(); ex[0x0112] = 6
im.save("rot.jpg", exif=ex.tobytes(), quality=95)'
	infer-seg -m "$M/seg.w" -o plain.png rot.jpg
	infer-seg -m "$M/seg.w" --exif -o upright.png rot.jpg
	[[ $(file -b plain.png) == *"768 x 576"* ]]
	[[ $(file -b upright.png) == *"576 x 768"* ]]
	infer-seg -m "$M/seg.w" --alpha 0 --overlay a0.png -o m.png "$D/dog.jpg"
	infer-seg -m "$M/seg.w" --alpha 1 --overlay a1.png -o m.png "$D/dog.jpg"
	infer-seg -m "$M/seg.w" --overlay a7.png -o m.png "$D/dog.jpg"
	run -0 "$PY" -c '
import numpy as np
from PIL import Image
photo = Image.open("/usr/share/darknet/data/dog.jpg").convert("RGB")
colour = Image.open("m.png").convert("RGB")
for a, f in ((0, "a0.png"), (1, "a1.png"), (0.7, "a7.png")):
    want = np.asarray(Image.blend(photo, colour, a)).astype(int)
    got = np.asarray(Image.open(f)).astype(int)
    assert np.abs(want - got).max() == 0, (a, np.abs(want - got).max())
print("overlays equal PIL blend at 0, 0.7 and 1")'
	run -2 --separate-stderr infer-seg -m "$M/seg.w" --alpha 1.5 "$D/dog.jpg"
}

@test "infer-seg --count prints predict.py's count=True table (or JSON); --cutout is mix_type 2" {
	local m="$TOP/models/deeplab-shapes.w" img="$TOP/samples/images/val_0001.jpg"
	infer-seg -m "$m" -o mask.png "$img"
	run -0 --separate-stderr infer-seg -m "$m" --count "$img"
	echo "$output" > count.txt
	run -0 --separate-stderr infer-seg -m "$m" --count=json "$img"
	echo "$output" > count.json
	infer-seg -m "$m" --cutout cut.png -o mask2.png "$img"
	cmp mask.png mask2.png
	run -0 "$PY" -c '
import json, sys
import numpy as np
from PIL import Image
mask = np.asarray(Image.open("mask.png"))
names = [l.strip() for l in open(sys.argv[1])]
total = mask.size
# predict.py: a 63-dash line, the header, and each class with pixels, each followed by dashes
want = ["-" * 63, "|%25s | %15s | %15s|" % ("Key", "Value", "Ratio"), "-" * 63]
for i, n in enumerate(names):
    num = int(np.sum(mask == i))
    if num > 0:
        want += ["|%25s | %15s | %14.2f%%|" % (n, str(num), num / total * 100), "-" * 63]
got = open("count.txt").read().splitlines()
assert got == want, (got, want)
j = json.loads(open("count.json").read())
assert j["pixels"] == total and [c["pixels"] for c in j["classes"]] == [int(np.sum(mask == i)) for i in range(len(names))]
photo = np.asarray(Image.open(sys.argv[2]).convert("RGB"))
cut = np.asarray(Image.open("cut.png"))
want = np.where((mask != 0)[..., None], photo, 0)
assert (cut == want).all()
print(got[3])' "$TOP/samples/seg-names.txt" "$img"
	echo "$output" >&3
	# many images: a table per image, named; the masks need -O
	infer-seg -m "$m" --count --cutout cuts "$TOP/samples/images/val_0001.jpg" "$TOP/samples/images/val_0002.jpg" > many.txt
	[ "$(grep -c '^|                      Key' many.txt)" -eq 2 ]
	[ -f cuts/val_0002.jpg ]
	run -2 --separate-stderr infer-seg -m "$m" -o x.png "$TOP/samples/images/val_0001.jpg" "$TOP/samples/images/val_0002.jpg"
}

@test "infer-detect -f coco goes straight into evaluate-map: the report equals the jsonl one" {
	printf '%s\n' "$D/dog.jpg" "$D/horses.jpg" "$D/person.jpg" > l.txt
	mkdir labels
	printf '16 0.3 0.6 0.25 0.55\n1 0.45 0.5 0.5 0.5\n' > labels/dog.txt
	printf '17 0.5 0.5 0.3 0.3\n' > labels/horses.txt
	printf '0 0.4 0.5 0.2 0.8\n' > labels/person.txt
	infer-detect -m "$M/det.w" --conf 0.001 -f jsonl --list l.txt > d.jsonl
	infer-detect -m "$M/det.w" --conf 0.001 -f coco --list l.txt > d.json
	evaluate-map -q --labels labels --names "$D/coco.names" d.jsonl > a.txt
	evaluate-map -q --labels labels --names "$D/coco.names" d.json > b.txt
	cmp a.txt b.txt
	grep -q '^ *all ' a.txt
}

@test "an unknown option gets one line naming the closest known one, in every inference program" {
	run -2 --separate-stderr infer-detect -m "$M/det.w" --conff 0.3 "$D/dog.jpg"
	[ "$stderr" = "infer-detect: unknown option '--conff' (did you mean --conf?)" ]
	run -2 --separate-stderr infer-seg -m "$M/seg.w" --overlai x.jpg "$D/dog.jpg"
	[ "$stderr" = "infer-seg: unknown option '--overlai' (did you mean --overlay?)" ]
	run -2 --separate-stderr infer-classify -m "$M/cls.w" --jsn "$D/dog.jpg"
	[ "$stderr" = "infer-classify: unknown option '--jsn' (did you mean --json?)" ]
	run -2 --separate-stderr infer-detect -m "$M/det.w" "$D/dog.jpg" --conf
	[ "$stderr" = "infer-detect: option '--conf' needs a value" ]
}
