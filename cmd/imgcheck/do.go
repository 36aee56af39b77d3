package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/imgcheck/imgcheck/cmd/imgcheck/doapi"
	"github.com/imgcheck/imgcheck/rules"
)

// defaultAPIURL is where requests go without --api-url.
const defaultAPIURL = "https://api.digitalocean.com/"

// apiOptions are the DigitalOcean API flags of `do` and `scan --do-image`.
// The token itself is never held here: it is read when a client is made.
type apiOptions struct {
	tokenFile string
	apiURL    string
	timeout   time.Duration // for each API operation, retries included
}

func addAPIFlags(f *pflag.FlagSet, a *apiOptions) {
	f.StringVar(&a.tokenFile, "token-file", "", "read the DigitalOcean API token from `FILE` (default: $DIGITALOCEAN_TOKEN, then $DIGITALOCEAN_API_TOKEN)")
	f.StringVar(&a.apiURL, "api-url", "", "DigitalOcean API base `URL`, for tests and proxies (default "+defaultAPIURL+")")
	f.DurationVar(&a.timeout, "api-timeout", 2*time.Minute, "give up on an API operation, retries included, after `DURATION`")
}

// bound limits one API operation to --api-timeout, so an endpoint that
// never answers cannot hang the command.
func (a *apiOptions) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if a.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, a.timeout)
}

// client returns an API client. A missing token, an unreadable token file
// and a malformed --api-url are usage errors.
func (a *apiOptions) client() (*doapi.Client, error) {
	tok, err := doapi.Token(os.Getenv, a.tokenFile)
	if err != nil {
		return nil, &usageError{err}
	}
	c, err := doapi.New(tok, doapi.Options{APIURL: a.apiURL, UserAgent: "imgcheck/" + toolVersion()})
	if err != nil {
		return nil, usagef("--api-url: %v", err)
	}
	return c, nil
}

// baseURL is the API endpoint requests go to, ending in a slash.
func (a *apiOptions) baseURL() string {
	if a.apiURL == "" {
		return defaultAPIURL
	}
	return strings.TrimSuffix(a.apiURL, "/") + "/"
}

// addDOImageFlags registers `scan --do-image` and the API flags it needs.
func addDOImageFlags(f *pflag.FlagSet, o *scanOptions) {
	f.StringVar(&o.doImage, "do-image", "", "cross-check against the DigitalOcean image or snapshot `ID` (rule do.image; plans from the sizes API)")
	addAPIFlags(f, &o.api)
}

// planSourceAPI names the sizes API as the source of plans in reports.
const planSourceAPI = "DigitalOcean sizes API"

// crossCheck prepares `scan --do-image`: it fetches the image's record and
// the plans from the API, hands them to the rules and enables do.image
// (unless --disable-rule names it). Plans from --plans FILE are kept. An
// API failure ends the scan before any image is read.
func (o *scanOptions) crossCheck(ctx context.Context, p *scanPlan) error {
	if o.doImage == "" {
		return nil
	}
	c, err := o.api.client()
	if err != nil {
		return err
	}
	ctx, cancel := o.api.bound(ctx)
	defer cancel()
	img, err := c.Image(ctx, o.doImage)
	if err != nil {
		return err
	}
	p.ruleOpts.DOImage = &rules.APIImage{ID: img.ID, Name: img.Name, Kind: img.Kind, Distribution: img.Distribution, MinDiskSize: img.MinDiskSize}
	if len(p.ruleOpts.Plans) == 0 {
		plans, err := c.Plans(ctx)
		if err != nil {
			return err
		}
		p.ruleOpts.Plans, p.ruleOpts.PlanSource = plans, planSourceAPI
	}
	if p.rules, err = rules.Select(p.profile, append(slices.Clone(o.enable), "do.image"), o.disable); err != nil {
		return &usageError{err}
	}
	return nil
}

// doOptions are the flags shared by the `do` verbs.
type doOptions struct {
	*globalOptions
	api apiOptions
}

// newDoCmd builds `imgcheck do`, the DigitalOcean API verbs.
func newDoCmd(g *globalOptions) *cobra.Command {
	o := &doOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:   "do",
		Short: "Query DigitalOcean and update a Marketplace listing",
		Long: "Talk to the DigitalOcean API. The token comes from DIGITALOCEAN_TOKEN or DIGITALOCEAN_API_TOKEN,\n" +
			"or from --token-file; it is sent only in the Authorization header and never printed.",
	}
	addAPIFlags(cmd.PersistentFlags(), &o.api)
	cmd.AddCommand(newDoImageCmd(o, nil), newDoSizesCmd(o), newDoSubmitCmd(o, nil))
	return cmd
}

// doImageOptions are the flags of `imgcheck do image`.
type doImageOptions struct {
	*doOptions
	id     string
	asJSON bool
}

// newDoImageCmd builds `imgcheck do image`. runF, when not nil, replaces
// the lookup, so flag tests can capture the options.
func newDoImageCmd(d *doOptions, runF func(context.Context, *doImageOptions) error) *cobra.Command {
	o := &doImageOptions{doOptions: d}
	cmd := &cobra.Command{
		Use:   "image [--json] ID",
		Short: "Show an image's or snapshot's record: name, distribution, min_disk_size, size, regions, status",
		Long: "Show an image (numeric ID) or snapshot (other IDs) as the DigitalOcean API describes it.\n\n" +
			"Exit status: 0 shown, 2 usage error (no token), 3 the API failed.",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("expected 1 argument (ID), got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.id = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return doImageRun(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print JSON")
	return cmd
}

func doImageRun(ctx context.Context, o *doImageOptions) error {
	c, err := o.api.client()
	if err != nil {
		return err
	}
	ctx, cancel := o.api.bound(ctx)
	defer cancel()
	img, err := c.Image(ctx, o.id)
	if err != nil {
		return err
	}
	if o.asJSON {
		enc := json.NewEncoder(o.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(img)
	}
	w := bufio.NewWriter(o.stdout)
	fmt.Fprintf(w, "ID:             %s (%s)\n", img.ID, img.Kind)
	fmt.Fprintf(w, "Name:           %s\n", img.Name)
	fmt.Fprintf(w, "Distribution:   %s\n", orNone(img.Distribution))
	fmt.Fprintf(w, "Min disk size:  %d GB\n", img.MinDiskSize)
	fmt.Fprintf(w, "Size:           %.2f GB\n", img.SizeGigabytes)
	fmt.Fprintf(w, "Regions:        %s\n", orNone(strings.Join(img.Regions, ", ")))
	fmt.Fprintf(w, "Status:         %s\n", orNone(img.Status))
	if img.Type != "" {
		fmt.Fprintf(w, "Type:           %s\n", img.Type)
	}
	if img.Created != "" {
		fmt.Fprintf(w, "Created:        %s\n", img.Created)
	}
	return w.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// doSubmitOptions are the flags of `imgcheck do submit`.
type doSubmitOptions struct {
	*doOptions
	image     []string
	appID     string
	version   string
	imageID   int
	manifest  string
	reason    string
	osVersion string
	software  string
	failOn    string
	formats   []string
	dryRun    bool
	// set records which optional body fields were given: an absent field
	// leaves the listing's value alone, an empty one clears it.
	set map[string]bool
}

// newDoSubmitCmd builds `imgcheck do submit`. runF, when not nil, replaces
// the submission, so flag tests can capture the options.
func newDoSubmitCmd(d *doOptions, runF func(context.Context, *doSubmitOptions) error) *cobra.Command {
	o := &doSubmitOptions{doOptions: d}
	cmd := &cobra.Command{
		Use:   "submit --app-id APP (--image-id ID | --manifest FILE) [flags] IMAGE",
		Short: "Scan an image and, if it passes, point a Marketplace listing at it (Vendor API)",
		Long: "Scan IMAGE with the marketplace profile; only when the scan passes (per --fail-on) send the\n" +
			"Vendor API PATCH /api/v1/vendor-portal/apps/APP[/versions/V] with the image ID, reason,\n" +
			"version, OS version and software included. --dry-run prints the request instead.\n\n" +
			"Exit status: 0 sent (or a dry run of a passing scan), 1 the scan failed and nothing was sent,\n" +
			"2 usage error (missing token, --app-id or image ID), 3 the image could not be read or the API failed.",
		Args: targetArgs(d.globalOptions, 1, "IMAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.image = args
			o.set = map[string]bool{}
			for _, name := range []string{"reason", "version", "os-version"} {
				o.set[name] = cmd.Flags().Changed(name)
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return doSubmitRun(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.appID, "app-id", "", "Marketplace app `ID` (from the Vendor Portal)")
	f.StringVar(&o.version, "version", "", "app `VERSION` to update, also sent as the listing's version")
	f.IntVar(&o.imageID, "image-id", 0, "DigitalOcean image `ID` to submit")
	f.StringVar(&o.manifest, "manifest", "", "read the image ID from a Packer manifest `FILE` (last build's artifact_id)")
	f.StringVar(&o.reason, "reason", "", "why the listing is updated (`TEXT`); an empty value clears it")
	f.StringVar(&o.osVersion, "os-version", "", "operating system `VERSION` shown on the listing; an empty value clears it")
	f.StringVar(&o.software, "software", "", "software included, `NAME=VERSION,...`")
	f.StringVar(&o.failOn, "fail-on", "fail", "lowest `LEVEL` that fails the scan and stops the submission: fail or warn")
	f.StringArrayVar(&o.formats, "format", nil, "scan report `FORMAT[=FILE]`: text, json, sarif or junit; repeatable (default text on stdout)")
	f.BoolVar(&o.dryRun, "dry-run", false, "scan, then print the request instead of sending it")
	return cmd
}

// update builds the PATCH body from the flags. Every problem is a usage
// error, found before the image is scanned.
func (o *doSubmitOptions) update() (doapi.Update, error) {
	var u doapi.Update
	if o.appID == "" {
		return u, usagef("--app-id is required")
	}
	switch {
	case o.manifest != "" && o.imageID != 0:
		return u, usagef("give --image-id or --manifest, not both")
	case o.manifest != "":
		data, err := readCapped(o.manifest)
		if err != nil {
			return u, &usageError{err}
		}
		if u.ImageID, err = doapi.ManifestImageID(data); err != nil {
			return u, usagef("--manifest %s: %v", o.manifest, err)
		}
	case o.imageID > 0:
		u.ImageID = o.imageID
	default:
		return u, usagef("--image-id or --manifest is required")
	}
	if o.set["reason"] {
		u.ReasonForUpdate = &o.reason
	}
	if o.set["version"] {
		u.Version = &o.version
	}
	if o.set["os-version"] {
		u.OSVersion = &o.osVersion
	}
	sw, err := doapi.ParseSoftware(o.software)
	if err != nil {
		return u, usagef("--software: %v", err)
	}
	u.SoftwareIncluded = sw
	return u, nil
}

// doSubmitRun validates the flags, makes the client (so a missing token
// fails before the scan), scans, and sends the update only when the scan
// passed.
func doSubmitRun(ctx context.Context, o *doSubmitOptions) error {
	u, err := o.update()
	if err != nil {
		return err
	}
	var c *doapi.Client
	if !o.dryRun {
		if c, err = o.api.client(); err != nil {
			return err
		}
	}
	// With the JSON report on stdout, stdout gets one JSON object: the
	// report, the request and whether it was sent (submitResult).
	g := *o.globalOptions
	var scanJSON bytes.Buffer
	asJSON := jsonOnStdout(o.formats)
	if asJSON {
		g.stdout = &scanJSON
	}
	so := &scanOptions{globalOptions: &g, images: o.image, profile: string(rules.Marketplace),
		formats: o.formats, failOn: o.failOn, jobs: 1, planUnit: "gib", color: "auto"}
	res := submitResult{Request: submitRequest{Method: "PATCH", URL: o.api.baseURL() + doapi.UpdatePath(o.appID, o.version), Body: u}, DryRun: o.dryRun}
	emit := func() error {
		if !asJSON {
			return nil
		}
		res.Scan = json.RawMessage(scanJSON.Bytes())
		enc := json.NewEncoder(o.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	if err := runScan(ctx, so); err != nil {
		if ee, ok := errors.AsType[*exitError](err); ok && ee.code == 1 {
			fmt.Fprintf(o.stderr, "imgcheck: the scan failed (--fail-on %s): nothing was sent to DigitalOcean\n", o.failOn)
		}
		if scanJSON.Len() > 0 {
			res.Note = "the scan failed: nothing was sent"
			if eerr := emit(); eerr != nil {
				return eerr
			}
		}
		return err
	}
	if o.dryRun {
		res.Note = "dry run: not sent"
		if asJSON {
			fmt.Fprintf(o.stderr, "imgcheck: dry run, not sent: %s %s\n", res.Request.Method, res.Request.URL)
			return emit()
		}
		body, err := json.MarshalIndent(u, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(o.stdout, "dry run, not sent: %s %s\n%s\n", res.Request.Method, res.Request.URL, body)
		return err
	}
	ctx, cancel := o.api.bound(ctx)
	defer cancel()
	status, err := c.UpdateApp(ctx, o.appID, o.version, u)
	if err != nil {
		return err
	}
	res.Sent, res.ListingStatus = true, status
	if asJSON {
		fmt.Fprintf(o.stderr, "imgcheck: submitted image %d: %s %s: listing status %s\n", u.ImageID, res.Request.Method, res.Request.URL, orNone(status))
		return emit()
	}
	_, err = fmt.Fprintf(o.stdout, "submitted image %d: %s %s: listing status %s\n", u.ImageID, res.Request.Method, res.Request.URL, orNone(status))
	return err
}

// submitResult is what `do submit` prints on stdout when the JSON report
// goes there: one object for jq.
type submitResult struct {
	Scan          json.RawMessage `json:"scan"` // the JSON report
	Request       submitRequest   `json:"request"`
	DryRun        bool            `json:"dry_run"`
	Sent          bool            `json:"sent"`
	ListingStatus string          `json:"listing_status,omitempty"`
	Note          string          `json:"note,omitempty"`
}

type submitRequest struct {
	Method string       `json:"method"`
	URL    string       `json:"url"`
	Body   doapi.Update `json:"body"`
}

// jsonOnStdout reports whether the --format list writes JSON on stdout.
func jsonOnStdout(formats []string) bool {
	for _, f := range formats {
		name, file, _ := strings.Cut(f, "=")
		if strings.EqualFold(strings.TrimSpace(name), "json") && (file == "" || file == "-") {
			return true
		}
	}
	return false
}
