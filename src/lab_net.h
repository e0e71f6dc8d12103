/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lab_net.h - the private module under lua/lab.lua (lab_net.c): the namespace switch and
 * the lab's sockets.
 */
#ifndef CTLUA_LAB_NET_H
#define CTLUA_LAB_NET_H

#include <lua.h>

/*
 * Register package.preload["ctlua.lab_net"] in @L (luaopen_ct does, for both hosts).
 * Stack: unchanged.
 */
void ctl_open_lab_net(lua_State *L);

#endif
