# SPDX-License-Identifier: GPL-2.0-or-later
#
# gen-help.awk - the texts of help() (src/help.c), made from doc/api.md, the API
# reference, so that it stays their one source. The Makefile runs
#
#   LC_ALL=C awk -f scripts/gen-help.awk doc/api.md > build/help_text.c
#
# Every "## " section becomes one entry of ctl_help_topics[] (the text before the first
# one, under the "# " title, is the reference's introduction and is left out):
# - a heading in backticks is a function: "## `ct.alloc(tuple [, opts])` → entry | ..."
#   gives the name "ct.alloc" and the signature "ct.alloc(tuple [, opts]) → entry | ...";
# - any other heading is a topic: Conventions is "conventions", Event fields "events",
#   and a new one is named by its heading in lower case, dashes for spaces;
# - inside "## Concepts", each "### name" is a topic of its own, a concept ("status",
#   "opts"), which help() lists under Concepts; the text before the first one is the
#   topic "concepts".
# The body is the section made readable on a terminal: backticks and ** markers go,
# code blocks lose their fences and are indented by four spaces, tables are aligned
# in columns, links keep their text. Nothing is wrapped.
#
# Plain POSIX awk (Debian's mawk is the one guaranteed); mawk and gawk give the same
# bytes in any locale. UTF-8 (→, −, …) goes into the C strings as it is, which C allows.

BEGIN {
	topic_name["Conventions"] = "conventions"
	topic_name["Event fields"] = "events"
	for (b = 1; b < 32; b++)
		ctrl[sprintf("%c", b)] = sprintf("\\%03o", b)
	for (b = 128; b < 192; b++)	# UTF-8 continuation bytes
		cont[sprintf("%c", b)] = 1
	fence = 0	# inside a ``` block, anywhere in the file
	have = 0	# a section is being collected
	ntopics = 0

	print "/* Generated from doc/api.md by scripts/gen-help.awk: do not edit. */"
	print "#include \"help.h\""
	print ""
	print "const struct ctl_help_topic ctl_help_topics[] = {"
}

{
	ln = $0
	sub(/\r$/, "", ln)
	fence_line = ln ~ /^[ \t]*```/
	if (fence_line)
		fence = !fence

	# Headings count only outside code blocks.
	if (!fence_line && !fence && ln ~ /^##?[ \t]/) {
		end_section()
		in_concepts = ln ~ /^##[ \t]+Concepts[ \t]*$/
		if (ln ~ /^##[ \t]/)
			start_section(ln, 0)
		next
	}
	if (!fence_line && !fence && in_concepts && ln ~ /^###[ \t]/) {
		end_section()
		start_section(ln, 1)
		next
	}
	if (have)
		take(ln, fence_line)
}

END {
	end_section()
	if (!ntopics) {
		print "gen-help.awk: no ## sections in " FILENAME > "/dev/stderr"
		exit 1
	}
	print "};"
	print ""
	print "const unsigned int ctl_help_ntopics = " ntopics ";"
}

function start_section(heading, concept,    sig)
{
	is_concept = concept
	sub(/^###?[ \t]+/, "", heading)
	sub(/[ \t]+$/, "", heading)
	is_function = heading ~ /^`/
	sig = heading
	gsub(/`/, "", sig)
	if (is_function) {
		if (!match(sig, /^[A-Za-z_][A-Za-z0-9_.:]*/)) {
			print "gen-help.awk: " FILENAME ":" FNR ": no function name in '" heading "'" > "/dev/stderr"
			exit 1
		}
		name = substr(sig, 1, RLENGTH)
	} else if (heading in topic_name) {
		name = topic_name[heading]
	} else {
		name = tolower(heading)
		gsub(/[^a-z0-9_.]+/, "-", name)
	}
	if (name in seen) {
		print "gen-help.awk: " FILENAME ":" FNR ": a second section named '" name "'" > "/dev/stderr"
		exit 1
	}
	seen[name] = 1
	signature = sig
	have = 1
	nbody = 0
	nrows = 0
	code = 0
}

# One line of the section's markdown.
function take(line, is_fence)
{
	if (is_fence) {
		flush_table()
		code = !code
		return
	}
	if (code) {
		out("    " line)
		return
	}
	if (line ~ /^[ \t]*\|/) {
		table_row(line)
		return
	}
	flush_table()
	out(plain(line))
}

# Inline markdown to plain text.
function plain(s)
{
	gsub(/\*\*/, "", s)
	gsub(/`/, "", s)
	gsub(/\\\|/, "|", s)
	s = md_links(s)
	return s
}

# A row of a table, kept until the table ends so the columns can be aligned.
function table_row(line,    cells, k, n, c)
{
	gsub(/\\\|/, "\001", line)	# an escaped pipe is text inside a cell
	sub(/^[ \t]*\|/, "", line)
	sub(/\|[ \t]*$/, "", line)
	n = split(line, cells, "|")
	nrows++
	rule_row[nrows] = line ~ /^[ \t:|-]+$/
	ncells[nrows] = n
	if (n > ncols)
		ncols = n
	for (k = 1; k <= n; k++) {
		c = cells[k]
		sub(/^[ \t]+/, "", c)
		sub(/[ \t]+$/, "", c)
		c = plain(c)
		gsub(/\001/, "|", c)
		cell[nrows, k] = c
		if (!rule_row[nrows] && width(c) > colw[k])
			colw[k] = width(c)
	}
}

function flush_table(    r, k, s, c)
{
	for (r = 1; r <= nrows; r++) {
		s = ""
		for (k = 1; k <= ncols; k++) {
			c = k <= ncells[r] ? cell[r, k] : ""
			if (rule_row[r])	# under the last column only as wide as its head
				c = repeat("-", k < ncols ? colw[k] : width(cell[1, k]))
			s = s c
			if (k < ncols)
				s = s repeat(" ", colw[k] - width(c) + 2)
		}
		out(s)
	}
	nrows = 0
	ncols = 0
	split("", colw)
	split("", cell)
	split("", ncells)
	split("", rule_row)
}

# Columns on a terminal: UTF-8 continuation bytes take none. (A byte range in a regex
# would be refused by an awk that reads UTF-8 characters.)
function width(s,    n, k)
{
	n = 0
	for (k = 1; k <= length(s); k++)
		if (!(substr(s, k, 1) in cont))
			n++
	return n
}

function repeat(c, n,    s)
{
	s = ""
	while (n-- > 0)
		s = s c
	return s
}

function out(s)
{
	sub(/[ \t]+$/, "", s)
	body[++nbody] = s
}

# Emit the collected section: no blank lines at either end, none doubled.
function end_section(    first, last, i, blank)
{
	if (!have)
		return
	flush_table()
	have = 0
	for (first = 1; first <= nbody && body[first] == ""; first++)
		;
	for (last = nbody; last >= first && body[last] == ""; last--)
		;
	ntopics++
	print "\t{"
	print "\t\t\"" cstr(name) "\","
	print "\t\t\"" cstr(signature) "\","
	if (first > last)
		print "\t\t\"\","
	blank = 0
	for (i = first; i <= last; i++) {
		if (body[i] == "" && blank)
			continue
		blank = body[i] == ""
		print "\t\t\"" cstr(body[i]) "\\n\"" (i == last ? "," : "")
	}
	print "\t\t" (is_function ? "true" : "false") ","
	print "\t\t" (is_concept ? "true" : "false") ","
	print "\t},"
}

# A C string literal's contents. "?" after "?" is escaped so no trigraph can form.
function cstr(s,    r, i, c, prev)
{
	r = ""
	prev = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\\" || c == "\"")
			r = r "\\" c
		else if (c == "\t")
			r = r "\\t"
		else if (c in ctrl)
			r = r ctrl[c]
		else if (c == "?" && prev == "?")
			r = r "\\?"
		else
			r = r c
		prev = c
	}
	return r
}
