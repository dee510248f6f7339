/* The zip reader on arbitrary bytes; every entry's data is read back in full (so ASan sees any
 * range that escapes the buffer) and a data.pkl entry goes through the unpickler as ckpt.c does. */
#include "fuzz_common.h"
#include "io/unpickle.h"
#include "io/zip.h"

static const char *const allow[] = {"collections.OrderedDict", "torch.*", "builtins.set", "_codecs.encode",
				    "builtins.bytes", NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tn_zip z;
	if (tn_zip_open(&z, data, size))
		return 0;
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < z.n; i++) {
		const struct tn_zip_entry *e = tn_zip_find(&z, z.e[i].name);
		if (!e)
			abort(); /* every listed name must be found */
		const uint8_t *p = tn_zip_data(&z, e);
		for (uint64_t k = 0; k < e->size; k++)
			sink ^= p[k];
		size_t n = strlen(e->name);
		if (n >= 8 && strcmp(e->name + n - 8, "data.pkl") == 0) {
			struct tn_unpickle_opts o = {.allow = allow};
			struct tn_pickle pk;
			if (tn_unpickle(p, e->size, &o, &pk, NULL) == 0)
				tn_pickle_free(&pk);
		}
	}
	(void)sink;
	tn_zip_close(&z);
	return 0;
}
