#include "io/zip.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOC64 0x07064b50u
#define SIG_CEN 0x02014b50u
#define SIG_LOCAL 0x04034b50u

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* 1 if [off, off+n) lies inside [0, len), overflow-safe. */
static int in_range(uint64_t off, uint64_t n, size_t len)
{
	return off <= len && n <= len - off;
}

/* Scans back from the end for the end-of-central-directory record (it may be followed by a
 * comment of up to 65535 bytes). */
static int find_eocd(const uint8_t *d, size_t len, size_t *pos)
{
	if (len < 22)
		return tn_fail(TN_E_FORMAT, "not a zip archive (%zu bytes, too short)", len);
	size_t lo = len - 22 > 65535 ? len - 22 - 65535 : 0;
	for (size_t p = len - 22 + 1; p-- > lo;) {
		if (rd32(d + p) == SIG_EOCD && rd16(d + p + 20) <= len - 22 - p) {
			*pos = p;
			return 0;
		}
	}
	return tn_fail(TN_E_FORMAT, "not a zip archive, or truncated (no end of central directory record)");
}

/* Reads the zip64 extra field of a central header, replacing the saturated 32-bit values. */
static int apply_zip64_extra(const uint8_t *x, size_t xlen, const char *name, uint64_t *usize,
			     uint64_t *csize, uint64_t *lho)
{
	while (xlen >= 4) {
		uint16_t id = rd16(x), sz = rd16(x + 2);
		if (sz > xlen - 4)
			return tn_fail(TN_E_FORMAT, "zip entry '%s': extra field overruns its header", name);
		if (id == 0x0001) {
			const uint8_t *p = x + 4;
			size_t left = sz;
			uint64_t *fields[3] = {usize, csize, lho};
			for (int i = 0; i < 3; i++) {
				if (*fields[i] != 0xffffffffu)
					continue;
				if (left < 8)
					return tn_fail(TN_E_FORMAT, "zip entry '%s': short zip64 extra field", name);
				*fields[i] = rd64(p);
				p += 8;
				left -= 8;
			}
			return 0;
		}
		x += 4 + sz;
		xlen -= 4 + (size_t)sz;
	}
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct tn_zip_entry *)a)->name, ((const struct tn_zip_entry *)b)->name);
}

int tn_zip_open(struct tn_zip *z, const uint8_t *d, size_t len)
{
	memset(z, 0, sizeof *z);
	size_t eocd = 0;
	int rc = find_eocd(d, len, &eocd);
	if (rc)
		return rc;
	uint64_t count = rd16(d + eocd + 10);
	uint64_t cd_size = rd32(d + eocd + 12);
	uint64_t cd_off = rd32(d + eocd + 16);
	if (rd16(d + eocd + 4) != 0 || rd16(d + eocd + 6) != 0)
		return tn_fail(TN_E_UNSUPPORTED, "multi-disk zip archives are not supported");

	/* A zip64 locator sits immediately before the EOCD record. */
	if (eocd >= 20 && rd32(d + eocd - 20) == SIG_LOC64) {
		uint64_t r = rd64(d + eocd - 20 + 8);
		if (!in_range(r, 56, len) || rd32(d + r) != SIG_EOCD64)
			return tn_fail(TN_E_FORMAT, "zip64 end of central directory record missing or past the end of the file");
		count = rd64(d + r + 32);
		cd_size = rd64(d + r + 40);
		cd_off = rd64(d + r + 48);
	}
	if (!in_range(cd_off, cd_size, len))
		return tn_fail(TN_E_FORMAT,
			       "central directory (offset %llu, %llu bytes) lies past the end of the file (%zu bytes); truncated?",
			       (unsigned long long)cd_off, (unsigned long long)cd_size, len);
	if (count > cd_size / 46)
		return tn_fail(TN_E_FORMAT, "central directory claims %llu entries in %llu bytes",
			       (unsigned long long)count, (unsigned long long)cd_size);
	z->e = calloc(count ? count : 1, sizeof *z->e);
	if (!z->e)
		return tn_fail(TN_E_NOMEM, "out of memory for %llu zip entries", (unsigned long long)count);
	z->base = d;
	z->len = len;

	const uint8_t *p = d + cd_off, *end = d + cd_off + cd_size;
	for (uint64_t i = 0; i < count; i++) {
		if ((size_t)(end - p) < 46 || rd32(p) != SIG_CEN) {
			rc = tn_fail(TN_E_FORMAT, "central directory entry %llu is corrupt", (unsigned long long)i);
			goto fail;
		}
		uint16_t flags = rd16(p + 8), method = rd16(p + 10);
		uint64_t csize = rd32(p + 20), usize = rd32(p + 24), lho = rd32(p + 42);
		size_t nlen = rd16(p + 28), xlen = rd16(p + 30), clen = rd16(p + 32);
		if ((size_t)(end - p) - 46 < nlen + xlen + clen) {
			rc = tn_fail(TN_E_FORMAT, "central directory entry %llu overruns the directory",
				     (unsigned long long)i);
			goto fail;
		}
		char *name = malloc(nlen + 1);
		if (!name) {
			rc = tn_fail(TN_E_NOMEM, "out of memory");
			goto fail;
		}
		memcpy(name, p + 46, nlen);
		name[nlen] = 0;
		z->e[z->n++].name = name;
		if (memchr(name, 0, nlen)) {
			rc = tn_fail(TN_E_FORMAT, "zip entry %llu has a NUL byte in its name", (unsigned long long)i);
			goto fail;
		}
		if ((rc = apply_zip64_extra(p + 46 + nlen, xlen, name, &usize, &csize, &lho)))
			goto fail;
		if (flags & 1) {
			rc = tn_fail(TN_E_UNSUPPORTED, "zip entry '%s' is encrypted", name);
			goto fail;
		}
		if (method != 0) {
			rc = tn_fail(TN_E_UNSUPPORTED,
				     "zip entry '%s' is compressed (method %u); only stored entries are supported",
				     name, method);
			goto fail;
		}
		if (csize != usize) {
			rc = tn_fail(TN_E_FORMAT, "zip entry '%s' is stored but its sizes differ (%llu, %llu)", name,
				     (unsigned long long)csize, (unsigned long long)usize);
			goto fail;
		}
		if (!in_range(lho, 30, len) || rd32(d + lho) != SIG_LOCAL) {
			rc = tn_fail(TN_E_FORMAT, "zip entry '%s': local header at %llu is %s", name,
				     (unsigned long long)lho, in_range(lho, 30, len) ? "corrupt" : "past the end of the file");
			goto fail;
		}
		/* The data follow the local header, whose name and extra lengths may differ from the
		 * central copy (torch pads the local extra field to align data to 64 bytes). */
		uint64_t off = lho + 30 + (uint64_t)rd16(d + lho + 26) + rd16(d + lho + 28);
		if (!in_range(off, usize, len)) {
			rc = tn_fail(TN_E_FORMAT,
				     "zip entry '%s' (%llu bytes at offset %llu) extends past the end of the file (%zu bytes); truncated?",
				     name, (unsigned long long)usize, (unsigned long long)off, len);
			goto fail;
		}
		z->e[z->n - 1].offset = off;
		z->e[z->n - 1].size = usize;
		p += 46 + nlen + xlen + clen;
	}
	/* Sorted by name so lookups stay O(log n) on archives with very many entries. */
	qsort(z->e, z->n, sizeof *z->e, cmp_entry);
	return 0;
fail:
	tn_zip_close(z);
	return rc;
}

void tn_zip_close(struct tn_zip *z)
{
	for (size_t i = 0; i < z->n; i++)
		free(z->e[i].name);
	free(z->e);
	memset(z, 0, sizeof *z);
}

const struct tn_zip_entry *tn_zip_find(const struct tn_zip *z, const char *name)
{
	size_t lo = 0, hi = z->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(z->e[mid].name, name);
		if (c == 0)
			return &z->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
