/* COCO's class numbering: the 80 detection classes YOLOv5 is trained on, and the 91 category ids
 * of the COCO annotation files (pycocotools wants the latter, val.py's coco80_to_coco91_class). */
#ifndef TN_COCO_H
#define TN_COCO_H

#define TN_COCO_CLASSES 80

/* The COCO category id (1..90) of class index 0..79; -1 outside. */
int tn_coco80_to_91(int cls);
/* The class index 0..79 of a COCO category id; -1 for an id COCO does not use. */
int tn_coco91_to_80(int id);
/* 1 when names are COCO's 80 classes in COCO's order (coco.yaml's spellings, or the older
 * "motorbike", "aeroplane", "sofa", "pottedplant", "diningtable", "tvmonitor" ones). */
int tn_names_are_coco80(const char *const *names, int n);

#endif
