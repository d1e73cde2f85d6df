/* textwidth.h -- how wide text is on a terminal and how it wraps there, computed by us (not
 * by the locale): UTF-8, East Asian wide characters two columns, SGR colour codes none. */
#ifndef TEXTWIDTH_H
#define TEXTWIDTH_H

#include <stddef.h>
#include <stdint.h>

/* textwidth.c */
/* Columns one code point takes: 0 (combining, zero-width), 1, or 2 (wide: CJK, fullwidth). */
int		 tw_cp_width(uint32_t cp);
/* Columns of n bytes of UTF-8 (an invalid byte counts 1, "\033[...m" counts 0). */
size_t		 tw_width(const char *s, size_t n);
/* The terminal's width on fd: TIOCGWINSZ, then $COLUMNS; 0 if fd is not a terminal. */
int		 tw_columns(int fd);
/* s laid out from column col in lines of at most width columns: broken at spaces and between
 * two wide (CJK) characters, never inside a word; each continuation line starts with indent
 * spaces (spaces where a line breaks are dropped, leading ones too). A word too long for a line at indent starts a line at min_indent; one too long for
 * that too is cut (nothing else can fit it). Writes at most len bytes, NUL-terminated; returns
 * the bytes written. The caller's cursor is then on the last line, after the text. */
size_t		 tw_wrap(char *out, size_t len, const char *s, int col, int width, int indent,
		    int min_indent);
/* s in at most width columns, on one line: whole if it fits; else cut where tw_wrap could
 * break it (words: at a space or between two wide characters, never inside a word; !words:
 * between any two characters), a space or a ",;:" left at the cut dropped, and "…" (one
 * column, counted) put there. Terminal escapes are copied and take no room. Writes at most len
 * bytes, NUL-terminated; returns the bytes written. width < 1: nothing. */
size_t		 tw_cut(char *out, size_t len, const char *s, int width, int words);
/* 1 if most words of a (half or more) are also in b: a second sentence that would say it again.
 * Words: runs of 4+ ASCII letters, case-folded; CJK text: each pair of wide characters. */
int		 tw_says_same(const char *a, const char *b);

#endif
