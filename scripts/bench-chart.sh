#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench-chart.sh - draws toyperf's AF_TOY/AF_UNIX ratios as an SVG bar
# chart on stdout: one group of bars per workload, one bar per JSON file
# (a kernel in one placement), a line at AF_UNIX's speed and a tick at each
# workload's goal.  Bars show speed relative to AF_UNIX, so that longer is
# better everywhere: a throughput ratio as it is, a round trip's ratio
# inverted (0.8x the time is 1.25x the speed).
#
# Usage: scripts/bench-chart.sh FILE.json... >chart.svg
#   FILE.json   written by toyperf --json (make bench: build/bench/
#               <release>-pinned.json and -unpinned.json)

set -eu

[ $# -gt 0 ] || { echo "usage: $0 FILE.json... >chart.svg" >&2; exit 2; }
for f in "$@"; do
	[ -r "$f" ] || { echo "bench-chart: cannot read $f" >&2; exit 1; }
done

# toyperf writes one result object per line; the fields are found by name.
awk '
function field(line, key,    m) {
	if (match(line, "\"" key "\": *\"[^\"]*\"")) {
		m = substr(line, RSTART, RLENGTH)
		sub("^\"" key "\": *\"", "", m)
		sub("\"$", "", m)
		return m
	}
	if (match(line, "\"" key "\": *[-0-9.e+]+")) {
		m = substr(line, RSTART, RLENGTH)
		sub("^\"" key "\": *", "", m)
		return m
	}
	return ""
}
FNR == 1 { nser++; file[nser] = FILENAME }
/"kernel":/ { kernel[nser] = field($0, "kernel") }
/"pin":/ { pin[nser] = field($0, "pin") == "none" ? "unpinned" : "pinned" }
/"workload":/ {
	w = field($0, "workload")
	r = field($0, "ratio")
	g = field($0, "goal")
	if (!(w in wix)) { nw++; wix[w] = nw; wname[nw] = w }
	if (r == "" || r + 0 <= 0)
		next
	lower = g ~ /^<=/
	speed[wix[w], nser] = lower ? 1 / r : r
	if (g != "") {
		sub(/^[<>]=/, "", g)
		goal[wix[w]] = lower ? 1 / g : g
	}
	if (speed[wix[w], nser] > maxv) maxv = speed[wix[w], nser]
}
END {
	if (!nw) { print "bench-chart: no results in the input" > "/dev/stderr"; exit 1 }
	split("#4e79a7 #f28e2b #59a14f #e15759 #76b7b2 #edc948", col, " ")
	top = maxv < 2.5 ? 2.5 : int(maxv + 0.999)
	left = 170; width = 560; barh = 9; gap = 10
	grouph = nser * barh + gap
	height = 70 + nw * grouph + 20 * nser + 20
	x0 = left
	printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">\n", left + width + 30, height
	printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	printf "<text x=\"10\" y=\"18\" font-size=\"13\" font-weight=\"bold\">AF_TOY speed relative to AF_UNIX (longer is better; round trip inverted)</text>\n"
	y = 40
	for (t = 0; t <= top; t += 0.5) {
		x = x0 + t / top * width
		printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\"/>\n", x, y, x, y + nw * grouph, t == 1 ? "black" : "#dddddd"
		printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.1fx</text>\n", x, y - 4, t
	}
	for (i = 1; i <= nw; i++) {
		gy = y + (i - 1) * grouph
		printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", left - 8, gy + nser * barh / 2 + 4, wname[i]
		for (s = 1; s <= nser; s++) {
			if (!((i, s) in speed))
				continue
			v = speed[i, s] > top ? top : speed[i, s]
			printf "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>%s %s %s: %.2fx</title></rect>\n", x0, gy + (s - 1) * barh, v / top * width, barh - 1, col[(s - 1) % 6 + 1], wname[i], kernel[s], pin[s], speed[i, s]
		}
		if (i in goal) {
			gx = x0 + goal[i] / top * width
			printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#b00000\" stroke-width=\"2\"><title>goal %.2fx</title></line>\n", gx, gy - 2, gx, gy + nser * barh, goal[i]
		}
	}
	ly = y + nw * grouph + 16
	for (s = 1; s <= nser; s++) {
		printf "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"9\" fill=\"%s\"/>\n", left, ly + (s - 1) * 20 - 8, col[(s - 1) % 6 + 1]
		printf "<text x=\"%d\" y=\"%d\">%s, %s</text>\n", left + 18, ly + (s - 1) * 20, kernel[s], pin[s]
	}
	printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#b00000\" stroke-width=\"2\"/>\n", left + 300, ly - 4, left + 312, ly - 4
	printf "<text x=\"%d\" y=\"%d\">goal</text>\n", left + 318, ly
	print "</svg>"
}' "$@"
