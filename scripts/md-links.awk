# md-links.awk - one function that gen-help.awk and gen-man.awk share: markdown links
# as plain text. Give it to awk first: awk -f scripts/md-links.awk -f scripts/gen-X.awk
#
# [text](target) becomes "text (target)"; a link to a heading ([text](#anchor)), or one
# whose target is its text, becomes just "text".
function md_links(s,    text, target)
{
	while (match(s, /\[[^]]*\]\([^)]*\)/)) {
		text = substr(s, RSTART + 1, RLENGTH - 2)
		target = substr(text, index(text, "](") + 2)
		text = substr(text, 1, index(text, "](") - 1)
		if (target !~ /^#/ && target != text)
			text = text " (" target ")"
		s = substr(s, 1, RSTART - 1) text substr(s, RSTART + RLENGTH)
	}
	return s
}
