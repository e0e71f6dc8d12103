// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * event_fuzz.c - libFuzzer harness for the ring-buffer record decoder: the bytes of a
 * struct ctlua_event (64; a shorter input is padded with zeros, as the kernel's record
 * is always whole) go through ctl_push_event, which makes the object a callback gets,
 * then through its __tostring (the shell's printer), pairs() and every field read by
 * name (each decoded on access). A record is
 * written by the BPF program, but the decoder must not trust it: any bytes are safe.
 */
#include <stdint.h>
#include <string.h>
#include <lauxlib.h>
#include "fuzz.h"
#include "lua_ct.h"

static int decode(lua_State *L)
{
	const struct ctlua_event *e = lua_touserdata(L, 1);
	struct ctl_state *s = ctl_state_of(L);

	fz_check(s != NULL, "the ct module has no state", NULL);
	ctl_push_event(L, s, e);
	fz_check(lua_type(L, -1) == LUA_TUSERDATA, "an event is not a userdata", NULL);
	luaL_tolstring(L, -1, NULL);
	lua_pop(L, 1);
	for (unsigned int i = 0; i < ctl_event_record.nfields; i++) {	/* each by name */
		lua_getfield(L, -1, ctl_event_record.fields[i].name);
		luaL_tolstring(L, -1, NULL);
		lua_pop(L, 2);
	}
	fz_check(luaL_getmetafield(L, -1, "__pairs") == LUA_TFUNCTION, "no __pairs", NULL);
	lua_pushvalue(L, -2);
	lua_call(L, 1, 3);	/* next, t, nil */
	while (lua_pushvalue(L, -3), lua_pushvalue(L, -3), lua_pushvalue(L, -3),
	       lua_call(L, 2, 2), !lua_isnil(L, -2)) {
		luaL_tolstring(L, -1, NULL);
		lua_pop(L, 2);
		lua_replace(L, -2);	/* the key, for the next step */
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctlua_event e;
	lua_State *L;

	if (size > sizeof(e))
		return -1;	/* not a record: keep it out of the corpus */
	memset(&e, 0, sizeof(e));
	memcpy(&e, data, size);
	L = fz_lua_new();
	lua_pushcfunction(L, decode);
	lua_pushlightuserdata(L, &e);
	fz_check(lua_pcall(L, 1, 0, 0) == LUA_OK, "decoding an event raised",
		 lua_tostring(L, -1));
	fz_lua_close(L);
	return 0;
}
