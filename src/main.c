// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * main.c - the ctlua command: parse the command line, set up Lua with the `ct` module,
 * run a policy script or code, and exit with a status that says whether it failed.
 * The only place that calls exit().
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "ct_host.h"
#include "datapath.h"
#include "explain.h"
#include "help.h"
#include "lua_library.h"
#include "loop.h"
#include "owner.h"
#include "pin.h"
#include "policy_check.h"
#include "probe.h"
#include "repl.h"
#include "replay.h"
#include "run.h"
#include "sandbox.h"
#include "control.h"
#include "service.h"
#include "tc.h"
#include "watchdog.h"

static const char usage[] =
	"usage: ctlua [OPTIONS] SCRIPT [ARGS...]\n"
	"       ctlua [OPTIONS] -e CODE [ARGS...]\n"
	"       ctlua [OPTIONS] -        (read the script from standard input)\n"
	"       ctlua [OPTIONS]          (the interactive shell; lines from stdin without a terminal)\n"
	"       ctlua [OPTIONS] lab [SCRIPT [ARGS...]]  (the shell or SCRIPT with a lab up)\n"
	"       ctlua explain [ERRNO...]  (what the conntrack kfuncs' errors mean)\n"
	"       ctlua run [OPTIONS] POLICY  (the policy as a service: ready, reload, stop)\n"
	"       ctlua check [OPTIONS] POLICY  (validate a policy; nothing reaches the kernel)\n"
	"       ctlua replay FILE POLICY [--diff OTHER]  (a policy on recorded events; no root)\n"
	"       ctlua status NAME      (what the running service NAME does: policy, counters, errors)\n"
	"       ctlua shell NAME       (the shell inside the running service NAME's Lua state)\n"
	"\n"
	"Run a Lua 5.4 policy that decides how Linux conntrack entries are created:\n"
	"a TC eBPF program looks each packet up in conntrack and, for a flow without\n"
	"an entry, passes, drops or creates the entry (bpf_skb_ct_alloc) as the policy\n"
	"says. The policy sees the module `ct` as a global; `arg` holds the ARGS.\n"
	"\n"
	"options:\n"
	"  -e, --execute CODE       run CODE instead of a script file\n"
	"  -i, --interactive        after the script or CODE, stay in the interactive shell\n"
	"  -c, --check              check that this kernel and user can run ctlua, and exit\n"
	"                           (the host; 'ctlua check POLICY' checks a policy)\n"
	"  -v, --verbose            show libbpf's messages and the verifier log\n"
	"      --verdicts N         room for N per-flow verdicts (default 131072)\n"
	"      --memory-limit SIZE  the Lua state's memory limit, e.g. 512M (default: 1G,\n"
	"                           or half the RAM if less)\n"
	"      --allow-bytecode     accept precompiled chunks (the script, load, loadfile,\n"
	"                           dofile, require); trusted files only\n"
	"      --take-over          ct.attach replaces the filter of another ctlua that\n"
	"                           enforces that interface and direction (default: refuse)\n"
	"      --orphans=WHAT       filters a ctlua that no longer runs left: 'refuse'\n"
	"                           (attach fails, naming them), 'remove' or 'adopt'\n"
	"                           (with --pin: replace them, keeping the pinned state;\n"
	"                           the default with --pin, 'refuse' without)\n"
	"      --pin DIR            keep the datapath's state (verdicts, rules, counters)\n"
	"                           in pinned maps in DIR (a bare NAME: " CTL_PIN_ROOT "/NAME),\n"
	"                           so that a restart goes on with it\n"
	"      --json               ctlua run: logs, events and print as JSON lines on\n"
	"                           stdout (doc/service.md, \"JSON output\")\n"
	"      --name NAME          ctlua run: the control socket's name (/run/ctlua/NAME.sock;\n"
	"                           default: the policy file's name without .lua)\n"
	"      --record FILE        ctlua run: every event read, as JSON lines, for ctlua replay\n"
	"      --diff OTHER         ctlua replay: the events where OTHER decides otherwise\n"
	"  -h, --help               show this help and exit\n"
	"  -V, --version            show the version and exit\n"
	"\n"
	"examples:\n"
	"  ctlua examples/demo.lua veth0 10   run the demo policy on veth0 for 10 s\n"
	"  ctlua -e 'ct.attach(\"eth0\"); ct.on(\"miss\", print); ct.run()'\n"
	"  ctlua                              the shell: attach, watch, change the policy\n"
	"  ctlua lab                          a client and a server namespace, ctlua on\n"
	"                                     the server's veth, and the shell (doc/lab.md)\n"
	"  ctlua --check\n"
	"  ctlua explain EPROTO               what EPROTO from bpf_skb_ct_alloc means\n"
	"  ctlua run /etc/ctlua/edge.lua      the policy as a service (ctlua@edge.service)\n"
	"  ctlua status edge                  what that service runs, its counters, its errors\n"
	"\n"
	"SIGINT, SIGTERM and SIGHUP end ctlua and remove its tc filters; exit status 0\n"
	"(done), 1 (the script failed or was interrupted), 2 (usage), 128+N (the watchdog).\n"
	"\n"
	"ctlua run runs POLICY's top level (which attaches, sets rules and registers\n"
	"callbacks, and does not call ct.run), tells systemd it is ready (sd_notify), and\n"
	"serves the callbacks until SIGTERM or SIGINT, then removes its filters (exit 0;\n"
	"1 if the policy could not start). SIGHUP reloads POLICY into a fresh Lua state\n"
	"and switches to it in one step only if its whole top level succeeds; a broken\n"
	"policy is logged and the old one runs on. POLICY, and its directory, must not\n"
	"be writable by group or others, nor owned by a user other than root or you.\n"
	"Options -v, --verdicts, --memory-limit and --allow-bytecode apply; --json\n"
	"writes its logs, the events its policy selects and what it prints as JSON\n"
	"lines on stdout; see doc/service.md.\n"
	"\n"
	"ctlua status NAME and ctlua shell NAME talk to the service through its control\n"
	"socket /run/ctlua/NAME.sock (root, or the service's own user, only). The shell\n"
	"runs each line in the live policy's Lua state, under the callbacks' budget;\n"
	"Ctrl-D leaves it and the service runs on.\n"
	"\n"
	"ctlua check POLICY runs POLICY's top level against a dry-run ct: attach, rule,\n"
	"default, mode and on are checked and recorded, calls that act at once (ct.alloc,\n"
	"ct.verdict, ...) are reported and not run, and nothing reaches the kernel. It\n"
	"prints what the policy would do, or each problem with its file and line (exit 1).\n"
	"\n"
	"Needs root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN) and Linux 6.1+ with BTF and conntrack.\n"
	"See ctlua(1) or doc/api.md for the Lua API.\n";

/* Run the chunk on top with the args; report an error. Returns a Lua status. */
static int run_chunk(lua_State *L, int status, char **args, int nargs)
{
	/* the args go on the stack with the chunk: room for them first */
	if (status == LUA_OK && !lua_checkstack(L, nargs + 2)) {
		lua_pop(L, 1);
		lua_pushfstring(L, "too many arguments (%d)", nargs);
		status = LUA_ERRRUN;
	}
	if (status == LUA_OK) {
		for (int i = 0; i < nargs; i++)
			lua_pushstring(L, args[i]);
		status = ctl_run_call(L, nargs, 0, ctl_traceback);
	}
	if (status != LUA_OK) {
		fprintf(stderr, "ctlua: %s\n", lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	return status;
}

static void set_arg(lua_State *L, const char *script, char **args, int nargs)
{
	lua_createtable(L, nargs, 1);
	lua_pushstring(L, script);
	lua_rawseti(L, -2, 0);
	for (int i = 0; i < nargs; i++) {
		lua_pushstring(L, args[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setglobal(L, "arg");
}

/* ctlua explain [ENAME|errno]: the kfuncs' errors in words; all of them without NAME. */
static int explain(int argc, char **argv)
{
	char buf[1024];
	int err;

	if (argc == 0) {
		for (int i = 0; (err = ctl_explained(i)); i++)
			printf("%s\n\n", ctl_explain_format(err, buf, sizeof(buf)));
		return 0;
	}
	for (int i = 0; i < argc; i++) {
		int why = ctl_errno_text(argv[i], &err);

		if (why == -ERANGE) {
			fprintf(stderr, "ctlua: explain: '%s' is out of range -%d to %d\n", argv[i],
				CTL_ERRNO_MAX, CTL_ERRNO_MAX);
			return 2;
		}
		if (why == -EDOM) {
			fprintf(stderr, "ctlua: explain: '%s' is not an errno (they start at 1)\n",
				argv[i]);
			return 2;
		}
		if (why) {
			fprintf(stderr, "ctlua: explain: '%s' is not an errno name or number\n", argv[i]);
			return 2;
		}
		printf("%s\n", ctl_explain_format(err, buf, sizeof(buf)));
	}
	return 0;
}

/*
 * ctlua lab: bring the lab up (lua/lab.lua) as the global `lab` before the script or
 * the shell runs; @banner: say what it made and where the tour is. Returns a Lua status
 * (the error reported). The Lua state's closing takes the lab down.
 */
static int lab_up(lua_State *L, bool banner)
{
	static const char chunk[] =
		"local banner, examples = ...\n"
		"lab = require 'ctlua.lab'\n"
		"local ok, msg = lab.up()\n"
		"if not ok then error('lab: ' .. msg, 0) end\n"
		"if banner == 'yes' then print(tostring(lab) .. '\\n\\n'\n"
		"  .. 'The lab is the global `lab`: lab.send{}, lab.connect{}, lab.entries(), '\n"
		"  .. 'lab.down() (doc/lab.md).\\n'\n"
		"  .. 'The guided tour is the numbered files in examples/ (installed in '\n"
		"  .. examples .. '):\\ndofile(\"FILE\") runs one here; ctlua lab FILE runs one alone.')\n"
		"end\n";
	int status = ctl_load_buffer(L, chunk, sizeof(chunk) - 1, "=lab");

	if (status == LUA_OK) {
		lua_pushstring(L, banner ? "yes" : "no");
		lua_pushstring(L, CTLUA_EXAMPLEDIR);
		status = ctl_run_call(L, 2, 0, NULL);	/* a failed up is its message alone */
	}
	if (status != LUA_OK) {
		fprintf(stderr, "ctlua: %s\n", lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	return status;
}

/* `ctlua --check`: one line per feature on stdout; 1 when the core cannot work. */
static int check_kernel(void)
{
	char msg[512];

	if (ctl_probe_report(stdout, msg, sizeof(msg))) {
		fflush(stdout);
		fprintf(stderr, "ctlua: %s\n", msg);
		return 1;
	}
	return 0;
}

/* The command line's options, as main and `ctlua run` read them. */
struct cmd_opts {
	size_t mem_limit;
	struct ctl_dp_opts dp_opts;
	struct ctl_tc_opts tc_opts;	/* --take-over, --orphans */
	const char *code;
	const char *name;		/* ctlua run --name */
	const char *record;		/* ctlua run --record FILE */
	const char *diff;		/* ctlua replay --diff OTHER */
	bool verbose, interactive, json;
};

/*
 * Read the options at argv[optind...] up to the first operand into @o. Returns -1 to go
 * on, or the exit status for an option that ends the command (--help, an error).
 */
static int parse_options(int argc, char **argv, struct cmd_opts *o)
{
	static const struct option longopts[] = {
		{ "execute", required_argument, NULL, 'e' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "check", no_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "verdicts", required_argument, NULL, 'N' },
		{ "memory-limit", required_argument, NULL, 'M' },
		{ "allow-bytecode", no_argument, NULL, 'B' },
		{ "take-over", no_argument, NULL, 'T' },
		{ "orphans", required_argument, NULL, 'O' },
		{ "pin", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'J' },
		{ "name", required_argument, NULL, 'A' },
		{ "record", required_argument, NULL, 'R' },
		{ "diff", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	const char *why;
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, "+e:icvhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			o->code = optarg;
			break;
		case 'i':
			o->interactive = true;
			break;
		case 'c':
			return check_kernel();
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("ctlua %s (%s)\n", CTLUA_VERSION, LUA_RELEASE);
			return 0;
		case 'N': {
			unsigned long long n;

			errno = 0;
			n = strtoull(optarg, &end, 10);
			if (errno || *optarg < '0' || *optarg > '9' || *end ||
			    n < CTL_DP_VERDICTS_MIN || n > CTL_DP_VERDICTS_MAX) {
				fprintf(stderr, "ctlua: --verdicts wants a whole number from %d to "
					"%d, not '%s'\n", CTL_DP_VERDICTS_MIN, CTL_DP_VERDICTS_MAX,
					optarg);
				return 2;
			}
			o->dp_opts.verdicts = (unsigned int)n;
			break;
		}
		case 'M':
			if ((why = ctl_parse_size(optarg, &o->mem_limit))) {
				fprintf(stderr, "ctlua: --memory-limit '%s': %s\n", optarg, why);
				return 2;
			}
			break;
		case 'A':
			if (!ctl_control_name_ok(optarg)) {
				fprintf(stderr, "ctlua: --name wants 1 to 64 of A-Z a-z 0-9 _ . @ -, "
					"not starting with '.', not '%s'\n", optarg);
				return 2;
			}
			o->name = optarg;
			break;
		case 'B':
			ctl_sandbox_allow_bytecode(true);
			break;
		case 'T':
			o->tc_opts.takeover = true;
			break;
		case 'J':
			o->json = true;
			break;
		case 'R':
			o->record = optarg;
			break;
		case 'D':
			o->diff = optarg;
			break;
		case 'O':
			for (o->tc_opts.orphans = 0; ctl_orphans_names[o->tc_opts.orphans] &&
			     strcmp(optarg, ctl_orphans_names[o->tc_opts.orphans]);
			     o->tc_opts.orphans++)
				;
			if (!ctl_orphans_names[o->tc_opts.orphans]) {
				fprintf(stderr, "ctlua: --orphans wants 'refuse', 'remove' or 'adopt', "
					"not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'P':
			if (ctl_pin_path(optarg, o->dp_opts.pin, sizeof(o->dp_opts.pin))) {
				fprintf(stderr, "ctlua: --pin wants a directory or a name, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		default:
			fprintf(stderr, "Try 'ctlua --help' for more information.\n");
			return 2;
		}
	}
	if (o->tc_opts.orphans == CTL_ORPHANS_ADOPT && !o->dp_opts.pin[0]) {
		fprintf(stderr, "ctlua: --orphans=adopt needs --pin DIR: a filter is adopted with "
			"the state it runs on\n");
		return 2;
	}
	return -1;
}

/*
 * Tell the ownership records (owner.h) what this ctlua runs: @script's real path, or
 * "-e", "-" or "" (the shell) as they are; and ct.attach its defaults from @t.
 */
static void set_owner(const char *script, const struct ctl_tc_opts *t)
{
	char policy[PATH_MAX];

	if (*script == '/' || !*script || !strcmp(script, "-e") || !strcmp(script, "-") ||
	    !realpath(script, policy))
		snprintf(policy, sizeof(policy), "%s", script);
	ctl_owner_set_policy(policy);
	ctl_tc_set_defaults(t);
}

/*
 * ctlua run|check [OPTIONS] POLICY: the options after the word too, then the service
 * (service.c) or, with @check, the dry run (policy_check.c).
 */
static int run_service(int argc, char **argv, struct cmd_opts *o, bool check)
{
	const char *cmd = check ? "check" : "run";
	struct ctl_service_opts so;
	int r = parse_options(argc, argv, o);

	if (r >= 0)
		return r;
	if (o->code || o->interactive) {
		fprintf(stderr, "ctlua: %s takes a policy file, not %s\n", cmd,
			o->code ? "-e CODE" : "-i");
		return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "ctlua: %s: no policy file given\n"
			"Try 'ctlua --help' for more information.\n", cmd);
		return 2;
	}
	if (optind + 1 < argc) {
		fprintf(stderr, "ctlua: %s takes one policy file, and no arguments after it "
			"('%s')\n", cmd, argv[optind + 1]);
		return 2;
	}
	if (check && (o->json || o->name || o->record)) {
		fprintf(stderr, "ctlua: check does not take %s (it is an option of 'ctlua "
			"run')\n", o->json ? "--json" : o->name ? "--name" : "--record");
		return 2;
	}
	if (o->diff) {
		fprintf(stderr, "ctlua: --diff is an option of 'ctlua replay'\n");
		return 2;
	}
	so.dp_opts = o->dp_opts;
	so.mem_limit = o->mem_limit;
	so.json = o->json;
	so.name = o->name;
	so.record = o->record;
	ctl_dp_set_verbose(o->verbose);
	if (check)
		return ctl_policy_check(argv[optind], &so);
	set_owner(argv[optind], &o->tc_opts);
	return ctl_service_run(argv[optind], &so);
}

/*
 * ctlua replay [OPTIONS] FILE POLICY [--diff OTHER]: options may come before, between
 * and after the two operands.
 */
static int replay(int argc, char **argv, struct cmd_opts *o)
{
	const char *operand[2];
	struct ctl_service_opts so = { 0 };
	int r, n = 0;

	for (;;) {
		if ((r = parse_options(argc, argv, o)) >= 0)
			return r;
		if (optind >= argc)
			break;
		if (n == 2) {
			fprintf(stderr, "ctlua: replay takes a recording and a policy, and no "
				"more ('%s')\n", argv[optind]);
			return 2;
		}
		operand[n++] = argv[optind++];
	}
	if (n < 2) {
		fprintf(stderr, "ctlua: replay: %s\nusage: ctlua replay FILE POLICY [--diff OTHER]\n",
			n ? "no policy given" : "no recording given");
		return 2;
	}
	if (o->code || o->interactive || o->json || o->name || o->record) {
		fprintf(stderr, "ctlua: replay does not take %s\n", o->code ? "-e" :
			o->interactive ? "-i" : o->json ? "--json" : o->name ? "--name" : "--record");
		return 2;
	}
	so.dp_opts = o->dp_opts;
	so.mem_limit = o->mem_limit;
	return ctl_replay(operand[0], operand[1], o->diff, &so);
}

/* ctlua status|shell NAME: ask the running service (control_client.c). */
static int control(int argc, char **argv, const struct cmd_opts *o)
{
	if (o->name) {
		fprintf(stderr, "ctlua: %s takes the service's name as its operand, not --name\n",
			argv[0]);
		return 2;
	}
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: ctlua %s NAME\n\n%s\n", argv[0], !strcmp(argv[0], "status") ?
		       "What the service NAME (ctlua run --name NAME, or its policy file's name)\n"
		       "runs: its policy and generation, attachments, counters and last errors." :
		       "A shell inside the running service NAME's Lua state: each line runs in the\n"
		       "live policy, under the callbacks' budget. Ctrl-D leaves; the service runs on.");
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "ctlua: %s wants one service name (ctlua %s NAME)\n"
			"Try 'ctlua --help' for more information.\n", argv[0], argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	return !strcmp(argv[0], "status") ? ctl_control_status(argv[1])
					  : ctl_control_shell(argv[1]);
}

int main(int argc, char **argv)
{
	struct cmd_opts o = { .mem_limit = ctl_mem_default_limit(), .tc_opts = *ctl_tc_defaults() };
	const char *code, *script;
	bool interactive, lab;
	lua_State *L;
	int status;

	argv[0] = "ctlua";	/* getopt's messages start with it */
	ctl_dp_opts_init(&o.dp_opts);
	if ((status = parse_options(argc, argv, &o)) >= 0)
		return status;
	code = o.code;
	interactive = o.interactive;
	if (o.json && (code || interactive || optind >= argc ||
		       (strcmp(argv[optind], "run") && strcmp(argv[optind], "check")))) {
		fprintf(stderr, "ctlua: --json is an option of 'ctlua run' (a script's stdout "
			"is its own)\n");
		return 2;
	}
	if (o.name && (code || interactive || optind >= argc ||
		       (strcmp(argv[optind], "run") && strcmp(argv[optind], "check") &&
			strcmp(argv[optind], "status") && strcmp(argv[optind], "shell")))) {
		fprintf(stderr, "ctlua: --name is an option of 'ctlua run' (its control "
			"socket's name)\n");
		return 2;
	}
	if (o.record && (code || interactive || optind >= argc || strcmp(argv[optind], "run"))) {
		fprintf(stderr, "ctlua: --record is an option of 'ctlua run'\n");
		return 2;
	}
	if (o.diff && (code || interactive || optind >= argc || strcmp(argv[optind], "replay"))) {
		fprintf(stderr, "ctlua: --diff is an option of 'ctlua replay'\n");
		return 2;
	}
	if (!code && optind < argc && !strcmp(argv[optind], "explain"))
		return explain(argc - optind - 1, argv + optind + 1);
	if (!code && !interactive && optind < argc && !strcmp(argv[optind], "replay")) {
		optind++;
		return replay(argc, argv, &o);
	}
	if (!code && !interactive && optind < argc && (!strcmp(argv[optind], "status") ||
						       !strcmp(argv[optind], "shell")))
		return control(argc - optind, argv + optind, &o);
	if (!code && !interactive && optind < argc && (!strcmp(argv[optind], "run") ||
						       !strcmp(argv[optind], "check"))) {
		optind++;
		return run_service(argc, argv, &o, !strcmp(argv[optind - 1], "check"));
	}
	lab = !code && optind < argc && !strcmp(argv[optind], "lab");
	if (lab)
		optind++;	/* ctlua lab [SCRIPT [ARGS]]: as ctlua [SCRIPT [ARGS]], with a lab */
	if (lab && optind < argc && (!strcmp(argv[optind], "--help") || !strcmp(argv[optind], "-h"))) {
		printf("usage: ctlua [OPTIONS] lab [SCRIPT [ARGS...]]\n\n"
		       "The shell, or SCRIPT, with a lab up: a client and a server network namespace\n"
		       "joined by a veth pair (198.18.0.0/15, 2001:db8::/32), conntrack on in the\n"
		       "server, ctlua attached to the server's veth, and ct acting in the server\n"
		       "namespace. The global `lab` sends packets and lists the server's entries;\n"
		       "what the lab made goes at exit. The guided tour: examples/ (doc/lab.md).\n");
		return 0;
	}
	if (!code && optind >= argc)
		interactive = true;	/* nothing to run first */
	if (!code && optind < argc && !*argv[optind]) {
		/* "" names no file (it is not the shell, nor stdin) */
		fprintf(stderr, "ctlua: cannot open '': No such file or directory\n");
		return 1;
	}

	/* A closed stdout must end the script with an error, not kill it with filters on. */
	signal(SIGPIPE, SIG_IGN);
	/*
	 * From here to the end, SIGINT, SIGTERM and SIGHUP interrupt Lua and end any wait
	 * (loop.h), and the watchdog ends ctlua, filters removed, if Lua does not return.
	 */
	if ((status = ctl_watchdog_start()) || (status = ctl_signals_install())) {
		fprintf(stderr, "ctlua: cannot set up the stop signals (%s)\n", strerror(-status));
		return 1;
	}
	ctl_dp_set_verbose(o.verbose);
	ctl_progname = "ctlua";
	L = ctl_sandbox_newstate(o.mem_limit);
	if (!L) {
		fprintf(stderr, "ctlua: cannot create a Lua state (out of memory)\n");
		return 1;
	}
	luaL_openlibs(L);
	/* luaopen_ct puts the guard rails in (sandbox.c) before any user code runs */
	luaL_requiref(L, "ct", luaopen_ct, 1);	/* the command's convenience globals: ct, */
	lua_pop(L, 1);
	ctl_state_set_dp_opts(ctl_state_of(L), &o.dp_opts);	/* ct.config may change them */
	ctl_open_help(L);			/* and help */
	ctl_open_library(L);			/* require "ctlua.NAME": lua/NAME.lua */
	if (lab && lab_up(L, optind >= argc) != LUA_OK) {
		lua_close(L);
		return 1;
	}

	script = code ? "-e" : optind < argc ? argv[optind] : "";
	set_owner(script, &o.tc_opts);
	if (!code && optind < argc)
		optind++;
	set_arg(L, script, argv + optind, argc - optind);
	status = LUA_OK;
	if (code)
		status = ctl_load_buffer(L, code, strlen(code), "=(command line)");
	else if (*script)
		status = ctl_load_file(L, strcmp(script, "-") ? script : NULL);
	if (code || *script)
		status = run_chunk(L, status, argv + optind, argc - optind);
	if (interactive && ctl_signal_stopping() == SIGINT) {
		ctl_signal_take();	/* Ctrl-C stopped the script, as in lua -i: the shell follows */
		ctl_signal_honoured();
	}
	if (interactive && !ctl_signal_stopping() && ctl_repl(L, isatty(STDIN_FILENO)))
		status = LUA_ERRRUN;
	lua_close(L);	/* detaches every link, unloads the program */
	return status == LUA_OK ? 0 : 1;
}
