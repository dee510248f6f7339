/* A tiny TAP harness for the C unit tests: each CHECK prints one "ok"/"not ok" line. */
#ifndef TN_CHECK_H
#define TN_CHECK_H

#include <stdio.h>

static int check_count, check_failed;

#define CHECK(cond, ...)                                                          \
	do {                                                                      \
		int ok_ = !!(cond);                                               \
		check_count++;                                                    \
		if (!ok_)                                                         \
			check_failed++;                                           \
		printf("%s %d - ", ok_ ? "ok" : "not ok", check_count);           \
		printf(__VA_ARGS__);                                              \
		printf("\n");                                                     \
		if (!ok_)                                                         \
			printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	} while (0)

#define SKIP(...)                                                                 \
	do {                                                                      \
		check_count++;                                                    \
		printf("ok %d # skip ", check_count);                             \
		printf(__VA_ARGS__);                                              \
		printf("\n");                                                     \
	} while (0)

static inline int check_done(void)
{
	printf("1..%d\n", check_count);
	return check_failed ? 1 : 0;
}

#endif
