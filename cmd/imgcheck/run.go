package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/imgcheck/imgcheck"
	"github.com/imgcheck/imgcheck/rules/report"
)

// usageError is a bad invocation: exit 2, usage hint on stderr.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return &usageError{fmt.Errorf(format, a...)} }

// exitError carries a decided exit code out of a command; its message,
// when not empty, has already been printed.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// run executes the command line and returns the process exit status. It is
// the one place where errors become exit codes: a usage error (a bad
// flag, argument or subcommand: anything that fails before a command's
// own code runs) gives 2, a command's decided code passes through, and
// anything else, an image that cannot be opened included, is reported on
// one line naming it and gives 3. Errors are told apart by type, never by
// their text, which may quote the image.
//
// SIGINT and SIGTERM cancel the command's context: scans in progress stop
// with an error (exit 3) and their temporary files are removed.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, g := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return report.ExitOK
	}
	if ee, ok := errors.AsType[*exitError](err); ok {
		return ee.code
	}
	if oe, ok := errors.AsType[*imgcheck.OpenError](err); ok {
		fmt.Fprintf(stderr, "imgcheck: %s: %s\n", oe.Path, oneLine(oe.Err.Error()))
		return report.ExitError
	}
	fmt.Fprintf(stderr, "imgcheck: %s\n", oneLine(err.Error()))
	if _, ok := errors.AsType[*usageError](err); ok || !g.started {
		fmt.Fprintln(stderr, "Run 'imgcheck --help' for usage.")
		return report.ExitUsage
	}
	return report.ExitError
}

func oneLine(s string) string { return report.Escape(strings.Join(strings.Fields(s), " ")) }
