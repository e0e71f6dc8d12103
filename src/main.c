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
#include "datapath.h"
#include "explain.h"
#include "help.h"
#include "loop.h"
#include "lua_ct.h"
#include "probe.h"
#include "repl.h"
#include "run.h"
#include "watchdog.h"

int luaopen_ct(lua_State *L);

static const char usage[] =
	"usage: ctlua [OPTIONS] SCRIPT [ARGS...]\n"
	"       ctlua [OPTIONS] -e CODE [ARGS...]\n"
	"       ctlua [OPTIONS] -        (read the script from standard input)\n"
	"       ctlua [OPTIONS]          (the interactive shell; lines from stdin without a terminal)\n"
	"       ctlua explain [ENAME...]  (what the conntrack kfuncs' errors mean)\n"
	"\n"
	"Run a Lua 5.4 policy that decides how Linux conntrack entries are created:\n"
	"a TC eBPF program looks each packet up in conntrack and, for a flow without\n"
	"an entry, passes, drops or creates the entry (bpf_skb_ct_alloc) as the policy\n"
	"says. The policy sees the module `ct` as a global; `arg` holds the ARGS.\n"
	"\n"
	"options:\n"
	"  -e, --execute CODE   run CODE instead of a script file\n"
	"  -i, --interactive    after the script or CODE, stay in the interactive shell\n"
	"  -c, --check          check that this kernel and user can run ctlua, and exit\n"
	"  -v, --verbose        show libbpf's messages and the verifier log\n"
	"  -h, --help           show this help and exit\n"
	"  -V, --version        show the version and exit\n"
	"\n"
	"examples:\n"
	"  ctlua examples/demo.lua veth0 10      run the demo policy on veth0 for 10 s\n"
	"  ctlua -e 'ct.attach(\"eth0\"); ct.on(\"miss\", print); ct.run()'\n"
	"  ctlua                                   the shell: attach, watch, change the policy\n"
	"  ctlua --check\n"
	"  ctlua explain EPROTO                   what EPROTO from bpf_skb_ct_alloc means\n"
	"\n"
	"Needs root (CAP_BPF, CAP_NET_ADMIN) and Linux 6.1+ with BTF and conntrack.\n"
	"See ctlua(1) and the README for the Lua API.\n";

/* Run the chunk on top with the args; report an error. Returns a Lua status. */
static int run_chunk(lua_State *L, int status, char **args, int nargs)
{
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
		err = atoi(argv[i]);
		if (!err)
			err = ctl_errno_parse(argv[i]);
		if (!err) {
			fprintf(stderr, "ctlua: explain: '%s' is not an errno name or number\n", argv[i]);
			return 2;
		}
		printf("%s\n", ctl_explain_format(err, buf, sizeof(buf)));
	}
	return 0;
}

static int check_kernel(void)
{
	char msg[512];
	int err = ctl_probe(msg, sizeof(msg), NULL);

	if (err) {
		fprintf(stderr, "ctlua: %s\n", msg);
		return 1;
	}
	printf("ok: BTF, CAP_BPF and CAP_NET_ADMIN, and the conntrack kfuncs are present\n");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "execute", required_argument, NULL, 'e' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "check", no_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *code = NULL, *script;
	bool verbose = false, interactive = false;
	lua_State *L;
	int opt, status;

	argv[0] = "ctlua";	/* getopt's messages start with it */
	while ((opt = getopt_long(argc, argv, "+e:icvhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			code = optarg;
			break;
		case 'i':
			interactive = true;
			break;
		case 'c':
			return check_kernel();
		case 'v':
			verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("ctlua %s (%s)\n", CTLUA_VERSION, LUA_RELEASE);
			return 0;
		default:
			fprintf(stderr, "Try 'ctlua --help' for more information.\n");
			return 2;
		}
	}
	if (!code && optind < argc && !strcmp(argv[optind], "explain"))
		return explain(argc - optind - 1, argv + optind + 1);
	if (!code && optind >= argc)
		interactive = true;	/* nothing to run first */

	/* A closed stdout must end the script with an error, not kill it with filters on. */
	signal(SIGPIPE, SIG_IGN);
	/*
	 * From here to the end, SIGINT, SIGTERM and SIGHUP interrupt Lua and end any wait
	 * (loop.h), and the watchdog ends ctlua, filters removed, if Lua does not return.
	 */
	if ((status = ctl_signals_install()) || (status = ctl_watchdog_start())) {
		fprintf(stderr, "ctlua: cannot set up the stop signals (%s)\n", strerror(-status));
		return 1;
	}
	ctl_dp_set_verbose(verbose);
	ctl_progname = "ctlua";
	L = luaL_newstate();
	if (!L) {
		fprintf(stderr, "ctlua: cannot create a Lua state (out of memory)\n");
		return 1;
	}
	luaL_openlibs(L);
	luaL_requiref(L, "ct", luaopen_ct, 1);	/* the command's convenience globals: ct, */
	lua_pop(L, 1);
	ctl_open_help(L);			/* and help */

	script = code ? "-e" : optind < argc ? argv[optind] : "";
	if (!code && optind < argc)
		optind++;
	set_arg(L, script, argv + optind, argc - optind);
	status = LUA_OK;
	if (code)
		status = luaL_loadbuffer(L, code, strlen(code), "=(command line)");
	else if (*script)
		status = luaL_loadfile(L, strcmp(script, "-") ? script : NULL);
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
