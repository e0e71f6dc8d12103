#!tests/lib/ctlua-tap
-- 42-docs.t - the documents hold together: every relative link in README.md and doc/*.md
-- points to a file that exists (and, for a link to a heading, to a heading there), and
-- every ```lua block of README.md and doc/guide.md compiles. doc/api.md's examples are
-- 41-help.t's. Needs no kernel.
local t = require "tap"

local function read(path)
	local f = assert(io.open(path, "rb"))
	local s = f:read("a")
	f:close()
	return s
end

local function exists(path)
	local f = io.open(path, "rb")
	if f then
		f:close()
	end
	return f ~= nil
end

-- The files: README.md and every doc/*.md (ls gives them sorted).
local files = {"README.md"}
local ls = assert(io.popen("ls doc/*.md"))
for path in ls:lines() do
	files[#files + 1] = path
end
ls:close()
t.ok(#files >= 5, "README.md and the doc/*.md files are found (" .. #files .. ")")

-- The lines of @text outside ``` blocks, with inline code spans blanked.
local function prose_lines(text)
	local out, fence = {}, false
	for line in (text .. "\n"):gmatch("(.-)\n") do
		if line:match("^%s*```") then
			fence = not fence
		elseif not fence then
			out[#out + 1] = line:gsub("`[^`]*`", "``")
		end
	end
	return out
end

-- The anchors GitHub makes of a file's headings: lower case, punctuation dropped,
-- spaces as dashes.
local function anchors(text)
	local set = {}
	for _, line in ipairs(prose_lines(text)) do
		local h = line:match("^#+%s+(.-)%s*$")
		if h then
			set[h:lower():gsub("[^%w%- _]", ""):gsub(" ", "-")] = true
		end
	end
	return set
end

-- The problems with the links of @text (the file @file): a list of messages.
local function check_links(file, text, bad)
	local dir = file:match("^(.*)/") or "."
	local n = 0
	for _, line in ipairs(prose_lines(text)) do
		for target in line:gmatch("%]%(([^)%s]+)%)") do
			n = n + 1
			local path, anchor = target:match("^([^#]*)#?(.*)$")
			if target:match("^%a[%w+.-]*:") then
				-- http:, mailto: and the like are not ours to check
			elseif path == "" then
				if not anchors(text)[anchor] then
					bad[#bad + 1] = file .. ": no heading for '#" .. anchor .. "'"
				end
			else
				local full = dir .. "/" .. path
				if not exists(full) then
					bad[#bad + 1] = file .. ": '" .. target .. "' points to nothing"
				elseif anchor ~= "" and not anchors(read(full))[anchor] then
					bad[#bad + 1] = file .. ": '" .. target .. "' names no heading of " .. full
				end
			end
		end
	end
	return n
end

local bad, nlinks, texts = {}, 0, {}
for _, file in ipairs(files) do
	texts[file] = read(file)
	nlinks = nlinks + check_links(file, texts[file], bad)
end
t.ok(nlinks >= 20, "the documents link to each other (" .. nlinks .. " links)")
t.is(table.concat(bad, "\n"), "", "every relative link points to a file and heading that exist")

-- The checker itself: a missing file, a missing heading elsewhere and here are found;
-- links inside code and to other sites are left alone.
local found = {}
check_links("doc/x.md", "# X\n[a](nosuch.md), [b](guide.md#nope), [c](#x), [d](#nope)\n" ..
	    "`[e](gone.md)` [f](https://example.org/gone)\n```\n[g](gone.md)\n```\n", found)
t.is(table.concat(found, "\n"), "doc/x.md: 'nosuch.md' points to nothing\n" ..
     "doc/x.md: 'guide.md#nope' names no heading of doc/guide.md\n" ..
     "doc/x.md: no heading for '#nope'", "the check finds broken links, and only those")

-- Lua examples outside the API reference compile (as text, the way ctlua loads chunks).
local nblocks, failed = 0, {}
for _, file in ipairs{"README.md", "doc/guide.md"} do
	for block in texts[file]:gmatch("\n```lua\n(.-)\n```") do
		nblocks = nblocks + 1
		local ok, err = load(block, "=" .. file, "t")
		if not ok then
			failed[#failed + 1] = err
		end
	end
end
t.ok(nblocks >= 2, "README.md and doc/guide.md have lua examples (" .. nblocks .. ")")
t.is(table.concat(failed, "\n"), "", "each of them compiles")
t.done_testing()
