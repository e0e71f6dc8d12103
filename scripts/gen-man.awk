# SPDX-License-Identifier: GPL-2.0-or-later
#
# gen-man.awk - the man page (build/ctlua.1): the template doc/ctlua.1.in with its line
# `.\" @API@` replaced by doc/api.md, the API reference, turned into man(7) markup, so
# that the reference stays the one source of help() and of the man page. The Makefile runs
#
#   LC_ALL=C awk -f scripts/gen-man.awk doc/api.md doc/ctlua.1.in > build/ctlua.1
#
# The markdown that doc/api.md uses, and what each becomes:
# - the "# " title: left out (the template has the section heading);
# - "## heading": .SS, backticks gone;
# - a paragraph: .PP and the text; `code` and **bold** in bold, a link as its text
#   followed by its target in parentheses (anchors within the page are dropped); code
#   is never hyphenated;
# - "- item" and "  - item": .IP with a bullet, the second level within .RS/.RE;
# - a ``` block: no filling, indented;
# - a table: one .TP per row, the first cell as the tag (its header row left out).
# Non-ASCII characters become groff's \[uXXXX], so the page is plain ASCII and needs
# no preconv. Plain POSIX awk (Debian's mawk is the one guaranteed).

BEGIN {
	for (b = 128; b < 256; b++)
		byte[sprintf("%c", b)] = b
	api = ""	# the first file, doc/api.md
	n = 0		# lines of man markup made from it
	code = 0	# inside a ``` block
	level = 0	# list nesting: 0 none, 1 "- ", 2 "  - "
	gap = 0		# a blank line since the last text
	span = 0	# the last line of text ended inside a code span
	intable = 0
	done = 0
}

# ---- the reference ---------------------------------------------------------------------

FILENAME != api && api == "" { api = FILENAME }

FILENAME == api {
	line = $0
	sub(/\r$/, "", line)
	if (line ~ /^[ \t]*```/) {
		end_table()
		if (!code) {
			# a block inside a list item is indented as the item's text is
			match(line, /^[ \t]*/)
			fence_indent = RLENGTH
			if (!fence_indent)
				set_level(0)	# a block at the margin ends a list
			emit(level ? ".IP" : ".PP")
			if (!level)
				emit(".RS 4")
			emit(".nf")
		} else {
			emit(".fi")
			if (!level)
				emit(".RE")
			gap = 1
		}
		code = !code
		next
	}
	if (code) {
		if (substr(line, 1, fence_indent) ~ /^[ \t]*$/)
			line = substr(line, fence_indent + 1)
		emit(esc_line(esc(line, 1)))
		next
	}
	if (line ~ /^[ \t]*\|/) {
		table_row(line)
		next
	}
	end_table()
	if (line ~ /^[ \t]*$/) {
		gap = 1
		next
	}
	if (line ~ /^# /)
		next
	if (line ~ /^###? /) {	# a function, a topic, or one of the Concepts
		set_level(0)
		sub(/^###? +/, "", line)
		gsub(/`/, "", line)
		emit(".SS")
		emit(esc_line(esc(line, 0)))
		gap = 0
		need_pp = 1
		next
	}
	if (line ~ /^- /) {
		set_level(1)
		sub(/^- +/, "", line)
		emit(".IP \\(bu 3")
	} else if (line ~ /^  +- /) {
		set_level(2)
		sub(/^ +- +/, "", line)
		emit(".IP \\(en 3")
	} else if (gap || need_pp) {
		if (line ~ /^  / && level)
			emit(".IP \"\" 3")	# a further paragraph of the item
		else {
			set_level(0)
			emit(".PP")
		}
	}
	gap = 0
	need_pp = 0
	sub(/^[ \t]+/, "", line)
	emit(esc_line(inline(line)))
	next
}

# ---- the template ----------------------------------------------------------------------

/^\.\\" @API@[ \t]*$/ {
	end_table()
	set_level(0)
	for (i = 1; i <= n; i++)
		print out[i]
	done = 1
	next
}

{ print }

END {
	if (!done) {
		print "gen-man.awk: no line '.\\\" @API@' in the template" > "/dev/stderr"
		exit 1
	}
}

# ---- helpers ---------------------------------------------------------------------------

function emit(s)
{
	out[++n] = s
}

# Close or open .RS levels so that the list is @want deep.
function set_level(want)
{
	while (level > want && level > 1) {
		emit(".RE")
		level--
	}
	if (want == 0)
		level = 0
	while (level < want) {
		if (level == 1)
			emit(".RS 3")
		level++
	}
}

# A line of text that troff would read as a request is protected.
function esc_line(s)
{
	if (s ~ /^[.']/)
		s = "\\&" s
	return s
}

# Text for troff: backslashes, and UTF-8 as \[uXXXX]; in code, "-" as a minus.
function esc(s, is_code,    r, i, c, b, cp, k, len)
{
	gsub(/\\/, "\\e", s)
	if (is_code)
		gsub(/-/, "\\-", s)
	r = ""
	len = length(s)
	for (i = 1; i <= len; i++) {
		c = substr(s, i, 1)
		if (!(c in byte)) {
			r = r c
			continue
		}
		b = byte[c]
		if (b >= 240) {
			cp = b - 240
			k = 3
		} else if (b >= 224) {
			cp = b - 224
			k = 2
		} else if (b >= 192) {
			cp = b - 192
			k = 1
		} else {
			continue	# a stray continuation byte
		}
		while (k-- > 0 && i < len)
			cp = cp * 64 + (byte[substr(s, ++i, 1)] - 128)
		r = r sprintf("\\[u%04X]", cp)
	}
	return r
}

# Inline markdown to troff: `code` and **bold** in bold, links as text (target).
function inline(s,    r, parts, np, k, t, bold)
{
	gsub(/\\\|/, "|", s)
	gsub(/\*\*/, "\002", s)	# bold may hold code: marked now, set last
	# a code span may go on to the next line: close it here, open it again there
	if (span)
		s = "`" s
	np = split(s, parts, "`")
	span = np % 2 == 0
	if (span)
		np = split(s "`", parts, "`")
	r = ""
	for (k = 1; k <= np; k++) {
		t = parts[k]
		if (k % 2 == 0 && k < np)
			r = r "\\fB" nohyph(esc(t, 1)) "\\fP"	# back to the previous font
		else
			r = r prose(k % 2 == 0 ? "`" t : t)
	}
	bold = 0
	while (match(r, /\002/)) {
		r = substr(r, 1, RSTART - 1) (bold ? "\\fR" : "\\fB") substr(r, RSTART + 1)
		bold = !bold
	}
	return r
}

# Code is not hyphenated: \% before each of its words.
function nohyph(s)
{
	gsub(/ /, " \\%", s)
	return "\\%" s
}

function prose(s)
{
	s = md_links(s)
	return esc(s, 0)
}

# A table row: the header and the rule under it are dropped, the rest is a .TP each.
function table_row(line,    cells, k, nc, body, c)
{
	gsub(/\\\|/, "\001", line)
	sub(/^[ \t]*\|/, "", line)
	sub(/\|[ \t]*$/, "", line)
	nc = split(line, cells, "|")
	if (!intable) {
		intable = 1
		set_level(0)
		emit(".PP")
		return		# the header
	}
	if (line ~ /^[ \t:|-]+$/)
		return
	for (k = 1; k <= nc; k++) {
		c = cells[k]
		sub(/^[ \t]+/, "", c)
		sub(/[ \t]+$/, "", c)
		gsub(/\001/, "\\|", c)
		cells[k] = c
	}
	emit(".TP")
	emit(esc_line(inline(cells[1])))
	body = ""
	for (k = 2; k <= nc; k++)
		body = body (k > 2 ? " \\(em " : "") cells[k]
	emit(esc_line(inline(body)))
}

function end_table()
{
	if (intable) {
		intable = 0
		gap = 1
	}
}
