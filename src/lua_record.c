// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lua_record.c - ct.record(path | false): the events this state reads, written as
 * `ctlua run --record` writes them (recorder.c), from the shell or a script, so that
 * `ctlua replay` can decide them again (doc/replay.md).
 */
#include <errno.h>
#include "lua_ct.h"
#include "recorder.h"

#define RECORDER_MT	"ct.recorder"

/* The recording in force: its recorder, and the state whose tap it is. */
struct box {
	struct ctl_recorder *r;
	struct ctl_state *s;
};

/* Registry key of the box of the recording in force. */
static const char box_key;

/* __gc: the recording ends (also at lua_close: no event is read after it). */
static int box_gc(lua_State *L)
{
	struct box *b = luaL_checkudata(L, 1, RECORDER_MT);

	if (b->r && b->s && b->s->tap_ctx == b->r)
		ctl_events_tap(b->s, NULL, NULL);
	ctl_recorder_close(b->r);
	b->r = NULL;
	return 0;
}

/* End the recording in force, if there is one. Stack: balanced. */
static void stop(lua_State *L)
{
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &box_key) == LUA_TUSERDATA) {
		lua_pushcfunction(L, box_gc);
		lua_insert(L, -2);
		lua_call(L, 1, 0);
		lua_pushnil(L);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &box_key);
		return;
	}
	lua_pop(L, 1);
}

/*
 * ct.record(path) -> true | nil, msg, errno: from now on every event this state reads
 * is written to @path, one JSON line each (a header first); ct.record(false) -> true
 * ends it. A second ct.record ends the first.
 */
static int l_record(lua_State *L)
{
	struct ctl_state *s = ctl_state(L);
	struct ctl_recorder *r;
	const char *path = NULL;
	struct box *b;
	char msg[512];
	int err;

	if (!(lua_isboolean(L, 1) && !lua_toboolean(L, 1)))
		path = ctl_check_cstring(L, 1);
	if (s->served)
		return luaL_error(L, "ct.record cannot be used in a policy that 'ctlua run' "
				  "serves (ctlua run --record FILE records it)");
	stop(L);
	if (path) {
		err = ctl_recorder_open(&r, path, "ct.record", msg, sizeof(msg));
		if (err)
			return ctl_fail(L, err, "%s", msg);
		ctl_recorder_flush_lines(r);	/* a shell's events come few, and are watched */
		b = lua_newuserdatauv(L, sizeof(*b), 0);
		b->r = r;
		b->s = s;
		if (luaL_newmetatable(L, RECORDER_MT)) {
			lua_pushcfunction(L, box_gc);
			lua_setfield(L, -2, "__gc");
		}
		lua_setmetatable(L, -2);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &box_key);
		ctl_events_tap(s, ctl_recorder_event, r);
	}
	/* the kinds emitted follow: all while recording */
	if ((err = ctl_events_sync_mask(L, s)))
		return ctl_fail(L, err, "cannot write the config map");
	lua_pushboolean(L, 1);
	return 1;
}

static const luaL_Reg record_funcs[] = {
	{ "record", l_record },
	{ NULL, NULL },
};

void ctl_open_record(lua_State *L)
{
	lua_pushvalue(L, -2);
	luaL_setfuncs(L, record_funcs, 1);
}
