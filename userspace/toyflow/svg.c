// SPDX-License-Identifier: GPL-2.0
/*
 * toyflow: the rows as an SVG sequence diagram: the same layout as the
 * text one, with a red activation bar over a blocked call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "toyflow.h"

/* The geometry, in pixels. */
enum { ROW_H = 22, TOP = 70, XS = 400, XC = 720, WIDTH = 1140 };

static void xml_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* The frame: titles and the two lifelines. */
static void svg_head(FILE *f, int height)
{
	char st[160], ct[160];

	title(st, sizeof(st), SIDE_SERVER);
	title(ct, sizeof(ct), SIDE_CLIENT);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"monospace\" "
		"font-size=\"12\">\n", WIDTH, height, WIDTH, height);
	fprintf(f, "<title>AF_TOY sequence diagram (toyflow)</title>\n"
		"<defs><marker id=\"arrow\" markerWidth=\"10\" markerHeight=\"8\" "
		"refX=\"9\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" "
		"fill=\"#333\"/></marker></defs>\n"
		"<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
		WIDTH, height);
	fprintf(f, "<text x=\"%d\" y=\"30\" text-anchor=\"middle\" "
		"font-weight=\"bold\">", XS);
	xml_escape(f, st);
	fprintf(f, "</text>\n<text x=\"%d\" y=\"30\" text-anchor=\"middle\" "
		"font-weight=\"bold\">", XC);
	xml_escape(f, ct);
	fprintf(f, "</text>\n<text x=\"10\" y=\"30\" fill=\"#888\">ms</text>\n");
	fprintf(f, "<line x1=\"%d\" y1=\"45\" x2=\"%d\" y2=\"%d\" stroke=\"#555\" "
		"stroke-width=\"2\"/>\n", XS, XS, height - 20);
	fprintf(f, "<line x1=\"%d\" y1=\"45\" x2=\"%d\" y2=\"%d\" stroke=\"#555\" "
		"stroke-width=\"2\"/>\n", XC, XC, height - 20);
}

/* Activation bars: one from the row that began a blocked call to y. */
static void svg_blocks(FILE *f, const struct row *w, int y, int *bstart)
{
	int s;

	for (s = 0; s < 2; s++) {
		if (w->block_end == s && bstart[s] >= 0) {
			int x = s == SIDE_SERVER ? XS : XC;

			fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"10\" "
				"height=\"%d\" fill=\"#f4c7c3\" "
				"stroke=\"#c0392b\"><title>blocked</title></rect>\n",
				x - 5, bstart[s], y - bstart[s]);
			bstart[s] = -1;
		}
		if (w->block_begin == s)
			bstart[s] = y;
	}
}

static void svg_arrow(FILE *f, const struct row *w, int y)
{
	int x1 = w->side == SIDE_SERVER ? XS : XC;
	int x2 = w->side == SIDE_SERVER ? XC : XS;
	const char *col = !strncmp(w->text, "RST", 3) ? "#c0392b" :
		!strncmp(w->text, "DATA", 4) ? "#1f6fb2" : "#333";

	fprintf(f, "<g class=\"segment\"><line x1=\"%d\" y1=\"%d\" "
		"x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"1.5\" "
		"marker-end=\"url(#arrow)\"/>\n", x1, y,
		x2 + (x2 > x1 ? -2 : 2), y, col);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
		"fill=\"%s\">", (XS + XC) / 2, y - 4, col);
	xml_escape(f, w->text);
	fprintf(f, "</text></g>\n");
}

static void svg_note(FILE *f, const struct row *w, int y)
{
	bool srv = w->side == SIDE_SERVER;
	int x = srv ? XS - 12 : XC + 12;
	int tw = (int)strlen(w->text) * 7 + 8;

	if (w->note == NOTE_STATE)
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" "
			"height=\"17\" rx=\"3\" fill=\"#fff6c8\" "
			"stroke=\"#d8c36a\"/>\n",
			srv ? x - tw + 4 : x - 4, y - 12, tw);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\"%s>",
		x, y + 1, srv ? "end" : "start",
		w->note == NOTE_CALL ? " font-weight=\"bold\"" : "");
	xml_escape(f, w->text);
	fprintf(f, "</text>\n");
}

static void svg_row(FILE *f, const struct row *w, int y)
{
	if (w->kind == ROW_DIVIDER) {
		fprintf(f, "<line x1=\"60\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
			"stroke=\"#999\" stroke-dasharray=\"6,4\"/>\n",
			y, WIDTH - 20, y);
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
			"fill=\"#555\">", (XS + XC) / 2, y - 4);
		xml_escape(f, w->text);
		fprintf(f, "</text>\n");
	} else if (w->kind == ROW_ARROW) {
		svg_arrow(f, w, y);
	} else {
		svg_note(f, w, y);
	}
}

int write_svg(const char *path, double t0)
{
	int height = TOP + (nrows + 2) * ROW_H + 30;
	int bstart[2] = { -1, -1 };
	FILE *f;
	int r;

	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "toyflow: %s: %s\n", path, strerror(errno));
		return -1;
	}
	svg_head(f, height);
	for (r = 0; r < nrows; r++) {
		int y = TOP + r * ROW_H;

		fprintf(f, "<text x=\"10\" y=\"%d\" fill=\"#888\">%.3f</text>\n",
			y + 4, (rows[r].ts - t0) * 1e3);
		svg_blocks(f, &rows[r], y, bstart);
		svg_row(f, &rows[r], y);
	}
	fprintf(f, "</svg>\n");
	if (fclose(f)) {
		fprintf(stderr, "toyflow: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}
