package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/imgcheck/imgcheck"
)

// globalOptions are the flags every verb accepts.
type globalOptions struct {
	root  string // --root DIR: scan a directory tree instead of an image
	stats bool   // --stats: time and read counters on stderr
	// timeout is --timeout, every verb's time budget per image.
	timeout time.Duration
	limits  limits // --limit NAME=VALUE, repeatable
	remote  imgcheck.RemoteOptions
	stdout  io.Writer
	stderr  io.Writer
	// started is set once a command's own code runs: an error before
	// that came from parsing the command line, a usage error.
	started bool
}

// newRootCmd builds the command tree. Output goes to stdout and stderr
// only; nothing below run calls os.Exit.
func newRootCmd(stdout, stderr io.Writer) (*cobra.Command, *globalOptions) {
	g := &globalOptions{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "imgcheck",
		Short: "Audit DigitalOcean Marketplace disk images offline",
		Long: "imgcheck reads raw and qcow2 disk images (MBR, GPT or a bare filesystem) and the ext4\n" +
			"filesystem inside, without mounting or booting them, and reports what DigitalOcean's\n" +
			"img_check.sh and cleanup.sh care about.",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	addVersionFlag(root)
	root.PersistentFlags().StringVar(&g.root, "root", "", "scan the directory `DIR` as the guest root instead of an image")
	addRemoteFlags(root.PersistentFlags(), &g.remote)
	root.PersistentFlags().DurationVar(&g.timeout, "timeout", imgcheck.DefaultTimeout, "give up on an image after `DURATION` (e.g. 2m); 0 for no limit")
	root.PersistentFlags().BoolVar(&g.stats, "stats", false, "print time, bytes read, read calls and cache hit rate on stderr")
	root.PersistentFlags().Var(&g.limits, "limit", limitHelp())
	root.AddCommand(
		newScanCmd(g, nil),
		newInfoCmd(g),
		newLsCmd(g),
		newCatCmd(g),
		newRulesCmd(g),
		newDiffCmd(g),
		newDoCmd(g),
		newVersionCmd(g),
		newReportCmd(g),
		newWaiversCmd(g),
	)
	requireSubcommands(root)
	markStarts(root, g)
	return root, g
}

// targetArgs validates the positional arguments of a verb that takes n
// targets, where --root replaces the first (image) argument.
func targetArgs(g *globalOptions, n int, names string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		want := n
		if g.root != "" {
			want--
		}
		if len(args) != want {
			if g.root != "" {
				return usagef("with --root, expected %d argument(s) (%s without the image), got %d", want, names, len(args))
			}
			return usagef("expected %d argument(s) (%s), got %d", want, names, len(args))
		}
		return nil
	}
}

// openOptions completes o, a verb's image flags, with the global ones:
// --root, --limit and the remote image flags.
func (g *globalOptions) openOptions(o imgcheck.Options) imgcheck.Options {
	o.Root = g.root != ""
	o.Remote = g.remote
	if o.Remote.Retries == 0 {
		o.Remote.Retries = -1 // --remote-retries 0: none (0 is the library's default)
	}
	o.Limits = g.limits.imageLimits()
	o.Guest = g.limits.guestOptions()
	return o
}

// markStarts wraps the RunE of cmd and its subcommands so that g.started
// is set when a command's own code runs, after cobra has parsed and
// validated the command line (flags, flag groups, arguments).
func markStarts(cmd *cobra.Command, g *globalOptions) {
	for _, c := range cmd.Commands() {
		markStarts(c, g)
	}
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(c *cobra.Command, args []string) error {
			g.started = true
			return run(c, args)
		}
	}
}

// requireSubcommands makes every command that has subcommands and no
// action of its own refuse an unknown one: a usage error naming it, with
// cobra's suggestions, instead of help and exit 0. Without arguments it
// prints its help.
func requireSubcommands(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		requireSubcommands(c)
	}
	if !cmd.HasSubCommands() || cmd.RunE != nil {
		return
	}
	cmd.SuggestionsMinimumDistance = 2
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return usagef("%s", msg)
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
}
