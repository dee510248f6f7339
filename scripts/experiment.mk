# experiment.mk: evaluate a segmentation model over a VOC-style data set, as upstream get_miou.py
# does, with one make target per image so `make -j` spreads the images over the cores.
#
#   make -f scripts/experiment.mk -j2 LIST=val.txt IMAGES=JPEGImages GT=SegmentationClass \
#        MODEL=deeplab.w OUT=miou_out
#
# LIST    image names without folder or extension, one per line (ImageSets/Segmentation/val.txt)
# IMAGES  folder of the images, IMAGES/NAME.IMAGE_EXT
# GT      folder of the ground-truth labels, GT/NAME.GT_EXT
# MODEL   the .w model (from weightconv)
# OUT     output folder (default miou_out)
# Optional: N (classes; default: the model's num_classes), NAMES (class names file),
# IMAGE_EXT (jpg), GT_EXT (png), THREADS (per infer-seg, default 1), EVAL_FLAGS (more
# evaluate-miou options, e.g. --nan-absent), BIN (folder of the cnnkit programs; default: PATH).
#
# Writes OUT/pred/NAME.png (the masks, as detection-results/ upstream), OUT/miou.csv (the
# evaluate-miou --csv report), OUT/miou.state (for evaluate-miou --merge), OUT/miou.txt (the
# table, printed at the end), OUT/upstream.txt (upstream's printed lines),
# OUT/confusion_matrix.csv, and the charts OUT/mIoU.png, mPA.png, Recall.png, Precision.png
# (scripts/plot-miou).  Every output is complete or absent.  Names and folders cannot hold
# spaces (a make limitation).  `make -f scripts/experiment.mk ... clean` removes them again.

.DELETE_ON_ERROR:
.SUFFIXES:
SHELL := /bin/sh

here := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
OUT ?= miou_out
IMAGE_EXT ?= jpg
GT_EXT ?= png
THREADS ?= 1
EVAL_FLAGS ?=
BIN ?=
prog = $(if $(BIN),$(BIN)/$(1),$(1))
INFER_SEG := $(call prog,infer-seg)
EVALUATE_MIOU := $(call prog,evaluate-miou)
WEIGHTCONV := $(call prog,weightconv)
PLOT_MIOU := $(here)/plot-miou

ifeq ($(strip $(LIST)),)
$(error give LIST=val.txt (image names, one per line))
endif
ifneq ($(MAKECMDGOALS),clean)
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

ifeq ($(origin N),undefined)
N = $(eval N := $(shell $(WEIGHTCONV) --info '$(MODEL)' | sed -n 's/^num_classes: //p'))$(N)
endif
classes = -n $(or $(N),$(error $(MODEL): no num_classes in its metadata: give N=)) $(if $(NAMES),--names $(NAMES))

charts := $(OUT)/mIoU.png $(OUT)/mPA.png $(OUT)/Recall.png $(OUT)/Precision.png
state := $(OUT)/miou.state

.PHONY: all predict evaluate plots report clean
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
	$(EVALUATE_MIOU) --merge $(state) $(if $(NAMES),--names $(NAMES)) $(EVAL_FLAGS) > $@.tmp
	mv -f $@.tmp $@
$(OUT)/upstream.txt: $(state)
	$(EVALUATE_MIOU) --merge $(state) $(if $(NAMES),--names $(NAMES)) --upstream $(EVAL_FLAGS) > $@.tmp
	mv -f $@.tmp $@

$(charts) &: $(OUT)/miou.csv
	$(PLOT_MIOU) -o $(OUT) $(OUT)/miou.csv

clean:
	rm -f $(preds) $(charts) $(state) $(OUT)/miou.csv $(OUT)/miou.txt $(OUT)/upstream.txt \
		$(OUT)/confusion_matrix.csv
