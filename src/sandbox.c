// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sandbox.c - what keeps a Lua callback from taking the host down.
 *
 * A callback runs under a budget: time, checked by a count hook every HOOK_COUNT
 * instructions, and the Lua state's memory limit. Once the budget stops a callback, its
 * error cannot be swallowed: the hook keeps firing, and the functions that catch errors
 * (pcall, xpcall, coroutine.resume/wrap/close, load with a reader) are replaced by ones
 * that raise the budget's error again. Every coroutine the callback resumes gets the
 * hook (Lua hooks are per thread), and debug.sethook is refused inside a callback.
 * C functions that can loop long without running Lua code are bounded at their source:
 * string matching (src/match.c) and the table and string.rep replacements below poll
 * the budget. An allocator counts the state's memory and refuses to grow past a hard
 * cap, an eighth above the limit the hook checks, so nothing ends in an OOM kill.
 *
 * The wrappers hold the originals as C function pointers, not upvalues, so the debug
 * library cannot hand the originals back to a callback.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lualib.h>
#include "deadline.h"
#include "match.h"
#include "sandbox.h"

#define HOOK_COUNT	1000	/* instructions between two checks of the budget */
#define POLL_ELEMS	65536	/* table elements moved between two polls */
#define SANDBOX_KEY	"ctlua.sandbox"	/* registry: set once the wrappers are in */
#define MEM_KEY		"ctlua.mem"	/* registry: puts the allocator back at close */

/* ------------------------------------------------------------------------------------ */
/* Memory                                                                                 */

struct ctl_mem {
	lua_Alloc alloc;	/* the allocator underneath */
	void *ud;
	size_t used;		/* bytes the state holds */
	size_t limit;		/* the soft limit the hook checks; 0: none */
	size_t hard;		/* the allocator refuses to grow past this */
};

static void *mem_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct ctl_mem *m = ud;
	size_t old = ptr ? osize : 0;	/* without ptr, osize is the object's type */
	void *p;

	/* only growth can be refused: Lua does not expect a shrink to fail */
	if (nsize > old && m->limit &&
	    (nsize - old > m->hard || m->used > m->hard - (nsize - old)))
		return NULL;
	p = m->alloc(m->ud, ptr, osize, nsize);
	if (!p && nsize)
		return NULL;
	m->used = m->used >= old ? m->used - old : 0;
	m->used += nsize;
	return p;
}

static struct ctl_mem *mem_of(lua_State *L)
{
	void *ud;

	return lua_getallocf(L, &ud) == mem_alloc ? ud : NULL;
}

static void mem_set(struct ctl_mem *m, size_t limit)
{
	m->limit = limit;
	m->hard = limit + limit / 8;
	if (m->hard < limit)
		m->hard = SIZE_MAX;
}

size_t ctl_mem_default_limit(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	size_t limit = (size_t)1 << 30;

	if (pages > 0 && page > 0 && (size_t)pages / 2 < limit / (size_t)page)
		limit = (size_t)pages / 2 * (size_t)page;
	return limit;
}

/* __gc of the registry's MEM_KEY userdata: the old allocator back, if still below us. */
static int mem_unwrap(lua_State *L)
{
	struct ctl_mem **box = lua_touserdata(L, 1), *m = *box;
	void *ud;

	if (m && lua_getallocf(L, &ud) == mem_alloc && ud == m) {
		lua_setallocf(L, m->alloc, m->ud);
		free(m);
	}
	*box = NULL;
	return 0;
}

void ctl_mem_wrap(lua_State *L, size_t limit)
{
	struct ctl_mem *m, **box;

	if (mem_of(L))
		return;
	m = calloc(1, sizeof(*m));
	if (!m)
		return;	/* no cap rather than no state */
	box = lua_newuserdatauv(L, sizeof(*box), 0);
	*box = NULL;
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, mem_unwrap);
	lua_setfield(L, -2, "__gc");
	lua_setmetatable(L, -2);
	lua_setfield(L, LUA_REGISTRYINDEX, MEM_KEY);
	m->alloc = lua_getallocf(L, &m->ud);
	m->used = (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB, 0);
	mem_set(m, limit);
	*box = m;
	lua_setallocf(L, mem_alloc, m);
}

lua_State *ctl_sandbox_newstate(size_t limit)
{
	lua_State *L = luaL_newstate();

	if (L)
		ctl_mem_wrap(L, limit);
	return L;
}

size_t ctl_mem_limit(lua_State *L)
{
	struct ctl_mem *m = mem_of(L);

	return m ? m->limit : 0;
}

void ctl_mem_set_limit(lua_State *L, size_t limit)
{
	struct ctl_mem *m = mem_of(L);

	if (m)
		mem_set(m, limit);
}

size_t ctl_mem_used(lua_State *L)
{
	struct ctl_mem *m = mem_of(L);

	if (m)
		return m->used;
	return (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB, 0);
}

const char *ctl_parse_size(const char *text, size_t *size)
{
	unsigned long long n;
	char *end;
	int shift = 0;

	errno = 0;
	if (!isdigit((unsigned char)*text))
		return "expected a size like 512M (bytes, or K, M, G)";
	n = strtoull(text, &end, 10);
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end)
		return "expected a size like 512M (bytes, or K, M, G)";
	if (errno || n > (SIZE_MAX >> 1) >> shift)
		return "size too large";
	if ((n << shift) < (1 << 20))
		return "a size of at least 1M is expected";
	*size = (size_t)(n << shift);
	return NULL;
}

/* "512 MiB", "1 GiB", or bytes when not a whole number of either. */
static const char *size_text(size_t n, char buf[32])
{
	if (n && n % (1 << 30) == 0)
		snprintf(buf, 32, "%zu GiB", n >> 30);
	else if (n && n % (1 << 20) == 0)
		snprintf(buf, 32, "%zu MiB", n >> 20);
	else if (n && n % (1 << 10) == 0)
		snprintf(buf, 32, "%zu KiB", n >> 10);
	else
		snprintf(buf, 32, "%zu bytes", n);
	return buf;
}

/* ------------------------------------------------------------------------------------ */
/* The budget                                                                             */

static struct {
	bool active;		/* a callback runs */
	bool started;		/* the deadline is set (at the first check) */
	bool collected;		/* a full collection was tried before the memory stop */
	enum ctl_stop stop;	/* why it was stopped; once set, every check raises */
	int ms;
	struct timespec deadline;
	lua_State *L;		/* the thread of the last callback, and its old hook */
	lua_Hook old_hook;
	int old_mask, old_count;
	char msg[256];		/* the error the budget raises, where it first stopped */
} budget;

static bool allow_bytecode;
static volatile sig_atomic_t interrupt_pending;	/* ctl_budget_interrupt, from a signal */

static void start_clock(void)
{
	ctl_deadline_after(&budget.deadline, budget.ms);
	budget.started = true;
}

/* Raise the budget's error again (it is spent): the message where it first stopped. */
static int reraise(lua_State *L)
{
	lua_pushstring(L, budget.msg);
	return lua_error(L);
}

/*
 * Record why the budget stops the callback, with the file:line of the Lua code at
 * @level or the first one below it (a C loop may run inside C: table.sort), and raise.
 */
static int stop(lua_State *L, int level, enum ctl_stop why)
{
	char size[32];
	const char *where = "";
	lua_Debug ar;

	for (; lua_getstack(L, level, &ar); level++) {
		lua_getinfo(L, "Sl", &ar);
		if (ar.currentline > 0) {
			luaL_where(L, level);
			where = lua_tostring(L, -1);
			break;
		}
	}
	if (why == CTL_STOP_TIME)
		snprintf(budget.msg, sizeof(budget.msg),
			 "%scallback exceeded its time budget of %d ms", where, budget.ms);
	else if (why == CTL_STOP_SIGNAL)
		snprintf(budget.msg, sizeof(budget.msg), "%sinterrupted", where);
	else
		snprintf(budget.msg, sizeof(budget.msg), "%smemory limit of %s reached", where,
			 size_text(ctl_mem_limit(L), size));
	budget.stop = why;
	return reraise(L);
}

/* The check behind the hook and the poll; @level is the Lua code's level for where. */
static void check(lua_State *L, int level)
{
	struct ctl_mem *m;

	if (budget.stop)
		reraise(L);
	if (interrupt_pending) {
		interrupt_pending = 0;
		stop(L, level, CTL_STOP_SIGNAL);
	}
	if (!budget.started)
		start_clock();
	else if (ctl_deadline_past(&budget.deadline))
		stop(L, level, CTL_STOP_TIME);
	m = mem_of(L);
	if (!m || !m->limit || m->used <= m->limit)
		return;
	if (!budget.collected) {	/* garbage, perhaps an earlier callback's */
		budget.collected = true;
		lua_gc(L, LUA_GCCOLLECT, 0);
		if (m->used <= m->limit)
			return;
	}
	stop(L, level, CTL_STOP_MEMORY);
}

/*
 * The hook stays on a thread after its callback (setting a hook costs more than the
 * rest of arming): the first time it fires outside a callback, it puts back the hook
 * that was there before.
 */
static void budget_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	if (budget.active)
		check(L, 0);	/* inside a hook, level 0 is the Lua code that runs */
	else if (L == budget.L)
		lua_sethook(L, budget.old_hook, budget.old_mask, budget.old_count);
	else
		lua_sethook(L, NULL, 0, 0);
}

void ctl_budget_poll(lua_State *L)
{
	lua_Debug ar;
	int level = 1;	/* level 0 is the C function that polls */

	if (budget.active) {
		check(L, level);
		return;
	}
	if (!interrupt_pending)
		return;
	/*
	 * Outside a callback a stop signal still ends a long match or sort, as the signal's
	 * hook ends Lua code; the loop clears the flag when it takes the signal.
	 */
	while (lua_getstack(L, level, &ar) && (lua_getinfo(L, "l", &ar), ar.currentline <= 0))
		level++;
	luaL_where(L, level);
	lua_pushliteral(L, "interrupted");
	lua_concat(L, 2);
	lua_error(L);
}

bool ctl_budget_active(void)
{
	return budget.active;
}

bool ctl_budget_spent(lua_State *L)
{
	if (!budget.active || !budget.stop)
		return false;
	lua_pushstring(L, budget.msg);
	return true;
}

void ctl_budget_arm(lua_State *L, int ms)
{
	if (lua_gethook(L) != budget_hook) {
		budget.L = L;
		budget.old_hook = lua_gethook(L);
		budget.old_mask = lua_gethookmask(L);
		budget.old_count = lua_gethookcount(L);
		lua_sethook(L, budget_hook, LUA_MASKCOUNT, HOOK_COUNT);
	} else if (L != budget.L) {	/* ours from a resume in an earlier callback */
		budget.L = L;
		budget.old_hook = NULL;
		budget.old_mask = budget.old_count = 0;
	}
	budget.ms = ms;
	budget.started = false;	/* the clock starts at the first check: no syscall here */
	budget.collected = false;
	budget.stop = CTL_STOP_NONE;
	budget.active = true;
}

enum ctl_stop ctl_budget_disarm(lua_State *L)
{
	enum ctl_stop why = budget.stop;

	(void)L;	/* its hook goes at its next count (budget_hook) */
	if (!budget.active)
		return CTL_STOP_NONE;
	budget.active = false;
	budget.stop = CTL_STOP_NONE;
	return why;
}

/*
 * Set also outside a callback: a signal that comes while the event is being built, or
 * as the budget replaces the signal's own hook, must still stop the callback at its
 * first check. The loop clears it when it takes the signal.
 */
void ctl_budget_interrupt(void)
{
	interrupt_pending = 1;
}

void ctl_budget_interrupt_clear(void)
{
	interrupt_pending = 0;
}

/* A thread about to run inside a callback gets the budget's hook. */
static void hook_thread(lua_State *co)
{
	if (budget.active && lua_gethook(co) != budget_hook)
		lua_sethook(co, budget_hook, LUA_MASKCOUNT, HOOK_COUNT);
}

/* ------------------------------------------------------------------------------------ */
/* Functions that catch errors                                                            */

static lua_CFunction orig_pcall, orig_xpcall, orig_resume, orig_close, orig_sethook,
		     orig_load, orig_loadfile;

/* After a catching call whose results start at 1: a spent budget raises again. */
static int caught(lua_State *L, int status, lua_KContext ctx)
{
	(void)status;
	(void)ctx;
	if (budget.stop && !lua_toboolean(L, 1))
		return reraise(L);
	return lua_gettop(L);
}

/* Call @orig with the arguments on the stack, yieldable, then check what it caught. */
static int call_catching(lua_State *L, lua_CFunction orig)
{
	lua_pushcfunction(L, orig);
	lua_insert(L, 1);
	lua_callk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, caught);
	return caught(L, LUA_OK, 0);
}

static int l_pcall(lua_State *L)
{
	luaL_checkany(L, 1);
	return call_catching(L, orig_pcall);
}

static int l_xpcall(lua_State *L)
{
	luaL_checktype(L, 2, LUA_TFUNCTION);
	return call_catching(L, orig_xpcall);
}

static lua_State *check_co(lua_State *L)
{
	lua_State *co = lua_tothread(L, 1);

	luaL_argexpected(L, co, 1, "coroutine");
	return co;
}

static int l_resume(lua_State *L)
{
	hook_thread(check_co(L));
	return call_catching(L, orig_resume);
}

static int l_close(lua_State *L)
{
	lua_State *co = check_co(L);
	lua_Debug ar;

	if (co == L)
		return luaL_error(L, "cannot close a running coroutine");
	if (lua_status(co) == LUA_OK && lua_getstack(co, 0, &ar))
		return luaL_error(L, "cannot close a normal coroutine");
	hook_thread(co);	/* its pending __close handlers run on it */
	return call_catching(L, orig_close);
}

/* A function made by coroutine.wrap: resume its coroutine (upvalue 1), as Lua's does. */
static int wrapped(lua_State *L)
{
	lua_State *co = lua_tothread(L, lua_upvalueindex(1));
	int n = lua_gettop(L), status;

	hook_thread(co);
	lua_pushcfunction(L, orig_resume);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_rotate(L, 1, 2);
	lua_call(L, n + 1, LUA_MULTRET);
	if (lua_toboolean(L, 1))
		return lua_gettop(L) - 1;
	if (budget.stop)
		return reraise(L);
	status = lua_status(co);
	if (status != LUA_OK && status != LUA_YIELD) {	/* an error in the coroutine */
		status = lua_resetthread(co);	/* runs its pending __close handlers */
		lua_xmove(co, L, 1);
	}
	if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
		luaL_where(L, 1);
		lua_insert(L, -2);
		lua_concat(L, 2);
	}
	return lua_error(L);
}

static int l_wrap(lua_State *L)
{
	lua_State *co;

	luaL_checktype(L, 1, LUA_TFUNCTION);
	co = lua_newthread(L);
	lua_pushvalue(L, 1);
	lua_xmove(L, co, 1);
	lua_pushcclosure(L, wrapped, 1);
	return 1;
}

/* debug.sethook: refused inside a callback, where the budget owns the hook. */
static int l_sethook(lua_State *L)
{
	int arg = lua_isthread(L, 1) ? 1 : 0;

	if (budget.active)
		return luaL_error(L, "'debug.sethook' cannot be called from a callback (the "
				  "callback's time budget uses the hook)");
	if (!lua_isnoneornil(L, arg + 1)) {	/* the original's checks, with our name */
		luaL_checkstring(L, arg + 2);
		luaL_checktype(L, arg + 1, LUA_TFUNCTION);
		luaL_optinteger(L, arg + 3, 0);
	}
	lua_pushcfunction(L, orig_sethook);
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 0);
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Text-only loading                                                                      */

#define BINARY_REFUSED "attempt to load a binary chunk"
#define REFUSED_TEXT "precompiled (binary) chunk refused: ctlua loads Lua source only " \
		     "(ctlua --allow-bytecode allows it)"

/* The load mode to use instead of @mode (NULL: the default "bt"): without 'b'. */
static const char *text_mode(const char *mode, char buf[4])
{
	int n = 0;

	if (allow_bytecode)
		return mode;
	if (!mode)
		return "t";
	if (strchr(mode, 't'))
		buf[n++] = 't';
	buf[n] = '\0';
	return buf;
}

/* After a failed load: Lua's message for a refused binary chunk, made clear. */
static void refused_text(lua_State *L, int idx, const char *name)
{
	const char *msg = lua_tostring(L, idx);

	if (!msg || strncmp(msg, BINARY_REFUSED, strlen(BINARY_REFUSED)))
		return;
	if (name)
		lua_pushfstring(L, "%s: " REFUSED_TEXT, name);
	else
		lua_pushstring(L, REFUSED_TEXT);
	lua_replace(L, idx < 0 ? idx - 1 : idx);
}

int ctl_load_file(lua_State *L, const char *path)
{
	char buf[4];
	int status = luaL_loadfilex(L, path, text_mode(NULL, buf));

	if (status == LUA_ERRSYNTAX)
		refused_text(L, -1, path ? path : "stdin");
	return status;
}

int ctl_load_buffer(lua_State *L, const char *code, size_t len, const char *name)
{
	char buf[4];
	int status = luaL_loadbufferx(L, code, len, name, text_mode(NULL, buf));

	if (status == LUA_ERRSYNTAX)
		refused_text(L, -1, *name == '=' || *name == '@' ? name + 1 : name);
	return status;
}

/* load(chunk [, name [, mode [, env]]]), text only */
static int l_load(lua_State *L)
{
	char buf[4];
	const char *mode;

	if (lua_type(L, 1) != LUA_TSTRING)
		luaL_checktype(L, 1, LUA_TFUNCTION);
	luaL_optstring(L, 2, NULL);
	mode = text_mode(luaL_optstring(L, 3, NULL), buf);
	if (lua_gettop(L) < 3)
		lua_settop(L, 3);
	lua_pushstring(L, mode);
	lua_replace(L, 3);
	lua_pushcfunction(L, orig_load);
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	if (lua_isnil(L, 1)) {
		if (budget.stop)	/* a reader function ran out of budget */
			return reraise(L);
		refused_text(L, 2, NULL);
	}
	return lua_gettop(L);
}

/* loadfile([file [, mode [, env]]]), text only */
static int l_loadfile(lua_State *L)
{
	const char *path = luaL_optstring(L, 1, NULL);
	char buf[4];
	const char *mode = text_mode(luaL_optstring(L, 2, NULL), buf);

	if (lua_gettop(L) < 2)
		lua_settop(L, 2);
	lua_pushstring(L, mode);
	lua_replace(L, 2);
	lua_pushcfunction(L, orig_loadfile);
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	if (lua_isnil(L, 1))
		refused_text(L, 2, path ? path : "stdin");
	return lua_gettop(L);
}

static int dofile_done(lua_State *L, int status, lua_KContext ctx)
{
	(void)status;
	(void)ctx;
	return lua_gettop(L) - 1;
}

/* dofile([file]), text only */
static int l_dofile(lua_State *L)
{
	const char *path = luaL_optstring(L, 1, NULL);

	lua_settop(L, 1);
	if (ctl_load_file(L, path) != LUA_OK)
		return lua_error(L);
	lua_callk(L, 0, LUA_MULTRET, 0, dofile_done);
	return dofile_done(L, LUA_OK, 0);
}

/*
 * package.searchers[2], the one for Lua files: as Lua's, but the file is loaded as text
 * only. Returns the loader and the file name, or where it looked.
 */
static int search_text(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1), *path;

	lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	lua_getfield(L, -1, LUA_LOADLIBNAME);
	lua_getfield(L, -1, "searchpath");
	lua_pushvalue(L, 1);
	if (lua_getfield(L, -3, "path") != LUA_TSTRING)
		return luaL_error(L, "'package.path' must be a string");
	lua_call(L, 2, 2);
	if (lua_isnil(L, -2))
		return 1;	/* the files it tried */
	path = lua_tostring(L, -2);
	if (ctl_load_file(L, path) != LUA_OK)
		return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name,
				  path, lua_tostring(L, -1));
	lua_pushstring(L, path);
	return 2;
}

/* ------------------------------------------------------------------------------------ */
/* C loops bounded at their source                                                        */

/* Whether @n more bytes (a result built once, then copied) fit under the limit. */
static void check_room(lua_State *L, const char *fn, size_t n)
{
	struct ctl_mem *m = mem_of(L);
	char size[32], text[128];

	if (!m || !m->limit)
		return;
	if (n > m->limit / 2 || m->used > m->limit - 2 * n) {
		snprintf(text, sizeof(text), "%s: a result of %zu bytes would pass the memory "
			 "limit of %s", fn, n, size_text(m->limit, size));
		luaL_error(L, "%s", text);
	}
}

/*
 * string.rep(s, n [, sep]): Lua's copies s n times, so rep("", 1e12) loops 1e12 times.
 * This one returns an empty result at once and builds the others by doubling.
 */
static int l_rep(lua_State *L)
{
	size_t l, lsep, unit, total, done;
	const char *s = luaL_checklstring(L, 1, &l);
	lua_Integer n = luaL_checkinteger(L, 2);
	const char *sep = luaL_optlstring(L, 3, "", &lsep);
	luaL_Buffer b;
	char *p;

	if (n <= 0 || (l == 0 && lsep == 0)) {
		lua_pushliteral(L, "");
		return 1;
	}
	unit = l + lsep;
	if (unit < l || unit > (size_t)LUA_MAXINTEGER / (lua_Unsigned)n)
		return luaL_error(L, "resulting string too large");
	total = unit * (size_t)n - lsep;
	check_room(L, "string.rep", total);
	p = luaL_buffinitsize(L, &b, total);
	memcpy(p, s, l);
	if (total > l)
		memcpy(p + l, sep, lsep);
	/* p is periodic with period unit: copy what is done after itself */
	for (done = unit < total ? unit : total; done < total; done += done) {
		memcpy(p + done, p, total - done < done ? total - done : done);
		ctl_budget_poll(L);
	}
	luaL_pushresultsize(&b, total);
	return 1;
}

/* A table, or something with the metamethods @need ("i", "n", "l": __index ...). */
static void check_table(lua_State *L, int arg, const char *need)
{
	static const struct { char c; const char *mm; } mms[] = {
		{ 'i', "__index" }, { 'n', "__newindex" }, { 'l', "__len" },
	};
	bool ok = lua_type(L, arg) == LUA_TTABLE;

	if (!ok && lua_getmetatable(L, arg)) {
		ok = true;
		for (size_t i = 0; i < sizeof(mms) / sizeof(mms[0]); i++)
			if (strchr(need, mms[i].c)) {
				ok = ok && lua_getfield(L, -1, mms[i].mm) != LUA_TNIL;
				lua_pop(L, 1);
			}
		lua_pop(L, 1);
	}
	if (!ok)
		luaL_checktype(L, arg, LUA_TTABLE);	/* the error */
}

/* t[to + i] = f[from + i] for i in 0..n-1, polling; backwards when @back. */
static void move_polled(lua_State *L, int f, lua_Integer from, lua_Integer n, int t,
			lua_Integer to, bool back)
{
	for (lua_Integer k = 0; k < n; k++) {
		lua_Integer i = back ? n - 1 - k : k;

		lua_geti(L, f, from + i);
		lua_seti(L, t, to + i);
		if ((k + 1) % POLL_ELEMS == 0)
			ctl_budget_poll(L);
	}
}

/* table.move(a1, f, e, t [, a2]) as Lua's, polling the budget */
static int l_move(lua_State *L)
{
	lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
	lua_Integer t = luaL_checkinteger(L, 4);
	int tt = lua_isnoneornil(L, 5) ? 1 : 5;

	check_table(L, 1, "i");
	check_table(L, tt, "n");
	if (e >= f) {
		luaL_argcheck(L, f > 0 || e < LUA_MAXINTEGER + f, 3, "too many elements to move");
		luaL_argcheck(L, t <= LUA_MAXINTEGER - (e - f), 4, "destination wrap around");
		move_polled(L, 1, f, e - f + 1, tt, t,
			    !(t > e || t <= f || (tt != 1 && !lua_compare(L, 1, tt, LUA_OPEQ))));
	}
	lua_pushvalue(L, tt);
	return 1;
}

/* table.insert(t, [pos,] v) as Lua's, polling the budget */
static int l_insert(lua_State *L)
{
	lua_Integer e, pos;

	check_table(L, 1, "inl");
	e = luaL_len(L, 1) + 1;	/* first empty slot */
	switch (lua_gettop(L)) {
	case 2:
		pos = e;
		break;
	case 3:
		pos = luaL_checkinteger(L, 2);
		luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)e, 2,
			      "position out of bounds");
		move_polled(L, 1, pos, e - pos, 1, pos + 1, true);
		break;
	default:
		return luaL_error(L, "wrong number of arguments to 'insert'");
	}
	lua_seti(L, 1, pos);
	return 0;
}

/* table.remove(t [, pos]) as Lua's, polling the budget */
static int l_remove(lua_State *L)
{
	lua_Integer size, pos;

	check_table(L, 1, "inl");
	size = luaL_len(L, 1);
	pos = luaL_optinteger(L, 2, size);
	if (pos != size)
		luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, 2,
			      "position out of bounds");
	lua_geti(L, 1, pos);
	if (pos < size)
		move_polled(L, 1, pos + 1, size - pos, 1, pos, false);
	lua_pushnil(L);
	lua_seti(L, 1, pos < size ? size : pos);	/* the slot left empty */
	return 1;
}

static lua_CFunction orig_sort;

/* The comparison table.sort uses in a callback: @1 < @2, by upvalue 1 if it is set. */
static int sort_less(lua_State *L)
{
	static unsigned int calls;

	if (++calls % POLL_ELEMS == 0)
		ctl_budget_poll(L);
	if (lua_isnil(L, lua_upvalueindex(1))) {
		lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
		return 1;
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, 2, 1);
	return 1;
}

/*
 * table.sort(t [, comp]) as Lua's. In a callback it compares through sort_less, which
 * polls the budget: a table whose metamethods are C functions (no hook runs in them)
 * could otherwise make it sort 2^31 elements.
 */
static int l_sort(lua_State *L)
{
	lua_Integer n;

	check_table(L, 1, "inl");
	n = luaL_len(L, 1);
	if (n <= 1)
		return 0;	/* Lua's checks nothing more then */
	luaL_argcheck(L, n < INT_MAX, 1, "array too big");
	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_settop(L, 2);
	if (budget.active)
		lua_pushcclosure(L, sort_less, 1);
	lua_pushcfunction(L, orig_sort);
	lua_insert(L, 1);
	if (lua_pcall(L, 2, 0, 0) == LUA_OK)
		return 0;
	if (budget.stop)
		return reraise(L);
	/* Lua's own error, raised from here so that it says where sort was called */
	if (lua_type(L, -1) == LUA_TSTRING &&
	    !strcmp(lua_tostring(L, -1), "invalid order function for sorting"))
		return luaL_error(L, "invalid order function for sorting");
	return lua_error(L);
}

/* ------------------------------------------------------------------------------------ */
/* Installing                                                                             */

/*
 * @lib.@name = @fn, keeping the C function that was there in *@orig (left alone when it
 * is not a C function: someone replaced it before us).
 */
static void replace(lua_State *L, const char *lib, const char *name, lua_CFunction fn,
		    lua_CFunction *orig)
{
	int t = lib ? lua_getglobal(L, lib) : (lua_pushglobaltable(L), LUA_TTABLE);
	lua_CFunction was;

	if (t == LUA_TTABLE) {
		lua_getfield(L, -1, name);
		was = lua_tocfunction(L, -1);
		lua_pop(L, 1);
		/* another state (ct.so) may have set *orig: it must be the same function */
		if (was && was != fn && (!orig || !*orig || *orig == was)) {
			if (orig)
				*orig = was;
			lua_pushcfunction(L, fn);
			lua_setfield(L, -2, name);
		}
	}
	lua_pop(L, 1);
}

void ctl_sandbox_open(lua_State *L)
{
	int top = lua_gettop(L);

	if (lua_getfield(L, LUA_REGISTRYINDEX, SANDBOX_KEY) != LUA_TNIL) {
		lua_pop(L, 1);
		return;
	}
	lua_pop(L, 1);
	lua_pushboolean(L, 1);
	lua_setfield(L, LUA_REGISTRYINDEX, SANDBOX_KEY);
	replace(L, NULL, "pcall", l_pcall, &orig_pcall);
	replace(L, NULL, "xpcall", l_xpcall, &orig_xpcall);
	replace(L, NULL, "load", l_load, &orig_load);
	replace(L, NULL, "loadfile", l_loadfile, &orig_loadfile);
	replace(L, NULL, "dofile", l_dofile, NULL);
	if (lua_getglobal(L, LUA_LOADLIBNAME) == LUA_TTABLE &&
	    lua_getfield(L, -1, "searchers") == LUA_TTABLE &&
	    lua_rawgeti(L, -1, 2) == LUA_TFUNCTION && lua_tocfunction(L, -1)) {
		lua_pushcfunction(L, search_text);
		lua_rawseti(L, -3, 2);
	}
	lua_settop(L, top);
	replace(L, "coroutine", "resume", l_resume, &orig_resume);
	replace(L, "coroutine", "close", l_close, &orig_close);
	replace(L, "coroutine", "wrap", l_wrap, NULL);
	replace(L, "debug", "sethook", l_sethook, &orig_sethook);
	replace(L, "string", "rep", l_rep, NULL);
	replace(L, "table", "move", l_move, NULL);
	replace(L, "table", "insert", l_insert, NULL);
	replace(L, "table", "remove", l_remove, NULL);
	replace(L, "table", "sort", l_sort, &orig_sort);
	ctl_open_string_match(L, ctl_budget_poll);	/* match.c: patterns that poll */
}

void ctl_sandbox_allow_bytecode(bool allow)
{
	allow_bytecode = allow;
}
