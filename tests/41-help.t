#!/bin/bash
# 41-help.t - help(), whose texts are the "## " sections of doc/api.md (built in by
# scripts/gen-help.awk): the list, one function by value or by name, the topics, the
# unknown and the misuse, output through io.write. Also that every function's section
# has an example that compiles, and that the ones needing no root run; and that the
# man page made from the same file (build/ctlua.1, scripts/gen-man.awk) is well-formed
# and has every function. No kernel needed: help comes from build/ct.so
# (require "ct.help"), as stock Lua gets it.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
CTLUA=${CTLUA:-build/ctlua}

CT_SO=${CT_SO:-$PWD/build/ct.so}	# the sanitizer pass gives its own
[[ -f "$CT_SO" ]] || BAIL_OUT "'$CT_SO' is missing: run make first"
[[ -x "$CTLUA" ]] || BAIL_OUT "$CTLUA is missing: run make first"
command -v lua5.4 >/dev/null 2>&1 || skip_all "'lua5.4' is not installed"

# Only $CT_SO's folder: a ct.so installed elsewhere must not stand in for the one under test.
export LUA_CPATH="${CT_SO%/*}/?.so"
TMP=$(mktemp -d /tmp/ctlua-help.XXXXXX) || BAIL_OUT "cannot create a temporary directory"
trap 'rm -rf "$TMP"' EXIT

# lua CODE: run CODE in stock Lua with ct and help loaded as locals; sets OUT and RC.
lua()
{
	OUT=$(lua5.4 -e "local ct = require 'ct'; local help = require 'ct.help'; $1" 2>&1 </dev/null)
	RC=$?
}

# The reference's own view, read here without the generator: its sections, and one
# section by the start of its heading ("ct.alloc(").
api()
{
	awk '/^## / { on = 1 } on' doc/api.md
}
section()
{
	api | awk -v h="## \`$1" '
		/^## / { on = index($0, h) == 1; next }
		on'
}
# The lines of a section's first ```lua block.
example()
{
	section "$1" | awk '/^```lua/ { on = 1; next } /^```/ { if (on) exit } on'
}

# --- the list -------------------------------------------------------------------------------

headings=$(api | grep '^## `ct\.')
n=$(grep -c . <<<"$headings")
cmp_ok "$n" -ge 20 "doc/api.md documents the ct functions ($n headings)"

lua 'help()'
is "$RC" 0 "help() runs"
list=$OUT
is "$(grep -c '^  ct\.' <<<"$list")" "$n" \
	"help() lists as many ct functions as doc/api.md has headings"
missing=
while IFS= read -r h; do
	sig=${h#'## '}
	sig=${sig//\`/}
	grep -qxF "  $sig" <<<"$list" || missing+="$sig"$'\n'
done <<<"$headings"
is "$missing" "" "every heading's signature is a line of help(), without backticks"
is "$(grep '^  ' <<<"$list" | sed -n '1p;$p')" '  Conventions: help "conventions"
  help([function | "name"])' "the list runs in the order of doc/api.md: Conventions first, help last"
like "$list" $'\n  Event fields: help "events"\n' "topics are named with the way to show them"
like "$list" 'help\(ct\.alloc\) or help "ct\.alloc" shows one function' \
	"and it says how to see one"

# --- one function ---------------------------------------------------------------------------

lua 'help(ct.alloc)'
is "$RC" 0 "help(ct.alloc) runs"
alloc=$OUT
sig=$(api | grep '^## `ct\.alloc(' | sed -e 's/^## //' -e 's/`//g')
is "${alloc%%$'\n'*}" "$sig" "help(ct.alloc) starts with the signature in doc/api.md"
like "$alloc" 'Creates the conntrack entry now: bpf_skb_ct_alloc, then' "then the description"
ex=$(example 'ct.alloc(')
[[ -n "$ex" ]]
ok $? "the ct.alloc section of doc/api.md has a lua example"
missing=
while IFS= read -r line; do
	grep -qF -- "$line" <<<"$alloc" || missing+="$line"$'\n'
done <<<"$ex"
is "$missing" "" "help(ct.alloc) contains every line of that example"
# shellcheck disable=SC2016 # backticks, literally
unlike "$alloc" '```|`|\*\*' "no fences, backticks or bold markers are left"
like "$alloc" \
	$'\nfield  +what reaches the kernel\n-+  -+\ntimeout, mark  +as in the Conventions\n' \
	"tables are aligned in columns"
like "$alloc" 'dir="original"\|"reply"\|"both"' \
	"an escaped pipe in a table cell is a plain pipe"

lua 'help "alloc"; help "ct.alloc"'
is "$OUT" "$alloc"$'\n'"$alloc" \
	'help "alloc" and help "ct.alloc" print the same as help(ct.alloc)'

lua 'help "version"'
like "$OUT" $'^ct\\.version\n\nA string, for example "' 'help "version" shows ct.version'
lua 'help(help)'
like "$OUT" $'^help\\(\\[function \\| "name"\\]\\)\n' "help(help) shows help's own section"

lua 'help "conventions"'
like "$OUT" $'^Conventions\n\n- Misuse raises an error' \
	'help "conventions" shows the Conventions'
like "$OUT" "bad argument #1 to 'ct.rule' \\(field 'dport'" "with its code block"
lua 'help "events"'
like "$OUT" $'^Event fields\n\nfield +value\n' 'help "events" shows the Event fields table'
lua 'help "ct.events"'
like "$OUT" '^ct\.events\(' 'help "ct.events" is the function, not the topic'

# --- nothing to show, misuse ----------------------------------------------------------------

lua 'print(select("#", help "nope"), help "nope")'
is "$OUT" $'2\tnil\tno help for \'nope\' (help() lists what there is)' \
	'help "nope" prints nothing and returns nil and the message'
lua 'print(help(print))'
like "$OUT" "^nil	no help for 'function: [^']*' \\(help\\(\\) lists what there is\\)$" \
	"a function that is not in ct is not known either"
lua 'print(pcall(help, 42)); print(pcall(help, {}))'
is "$OUT" "false	bad argument #1 to 'ct.help' (function or string expected, got number)
false	bad argument #1 to 'ct.help' (function or string expected, got table)" \
	"any other argument is misuse"

# --- where the text goes --------------------------------------------------------------------

lua 'local got = {}
io.write = function(...) for _, s in ipairs{...} do got[#got + 1] = s end end
help "mode"
io.stdout:write("[", table.concat(got), "]")'
like "$OUT" $'^\\[ct\\.mode\\(\\[mode\\]\\).*\n\\]$' \
	"help writes through io.write as it is at the call"
lua "io.output('$TMP/out'); help 'budget'; io.output():close(); io.output(io.stdout)
io.write((assert(io.open('$TMP/out')):read('a')))"
like "$OUT" '^ct\.budget\(\[ms\]\) → ms' "so io.output() redirects it"

# --- the reference's examples ---------------------------------------------------------------

noex=
while IFS= read -r h; do
	key=${h#'## `'}			# ct.rule{...}` → id | ...
	rest=${key#*[(\{\`]}
	key=${key%"$rest"}			# ct.rule{
	[[ -n "$(example "$key")" ]] || noex+="${key%?} "
done <<<"$headings"
is "$noex" "" "every ct function's section has a lua example"

# Each ```lua block of the reference, as a file of its own.
api | awk -v dir="$TMP" '
	/^```lua/ { f = sprintf("%s/ex%02d.lua", dir, ++n); next }
	/^```/ { f = ""; next }
	f != "" { print > f }'
bad=
blocks=("$TMP"/ex*.lua)
for f in "${blocks[@]}"; do
	lua5.4 -e "assert(loadfile('$f'))" >/dev/null 2>&1 || bad+="$(head -1 "$f") "
done
is "$bad" "" "every lua example of doc/api.md compiles (${#blocks[@]} blocks)"

# Those that need no root and load nothing run as they are.
for key in 'ct.tuple{' 'ct.explain(' 'ct.version`' 'ct.kernel('; do
	name=${key%?}
	if [[ "$name" == ct.kernel && ! -r /sys/kernel/btf/vmlinux ]]; then
		skip "the ct.kernel example needs /sys/kernel/btf/vmlinux"
		continue
	fi
	code=$(example "$key")
	out=$("$CTLUA" -e "$code" 2>&1 >/dev/null)
	is "$?:$out" "0:" "the $name example runs in ctlua without an error"
done
code=$(example 'help(')
OUT=$(lua5.4 -e "ct = require 'ct'; help = require 'ct.help'; $code" 2>&1)
is "$?" 0 "the help example runs in stock Lua with help from ct.so"

# --- the man page ---------------------------------------------------------------------------

MAN=build/ctlua.1
[[ -f "$MAN" ]]
ok $? "make built the man page $MAN from doc/ctlua.1.in and doc/api.md"
is "$(grep -c '^\.\\" @API@' "$MAN")" 0 "the template's @API@ line was replaced"
is "$(LC_ALL=C grep -c '[^ -~	]' "$MAN")" 0 "the page is plain ASCII (UTF-8 became groff's \\[uXXXX])"
if command -v groff >/dev/null 2>&1; then
	warn=$(groff -man -Tutf8 -ww -z "$MAN" 2>&1)
	is "$warn" "" "groff -man -ww reads it without a warning"
	# wide lines, so that no heading wraps; the overstrikes of bold removed
	page=$(groff -man -Tutf8 -rLL=250n "$MAN" 2>/dev/null | sed 's/.\x08//g')
	missing=
	while IFS= read -r h; do
		sig=${h#'## '}
		sig=${sig//\`/}
		grep -qxF "   $sig" <<<"$page" || missing+="$sig"$'\n'
	done <<<"$headings"
	is "$missing" "" "every function of doc/api.md is a subsection of the man page's LUA API"
	like "$page" $'\nLUA API\n.*\n   Conventions\n.*\n   Event fields\n.*\nEXIT STATUS\n' \
		"between the template's DESCRIPTION and EXIT STATUS, topics included"
	api=$(sed -n '/^LUA API$/,/^EXIT STATUS$/p' <<<"$page")
	# shellcheck disable=SC2016 # backticks, literally
	unlike "$api" '```|`|\*\*|\\f|\]\(' "no markdown or troff escapes are left in its text"
	like "$api" $'\n {7}tuple, reply\n {14}the original and reply tuples' \
		"a table's rows are tagged paragraphs"
	like "$api" $'\n +local link <close> = assert\\(ct.attach\\("veth0"\\)\\) +-- ingress\n' \
		"a code block keeps its lines and spacing"
else
	skip "groff is not installed (groff-base)" 5
fi

# --- in ctlua -------------------------------------------------------------------------------

if [[ "$("$CTLUA" -e 'io.write(type(help))' 2>/dev/null)" == function ]]; then
	is "$("$CTLUA" -e 'help()')" "$list" "ctlua's global help() lists the same as ct.so's"
	is "$("$CTLUA" -e 'help(ct.alloc)')" "$alloc" \
		"and help(ct.alloc) finds the function in ctlua's ct"
else
	skip "this ctlua does not set a global help (ctl_open_help) for -e" 2
fi

done_testing
