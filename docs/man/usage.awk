# provmark's usage lines as help2man reads them: "Usage:" first, "  or:" for each other
# form, a form continued on the next lines joined into one line; the rest as it is.
body { print; next }
NF == 0 { if (line != "") print line; body = 1; print; next }
sub(/^usage:/, "Usage:") { line = $0; next }
/^ +provmark / { print line; sub(/^ +/, "  or:  "); line = $0; next }
{ sub(/^ +/, " "); line = line $0 }
END { if (!body && line != "") print line }
