# experiment.mk: evaluate a segmentation model over a VOC-style data set, as upstream get_miou.py
# does, or a YOLOv5 detector as val.py does, with one make target per image so `make -j` spreads
# the images over the cores.
#
#   make -f scripts/experiment.mk -j2 LIST=val.txt IMAGES=JPEGImages GT=SegmentationClass \
#        MODEL=deeplab.w OUT=miou_out
#   make -f scripts/experiment.mk -j2 detect LIST=val.txt IMAGES=images LABELS=labels \
#        MODEL=best.w OUT=map_out
#
# LIST    image names without folder or extension, one per line (ImageSets/Segmentation/val.txt)
# IMAGES  folder of the images, IMAGES/NAME.IMAGE_EXT
# GT      folder of the ground-truth labels, GT/NAME.GT_EXT
# MODEL   the .w model (from weightconv)
# OUT     output folder (default miou_out)
# The reports name the classes as the model does (evaluate-miou -m MODEL).
# Optional: N (classes; must be the model's num_classes), NAMES (class names file, instead of
# the model's),
# IMAGE_EXT (jpg), GT_EXT (png), THREADS (per infer-seg, default 1), EVAL_FLAGS (more
# evaluate-miou options, e.g. --nan-absent), BIN (folder of the cnnkit programs; default: PATH).
#
# Writes OUT/pred/NAME.png (the masks, as detection-results/ upstream), OUT/miou.csv (the
# evaluate-miou --csv report), OUT/miou.state (for evaluate-miou --merge), OUT/miou.txt (the
# table, printed at the end), OUT/upstream.txt (upstream's printed lines),
# OUT/confusion_matrix.csv, and the charts OUT/mIoU.png, mPA.png, Recall.png, Precision.png
# (scripts/plot-miou).  Every output is complete or absent.  Names and folders cannot hold
# spaces (a make limitation).  `make -f scripts/experiment.mk ... clean` removes them again.
#
# The detect target (a YOLOv5 detector): LABELS instead of GT, the folder of YOLO label files
# LABELS/NAME.txt; OUT defaults to map_out.  One `infer-detect -t THREADS` per image with
# val.py's thresholds (--conf 0.001 --iou 0.6 --multi-label, -f jsonl) writes OUT/dets/NAME.jsonl;
# OUT/detections.jsonl is all of them in list order, and `evaluate-map -m MODEL --plots
# OUT/charts` writes OUT/map.txt (val.py's table, printed at the end) and OUT/charts/PR_curve.png,
# F1_curve.png, P_curve.png, R_curve.png and confusion_matrix.png (with their CSV files).
# EVAL_FLAGS go to evaluate-map here; NAMES and N too.  `make ... detect-clean` removes them.

.DELETE_ON_ERROR:
.SUFFIXES:
SHELL := /bin/sh

here := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
detecting := $(filter detect detect-clean,$(MAKECMDGOALS))
OUT ?= $(if $(detecting),map_out,miou_out)
IMAGE_EXT ?= jpg
GT_EXT ?= png
THREADS ?= 1
EVAL_FLAGS ?=
BIN ?=
prog = $(if $(BIN),$(BIN)/$(1),$(1))
INFER_SEG := $(call prog,infer-seg)
EVALUATE_MIOU := $(call prog,evaluate-miou)
INFER_DETECT := $(call prog,infer-detect)
EVALUATE_MAP := $(call prog,evaluate-map)
PLOT_MIOU := $(here)/plot-miou

ifeq ($(strip $(LIST)),)
$(error give LIST=val.txt (image names, one per line))
endif
ifneq ($(detecting),)
ifneq ($(filter-out detect detect-clean,$(MAKECMDGOALS)),)
$(error detect and detect-clean go alone, without the segmentation targets)
endif
ifeq ($(filter detect-clean,$(MAKECMDGOALS))$(and $(IMAGES),$(LABELS),$(MODEL)),)
$(error give IMAGES=DIR LABELS=DIR MODEL=FILE.w (see the top of $(lastword $(MAKEFILE_LIST))))
endif
else ifneq ($(MAKECMDGOALS),clean)
ifeq ($(and $(IMAGES),$(GT),$(MODEL)),)
$(error give IMAGES=DIR GT=DIR MODEL=FILE.w (see the top of $(lastword $(MAKEFILE_LIST))))
endif
endif

# the list as evaluate-miou reads it: trimmed lines, no blanks, no '#' comments
names := $(shell sed -e 's/\r$$//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$$//' -e '/^$$/d' -e '/^\#/d' '$(LIST)')
ifeq ($(names),)
$(error $(LIST): no image names)
endif
preds := $(names:%=$(OUT)/pred/%.png)
labels := $(names:%=$(GT)/%.$(GT_EXT))

# the model gives the class count and names; N and NAMES are checked against it
classes = -m $(MODEL) $(if $(N),-n $(N)) $(if $(NAMES),--names $(NAMES))

charts := $(OUT)/mIoU.png $(OUT)/mPA.png $(OUT)/Recall.png $(OUT)/Precision.png
state := $(OUT)/miou.state

.PHONY: all predict evaluate plots report clean detect detect-clean
all: report plots
predict: $(preds)
evaluate: $(OUT)/miou.csv $(OUT)/miou.txt $(OUT)/upstream.txt
plots: $(charts)
report: evaluate
	@cat $(OUT)/miou.txt

# one process per image, one thread each: make -j keeps the cores busy
$(OUT)/pred/%.png: $(IMAGES)/%.$(IMAGE_EXT) $(MODEL)
	@mkdir -p $(@D)
	$(INFER_SEG) -q -t $(THREADS) -m $(MODEL) -o $@ $<

# one pass over the masks makes the report, the matrix and the state
$(OUT)/miou.csv $(OUT)/confusion_matrix.csv $(state) &: $(preds) $(labels) $(LIST)
	$(EVALUATE_MIOU) -q $(classes) --list $(LIST) --gt-dir $(GT) --gt-ext $(GT_EXT) \
		--pred-dir $(OUT)/pred --confusion-matrix $(OUT)/confusion_matrix.csv \
		--save-state $(state) --csv $(EVAL_FLAGS) > $(OUT)/miou.csv.tmp
	mv -f $(OUT)/miou.csv.tmp $(OUT)/miou.csv

# the other reports come from the state, without reading the masks again
$(OUT)/miou.txt: $(state)
	$(EVALUATE_MIOU) --merge $(state) $(classes) $(EVAL_FLAGS) > $@.tmp
	mv -f $@.tmp $@
$(OUT)/upstream.txt: $(state)
	$(EVALUATE_MIOU) --merge $(state) $(classes) --upstream $(EVAL_FLAGS) > $@.tmp
	mv -f $@.tmp $@

$(charts) &: $(OUT)/miou.csv
	$(PLOT_MIOU) -o $(OUT) $(OUT)/miou.csv

clean:
	rm -f $(preds) $(charts) $(state) $(OUT)/miou.csv $(OUT)/miou.txt $(OUT)/upstream.txt \
		$(OUT)/confusion_matrix.csv

# ---- detection: val.py's thresholds, one infer-detect per image ----
dets := $(names:%=$(OUT)/dets/%.jsonl)
det_charts := $(foreach f,PR_curve F1_curve P_curve R_curve confusion_matrix,$(OUT)/charts/$(f).png)
detect: $(OUT)/map.txt
	@cat $(OUT)/map.txt

$(OUT)/dets/%.jsonl: $(IMAGES)/%.$(IMAGE_EXT) $(MODEL)
	@mkdir -p $(@D)
	$(INFER_DETECT) -q -t $(THREADS) -m $(MODEL) -f jsonl --conf 0.001 --iou 0.6 --multi-label -o $@ $<

# in list order: the file one infer-detect --list run would write
$(OUT)/detections.jsonl: $(dets) $(LIST)
	cat $(dets) > $@.tmp
	mv -f $@.tmp $@

$(OUT)/map.txt $(det_charts) &: $(OUT)/detections.jsonl $(MODEL)
	$(EVALUATE_MAP) -q $(classes) --labels $(LABELS) --plots $(OUT)/charts $(EVAL_FLAGS) \
		$(OUT)/detections.jsonl > $(OUT)/map.txt.tmp
	mv -f $(OUT)/map.txt.tmp $(OUT)/map.txt

detect-clean:
	rm -f $(dets) $(det_charts) $(OUT)/detections.jsonl $(OUT)/map.txt \
		$(foreach f,metrics PR_curve F1_curve P_curve R_curve confusion_matrix,$(OUT)/charts/$(f).csv)
