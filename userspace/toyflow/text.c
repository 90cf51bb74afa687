// SPDX-License-Identifier: GPL-2.0
/*
 * toyflow: the rows as a text diagram, two lifelines ('|', ':' while the
 * task is blocked) with server notes right-aligned on the left, client
 * notes on the right and the segments as arrows between them.
 */
#define _GNU_SOURCE
#include <string.h>

#include "toyflow.h"

#define TW 8	/* time column */
#define LW 42	/* server notes, right-aligned against the server lifeline */
#define AW 24	/* between the lifelines */

static void text_arrow(char *mid, const char *label, bool right)
{
	int l = (int)strlen(label), start, k;

	if (l > AW - 4)
		l = AW - 4;
	for (k = 0; k < AW; k++)
		mid[k] = '-';
	mid[AW] = '\0';
	start = (AW - l - 2) / 2 + 1;
	mid[start - 1] = ' ';
	memcpy(mid + start, label, l);
	mid[start + l] = ' ';
	if (right)
		mid[AW - 1] = '>';
	else
		mid[0] = '<';
}

static void text_divider(FILE *out, const char *ts, const struct row *w)
{
	char lab[128];
	int l;

	snprintf(lab, sizeof(lab), " %s ", w->text);
	l = (int)strlen(lab);
	fprintf(out, "%s %.*s", ts, LW, "- - - - - - - - - - - - - - - - - - - - -");
	fprintf(out, "%s", lab);
	fprintf(out, "%.*s\n", l < 60 ? 60 - l : 2, "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - ");
}

static void text_row(FILE *out, const struct row *w, double t0)
{
	char ts[TW + 24], left[LW + 168], mid[AW + 1];
	char sl = w->wait[0] ? ':' : '|';
	char cl = w->wait[1] ? ':' : '|';
	const char *ltxt = "", *rtxt = "";

	snprintf(ts, sizeof(ts), "%*.2f", TW, (w->ts - t0) * 1e3);
	memset(mid, ' ', AW);
	mid[AW] = '\0';
	if (w->kind == ROW_DIVIDER) {
		text_divider(out, ts, w);
		return;
	}
	if (w->kind == ROW_ARROW)
		text_arrow(mid, w->text, w->side == SIDE_SERVER);
	else if (w->side == SIDE_SERVER)
		ltxt = w->text;
	else
		rtxt = w->text;
	if ((int)strlen(ltxt) > LW - 1) {
		/* too long for the left column: own line above */
		fprintf(out, "%s %s\n", ts, ltxt);
		ltxt = "";
	}
	if (ltxt[0])
		snprintf(left, sizeof(left), "%*s ", LW - 1, ltxt);
	else
		snprintf(left, sizeof(left), "%*s", LW, "");
	fprintf(out, "%s%s%c%s%c%s%s\n", ts, left, sl, mid, cl,
		rtxt[0] ? " " : "", rtxt);
}

void print_text(FILE *out, double t0)
{
	char st[160], ct[160];
	int r;

	title(st, sizeof(st), SIDE_SERVER);
	title(ct, sizeof(ct), SIDE_CLIENT);
	fprintf(out, "%*s%*s%*s%s\n", TW, "ms", LW, st, AW + 3, "", ct);
	fprintf(out, "%*s%*s|%*s|\n", TW, "", LW, "", AW, "");
	for (r = 0; r < nrows; r++)
		text_row(out, &rows[r], t0);
	fprintf(out, "%*s%*s|%*s|\n", TW, "", LW, "", AW, "");
	fprintf(out, "\n%d toy events. '...': the call goes on (events in between "
		"happen inside it);\n':' on a lifeline: the task sleeps, blocked in "
		"the call (%s).\n", nev, have_sleeps ? "sched_switch" :
		"no sched events: guessed from interleaving");
	if (lost_lines)
		fprintf(out, "WARNING: the trace buffer lost events\n");
}
