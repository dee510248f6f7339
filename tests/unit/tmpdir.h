/* Shared by the C unit tests that write scratch files: one mkdtemp folder (dir), paths in it
 * (tmp), and its removal at the end. */
#ifndef TN_TEST_TMPDIR_H
#define TN_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

static char dir[64];

/* name inside the folder; 8 rotating buffers so a few can be live in one call. */
static inline const char *tmp(const char *name)
{
	static char buf[8][256];
	static int k;
	char *b = buf[k++ % 8];
	snprintf(b, 256, "%s/%s", dir, name);
	return b;
}

/* Makes the folder from a mkdtemp template; 0, or -1 after saying why on stderr. */
static inline int tmpdir_make(const char *tmpl)
{
	snprintf(dir, sizeof dir, "%s", tmpl);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return -1;
	}
	return 0;
}

static inline void tmpdir_remove(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

#endif
