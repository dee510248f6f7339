/* Shared by the C unit tests that compare against references from a scripts/ref/ generator:
 * the reference folder ($REF_DIR/<sub>, regenerated when older than the script, or a temporary
 * folder removed at the end), paths in it, and reading whole files and the script's PNM files.
 * Static inline so each test program takes only what it uses. */
#ifndef TN_TEST_REFS_H
#define TN_TEST_REFS_H

#include "io/image.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char refdir[1024];
static int refdir_tmp;

/* Makes (or reuses) the reference folder by running script: $REF_DIR/sub when REF_DIR is set
 * (built beside it and moved in, so a failed run leaves no half folder), else a fresh mkdtemp
 * folder from tmpl; 0 on success. */
static inline int ref_setup(const char *script, const char *sub, const char *tmpl)
{
	const char *env = getenv("REF_DIR");
	char cmd[16384], man[1100];
	struct stat ss, sm;
	if (env && *env) {
		snprintf(refdir, sizeof refdir, "%.900s/%.100s", env, sub);
		snprintf(man, sizeof man, "%s/manifest.txt", refdir);
		if (stat(script, &ss) == 0 && stat(man, &sm) == 0 && sm.st_mtime >= ss.st_mtime)
			return 0;
		snprintf(cmd, sizeof cmd,
			 "mkdir -p '%s' && rm -rf '%s.%d' && /usr/bin/python3 %.1000s"
			 " '%s.%d' && rm -rf '%s' && mv '%s.%d' '%s'",
			 env, refdir, (int)getpid(), script, refdir, (int)getpid(), refdir, refdir,
			 (int)getpid(), refdir);
	} else {
		snprintf(refdir, sizeof refdir, "%s", tmpl);
		if (!mkdtemp(refdir))
			return -1;
		refdir_tmp = 1;
		snprintf(cmd, sizeof cmd, "/usr/bin/python3 %.1000s '%s'", script, refdir);
	}
	fflush(stdout);
	return system(cmd) == 0 ? 0 : -1;
}

/* Removes the folder only when ref_setup made a temporary one. */
static inline void ref_cleanup(void)
{
	char cmd[4200];
	if (refdir_tmp) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", refdir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", refdir);
	}
}

/* rel inside the reference folder (absolute paths pass through); 8 rotating buffers so a few
 * can be live in one call. */
static inline const char *refpath(const char *rel)
{
	static char buf[8][4200];
	static int k;
	k = (k + 1) % 8;
	if (rel[0] == '/')
		snprintf(buf[k], sizeof buf[k], "%s", rel);
	else
		snprintf(buf[k], sizeof buf[k], "%s/%s", refdir, rel);
	return buf[k];
}

/* The whole file, NUL-terminated past *len; NULL when it cannot be read. */
static inline uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc(n > 0 ? (size_t)n + 1 : 1);
	if (b)
		b[n > 0 ? n : 0] = 0; /* sscanf-safe */
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* The P5/P6 files the script writes (maxval 255, no comments). */
static inline int read_pnm(const char *path, struct tn_image *img)
{
	size_t len;
	uint8_t *b = slurp(path, &len);
	int w, h, mv, off = 0;
	char m;
	memset(img, 0, sizeof *img);
	if (!b)
		return -1;
	if (len < 8 || sscanf((char *)b, "P%c %d %d %d%n", &m, &w, &h, &mv, &off) != 4 || mv != 255) {
		free(b);
		return -1;
	}
	off++;
	img->channels = m == '6' ? 3 : 1;
	img->w = w;
	img->h = h;
	size_t n = (size_t)w * h * img->channels;
	if ((size_t)off + n > len) {
		free(b);
		return -1;
	}
	img->px = malloc(n);
	memcpy(img->px, b + off, n);
	free(b);
	return 0;
}

#endif
