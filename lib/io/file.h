/* Whole-file input and atomic output. */
#ifndef TN_FILE_H
#define TN_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Reads all of path ("-" or NULL = stdin) into a malloc'd buffer (NUL-terminated past len).
 * max_bytes bounds what is accepted (0 = no bound). */
int tn_read_all(const char *path, size_t max_bytes, uint8_t **buf, size_t *len);

/* An output that is either complete or absent: data go to a temporary file in the target's
 * folder and are renamed over the target on commit.  path "-" or NULL means stdout. */
struct tn_out {
	FILE *fp;
	char *path;     /* final name, NULL for stdout */
	char *tmppath;  /* temporary name, NULL for stdout */
};
int tn_out_open(struct tn_out *o, const char *path);
/* Writes len bytes; errors are reported at commit. */
int tn_out_write(struct tn_out *o, const void *data, size_t len);
/* Flushes, fsyncs nothing (rename is enough for atomic visibility), renames; removes the temp on error. */
int tn_out_commit(struct tn_out *o);
void tn_out_abort(struct tn_out *o);
/* Writes a whole buffer to path atomically (or stdout). */
int tn_write_file(const char *path, const void *data, size_t len);

/* Creates dir and its parents as `mkdir -p` does, and checks it can be written in. */
int tn_mkdir_p(const char *dir);
/* s as a CSV field with Python csv's minimal quoting (excel dialect). */
void tn_csv_field(FILE *fp, const char *s);
/* s as a JSON string, quoted, with the characters JSON requires escaped. */
void tn_json_str(FILE *fp, const char *s);

#endif
