package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

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
// the one place where errors become exit codes: a usage error or an image
// that cannot be opened gives 2, a command's decided code passes through,
// anything else is reported on one line and gives 3.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root := newRootCmd(stdout, stderr)
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
		return report.ExitUsage
	}
	fmt.Fprintf(stderr, "imgcheck: %s\n", oneLine(err.Error()))
	if _, ok := errors.AsType[*usageError](err); ok || isCobraUsage(err) {
		fmt.Fprintln(stderr, "Run 'imgcheck --help' for usage.")
		return report.ExitUsage
	}
	return report.ExitError
}

// isCobraUsage recognises the errors cobra and pflag return for bad flags,
// arguments and commands; they carry no type of their own.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument",
		"invalid argument", "accepts ", "requires at least", "requires exactly", "if any flags in the group", "bad flag syntax"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
