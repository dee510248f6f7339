/* ultralytics/yolov5 val.py's rectangular batches (utils/dataloaders.LoadImagesAndLabels with
 * rect=True): images sorted by aspect ratio h/w as numpy's argsort orders them, cut into batches,
 * each batch letterboxed to one shape ceil(shape * img_size / stride + pad) * stride. */
#ifndef TN_VALBATCH_H
#define TN_VALBATCH_H

#include <stddef.h>

/* numpy 1.24's default argsort (introsort: median-of-3 quicksort, insertion sort below 17
 * elements, heapsort past the depth limit) of v[0..n), into idx; not stable, so equal keys
 * land where numpy puts them. */
void tn_np_argsort(const double *v, size_t n, size_t *idx);

/* w[i], h[i]: image i's size as the dataloader sees it (exif_size), images in the dataloader's
 * order (paths sorted).  Writes each image's letterbox shape (height, width) in pixels. 0, or
 * TN_E_NOMEM. */
int tn_val_batch_shapes(size_t n, const int *w, const int *h, int batch_size, int img_size, int stride,
			double pad, int *shape_h, int *shape_w);

#endif
