#include "io/file.h"

#include "core/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_stdio(const char *path)
{
	return path == NULL || strcmp(path, "-") == 0;
}

int tn_read_all(const char *path, size_t max_bytes, uint8_t **buf, size_t *len)
{
	const char *name = is_stdio(path) ? "standard input" : path;
	FILE *fp = is_stdio(path) ? stdin : fopen(path, "rb");
	if (!fp)
		return tn_fail(TN_E_IO, "%s: %s", name, strerror(errno));
	size_t cap = 1 << 16, n = 0;
	uint8_t *b = malloc(cap + 1);
	if (!b) {
		if (fp != stdin)
			fclose(fp);
		return tn_fail(TN_E_NOMEM, "%s: out of memory", name);
	}
	errno = 0;
	for (;;) {
		if (n == cap) {
			if (max_bytes && cap >= max_bytes) {
				free(b);
				if (fp != stdin)
					fclose(fp);
				return tn_fail(TN_E_INVAL, "%s: larger than the limit of %zu bytes", name, max_bytes);
			}
			size_t ncap = cap * 2;
			uint8_t *nb = realloc(b, ncap + 1);
			if (!nb) {
				free(b);
				if (fp != stdin)
					fclose(fp);
				return tn_fail(TN_E_NOMEM, "%s: out of memory", name);
			}
			b = nb;
			cap = ncap;
		}
		size_t got = fread(b + n, 1, cap - n, fp);
		n += got;
		if (got == 0)
			break;
	}
	int err = ferror(fp) ? (errno ? errno : EIO) : 0;
	if (fp != stdin)
		fclose(fp);
	if (err) {
		free(b);
		return tn_fail(TN_E_IO, "%s: read error: %s", name, strerror(err));
	}
	if (max_bytes && n > max_bytes) {
		free(b);
		return tn_fail(TN_E_INVAL, "%s: larger than the limit of %zu bytes", name, max_bytes);
	}
	b[n] = 0;
	*buf = b;
	*len = n;
	return 0;
}

int tn_out_open(struct tn_out *o, const char *path)
{
	memset(o, 0, sizeof *o);
	if (is_stdio(path)) {
		o->fp = stdout;
		return 0;
	}
	/* Devices, FIFOs and symlinks are written through, not replaced by a rename. */
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		o->fp = fopen(path, "wb");
		if (!o->fp)
			return tn_fail(TN_E_IO, "%s: cannot open: %s", path, strerror(errno));
		o->path = strdup(path);
		if (!o->path) {
			fclose(o->fp);
			return tn_fail(TN_E_NOMEM, "%s: out of memory", path);
		}
		return 0;
	}
	o->path = strdup(path);
	size_t n = strlen(path);
	o->tmppath = malloc(n + 16);
	if (!o->path || !o->tmppath) {
		free(o->path);
		free(o->tmppath);
		o->path = o->tmppath = NULL;
		return tn_fail(TN_E_NOMEM, "%s: out of memory", path);
	}
	/* Same folder as the target, so rename() is atomic; a dot name hides it from globs. */
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	memcpy(o->tmppath, path, dirlen);
	snprintf(o->tmppath + dirlen, n - dirlen + 16, ".%s.XXXXXX", path + dirlen);
	int fd = mkstemp(o->tmppath);
	if (fd < 0) {
		int e = errno;
		free(o->path);
		free(o->tmppath);
		o->path = o->tmppath = NULL;
		return tn_fail(TN_E_IO, "%s: cannot create: %s", path, strerror(e));
	}
	/* mkstemp makes 0600; give the file the mode a plain fopen would. */
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	o->fp = fdopen(fd, "wb");
	if (!o->fp) {
		int e = errno;
		close(fd);
		unlink(o->tmppath);
		free(o->path);
		free(o->tmppath);
		o->path = o->tmppath = NULL;
		return tn_fail(TN_E_IO, "%s: %s", path, strerror(e));
	}
	return 0;
}

int tn_out_write(struct tn_out *o, const void *data, size_t len)
{
	if (len && fwrite(data, 1, len, o->fp) != len)
		return tn_fail(TN_E_IO, "%s: write error: %s", o->path ? o->path : "standard output",
			       strerror(errno));
	return 0;
}

int tn_out_commit(struct tn_out *o)
{
	const char *name = o->path ? o->path : "standard output";
	int bad = fflush(o->fp) != 0 || ferror(o->fp);
	int e = bad ? errno : 0;
	if (o->path) {
		if (fclose(o->fp) != 0 && !bad) {
			e = errno;
			bad = 1;
		}
		if (o->tmppath && !bad && rename(o->tmppath, o->path) != 0) {
			e = errno;
			bad = 1;
		}
		if (o->tmppath && bad)
			unlink(o->tmppath);
	}
	/* the message names o->path: format it before the name is freed */
	int rc = bad ? tn_fail(TN_E_IO, "%s: write error: %s", name, strerror(e ? e : EIO)) : 0;
	free(o->path);
	free(o->tmppath);
	o->fp = NULL;
	o->path = o->tmppath = NULL;
	return rc;
}

void tn_out_abort(struct tn_out *o)
{
	if (o->path)
		fclose(o->fp);
	if (o->tmppath)
		unlink(o->tmppath);
	free(o->path);
	free(o->tmppath);
	o->fp = NULL;
	o->path = o->tmppath = NULL;
}

int tn_write_file(const char *path, const void *data, size_t len)
{
	struct tn_out o;
	int rc = tn_out_open(&o, path);
	if (rc)
		return rc;
	rc = tn_out_write(&o, data, len);
	if (rc) {
		tn_out_abort(&o);
		return rc;
	}
	return tn_out_commit(&o);
}

int tn_mkdir_p(const char *dir)
{
	size_t n = strlen(dir);
	char *p = malloc(n + 1);
	if (!p)
		return tn_fail(TN_E_NOMEM, "out of memory");
	memcpy(p, dir, n + 1);
	int rc = 0;
	for (size_t i = 1; i <= n && !rc; i++) {
		if (p[i] != '/' && p[i] != 0)
			continue;
		char keep = p[i];
		p[i] = 0;
		struct stat st;
		if (mkdir(p, 0777) != 0 && errno != EEXIST)
			rc = tn_fail(TN_E_IO, "%s: cannot create the folder: %s", p, strerror(errno));
		else if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
			rc = tn_fail(TN_E_IO, "%s: exists and is not a folder", p);
		p[i] = keep;
	}
	if (!rc && access(dir, W_OK | X_OK) != 0)
		rc = tn_fail(TN_E_IO, "%s: cannot write in this folder: %s", dir, strerror(errno));
	free(p);
	return rc;
}

void tn_csv_field(FILE *fp, const char *s)
{
	if (!strpbrk(s, ",\"\r\n") && *s) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

void tn_json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(fp, "\\u%04x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}
