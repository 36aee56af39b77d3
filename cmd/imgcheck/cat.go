package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/imgcheck/imgcheck"
	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules/report"
)

// maxCat caps what cat prints.
const maxCat = 64 << 20

func newCatCmd(g *globalOptions) *cobra.Command {
	var oo imgcheck.Options
	cmd := &cobra.Command{
		Use:   "cat IMAGE PATH",
		Short: "Print a guest file (symlinks resolved inside the guest; secrets masked)",
		Long: "Print a guest file. Symlinks are resolved inside the guest. Like every imgcheck output,\n" +
			"password hashes, private keys, API tokens and URL passwords are masked. At most 64 MiB is printed.",
		Args: targetArgs(g, 2, "IMAGE PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withGuest(cmd.Context(), g, args, oo, func(gu *fsinspect.Guest, name string) error {
				f, err := gu.Open(name)
				if err != nil {
					return err
				}
				defer f.Close()
				if st, err := f.Stat(); err == nil && st.IsDir() {
					return fmt.Errorf("/%s: is a directory", name)
				}
				data, err := io.ReadAll(io.LimitReader(f, maxCat+1))
				if err != nil {
					return err
				}
				if len(data) > maxCat {
					return fmt.Errorf("/%s: larger than %d bytes", name, maxCat)
				}
				_, err = io.WriteString(g.stdout, report.Redact(string(data)))
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&oo.AllowBacking, "allow-backing", false, "follow qcow2 backing files")
	return cmd
}
