/*
 * program.c - generating the fetch and deliver programs.
 *
 * The sh text below is the protocol's VM half; docs/protocol.md describes
 * it and tests/system runs it under dash and bash.
 */
#include "program.h"

#include "agentwire.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "audit.h"
#include "b64.h"
#include "err.h"
#include "fileio.h"
#include "frame.h"
#include "vmlayout.h"
#include "banned.h"

/*
 * The fetch program after its parameters P W N B K R.  With the agent in
 * the VM it hands over to it (agent/fetch.c does all of what follows, and
 * says so with "agent N"); the agent's exit status 2 means it refused the
 * arguments and wrote nothing, so the sh below still answers.
 *
 * sh has no local variables: the helpers use names starting with '_' so
 * that they never clobber the loops that call them.  iscid mirrors
 * cid_valid() exactly, so a name that dom0 would refuse is never claimed
 * (a claimed name that failed the grammar would poison every reply).
 * Sizes are measured before the bytes are sent with head -c, so a file
 * that changes under us makes a malformed reply, never a misread one.
 */
/* The VM's queue (lib/vmlayout.h) in sh variables, for both programs:
 * QD ~/.qvm-remote, q its queue, QP QR QS pending, running, results, the
 * suffixes QT QI QO of a request's token, input and options, and QN of
 * a note in running/. */
#define SH_LAYOUT \
	"QD=\"$HOME/" VM_DIR "\"; q=\"$QD/" VM_QUEUE "\"\n" \
	"QP=\"$q/" VM_PENDING "\"; QR=\"$q/" VM_RUNNING "\"; " \
	"QS=\"$q/" VM_RESULTS "\"\n" \
	"QT=" VM_TOKEN "; QI=" VM_INPUT "; QO=" VM_OPTIONS "; QN=" VM_NOTE "\n" \
	"QL=" VM_LIVE_OUT "; QE=" VM_LIVE_ERR "\n"

static const char fetch_setup[] =
	"umask 077\n"
	SH_LAYOUT
	"if command -v " AGENT_NAME " >/dev/null 2>&1; then\n"
	"\t" AGENT_NAME " fetch \"$P\" \"$W\" \"$N\" \"$B\" \"$K\" $R " AGENT_END "\n"
	"\trc=$?; [ \"$rc\" -eq 2 ] || exit \"$rc\"\n"
	"fi\n"
	"digits() { case $1 in ''|*[!0-9]*) return 1;; esac; }\n"
	"iscid() {\n"
	"\tcase $1 in\n"
	"\tping-*-*)\n"
	"\t\t_x=${1#ping-}; _a=${_x%%-*}; _z=${_x#*-}\n"
	"\t\tdigits \"$_a\" && digits \"$_z\" && [ ${#_a} -le 20 ] && [ ${#_z} -le 10 ];;\n"
	"\t[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9]-*-*)\n"
	"\t\t_d=${1%%-*}; _x=${1#*-}; _t=${_x%%-*}; _x=${_x#*-}\n"
	"\t\t_p=${_x%%-*}; _h=${_x#*-}\n"
	"\t\tdigits \"$_d$_t\" && digits \"$_p\" && [ ${#_p} -le 10 ] || return 1\n"
	"\t\tcase $_h in *[!0-9a-f]*) return 1;; esac\n"
	"\t\t[ ${#_d} -eq 8 ] && [ ${#_t} -eq 6 ] && [ ${#_h} -ge 8 ] && [ ${#_h} -le 32 ];;\n"
	"\t*) return 1;;\n"
	"\tesac\n"
	"}\n"
	/* isclaim mirrors claim_valid(): [0-9a-f]{8}-N-M */
	"isclaim() {\n"
	"\tcase $1 in\n"
	"\t[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-*-*)\n"
	"\t\t_x=${1#*-}; _a=${_x%%-*}; _z=${_x#*-}\n"
	"\t\tdigits \"$_a\" && digits \"$_z\" && [ ${#_a} -le 10 ] && [ ${#_z} -le 4 ];;\n"
	"\t*) return 1;;\n"
	"\tesac\n"
	"}\n"
	/* rel: put back a claim dom0 found stranded (it never ran).  The
	 * first rename decides, so two overlapping rels cannot both move
	 * files; the token goes back last, as a client writes it. */
	"rel() {\n"
	"\t_r=\"$QR\"\n"
	"\tmv \"$_r/$1$QT.$2\" \"$_r/.rel.$1.$2\" 2>/dev/null || return 0\n"
	"\tfor _s in '' \"$QI\" \"$QO\"; do\n"
	"\t\t[ ! -e \"$_r/$1$_s\" ] || mv -f \"$_r/$1$_s\" \"$QP/$1$_s\"\n"
	"\tdone\n"
	"\trm -f \"$_r/$1$QN\"\n"
	"\tmv -f \"$_r/.rel.$1.$2\" \"$QP/$1$QT\"\n"
	"}\n"
	"set -- $R\n"
	"while [ $# -ge 2 ]; do rel \"$1\" \"$2\"; shift 2; done\n";

static const char fetch_main[] =
	/* no inotify here: a wait of 5 wake-ups a second, also while the
	 * queue does not exist yet (a VM that never used qvm-remote) */
	"ready() {\n"
	"\tfor a in \"$QP\"/*\"$QT\"; do\n"
	"\t\t_c=${a##*/}\n"
	"\t\t[ -f \"$a\" ] && iscid \"${_c%\"$QT\"}\" &&\n"
	"\t\t    [ $(($(wc -c <\"$a\"))) -ge 64 ] && return 0\n"
	"\tdone\n"
	"\treturn 1\n"
	"}\n"
	"if [ \"$W\" -gt 0 ] && ! ready; then\n"
	"\ti=0\n"
	"\twhile [ \"$i\" -lt $((W * 5)) ] && ! ready; do\n"
	"\t\tsleep 0.2; i=$((i + 1))\n"
	"\tdone\n"
	"fi\n"
	/* The header goes out after the wait: if dom0 gave up on this call
	 * meanwhile, the write fails and we stop before claiming anything. */
	"printf 'qvmr-fetch 1\\n' || exit 0\n"
	"if ! cd \"$QP\" 2>/dev/null || ! mkdir -p \"$QR\"; then\n"
	"\tprintf 'done 0\\n'; exit 0\n"
	"fi\n"
	"if [ \"$K\" = 1 ]; then s=\"$QR/\"; else s=; fi\n"
	"part() {\n"
	"\t[ -f \"$2\" ] || return 0\n"
	"\tz=$(wc -c <\"$2\") || return 0\n"
	"\tz=$((z))\n"
	"\tif [ \"$z\" -gt \"$3\" ]; then\n"
	"\t\tprintf 'big %s %s\\n' \"$1\" \"$z\"\n"
	"\telse\n"
	"\t\tprintf 'part %s %s\\n' \"$1\" \"$z\"; head -c \"$z\" \"$2\"; printf '\\n'\n"
	"\t\tb=$((b + z))\n"
	"\tfi\n"
	"}\n"
	"n=0; b=0; k=0\n"
	"for a in *\"$QT\"; do\n"
	"\t[ -f \"$a\" ] || continue\n"
	"\tc=${a%\"$QT\"}\n"
	"\tif ! iscid \"$c\"; then k=$((k + 1)); continue; fi\n"
	"\tz=$(wc -c <\"$a\") || continue\n"
	"\t[ $((z)) -ge 64 ] || continue\n"
	"\t[ \"$n\" -lt \"$N\" ] && [ \"$b\" -lt \"$B\" ] || break\n"
	"\tm=\"$c$QT.$P-$n\"\n"
	"\tif [ \"$K\" = 1 ]; then\n"
	"\t\tmv -f \"$a\" \"$QR/$m\" 2>/dev/null || continue\n"
	"\t\tfor x in '' \"$QI\" \"$QO\"; do\n"
	"\t\t\t[ ! -e \"$c$x\" ] || mv -f \"$c$x\" \"$QR/$c$x\"\n"
	"\t\tdone\n"
	"\t\tt=\"$QR/$m\"\n"
	"\telse\n"
	"\t\tt=$a\n"
	"\tfi\n"
	"\tprintf 'req %s %s-%s\\n' \"$c\" \"$P\" \"$n\"\n"
	"\tpart body \"$s$c\" " "1048576" "\n"
	"\tpart opt \"$s$c$QO\" " "4096" "\n"
	"\tpart in \"$s$c$QI\" " "8388608" "\n"
	"\tpart auth \"$t\" " "80" "\n"
	"\tprintf 'end\\n'\n"
	"\tn=$((n + 1))\n"
	"done\n"
	/* every claim marker, so dom0 can find claims whose reply was lost */
	"h=0\n"
	"[ \"$K\" = 1 ] && for m in \"$QR\"/*\"$QT\".*; do\n"
	"\t[ -f \"$m\" ] && [ \"$h\" -lt " "64" " ] || continue\n"
	"\tx=${m##*/}; c=${x%%\"$QT\".*}; y=${x#*\"$QT\".}\n"
	"\tiscid \"$c\" && isclaim \"$y\" || continue\n"
	"\tprintf 'held %s %s\\n' \"$c\" \"$y\"; h=$((h + 1))\n"
	"done\n"
	"[ \"$k\" -eq 0 ] || printf 'skip %s\\n' \"$k\"\n"
	"printf 'done %s\\n' \"$n\"\n" PROGRAM_END;

static_assert(BODY_MAX == 1048576 && OPT_MAX == 4096 &&
	      IN_MAX == 8388608 && AUTH_MAX == 80 && FETCH_HELD_MAX == 64,
	      "the limits in fetch_main must match lib/bounds.h");

/* p as lib/agentwire.h takes it; rel holds its releases' words.  0, or
 * QR_ERR_INVALID when the agent would refuse it. */
static int
to_wire(const struct fetch_params *p, struct agentwire_fetch *w,
	const char *rel[2 * FETCH_HELD_MAX])
{
	size_t n = p->nrelease <= FETCH_HELD_MAX ? p->nrelease : 0;

	for (size_t i = 0; i < n; i++) {
		rel[2 * i] = p->release[i].cid;
		rel[2 * i + 1] = p->release[i].claim;
	}
	*w = (struct agentwire_fetch){
		.prefix = p->claim_prefix, .wait_s = p->wait_s,
		.max_requests = p->max_requests, .max_bytes = p->max_bytes,
		.claim = !p->peek, .release = rel, .nrelease = p->nrelease,
	};
	return agentwire_fetch_valid(w) ? 0 : QR_ERR_INVALID;
}

int
program_fetch(struct buf *out, const struct fetch_params *p)
{
	const char *rel[2 * FETCH_HELD_MAX];
	struct agentwire_fetch w;
	int r;

	if ((r = to_wire(p, &w, rel)) != 0 ||
	    (r = buf_printf(out, "P='%s'\nW=%u\nN=%u\nB=%llu\nK=%d\nR='",
			    p->claim_prefix, p->wait_s, p->max_requests,
			    (unsigned long long)p->max_bytes,
			    p->peek ? 0 : 1)) != 0 ||
	    (r = agentwire_put_releases(out, &w)) != 0 ||
	    (r = buf_append_str(out, "'\n")) != 0 ||
	    (r = buf_append_str(out, fetch_setup)) != 0)
		return r;
	return buf_append_str(out, fetch_main);
}

/* "LEAD ARGS qvmr-end", ARGS the fetch's as the agent takes them. */
static int
put_agent_fetch(struct buf *out, const char *lead, const struct fetch_params *p)
{
	const char *rel[2 * FETCH_HELD_MAX];
	struct agentwire_fetch w;
	int r;

	if ((r = to_wire(p, &w, rel)) != 0 ||
	    (r = buf_printf(out, "%s ", lead)) != 0)
		return r;
	return agentwire_put_args(out, &w);
}

int
program_agent_fetch(struct buf *out, const struct fetch_params *p)
{
	return put_agent_fetch(out, "exec " AGENT_NAME " fetch", p);
}

int
program_agent_session(struct buf *out, const struct fetch_params *p)
{
	return put_agent_fetch(out, "exec " AGENT_NAME " session", p);
}

int
program_agent_turn(struct buf *out, const struct fetch_params *p)
{
	const char *rel[2 * FETCH_HELD_MAX];
	struct agentwire_fetch w;
	int r;

	if ((r = to_wire(p, &w, rel)) != 0)
		return r;
	return agentwire_put_turn(out, &w);
}

/*
 * The deliver program: a prologue defining fin(), then per result three
 * base64 here-documents into temporary names and a call to fin, then the
 * trailer.  fin publishes a result only while the VM has none of its cid
 * (results/, history/) and removes the marker last, so a repeated deliver
 * never rewrites a result the client may already have read, and a marker
 * removed in the VM loses nothing (protocol.md section 6).
 */
static const char deliver_prologue[] =
	"umask 077\n"
	SH_LAYOUT
	"r=\"$QS\"\n"
	"mkdir -p \"$r\" 2>/dev/null\n"
	"now=$(date -u +%Y-%m-%dT%H:%M:%SZ)\n"
	"printf 'qvmr-deliver 1\\n'\n"
	"n=0; bad=0\n"
	/* had CID: the VM has its result (results/, or history/ where a
	 * client moved it): it was delivered, whatever the marker says (one
	 * a killed deliver left goes).  A marker removed in the VM with no
	 * result there loses nothing. */
	"had() {\n"
	"\t[ -e \"$r/$1.exit\" ] && return 0\n"
	"\tfor h in \"$QD/" VM_HISTORY "\"/*/\"$1\"/exit; do [ -e \"$h\" ] && return 0; done\n"
	"\treturn 1\n"
	"}\n"
	/* unclaim CID CLAIM EXIT STATUS ANCHOR: the request's files in
	 * running/ go, its RESULT line is logged, and its marker goes last;
	 * forget CID CLAIM: the same without the line (a claim left over) */
	"forget() {\n"
	"\trm -f \"$QR/$1\" \"$QR/$1$QI\" \"$QR/$1$QO\" \"$QR/$1$QN\" \"$QR/$1$QL\" \"$QR/$1$QE\"\n"
	"\trm -f \"$QR/$1$QT.$2\"\n"
	"}\n"
	"unclaim() {\n"
	"\tprintf '[%s] RESULT id=%s status=%s exit=%s dom0-log=%s\\n' \"$now\" \"$1\" \"$4\" \"$3\" \"$5\" \\\n"
	"\t    >>\"$QD/" VM_AUDIT "\"\n"
	"\tforget \"$1\" \"$2\"\n"
	"}\n"
	/* fin CID CLAIM EXIT STATUS ANCHOR, after the three here-documents of the
	 * item were decoded into temporaries named after this call (D), so a
	 * late, overlapping deliver never writes into ours */
	"fin() {\n"
	"\tm=\"$QR/$1$QT.$2\"; o=\"$r/.$1.$2.$D\"\n"
	/* a refused ping (frame.h DELIVER_DROPPED): its claim goes, and
	 * no result comes */
	"\tcase $4 in " DELIVER_DROPPED ")\n"
	"\t\trm -f \"$o.out\" \"$o.err\" \"$o.meta\"\n"
	"\t\tif [ -e \"$m\" ]; then\n"
	"\t\t\tunclaim \"$@\"; printf 'ok %s\\n' \"$1\"\n"
	"\t\telse printf 'gone %s\\n' \"$1\"; fi\n"
	"\t\tbad=0; n=$((n + 1)); return;;\n"
	"\tesac\n"
	/* a note (protocol.md 5b): its .meta becomes running/<cid>.note
	 * while the claim is held; the marker, results/ and audit.log stay.
	 * A note with output is none dom0 makes. */
	"\tcase $4 in asking|approved|started)\n"
	"\t\t{ [ ! -s \"$o.out\" ] && [ ! -s \"$o.err\" ]; } || bad=1\n"
	"\t\tif [ \"$bad\" != 0 ]; then printf 'fail %s\\n' \"$1\"\n"
	"\t\telif [ ! -e \"$m\" ]; then printf 'gone %s\\n' \"$1\"\n"
	"\t\telif mv -f \"$o.meta\" \"$QR/$1$QN\"; then printf 'ok %s\\n' \"$1\"\n"
	"\t\telse printf 'fail %s\\n' \"$1\"; fi\n"
	"\t\trm -f \"$o.out\" \"$o.err\" \"$o.meta\"\n"
	"\t\tbad=0; n=$((n + 1)); return;;\n"
	"\tesac\n"
	"\tif [ \"$bad\" != 0 ] || had \"$1\"; then\n"
	"\t\trm -f \"$o.out\" \"$o.err\" \"$o.meta\"\n"
	"\t\tif [ \"$bad\" != 0 ]; then printf 'fail %s\\n' \"$1\"\n"
	"\t\telse [ ! -e \"$m\" ] || forget \"$1\" \"$2\"; printf 'gone %s\\n' \"$1\"; fi\n"
	"\telif printf '%s\\n' \"$3\" >\"$o.exit\" &&\n"
	"\t    mv -f \"$o.out\" \"$r/$1.out\" && mv -f \"$o.err\" \"$r/$1.err\" &&\n"
	"\t    mv -f \"$o.meta\" \"$r/$1.meta\" && rm -f \"$QR/$1$QN\" &&\n"
	"\t    mv -f \"$o.exit\" \"$r/$1.exit\"; then\n"
	"\t\tunclaim \"$@\"; printf 'ok %s\\n' \"$1\"\n"
	"\telse\n"
	"\t\tprintf 'fail %s\\n' \"$1\"\n"
	"\tfi\n"
	"\tbad=0; n=$((n + 1))\n"
	"}\n";

static const char deliver_trailer[] =
	"printf 'done %s\\n' \"$n\"\n" PROGRAM_END;

/* The here-document terminator: '_' is not in the base64 alphabet. */
#define HEREDOC_END "_QVMR_"

static const char *const stream_files[] = { "out", "err", "meta" };

enum {
	STAGE_PROLOGUE,
	STAGE_TRAILER,
	/* per item, from here: for each file OPEN then DATA, then FIN */
	STAGE_ITEM,
};

int
program_deliver_init(struct deliver_src *s, const char *nonce,
		     const struct deliver_item *items, size_t n, int agent)
{
	size_t len = strlen(nonce);

	memset(s, 0, sizeof(*s));
	if (len == 0 || len > CLAIM_MAX ||
	    strspn(nonce, "0123456789abcdef-") != len)
		return QR_ERR_INVALID;
	memcpy(s->nonce, nonce, len + 1);
	s->items = items;
	s->n = n;
	s->agent = agent;
	s->fd = -1;
	s->stage = STAGE_PROLOGUE;
	buf_init(&s->tail, AGENT_LINE_MAX + 1);
	return 0;
}

void
program_deliver_open(struct deliver_src *s)
{
	s->open = s->agent;
}

void
program_deliver_add(struct deliver_src *s, const struct deliver_item *items,
		    size_t n)
{
	if (n >= s->n && (s->open || s->stage == STAGE_PROLOGUE)) {
		s->items = items;
		s->n = n;
	}
}

int
program_deliver_close(struct deliver_src *s, const char *tail)
{
	s->open = 0;
	return tail != NULL ? buf_append_str(&s->tail, tail) : 0;
}

int
program_deliver_waiting(const struct deliver_src *s)
{
	return s->open && s->i >= s->n && s->stage == STAGE_TRAILER;
}

void
program_deliver_release(struct deliver_src *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	buf_release(&s->tail);
}

/* Encodes the next chunk of s->fd; 1 at its end. */
static int
encode_chunk(struct deliver_src *s, struct buf *out)
{
	/* a multiple of 57 so every 76-character line is whole */
	unsigned char in[57 * 64];
	size_t got = 0;
	int r;

	if ((r = read_full(s->fd, in, sizeof(in), &got)) != 0)
		return r;
	if (got > 0 && (r = b64_encode(out, in, got, 76)) != 0)
		return r;
	if (got > 0 && out->len > 0 && out->data[out->len - 1] != '\n' &&
	    (r = buf_append_str(out, "\n")) != 0)
		return r;
	return got < sizeof(in) ? 1 : 0;
}

void
program_deliver_anchor(struct deliver_src *s, const struct audit *log)
{
	s->log = log;
}

/* "SEQ:SEAL" of the log as it stands; "0:" and zeros without one.  Only
 * digits, ':' and hex: safe in the sh program unquoted. */
#define ANCHOR_TEXT_MAX (20 + 1 + AUDIT_SEAL_HEX + 1)
static void
anchor_text(const struct deliver_src *s, char out[ANCHOR_TEXT_MAX])
{
	struct audit_anchor a = { .seq = 0, .seal = SEAL_ZERO };

	if (s->log != NULL)
		audit_anchor(s->log, &a);
	snprintf(out, ANCHOR_TEXT_MAX, "%" PRIu64 ":%.32s", a.seq, a.seal);
}

/* The STATUS an item goes with: its own, or DELIVER_DROPPED (frame.h). */
static const char *
status_word(const struct deliver_src *s, const struct deliver_item *it)
{
	if (it->status == RESULT_REJECTED && !it->note && !it->live &&
	    cid_is_ping(it->cid, strlen(it->cid)) &&
	    (s->agent == 0 || s->agent >= (int)AGENT_LATE))
		return DELIVER_DROPPED;
	return result_status_name(it->status);
}

/* One step within the current item.  Substage: 2*file (+1 for data). */
static int
item_step(struct deliver_src *s, struct buf *out)
{
	const struct deliver_item *it = &s->items[s->i];
	int sub = s->stage - STAGE_ITEM;
	int file = sub / 2, r;
	char path[4096];

	if (file == (int)(sizeof(stream_files) / sizeof(*stream_files))) {
		char anchor[ANCHOR_TEXT_MAX];
		anchor_text(s, anchor);
		r = buf_printf(out, "fin %s %s %d %s %s\n", it->cid, it->claim,
			       it->exit_code, status_word(s, it), anchor);
		s->i++;
		s->stage = s->i < s->n ? STAGE_ITEM : STAGE_TRAILER;
		return r;
	}
	if (sub % 2 == 0) {
		int n = snprintf(path, sizeof(path), "%s/%s", it->dir,
				 stream_files[file]);
		if (n < 0 || (size_t)n >= sizeof(path))
			return QR_ERR_TOO_LARGE;
		s->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (s->fd < 0)
			return QR_ERR_SYSTEM;
		/* a short or failed decode (a full disk) fails the item */
		r = buf_printf(out,
			       "base64 -d >\"$r/.%s.%s.$D.%s\" <<'" HEREDOC_END
			       "' || bad=1\n",
			       it->cid, it->claim, stream_files[file]);
		s->stage++;
		return r;
	}
	if ((r = encode_chunk(s, out)) < 0)
		return r;
	if (r == 1) {
		close(s->fd);
		s->fd = -1;
		s->stage++;
		return buf_append_str(out, HEREDOC_END "\n");
	}
	return 0;
}

int
program_agent_deliver(struct buf *out, const struct deliver_src *s)
{
	return buf_printf(out, "exec " AGENT_NAME " deliver %s " AGENT_END,
			  s->nonce);
}

static int
item_file(const struct deliver_item *it, size_t file, char path[PATH_MAX])
{
	int n = snprintf(path, PATH_MAX, "%s/%s", it->dir, stream_files[file]);

	return n < 0 || n >= PATH_MAX ? QR_ERR_TOO_LARGE : 0;
}

/* The "live" line of a live part (protocol.md 6b): its spans are the
 * item's own. */
static int
agent_live_line(struct deliver_src *s, const struct deliver_item *it,
		struct buf *out)
{
	struct agentwire_live w;

	memset(&w, 0, sizeof(w));
	memcpy(w.cid, it->cid, sizeof(w.cid));
	memcpy(w.claim, it->claim, sizeof(w.claim));
	for (size_t f = 0; f < 2; f++) {
		w.from[f] = s->off[f] = it->from[f];
		w.len[f] = s->len[f] = it->len[f];
	}
	s->len[2] = 0;
	return agentwire_put_live(out, &w);
}

/*
 * The "item" line of a result, the sizes from stat of dom0's own files;
 * to an agent that continues live files, out and err from what it holds
 * (it->from), which needs the anchor's field before them.
 */
static int
agent_item_line(struct deliver_src *s, const struct deliver_item *it,
		struct buf *out)
{
	struct agentwire_item w;
	char path[PATH_MAX], anchor[ANCHOR_TEXT_MAX];
	struct stat st;
	int r;

	memset(&w, 0, sizeof(w));
	if (s->agent >= (int)AGENT_ANCHOR && s->log != NULL) {
		anchor_text(s, anchor);
		if (strlen(anchor) >= sizeof(w.anchor))
			return QR_ERR_INVALID;
		memcpy(w.anchor, anchor, strlen(anchor) + 1);
	}
	for (size_t f = 0; f < 3; f++) {
		uint64_t from = 0;
		if ((r = item_file(it, f, path)) != 0)
			return r;
		if (stat(path, &st) != 0)
			return QR_ERR_SYSTEM;
		if (f < 2 && s->agent >= (int)AGENT_LIVE && w.anchor[0] != '\0' &&
		    it->from[f] <= (uint64_t)st.st_size)
			from = it->from[f];
		if (f < 2)
			s->off[f] = w.from[f] = from;
		s->len[f] = w.len[f] = (uint64_t)st.st_size - from;
	}
	memcpy(w.cid, it->cid, sizeof(w.cid));
	memcpy(w.claim, it->claim, sizeof(w.claim));
	snprintf(w.exit_text, sizeof(w.exit_text), "%d", it->exit_code);
	snprintf(w.status, sizeof(w.status), "%s", status_word(s, it));
	return agentwire_put_item(out, &w);
}

/*
 * One step of the agent's stream within the current item: substage 0 is
 * its line, then per file its bytes, exactly as many as announced (a live
 * part has no meta).
 */
static int
agent_item_step(struct deliver_src *s, struct buf *out, size_t want)
{
	const struct deliver_item *it = &s->items[s->i];
	int sub = s->stage - STAGE_ITEM, r;
	char path[PATH_MAX], chunk[65536];
	size_t last = it->live ? 2 : 3;

	if (sub == 0) {
		s->stage++;
		return it->live ? agent_live_line(s, it, out)
				: agent_item_line(s, it, out);
	}
	if (s->fd < 0) {
		uint64_t off = sub <= 2 ? s->off[sub - 1] : 0;
		if ((r = item_file(it, (size_t)sub - 1, path)) != 0)
			return r;
		if ((s->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
			return QR_ERR_SYSTEM;
		if (off > 0 && lseek(s->fd, (off_t)off, SEEK_SET) < 0)
			return QR_ERR_SYSTEM;
		s->left = s->len[sub - 1];
	}
	while (s->left > 0 && want > 0) {
		size_t ask = sizeof(chunk);
		ssize_t k;
		if (ask > s->left)
			ask = (size_t)s->left;
		if (ask > want)
			ask = want;
		k = read(s->fd, chunk, ask);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return QR_ERR_SYSTEM;   /* shorter than its size said */
		if ((r = buf_append(out, chunk, (size_t)k)) != 0)
			return r;
		s->left -= (uint64_t)k;
		want -= (size_t)k;
	}
	if (s->left > 0)
		return 0;
	close(s->fd);
	s->fd = -1;
	if ((size_t)sub < last) {
		s->stage++;
	} else {
		s->i++;
		s->stage = s->i < s->n ? STAGE_ITEM : STAGE_TRAILER;
	}
	return 0;
}

int
program_deliver_fill(struct deliver_src *s, struct buf *out, size_t want)
{
	size_t start = out->len;
	int r;

	while (!s->done && out->len - start < want) {
		size_t have = out->len - start;

		switch (s->stage) {
		case STAGE_PROLOGUE:
			r = s->agent ? 0 : buf_printf(out, "D='%s'\n%s",
						      s->nonce,
						      deliver_prologue);
			s->stage = s->n > 0 ? STAGE_ITEM : STAGE_TRAILER;
			break;
		case STAGE_TRAILER:
			if (s->i < s->n) {          /* added while open */
				s->stage = STAGE_ITEM;
				r = 0;
				break;
			}
			if (s->open)
				return PROGRAM_WAITING;
			r = !s->agent ? buf_append_str(out, deliver_trailer)
			    : (r = agentwire_put_end(out, s->n)) != 0 ? r
			    : buf_append_str(out, buf_str(&s->tail));
			s->done = 1;
			break;
		default:
			r = s->agent ? agent_item_step(s, out, want - have)
				     : item_step(s, out);
			break;
		}
		if (r < 0)
			return r;
	}
	return s->done;
}
