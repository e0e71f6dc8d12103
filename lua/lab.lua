-- lab.lua - a lab in one call: a client and a server network namespace joined by a veth
-- pair, conntrack on in the server, ctlua attached to the server's veth, and real traffic
-- from the client. `ctlua lab` starts the shell with it up; doc/lab.md tells the rest.
--
--   local lab = require "ctlua.lab"
--   lab.up()
--   ct.rule{proto = "udp", dport = 5353, action = "alloc"}
--   lab.send{proto = "udp", dport = 5353}
--   for e in lab.entries{proto = "udp"} do print(e) end
--   lab.down()
--
-- While the lab is up, ctlua's own thread is inside the server namespace, so everything
-- that acts "in ctlua's namespace" (ct.alloc, ct.lookup, ct.entries, ct.attach, ...)
-- acts on the lab's server. Only 198.18.0.0/15 and 2001:db8::/32 are ever used.

local ct = require "ct"
local net = require "ctlua.lab_net"

local M = {}

-- The listeners up() starts in the server namespace (doc/lab.md).
local TCP_PORT, UDP_PORT = 8080, 5353
local NAME_PREFIX = "ctlab-"
local SERVER_IF, CLIENT_IF = "lab-srv", "lab-cli"
-- The nft ruleset that makes conntrack track packets in the server namespace: it
-- registers its hooks there only when a rule uses it (KERNEL.md).
local RULESET = [[
table inet ctlua_lab {
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		ct state new counter
	}
	chain out {
		type filter hook output priority filter; policy accept;
		ct state new counter
	}
}
]]

local state = {
	up = false,
	seq = 0,		-- labs this process made, for unique names
	socks = {},		-- connections and listeners, closed by down()
}

-- ---------------------------------------------------------------------------------
-- Small helpers: the shell, this process, argument checks.

local function quote(s)
	return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Run the words of @argv (quoted) with @input on stdin; true, or nil and what it said.
local function run(argv, input)
	local words = {}
	for i, w in ipairs(argv) do words[i] = quote(w) end
	local cmd = table.concat(words, " ") .. " 2>&1"
	if input then cmd = "printf '%s' " .. quote(input) .. " | " .. cmd end
	local p = io.popen(cmd, "r")
	if not p then return nil, "cannot run '" .. argv[1] .. "'" end
	local out = p:read("a")
	local ok = p:close()
	if ok then return true, out end
	out = out:gsub("%s+$", "")
	return nil, ("'%s' failed: %s"):format(table.concat(argv, " "), out)
end

local function my_pid()
	local f = io.open("/proc/self/stat")
	local pid = f and f:read("n")
	if f then f:close() end
	return pid
end

-- Whether the effective capabilities hold CAP_NET_ADMIN (12) and CAP_SYS_ADMIN (21).
local function privileged()
	local f = io.open("/proc/self/status")
	if not f then return false end
	local caps = f:read("a"):match("CapEff:%s*(%x+)")
	f:close()
	caps = caps and tonumber(caps:sub(-8), 16) or 0
	return caps & (1 << 12) ~= 0 and caps & (1 << 21) ~= 0
end

local function have(cmd)
	return os.execute("command -v " .. quote(cmd) .. " >/dev/null 2>&1") == true
end

local function sleep(s)
	os.execute("sleep " .. s)
end

-- Raise misuse of @fname as ct does; @level 1 (default) is @fname's caller.
local function argerror(fname, msg, level)
	error(("bad argument #1 to '%s' (%s)"):format(fname, msg), (level or 1) + 2)
end

-- Check table @t against @spec {field = {check, default}} for @fname (its caller's
-- caller is the one blamed); returns a copy with the defaults filled in.
local function fields(fname, t, spec)
	if t == nil then t = {} end
	if type(t) ~= "table" then
		argerror(fname, "table expected, got " .. type(t), 2)
	end
	local known = {}
	for k in pairs(spec) do known[#known + 1] = k end
	table.sort(known)
	for k in pairs(t) do
		if spec[k] == nil then
			argerror(fname, ("unknown field '%s' (known: %s)"):format(tostring(k),
				table.concat(known, ", ")), 2)
		end
	end
	local out = {}
	for k, s in pairs(spec) do
		local v = t[k]
		if v == nil then
			v = s[2]
		else
			local why = s[1](v)
			if why then argerror(fname, ("field '%s': %s"):format(k, why), 2) end
		end
		out[k] = v
	end
	return out
end

local function is_port(v)
	if math.type(v) ~= "integer" then return "expected an integer, got " .. tostring(v) end
	if v < 0 or v > 65535 then return v .. " is out of range 0 to 65535" end
end

local function is_count(max)
	return function(v)
		if math.type(v) ~= "integer" then
			return "expected an integer, got " .. tostring(v)
		end
		if v < 1 or v > max then return ("%d is out of range 1 to %d"):format(v, max) end
	end
end

local function is_size(v)
	if math.type(v) ~= "integer" then return "expected an integer, got " .. tostring(v) end
	if v < 0 or v > 65000 then return v .. " is out of range 0 to 65000" end
end

local function one_of(...)
	local ok = {}
	for _, o in ipairs{...} do ok[o] = true end
	local list = table.concat({...}, "', '")
	return function(v)
		if not ok[v] then
			return ("invalid option '%s' (expected '%s')"):format(tostring(v), list)
		end
	end
end

local function is_bool(v)
	if type(v) ~= "boolean" then return "expected a boolean, got " .. type(v) end
end

local is_family = one_of("ipv4", "ipv6")
local is_proto = one_of("udp", "tcp")

local function need_up(fname)
	if not state.up then
		error(("'%s': the lab is down (lab.up() starts it)"):format(fname), 3)
	end
end

-- ---------------------------------------------------------------------------------
-- Names and addresses: unique per process and per lab within it.

-- Namespaces "ctlab-PID-N-srv" and "-cli"; a /30 of 198.18.0.0/15 and a /64 of
-- 2001:db8::/32 chosen from the PID and N, so two labs differ in addresses too.
local function plan(pid, n)
	local k = (pid * 8 + n) % 32768
	local off = 4 * k
	local v4 = ("198.%d.%d.%%d"):format(18 + off // 65536, (off // 256) % 256)
	local base = off % 256
	return {
		server = ("%s%d-%d-srv"):format(NAME_PREFIX, pid, n),
		client = ("%s%d-%d-cli"):format(NAME_PREFIX, pid, n),
		addr = {
			server = v4:format(base + 1),
			client = v4:format(base + 2),
			server6 = ("2001:db8:c71a:%x::1"):format(k),
			client6 = ("2001:db8:c71a:%x::2"):format(k),
		},
	}
end

-- Delete the namespaces of labs whose process is gone (killed with SIGKILL).
local function sweep_stale()
	local p = io.popen("ip netns list 2>/dev/null")
	if not p then return end
	for line in p:lines() do
		local name, pid = line:match("^(" .. NAME_PREFIX:gsub("%-", "%%-") .. "(%d+)%-%d+%-%a+)")
		if name and not io.open("/proc/" .. pid .. "/stat") then
			run{"ip", "netns", "del", name}
		end
	end
	p:close()
end

-- ---------------------------------------------------------------------------------
-- The lab.

local function build(p)
	local S, C = p.server, p.client
	local steps = {
		{"ip", "netns", "add", S},
		{"ip", "netns", "add", C},
		{"ip", "-n", S, "link", "add", SERVER_IF, "type", "veth", "peer", "name", CLIENT_IF,
		 "netns", C},
		{"ip", "-n", S, "addr", "add", p.addr.server .. "/30", "dev", SERVER_IF},
		{"ip", "-n", C, "addr", "add", p.addr.client .. "/30", "dev", CLIENT_IF},
		-- nodad: the addresses work at once instead of after duplicate detection
		{"ip", "-n", S, "addr", "add", p.addr.server6 .. "/64", "dev", SERVER_IF, "nodad"},
		{"ip", "-n", C, "addr", "add", p.addr.client6 .. "/64", "dev", CLIENT_IF, "nodad"},
		{"ip", "-n", S, "link", "set", "lo", "up"},
		{"ip", "-n", C, "link", "set", "lo", "up"},
		{"ip", "-n", S, "link", "set", SERVER_IF, "up"},
		{"ip", "-n", C, "link", "set", CLIENT_IF, "up"},
	}
	for _, argv in ipairs(steps) do
		local ok, err = run(argv)
		if not ok then return nil, err end
	end
	local ok, err = run({"ip", "netns", "exec", S, "nft", "-f", "-"}, RULESET)
	if not ok then return nil, err end
	-- veth reports its carrier asynchronously: wait for both ends (up to 5 s)
	for _ = 1, 100 do
		local _, a = run{"ip", "-n", S, "-o", "link", "show", "dev", SERVER_IF}
		local _, b = run{"ip", "-n", C, "-o", "link", "show", "dev", CLIENT_IF}
		if a and b and a:find("LOWER_UP", 1, true) and b:find("LOWER_UP", 1, true) then
			return true
		end
		sleep(0.05)
	end
	return nil, ("the veth pair %s/%s did not come up in 5 s"):format(SERVER_IF, CLIENT_IF)
end

local function clear_fields()
	M.server, M.client, M.ifname, M.client_ifname, M.addr, M.link = nil, nil, nil, nil, nil, nil
end

--- lab.down() → true: remove everything the lab made. Safe to call twice, and called
--- by itself when the Lua state closes (script end, error, Ctrl-C, SIGTERM).
function M.down()
	if not state.up and not state.made then return true end
	for i = #state.socks, 1, -1 do
		pcall(state.socks[i].close, state.socks[i])
		state.socks[i] = nil
	end
	-- the filter goes while ctlua is still in the namespace that holds it
	if M.link then pcall(M.link.detach, M.link) end
	net.leave()
	local errs = {}
	for _, ns in ipairs{state.made and state.made.server, state.made and state.made.client} do
		local ok, err = run{"ip", "netns", "del", ns}
		if not ok then errs[#errs + 1] = err end
	end
	state.up, state.made = false, nil
	net.at_exit()
	clear_fields()
	if #errs > 0 then return nil, "EIO: lab.down: " .. table.concat(errs, "; "), 5 end
	return true
end

local function fail(msg, errno)
	M.down()
	return nil, msg, errno
end

--- lab.up([{attach = true, listen = true}]) → lab | nil, msg, errno
function M.up(opts)
	opts = fields("lab.up", opts, {
		attach = {is_bool, true},
		listen = {is_bool, true},
	})
	if state.up then
		return nil, "EBUSY: the lab is up already (" .. M.server .. "); lab.down() first", 16
	end
	if not privileged() then
		return nil, "EPERM: the lab needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)", 1
	end
	for _, cmd in ipairs{{"ip", "iproute2"}, {"nft", "nftables"}} do
		if not have(cmd[1]) then
			return nil, ("ENOENT: the lab needs '%s' (Debian's package %s)"):format(cmd[1],
				cmd[2]), 2
		end
	end
	local pid = my_pid()
	if not pid then return nil, "ENOENT: cannot read /proc/self/stat", 2 end
	sweep_stale()
	state.seq = state.seq + 1
	local p = plan(pid, state.seq)
	state.made = p
	net.at_exit(p.server, p.client)	-- if os.exit skips the state's closing
	local ok, err = build(p)
	if not ok then return fail("EIO: lab.up: " .. err, 5) end
	-- from here ct acts in the server namespace
	local entered, msg, errno = net.enter(p.server)
	if not entered then return fail("lab.up: " .. msg, errno) end
	state.up = true
	M.server, M.client = p.server, p.client
	M.ifname, M.client_ifname = SERVER_IF, CLIENT_IF
	M.addr = p.addr
	if opts.attach then
		local link
		link, msg, errno = ct.attach(SERVER_IF)
		if not link then return fail(msg, errno) end
		M.link = link
	end
	if opts.listen then
		for _, l in ipairs{{"tcp", TCP_PORT}, {"udp", UDP_PORT}} do
			local s
			s, msg, errno = net.listen(p.server, l[1], l[2])
			if not s then return fail(msg, errno) end
			state.socks[#state.socks + 1] = s
		end
	end
	return M
end

-- The destination address for @family (the server's), and the source (the client's).
local function ends(family)
	if family == "ipv6" then return M.addr.server6, M.addr.client6 end
	return M.addr.server, M.addr.client
end

--- lab.send{proto=, dport=, sport=, count=, size=, family=} → sent, tuple | nil, msg, errno
function M.send(t)
	t = fields("lab.send", t, {
		proto = {is_proto, "udp"},
		dport = {is_port, false},
		sport = {is_port, 0},
		count = {is_count(100000), 1},
		size = {is_size, 16},
		family = {is_family, "ipv4"},
	})
	need_up("lab.send")
	local dport = t.dport or (t.proto == "udp" and UDP_PORT or TCP_PORT)
	local dst, src = ends(t.family)
	local sent, sport = 0, t.sport
	if t.proto == "udp" then
		local n, port, errno = net.udp_send(M.client, dst, dport, t.sport, t.count, t.size)
		if not n then return nil, port, errno end
		sent, sport = n, port
	else
		local payload = ("x"):rep(t.size)
		local msg, errno
		for _ = 1, t.count do
			local c, port, e = net.tcp_connect(M.client, dst, dport, t.sport, 1000)
			if c then
				sent, sport = sent + 1, port
				c:send(payload)
				c:close()
			else
				msg, errno = port, e
			end
		end
		if sent == 0 then return nil, msg, errno end
	end
	return sent, ct.tuple{proto = t.proto, src = src, dst = dst, sport = sport, dport = dport}
end

--- lab.connect{dport=, sport=, family=, timeout=} → conn, tuple | nil, msg, errno
function M.connect(t)
	t = fields("lab.connect", t, {
		dport = {is_port, TCP_PORT},
		sport = {is_port, 0},
		family = {is_family, "ipv4"},
		timeout = {is_count(60000), 2000},
	})
	need_up("lab.connect")
	local dst, src = ends(t.family)
	local c, sport, errno = net.tcp_connect(M.client, dst, t.dport, t.sport, t.timeout)
	if not c then return nil, sport, errno end
	state.socks[#state.socks + 1] = c
	return c, ct.tuple{proto = "tcp", src = src, dst = dst, sport = sport, dport = t.dport}
end

--- lab.listen{proto=, port=} → listener | nil, msg, errno (in the server namespace)
function M.listen(t)
	t = fields("lab.listen", t, {
		proto = {is_proto, "tcp"},
		port = {is_port, false},
	})
	if not t.port then argerror("lab.listen", "field 'port': missing (a port, 1 to 65535)") end
	need_up("lab.listen")
	local l, msg, errno = net.listen(M.server, t.proto, t.port)
	if not l then return nil, msg, errno end
	state.socks[#state.socks + 1] = l
	return l
end

--- lab.entries([filter]) → iterator, as ct.entries: the server's conntrack table
function M.entries(filter)
	need_up("lab.entries")
	if filter ~= nil and type(filter) ~= "table" then
		argerror("lab.entries", "table expected, got " .. type(filter))
	end
	return ct.entries(filter)
end

local function describe()
	if not state.up then return "lab (down: lab.up() starts it)" end
	local a = M.addr
	return table.concat({
		("lab: server namespace %s, %s %s %s"):format(M.server, M.ifname, a.server, a.server6),
		("     client namespace %s, %s %s %s"):format(M.client, M.client_ifname, a.client,
			a.client6),
		("     conntrack on in the server (nft table inet ctlua_lab); ctlua %s"):format(
			M.link and ("attached to " .. M.ifname .. " ingress") or "not attached"),
		("     listening in the server: TCP %d, UDP %d; ct acts in the server namespace"):format(
			TCP_PORT, UDP_PORT),
	}, "\n")
end

-- The module is the lab: tostring(lab) describes it, and collecting it (the Lua state
-- closing, on any exit) takes it down.
return setmetatable(M, {
	__tostring = describe,
	__gc = function() M.down() end,
	__close = function() M.down() end,
})
