package main

import (
	"context"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/imgcheck/imgcheck"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/report"
)

// scanOptions are the flags of `imgcheck scan`.
type scanOptions struct {
	*globalOptions
	images        []string
	profile       string
	formats       []string
	failOn        string
	jobs          int
	from          string
	outputDir     string
	resume        bool
	shard         string
	shardCount    int
	stdin         io.Reader
	waivers       string
	enable        []string
	disable       []string
	strict        bool
	aptLists      string
	rpmUpdateInfo string
	minDisk       string
	plans         string
	planUnit      string
	hash          bool
	color         string
	showContents  bool
	verbose       bool
	quiet         bool
	sarifAll      bool
	allowBacking  bool
	tmpDir        string
	maxExpand     string
	doImage       string     // --do-image ID: cross-check against the DigitalOcean API (do.go)
	api           apiOptions // --token-file, --api-url
}

// tmpdirHelp is the usage of --tmpdir, in every verb that may write
// temporary files.
const tmpdirHelp = "`DIR` for temporary files: expanded compressed images"

// newScanCmd builds `imgcheck scan`. runF, when not nil, replaces the scan
// itself, so flag tests can capture the parsed options.

func newScanCmd(g *globalOptions, runF func(context.Context, *scanOptions) error) *cobra.Command {
	o := &scanOptions{globalOptions: g, stdin: os.Stdin}
	cmd := &cobra.Command{
		Use:   "scan [flags] IMAGE... | --root DIR",
		Short: "Check images for Marketplace compliance",
		Long: "Check images for Marketplace compliance and report the findings.\n\n" +
			"Exit status: 0 nothing at or above the fail level, 1 a FAIL (or a WARN with --fail-on warn),\n" +
			"2 usage error, 3 an image could not be opened or read, or a rule errored.",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.images = args
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runScan(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.profile, "profile", string(rules.Marketplace), "rule profile `NAME`: marketplace or img_check")
	f.StringArrayVar(&o.formats, "format", nil, "output `FORMAT[=FILE]`: text, json, jsonl (a line per image as it ends), sarif or junit; repeatable (default text on stdout)")
	f.StringVar(&o.failOn, "fail-on", "fail", "lowest `LEVEL` that fails the scan: fail or warn")
	f.IntVarP(&o.jobs, "jobs", "j", 1, "scan `N` images in parallel")
	f.StringVar(&o.from, "from", "", "read image paths from `FILE` (- for stdin, or s3://bucket/key), one per line")
	f.StringVar(&o.outputDir, "output-dir", "", "write a report per image and format, and batch files, into `DIR` or s3://bucket/prefix; stdout gets the summary table")
	f.BoolVar(&o.resume, "resume", false, "with --output-dir, skip images whose JSONL result is already there for the same size and ETag (or modification time)")
	f.StringVar(&o.shard, "shard", "", "scan only shard `I/N` of the list (0 <= I < N; each image belongs to one shard, by a hash of its name)")
	f.IntVar(&o.shardCount, "shard-count", 0, "split the list into `N` shards and scan the one of JOB_COMPLETION_INDEX (a Kubernetes Indexed Job; or IMGCHECK_SHARD_COUNT)")
	f.StringVar(&o.waivers, "waivers", "", "accept known findings listed in the YAML `FILE`")
	f.StringArrayVar(&o.enable, "enable-rule", nil, "run the off-by-default rule `ID`; repeatable")
	f.StringArrayVar(&o.disable, "disable-rule", nil, "do not run rule `ID`; repeatable")
	f.BoolVar(&o.strict, "strict", false, "treat not-evaluable SKIPs as ERROR")
	f.StringVar(&o.aptLists, "apt-lists", "", "use the apt lists in `DIR` instead of the image's")
	f.StringVar(&o.rpmUpdateInfo, "rpm-updateinfo", "", "updateinfo.xml `FILE` (may be compressed) for rpm security updates")
	f.StringVar(&o.minDisk, "min-disk", "", "minimum Droplet disk `SIZE` (default 25GiB)")
	f.StringVar(&o.plans, "plans", "", "Droplet plans `FILE` for disk.plans, instead of the saved or built-in catalogue (JSON from the sizes API or do sizes, or lines of 'slug disk-GB')")
	f.StringVar(&o.planUnit, "plan-unit", "gib", "`UNIT` of plan disk sizes: gib or gb")
	f.BoolVar(&o.hash, "hash", false, "record the SHA-256 of each image file in the reports (reads the whole file)")
	f.StringVar(&o.color, "color", "auto", "colour text output `WHEN`: auto, always or never")
	f.BoolVar(&o.showContents, "show-contents", false, "print log and authorized_keys bodies in text output (never private keys)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "text output lists every finding, INFO, SKIP and PASS too")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "text output is the verdict line of each image only")
	cmd.MarkFlagsMutuallyExclusive("verbose", "quiet")
	f.BoolVar(&o.sarifAll, "sarif-all", false, "SARIF output holds PASS, INFO and SKIP results too (by default only FAIL, ERROR and WARN: code scanning opens an alert per result)")
	f.BoolVar(&o.allowBacking, "allow-backing", false, "follow qcow2 backing files")
	f.StringVar(&o.tmpDir, "tmpdir", "", tmpdirHelp)
	f.StringVar(&o.maxExpand, "max-expand", "", "refuse compressed images that expand beyond `SIZE`")
	addDOImageFlags(f, o)
	completeValues(cmd, "format", "text", "json", "jsonl", "sarif", "junit")
	completeValues(cmd, "profile", string(rules.Marketplace), string(rules.ImgCheck))
	completeValues(cmd, "fail-on", "fail", "warn")
	completeValues(cmd, "color", "auto", "always", "never")
	completeValues(cmd, "plan-unit", "gib", "gb")
	for _, name := range []string{"enable-rule", "disable-rule"} {
		cmd.RegisterFlagCompletionFunc(name, completeRuleIDs)
	}
	return cmd
}

// completeValues makes the shell complete flag name with values.
func completeValues(cmd *cobra.Command, name string, values ...string) {
	cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}

// completeRuleIDs completes a rule ID, with its title as description.
func completeRuleIDs(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
	var ids []string
	for _, r := range rules.All() {
		if strings.HasPrefix(r.ID, prefix) {
			ids = append(ids, r.ID+"\t"+r.Title)
		}
	}
	return ids, cobra.ShellCompDirectiveNoFileComp
}

// scanPlan is a validated scan: everything read from flags and input
// files before the first image is touched.
type scanPlan struct {
	targets   []string // this shard's targets
	indexes   []int    // each target's position in the whole list; nil when not sharded
	names     []string // each target's file name stem in --output-dir
	shard     shard
	store     resultStore // --output-dir, or nil
	root      bool
	profile   rules.Profile
	failOn    rules.Level
	rules     []rules.Rule
	ruleOpts  rules.Options
	outputs   []output
	waivers   []report.Waiver
	maxExpand int64
	color     bool
	open      imgcheck.Options // how each target is opened
	// scan scans one target into its report; the library's ScanPath
	// unless a test replaces it.
	scan func(ctx context.Context, path string) *report.Image
	// identify, when set, records the identity of each target's file or
	// object in its JSONL line; resume, with --resume, returns the
	// earlier result of a target whose identity has not changed.
	identify func(ctx context.Context, path string) *report.Source
	resume   func(ctx context.Context, pos int, src *report.Source) (report.Line, bool)
}

// prepare validates the flags and reads the input files. Every problem is
// a usage error: nothing has been scanned yet.
func (o *scanOptions) prepare(ctx context.Context) (*scanPlan, error) {
	p := &scanPlan{profile: rules.Profile(o.profile)}
	if p.profile != rules.Marketplace && p.profile != rules.ImgCheck {
		return nil, usagef("--profile %q: want marketplace or img_check", o.profile)
	}
	switch strings.ToLower(o.failOn) {
	case "fail":
		p.failOn = rules.Fail
	case "warn":
		p.failOn = rules.Warn
	default:
		return nil, usagef("--fail-on %q: want fail or warn", o.failOn)
	}
	if o.jobs < 1 {
		return nil, usagef("-j %d: want at least 1", o.jobs)
	}
	if o.jobs > 4*runtime.NumCPU() {
		o.jobs = 4 * runtime.NumCPU()
	}
	if o.timeout < 0 {
		return nil, usagef("--timeout %s: want a positive duration", o.timeout)
	}
	targets, err := o.targets(ctx)
	if err != nil {
		return nil, err
	}
	p.root = o.root != ""
	if p.shard, err = o.shardFor(); err != nil {
		return nil, err
	}
	names := outputNames(targets)
	for i, t := range targets {
		if p.shard.owns(t) {
			p.targets, p.names = append(p.targets, t), append(p.names, names[i])
			if p.shard.n > 1 {
				p.indexes = append(p.indexes, i)
			}
		}
	}
	if p.rules, err = rules.Select(p.profile, o.enable, o.disable); err != nil {
		return nil, &usageError{err}
	}
	if p.outputs, err = parseOutputs(o.formats, o.outputDir); err != nil {
		return nil, err
	}
	if p.color, err = colorFor(o.color, o.stdout); err != nil {
		return nil, err
	}
	if p.ruleOpts, err = o.ruleOptions(p.profile); err != nil {
		return nil, err
	}
	if o.maxExpand != "" {
		if p.maxExpand, err = parseSize(o.maxExpand); err != nil {
			return nil, usagef("--max-expand: %v", err)
		}
	}
	if o.waivers != "" {
		f, err := os.Open(o.waivers)
		if err != nil {
			return nil, &usageError{err}
		}
		defer f.Close()
		if p.waivers, err = report.ParseWaivers(f); err != nil {
			return nil, usagef("%s: %v", o.waivers, err)
		}
	}
	// Hashing reads every byte of the image file (about 40 s for a 25 GiB
	// raw disk against 0.05 s for the scan), so it is only done on request.
	p.open = o.openOptions(imgcheck.Options{AllowBacking: o.allowBacking, TempDir: o.tmpDir, MaxExpand: p.maxExpand})
	if len(p.targets) == 1 && isTerminal(o.stderr) {
		p.open.Progress = expandProgress(o.stderr)
	}
	p.scan = func(ctx context.Context, path string) *report.Image {
		sel := imgcheck.Selection{Rules: p.rules, Options: p.ruleOpts, ShowContents: o.showContents, Stats: o.stats, Hash: o.hash}
		return imgcheck.ScanPath(ctx, path, p.open, sel, o.timeout)
	}
	return p, nil
}

// targets returns the images to scan: the arguments and the --from list,
// or the --root directory.
func (o *scanOptions) targets(ctx context.Context) ([]string, error) {
	if o.root != "" {
		if len(o.images) > 0 || o.from != "" {
			return nil, usagef("--root scans one directory; do not name images too")
		}
		return []string{o.root}, nil
	}
	targets := slices.Clone(o.images)
	if o.from != "" {
		data, err := o.readList(ctx)
		if err != nil {
			return nil, err
		}
		targets = append(targets, parseList(data)...)
	}
	if len(targets) == 0 {
		return nil, usagef("no image to scan: name images, use --from FILE or --root DIR")
	}
	return targets, nil
}

// runScan scans every target, writes the reports and returns the exit
// code as an *exitError.
func runScan(ctx context.Context, o *scanOptions) error {
	p, err := o.prepare(ctx)
	if err != nil {
		return err
	}
	if err := o.crossCheck(ctx, p); err != nil {
		return err
	}
	if err := o.prepareOutputDir(ctx, p); err != nil {
		return err
	}
	ropts := report.Options{Color: p.color, FailOn: p.failOn, Version: toolVersion(), ShowContents: o.showContents, SARIFAll: o.sarifAll}
	switch {
	case o.verbose:
		ropts.Verbosity = report.Verbose
	case o.quiet:
		ropts.Verbosity = report.Quiet
	}
	s, err := newSink(ctx, o, p, ropts)
	if err != nil {
		return err
	}
	start := time.Now()
	scanAll(ctx, o, p, s.add)
	if err := s.finish(); err != nil {
		return err
	}
	if o.stats {
		printScanStats(o.stderr, s.reports, time.Since(start))
	}
	if code := report.ExitCodeOf(s.verdicts, p.failOn); code != report.ExitOK {
		return &exitError{code}
	}
	return nil
}

// prepareOutputDir opens --output-dir and sets up --resume and the
// source identities JSONL lines record.
func (o *scanOptions) prepareOutputDir(ctx context.Context, p *scanPlan) error {
	jsonl := slices.ContainsFunc(p.outputs, func(out output) bool { return out.format == "jsonl" })
	if o.resume {
		if o.outputDir == "" {
			return usagef("--resume needs --output-dir: it skips images whose result is already there")
		}
		if !slices.Contains(p.outputs, output{format: "jsonl"}) {
			p.outputs = append(p.outputs, output{format: "jsonl"})
		}
		jsonl = true
	}
	if jsonl && !p.root {
		p.identify = newSourceIdentifier(o.remote).identify
	}
	if o.outputDir == "" {
		return nil
	}
	store, err := openStore(ctx, o.outputDir, o.remote, true)
	if err != nil {
		return err
	}
	p.store = store
	if o.resume {
		p.resume = resumeFrom(store, p)
	}
	return nil
}
