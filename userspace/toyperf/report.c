// SPDX-License-Identifier: GPL-2.0
/*
 * toyperf: what the rounds add up to, the tables and the JSON file.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toyperf.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The figure of a cell over its rounds: total operations over total time,
 * each round's figure v[i] weighted by the time secs[i] it was measured
 * over.  The rounds all last about run_time, so for a rate this is the
 * plain mean of the per-round rates, and for a time per operation (the
 * round trip) the harmonic mean of the per-round times; the mean of those
 * times would weigh a slow round's few round trips like a fast round's
 * many.  With many short, interleaved rounds a slow phase of a loaded
 * host hits every family alike; a single stalled round (a vCPU thread
 * descheduled on the host) cannot swing it the way it swings a per-round
 * ratio.  A round that measured nothing (v <= 0) is left out.
 */
static double pooled(const double *v, const double *secs, int n, bool latency)
{
	double ops = 0, secs_sum = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (v[i] <= 0 || secs[i] <= 0)
			continue;
		secs_sum += secs[i];
		ops += latency ? secs[i] / v[i] : v[i] * secs[i];
	}
	if (!(ops > 0) || !(secs_sum > 0))
		return -1;
	return latency ? secs_sum / ops : ops / secs_sum;
}

static double median(const double *v, int n)
{
	double tmp[MAXROUNDS];
	int i, m = 0;

	for (i = 0; i < n && m < MAXROUNDS; i++)
		if (v[i] >= 0)
			tmp[m++] = v[i];
	if (!m)
		return -1;
	qsort(tmp, m, sizeof(double), cmp_double);
	return m & 1 ? tmp[m / 2] : (tmp[m / 2 - 1] + tmp[m / 2]) / 2;
}

void summarise(struct results *res)
{
	size_t w;
	int f;

	for (w = 0; w < NWL; w++) {
		for (f = 0; f < NFAM; f++) {
			res->value[w][f] = pooled(res->vals[w][f],
						  res->secs[w][f], rounds,
						  workloads[w].lower_better);
			res->csw[w][f] = median(res->csws[w][f], rounds);
		}
		res->loss[w] = median(res->losses[w], rounds);
		res->ratio[w] = res->value[w][F_TOY] > 0 && res->value[w][F_UNIX] > 0 ?
				res->value[w][F_TOY] / res->value[w][F_UNIX] : -1;
	}
}

static void fmt(char *out, size_t n, double v)
{
	if (v < 0)
		snprintf(out, n, "-");
	else if (v >= 100)
		snprintf(out, n, "%.0f", v);
	else if (v >= 10)
		snprintf(out, n, "%.1f", v);
	else
		snprintf(out, n, "%.2f", v);
}

static bool goal_met(const struct workload *wl, double q)
{
	return wl->lower_better ? q <= wl->goal : q >= wl->goal;
}

/* One line of the main table; whether it has a goal (*has) that is met. */
static bool print_result(const struct results *res, size_t w, bool *has)
{
	const struct workload *wl = &workloads[w];
	char c[NFAM][32], ratio[32], goal[48];
	double q = res->ratio[w];
	int f;

	for (f = 0; f < NFAM; f++)
		fmt(c[f], sizeof(c[f]), res->value[w][f]);
	if (q >= 0)
		snprintf(ratio, sizeof(ratio), "%.2fx", q);
	else
		snprintf(ratio, sizeof(ratio), "-");
	if (!wl->goal)
		goal[0] = 0;
	else if (q < 0)
		snprintf(goal, sizeof(goal), "%s %.1fx: n/a",
			 wl->lower_better ? "<=" : ">=", wl->goal);
	else
		snprintf(goal, sizeof(goal), "%s %.1fx: %s",
			 wl->lower_better ? "<=" : ">=", wl->goal,
			 goal_met(wl, q) ? "met" : "NOT met");
	printf("%-24s %-7s %10s %10s %10s %9s  %s\n", wl->label,
	       wl->unit, c[F_TOY], c[F_UNIX], c[F_IP], ratio, goal);
	*has = wl->goal && q >= 0;
	return *has && goal_met(wl, q);
}

/* Context switches per operation, and UDP's losses. */
static void print_csw(const struct results *res)
{
	char c[NFAM][32];
	size_t w;
	int f;

	if (res->nsel)
		printf("\ncontext switches per operation (write, message, round "
		       "trip, connection; all processes):\n");
	for (w = 0; w < NWL; w++) {
		if (!res->sel[w])
			continue;
		for (f = 0; f < NFAM; f++)
			fmt(c[f], sizeof(c[f]), res->csw[w][f]);
		printf("%-24s %-7s %10s %10s %10s\n", workloads[w].label, "csw/op",
		       c[F_TOY], c[F_UNIX], c[F_IP]);
	}
	for (w = 0; w < NWL; w++)
		if (res->sel[w] && workloads[w].kind == K_DGRAM && res->loss[w] >= 0)
			printf("UDP %s: %.1f%% of datagrams lost (TCP/UDP column counts received ones)\n",
			       workloads[w].name, 100 * res->loss[w]);
}

/* Index of the workload called @name. */
static size_t wl_index(const char *name)
{
	size_t w;

	for (w = 0; w < NWL && strcmp(workloads[w].name, name); w++)
		;
	return w;
}

/*
 * AF_TOY's two pairs on two CPUs over its one 64 KiB pair: how well the
 * family scales with CPUs (shared state would keep it near 1); <0 n/a.
 */
double dual_scaling(const struct results *res)
{
	size_t d = wl_index("dual-stream"), s = wl_index("stream-64k");

	if (d >= NWL || s >= NWL || !res->sel[d] || !res->sel[s] ||
	    res->value[d][F_TOY] <= 0 || res->value[s][F_TOY] <= 0)
		return -1;
	return res->value[d][F_TOY] / res->value[s][F_TOY];
}

/*
 * Whether the scaling goal applies: two pairs on two vCPUs against one
 * pair on one.  Unpinned, the one pair already has both vCPUs (its reader
 * and writer each on one), so the figure is shown but has no goal.
 */
static bool scaling_has_goal(void)
{
	return pin_same;
}

/* The scaling line @q under the table; whether its goal is met. */
static bool print_scaling(double q)
{
	bool met = q >= DUAL_SCALING_GOAL;

	printf("%-24s %-7s %10s %10s %10s %8.2fx  >= %.1fx: %s\n",
	       "2 pairs / 1 pair AF_TOY", "ratio", "", "", "", q,
	       DUAL_SCALING_GOAL, !scaling_has_goal() ?
	       "n/a, one pair has both CPUs" : met ? "met" : "NOT met");
	return met;
}

void print_results(const struct results *res)
{
	int goals = 0, met = 0;
	double scaling;
	bool has;
	size_t w;

	if (res->nsel)
		printf("\n%-24s %-7s %10s %10s %10s %9s  %s\n", "workload",
		       "unit", "AF_TOY", "AF_UNIX", "TCP/UDP", "TOY/UNIX", "goal");
	for (w = 0; w < NWL; w++) {
		if (!res->sel[w])
			continue;
		met += print_result(res, w, &has);
		goals += has;
	}
	scaling = dual_scaling(res);
	if (scaling >= 0 && scaling_has_goal()) {
		met += print_scaling(scaling);
		goals++;
	} else if (scaling >= 0) {
		print_scaling(scaling);
	}
	if (goals)
		printf("goals: %d of %d met\n", met, goals);
	print_csw(res);
}

/* ------------------------------------------------------------ figures */

static void fmt_fig(char *out, size_t n, double v)
{
	if (isnan(v))
		snprintf(out, n, "-");
	else if (v < 0)
		snprintf(out, n, "%.1f", v);	/* noise around zero */
	else
		fmt(out, n, v);
}

static double fig_ratio(const double *v)
{
	return v[F_TOY] > 0 && v[F_UNIX] > 0 ? v[F_TOY] / v[F_UNIX] : NAN;
}

static void print_fig_row(const char *label, const char *unit,
			  const double *v)
{
	char c[2][32], ratio[32] = "-";
	double q = fig_ratio(v);

	fmt_fig(c[0], sizeof(c[0]), v[F_TOY]);
	fmt_fig(c[1], sizeof(c[1]), v[F_UNIX]);
	if (!isnan(q))
		snprintf(ratio, sizeof(ratio), "%.2fx", q);
	printf("%-24s %-8s %10s %10s %9s\n", label, unit, c[0], c[1], ratio);
}

static void print_idlemem_notes(const struct figures *fg)
{
	char d[2][32];

	fmt_fig(d[0], sizeof(d[0]), fg->drop_kib[F_TOY]);
	fmt_fig(d[1], sizeof(d[1]), fg->drop_kib[F_UNIX]);
	printf("idlemem: STREAM socketpairs made: AF_TOY %d, AF_UNIX %d; "
	       "%d KiB each way in %d KiB writes, all read; %s %d KiB; "
	       "1 s idle\n", fg->pairs[F_TOY], fg->pairs[F_UNIX],
	       IDLE_BYTES / 1024, IDLE_CHUNK / 1024,
	       geteuid() ? "SO_SNDBUF" : "SO_SNDBUFFORCE",
	       IDLE_SNDBUF / 1024);
	printf("idlemem: MemAvailable drop: AF_TOY %s KiB, AF_UNIX %s KiB\n",
	       d[0], d[1]);
}

/* callcost: the table's labels and the JSON's names of the calls. */
static const char *const call_label[NCALL + 1] = {
	"call: socket()", "call: connect()", "call: close() client",
	"call: accept()", "call: close() server", "call: all five",
};
static const char *const call_key[NCALL + 1] = {
	"socket", "connect", "close_client", "accept", "close_server", "all",
};

void print_figures(const struct figures *fg)
{
	char label[48];
	int h, c;

	if (!fg->idlemem && !fg->bindlat && !fg->callcost)
		return;
	printf("\n%-24s %-8s %10s %10s %9s\n", "figure", "unit", "AF_TOY",
	       "AF_UNIX", "TOY/UNIX");
	if (fg->idlemem)
		print_fig_row("idle memory per pair", "KiB/pair", fg->idle_kib);
	for (h = 0; h < NFIG_HELD && fg->bindlat; h++) {
		snprintf(label, sizeof(label), "socket+bind, %d held",
			 fg->held[h]);
		print_fig_row(label, "us", fg->bind_us[h]);
	}
	for (c = 0; c <= NCALL && fg->callcost; c++)
		print_fig_row(call_label[c], "us", fg->call_us[c]);
	if (fg->idlemem)
		print_idlemem_notes(fg);
	if (fg->bindlat)
		printf("bindlat: DGRAM socket()+bind(port 0 / autobind)+close(), "
		       "mean of %d; bound by the other process: AF_TOY %d, "
		       "AF_UNIX %d\n", bind_iters, fg->held_made[1][F_TOY],
		       fg->held_made[1][F_UNIX]);
	if (fg->callcost)
		printf("callcost: one process, STREAM, batches of %d: "
		       "socket() and connect() of each client, close() of "
		       "each, accept() of each, close() of each; mean of %d "
		       "per family over %d alternating rounds\n", CALL_BATCH,
		       CALL_CONNS, CALL_ROUNDS);
}

/* --------------------------------------------------------------- JSON */

static void json_num(FILE *j, const char *key, double v)
{
	if (isnan(v))
		fprintf(j, "\"%s\": null", key);
	else
		fprintf(j, "\"%s\": %.6g", key, v);
}

static void json_fig_values(FILE *j, const double *v)
{
	json_num(j, "toy", v[F_TOY]);
	fprintf(j, ", ");
	json_num(j, "unix", v[F_UNIX]);
	fprintf(j, ", ");
	json_num(j, "ratio", fig_ratio(v));
}

static void json_figures(FILE *j, const struct figures *fg)
{
	bool first = true;
	int h, c;

	fprintf(j, "  \"figures\": [");
	if (fg->idlemem) {
		fprintf(j, "\n    {\"figure\": \"idlemem\", \"unit\": \"KiB/pair\", ");
		json_fig_values(j, fg->idle_kib);
		fprintf(j, ", \"pairs\": {\"toy\": %d, \"unix\": %d}, ",
			fg->pairs[F_TOY], fg->pairs[F_UNIX]);
		fprintf(j, "\"memavailable_drop_kib\": {");
		json_num(j, "toy", fg->drop_kib[F_TOY]);
		fprintf(j, ", ");
		json_num(j, "unix", fg->drop_kib[F_UNIX]);
		fprintf(j, "}, \"bytes_each_way\": %d, \"write_size\": %d}",
			IDLE_BYTES, IDLE_CHUNK);
		first = false;
	}
	for (h = 0; h < NFIG_HELD && fg->bindlat; h++) {
		fprintf(j, "%s\n    {\"figure\": \"bindlat\", \"held\": %d, "
			"\"unit\": \"us\", ", first ? "" : ",", fg->held[h]);
		json_fig_values(j, fg->bind_us[h]);
		fprintf(j, ", \"held_made\": {\"toy\": %d, \"unix\": %d}, "
			"\"iterations\": %d}", fg->held_made[h][F_TOY],
			fg->held_made[h][F_UNIX], bind_iters);
		first = false;
	}
	for (c = 0; c <= NCALL && fg->callcost; c++) {
		fprintf(j, "%s\n    {\"figure\": \"callcost\", "
			"\"call\": \"%s\", \"unit\": \"us\", ",
			first ? "" : ",", call_key[c]);
		json_fig_values(j, fg->call_us[c]);
		fprintf(j, ", \"connections\": %d}", CALL_CONNS);
		first = false;
	}
	fprintf(j, "\n  ]");
}

/* , "key": {"toy": [round 1, ...], ...}: v of every round and family */
static void json_per_round(FILE *j, const char *key,
			   const double v[NFAM][MAXROUNDS])
{
	int f, r;

	fprintf(j, ", \"%s\": {", key);
	for (f = 0; f < NFAM; f++) {
		fprintf(j, "%s\"%s\": [", f ? ", " : "", fam_key[f]);
		for (r = 0; r < rounds; r++)
			fprintf(j, "%s%.4g", r ? ", " : "", v[f][r]);
		fprintf(j, "]");
	}
	fprintf(j, "}");
}

/* The object of workload w (without the comma before it). */
static void json_result(FILE *j, const struct results *res, size_t w)
{
	const struct workload *wl = &workloads[w];
	double q = res->ratio[w];
	int f;

	fprintf(j, "\n    {\"workload\": \"%s\", \"unit\": \"%s\"",
		wl->name, wl->unit);
	for (f = 0; f < NFAM; f++) {
		if (res->value[w][f] < 0)
			fprintf(j, ", \"%s\": null", fam_key[f]);
		else
			fprintf(j, ", \"%s\": %.4g", fam_key[f], res->value[w][f]);
	}
	json_per_round(j, "rounds", res->vals[w]);
	/* what each round's figure is over: its weight in the value */
	json_per_round(j, "seconds", res->secs[w]);
	if (q >= 0)
		fprintf(j, ", \"ratio\": %.3f", q);
	else
		fprintf(j, ", \"ratio\": null");
	if (wl->goal) {
		fprintf(j, ", \"goal\": \"%s%.1f\"",
			wl->lower_better ? "<=" : ">=", wl->goal);
		if (q >= 0)
			fprintf(j, ", \"met\": %s",
				goal_met(wl, q) ? "true" : "false");
	}
	if (wl->kind == K_DGRAM && res->loss[w] >= 0)
		fprintf(j, ", \"udp_loss\": %.4f", res->loss[w]);
	fprintf(j, ", \"csw_per_op\": {");
	for (f = 0; f < NFAM; f++)
		fprintf(j, "%s\"%s\": %.4g", f ? ", " : "",
			fam_key[f], res->csw[w][f]);
	fprintf(j, "}}");
}

void write_json(const char *path, const char *kernel,
		const struct results *res, const struct figures *fg)
{
	double scaling = dual_scaling(res);
	FILE *j = fopen(path, "w");
	bool first = true;
	size_t w;

	if (!j)
		die(path);
	fprintf(j, "{\n  \"kernel\": \"%s\",\n  \"rounds\": %d,\n"
		"  \"seconds_per_cell\": %.3f,\n  \"pin\": \"%s\",\n"
		"  \"results\": [",
		kernel, rounds, run_time, pin_same ? "same" : "none");
	for (w = 0; w < NWL; w++) {
		if (!res->sel[w])
			continue;
		if (!first)
			fprintf(j, ",");
		first = false;
		json_result(j, res, w);
	}
	fprintf(j, "\n  ],\n");
	if (scaling >= 0 && scaling_has_goal())
		fprintf(j, "  \"dual_scaling\": {\"ratio\": %.3f, \"goal\": \">=%.1f\", \"met\": %s},\n",
			scaling, DUAL_SCALING_GOAL,
			scaling >= DUAL_SCALING_GOAL ? "true" : "false");
	else if (scaling >= 0)
		fprintf(j, "  \"dual_scaling\": {\"ratio\": %.3f},\n", scaling);
	json_figures(j, fg);
	fprintf(j, "\n}\n");
	fclose(j);
}
