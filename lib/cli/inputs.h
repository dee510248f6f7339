/* Where a program's images come from, and the list-file syntax every program reads.
 *
 * Inputs: FILE arguments (a folder stands for its image files sorted by name, as detect.py's
 * sorted(glob(dir/'*.*'))), a --list, or standard input, which may carry one image or a stream
 * of concatenated JPEG, PNG and binary PNM frames (ffmpeg -f image2pipe), numbered from 1. */
#ifndef TN_CLI_INPUTS_H
#define TN_CLI_INPUTS_H

#include "cli/opts.h"
#include "io/frames.h"
#include "io/image.h"

#include <stddef.h>
#include <stdint.h>

/* ---- list files ---- */

/* One entry per line with surrounding white space trimmed; blank lines and lines starting with
 * '#' are skipped; CRLF is accepted.  Entries point into text. */
struct cli_list {
	char **entry;
	int *line;      /* line number of each entry */
	size_t n;
	uint8_t *text;
};
/* Reads path ("-" = standard input); exits 1 with a message on binary data or a read error.
 * what names the entries in that message ("image names"). */
void cli_list_read(const char *path, const char *what, struct cli_list *l);
void cli_list_free(struct cli_list *l);
/* DIR/NAME.EXT, malloc'd (EXT with or without its dot; "" for none); exits 1 when out of memory. */
char *cli_path_join(const char *dir, const char *name, const char *ext);

/* ---- image inputs ---- */

struct cli_inputs_spec {
	char **files;        /* FILE arguments ("-" = standard input) */
	int nfiles;
	const char *list;    /* --list FILE */
	const char *images;  /* --images DIR: list entries are names resolved as DIR/NAME.EXT */
	const char *ext;     /* --ext EXT (default jpg) */
};

/* The option rows the image programs share, for their option tables: --list, --images, --ext,
 * -t/--threads and --max-pixels.  One block, placed where the program's table had them. */
#define CLI_INPUTS_ROWS(spec, threads, max_pixels)                                                \
	CLI_STRING("list", 0, &(spec)->list), CLI_STRING("images", 0, &(spec)->images),             \
	CLI_STRING("ext", 0, &(spec)->ext), CLI_INT("threads", 't', threads, 1, 1024),                \
	CLI_INT("max-pixels", 0, max_pixels, 1, 4000000000L)

/* What the image programs check once the options are read: a model is given, the arguments
 * from argv[first] on are the FILEs, and a terminal on standard input is no input. */
void cli_inputs_args(struct cli_inputs_spec *spec, const char *model, int argc, char **argv, int first);

enum cli_inputs_kind {
	CLI_INPUTS_ONE,    /* one file, or one image on standard input */
	CLI_INPUTS_MANY,   /* files, folders or a list: each output is named after its input */
	CLI_INPUTS_STREAM, /* frames on standard input: each output is named by its frame number */
};

struct cli_input {
	const char *path;    /* the file; "-" for standard input */
	char label[64];      /* for messages when path is "-": "standard input[, frame N]" */
	const char *name;    /* for messages: the path or the label */
	char stem[256];      /* names the outputs: the file name without folder and extension, the
			      * frame number, or "stdin" */
	long frame;          /* 1, 2, ... in a stream; 0 for a file */
	const uint8_t *data; /* the encoded image, valid until the next call */
	size_t len;
};

/* The input's image as RGB (upright: EXIF orientation applied, as OpenCV's imread), and the
 * milliseconds decoding took; 0 or a library error naming the input. */
int cli_input_decode(const struct cli_input *it, size_t max_pixels, int upright, struct tn_image *img,
		     double *ms);

struct cli_inputs {
	enum cli_inputs_kind kind;
	char **paths;        /* files in order (many / one) */
	char *dup_of_flags;  /* paths[i] names the same outputs as an earlier path */
	size_t n, next;
	struct cli_list list;
	int from_stdin;
	struct tn_frames frames;
	int have_first;      /* the first frame is read (to tell one image from a stream) */
	const uint8_t *first;
	size_t first_len;
	uint8_t *filebuf;
	int stopped;         /* a broken stream: no more inputs */
};

/* Opens the inputs; exits (1, or 2 for bad usage) with a message when they cannot be read. */
void cli_inputs_open(struct cli_inputs *in, const struct cli_inputs_spec *spec);
/* The next input: 1 with *it filled, 0 at the end, or a negative code with a message (tn_errmsg)
 * for an input that cannot be read or whose outputs would overwrite an earlier input's; the
 * caller reports it and goes on (in->stopped says a stream cannot go on). */
int cli_inputs_next(struct cli_inputs *in, struct cli_input *it);
void cli_inputs_close(struct cli_inputs *in);
/* Where a picture of input it goes (opt as --draw, --overlay or --cutout take it): the file opt
 * itself for one image, standard output for "-", else DIR/NAME.jpg; NULL when opt is NULL.
 * *png says to write PNG (one image whose name ends in .png).  Malloc'd; exits when out of memory. */
char *cli_picture_path(const char *opt, enum cli_inputs_kind kind, const struct cli_input *it, int *png);
/* The stem of a path: the file name without folder and last extension. */
void cli_path_stem(const char *path, char *out, size_t cap);

#endif
