# side-by-side.awk - the simulator's and the real transport's figures of one
# `make bench`, as one markdown table (docs/performance.md).
#
#   awk -f side-by-side.awk summary-sim.txt summary-real.txt
#
# Each file holds KEY<TAB>LABEL<TAB>VALUE rows (bench/run.sh writes them);
# the rows come in the first file's order, a key the second lacks shows
# "-".
BEGIN { FS = "\t" }
FNR == 1 { file++ }
NF >= 3 {
	if (file == 1) {
		order[++n] = $1
		label[$1] = $2
		a[$1] = $3
	} else {
		b[$1] = $3
	}
}
END {
	if (file != 2) {
		print "side-by-side.awk: give it two summary files" > "/dev/stderr"
		exit 2
	}
	print ""
	print "| | sim/ | real qrexec |"
	print "|---|---:|---:|"
	for (i = 1; i <= n; i++) {
		k = order[i]
		printf "| %s | %s | %s |\n", label[k], a[k], (k in b) ? b[k] : "-"
	}
}
