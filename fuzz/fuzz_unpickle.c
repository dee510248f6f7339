/* The restricted unpickler on arbitrary bytes, with ckpt.c's kind of allow-list; pickles are read
 * back to back as the legacy format does, and each result is walked with the consumer helpers. */
#include "fuzz_common.h"
#include "io/unpickle.h"

static const char *const allow[] = {
	"collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
	"torch.FloatStorage", "torch.HalfStorage", "torch.LongStorage", "builtins.set", "builtins.frozenset",
	"_codecs.encode", "builtins.bytes", "models.*", "torch.nn.modules.*", "numpy.core.multiarray._reconstruct",
	NULL,
};

static void visit(const struct tn_pk *v, void *ctx)
{
	size_t *count = ctx;
	(*count)++;
	(void)tn_pk_type_name(v->type);
	(void)tn_pk_callee(v);
	(void)tn_pk_is_global(v, "torch.FloatStorage");
	if (v->type == TN_PK_DICT)
		(void)tn_pk_dict_get(v, "state_dict");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* small limits so bombs are refused quickly; the defaults are exercised by the unit tests */
	struct tn_unpickle_opts o = {.allow = allow, .max_depth = 200, .max_nodes = 1 << 16,
				     .max_stack = 1 << 14, .max_memo = 1 << 16};
	size_t pos = 0;
	for (int i = 0; i < 4 && pos < size; i++) {
		struct tn_pickle pk;
		size_t used = 0;
		if (tn_unpickle(data + pos, size - pos, &o, &pk, &used))
			break;
		if (used == 0 || used > size - pos)
			abort(); /* must consume at least its STOP and never more than given */
		size_t count = 0;
		tn_pickle_each(&pk, visit, &count);
		tn_pickle_free(&pk);
		pos += used;
	}
	return 0;
}
