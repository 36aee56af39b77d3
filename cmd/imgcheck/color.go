package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// colorFor decides --color: auto colours only a terminal, and only while
// NO_COLOR is unset or empty (https://no-color.org) and TERM is not
// "dumb"; always and never override.
func colorFor(mode string, stdout io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto", "":
		return os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb" && isTerminal(stdout), nil
	}
	return false, usagef("--color %q: want auto, always or never", mode)
}
