// SPDX-License-Identifier: GPL-2.0-or-later
/* lua_kernel.c - ct.kernel: what the running kernel offers, read from its BTF. */
#include "lua_ct.h"
#include "probe.h"

/*
 * ct.kernel() -> {release=, kfuncs={name=true|false}, opts_sizes={12[, 16]}, zones=,
 *                 nat=, mark_write=} | nil, msg, errno
 * Needs no capability and loads nothing.
 */
static int l_kernel(lua_State *L)
{
	struct ctl_features f;
	int err = ctl_probe_features(&f), n = 0;

	if (err)
		return ctl_fail(L, err, "cannot read the kernel's BTF");
	lua_createtable(L, 0, 6);
	lua_pushstring(L, f.release);
	lua_setfield(L, -2, "release");
	lua_newtable(L);
	for (int i = 0; ctl_all_kfuncs[i]; i++) {
		lua_pushboolean(L, f.kfunc[i]);
		lua_setfield(L, -2, ctl_all_kfuncs[i]);
	}
	lua_setfield(L, -2, "kfuncs");
	/* 12 bytes work from 5.19 on; 16 only where the struct has grown (KERNEL.md 1). */
	lua_newtable(L);
	if (f.opts_size >= 12) {
		lua_pushinteger(L, 12);
		lua_rawseti(L, -2, ++n);
	}
	if (f.opts_size >= 16) {
		lua_pushinteger(L, 16);
		lua_rawseti(L, -2, ++n);
	}
	lua_setfield(L, -2, "opts_sizes");
	lua_pushboolean(L, f.zones);
	lua_setfield(L, -2, "zones");
	lua_pushboolean(L, f.nat);
	lua_setfield(L, -2, "nat");
	lua_pushboolean(L, f.mark_write);
	lua_setfield(L, -2, "mark_write");
	return 1;
}

static const luaL_Reg kernel_funcs[] = {
	{ "kernel", l_kernel },
	{ NULL, NULL },
};

void ctl_open_kernel(lua_State *L)
{
	lua_pushvalue(L, -2);
	luaL_setfuncs(L, kernel_funcs, 1);
}
