/* The whole checkpoint loader (zip or legacy container, unpickle, tensor extraction) through a
 * memfd, since tn_ckpt_load takes a path. */
#include "fuzz_common.h"
#include "io/ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fuzz_memfd(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
	struct tn_ckpt ck;
	if (tn_ckpt_load(path, &ck) == 0) {
		volatile float sink = 0;
		for (size_t i = 0; i < ck.n; i++) {
			const struct tn_ckpt_tensor *t = &ck.t[i];
			if (tn_ckpt_find(&ck, t->name) == NULL)
				abort();
			for (size_t k = 0; k < t->numel; k++)
				sink += t->f32 ? t->f32[k] : (float)t->i64[k];
		}
		(void)sink;
		tn_ckpt_free(&ck);
	}
	close(fd);
	return 0;
}
