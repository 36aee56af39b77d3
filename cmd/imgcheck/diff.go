package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imgcheck/imgcheck"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/facts"
	"github.com/imgcheck/imgcheck/rules/report"
)

// snapshot is what diff compares of one image.
type snapshot struct {
	accounts map[string]string // name -> "uid N"
	keys     map[string]string // "fingerprint path" -> rule
	packages map[string]string // name[:arch] -> version
	findings map[string]string // rule|subject|level -> message
	family   string            // "deb", "rpm" or "" when unknown
	os       string            // the OS as reports name it
	kernels  string            // versions of the kernels in /boot, sorted
}

// diffDoc is the result of `imgcheck diff`, also its JSON form.
type diffDoc struct {
	Old, New         string      `json:"-"`
	AccountsAdded    []string    `json:"accounts_added"`
	AccountsRemoved  []string    `json:"accounts_removed"`
	KeysAdded        []string    `json:"keys_added"`
	KeysRemoved      []string    `json:"keys_removed"`
	PackagesAdded    []string    `json:"packages_added"`
	PackagesRemoved  []string    `json:"packages_removed"`
	PackagesChanged  []pkgChange `json:"packages_changed"`
	OS               *change     `json:"os,omitempty"`
	Kernels          *change     `json:"kernels,omitempty"`
	PackageCount     *change     `json:"package_count,omitempty"`
	FindingsAppeared []string    `json:"findings_appeared"`
	FindingsFixed    []string    `json:"findings_fixed"`
	Errors           []string    `json:"errors,omitempty"`
	// NewFail is set when the new image has a FAIL the old one did not:
	// diff then exits 1.
	NewFail          bool `json:"new_fail"`
	oldSnap, newSnap *snapshot
}

// change is a value that differs between the two images.
type change struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// changed returns the change from old to new, nil when they are equal.
func changed(old, new string) *change {
	if old == new {
		return nil
	}
	return &change{old, new}
}

type pkgChange struct {
	Name string `json:"name"`
	Old  string `json:"old"`
	New  string `json:"new"`
	// Change is "upgraded", "downgraded" or "changed" (the versions do not
	// compare, or the family is unknown).
	Change string `json:"change"`
}

// versionChange compares two package versions of a family's scheme.
func versionChange(family, old, new string) string {
	c, _ := facts.CompareVersions(facts.Family(family), new, old)
	switch {
	case c > 0:
		return "upgraded"
	case c < 0:
		return "downgraded"
	}
	return "changed"
}

func newDiffCmd(g *globalOptions) *cobra.Command {
	var asJSON bool
	var oo imgcheck.Options
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Show what changed between two versions of an image: OS, kernels, accounts, keys, packages, findings",
		Long: "Show what changed between two versions of an image: OS, kernels, package count, accounts, keys,\n" +
			"packages, findings. OLD and NEW may be images or guest root directories; --root DIR stands for OLD.\n\n" +
			"Exit status: 0, or 1 when NEW has a FAIL that OLD did not, or 3 when an image could not be read.",
		Args: targetArgs(g, 2, "OLD NEW"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if g.root != "" {
				args = append([]string{g.root}, args...)
			}
			return runDiff(cmd.Context(), g, args[0], args[1], oo, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&oo.AllowBacking, "allow-backing", false, "follow qcow2 backing files")
	cmd.Flags().StringVar(&oo.TempDir, "tmpdir", "", tmpdirHelp)
	return cmd
}

func runDiff(ctx context.Context, g *globalOptions, oldPath, newPath string, oo imgcheck.Options, asJSON bool) error {
	sel, err := imgcheck.Select(rules.Marketplace, nil, nil)
	if err != nil {
		return err
	}
	sel.Options.MaxRPMDB = g.limits.rpmDB
	oo = g.openOptions(oo)
	d := &diffDoc{Old: imgcheck.DisplayName(oldPath), New: imgcheck.DisplayName(newPath)}
	// Each image has its own --timeout budget.
	if err := within(ctx, g, oldPath, func(ctx context.Context) (err error) {
		d.oldSnap, err = takeSnapshot(ctx, oldPath, oo, sel, d)
		return err
	}); err != nil {
		return err
	}
	if err := within(ctx, g, newPath, func(ctx context.Context) (err error) {
		d.newSnap, err = takeSnapshot(ctx, newPath, oo, sel, d)
		return err
	}); err != nil {
		return err
	}
	d.compare()
	if asJSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(d); err != nil {
			return err
		}
	} else if err := d.text(g.stdout); err != nil {
		return err
	}
	switch {
	case d.NewFail:
		return &exitError{report.ExitFail}
	case len(d.Errors) > 0:
		return &exitError{report.ExitError}
	}
	return nil
}

// takeSnapshot scans one image and collects what diff compares. Facts
// that cannot be read are recorded in d.Errors, never silently empty.
func takeSnapshot(ctx context.Context, path string, oo imgcheck.Options, sel imgcheck.Selection, d *diffDoc) (*snapshot, error) {
	oo.Root = false
	if !imgcheck.IsRemote(path) {
		st, err := os.Stat(path)
		if err != nil {
			return nil, &imgcheck.OpenError{Path: path, Err: err}
		}
		oo.Root = st.IsDir()
	}
	t, err := imgcheck.Open(ctx, path, oo)
	if err != nil {
		return nil, targetError(path, err)
	}
	defer t.Close()
	s := &snapshot{accounts: map[string]string{}, keys: map[string]string{}, packages: map[string]string{}, findings: map[string]string{}}
	fail := func(what string, err error) {
		d.Errors = append(d.Errors, fmt.Sprintf("%s: %s: %v", t.Name(), what, err))
	}
	o := sel.Options
	if t.Guest() == nil {
		fail("guest", t.GuestErr())
	} else {
		facts := rules.NewFacts(t.Guest(), &o)
		if fam, err := facts.Family(); err == nil {
			s.family = string(fam)
		}
		if a, err := facts.Accounts(); err != nil {
			fail("accounts", err)
		} else {
			for _, u := range a.Users {
				s.accounts[u.Name] = fmt.Sprintf("uid %d", u.UID)
			}
		}
		if db, err := facts.Packages(); err != nil {
			fail("packages", err)
		} else {
			for _, p := range db.Packages {
				if p.Installed() {
					name := p.Name
					if slices.Contains(db.ForeignArch, p.Arch) {
						name += ":" + p.Arch
					}
					s.packages[name] = p.Version
				}
			}
		}
	}
	res := imgcheck.Scan(ctx, t, sel)
	s.os = osText(res.OS)
	if g := t.Guest(); g != nil {
		if ents, err := g.ReadDir("boot"); err == nil {
			var ks []string
			for _, e := range ents {
				if v, ok := strings.CutPrefix(e.Name(), "vmlinuz-"); ok {
					ks = append(ks, v)
				}
			}
			slices.Sort(ks)
			s.kernels = strings.Join(ks, " ")
		}
	}
	for _, r := range res.Results {
		for _, f := range r.Findings {
			if fp := f.Get(rules.KeyFingerprint); fp != "" {
				s.keys[fp+" "+cmp.Or(f.Get(rules.KeyPath), f.Subject)] = f.Rule
			}
			if f.Level == rules.Warn || f.Level == rules.Fail || f.Level == rules.Error {
				s.findings[f.Rule+"|"+f.Subject+"|"+f.Level.String()] = f.Message
			}
		}
	}
	return s, nil
}

func (d *diffDoc) compare() {
	o, n := d.oldSnap, d.newSnap
	d.AccountsAdded, d.AccountsRemoved = setDiff(o.accounts, n.accounts, func(k, v string) string { return k + " (" + v + ")" })
	d.KeysAdded, d.KeysRemoved = setDiff(o.keys, n.keys, func(k, v string) string { return k + " (" + v + ")" })
	d.PackagesAdded, d.PackagesRemoved = setDiff(o.packages, n.packages, func(k, v string) string { return k + " " + v })
	finding := func(k, v string) string {
		parts := strings.SplitN(k, "|", 3)
		return fmt.Sprintf("[%s] %s: %s", strings.ToUpper(parts[2]), parts[0], v)
	}
	d.FindingsAppeared, d.FindingsFixed = setDiff(o.findings, n.findings, finding)
	for name, ov := range o.packages {
		if nv, ok := n.packages[name]; ok && nv != ov {
			change := "changed"
			if o.family == n.family {
				change = versionChange(n.family, ov, nv)
			}
			d.PackagesChanged = append(d.PackagesChanged, pkgChange{name, ov, nv, change})
		}
	}
	slices.SortFunc(d.PackagesChanged, func(a, b pkgChange) int { return cmp.Compare(a.Name, b.Name) })
	d.OS = changed(o.os, n.os)
	d.Kernels = changed(o.kernels, n.kernels)
	d.PackageCount = changed(fmt.Sprint(len(o.packages)), fmt.Sprint(len(n.packages)))
	for k := range n.findings {
		if _, old := o.findings[k]; !old && strings.HasSuffix(k, "|fail") {
			d.NewFail = true
		}
	}
}

// osText names an OS in one line: its pretty name, else name and version.
func osText(o report.OS) string {
	return cmp.Or(o.PrettyName, strings.TrimSpace(o.Name+" "+o.VersionID))
}

// setDiff returns the keys only in b (added) and only in a (removed),
// formatted and sorted.
func setDiff(a, b map[string]string, format func(k, v string) string) (added, removed []string) {
	added, removed = []string{}, []string{}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			added = append(added, format(k, v))
		}
	}
	for k, v := range a {
		if _, ok := b[k]; !ok {
			removed = append(removed, format(k, v))
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed
}

// text writes the diff for a terminal: every value the images decide is
// escaped (report.Escape), so that a name cannot forge a line, and the
// whole is redacted.
func (d *diffDoc) text(w io.Writer) error {
	var b strings.Builder
	e := report.Escape
	head := fmt.Sprintf("--- %s\n+++ %s\n", e(d.Old), e(d.New))
	b.WriteString(head)
	for _, c := range []struct {
		name string
		c    *change
	}{{"OS", d.OS}, {"Kernels", d.Kernels}, {"Packages installed", d.PackageCount}} {
		if c.c != nil {
			fmt.Fprintf(&b, "\n%s: %s -> %s\n", c.name, e(cmp.Or(c.c.Old, "none")), e(cmp.Or(c.c.New, "none")))
		}
	}
	section := func(title string, plus, minus []string) {
		if len(plus)+len(minus) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s:\n", title)
		for _, s := range plus {
			fmt.Fprintf(&b, "  + %s\n", e(s))
		}
		for _, s := range minus {
			fmt.Fprintf(&b, "  - %s\n", e(s))
		}
	}
	section("Accounts", d.AccountsAdded, d.AccountsRemoved)
	section("Keys", d.KeysAdded, d.KeysRemoved)
	section("Packages", d.PackagesAdded, d.PackagesRemoved)
	if len(d.PackagesChanged) > 0 {
		b.WriteString("\nPackages changed:\n")
		for _, c := range d.PackagesChanged {
			fmt.Fprintf(&b, "  ~ %s %s -> %s (%s)\n", e(c.Name), e(c.Old), e(c.New), c.Change)
		}
	}
	section("Findings (+ appeared, - fixed)", d.FindingsAppeared, d.FindingsFixed)
	for _, err := range d.Errors {
		fmt.Fprintf(&b, "\nERROR: %s\n", oneLine(err))
	}
	if b.Len() == len(head) {
		b.WriteString("\nno differences\n")
	}
	_, err := io.WriteString(w, report.Redact(b.String()))
	return err
}
