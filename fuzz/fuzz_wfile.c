/* The .w reader through a memfd; every tensor it accepts is converted to float32 in full. */
#include "fuzz_common.h"
#include "io/wfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fuzz_memfd(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
	struct tn_wfile wf;
	if (tn_wfile_open(path, &wf) == 0) {
		for (size_t i = 0; i < wf.n; i++) {
			const struct tn_wtensor *t = &wf.t[i];
			if (tn_wfile_find(&wf, t->name) != t)
				abort();
			float *f = malloc(t->numel ? t->numel * sizeof *f : 1);
			if (f) {
				tn_wtensor_to_f32(t, f);
				free(f);
			}
		}
		for (size_t i = 0; i < wf.n_meta; i++)
			if (!tn_wfile_meta(&wf, wf.meta_keys[i]))
				abort();
		tn_wfile_close(&wf);
	}
	close(fd);
	return 0;
}
