-- traffic.lua - for policy scripts of kernel tests that send their own packets:
--   local traffic = dofile("tests/lib/traffic.lua")(NS_B, ADDR_A)
--   traffic.send(dport, sport [, n [, line [, src]]])
--                                      -- n UDP datagrams NS_B:sport -> ADDR_A:dport, each
--                                      -- "x", or @line and a newline; from NS_B's address
--                                      -- @src (one it has) instead of its own
--   traffic.phase(n)                   -- run the loop until n more packets were looked up
-- luacheck: read globals ct
return function(ns_b, addr)
	local M, seen = {}, 0

	-- one socat per datagram: each leaves before the next is sent
	function M.send(dport, sport, n, line, src)
		local data = line and ("printf '%%s\\n' '%s'"):format(line) or "printf x"
		local from = src and ("bind=%s:%d"):format(src, sport) or ("sourceport=%d"):format(sport)

		for _ = 1, n or 1 do
			assert(os.execute(("%s | ip netns exec %s socat -u STDIN " ..
				"UDP-SENDTO:%s:%d,%s,reuseaddr"):format(data, ns_b, addr, dport, from)))
		end
	end

	-- until the program has looked @n more packets up (hits and misses; 3 s at most), then
	-- 50 ms more, so that one too many would show; verdicts answered meanwhile are written
	function M.phase(n)
		seen = seen + n
		for _ = 1, 150 do
			local st = ct.stats()
			if st.lookup_miss + st.lookup_hit >= seen then break end
			ct.run(0.02)
		end
		ct.run(0.05)
		assert(ct.sync())
	end

	return M
end
