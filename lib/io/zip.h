/* A read-only zip reader for torch.save archives: entries come from the central directory
 * (zip64 included); only stored (uncompressed, unencrypted) entries are accepted.
 * The archive is a caller-owned byte range (typically an mmap'd file). */
#ifndef TN_ZIP_H
#define TN_ZIP_H

#include <stddef.h>
#include <stdint.h>

struct tn_zip_entry {
	char *name;      /* NUL-terminated copy of the entry name */
	uint64_t offset; /* start of the entry's data in the archive */
	uint64_t size;   /* bytes; offset + size <= archive length (checked at open) */
};

struct tn_zip {
	const uint8_t *base;
	size_t len;
	struct tn_zip_entry *e; /* sorted by name */
	size_t n;
};

/* Parses the central directory of the archive in data[0..len).  Every entry's local header
 * and data range are checked against len.  Compressed or encrypted entries are errors naming
 * the entry.  Messages do not name the file; callers prefix it (tn_fail_prefix). */
int tn_zip_open(struct tn_zip *z, const uint8_t *data, size_t len);
void tn_zip_close(struct tn_zip *z);
/* The entry with exactly this name, or NULL. */
const struct tn_zip_entry *tn_zip_find(const struct tn_zip *z, const char *name);
/* Start of an entry's bytes. */
static inline const uint8_t *tn_zip_data(const struct tn_zip *z, const struct tn_zip_entry *e)
{
	return z->base + e->offset;
}

#endif
