package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/imgcheck/imgcheck"
	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules/report"
)

// maxCat caps what cat prints.
const maxCat = 64 << 20

// ctxReader stops reading when ctx ends: cat of a large file honours the
// --timeout budget between reads.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func newCatCmd(g *globalOptions) *cobra.Command {
	var oo imgcheck.Options
	cmd := &cobra.Command{
		Use:   "cat IMAGE PATH",
		Short: "Print a guest file (symlinks resolved inside the guest; secrets masked)",
		Long: "Print a guest file. Symlinks are resolved inside the guest. Like every imgcheck output,\n" +
			"password hashes, private keys, API tokens and URL passwords are masked. At most 64 MiB is printed.",
		Args: targetArgs(g, 2, "IMAGE PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withGuest(cmd.Context(), g, args, oo, func(ctx context.Context, gu *fsinspect.Guest, name string) error {
				f, err := gu.Open(name)
				if err != nil {
					return err
				}
				defer f.Close()
				st, err := f.Stat()
				switch {
				case err != nil:
					return err
				case st.IsDir():
					return fmt.Errorf("/%s: is a directory", report.Escape(name))
				case st.Size() > maxCat:
					return fmt.Errorf("/%s: larger than %d bytes", report.Escape(name), maxCat)
				}
				// Streamed through the redactor a line at a time: memory
				// stays flat whatever the file's size.
				return report.RedactStream(g.stdout, ctxReader{ctx, io.LimitReader(f, maxCat)})
			})
		},
	}
	cmd.Flags().BoolVar(&oo.AllowBacking, "allow-backing", false, "follow qcow2 backing files")
	return cmd
}
