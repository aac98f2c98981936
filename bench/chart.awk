# chart.awk - the latency chart of the benchmark, as a standalone SVG.
#
# Input lines (from bench/run.sh):
#   T title text
#   S ID LIMIT_MS LABEL...      a series: its physical limit and its name
#   V ID MS                     one round trip of series ID
# Output: one CDF per series (x: round trip on a log scale, y: share of
# runs at or below it), the series' limit as a dashed line of its colour.
# Plain awk (POSIX), so it runs wherever the benchmark does.

function xpos(v) {
	if (v < xmin) v = xmin
	return L + (log(v) - log(xmin)) / (log(xmax) - log(xmin)) * W
}
function ypos(f) { return T + (1 - f) * H }
function esc(s) {
	gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s)
	return s
}
# insertion sort of vals[id, 1..n]; n is at most a few hundred
function sortseries(id, n,    i, j, t) {
	for (i = 2; i <= n; i++) {
		t = vals[id, i]
		for (j = i - 1; j >= 1 && vals[id, j] > t; j--)
			vals[id, j + 1] = vals[id, j]
		vals[id, j + 1] = t
	}
}
# the nice value (1, 2 or 5 times a power of ten) at or below / above v
function nicedown(v,    p) {
	p = 1; while (p * 10 <= v) p *= 10; while (p > v) p /= 10
	if (5 * p <= v) return 5 * p
	if (2 * p <= v) return 2 * p
	return p
}
function niceup(v,    p) {
	p = 1; while (p < v) p *= 10; while (p / 10 >= v) p /= 10
	if (p / 5 >= v) return p / 5
	if (p / 2 >= v) return p / 2
	return p
}

$1 == "T" { title = substr($0, 3); next }
$1 == "S" {
	id = $2; ns++; order[ns] = id; limit[id] = $3 + 0
	label[id] = $4; for (i = 5; i <= NF; i++) label[id] = label[id] " " $i
	next
}
$1 == "V" { id = $2; cnt[id]++; vals[id, cnt[id]] = $3 + 0; next }

END {
	split("#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b", colour, " ")
	lo = -1; hi = 0
	for (s = 1; s <= ns; s++) {
		id = order[s]
		sortseries(id, cnt[id])
		for (i = 1; i <= cnt[id]; i++) {
			v = vals[id, i]
			if (lo < 0 || v < lo) lo = v
			if (v > hi) hi = v
		}
		if (limit[id] > 0 && (lo < 0 || limit[id] < lo)) lo = limit[id]
		if (limit[id] > hi) hi = limit[id]
	}
	if (lo <= 0) lo = 1
	if (hi <= lo) hi = lo * 2
	xmin = nicedown(lo * 0.9); xmax = niceup(hi * 1.05)
	L = 70; T = 40; W = 620; H = 300; legendh = 20 * ns + 10
	width = L + W + 30; height = T + H + 50 + legendh
	printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", width, height, width, height
	printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	printf "<text x=\"%d\" y=\"22\" font-size=\"14\" font-weight=\"bold\">%s</text>\n", L, esc(title)
	# grid and axes: y every 10 %, x at 1-2-5 steps
	for (k = 0; k <= 10; k++) {
		y = ypos(k / 10)
		printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", L, y, L + W, y
		if (k % 2 == 0)
			printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d%%</text>\n", L - 6, y + 4, k * 10
	}
	p = 1; while (p * 10 <= xmin) p *= 10; while (p > xmin) p /= 10
	for (; p <= xmax * 1.0001; p *= 10) {
		split("1 2 5", m, " ")
		for (j = 1; j <= 3; j++) {
			v = p * m[j]
			if (v < xmin * 0.9999 || v > xmax * 1.0001) continue
			x = xpos(v)
			printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", x, T, x, T + H
			printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n", x, T + H + 16, v
		}
	}
	printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>\n", L, T, W, H
	printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">round trip of qvm-remote true, ms (log scale); dashed: the physical limit</text>\n", L + W / 2, T + H + 36
	printf "<text transform=\"translate(16 %d) rotate(-90)\" text-anchor=\"middle\">runs at or below</text>\n", T + H / 2
	for (s = 1; s <= ns; s++) {
		id = order[s]; c = colour[(s - 1) % 6 + 1]; n = cnt[id]
		if (limit[id] > 0) {
			x = xpos(limit[id])
			printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-dasharray=\"5 4\" stroke-width=\"1.5\"/>\n", x, T, x, T + H, c
		}
		if (n == 0) continue
		path = sprintf("M%.1f %.1f", xpos(vals[id, 1]), ypos(0))
		for (i = 1; i <= n; i++)
			path = path sprintf(" H%.1f V%.1f", xpos(vals[id, i]), ypos(i / n))
		printf "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", path, c
		y = T + H + 56 + 20 * (s - 1)
		printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>\n", L, y - 4, L + 24, y - 4, c
		printf "<text x=\"%d\" y=\"%d\">%s</text>\n", L + 32, y, esc(label[id])
	}
	printf "</svg>\n"
}
