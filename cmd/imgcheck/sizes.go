package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/imgcheck/imgcheck/rules"
)

// savedSizesFile is where `do sizes --save` keeps the catalogue, under the
// user's configuration directory ($XDG_CONFIG_HOME or ~/.config on Linux).
const savedSizesFile = "imgcheck/sizes.json"

// savedSizesPath is the saved catalogue's path, or "" when the system has
// no user configuration directory.
func savedSizesPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, savedSizesFile)
}

// loadSavedSizes reads the catalogue `do sizes --save` wrote. It returns
// ok false, and no error, when there is none.
func loadSavedSizes() (c rules.Catalogue, path string, ok bool, err error) {
	path = savedSizesPath()
	if path == "" {
		return c, "", false, nil
	}
	data, err := readCapped(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, path, false, nil
	}
	if err != nil {
		return c, path, false, err
	}
	c, err = rules.ParseCatalogue(data)
	return c, path, err == nil, err
}

// useSavedSizes hands a saved catalogue to the rules when neither --plans
// nor --do-image supplies plans. A saved file that cannot be read is not
// fatal: the scan warns, naming the file, and keeps the built-in catalogue.
func (o *scanOptions) useSavedSizes(ro *rules.Options) {
	if o.plans != "" || o.doImage != "" {
		return
	}
	c, path, ok, err := loadSavedSizes()
	if err != nil {
		fmt.Fprintf(o.stderr, "imgcheck: warning: saved Droplet sizes %s: %s; using the built-in catalogue of %s (run 'imgcheck do sizes --save' again, or delete the file)\n",
			path, oneLine(err.Error()), rules.BuiltinCatalogue().Taken)
		return
	}
	if !ok {
		return
	}
	ro.Plans, ro.PlanSource, ro.PlanTaken = c.Sizes, "saved catalogue "+path, c.Taken
	if c.Taken != "" {
		ro.PlanSource += " of " + c.Taken
	}
}

// doSizesOptions are the flags of `imgcheck do sizes`.
type doSizesOptions struct {
	*doOptions
	format string
	save   bool
}

// newDoSizesCmd builds `imgcheck do sizes`.
func newDoSizesCmd(d *doOptions) *cobra.Command {
	o := &doSizesOptions{doOptions: d}
	cmd := &cobra.Command{
		Use:   "sizes [--format text|json] [--save]",
		Short: "List the Droplet sizes the API offers; --save makes scans use them",
		Long: "List every available Droplet size (slug, vCPUs, memory, disk, monthly price) from the\n" +
			"DigitalOcean sizes API. --save also writes them, dated, to " + filepath.Join("$XDG_CONFIG_HOME", savedSizesFile) + ",\n" +
			"which disk.plans then uses instead of the built-in catalogue (--plans FILE and --do-image still win).\n\n" +
			"Exit status: 0 listed, 2 usage error (no token), 3 the API failed or the file could not be written.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return doSizesRun(cmd.Context(), o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "text", "output `FORMAT`: text (a table) or json (the saved file's content)")
	f.BoolVar(&o.save, "save", false, "also save the sizes for later scans")
	return cmd
}

func doSizesRun(ctx context.Context, o *doSizesOptions) error {
	format := strings.ToLower(o.format)
	if format != "text" && format != "json" {
		return usagef("--format %q: want text or json", o.format)
	}
	c, err := o.api.client()
	if err != nil {
		return err
	}
	ctx, cancel := o.api.bound(ctx)
	defer cancel()
	plans, err := c.Plans(ctx)
	if err != nil {
		return err
	}
	cat := rules.Catalogue{Taken: time.Now().UTC().Format(time.DateOnly), Source: planSourceAPI, Sizes: plans}
	if o.save {
		path, err := saveSizes(cat)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.stderr, "imgcheck: saved %d Droplet sizes to %s\n", len(plans), path)
	}
	if format == "json" {
		enc := json.NewEncoder(o.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(cat)
	}
	return writeSizesTable(o, cat)
}

// writeSizesTable prints the catalogue as a table, cheapest first.
func writeSizesTable(o *doSizesOptions, cat rules.Catalogue) error {
	w := bufio.NewWriter(o.stdout)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SLUG\tDESCRIPTION\tVCPUS\tMEMORY\tDISK\tPRICE/MONTH")
	for _, p := range cat.Sizes {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d MiB\t%d GB\t$%.2f\n", oneLine(p.Slug), orNone(oneLine(p.Description)), p.VCPUs, p.MemoryMiB, p.DiskGB, p.PriceUSD)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d sizes from the %s, %s\n", len(cat.Sizes), cat.Source, cat.Taken)
	return w.Flush()
}

// saveSizes writes the catalogue to savedSizesPath through a temporary
// file, so that a scan never reads half a file.
func saveSizes(cat rules.Catalogue) (string, error) {
	path := savedSizesPath()
	if path == "" {
		return "", errors.New("--save: no user configuration directory (set $XDG_CONFIG_HOME or $HOME)")
	}
	data, err := json.MarshalIndent(cat, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("--save: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".sizes-*.json")
	if err != nil {
		return "", fmt.Errorf("--save: %w", err)
	}
	_, err = tmp.Write(append(data, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("--save %s: %w", path, err)
	}
	return path, nil
}
