package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/imgcheck/imgcheck"
	"github.com/imgcheck/imgcheck/rules/report"
)

// infoDoc is `imgcheck info --json`: what the disk holds, no rules.
type infoDoc struct {
	Path           string              `json:"path"`
	Container      []report.Layer      `json:"container"`
	VirtualSize    int64               `json:"virtual_size,omitempty"`
	AllocatedSize  int64               `json:"allocated_size,omitempty"`
	PartitionTable *report.Table       `json:"partition_table,omitempty"`
	Filesystems    []report.Filesystem `json:"filesystems"`
	RootFilesystem string              `json:"root_filesystem,omitempty"`
	RootError      string              `json:"root_error,omitempty"`
	OS             report.OS           `json:"os"`
	Fstab          []infoFstab         `json:"fstab,omitempty"`
	VolumeGroups   []infoVG            `json:"volume_groups,omitempty"`
	Stats          *infoStats          `json:"stats,omitempty"`
	fsNames        []string            // "partition 2", "LV vg/root", beside Filesystems
}

type infoStats struct {
	BytesRead int64   `json:"bytes_read"`
	ReadCalls int64   `json:"read_calls"`
	Seconds   float64 `json:"seconds"`
}

type infoFstab struct {
	Spec    string `json:"spec"`
	File    string `json:"file"`
	Type    string `json:"type"`
	Options string `json:"options,omitempty"`
}

func newInfoCmd(g *globalOptions) *cobra.Command {
	var asJSON bool
	var oo imgcheck.Options
	cmd := &cobra.Command{
		Use:   "info [--json] IMAGE",
		Short: "Describe an image: containers, sizes, partitions, filesystems, OS and fstab",
		Args:  targetArgs(g, 1, "IMAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := targetPath(g, args)
			return within(cmd.Context(), g, target, func(ctx context.Context) error { return runInfo(ctx, g, target, oo, asJSON) })
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&oo.AllowBacking, "allow-backing", false, "follow qcow2 backing files")
	cmd.Flags().StringVar(&oo.TempDir, "tmpdir", "", tmpdirHelp)
	return cmd
}

// targetPath is the image argument, or the --root directory.
func targetPath(g *globalOptions, args []string) string {
	if g.root != "" {
		return g.root
	}
	return args[0]
}

func runInfo(ctx context.Context, g *globalOptions, path string, oo imgcheck.Options, asJSON bool) error {
	start := time.Now()
	t, err := imgcheck.Open(ctx, path, g.openOptions(oo))
	if err != nil {
		return targetError(path, err)
	}
	defer t.Close()
	im := t.Describe()
	doc := infoDoc{Path: t.Name(), Container: im.Container, VirtualSize: im.VirtualSize, PartitionTable: im.Table, Filesystems: im.Filesystems}
	if im.AllocatedSize > 0 {
		doc.AllocatedSize = im.AllocatedSize
	}
	if err := t.GuestErr(); err != nil {
		doc.RootError = err.Error()
	}
	if t.Guest() != nil {
		doc.OS = im.OS
		doc.RootFilesystem = "/"
	}
	if l := t.Layout(); l != nil {
		if l.Root >= 0 {
			fi := l.Filesystems[l.Root]
			doc.RootFilesystem = fmt.Sprintf("%s (%s)", fi.Name(), fi.Type)
		}
		for _, fi := range l.Filesystems {
			doc.fsNames = append(doc.fsNames, fi.Name())
		}
		doc.VolumeGroups = infoVolumeGroups(l)
		for _, e := range l.Fstab {
			// CIFS and SMB options may carry a password (password=,
			// pass=, username=user%password): masked in text and JSON.
			doc.Fstab = append(doc.Fstab, infoFstab{Spec: report.Redact(e.Spec), File: e.File, Type: e.Type, Options: report.Redact(e.Options)})
		}
	}
	st := t.Stats(time.Since(start))
	if g.stats {
		printStats(g.stderr, t.Name(), st)
		if asJSON {
			doc.Stats = &infoStats{BytesRead: st.BytesRead, ReadCalls: st.ReadCalls, Seconds: st.Duration.Seconds()}
		}
	}
	if asJSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	return infoText(g.stdout, &doc)
}

func infoText(out io.Writer, d *infoDoc) error {
	w := bufio.NewWriter(out)
	escapedf(w, "Image:       %s\n", d.Path)
	for i, l := range d.Container {
		label := "Container:"
		if i > 0 {
			label = "  inside:"
		}
		escapedf(w, "%-12s %s\n", label, layerText(l))
	}
	if d.VirtualSize > 0 {
		escapedf(w, "Virtual:     %s\n", sizeText(d.VirtualSize))
	}
	if d.AllocatedSize > 0 {
		escapedf(w, "Allocated:   %s\n", sizeText(d.AllocatedSize))
	}
	if t := d.PartitionTable; t != nil {
		escapedf(w, "Table:       %s", t.Scheme)
		if t.SectorSize > 0 {
			escapedf(w, ", %d-byte sectors", t.SectorSize)
		}
		if t.DiskGUID != "" {
			escapedf(w, ", disk %s", t.DiskGUID)
		}
		fmt.Fprintln(w)
		for _, p := range t.Partitions {
			escapedf(w, "  %d  start %d  size %s  %s", p.Index, p.Start, sizeText(p.Size), p.Type)
			if p.Name != "" {
				fmt.Fprintf(w, "  %q", p.Name)
			}
			fmt.Fprintln(w)
		}
		for _, n := range t.Notes {
			escapedf(w, "  note: %s\n", n)
		}
	}
	for i, f := range d.Filesystems {
		name := fmt.Sprintf("partition %d", f.Partition)
		if i < len(d.fsNames) {
			name = d.fsNames[i]
		}
		escapedf(w, "Filesystem:  %s: %s", name, dashIfEmpty(f.Type))
		if f.UUID != "" {
			escapedf(w, " uuid=%s", f.UUID)
		}
		if f.Label != "" {
			fmt.Fprintf(w, " label=%q", f.Label)
		}
		if f.Mountpoint != "" {
			escapedf(w, " on %s", f.Mountpoint)
		}
		if f.Free > 0 {
			escapedf(w, ", %s free", sizeText(f.Free))
		}
		if f.Error != "" {
			escapedf(w, " (%s)", f.Error)
		}
		fmt.Fprintln(w)
	}
	volumeGroupsText(w, d.VolumeGroups)
	if d.RootFilesystem != "" {
		escapedf(w, "Root:        %s\n", d.RootFilesystem)
	}
	if d.RootError != "" {
		escapedf(w, "Root:        none: %s\n", d.RootError)
	}
	if d.OS.Name != "" || d.OS.PrettyName != "" {
		name := d.OS.PrettyName
		if name == "" { // no os-release: the name the release chain found
			name = d.OS.Name
		}
		escapedf(w, "OS:          %s (ID=%s VERSION_ID=%s, family %s)\n", name, d.OS.ID, d.OS.VersionID, dashIfEmpty(d.OS.Family))
	}
	for _, e := range d.Fstab {
		escapedf(w, "fstab:       %s on %s type %s (%s)\n", e.Spec, e.File, e.Type, e.Options)
	}
	return w.Flush()
}

// escapedf is fmt.Fprintf with every string argument escaped
// (report.Escape) and redacted (report.Redact): the guest decides labels,
// names, os-release fields and fstab lines.
func escapedf(w io.Writer, format string, a ...any) {
	for i, v := range a {
		switch v := v.(type) {
		case string:
			a[i] = report.Redact(report.Escape(v))
		case fmt.Stringer:
			a[i] = report.Redact(report.Escape(v.String()))
		}
	}
	fmt.Fprintf(w, format, a...)
}

// layerText describes one container: "qcow2 v3, zlib, cluster 64 KiB, file
// 1245184 bytes".
func layerText(l report.Layer) string {
	s := l.Format
	switch {
	case strings.HasPrefix(l.Detail, l.Format):
		s = l.Detail
	case l.Detail != "":
		s += " (" + l.Detail + ")"
	}
	if l.FileSize > 0 {
		s += fmt.Sprintf(", file %d bytes", l.FileSize)
	}
	return s
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// sizeText prints bytes, GB and GiB.
func sizeText(n int64) string {
	return fmt.Sprintf("%d bytes (%.2f GB, %.2f GiB)", n, float64(n)/1e9, float64(n)/(1<<30))
}

// targetError turns a failure to open a target for info, ls, cat and diff
// into the error run maps to an exit code: 2 when the file would not open,
// 3 with the one-line reason otherwise.
func targetError(path string, err error) error {
	if _, ok := err.(*imgcheck.OpenError); ok {
		return err
	}
	return fmt.Errorf("%s: %w", imgcheck.DisplayName(path), err)
}
