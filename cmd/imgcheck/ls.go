package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/imgcheck/imgcheck"
	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/rules/report"
)

func newLsCmd(g *globalOptions) *cobra.Command {
	var recursive bool
	var oo imgcheck.Options
	cmd := &cobra.Command{
		Use:   "ls [-R] IMAGE PATH",
		Short: "List a guest directory like ls -la (mode, uid, gid, size, mtime, name -> target)",
		Args:  targetArgs(g, 2, "IMAGE PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withGuest(cmd.Context(), g, args, oo, func(ctx context.Context, gu *fsinspect.Guest, name string) error {
				w := bufio.NewWriter(g.stdout)
				err := listDir(ctx, w, gu, name, recursive)
				if ferr := w.Flush(); err == nil {
					err = ferr
				}
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "R", false, "list subdirectories recursively (links are not followed)")
	cmd.Flags().BoolVar(&oo.AllowBacking, "allow-backing", false, "follow qcow2 backing files")
	return cmd
}

// withGuest opens the target named by args (or --root), turns the guest
// path argument into an fs.ValidPath name and calls fn, all within the
// --timeout budget; --stats prints the read counters afterwards.
func withGuest(ctx context.Context, g *globalOptions, args []string, oo imgcheck.Options, fn func(context.Context, *fsinspect.Guest, string) error) error {
	target := targetPath(g, args)
	return within(ctx, g, target, func(ctx context.Context) error { return openGuest(ctx, g, target, args, oo, fn) })
}

// within runs fn under the --timeout budget of one image: a timeout is
// an error naming the image.
func within(ctx context.Context, g *globalOptions, target string, fn func(context.Context) error) error {
	err := imgcheck.Within(ctx, g.timeout, fn)
	if _, ok := err.(*imgcheck.TimeoutError); ok {
		return fmt.Errorf("%s: %w", imgcheck.DisplayName(target), err)
	}
	return err
}

func openGuest(ctx context.Context, g *globalOptions, target string, args []string, oo imgcheck.Options, fn func(context.Context, *fsinspect.Guest, string) error) error {
	start := time.Now()
	t, err := imgcheck.Open(ctx, target, g.openOptions(oo))
	if err != nil {
		return targetError(target, err)
	}
	defer t.Close()
	if t.Guest() == nil {
		return fmt.Errorf("%s: %w", t.Name(), t.GuestErr())
	}
	name := guestName(args[len(args)-1])
	err = fn(ctx, t.Guest(), name)
	if g.stats {
		printStats(g.stderr, t.Name(), t.Stats(time.Since(start)))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", t.Name(), err)
	}
	return nil
}

// guestName turns "/etc/passwd", "etc/passwd" or "/" into an fs.ValidPath
// name; ".." cannot climb above the guest root.
func guestName(p string) string {
	c := path.Clean("/" + p)
	if c == "/" {
		return "."
	}
	return strings.TrimPrefix(c, "/")
}

// listDir lists the guest directory name like ls -la, or with recursive
// every directory below it too, like ls -laR: each directory's listing,
// then those of its subdirectories in order (fsinspect.Guest.WalkDir, so
// a directory hard-linked in several places is listed but entered once).
// A name that is not a directory gives its own line. It stops when ctx
// ends.
func listDir(ctx context.Context, w io.Writer, g *fsinspect.Guest, name string, recursive bool) error {
	fi, err := g.Lstat(name)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return lsLine(w, g, name, fi, report.Escape("/"+strings.TrimPrefix(name, ".")))
	}
	if !recursive {
		return listEntries(w, g, name)
	}
	first := true
	return g.WalkDir(name, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !first {
			fmt.Fprintln(w)
		}
		first = false
		fmt.Fprintf(w, "%s:\n", report.Escape("/"+strings.TrimPrefix(p, ".")))
		return listEntries(w, g, p)
	})
}

// listEntries writes one line per entry of the guest directory name.
func listEntries(w io.Writer, g *fsinspect.Guest, name string) error {
	entries, err := g.ReadDir(name)
	if err != nil {
		return err
	}
	for _, e := range entries {
		child := path.Join(name, e.Name())
		info, err := g.Lstat(child)
		if err != nil {
			fmt.Fprintf(w, "?????????? %s (%s)\n", report.Redact(report.Escape(e.Name())), report.Redact(report.Escape(err.Error())))
			continue
		}
		if err := lsLine(w, g, child, info, report.Escape(e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// lsLine prints one entry: mode, uid, gid, size, mtime (UTC), the name
// as shown (escaped by the caller) and, for a symlink, its target, escaped;
// the line is redacted (a name may look like a hash or a token).
func lsLine(w io.Writer, g *fsinspect.Guest, name string, fi fs.FileInfo, shown string) error {
	uid, gid := "-", "-"
	if st, ok := fi.Sys().(*fsinspect.Stat); ok {
		uid, gid = fmt.Sprint(st.Uid), fmt.Sprint(st.Gid)
	}
	line := fmt.Sprintf("%s %5s %5s %10d %s %s", modeString(fi.Mode()), uid, gid, fi.Size(), fi.ModTime().UTC().Format("2006-01-02 15:04"), shown)
	if fi.Mode()&fs.ModeSymlink != 0 {
		if target, err := g.ReadLink(name); err == nil {
			line += " -> " + report.Escape(target)
		}
	}
	_, err := fmt.Fprintln(w, report.Redact(line))
	return err
}

// modeString renders a mode the way ls does: "drwxrwxrwt", "-rwsr-xr-x".
func modeString(m fs.FileMode) string {
	b := []byte("----------")
	switch {
	case m.IsDir():
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	case m&fs.ModeNamedPipe != 0:
		b[0] = 'p'
	case m&fs.ModeSocket != 0:
		b[0] = 's'
	case m&fs.ModeCharDevice != 0:
		b[0] = 'c'
	case m&fs.ModeDevice != 0:
		b[0] = 'b'
	}
	const rwx = "rwxrwxrwx"
	for i := range 9 {
		if m&(1<<(8-i)) != 0 {
			b[i+1] = rwx[i]
		}
	}
	special := func(pos int, set bool, on, off byte) {
		if set {
			if b[pos] == '-' {
				b[pos] = off
			} else {
				b[pos] = on
			}
		}
	}
	special(3, m&fs.ModeSetuid != 0, 's', 'S')
	special(6, m&fs.ModeSetgid != 0, 's', 'S')
	special(9, m&fs.ModeSticky != 0, 't', 'T')
	return string(b)
}
