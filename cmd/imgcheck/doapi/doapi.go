// Package doapi talks to the DigitalOcean API through godo: the metadata of
// an image or snapshot, the Droplet plans (sizes) that can launch an image,
// and the Vendor API update of a Marketplace 1-Click listing.
//
// The API token is only ever placed in the Authorization header by godo's
// OAuth transport: it is never logged, printed or put in an error.
package doapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/digitalocean/godo"
	"golang.org/x/oauth2"

	"github.com/imgcheck/imgcheck/rules"
)

// TokenVars are the environment variables a token is read from, in order:
// the names DigitalOcean's documentation and Packer use.
var TokenVars = []string{"DIGITALOCEAN_TOKEN", "DIGITALOCEAN_API_TOKEN"}

// ErrNoToken means no API token was supplied. The CLI treats it as a usage error.
var ErrNoToken = errors.New("no DigitalOcean API token: set DIGITALOCEAN_TOKEN or DIGITALOCEAN_API_TOKEN, or pass --token-file")

// Token returns the API token from tokenFile when set, otherwise from the
// first non-empty variable of TokenVars.
func Token(getenv func(string) string, tokenFile string) (string, error) {
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return "", fmt.Errorf("reading token file: %w", err)
		}
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, nil
		}
		return "", fmt.Errorf("token file %s is empty", tokenFile)
	}
	for _, v := range TokenVars {
		if t := strings.TrimSpace(getenv(v)); t != "" {
			return t, nil
		}
	}
	return "", ErrNoToken
}

// Options configure a Client.
type Options struct {
	APIURL    string  // default https://api.digitalocean.com/
	RetryMax  int     // retries of 429 and 5xx answers; default 3
	RetryWait float64 // minimum back-off in seconds; default 1
	UserAgent string
}

// Client is a DigitalOcean API client.
type Client struct {
	godo *godo.Client
}

// New returns a client that authenticates with token.
func New(token string, o Options) (*Client, error) {
	if token == "" {
		return nil, ErrNoToken
	}
	// godo's retrying client keeps only the OAuth token source of hc and
	// brings its own transport.
	hc := oauth2.NewClient(context.Background(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}))
	retries, wait := o.RetryMax, o.RetryWait
	if retries == 0 {
		retries = 3
	}
	if wait == 0 {
		wait = 1
	}
	opts := []godo.ClientOpt{godo.WithRetryAndBackoffs(godo.RetryConfig{
		RetryMax: retries, RetryWaitMin: godo.PtrTo(wait), RetryWaitMax: godo.PtrTo(wait * 8),
	})}
	if o.APIURL != "" {
		u := o.APIURL
		if !strings.HasSuffix(u, "/") {
			u += "/"
		}
		opts = append(opts, godo.SetBaseURL(u))
	}
	if o.UserAgent != "" {
		opts = append(opts, godo.SetUserAgent(o.UserAgent))
	}
	c, err := godo.New(hc, opts...)
	if err != nil {
		return nil, err
	}
	return &Client{godo: c}, nil
}

// Image is what imgcheck reports of an image or snapshot.
type Image struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Kind          string   `json:"kind"` // "image" or "snapshot"
	Type          string   `json:"type,omitempty"`
	Distribution  string   `json:"distribution,omitempty"`
	MinDiskSize   int      `json:"min_disk_size"`
	SizeGigabytes float64  `json:"size_gigabytes"`
	Regions       []string `json:"regions"`
	Status        string   `json:"status,omitempty"`
	Created       string   `json:"created_at,omitempty"`
}

// Image fetches an image by numeric ID (Images.GetByID), or a snapshot by
// its ID when the ID is not numeric (Snapshots.Get).
func (c *Client) Image(ctx context.Context, id string) (*Image, error) {
	if n, err := strconv.Atoi(id); err == nil {
		img, _, err := c.godo.Images.GetByID(ctx, n)
		if err != nil {
			return nil, explain(err, "image "+id)
		}
		return &Image{ID: strconv.Itoa(img.ID), Name: img.Name, Kind: "image", Type: img.Type,
			Distribution: img.Distribution, MinDiskSize: img.MinDiskSize, SizeGigabytes: img.SizeGigaBytes,
			Regions: img.Regions, Status: img.Status, Created: img.Created}, nil
	}
	s, _, err := c.godo.Snapshots.Get(ctx, id)
	if err != nil {
		return nil, explain(err, "snapshot "+id)
	}
	return &Image{ID: s.ID, Name: s.Name, Kind: "snapshot", MinDiskSize: s.MinDiskSize,
		SizeGigabytes: s.SizeGigaBytes, Regions: s.Regions, Created: s.Created}, nil
}

// maxSizePages bounds the pages of sizes read: the API has some 150
// sizes, one page of 200; a server that keeps linking to a next page
// cannot grow the list without end.
const maxSizePages = 50

// Plans lists every available Droplet size (Sizes.List, following the
// pages' links to the last), cheapest first.
func (c *Client) Plans(ctx context.Context) ([]rules.Plan, error) {
	var out []rules.Plan
	opt := &godo.ListOptions{Page: 1, PerPage: 200}
	for n := 1; ; n++ {
		if n > maxSizePages {
			return nil, fmt.Errorf("DigitalOcean API: sizes: more than %d pages", maxSizePages)
		}
		sizes, resp, err := c.godo.Sizes.List(ctx, opt)
		if err != nil {
			return nil, explain(err, "sizes")
		}
		for _, s := range sizes {
			if s.Available {
				out = append(out, rules.Plan{Slug: s.Slug, Description: s.Description, VCPUs: s.Vcpus,
					MemoryMiB: s.Memory, DiskGB: int64(s.Disk), PriceUSD: s.PriceMonthly})
			}
		}
		if resp == nil || resp.Links == nil || resp.Links.IsLastPage() {
			break
		}
		page, err := resp.Links.CurrentPage()
		if err != nil {
			return nil, err
		}
		opt.Page = page + 1
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].PriceUSD != out[j].PriceUSD {
			return out[i].PriceUSD < out[j].PriceUSD
		}
		return out[i].Slug < out[j].Slug
	})
	return out, nil
}

// Software is one entry of a listing's "software included".
type Software struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Update is the body of the Vendor API PATCH. Nil fields leave the listing's
// value unchanged; the API treats an empty string as "clear".
type Update struct {
	ImageID          int        `json:"imageId"`
	ReasonForUpdate  *string    `json:"reasonForUpdate,omitempty"`
	Version          *string    `json:"version,omitempty"`
	OSVersion        *string    `json:"osVersion,omitempty"`
	SoftwareIncluded []Software `json:"softwareIncluded,omitempty"`
}

// UpdatePath is the Vendor API path of an app version (the path DigitalOcean's
// marketplace-partners README documents). Without a version, the app itself.
func UpdatePath(appID, version string) string {
	p := "api/v1/vendor-portal/apps/" + url.PathEscape(appID)
	if version != "" {
		p += "/versions/" + url.PathEscape(version)
	}
	return p
}

// UpdateApp sends the Vendor API PATCH and returns the listing's new status.
func (c *Client) UpdateApp(ctx context.Context, appID, version string, u Update) (string, error) {
	if u.ImageID <= 0 {
		return "", errors.New("an image ID is required")
	}
	req, err := c.godo.NewRequest(ctx, http.MethodPatch, UpdatePath(appID, version), u)
	if err != nil {
		return "", err
	}
	var resp struct {
		Status struct {
			Value string `json:"value"`
		} `json:"status"`
	}
	if _, err := c.godo.Do(ctx, req, &resp); err != nil {
		return "", explain(err, "app "+appID)
	}
	return resp.Status.Value, nil
}

// APIError is an API failure explained for a person.
type APIError struct {
	Status  int
	Subject string
	Message string // the API's own message
	Hint    string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("DigitalOcean API: %s: HTTP %d", e.Subject, e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// explain maps a godo error to an APIError with a hint per status code.
func explain(err error, subject string) error {
	var er *godo.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return fmt.Errorf("DigitalOcean API: %s: %w", subject, err)
	}
	e := &APIError{Status: er.Response.StatusCode, Subject: subject, Message: er.Message}
	switch {
	case e.Status == http.StatusBadRequest:
		e.Hint = "the image ID is missing, the app is not a Droplet 1-Click, or the app is pending or in review"
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		e.Hint = "the token is invalid, or the app or image does not belong to the token's team"
	case e.Status == http.StatusNotFound:
		e.Hint = "not found: check the ID"
	case e.Status == http.StatusTooManyRequests:
		e.Hint = "rate limited; retries exhausted"
	case e.Status >= 500:
		e.Hint = "server error; retries exhausted"
	}
	return e
}

// ManifestImageID reads the image ID of the last build of a Packer manifest
// (builds[-1].artifact_id, the part after the colon: "nyc3:123456").
func ManifestImageID(data []byte) (int, error) {
	var m struct {
		Builds []struct {
			ArtifactID string `json:"artifact_id"`
		} `json:"builds"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return 0, fmt.Errorf("packer manifest: %w", err)
	}
	if len(m.Builds) == 0 {
		return 0, errors.New("packer manifest: no builds")
	}
	a := m.Builds[len(m.Builds)-1].ArtifactID
	_, id, ok := strings.Cut(a, ":")
	if !ok {
		id = a
	}
	n, err := strconv.Atoi(strings.TrimSpace(id))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("packer manifest: artifact_id %q holds no image ID", a)
	}
	return n, nil
}

// ParseSoftware parses "name=version,name=version".
func ParseSoftware(s string) ([]Software, error) {
	var out []Software
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, ver, ok := strings.Cut(item, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("software %q: want name=version", item)
		}
		out = append(out, Software{Name: strings.TrimSpace(name), Version: strings.TrimSpace(ver)})
	}
	return out, nil
}
